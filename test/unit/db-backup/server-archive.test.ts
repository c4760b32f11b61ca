// The custom archive dumped and kept on a server runs as two scripts (probe, then dump + checks + rename): these
// tests drive it through a "server" that is sh on this machine with `set -eu`, as over SSH, and the fake tools.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { archiveScript, probeScript, takeBackup, type BackupRequest } from '../../../actions/db-backup/backup.js';
import { RemoteFiles, type CommandHost, type RunOptions } from '../../../actions/db-backup/places.js';
import { parseDatabaseUrl } from '../../../actions/shared/database-url.js';
import type { ProcessResult, ProcessRunner } from '../../../actions/shared/process.js';
import { makeFakeTools, type FakeTools } from './fake-tools.js';

class ShellServer implements CommandHost {
  readonly where = 'deploy@db.test';
  readonly remote = true;
  readonly scripts: string[] = [];
  constructor(private readonly runner: ProcessRunner) {}

  run(command: string, args: string[], options?: RunOptions): Promise<ProcessResult> {
    return this.sh(`exec ${[command, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')}`, options);
  }

  sh(script: string, options: RunOptions = {}): Promise<ProcessResult> {
    this.scripts.push(script);
    return this.runner('sh', ['-c', `set -eu\n${script}`], {
      env: { ...options.env, ...options.secretEnv },
      signal: options.signal,
    });
  }
}

let tools: FakeTools;
let dir: string;
beforeEach(() => {
  tools = makeFakeTools([13, 15]);
  dir = join(tools.dir, 'backups');
  execFileSync('mkdir', ['-p', dir]);
});
afterEach(() => tools.cleanup());

const files = () => (existsSync(dir) ? readdirSync(dir).sort() : []);

function request(
  overrides: Partial<BackupRequest> = {},
  url = 'postgres://app:s3cr3t@127.0.0.1:5433/shop',
): BackupRequest {
  return {
    engine: 'postgresql',
    database: parseDatabaseUrl(url, 'database-url', () => undefined),
    postgresFormat: 'custom',
    directory: dir,
    prefix: 'shop',
    sha: 'abcdef1234567890',
    now: new Date(Date.UTC(2026, 10, 27, 14, 5)),
    keepDays: 0,
    keepCount: 0,
    verify: 'archive',
    postgresClientRoot: tools.clientRoot,
    ...overrides,
  };
}

function edges(host: CommandHost, log: string[] = []) {
  return {
    dumpHost: host,
    storeHost: host,
    files: new RemoteFiles(host),
    log: (m: string) => log.push(m),
    warn: () => {},
  };
}

describe('a custom archive kept on the server', () => {
  test('is dumped with the newest client, verified, hashed and renamed in two scripts; the password only in env', async () => {
    const server = new ShellServer(tools.runner);
    const log: string[] = [];
    const result = await takeBackup(request(), edges(server, log));
    expect(server.scripts).toHaveLength(2);
    expect(files()).toEqual(['shop_202611271405_abcdef1.dump']);
    expect(result.path).toBe(join(dir, 'shop_202611271405_abcdef1.dump'));
    expect(result.sha256).toBe(execFileSync('sha256sum', [result.path]).toString().split(' ')[0]);
    expect(result.sizeBytes).toBe(readFileSync(result.path).length);
    expect(result.client).toBe(`pg_dump 15 (${tools.clientRoot}/15/bin)`);
    expect(result.serverVersion).toBe('15.4 (Debian 15.4-1)');
    expect(result.verification).toBe(`${result.sizeBytes} bytes; pg_restore --list read 2 entries`);
    expect(result.location).toBe('server');
    expect(log.join('\n')).toMatch(
      /Dumped in \d+ ms \(checks before the dump: \d+ ms\); verifying\.\nVerified in \d+ ms\./,
    );
    expect(server.scripts.join('\n')).not.toContain('s3cr3t');
    const calls = readFileSync(tools.log, 'utf8');
    expect(calls).toContain(`${tools.clientRoot}/15/bin/pg_dump --no-password --format=custom --file=`);
    expect(calls).toContain(`${tools.clientRoot}/15/bin/pg_restore --list`);
  });

  test('takes the next free name, and applies retention', async () => {
    writeFileSync(join(dir, 'shop_202611271405_abcdef1.dump'), 'PGDMP older');
    writeFileSync(join(dir, 'shop_202601010000_0000000.dump'), 'PGDMP oldest');
    const result = await takeBackup(request({ keepCount: 2 }), edges(new ShellServer(tools.runner)));
    expect(result.file).toBe('shop_202611271405_abcdef1-2.dump');
    expect(result.deleted).toEqual(['shop_202601010000_0000000.dump']);
    expect(files()).toEqual(['shop_202611271405_abcdef1-2.dump', 'shop_202611271405_abcdef1.dump']);
  });

  test('a failing dump says why and leaves no file', async () => {
    const failing = makeFakeTools([15], { FAKE_DUMP_FAIL: '1' });
    try {
      const run = takeBackup(
        request({ postgresClientRoot: failing.clientRoot }),
        edges(new ShellServer(failing.runner)),
      );
      await expect(run).rejects.toThrow(
        'The dump failed: pg_dump exited with code 1: pg_dump: error: query failed: out of disk',
      );
      expect(files()).toEqual([]);
    } finally {
      failing.cleanup();
    }
  });

  test('a wrong password stops at the version check, naming the database and not the password', async () => {
    const run = takeBackup(
      request({}, 'postgres://app:wrong@127.0.0.1:5433/shop'),
      edges(new ShellServer(tools.runner)),
    );
    await expect(run).rejects.toThrow(
      /^Cannot connect to postgresql:\/\/app:\*\*\*@127\.0\.0\.1:5433\/shop: .*password authentication failed/,
    );
    expect(files()).toEqual([]);
  });

  test('a server newer than every client stops before dumping', async () => {
    const newer = makeFakeTools([15], { FAKE_SERVER_VERSION: '16.1' });
    try {
      const run = takeBackup(request({ postgresClientRoot: newer.clientRoot }), edges(new ShellServer(newer.runner)));
      await expect(run).rejects.toThrow(/server is version 16 but the newest client on deploy@db\.test is 15/);
      expect(readFileSync(newer.log, 'utf8')).not.toContain('pg_dump --no-password');
    } finally {
      newer.cleanup();
    }
  });

  test.each([
    ['printf garbage', 'the file is not a pg_dump custom archive'],
    [':', 'the dump is empty (0 bytes)'],
  ])('a dump that fails verification (%s) is not kept', async (body, reason) => {
    const pgDump = join(tools.clientRoot, '15', 'bin', 'pg_dump');
    writeFileSync(
      pgDump,
      `#!/bin/sh\nfor a in "$@"; do case "$a" in --file=*) out="\${a#--file=}";; esac; done\n${body} > "$out"\n`,
      {
        mode: 0o755,
      },
    );
    const run = takeBackup(request(), edges(new ShellServer(tools.runner)));
    await expect(run).rejects.toThrow(`The backup failed verification: ${reason}; no backup was kept.`);
    expect(files()).toEqual([]);
  });

  test('pg_restore --list failing on the archive rejects it with its own error', async () => {
    const pgRestore = join(tools.clientRoot, '15', 'bin', 'pg_restore');
    writeFileSync(
      pgRestore,
      '#!/bin/sh\necho "pg_restore: error: could not read from input file: end of file" >&2\nexit 1\n',
      {
        mode: 0o755,
      },
    );
    const run = takeBackup(request(), edges(new ShellServer(tools.runner)));
    await expect(run).rejects.toThrow(
      'The backup failed verification: pg_restore --list cannot read the archive: pg_restore: error: could not read from input file: end of file; no backup was kept.',
    );
    expect(files()).toEqual([]);
  });

  test('a connection that fails says where, before and during the dump', async () => {
    const broken = (fail: number): CommandHost => {
      const real = new ShellServer(tools.runner);
      let calls = 0;
      return {
        where: real.where,
        remote: true,
        run: (c, a, o) => real.run(c, a, o),
        sh: async (script, options) => {
          calls += 1;
          if (calls < fail) return real.sh(script, options);
          return {
            code: 255,
            signal: null,
            stdout: '',
            stderrTail: 'ssh: connect to host db.test port 22: Connection refused',
            bytes: 0,
          };
        },
      };
    };
    await expect(takeBackup(request(), edges(broken(1)))).rejects.toThrow(
      'Preparing the backup on deploy@db.test failed: the remote script exited with code 255: ssh: connect to host db.test port 22: Connection refused',
    );
    await expect(takeBackup(request(), edges(broken(2)))).rejects.toThrow(
      'The backup on deploy@db.test failed: the backup script exited with code 255: ssh: connect to host db.test port 22: Connection refused',
    );
    expect(files()).toEqual([]);
  });

  test('the scripts quote every path', () => {
    expect(probeScript("/opt/pg's", '/srv/back ups')).toContain(`'/opt/pg'\\''s'/*/bin/pg_dump`);
    expect(archiveScript('pg_dump', '/x/pg_restore', '/b/a b.partial', '/b/a b')).toContain(
      `mv -f '/b/a b.partial' '/b/a b'`,
    );
  });
});
