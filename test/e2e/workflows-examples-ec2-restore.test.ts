// The ec2-nightly-backup example's restore.yml, as an operator fills it in for this server (owner, host, port, user,
// the backup directory; the credentials as one DATABASE_URL secret), run by the local workflow runner for a
// workflow_dispatch through @v1 of a clone of this repository: the backups are OCPDB_<time>_<sha>.dump files on the
// instance (the test bed's sshd); `latest` is the newest by the time in its name; the run restores only when the
// person types the database name, after a safety backup.
import fs from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { snapshotRepository, type RepositorySnapshot } from '../harness/repository-snapshot.js';
import { runWorkflow } from '../harness/workflow-runner.js';
import { startPostgres, type PostgresServer } from '../testbed/postgres.js';
import { startSshd, type SshServer } from '../testbed/sshd.js';
import { makeTempDir, runChecked } from '../testbed/process.js';

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

  const example = parseDocument(fs.readFileSync('examples/ec2-nightly-backup/.github/workflows/restore.yml', 'utf8'));
  const job = ['jobs', 'restore'];
  example.setIn([...job, 'uses'], String(example.getIn([...job, 'uses'])).replace('<owner>', 'ocpizza'));
  for (const name of ['db-name', 'db-user', 'db-host']) example.deleteIn([...job, 'with', name]);
  example.setIn([...job, 'with', 'ssh-host'], sshd.host);
  example.setIn([...job, 'with', 'ssh-port'], sshd.port);
  example.setIn([...job, 'with', 'ssh-user'], sshd.user);
  example.setIn([...job, 'with', 'directory'], serverDir);
  example.deleteIn([...job, 'secrets', 'DB_PASSWORD']);
  example.setIn([...job, 'secrets', 'DATABASE_URL'], '${{ secrets.DATABASE_URL }}');
  caller = path.join(dir, 'restore.yml');
  fs.writeFileSync(caller, example.toString());
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
    const result = await dispatch({ backup: 'latest', confirm });
    expect(result.conclusion).toBe('failure');
    const step = result.jobs[0].called![0].steps.find((s) => s.id === 'restore')!;
    expect(step.outcome).toBe('failure');
    const errors = step.result!.annotations.filter((a) => a.level === 'error').map((a) => a.message);
    expect(errors).toEqual([expect.stringMatching(/confirm/)]);
    expect(errors[0]).not.toMatch(/\n\s+at /);
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
