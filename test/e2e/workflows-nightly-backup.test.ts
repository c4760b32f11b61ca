// The EC2 example's nightly backup, run by the local workflow runner for a `schedule` event: the caller (as an
// operator copies it, pinned to @v1 of a clone of this repository) calls nightly-backup.yml, which dumps the test
// bed's PostgreSQL on the server over the test bed's sshd, verifies it, prunes that prefix by the time in the names,
// and uploads a second, encrypted copy to the artifact service stand-in.
import fs from 'node:fs';
import path from 'node:path';
import { startArtifactService, type ArtifactService } from '../stand-ins/artifact-service.js';
import { startPostgres, type PostgresServer } from '../testbed/postgres.js';
import { startSshd, type SshServer } from '../testbed/sshd.js';
import { makeTempDir, runChecked } from '../testbed/process.js';
import { snapshotRepository, type RepositorySnapshot } from '../harness/repository-snapshot.js';
import { runWorkflow } from '../harness/workflow-runner.js';
import { datedBackup as dated, exampleCaller, overSsh } from '../support/workflow-examples.js';

const CRON = '0 1 * * *';
const PASSPHRASE = 'nightly passphrase 4f1e';

let pg: PostgresServer;
let sshd: SshServer;
let artifacts: ArtifactService;
let repo: RepositorySnapshot;
let sha: string;
let dir: string;
let serverDir: string;
let caller: string;

beforeAll(async () => {
  [pg, sshd, artifacts] = await Promise.all([startPostgres(), startSshd(), startArtifactService()]);
  dir = makeTempDir('workflow-nightly');
  serverDir = path.join(dir, 'backup_db');
  fs.mkdirSync(serverDir);
  await pg.createDatabase('ocpizza');
  await pg.sql("CREATE TABLE orders (id int, pizza text); INSERT INTO orders VALUES (1, 'regina')", 'ocpizza');
  repo = snapshotRepository();
  sha = repo.commit('the working tree');
  repo.tag('v1', sha);

  // The example as an operator fills it in for this server: owner, host, port, user, directory; the credentials
  // as one DATABASE_URL secret (the database listens on a port of its own here).
  const server = overSsh(sshd, { input: 'server-directory', path: serverDir });
  caller = exampleCaller('ec2-nightly-backup', 'nightly-backup.yml', dir, 'ocpizza', server);
}, 120_000);

afterAll(async () => {
  await Promise.all([pg?.stop(), sshd?.stop(), artifacts?.stop()]);
  repo?.dispose();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const run = (payload: Record<string, unknown>, name = 'schedule') =>
  runWorkflow({
    workflow: caller,
    event: { name, payload: { ...payload, repository: { full_name: 'ocpizza/runbook', private: true } } },
    secrets: {
      DATABASE_URL: pg.url('ocpizza'),
      EC2_SSH_KEY: sshd.privateKey,
      EC2_KNOWN_HOSTS: sshd.knownHosts,
      BACKUP_PASSPHRASE: PASSPHRASE,
    },
    runnerEnv: { ACTIONS_RESULTS_URL: artifacts.resultsUrl, ACTIONS_RUNTIME_TOKEN: artifacts.runtimeToken },
    repositoryDir: repo.dir,
    github: { sha, ref: 'refs/heads/master' },
  });

test('the 01:00 schedule backs up over SSH, verifies, prunes that prefix by age and keeps the newest', async () => {
  const expired = [dated('OCPDB', 20), dated('OCPDB', 15)];
  const kept = [dated('OCPDB', 13), dated('OCPDB', 2), dated('shop', 40), 'OCPDB.sql.old'];
  for (const name of [...expired, ...kept]) fs.writeFileSync(path.join(serverDir, name), 'an older dump\n');
  const before = artifacts.artifacts.length;

  const result = await run({ schedule: CRON });

  expect(result.triggered).toBe(true);
  expect(result.conclusion).toBe('success');
  const [backup] = result.jobs[0].called!;
  expect(backup.steps.map((s) => [s.id, s.outcome])).toEqual([
    ['__run', 'success'],
    ['server', 'success'],
    ['artifact', 'success'],
    ['__run_4', 'skipped'],
  ]);
  const made = result.jobs[0].outputs['server-path'];
  expect(path.dirname(made)).toBe(serverDir);
  expect(path.basename(made)).toMatch(new RegExp(`^OCPDB_\\d{12}_${sha.slice(0, 7)}\\.dump$`));
  expect(fs.readdirSync(serverDir).sort()).toEqual([...kept, path.basename(made)].sort());
  const server = backup.steps.find((s) => s.id === 'server')!.result!;
  expect(server.summary).toMatch(/verif/i);

  // The server copy restores: the night's data is in it.
  await pg.createDatabase('ocpizza_check');
  await runChecked(
    path.join(pg.binDir, 'pg_restore'),
    ['-h', pg.host, '-p', String(pg.port), '-U', pg.user, '-d', 'ocpizza_check', made],
    { env: { ...process.env, PGPASSWORD: pg.password } },
  );
  expect((await pg.sql('SELECT pizza FROM orders', 'ocpizza_check')).trim()).toBe('regina');

  // The second copy is the encrypted artifact, kept keep-days.
  const stored = artifacts.artifacts.slice(before);
  expect(stored.map((a) => [a.name, a.finalized, String(a.id)])).toEqual([
    [expect.stringMatching(/^OCPDB_\d{12}_\w+\.dump\.enc$/), true, result.jobs[0].outputs['artifact-id']],
  ]);
  expect(artifacts.violations).toEqual([]);
}, 300_000);

test('another cron, a push or a missing cron name does not start the backup', async () => {
  const listing = fs.readdirSync(serverDir).sort();
  expect(await run({ schedule: '0 2 * * *' })).toEqual({ triggered: false, jobs: [], conclusion: 'success' });
  expect(await run({ ref: 'refs/heads/master' }, 'push')).toEqual({
    triggered: false,
    jobs: [],
    conclusion: 'success',
  });
  await expect(run({})).rejects.toThrow(/payload\.schedule/);
  expect(fs.readdirSync(serverDir).sort()).toEqual(listing);
}, 60_000);
