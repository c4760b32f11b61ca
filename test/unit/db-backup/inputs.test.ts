import { readBackupInputs } from '../../../actions/db-backup/inputs.js';
import { runnerIO } from '../../../actions/db-backup/action-io.js';
import { backupMain } from '../../../actions/db-backup/main.js';
import { readRestoreInputs } from '../../../actions/db-restore/inputs.js';
import { makeFakeTools, recordedIO } from './fake-tools.js';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const read = (inputs: Record<string, string>, secrets: string[] = []) =>
  readBackupInputs(
    (n) => inputs[n] ?? '',
    (s) => secrets.push(s),
    '/ws',
  );
const key =
  '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n-----END OPENSSH PRIVATE KEY-----';

describe('db-backup inputs', () => {
  test('discrete settings as the seeds keep them, with defaults', () => {
    const secrets: string[] = [];
    const i = read(
      {
        engine: 'postgresql',
        'db-name': 'OCPDB',
        'db-user': 'ocp',
        'db-password': 'pw',
        'db-host': 'localhost',
        'db-port': '5433',
      },
      secrets,
    );
    expect(secrets).toEqual(['pw']);
    expect(i).toMatchObject({
      engine: 'postgresql',
      prefix: 'OCPDB',
      directory: '/ws/backups',
      storage: 'runner',
      keepDays: 14,
      keepCount: 0,
      verify: 'archive',
      format: 'custom',
    });
    expect(i.database).toMatchObject({ database: 'OCPDB', port: 5433, user: 'ocp' });
    expect(read({ engine: 'mysql', 'db-name': 'x', directory: '/abs' }).database?.port).toBe(3306);
    expect(read({ engine: 'mysql', 'db-name': 'x', directory: '/abs' }).directory).toBe('/abs');
  });

  test('SSH settings: the key and its lines are masked; a relative directory stays relative to the server home', () => {
    const secrets: string[] = [];
    const i = read(
      {
        'database-url': 'postgres://a:b@h/d',
        'ssh-host': 'srv',
        'ssh-user': 'deploy',
        'ssh-private-key': key,
        'ssh-port': '2200',
        storage: 'server',
        directory: 'backups',
      },
      secrets,
    );
    expect(secrets).toContain(key);
    expect(secrets).toContain('b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB');
    expect(i.ssh).toMatchObject({ host: 'srv', port: 2200, user: 'deploy', acceptNew: false });
    expect(i.directory).toBe('backups');
  });

  test('each mistake is one clear error naming the input', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ 'db-name': 'x' }, /Input 'engine' must be postgresql or mysql when the database is given by 'db-name'/],
      [{ engine: 'mysql' }, /Input 'database-url' \(or 'db-name' .*\) is required for engine mysql/],
      [{ engine: 'oracle' }, /Input 'engine' must be one of auto, postgresql, mysql, django; got 'oracle'/],
      [{}, /Input 'django-manage-command' is required for engine django/],
      [{ 'database-url': 'postgres://a@h/d', storage: 'server' }, /Input 'storage' is server, which needs 'ssh-host'/],
      [
        { 'database-url': 'postgres://a@h/d', 'encryption-passphrase': 'short' },
        /Input 'encryption-passphrase' must be at least 12 characters/,
      ],
      [
        { engine: 'django', 'django-manage-command': 'python manage.py', verify: 'restore' },
        /Input 'verify' cannot be restore for engine django/,
      ],
      [{ 'database-url': 'postgres://a@h/d', 'keep-days': '-1' }, /Input 'keep-days' must be a number of at least 0/],
      [{ 'database-url': 'postgres://a@h/d', format: 'tar' }, /Input 'format' must be one of custom, plain/],
      [{ 'database-url': 'postgres://a@h/d', 'ssh-host': 'h' }, /Input 'ssh-user' is required/],
      [
        { engine: 'postgresql', 'db-name': 'x', 'db-port': 'five' },
        /Input 'db-port' must be a whole number from 1 to 65535/,
      ],
    ];
    for (const [inputs, message] of cases) expect(() => read(inputs)).toThrow(message);
  });

  test('db-restore inputs: latest, relative paths, safety directory', () => {
    const r = readRestoreInputs(
      (n) =>
        ({ backup: 'latest', confirm: 'd', 'database-url': 'postgres://a@h/d', 'safety-directory': 'safe' })[n] ?? '',
      () => undefined,
      '/ws',
    );
    expect(r).toMatchObject({
      backup: 'latest',
      directory: '/ws/backups',
      safetyDirectory: '/ws/safe',
      skipSafetyBackup: false,
    });
    expect(() =>
      readRestoreInputs(
        (n) => ({ backup: 'x', confirm: 'd', 'database-url': 'postgres://a@h/d', storage: 'server' })[n] ?? '',
        () => undefined,
        '/ws',
      ),
    ).toThrow(/needs 'ssh-host'/);
    expect(() =>
      readRestoreInputs(
        (n) => ({ backup: 'x', 'database-url': 'postgres://a@h/d' })[n] ?? '',
        () => undefined,
        '/ws',
      ),
    ).toThrow(/Input 'confirm' is required/);
  });
});

describe('runner edges', () => {
  test('runnerIO registers and removes its cancellation listeners', () => {
    const io = runnerIO();
    const before = process.listenerCount('SIGINT');
    const off = io.onCancel(() => undefined);
    expect(process.listenerCount('SIGINT')).toBe(before + 1);
    expect(process.listenerCount('SIGTERM')).toBeGreaterThan(0);
    off();
    expect(process.listenerCount('SIGINT')).toBe(before);
    expect(io.now()).toBeInstanceOf(Date);
  });

  test('a cancelled job stops the dump and leaves no partial file', async () => {
    const tools = makeFakeTools([15], { FAKE_SLEEP: '5' });
    try {
      const dir = join(tools.dir, 'out');
      const io = recordedIO(
        {
          'database-url': 'postgres://a:b@h/shop',
          directory: dir,
          format: 'plain',
          'postgres-client-root': tools.clientRoot,
        },
        tools.runner,
      );
      const running = backupMain(io);
      for (let i = 0; i < 200 && !(existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.partial'))); i++)
        await new Promise((r) => setTimeout(r, 20));
      io.cancel!();
      await expect(running).rejects.toThrow('The backup was cancelled; its partial file was removed.');
      expect(readdirSync(dir)).toEqual([]);
      expect(io.warnings[0]).toMatch(/Cancelled/);
    } finally {
      tools.cleanup();
    }
  });
});
