// The nightly backup and the restore of three examples (droplet-staging-flow, heroku-two-apps, heroku-mysql), as a
// team copies them (`<owner>` filled in, pinned to @v1 of a clone of this repository), run by the local workflow
// runner against the test bed's databases: the `schedule` event at the example's own cron runs nightly-backup.yml,
// which dumps, verifies and keeps the backup (on the droplet over SSH, pruning that prefix by the time in the names;
// as an encrypted artifact kept keep-days, which is how GitHub prunes it); then a workflow_dispatch of restore.yml
// refuses a confirmation that is not the database name, naming `confirm` and changing nothing, and the right one
// puts the night's data back after a safety backup. On Heroku the database URL is the app's config var, read through
// the Platform API stand-in as `heroku config:get` reads it for the secret.
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { snapshotRepository, type RepositorySnapshot } from '../harness/repository-snapshot.js';
import { runWorkflow, type WorkflowRun } from '../harness/workflow-runner.js';
import { startArtifactService, type ArtifactService } from '../stand-ins/artifact-service.js';
import { startHerokuStandIn, type HerokuStandIn } from '../stand-ins/heroku-api.js';
import { startMariaDB, type MariaDBServer } from '../testbed/mariadb.js';
import { startPostgres, type PostgresServer } from '../testbed/postgres.js';
import { startSshd, type SshServer } from '../testbed/sshd.js';
import { makeTempDir } from '../testbed/process.js';
import { datedBackup, exampleCaller, herokuConfigVar, overSsh, restoreOutcome } from '../support/workflow-examples.js';

const OWNER = 'ocpizza';
const PASSPHRASE = 'nightly passphrase 7e2b';
const DAY = 86_400_000;
const TOKEN = 'ghs_e2eExamplesNightlyToken3c9d7a1f';

let pg: PostgresServer;
let maria: MariaDBServer;
let sshd: SshServer;
let artifacts: ArtifactService;
let heroku: HerokuStandIn;
let runbook: RepositorySnapshot;
let dir: string;

beforeAll(async () => {
  [pg, maria, sshd, artifacts, heroku] = await Promise.all([
    startPostgres(),
    startMariaDB(),
    startSshd(),
    startArtifactService(),
    startHerokuStandIn(),
  ]);
  dir = makeTempDir('examples-nightly');
  runbook = snapshotRepository();
  runbook.tag('v1', runbook.commit('runbook under test'));
}, 180_000);

afterAll(async () => {
  await Promise.all([pg?.stop(), maria?.stop(), sshd?.stop(), artifacts?.stop(), heroku?.stop()]);
  runbook?.dispose();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** The cron of the example's nightly-backup.yml: the schedule event names the one that fired. */
const cronOf = (example: string) =>
  (
    parse(fs.readFileSync(`examples/${example}/.github/workflows/nightly-backup.yml`, 'utf8')) as {
      on: { schedule: { cron: string }[] };
    }
  ).on.schedule.map((s) => s.cron);

interface Example {
  /** The team's repository. */
  repository: string;
  secrets: Record<string, string>;
}

const run = (
  example: Example,
  workflow: string,
  event: { name: string; payload: Record<string, unknown> },
  inputs?: Record<string, string>,
) =>
  runWorkflow({
    workflow,
    event: { ...event, payload: { ...event.payload, repository: { full_name: example.repository, private: true } } },
    ...(inputs ? { inputs } : {}),
    secrets: { ...example.secrets, BACKUP_PASSPHRASE: PASSPHRASE },
    runnerEnv: { ACTIONS_RESULTS_URL: artifacts.resultsUrl, ACTIONS_RUNTIME_TOKEN: artifacts.runtimeToken },
    // The run's GITHUB_TOKEN: restore-database.yml downloads the nightly run's artifact with it (actions: read).
    github: { repository: example.repository, ref: 'refs/heads/master', token: TOKEN },
    repositories: { [`${OWNER}/runbook`]: runbook.dir },
  });

const schedule = (example: Example, workflow: string, cron: string) =>
  run(example, workflow, { name: 'schedule', payload: { schedule: cron } });
const dispatch = (example: Example, workflow: string, inputs: Record<string, string>) =>
  run(example, workflow, { name: 'workflow_dispatch', payload: { inputs } }, inputs);

/** The steps of the called nightly-backup.yml job, as [id, outcome]. */
const backupSteps = (result: WorkflowRun) => result.jobs[0].called![0].steps.map((s) => [s.id, s.outcome]);

/** The artifacts a run finalized, and that each expires keep-days after the run started (GitHub's pruning by age). */
function nightlyArtifacts(since: number, startedAt: number) {
  return artifacts.artifacts
    .slice(since)
    .map((a) => [a.name, a.finalized, Math.round((Date.parse(a.expiresAt ?? '') - startedAt) / DAY)]);
}

const REFUSALS = [
  ['a mistyped name', (name: string) => name.slice(0, -1)],
  ['no name', () => ''],
] as const;

const refused = { conclusion: 'failure', restore: 'failure', errors: [expect.stringMatching(/confirm/)] };

describe('droplet-staging-flow: PostgreSQL on the droplet, backups in ~/backups', () => {
  const example: Example = { repository: `${OWNER}/ocpizza`, secrets: {} };
  let serverDir: string;
  let nightly: string;
  let backupCaller: string;
  let restoreCaller: string;
  const pizzas = async () => (await pg.sql('SELECT name FROM pizza ORDER BY name', 'ocpizza')).trim().split('\n');

  beforeAll(async () => {
    serverDir = path.join(dir, 'droplet-backups');
    fs.mkdirSync(serverDir);
    await pg.createDatabase('ocpizza');
    await pg.sql("CREATE TABLE pizza (name text); INSERT INTO pizza VALUES ('margherita'), ('regina')", 'ocpizza');
    Object.assign(example.secrets, {
      DATABASE_URL: pg.url('ocpizza'),
      DEPLOY_SSH_KEY: sshd.privateKey,
      DROPLET_KNOWN_HOSTS: sshd.knownHosts,
    });
    // The droplet's examples as the team fills them in for this server: the test bed's sshd and ~/backups.
    const filled = (file: string, input: 'server-directory' | 'directory') =>
      exampleCaller('droplet-staging-flow', file, dir, OWNER, overSsh(sshd, { input, path: serverDir }));
    backupCaller = filled('nightly-backup.yml', 'server-directory');
    restoreCaller = filled('restore.yml', 'directory');
  });

  test('the 01:00 UTC schedule backs up over SSH, verifies, and prunes ocpizza backups older than 14 days', async () => {
    const expired = [datedBackup('ocpizza', 30), datedBackup('ocpizza', 15)];
    const kept = [
      datedBackup('ocpizza', 13),
      datedBackup('ocpizza', 1),
      datedBackup('ocpizza-before-restore', 40),
      datedBackup('shop', 30),
      'ocpizza.json',
    ];
    for (const name of [...expired, ...kept]) fs.writeFileSync(path.join(serverDir, name), 'an older dump\n');
    const [cron] = cronOf('droplet-staging-flow');
    expect(cron).toBe('0 1 * * *');
    const since = artifacts.artifacts.length;
    const startedAt = Date.now();

    const result = await schedule(example, backupCaller, cron);

    expect(result.conclusion).toBe('success');
    expect(backupSteps(result)).toEqual([
      ['__run', 'success'],
      ['server', 'success'],
      ['artifact', 'success'],
      ['__run_4', 'skipped'],
    ]);
    nightly = result.jobs[0].outputs['server-path'];
    expect(path.dirname(nightly)).toBe(serverDir);
    expect(path.basename(nightly)).toMatch(/^ocpizza_\d{12}_\w+\.dump$/);
    expect(fs.readdirSync(serverDir).sort()).toEqual([...kept, path.basename(nightly)].sort());
    const server = result.jobs[0].called![0].steps.find((s) => s.id === 'server')!.result!;
    expect(server.summary).toMatch(/verif/i);
    expect(nightlyArtifacts(since, startedAt)).toEqual([
      [expect.stringMatching(/^ocpizza_\d{12}_\w+\.dump\.enc$/), true, 14],
    ]);
    expect(artifacts.violations).toEqual([]);
  }, 300_000);

  describe('restore.yml, after the day went wrong', () => {
    beforeAll(async () => {
      if (!nightly) throw new Error('the nightly backup did not run');
      await pg.sql("DELETE FROM pizza WHERE name = 'regina'; INSERT INTO pizza VALUES ('pineapple')", 'ocpizza');
    });

    test.each(REFUSALS)(
      '%s is refused with one error naming confirm; the database and ~/backups are unchanged',
      async (_, confirm) => {
        const listing = fs.readdirSync(serverDir).sort();
        const result = await dispatch(example, restoreCaller, { backup: 'latest', confirm: confirm('ocpizza') });
        const outcome = restoreOutcome(result);
        expect(outcome).toEqual(refused);
        expect(outcome.errors[0]).not.toMatch(/\n\s+at /);
        expect(await pizzas()).toEqual(['margherita', 'pineapple']);
        expect(fs.readdirSync(serverDir).sort()).toEqual(listing);
      },
      180_000,
    );

    test('ocpizza typed restores the latest backup (the nightly one), after a safety backup on the droplet', async () => {
      const result = await dispatch(example, restoreCaller, { backup: 'latest', confirm: 'ocpizza' });
      expect(restoreOutcome(result)).toEqual({ conclusion: 'success', restore: 'success', errors: [] });
      expect(result.jobs[0].outputs['restored-from']).toBe(nightly);
      const safety = result.jobs[0].outputs['safety-backup-path'];
      expect(path.dirname(safety)).toBe(serverDir);
      expect(path.basename(safety)).toMatch(/^ocpizza-before-restore_\d{12}_\w+(-\d+)?\.dump\.enc$/);
      expect(await pizzas()).toEqual(['margherita', 'regina']);
    }, 180_000);
  });
});

/** A Heroku example: the nightly artifact, then the restore from it. */
function herokuExample(options: {
  name: string;
  app: string;
  /** The config var holding the database URL; the example's workflows read a secret of the same name. */
  configVar: string;
  database: string;
  file: RegExp;
  /** The test bed's database server (started in beforeAll). */
  server: () => PostgresServer | MariaDBServer;
}) {
  const example: Example = { repository: `${OWNER}/${options.app}`, secrets: {} };
  let nightly = '';
  let backupCaller: string;
  let restoreCaller: string;
  const sql = (statements: string) => options.server().sql(statements, options.database);
  const rows = async () => (await sql('SELECT name FROM pizza ORDER BY name')).trim().split('\n');

  beforeAll(async () => {
    await options.server().createDatabase(options.database);
    await sql("CREATE TABLE pizza (name varchar(40)); INSERT INTO pizza VALUES ('margherita'), ('regina')");
    heroku.addApp(options.app, {
      configVars: { SECRET_KEY: 'k3y', [options.configVar]: options.server().url(options.database) },
    });
    example.secrets[options.configVar] = await herokuConfigVar(heroku, options.app, options.configVar);
    backupCaller = exampleCaller(options.name, 'nightly-backup.yml', dir, OWNER);
  }, 120_000);

  test('the 01:00 UTC schedule uploads a verified, encrypted backup that expires after 14 days', async () => {
    const [cron] = cronOf(options.name);
    expect(cron).toBe('0 1 * * *');
    const since = artifacts.artifacts.length;
    const startedAt = Date.now();

    const result = await schedule(example, backupCaller, cron);

    expect(result.conclusion).toBe('success');
    const stored = artifacts.artifacts[since];
    nightly = stored.name;
    // No server of ours on Heroku: the server copy is skipped, the artifact is the backup runbook keeps.
    expect(backupSteps(result)).toEqual([
      ['__run', 'success'],
      ['server', 'skipped'],
      ['artifact', 'success'],
      ['__run_4', 'skipped'],
    ]);
    const artifact = result.jobs[0].called![0].steps.find((s) => s.id === 'artifact')!.result!;
    expect(artifact.summary).toMatch(/verif/i);
    expect(nightlyArtifacts(since, startedAt)).toEqual([[expect.stringMatching(options.file), true, 14]]);
    expect(String(stored.id)).toBe(result.jobs[0].outputs['artifact-id']);
    expect(artifacts.violations).toEqual([]);
    expect(heroku.violations).toEqual([]);
  }, 300_000);

  describe('restore.yml from that night, after the day went wrong', () => {
    beforeAll(async () => {
      if (!nightly) throw new Error('the nightly backup did not run');
      restoreCaller = exampleCaller(options.name, 'restore.yml', dir, OWNER);
      await sql("DELETE FROM pizza WHERE name = 'regina'; INSERT INTO pizza VALUES ('pineapple')");
    });

    test.each(REFUSALS)(
      '%s is refused with one error naming confirm; nothing is restored or uploaded',
      async (_, confirm) => {
        const since = artifacts.artifacts.length;
        const inputs = { 'run-id': '4242', file: nightly, confirm: confirm(options.database) };
        const outcome = restoreOutcome(await dispatch(example, restoreCaller, inputs));
        expect(outcome).toEqual(refused);
        expect(outcome.errors[0]).not.toMatch(/\n\s+at /);
        expect(await rows()).toEqual(['margherita', 'pineapple']);
        expect(artifacts.artifacts.length).toBe(since);
      },
      180_000,
    );

    test('the database name typed restores the nightly artifact, after a safety backup', async () => {
      const inputs = { 'run-id': '4242', file: nightly, confirm: options.database };
      const result = await dispatch(example, restoreCaller, inputs);
      expect(restoreOutcome(result)).toEqual({ conclusion: 'success', restore: 'success', errors: [] });
      expect(result.jobs[0].outputs['restored-from'].endsWith(`/backups/${nightly}`)).toBe(true);
      expect(result.jobs[0].outputs['safety-backup-path']).toMatch(
        new RegExp(`/${options.database}-before-restore_\\d{12}_\\w+(-\\d+)?\\.(dump|sql)\\.enc$`),
      );
      expect(await rows()).toEqual(['margherita', 'regina']);
    }, 180_000);
  });
}

describe('heroku-two-apps: one Heroku Postgres database behind both apps', () => {
  // Heroku names the database; the team copies DATABASE_URL from the first app, as the deploy reads it there.
  const database = 'd8f1kq2mv7c3pa';
  herokuExample({
    name: 'heroku-two-apps',
    app: 'ocpizza-customers',
    configVar: 'DATABASE_URL',
    database,
    file: new RegExp(`^${database}_\\d{12}_\\w+\\.dump\\.enc$`),
    server: () => pg,
  });
});

describe('heroku-mysql: the JawsDB MySQL add-on (MariaDB here)', () => {
  herokuExample({
    name: 'heroku-mysql',
    app: 'architectapp',
    configVar: 'JAWSDB_URL',
    database: 'hq4x9m2kw7b1zt',
    file: /^architect_\d{12}_\w+\.sql\.enc$/,
    server: () => maria,
  });
});
