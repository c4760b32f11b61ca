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
