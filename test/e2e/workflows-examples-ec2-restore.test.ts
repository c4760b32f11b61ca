// The ec2-nightly-backup example's restore.yml, as an operator fills it in for this server (owner, host, port, user,
// the backup directory; the credentials as one DATABASE_URL secret), run by the local workflow runner for a
// workflow_dispatch through @v1 of a clone of this repository: the backups are OCPDB_<time>_<sha>.dump files on the
// instance (the test bed's sshd); `latest` is the newest by the time in its name; the run restores only when the
// person types the database name, after a safety backup.
import fs from 'node:fs';
import path from 'node:path';
import { snapshotRepository, type RepositorySnapshot } from '../harness/repository-snapshot.js';
import { runWorkflow } from '../harness/workflow-runner.js';
import { startPostgres, type PostgresServer } from '../testbed/postgres.js';
import { startSshd, type SshServer } from '../testbed/sshd.js';
import { makeTempDir, runChecked } from '../testbed/process.js';
import { exampleCaller, overSsh, restoreOutcome } from '../support/workflow-examples.js';

let pg: PostgresServer;
let sshd: SshServer;
let runbook: RepositorySnapshot;
let dir: string;
let serverDir: string;
let caller: string;

const dump = async (file: string) => {
  const args = ['-Fc', '-f', file, '-h', pg.host, '-p', String(pg.port), '-U', pg.user, 'OCPIZZA'];
  await runChecked(path.join(pg.binDir, 'pg_dump'), args, { env: { ...process.env, PGPASSWORD: pg.password } });
};

beforeAll(async () => {
  [pg, sshd] = await Promise.all([startPostgres(), startSshd()]);
  dir = makeTempDir('example-ec2-restore');
  serverDir = path.join(dir, 'backup_db');
  fs.mkdirSync(serverDir);
  await pg.createDatabase('OCPIZZA');
  // Two nights: the older one without regina, the newer one with it (what `latest` must restore).
  await pg.sql("CREATE TABLE pizza (name text); INSERT INTO pizza VALUES ('margherita')", 'OCPIZZA');
  await dump(path.join(serverDir, 'OCPDB_202612010100_1a2b3c4.dump'));
  await pg.sql("INSERT INTO pizza VALUES ('regina')", 'OCPIZZA');
  await dump(path.join(serverDir, 'OCPDB_202612020100_5d6e7f8.dump'));
  runbook = snapshotRepository();
  runbook.tag('v1', runbook.commit('runbook under test'));

  const server = overSsh(sshd, { input: 'directory', path: serverDir });
  caller = exampleCaller('ec2-nightly-backup', 'restore.yml', dir, 'ocpizza', server);
}, 120_000);

afterAll(async () => {
  await Promise.all([pg?.stop(), sshd?.stop()]);
  runbook?.dispose();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const dispatch = (inputs: Record<string, string>) =>
  runWorkflow({
    workflow: caller,
    event: { name: 'workflow_dispatch', payload: { inputs } },
    inputs,
    secrets: {
      DATABASE_URL: pg.url('OCPIZZA'),
      EC2_SSH_KEY: sshd.privateKey,
      EC2_KNOWN_HOSTS: sshd.knownHosts,
      BACKUP_PASSPHRASE: 'restore passphrase 3b8a',
    },
    github: { repository: 'ocpizza/oc-pizza', ref: 'refs/heads/master' },
    repositories: { 'ocpizza/runbook': runbook.dir },
  });

const pizzas = async () => (await pg.sql('SELECT name FROM pizza ORDER BY name', 'OCPIZZA')).trim().split('\n');

beforeEach(async () => {
  // The day's damage the restore is for.
  await pg.sql("DELETE FROM pizza; INSERT INTO pizza VALUES ('pineapple')", 'OCPIZZA');
});

test.each([
  ['a mistyped name', 'OCPIZA'],
  ['the name in lower case', 'ocpizza'],
  ['no name', ''],
])(
  '%s is refused with one error naming confirm; nothing changes',
  async (_, confirm) => {
    const listing = fs.readdirSync(serverDir).sort();
    const outcome = restoreOutcome(await dispatch({ backup: 'latest', confirm }));
    expect(outcome).toEqual({ conclusion: 'failure', restore: 'failure', errors: [expect.stringMatching(/confirm/)] });
    expect(outcome.errors[0]).not.toMatch(/\n\s+at /);
    expect(await pizzas()).toEqual(['pineapple']);
    expect(fs.readdirSync(serverDir).sort()).toEqual(listing);
  },
  180_000,
);

test('OCPIZZA typed restores the latest backup on the instance, after a safety backup', async () => {
  const result = await dispatch({ backup: 'latest', confirm: 'OCPIZZA' });
  expect(result.conclusion).toBe('success');
  expect(result.jobs[0].outputs['restored-from']).toMatch(/OCPDB_202612020100_5d6e7f8\.dump$/);
  // The safety backup is kept on the instance, beside the nightly ones.
  const safety = result.jobs[0].outputs['safety-backup-path'];
  expect(path.dirname(safety)).toBe(serverDir);
  expect(path.basename(safety)).toMatch(/^OCPIZZA-before-restore_\d{12}_\w+\.dump\.enc$/);
  expect(await pizzas()).toEqual(['margherita', 'regina']);
}, 180_000);
