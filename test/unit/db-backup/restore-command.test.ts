// The restore step db-backup, deploy and the demo print (output restore-command and the job summaries) is meant to
// be pasted into a workflow: every variant the code can produce must use db-restore's published address and only
// inputs db-restore declares, with the ones it requires.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { actionRef } from '../../../actions/db-backup/action-io.js';
import { restoreCommand, type BackupServer } from '../../../actions/db-backup/backup.js';
import type { BackupFormat } from '../../../actions/db-backup/verify.js';

const restoreInputs = (
  parse(readFileSync(new URL('../../../actions/db-restore/action.yml', import.meta.url), 'utf8')) as {
    inputs: Record<string, { required?: boolean; deprecationMessage?: string }>;
  }
).inputs;

const FORMATS: BackupFormat[] = ['custom', 'plain', 'mysql', 'json'];
const SERVERS: (BackupServer | undefined)[] = [
  undefined,
  { host: 'web1', port: 22, user: 'deploy' },
  { host: '10.0.0.2', port: 2222, user: 'ubuntu' },
];
const variants = FORMATS.flatMap((format) =>
  [true, false].flatMap((encrypted) =>
    (['runner', 'server'] as const).flatMap((location) =>
      SERVERS.flatMap((server) => ['shop', ''].map((database) => ({ format, encrypted, location, server, database }))),
    ),
  ),
);

test.each(variants.map((v) => [JSON.stringify(v), v] as const))('%s', (_, v) => {
  const text = restoreCommand(
    { path: '/srv/app/shared/backups/shop_202612020700_abc1234.dump', ...v },
    actionRef({}, 'db-restore'),
    v.server,
  );
  const steps = parse(text) as { uses: string; with: Record<string, unknown> }[];
  expect(steps).toHaveLength(1);
  expect(steps[0].uses).toBe('<owner>/runbook/actions/db-restore@v1');
  const keys = Object.keys(steps[0].with);
  expect(keys.filter((key) => !(key in restoreInputs))).toEqual([]);
  expect(keys.filter((key) => restoreInputs[key].deprecationMessage)).toEqual([]);
  const required = Object.entries(restoreInputs)
    .filter(([, spec]) => spec.required)
    .map(([name]) => name);
  expect(required.filter((name) => !keys.includes(name))).toEqual([]);
  // A file on a server, or a database reached over SSH, is only restorable with the connection spelled out.
  if (v.location === 'server') expect(steps[0].with.storage).toBe('server');
  if (v.location === 'server' || v.server) {
    expect(keys).toEqual(expect.arrayContaining(['ssh-host', 'ssh-user', 'ssh-private-key', 'ssh-known-hosts']));
    if (v.server) expect(steps[0].with['ssh-host']).toBe(v.server.host);
    if (v.server?.port === 2222) expect(steps[0].with['ssh-port']).toBe(2222);
  }
  expect(keys.includes('encryption-passphrase')).toBe(v.encrypted);
});

// A bucket backup: the snippet reaches the bucket as the backup did, with real db-restore inputs and the
// credentials as secret references (never values); credentials from the environment need no input.
test.each([
  [
    'keys from inputs, an S3-compatible endpoint',
    {
      region: 'fra1',
      endpoint: 'https://fra1.digitaloceanspaces.com',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG' },
    },
    {
      's3-region': 'fra1',
      's3-endpoint': 'https://fra1.digitaloceanspaces.com',
      's3-force-path-style': true,
      's3-access-key-id': '${{ secrets.S3_ACCESS_KEY_ID }}',
      's3-secret-access-key': '${{ secrets.S3_SECRET_ACCESS_KEY }}',
    },
  ],
  [
    'AWS with a session token',
    {
      region: 'eu-west-3',
      forcePathStyle: false,
      credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI', sessionToken: 'FwoGZXIvYXdzEJr' },
    },
    {
      's3-region': 'eu-west-3',
      's3-access-key-id': '${{ secrets.S3_ACCESS_KEY_ID }}',
      's3-secret-access-key': '${{ secrets.S3_SECRET_ACCESS_KEY }}',
      's3-session-token': '${{ secrets.S3_SESSION_TOKEN }}',
    },
  ],
  [
    'credentials from the environment (OIDC)',
    { region: 'us-east-1', forcePathStyle: false },
    { 's3-region': 'us-east-1' },
  ],
] as const)('bucket: %s', (_, bucket, expected) => {
  const text = restoreCommand(
    {
      path: 's3://ocpizza-backups/nightly/shop_202612020700_abc1234.dump',
      database: 'shop',
      encrypted: false,
      location: 'bucket',
      format: 'custom',
    },
    actionRef({}, 'db-restore'),
    undefined,
    bucket,
  );
  expect(text).not.toContain('#');
  expect(text).not.toMatch(/AKIAEXAMPLE|wJalrXUtnFEMI|FwoGZXIvYXdzEJr/);
  const steps = parse(text) as { with: Record<string, unknown> }[];
  const keys = Object.keys(steps[0].with);
  expect(keys.filter((key) => !(key in restoreInputs))).toEqual([]);
  expect(steps[0].with).toEqual({
    backup: 's3://ocpizza-backups/nightly/shop_202612020700_abc1234.dump',
    'database-url': '${{ secrets.DATABASE_URL }}',
    confirm: 'shop',
    ...expected,
  });
});
