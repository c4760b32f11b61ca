import { jest } from '@jest/globals';
import fs from 'node:fs';
import { errorMessages as errors, runAction, type StepResult } from '../harness/index.js';
import { addMigration } from '../testbed/django-app.js';
import { git, startHerokuStage, type HerokuStage } from './deploy-heroku-world.js';

// Issue 13: what a rollback may bring back, an operator's maintenance, a lost answer to POST /builds, outputs that
// name what serves, masking that keeps public configuration readable, and the health gate on Heroku's web_url.
jest.setTimeout(240_000);

let stage: HerokuStage;
/** The app's web_url as the Platform API gives it, answered by the local router in front of gunicorn. */
let router: { webUrl: string; env: Record<string, string> };
beforeAll(async () => {
  stage = await startHerokuStage();
  router = await stage.herokuappRouter();
}, 120_000);
afterAll(async () => {
  await stage?.stop();
});
afterEach(() => {
  expect(stage.standIn.violations.splice(0)).toEqual([]);
});

const app = () => stage.standIn.apps.get('ocpizza')!;
const releaseOf = (version: number) => app().releases.find((r) => r.version === version)!;
const phase = (result: StepResult, name: string) =>
  new RegExp(`\\| ${name.replace(/[()]/g, '\\$&')} \\| ocpizza \\| ([^|]+) \\|`).exec(result.summary)?.[1]?.trim();

/** No app-url and no health-url: what a user who only names the app gets. */
function run(sha: string, extra: Record<string, string> = {}): Promise<StepResult> {
  return runAction({
    action: 'deploy',
    inputs: {
      target: 'heroku',
      'heroku-api-key': stage.standIn.apiKey,
      'heroku-api-url': stage.standIn.url,
      app: 'ocpizza',
      'health-timeout': '4s',
      ...extra,
    },
    github: { sha, workspace: stage.repo, actor: 'octocat' },
    env: router.env,
    secrets: [stage.standIn.apiKey, stage.databaseUrl, app().configVars.SECRET_KEY],
    timeoutMs: 150_000,
  });
}

function change(text: string): string {
  fs.writeFileSync(`${stage.repo}/orders/views_extra.py`, `X = ${JSON.stringify(text)}\n`);
  return stage.commit(text);
}

describe('deploy with target heroku: rollbacks, maintenance, lost answers, outputs, masking', () => {
  test('secret config vars are masked (DATABASE_URL, its password, SECRET_KEY), public ones are not (ALLOWED_HOSTS)', async () => {
    const sha = change('masking');
    const result = await run(sha);
    expect(errors(result)).toEqual([]);
    const vars = app().configVars;
    const password = new URL(stage.databaseUrl).password;
    expect(result.masks).toEqual(expect.arrayContaining([vars.DATABASE_URL, password, vars.SECRET_KEY]));
    expect(result.masks).not.toContain(vars.ALLOWED_HOSTS);
    expect(result.masks.some((mask) => vars.ALLOWED_HOSTS.includes(mask) || router.webUrl.includes(mask))).toBe(false);
    expect(result.log).toMatch(/Masked as secrets: DATABASE_URL, SECRET_KEY\n/);
    // The url output is the app's web_url, readable.
    expect(result.outputs.url).toBe(router.webUrl);
  });

  test('without app-url or health-url, the health gate asks health-path on the web_url from the API', async () => {
    const sha = change('gate on web_url');
    const result = await run(sha);
    expect(errors(result)).toEqual([]);
    expect(phase(result, 'health')).toBe('✅ ok');
    expect(result.log).toContain(`${router.webUrl}health`);
    expect((await stage.health()).body?.commit).toBe(sha);
  });

  /** The release the gate rejects, and what served before it; set by the first test, used by the next. */
  let good = '';
  let bad = '';
  let goodVersion = 0;

  test('a release the gate rejects is rolled back; the outputs name what serves, the rejected release apart', async () => {
    good = git(stage.repo, 'rev-parse', 'HEAD');
    goodVersion = stage.standIn.current('ocpizza')!.version;
    bad = change('answers with the wrong commit');
    stage.brokenCommits.add(bad);

    // The gate refuses the new release and rolls back to the one that served.
    const deploy = await run(bad, { 'app-url': router.webUrl });
    expect(deploy.exitCode).not.toBe(0);
    const rejected = goodVersion + 1;
    const rollback = goodVersion + 2;
    expect(stage.standIn.current('ocpizza')).toEqual({ version: rollback, commit: good });
    expect(deploy.outputs['rolled-back']).toBe('true');
    expect(deploy.outputs['release-version']).toBe(String(rollback));
    expect(deploy.outputs['release-id']).toBe(releaseOf(rollback).id);
    expect(deploy.outputs['rejected-release-version']).toBe(String(rejected));
    expect(deploy.outputs['rejected-release-id']).toBe(releaseOf(rejected).id);
    expect(deploy.outputs['previous-release-version']).toBe(String(goodVersion));
    expect(deploy.outputs['build-id']).toBe(app().builds.at(-1)!.id);
    expect(deploy.summary).toContain(
      `Deploy of \`v${rejected}\` failed and was rolled back: \`v${rollback} (v${goodVersion}'s code)\` serves`,
    );
  });

  test('then mode: rollback twice: never the rejected release, never back and forth', async () => {
    expect(bad).not.toBe('');
    const rollback = goodVersion + 2;
    // mode: rollback goes to the release before the good one (v2 here), not to the rejected one.
    expect(goodVersion).toBe(3);
    const first = await run(good, { mode: 'rollback' });
    expect(errors(first)).toEqual([]);
    const afterFirst = stage.standIn.current('ocpizza')!;
    expect(afterFirst.commit).not.toBe(bad);
    expect(afterFirst.commit).toBe(releaseOf(2).slug?.commit);
    expect(releaseOf(afterFirst.version).description).toBe('Rollback to v2');
    expect(phase(first, 'health')).toBe('✅ ok');
    expect((await stage.health()).body?.commit).toBe(afterFirst.commit);
    expect(first.outputs['release-version']).toBe(String(afterFirst.version));
    expect(first.outputs['release-id']).toBe(releaseOf(afterFirst.version).id);
    expect(first.outputs['previous-release-version']).toBe(String(rollback));
    expect(first.outputs.url).toBe(router.webUrl);
    expect(first.summary).toContain(`Rollback succeeded: \`v${afterFirst.version} (v2's code)\` serves`);

    // Again: further back (v1), never forward to what the first rollback replaced.
    const second = await run(good, { mode: 'rollback' });
    expect(errors(second)).toEqual([]);
    const afterSecond = stage.standIn.current('ocpizza')!;
    expect(releaseOf(afterSecond.version).description).toBe('Rollback to v1');
    expect([bad, good, afterFirst.commit]).not.toContain(afterSecond.commit);

    // Nothing older: one clear error, nothing released.
    const changes = stage.standIn.changes().length;
    const third = await run(good, { mode: 'rollback' });
    expect(errors(third)).toEqual([expect.stringMatching(/ocpizza has no earlier release to roll back to/)]);
    expect(stage.standIn.current('ocpizza')).toEqual(afterSecond);
    expect(stage.standIn.changes().length).toBe(changes);
  });

  test('an app already in maintenance: the gate checks the release and its dynos, never rolls back for the maintenance page', async () => {
    const sha = change('deployed while the operator keeps maintenance on');
    app().maintenance = true;
    try {
      const result = await run(sha, { 'app-url': router.webUrl });
      expect(errors(result)).toEqual([]);
      expect(result.exitCode).toBe(0);
      expect(result.outputs['rolled-back']).toBe('false');
      expect(stage.standIn.current('ocpizza')!.commit).toBe(sha);
      expect(app().maintenance).toBe(true);
      expect(phase(result, 'health (API)')).toBe('✅ ok');
      expect(result.annotations).toContainEqual(
        expect.objectContaining({
          level: 'warning',
          message: expect.stringMatching(/health gate cannot ask the site/),
        }),
      );
      expect(stage.standIn.requests.some((r) => r.method === 'GET' && r.path === '/apps/ocpizza/dynos')).toBe(true);
    } finally {
      app().maintenance = false;
    }
    expect((await stage.health()).body?.commit).toBe(sha);
  });

  test('POST /builds answers 503 after creating the build: the build is found, followed and gated', async () => {
    const sha = change('the answer to the build request is lost');
    const builds = app().builds.length;
    stage.standIn.failNext({ status: 503, method: 'POST', path: /^\/apps\/ocpizza\/builds$/, answerLost: 'status' });
    const result = await run(sha);
    expect(errors(result)).toEqual([]);
    expect(app().builds.length).toBe(builds + 1);
    expect(result.log).toMatch(/the answer was lost \(Heroku API POST \/apps\/ocpizza\/builds failed: HTTP 503/);
    expect(result.outputs['build-id']).toBe(app().builds.at(-1)!.id);
    expect(stage.standIn.current('ocpizza')!.commit).toBe(sha);
    expect(phase(result, 'health')).toBe('✅ ok');
    expect(result.summary).toMatch(/build this run created was found by its source and followed/);
  });

  test('a failed build with a new migration: the summary does not claim migrations ran; outputs name what serves', async () => {
    const serving = stage.standIn.current('ocpizza')!;
    addMigration(stage.repo, 'add-field');
    const sha = stage.commit('a migration whose build fails');
    stage.standIn.hooks.build = () => ({ ok: false, lines: ['ERROR: No matching distribution found for Djangoo'] });
    try {
      const result = await run(sha);
      expect(result.exitCode).not.toBe(0);
      expect(result.summary).not.toMatch(/already ran|release phase ran|migrations it applied/i);
      expect(result.outputs['build-id']).toBe(app().builds.at(-1)!.id);
      expect(result.outputs['release-version']).toBe(String(serving.version));
      expect(result.outputs['rejected-release-version']).toBe('');
      expect(result.summary).toContain(`Deploy failed before any release: \`v${serving.version}\` still serves`);
      expect(stage.standIn.current('ocpizza')).toEqual(serving);
    } finally {
      delete stage.standIn.hooks.build;
      git(stage.repo, 'revert', '--no-edit', 'HEAD');
    }
  });

  // Regression guards, not the test of a fix: these three passed on the bundle before this file's fixes too. What each
  // keeps true: an unknown app is a 404 that names the app input (nothing created, no maintenance switched); a
  // revoked key is a 401 that names the secret without printing it (the harness refuses any form of it in the log);
  // a plain-http API URL to another machine is refused before the first request, so the key never travels in clear.
  test.each([
    [
      'an unknown app',
      { app: 'ocpizza-nope' },
      /Heroku API GET \/apps\/ocpizza-nope failed: HTTP 404 .*Check the app name/,
    ],
    [
      'a revoked key',
      { 'heroku-api-key': 'HRKU-revoked0000000000000000' },
      /HTTP 401 .*Check the heroku-api-key secret/,
    ],
    [
      'a non-https API URL',
      { 'heroku-api-url': 'http://api.heroku.example' },
      /Input 'heroku-api-url' must be an https URL .*got 'http:\/\/api\.heroku\.example'/,
    ],
  ])('bad input, %s: one clear error, nothing released', async (_what, inputs, message) => {
    const before = stage.standIn.changes().length;
    const serving = stage.standIn.current('ocpizza');
    const result = await run(git(stage.repo, 'rev-parse', 'HEAD'), inputs);
    expect(result.exitCode).not.toBe(0);
    expect(errors(result)).toEqual([expect.stringMatching(message)]);
    expect(result.log).not.toMatch(/\n\s+at .*\.js:\d+/);
    expect(stage.standIn.changes().length).toBe(before);
    expect(stage.standIn.current('ocpizza')).toEqual(serving);
  });
});
