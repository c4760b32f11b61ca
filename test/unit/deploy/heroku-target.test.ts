import { HerokuTarget } from '../../../actions/deploy/heroku/target.js';
import type { HerokuStandIn } from '../../stand-ins/heroku-api.js';
import { herokuEdges, herokuInputs, makeRepo, standInWithApp, type TestRepo } from './heroku-world.js';

// Each test runs git and a local HTTP stand-in: seconds on a loaded machine, so not jest's 5 s default.

let repo: TestRepo;
let standIn: HerokuStandIn;

beforeAll(() => {
  repo = makeRepo();
});
afterAll(() => repo.remove());
beforeEach(async () => {
  standIn = await standInWithApp();
  standIn.apps.get('ocpizza')!.configVars.DEBUG = '0';
  standIn.apps.get('ocpizza')!.configVars.SSH_KEY = 'line-one-abc\nline-two-def';
  standIn.seedRelease('ocpizza', repo.v1);
});
afterEach(async () => {
  expect(standIn.violations).toEqual([]);
  await standIn.stop();
});

describe('HerokuTarget against the Platform API stand-in', () => {
  test('a deploy with a new migration: backup, maintenance on then off, build, release phase, health', async () => {
    const { edges, recorded } = herokuEdges(standIn);
    const report = await new HerokuTarget(herokuInputs(standIn, repo), edges).run();
    expect(report.error).toBeUndefined();
    expect(report.ok).toBe(true);
    expect(report.releaseVersion).toBe('2');
    expect(report.previousReleaseVersion).toBe('1');
    expect(standIn.current('ocpizza')).toEqual({ version: 2, commit: repo.v2 });
    expect(standIn.apps.get('ocpizza')!.maintenanceHistory).toEqual([true, false]);
    expect(recorded.backups).toEqual([{ database: 'ocpizza', commit: repo.v2 }]);
    expect(report.backupPath).toBe('/tmp/backups/ocpizza.dump');
    expect(recorded.health).toEqual(['http://ocpizza.test/health']);
    // Build and release-phase output reached the log, in order.
    const build = recorded.lines.indexOf('-----> Building on the Heroku-24 stack');
    const release = recorded.lines.indexOf('Running release command...');
    expect(build).toBeGreaterThanOrEqual(0);
    expect(release).toBeGreaterThan(build);
    // Every config var value is masked, and only names are logged.
    expect(recorded.secrets).toEqual(expect.arrayContaining(['sk-value-123456', 'db-secret-pw', standIn.apiKey]));
    expect(recorded.secrets).not.toContain('0');
    expect(recorded.lines.join('\n')).not.toContain('sk-value-123456');
    expect(recorded.lines).toContain('Config vars of ocpizza: DATABASE_URL, DEBUG, SECRET_KEY, SSH_KEY');
    expect(recorded.secrets).toEqual(expect.arrayContaining(['line-one-abc', 'line-two-def']));
    expect(recorded.states.at(-1)).toEqual({ apiUrl: `${standIn.url}/`, maintenanceOn: [], pendingBuilds: [] });
    // While the build ran, the post step would have known to cancel it (and to turn maintenance off).
    const buildId = standIn.apps.get('ocpizza')!.builds[0].id;
    expect(recorded.states).toContainEqual({
      apiUrl: `${standIn.url}/`,
      maintenanceOn: ['ocpizza'],
      pendingBuilds: [{ app: 'ocpizza', id: buildId }],
    });
    const build0 = standIn.requests.find((r) => r.method === 'POST' && r.path.endsWith('/builds'));
    expect(build0?.body).toMatchObject({
      source_blob: { version: repo.v2, checksum: expect.stringMatching(/^SHA256:[0-9a-f]{64}$/) },
    });
    expect(report.serving).toEqual({ ocpizza: `v2 (${repo.v2.slice(0, 7)})` });
  });

  test('an app already in maintenance before the deploy is left in maintenance, and the log says so', async () => {
    standIn.apps.get('ocpizza')!.maintenance = true;
    const { edges, recorded } = herokuEdges(standIn);
    const report = await new HerokuTarget(herokuInputs(standIn, repo), edges).run();
    expect(report.ok).toBe(true);
    expect(standIn.apps.get('ocpizza')!.maintenance).toBe(true);
    expect(standIn.apps.get('ocpizza')!.maintenanceHistory).toEqual([]);
    expect(recorded.warnings.join('\n')).toMatch(/already in maintenance mode .*leaves it on/);
    expect(report.phases.find((p) => p.name === 'maintenance on')?.detail).toBe(
      'already on before the deploy: left on',
    );
  });

  test('no migration changed: no backup and no maintenance with auto', async () => {
    standIn.seedRelease('ocpizza', repo.v2);
    const { edges, recorded } = herokuEdges(standIn);
    const report = await new HerokuTarget(herokuInputs(standIn, repo, { commit: repo.v3 }), edges).run();
    expect(report.ok).toBe(true);
    expect(recorded.backups).toEqual([]);
    expect(standIn.apps.get('ocpizza')!.maintenanceHistory).toEqual([]);
    expect(report.phases.filter((p) => p.status === 'skipped').map((p) => p.name)).toEqual([
      'backup',
      'maintenance on',
    ]);
  });

  test('a failing build: nothing released, maintenance off, the step fails', async () => {
    standIn.hooks.build = () => ({ ok: false, lines: ['ERROR: No matching distribution found for Djangoo'] });
    const { edges, recorded } = herokuEdges(standIn);
    const report = await new HerokuTarget(herokuInputs(standIn, repo), edges).run();
    expect(report.ok).toBe(false);
    expect(report.error).toMatch(/The build of ocpizza failed/);
    expect(recorded.lines).toContain('ERROR: No matching distribution found for Djangoo');
    expect(standIn.current('ocpizza')?.version).toBe(1);
    expect(standIn.apps.get('ocpizza')!.maintenance).toBe(false);
  });

  test('a failing release phase fails the step; the previous release keeps serving; maintenance off', async () => {
    standIn.hooks.releasePhase = () => ({
      ok: false,
      lines: ['django.db.utils.ProgrammingError: relation "x" does not exist'],
    });
    const { edges, recorded } = herokuEdges(standIn);
    const report = await new HerokuTarget(herokuInputs(standIn, repo), edges).run();
    expect(report.ok).toBe(false);
    expect(report.error).toMatch(/release phase of ocpizza v2 failed.*keeps v1 serving/);
    expect(recorded.lines).toContain('django.db.utils.ProgrammingError: relation "x" does not exist');
    expect(standIn.current('ocpizza')?.version).toBe(1);
    expect(standIn.apps.get('ocpizza')!.maintenanceHistory).toEqual([true, false]);
    expect(report.serving).toEqual({ ocpizza: 'v1 (unchanged)' });
  });

  test('a failing health gate rolls back to the previous release and says which serves', async () => {
    const { edges } = herokuEdges(standIn, { healthy: () => false });
    const report = await new HerokuTarget(herokuInputs(standIn, repo), edges).run();
    expect(report.ok).toBe(false);
    expect(report.rolledBack).toBe(true);
    expect(standIn.current('ocpizza')).toEqual({ version: 3, commit: repo.v1 });
    expect(report.serving).toEqual({ ocpizza: 'v3 (rollback to v1)' });
    expect(report.error).toMatch(/Health check of http:\/\/ocpizza.test\/health failed/);
    const rollback = standIn.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/releases'));
    expect(rollback).toHaveLength(1);
    expect(report.notes).toEqual([
      'The release phase ran on ocpizza: migrations it applied stay applied. Heroku runs the release command on a rollback too, with the older code: its migrate applies nothing new and reverses nothing. The pre-migration backup and its restore command are below.',
    ]);
  });

  test('a missing required config var stops before anything changes; only its name is said', async () => {
    const { edges } = herokuEdges(standIn);
    const report = await new HerokuTarget(
      herokuInputs(standIn, repo, { requiredConfigVars: ['SECRET_KEY', 'SENTRY_DSN'] }),
      edges,
    ).run();
    expect(report.ok).toBe(false);
    expect(report.error).toMatch(/Config vars missing on ocpizza: SENTRY_DSN/);
    expect(standIn.changes()).toEqual([]);
  });

  test('several apps: one source upload, one backup, each app built and released', async () => {
    standIn.addApp('ocpizza-admin', {
      configVars: { DATABASE_URL: 'postgres://u:p@127.0.0.1/ocpizza', SECRET_KEY: 'k2' },
    });
    standIn.seedRelease('ocpizza-admin', repo.v1);
    const { edges, recorded } = herokuEdges(standIn);
    const report = await new HerokuTarget(
      herokuInputs(standIn, repo, { apps: ['ocpizza', 'ocpizza-admin'] }),
      edges,
    ).run();
    expect(report.ok).toBe(true);
    expect(recorded.backups).toHaveLength(1);
    expect(standIn.requests.filter((r) => r.path === '/sources')).toHaveLength(1);
    expect(report.releaseVersion).toBe('2,2');
    expect(standIn.current('ocpizza-admin')).toEqual({ version: 2, commit: repo.v2 });
    expect(recorded.health).toEqual(['http://ocpizza.test/health', 'http://ocpizza-admin.test/health']);
  });

  test('several apps, the second build failing: the first app is rolled back, so both serve the old code', async () => {
    standIn.addApp('ocpizza-admin', {
      configVars: { DATABASE_URL: 'postgres://u:p@127.0.0.1/ocpizza', SECRET_KEY: 'k2' },
    });
    standIn.seedRelease('ocpizza-admin', repo.v1);
    standIn.hooks.build = (app) => (app === 'ocpizza-admin' ? { ok: false, lines: ['boom'] } : { ok: true, lines: [] });
    const { edges } = herokuEdges(standIn);
    const report = await new HerokuTarget(
      herokuInputs(standIn, repo, { apps: ['ocpizza', 'ocpizza-admin'] }),
      edges,
    ).run();
    expect(report.ok).toBe(false);
    expect(report.error).toMatch(/The build of ocpizza-admin failed.*ocpizza-admin was not released/);
    expect(report.rolledBack).toBe(true);
    // ocpizza went to v2, then back: v3 runs v1's code; the admin app never left v1.
    expect(standIn.current('ocpizza')).toEqual({ version: 3, commit: repo.v1 });
    expect(standIn.current('ocpizza-admin')).toEqual({ version: 1, commit: repo.v1 });
    expect(report.serving).toEqual({ ocpizza: 'v3 (rollback to v1)' });
    expect(standIn.apps.get('ocpizza')!.maintenance).toBe(false);
    expect(standIn.apps.get('ocpizza-admin')!.maintenance).toBe(false);
  });

  test('a serving commit missing from the checkout: maintenance on to be safe, and the reason said', async () => {
    standIn.seedRelease('ocpizza', 'f'.repeat(40));
    const { edges } = herokuEdges(standIn);
    const report = await new HerokuTarget(
      herokuInputs(standIn, repo, { commit: repo.v3, backup: 'never' }),
      edges,
    ).run();
    expect(report.ok).toBe(true);
    expect(standIn.apps.get('ocpizza')!.maintenanceHistory).toEqual([true, false]);
    expect(report.phases.find((p) => p.name === 'maintenance on')?.detail).toMatch(
      /not in the checkout and could not be fetched/,
    );
  });

  test('a failed backup stops the deploy before any build', async () => {
    const { edges } = herokuEdges(standIn, { backupFails: true });
    const report = await new HerokuTarget(herokuInputs(standIn, repo), edges).run();
    expect(report.ok).toBe(false);
    expect(report.error).toMatch(/pg_dump: connection refused/);
    expect(standIn.requests.some((r) => r.path.endsWith('/builds'))).toBe(false);
  });

  test('no database config var: a clear error unless backup is never', async () => {
    const { edges } = herokuEdges(standIn);
    const report = await new HerokuTarget(
      herokuInputs(standIn, repo, { databaseConfigVar: 'JAWSDB_URL' }),
      edges,
    ).run();
    expect(report.error).toMatch(/config var JAWSDB_URL of ocpizza is not set/);
  });

  test('an unknown commit fails before any API call', async () => {
    const { edges } = herokuEdges(standIn);
    const report = await new HerokuTarget(herokuInputs(standIn, repo, { commit: 'nope-branch' }), edges).run();
    expect(report.error).toMatch(/Commit 'nope-branch' is not in the repository/);
    expect(standIn.requests).toEqual([]);
  });

  test('a first deploy whose health fails: no earlier release to roll back to, said in the notes; buildpacks by name and URL', async () => {
    standIn.addApp('fresh-app', { configVars: { SECRET_KEY: 'x', DATABASE_URL: 'postgres://u:p@h/db' } });
    const { edges } = herokuEdges(standIn, { healthy: () => false });
    const report = await new HerokuTarget(
      herokuInputs(standIn, repo, {
        apps: ['fresh-app'],
        backup: 'never',
        buildpacks: ['heroku/python', 'https://github.com/x/bp'],
      }),
      edges,
    ).run();
    expect(report.ok).toBe(false);
    expect(report.notes.join(' ')).toMatch(/fresh-app had no earlier release to roll back to; v1 still serves/);
    const build = standIn.requests.find((r) => r.path.endsWith('/builds'));
    expect(build?.body).toMatchObject({ buildpacks: [{ name: 'heroku/python' }, { url: 'https://github.com/x/bp' }] });
  });
});

describe('HerokuTarget in mode rollback', () => {
  test('goes back to the release before the one serving, and checks its commit', async () => {
    standIn.seedRelease('ocpizza', repo.v2);
    const { edges, recorded } = herokuEdges(standIn, { healthy: (_url, commit) => commit === repo.v1 });
    const report = await new HerokuTarget(herokuInputs(standIn, repo, { mode: 'rollback' }), edges).run();
    expect(report.error).toBeUndefined();
    expect(report).toMatchObject({
      ok: true,
      rolledBack: true,
      releaseVersion: '3',
      previousReleaseVersion: '2',
      commit: repo.v1,
    });
    expect(standIn.current('ocpizza')).toEqual({ version: 3, commit: repo.v1 });
    expect(recorded.health).toEqual(['http://ocpizza.test/health']);
  });

  test('fails clearly when there is nothing to roll back to, or when the old release is unhealthy', async () => {
    const { edges } = herokuEdges(standIn);
    const none = await new HerokuTarget(herokuInputs(standIn, repo, { mode: 'rollback' }), edges).run();
    expect(none.error).toBe(
      'ocpizza has no earlier release to roll back to (releases that failed or that a rollback replaced are never chosen; v1 serves).',
    );
    standIn.seedRelease('ocpizza', repo.v2);
    const sick = herokuEdges(standIn, { healthy: () => false });
    const report = await new HerokuTarget(herokuInputs(standIn, repo, { mode: 'rollback' }), sick.edges).run();
    expect(report.error).toMatch(/failed on ocpizza after the rollback/);
  });
});

describe('HerokuTarget with an app in maintenance', () => {
  test('already in maintenance: the site is not asked; release and dynos up → success, maintenance left on', async () => {
    standIn.apps.get('ocpizza')!.maintenance = true;
    const { edges, recorded } = herokuEdges(standIn, { healthy: () => false });
    const report = await new HerokuTarget(herokuInputs(standIn, repo, { commit: repo.v3 }), edges).run();
    expect(report.error).toBeUndefined();
    expect(report.rolledBack).toBe(false);
    expect(recorded.health).toEqual([]);
    expect(report.phases.find((p) => p.name === 'health (API)')?.status).toBe('ok');
    expect(standIn.apps.get('ocpizza')!.maintenance).toBe(true);
    expect(recorded.warnings.join('\n')).toMatch(/health gate cannot ask the site/);
  });

  test('already in maintenance and the new release crashes its web dyno: rolled back', async () => {
    standIn.apps.get('ocpizza')!.maintenance = true;
    standIn.hooks.dynoState = (_app, version) => (version === 2 ? 'crashed' : 'up');
    const { edges } = herokuEdges(standIn);
    const report = await new HerokuTarget(herokuInputs(standIn, repo, { commit: repo.v3 }), edges).run();
    expect(report.error).toMatch(/A web dyno of ocpizza v2 crashed/);
    expect(report.rolledBack).toBe(true);
    expect(report.rejectedReleaseVersion).toBe('2');
    expect(report.releaseVersion).toBe('3');
    expect(standIn.current('ocpizza')).toEqual({ version: 3, commit: repo.v1 });
  });

  test('the site gate fails while the app is found in maintenance: no rollback for a maintenance page', async () => {
    const { edges } = herokuEdges(standIn, {
      healthy: () => {
        // Someone turns maintenance on while the gate waits: every answer is Heroku's maintenance page.
        standIn.apps.get('ocpizza')!.maintenance = true;
        return false;
      },
    });
    const report = await new HerokuTarget(herokuInputs(standIn, repo, { commit: repo.v3 }), edges).run();
    expect(report.error).toBeUndefined();
    expect(report.rolledBack).toBe(false);
    expect(report.phases.find((p) => p.name === 'health')?.detail).toMatch(/not judged: ocpizza is in maintenance/);
    expect(report.phases.find((p) => p.name === 'health (API)')?.status).toBe('ok');
    expect(standIn.current('ocpizza')?.commit).toBe(repo.v3);
  });
});

describe('HerokuTarget when the answer to POST /builds is lost', () => {
  test('the connection is reset after the build was created: the build is found, followed and released', async () => {
    standIn.failNext({ status: 503, method: 'POST', path: /\/builds$/, answerLost: 'reset' });
    const { edges, recorded } = herokuEdges(standIn);
    const report = await new HerokuTarget(herokuInputs(standIn, repo, { commit: repo.v3 }), edges).run();
    expect(report.error).toBeUndefined();
    expect(standIn.apps.get('ocpizza')!.builds).toHaveLength(1);
    expect(report.buildId).toBe(standIn.apps.get('ocpizza')!.builds[0].id);
    expect(standIn.current('ocpizza')).toEqual({ version: 2, commit: repo.v3 });
    expect(recorded.health).toEqual(['http://ocpizza.test/health']);
    expect(report.notes.join('\n')).toMatch(/answer to the build request for ocpizza was lost .*found by its source/);
  });

  test('a 503 before anything was created: no build is listed, the step fails saying nothing was released', async () => {
    standIn.failNext({ status: 503, method: 'POST', path: /\/builds$/ });
    const { edges } = herokuEdges(standIn);
    const report = await new HerokuTarget(herokuInputs(standIn, repo, { commit: repo.v3 }), edges).run();
    expect(report.error).toMatch(
      /Creating the build of ocpizza failed \(.*HTTP 503.*\), and Heroku lists no build of this source since: nothing was built or released/,
    );
    expect(standIn.apps.get('ocpizza')!.builds).toHaveLength(0);
    expect(standIn.current('ocpizza')).toEqual({ version: 1, commit: repo.v1 });
    expect(report.releaseVersion).toBe('1');
  });
});
