// Every file db-backup and db-restore write on the runner is the owner's only (0600), in a folder made 0700, under
// the usual umask 022: partials while the tools run (seen by the tools themselves), and what is left at the end.
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { backupMain } from '../../../actions/db-backup/main.js';
import { restoreMain } from '../../../actions/db-restore/main.js';
import { makeFakeTools, recordedIO, type FakeTools } from './fake-tools.js';
import { encryptAsDocumented } from '../../support/openssl.js';

// openssl's 600000 PBKDF2 rounds take a second or more each on a busy machine.

let tools: FakeTools;
let umask: number;
beforeEach(() => {
  umask = process.umask(0o022);
});
afterEach(() => {
  process.umask(umask);
  tools?.cleanup();
});

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);
/** Modes the fake tools saw while they ran, then the modes of what is left. */
function modesOf(dir: string): { during: string[]; after: string[]; dir: string } {
  const during = readFileSync(tools.log, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('mode '));
  return { during, after: readdirSync(dir).map((f) => `${mode(join(dir, f))} ${f}`), dir: mode(dir) };
}

const CASES: [string, Record<string, string>][] = [
  ['postgres custom', { 'database-url': 'postgres://app:pw@db/shop' }],
  ['postgres plain', { 'database-url': 'postgres://app:pw@db/shop', format: 'plain' }],
  [
    'postgres plain encrypted',
    { 'database-url': 'postgres://app:pw@db/shop', format: 'plain', 'encryption-passphrase': 'a long pass phrase' },
  ],
  ['mariadb', { 'database-url': 'mysql://app:pw@127.0.0.1/shop' }],
  [
    'mariadb encrypted',
    { 'database-url': 'mysql://app:pw@127.0.0.1/shop', 'encryption-passphrase': 'a long pass phrase' },
  ],
  ['django', { engine: 'django' }],
];

describe('file modes on the runner', () => {
  test.each(CASES)('db-backup %s: 0600 files in a 0700 folder, partials included', async (_name, inputs) => {
    tools = makeFakeTools([15]);
    const dir = join(tools.dir, 'made', 'backups');
    const fake = tools.runner;
    tools = { ...tools, runner: (c, a, o = {}) => fake(c, a, { ...o, env: { ...o.env, FAKE_WATCH: dir } }) };
    const io = recordedIO(
      {
        ...inputs,
        directory: dir,
        'postgres-client-root': tools.clientRoot,
        'django-manage-command': `sh ${tools.dir}/bin/manage`,
        'working-directory': tools.dir,
      },
      tools.runner,
    );
    await backupMain(io);
    const modes = modesOf(dir);
    expect(modes.dir).toBe('700');
    expect(modes.during.length).toBeGreaterThan(0);
    expect(modes.during.filter((l) => !l.startsWith('mode 600 '))).toEqual([]);
    expect(modes.after.length).toBe(1);
    expect(modes.after.filter((l) => !l.startsWith('600 '))).toEqual([]);
  });

  test('db-restore: the decrypted partial is 0600, and the safety backup is encrypted like the backup', async () => {
    tools = makeFakeTools([15]);
    const dir = join(tools.dir, 'backups');
    mkdirSync(dir, { mode: 0o700 });
    encryptAsDocumented(
      '-- dump\n-- PostgreSQL database dump complete\n',
      join(dir, 'shop_202611260300_bbbbbbb.sql.enc'),
      'a long pass phrase',
    );
    const watched = tools.runner;
    tools = { ...tools, runner: (c, a, o = {}) => watched(c, a, { ...o, env: { ...o.env, FAKE_WATCH: dir } }) };
    const io = recordedIO(
      {
        backup: 'latest',
        directory: dir,
        'database-url': 'postgres://app:pw@db/shop',
        confirm: 'shop',
        'encryption-passphrase': 'a long pass phrase',
        'postgres-client-root': tools.clientRoot,
      },
      tools.runner,
    );
    await restoreMain(io);
    const modes = modesOf(dir);
    expect(modes.during.some((l) => l.endsWith('.decrypted.partial'))).toBe(true);
    // The backup itself was put there by the test, not by the action.
    const written = modes.during.filter((l) => !l.endsWith('/shop_202611260300_bbbbbbb.sql.enc'));
    expect(written.filter((l) => !l.startsWith('mode 600 '))).toEqual([]);
    expect(io.outputs['safety-backup-path']).toMatch(/shop-before-restore_202611271405_nosha\.dump\.enc$/);
    expect(readFileSync(io.outputs['safety-backup-path']).subarray(0, 8).toString('latin1')).toBe('Salted__');
    expect(mode(io.outputs['safety-backup-path'])).toBe('600');
  });
});
