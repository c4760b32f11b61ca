import { jest } from '@jest/globals';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { errorMessages as errors, runAction, type StepResult } from '../harness/index.js';
import { addMigration } from '../testbed/django-app.js';
import { git, startHerokuStage, type HerokuStage } from './deploy-heroku-world.js';

jest.setTimeout(180_000);

let stage: HerokuStage;
beforeAll(async () => {
  stage = await startHerokuStage();
}, 120_000);
afterAll(async () => {
  await stage?.stop();
});
afterEach(() => {
  // Every request the action sent and every answer the stand-in gave matched Heroku's published schema.
  const violations = stage.standIn.violations.splice(0);
  expect(violations).toEqual([]);
});

function deploy(
  sha: string,
  extra: Record<string, string> = {},
  options: { cancelOnLine?: RegExp } = {},
): Promise<StepResult> {
  return runAction({
    action: 'deploy',
    inputs: {
      target: 'heroku',
      'heroku-api-key': stage.standIn.apiKey,
      'heroku-api-url': stage.standIn.url,
      app: 'ocpizza',
      'app-url': stage.appUrl,
      'required-config-vars': 'SECRET_KEY, DATABASE_URL',
      'health-timeout': '20s',
      ...extra,
    },
    github: { sha, workspace: stage.repo, actor: 'octocat' },
    // The harness fails the run if any of these shows up in the log, summary, outputs or annotations.
    secrets: [
      stage.standIn.apiKey,
      new URL(stage.databaseUrl).password,
      stage.standIn.apps.get('ocpizza')!.configVars.SECRET_KEY,
    ],
    timeoutMs: 150_000,
    ...options,
  });
}

const app = () => stage.standIn.apps.get('ocpizza')!;
const columns = () =>
  stage.pg.sql(
    "SELECT string_agg(column_name, ',' ORDER BY column_name) FROM information_schema.columns WHERE table_name = 'orders_order'",
    'ocpizza',
  );

describe('deploy with target heroku against the Platform API stand-in, PostgreSQL and gunicorn', () => {
  test('a commit with a new migration: real backup, maintenance on and off, migrate in the release phase, new commit served', async () => {
    const before = (await stage.health()).body?.commit;
    const migration = addMigration(stage.repo, 'add-field');
    const sha = stage.commit('add a note to orders');
    stage.standIn.failNext({ status: 429, method: 'GET', path: /config-vars$/, retryAfterSeconds: 1 });
    stage.standIn.failNext({ status: 503, method: 'GET', path: /\/builds\// });
    const result = await deploy(sha);
    expect(errors(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(before).not.toBe(sha);
    expect((await stage.health()).body).toMatchObject({ commit: sha, migrations: 'applied' });
    expect(await columns()).toContain(migration.field);
    expect(result.outputs['release-version']).toBe('2');
    expect(result.outputs['previous-release-version']).toBe('1');
    expect(result.outputs['rolled-back']).toBe('false');
    expect(result.outputs['build-id']).toBe(app().builds.at(-1)!.id);
    expect(result.outputs['release-id']).toBe(app().releases.find((r) => r.version === 2)!.id);
    // The backup is a real pg_dump archive, taken before the release phase migrated.
    const backup = result.outputs['backup-path'];
    expect(fs.readFileSync(backup).subarray(0, 5).toString()).toBe('PGDMP');
    // Its checksum and size, as the outputs documented for both targets give them (they once stayed empty here).
    expect(result.outputs['backup-sha256']).toBe(createHash('sha256').update(fs.readFileSync(backup)).digest('hex'));
    expect(result.outputs['backup-size-bytes']).toBe(String(fs.statSync(backup).size));
    expect(app().maintenanceHistory).toEqual([true, false]);
    // Build and release-phase output streamed into the log; the 429 and the 503 were waited out.
    expect(result.log).toContain('-----> Building on the Heroku-24 stack');
    expect(result.log).toMatch(new RegExp(`Applying orders\\.${migration.name}`));
    expect(result.log).toMatch(/rate limited; retrying in 1000 ms/);
    expect(result.log).toMatch(/HTTP 503; retrying/);
    expect(result.summary).toContain('v2');
    // Only names of config vars are logged; the key is in no log (the harness also refuses any declared secret).
    expect(result.log).toMatch(/Config vars of ocpizza: .*DATABASE_URL.*SECRET_KEY/);
    // (::add-mask:: lines are commands to the runner, which never shows them.)
    const shown = (log = '') =>
      log
        .split('\n')
        .filter((line) => !line.startsWith('::add-mask::'))
        .join('\n');
    expect(shown(result.log)).not.toContain(stage.standIn.apiKey.slice(5));
    expect(shown(result.post?.log)).not.toContain(stage.standIn.apiKey.slice(5));
    // The key went only to the API, as a bearer header: never to the signed upload or log URLs.
    const signed = stage.standIn.requests.filter((r) => /^\/(blobs|streams)\//.test(r.path));
    expect(signed.length).toBeGreaterThan(0);
    expect(signed.every((r) => r.auth === 'none')).toBe(true);
  });

  test('a failing build: the step fails, nothing released, maintenance off', async () => {
    fs.writeFileSync(`${stage.repo}/orders/views_extra.py`, 'X = 1\n');
    const sha = stage.commit('a change the build refuses');
    const serving = (await stage.health()).body?.commit;
    stage.standIn.hooks.build = () => ({
      ok: false,
      lines: ['ERROR: Could not find a version that satisfies the requirement Djangoo'],
    });
    try {
      const result = await deploy(sha, { maintenance: 'true' });
      expect(result.exitCode).not.toBe(0);
      expect(errors(result)).toEqual([expect.stringMatching(/The build of ocpizza failed/)]);
      expect(result.log).toContain('Could not find a version that satisfies the requirement Djangoo');
      expect((await stage.health()).body?.commit).toBe(serving);
      expect(app().maintenance).toBe(false);
      expect(app().maintenanceHistory.slice(-2)).toEqual([true, false]);
    } finally {
      delete stage.standIn.hooks.build;
    }
  });

  test('a failing migration in the release phase fails the step; the previous release serves; maintenance off', async () => {
    const serving = (await stage.health()).body?.commit;
    const current = stage.standIn.current('ocpizza')!.version;
    addMigration(stage.repo, 'failing');
    const sha = stage.commit('a migration that fails');
    try {
      const result = await deploy(sha);
      expect(result.exitCode).not.toBe(0);
      expect(errors(result)).toEqual([
        expect.stringMatching(/release phase of ocpizza v\d+ failed.*keeps v\d+ serving/),
      ]);
      expect(result.log).toMatch(/runbook_table_that_does_not_exist/);
      expect(stage.standIn.current('ocpizza')!.version).toBe(current);
      expect((await stage.health()).body?.commit).toBe(serving);
      expect(app().maintenance).toBe(false);
    } finally {
      // Put the repository back to a deployable state for the next tests, whatever happened.
      git(stage.repo, 'revert', '--no-edit', 'HEAD');
    }
  });

  test('a failing health gate rolls back to the previous release; the summary says which release serves', async () => {
    const serving = (await stage.health()).body?.commit;
    const previous = stage.standIn.current('ocpizza')!.version;
    fs.writeFileSync(`${stage.repo}/orders/views_extra.py`, 'X = 2\n');
    const sha = stage.commit('a release that answers with the wrong commit');
    stage.serveWrongCommit = true;
    let result: StepResult;
    try {
      // Once the broken release is up, the rollback must serve the right commit again.
      const original = stage.standIn.hooks.released!;
      stage.standIn.hooks.released = async (name, commit, version) => {
        if (commit !== sha) stage.serveWrongCommit = false;
        await original(name, commit, version);
      };
      result = await deploy(sha, { 'health-timeout': '4s' });
      stage.standIn.hooks.released = original;
    } finally {
      stage.serveWrongCommit = false;
    }
    expect(result.exitCode).not.toBe(0);
    expect(result.outputs['rolled-back']).toBe('true');
    expect(errors(result)).toEqual([expect.stringMatching(/Health check of .*\/health failed on ocpizza/)]);
    const now = stage.standIn.current('ocpizza')!;
    expect(now.commit).toBe(serving);
    expect((await stage.health()).body?.commit).toBe(serving);
    expect(result.summary).toContain(`v${now.version} (rollback to v${previous})`);
  });

  test('cancelled during the build: the post step cancels the build and turns maintenance off', async () => {
    fs.writeFileSync(`${stage.repo}/orders/views_extra.py`, 'X = 3\n');
    const sha = stage.commit('a slow build');
    const serving = stage.standIn.current('ocpizza');
    const lines = Array.from({ length: 60 }, (_, i) => `-----> step ${i + 1} of a slow build`);
    stage.standIn.hooks.build = () => ({ ok: true, lines });
    stage.standIn.lineDelayMs = 250;
    try {
      const started = app().builds.length;
      const result = await deploy(sha, { maintenance: 'true' }, { cancelOnLine: /step 3 of a slow build/ });
      expect(app().builds.length).toBe(started + 1);
      expect(result.post?.ran).toBe(true);
      expect(result.post?.log).toMatch(/Build [0-9a-f-]+ of ocpizza cancelled/);
      expect(result.post?.log).toMatch(/Maintenance turned off on ocpizza/);
      expect(app().maintenance).toBe(false);
      expect(app().maintenanceHistory.slice(-2)).toEqual([true, false]);
      // The cancelled build never becomes a release: what served before still serves.
      expect(app().builds.at(-1)!.status).toBe('failed');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(stage.standIn.current('ocpizza')).toEqual(serving);
    } finally {
      delete stage.standIn.hooks.build;
      stage.standIn.lineDelayMs = 20;
    }
  });

  test.each([
    [{ 'heroku-api-key': '' }, /Input 'heroku-api-key' is required/],
    [{ app: '' }, /Input 'app' is required/],
    [{ app: 'OC_Pizza' }, /Input 'app' must be Heroku app names/],
    [{ maintenance: 'sometimes' }, /Input 'maintenance' must be one of true, false, auto/],
    [{ 'app-url': 'ocpizza.herokuapp.com' }, /Input 'app-url' must be an absolute URL with a scheme/],
  ])('bad input %j: one clear error, no API call', async (inputs, message) => {
    const calls = stage.standIn.requests.length;
    const result = await deploy(git(stage.repo, 'rev-parse', 'HEAD'), inputs);
    expect(result.exitCode).not.toBe(0);
    expect(errors(result)).toEqual([expect.stringMatching(message)]);
    expect(result.log).not.toMatch(/\n\s+at .*\.js:\d+/);
    expect(stage.standIn.requests.length).toBe(calls);
  });
});

describe('deploy with target heroku to two apps sharing one database', () => {
  // Last in the file: the second app stays on the stage.
  test('one upload, one backup from the first app, released in order, both serve the new commit', async () => {
    await stage.addApp('ocpizza-admin');
    const admin = () => stage.standIn.apps.get('ocpizza-admin')!;
    const sourcesBefore = stage.standIn.requests.filter((r) => r.method === 'POST' && r.path === '/sources').length;
    const migration = addMigration(stage.repo, 'add-field');
    const sha = stage.commit('a field both interfaces use');
    const result = await deploy(sha, { app: '', apps: 'ocpizza\nocpizza-admin', 'app-url': `${stage.appUrl}/{app}` });
    expect(errors(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    for (const name of ['ocpizza', 'ocpizza-admin']) {
      expect((await stage.health(name)).body).toMatchObject({ commit: sha, migrations: 'applied' });
    }
    expect(await columns()).toContain(migration.field);
    // One source upload for both builds, one build and one new release per app, the first app before the second.
    const changes = stage.standIn.requests;
    expect(changes.filter((r) => r.method === 'POST' && r.path === '/sources').length - sourcesBefore).toBe(1);
    const builds = changes.filter((r) => r.method === 'POST' && /^\/apps\/[^/]+\/builds$/.test(r.path)).slice(-2);
    expect(builds.map((r) => r.path)).toEqual(['/apps/ocpizza/builds', '/apps/ocpizza-admin/builds']);
    expect(admin().releases.find((r) => r.current)?.slug?.commit).toBe(sha);
    expect(app().releases.find((r) => r.current)?.slug?.commit).toBe(sha);
    // Outputs per app, comma-separated in the order of `apps`; one backup, a real pg_dump archive.
    const versions = (name: string) => String(stage.standIn.current(name)!.version);
    expect(result.outputs['release-version']).toBe(`${versions('ocpizza')},${versions('ocpizza-admin')}`);
    expect(result.outputs['backup-path']).not.toContain(',');
    expect(fs.readFileSync(result.outputs['backup-path']).subarray(0, 5).toString()).toBe('PGDMP');
    expect(result.summary).toContain('ocpizza-admin');
  });
});
