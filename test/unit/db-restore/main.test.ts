import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { restoreMain, run } from '../../../actions/db-restore/main.js';
import { checkFormatFitsEngine, formatFromName } from '../../../actions/db-restore/restore.js';
import { capturingStdout, makeFakeTools, recordedIO, type FakeTools } from '../db-backup/fake-tools.js';
import { encryptAsDocumented } from '../../support/openssl.js';

let tools: FakeTools;
let dir: string;
beforeEach(() => {
  tools = makeFakeTools([15]);
  dir = join(tools.dir, 'backups');
  mkdirSync(dir);
  writeFileSync(join(dir, 'shop_202611010300_aaaaaaa.dump'), 'PGDMP old');
  writeFileSync(join(dir, 'shop_202611260300_bbbbbbb.dump'), 'PGDMP newest');
  writeFileSync(join(dir, 'shop_202611200300_ccccccc.sql'), '-- plain\n-- PostgreSQL database dump complete\n');
  writeFileSync(join(dir, 'zzz.dump'), 'PGDMP not a backup name');
});
afterEach(() => tools.cleanup());

const url = 'postgres://app:pw@db/shop';
const calls = () => readFileSync(tools.log, 'utf8');

describe('db-restore run (fake tools, real processes)', () => {
  test('latest custom archive: safety backup first, then pg_restore --clean --if-exists in one transaction', async () => {
    const io = recordedIO(
      {
        backup: 'latest',
        directory: dir,
        'database-url': url,
        confirm: 'shop',
        'postgres-client-root': tools.clientRoot,
      },
      tools.runner,
    );
    await restoreMain(io);
    expect(io.outputs['restored-from']).toBe(join(dir, 'shop_202611260300_bbbbbbb.dump'));
    expect(io.outputs['safety-backup-path']).toBe(join(dir, 'shop-before-restore_202611271405_nosha.dump'));
    expect(io.outputs.format).toBe('custom');
    const log = calls();
    const dumpAt = log.indexOf('pg_dump --no-password');
    const restoreAt = log.indexOf(
      'pg_restore --clean --if-exists --single-transaction --exit-on-error --no-owner --no-acl --dbname=shop',
    );
    expect(dumpAt).toBeGreaterThan(-1);
    expect(restoreAt).toBeGreaterThan(dumpAt);
    expect(io.summaries[0]).toContain('shop-before-restore_202611271405_nosha.dump');
    expect(io.summaries[0]).toContain('shop_202611260300_bbbbbbb.dump');
  });

  test('plain SQL through psql with ON_ERROR_STOP in one transaction; a failure says the database is unchanged', async () => {
    const io = recordedIO(
      {
        backup: join(dir, 'shop_202611200300_ccccccc.sql'),
        'database-url': url,
        confirm: 'shop',
        'skip-safety-backup': 'true',
        'postgres-client-root': tools.clientRoot,
      },
      tools.runner,
    );
    await restoreMain(io);
    expect(calls()).toContain('psql -X -q -v ON_ERROR_STOP=1 --single-transaction --dbname=shop -o /dev/null');
    expect(io.outputs['safety-backup-path']).toBe('');
    expect(io.summaries[0]).toContain('skipped (skip-safety-backup: true)');

    const failing = makeFakeTools([15], { FAKE_RESTORE_FAIL: '1' });
    try {
      const io2 = recordedIO(
        {
          backup: join(dir, 'shop_202611200300_ccccccc.sql'),
          'database-url': url,
          confirm: 'shop',
          'skip-safety-backup': 'true',
          'postgres-client-root': failing.clientRoot,
        },
        failing.runner,
      );
      await expect(restoreMain(io2)).rejects.toThrow(
        /The restore failed and was stopped: psql exited with code 3: .*It ran in one transaction, so the database is unchanged/,
      );
    } finally {
      failing.cleanup();
    }
  });

  test('an encrypted backup is decrypted next to itself and the decrypted copy removed afterwards', async () => {
    const passphrase = 'twelve chars or more';
    const enc = join(dir, 'shop_202611270000_ddddddd.dump.enc');
    encryptAsDocumented('PGDMP encrypted', enc, passphrase);
    const io = recordedIO(
      {
        backup: enc,
        'database-url': url,
        confirm: 'shop',
        'encryption-passphrase': passphrase,
        'skip-safety-backup': 'true',
        'postgres-client-root': tools.clientRoot,
      },
      tools.runner,
    );
    await restoreMain(io);
    expect(io.secrets).toContain(passphrase);
    expect(readdirSync(dir).filter((f) => f.includes('partial'))).toEqual([]);

    const wrong = recordedIO(
      {
        backup: enc,
        'database-url': url,
        confirm: 'shop',
        'encryption-passphrase': 'not the right one',
        'skip-safety-backup': 'true',
        'postgres-client-root': tools.clientRoot,
      },
      tools.runner,
    );
    await expect(restoreMain(wrong)).rejects.toThrow(
      /Decrypting 'shop_202611270000_ddddddd.dump.enc' failed \(wrong passphrase\?\)/,
    );
    const none = recordedIO(
      { backup: enc, 'database-url': url, confirm: 'shop', 'postgres-client-root': tools.clientRoot },
      tools.runner,
    );
    await expect(restoreMain(none)).rejects.toThrow(/Input 'encryption-passphrase' is required/);
    expect(readdirSync(dir).filter((f) => f.includes('partial'))).toEqual([]);
    // Three key derivations of 600000 rounds each.
  }, 30_000);

  test('MariaDB restores with the client (stops at the first error); Django flushes then loads', async () => {
    const sql = join(dir, 'shop_202611270000_eeeeeee.sql');
    writeFileSync(sql, '-- Dump completed\n');
    const io = recordedIO(
      { backup: sql, 'database-url': 'mysql://app:pw@127.0.0.1/shop', confirm: 'shop', 'skip-safety-backup': 'true' },
      tools.runner,
    );
    await restoreMain(io);
    expect(calls()).toMatch(
      /mariadb --host=127\.0\.0\.1 --port=3306 --user=app --connect-timeout=15 --default-character-set=utf8mb4 --database=shop/,
    );

    const json = join(dir, 'django_202611270000_fffffff.json');
    writeFileSync(json, '[]');
    const dj = recordedIO(
      {
        backup: json,
        engine: 'django',
        'django-manage-command': `sh ${tools.dir}/bin/manage`,
        confirm: 'shop',
        directory: dir,
        'working-directory': tools.dir,
      },
      tools.runner,
    );
    await restoreMain(dj);
    const log = calls();
    expect(log.indexOf('manage dumpdata')).toBeLessThan(log.indexOf('manage flush --no-input'));
    expect(log.indexOf('manage flush --no-input')).toBeLessThan(log.indexOf('manage loaddata --format=json -'));
    expect(dj.outputs['safety-backup-path']).toMatch(/shop-before-restore_202611271405_nosha\.json$/);
  });

  test('over SSH, a file on the runner is streamed to the server and restored there', async () => {
    const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----';
    const io = recordedIO(
      {
        backup: 'latest',
        directory: dir,
        'database-url': url,
        confirm: 'shop',
        'skip-safety-backup': 'true',
        'postgres-client-root': tools.clientRoot,
        'ssh-host': 'h',
        'ssh-user': 'u',
        'ssh-private-key': key,
        'ssh-accept-new-host-key': 'true',
      },
      tools.runner,
    );
    await restoreMain(io);
    expect(calls()).toMatch(/StrictHostKeyChecking=accept-new/);
    expect(io.messages.join('\n')).toContain('accept-new (trusted on first use, as asked)');

    const kept = recordedIO(
      {
        backup: join(dir, 'shop_202611200300_ccccccc.sql'),
        storage: 'server',
        'database-url': url,
        confirm: 'shop',
        'safety-directory': join(tools.dir, 'safety'),
        'postgres-client-root': tools.clientRoot,
        'ssh-host': 'h',
        'ssh-user': 'u',
        'ssh-private-key': key,
        'ssh-accept-new-host-key': 'true',
      },
      tools.runner,
    );
    await restoreMain(kept);
    expect(kept.outputs['safety-backup-path']).toMatch(/safety\/shop-before-restore_202611271405_nosha\.dump$/);
    // About forty short processes through the fake ssh: slow on a busy machine.
  }, 30_000);

  test('refusals: wrong confirmation (nothing runs), missing file, empty directory, wrong format, not an archive', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [
        { backup: 'latest', directory: dir, 'database-url': url, confirm: 'Shop' },
        /Input 'confirm' must be exactly the name of the database being overwritten, 'shop'; got 'Shop'. Nothing was restored./,
      ],
      [
        { backup: join(dir, 'missing.dump'), 'database-url': url, confirm: 'shop' },
        /Input 'backup': '.*missing\.dump' does not exist on the runner/,
      ],
      [
        { backup: 'latest', directory: tools.dir, 'database-url': url, confirm: 'shop' },
        /holds no backup named <prefix>_<YYYYMMDDHHMM>_<sha>\.<ext>/,
      ],
      [
        { backup: 'latest', directory: dir, prefix: 'blog', 'database-url': url, confirm: 'shop' },
        /with prefix 'blog'/,
      ],
      [
        {
          backup: 'latest',
          directory: join(dir, 'nope'),
          'database-url': url,
          confirm: 'shop',
          'skip-safety-backup': 'true',
        },
        /Input 'backup' is latest but '.*nope' on the runner holds no backup/,
      ],
      [
        { backup: 'latest', directory: join(dir, 'zzz.dump'), 'database-url': url, confirm: 'shop' },
        /^Input 'directory': cannot list '.*zzz\.dump' on the runner \(ENOTDIR\)\.$/,
      ],
      [
        {
          backup: join(dir, 'shop_202611200300_ccccccc.sql'),
          'database-url': 'mysql://a@b/shop',
          engine: 'postgresql',
          confirm: 'shop',
        },
        /Input 'engine' is postgresql but 'database-url' is a mysql URL/,
      ],
      [
        { backup: join(dir, 'zzz.dump'), 'database-url': 'mysql://a@b/shop', confirm: 'shop' },
        /PostgreSQL custom archive\) backup, which cannot be restored with engine mysql|custom archive backup/,
      ],
    ];
    for (const [inputs, message] of cases) {
      await expect(
        restoreMain(recordedIO({ 'postgres-client-root': tools.clientRoot, ...inputs }, tools.runner)),
      ).rejects.toThrow(message);
    }
    expect(calls()).not.toContain('pg_restore --clean');
    const notArchive = join(dir, 'shop_202611270000_9999999.dump');
    writeFileSync(notArchive, 'hello');
    await expect(
      restoreMain(
        recordedIO(
          { backup: notArchive, 'database-url': url, confirm: 'shop', 'postgres-client-root': tools.clientRoot },
          tools.runner,
        ),
      ),
    ).rejects.toThrow(/is not a pg_dump custom archive/);
    expect(readdirSync(dir).filter((f) => f.includes('before-restore'))).toEqual([]);
  });

  test('a refused backup leaves no safety folder; an unusable default safety folder is blamed on directory', async () => {
    const safety = join(tools.dir, 'safety');
    for (const backup of [join(safety, 'missing.dump'), join(dir, 'zzz.txt'), 'latest']) {
      await expect(
        restoreMain(
          recordedIO(
            {
              backup,
              directory: backup === 'latest' ? safety : dir,
              'safety-directory': backup === 'latest' ? '' : safety,
              'database-url': url,
              confirm: 'shop',
              'postgres-client-root': tools.clientRoot,
            },
            tools.runner,
          ),
        ),
      ).rejects.toThrow(/^Input 'backup'/);
      expect(readdirSync(tools.dir)).not.toContain('safety');
    }
    // A file where the folder should be: the backup is found, the safety backup cannot be written.
    const blocked = join(tools.dir, 'blocked');
    writeFileSync(blocked, '');
    const io = (inputs: Record<string, string>) =>
      recordedIO(
        {
          backup: join(dir, 'shop_202611260300_bbbbbbb.dump'),
          'database-url': url,
          confirm: 'shop',
          'postgres-client-root': tools.clientRoot,
          ...inputs,
        },
        tools.runner,
      );
    await expect(restoreMain(io({ directory: blocked }))).rejects.toThrow(
      /^Input 'directory': cannot write backups to '.*blocked' on the runner/,
    );
    await expect(restoreMain(io({ 'safety-directory': blocked }))).rejects.toThrow(
      /^Input 'safety-directory': cannot write backups to '.*blocked' on the runner/,
    );
    expect(calls()).not.toContain('pg_restore --clean');
  });

  test('run() reports one error', async () => {
    const errors = await capturingStdout(() =>
      run(recordedIO({ backup: 'latest', 'database-url': url, confirm: 'x' }, tools.runner)),
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^::error::Input 'confirm' must be exactly/);
  });

  test('format from the name', () => {
    expect(formatFromName('a.sql.enc', 'mysql')).toBe('mysql');
    expect(formatFromName('a.sql', 'postgresql')).toBe('plain');
    expect(formatFromName('a.json', 'django')).toBe('json');
    expect(() => formatFromName('/x/a.tar', 'django')).toThrow(/cannot tell the format of 'a.tar'/);
    expect(() => checkFormatFitsEngine('json', 'postgresql')).toThrow(/Django dumpdata \(.json\) backup/);
    expect(() => checkFormatFitsEngine('plain', 'mysql')).toThrow(/SQL backup/);
  });
});
