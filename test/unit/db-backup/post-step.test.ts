// The post step of db-backup and db-restore: after a main step killed mid-way, it closes the SSH master and
// removes the key and the partial files the main step had recorded; after a main step that cleaned up, it does
// nothing.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backupMain } from '../../../actions/db-backup/main.js';
import { cleanupPost, POST_STATE_KEY, type PostState } from '../../../actions/db-backup/post-step.js';
import { restoreMain } from '../../../actions/db-restore/main.js';
import { makeFakeTools, recordedIO, type FakeTools, type RecordedIO } from './fake-tools.js';
import { encryptAsDocumented } from '../../support/openssl.js';

let tools: FakeTools;
beforeEach(() => (tools = makeFakeTools([15])));
afterEach(() => tools.cleanup());

const SSH = {
  'ssh-host': 'db.example.com',
  'ssh-user': 'deploy',
  'ssh-private-key':
    '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n-----END OPENSSH PRIVATE KEY-----',
  'ssh-known-hosts': 'db.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA',
};

/** Runs the post step on what the main step saved after `upTo` saves (all of them by default). */
async function post(io: RecordedIO, upTo = io.savedStates.length) {
  const messages: string[] = [];
  const warnings: string[] = [];
  const state = io.savedStates[upTo - 1] ?? '';
  await cleanupPost({
    getState: (name) => (name === POST_STATE_KEY ? state : ''),
    info: (m) => messages.push(m),
    warning: (m) => warnings.push(m),
    runner: tools.runner,
  });
  return { messages, warnings, state: state ? (JSON.parse(state) as PostState) : undefined };
}

const sshCalls = () =>
  readFileSync(tools.log, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('ssh '));

describe.each(['db-backup', 'db-restore'])('%s post step', (action) => {
  async function main(extra: Record<string, string> = {}): Promise<RecordedIO> {
    const dir = join(tools.dir, 'backups');
    mkdirSync(dir, { recursive: true });
    const passphrase = 'a long pass phrase';
    const inputs: Record<string, string> = {
      'database-url': 'postgres://app:pw@db/shop',
      directory: dir,
      'postgres-client-root': tools.clientRoot,
      'encryption-passphrase': passphrase,
      ...SSH,
      ...extra,
    };
    if (action === 'db-restore') {
      encryptAsDocumented('PGDMP archive', join(dir, 'shop_202611260300_bbbbbbb.dump.enc'), passphrase);
      Object.assign(inputs, { backup: 'latest', confirm: 'shop' });
    }
    const io = recordedIO(inputs, tools.runner);
    await (action === 'db-backup' ? backupMain(io) : restoreMain(io));
    return io;
  }

  test('the state it is given follows the main step: SSH key directory, then the partial files as they come and go', async () => {
    const io = await main();
    const states = io.savedStates.map((s) => JSON.parse(s) as PostState);
    const keyDir = states[0].ssh!.directory;
    expect(states[0]).toEqual({
      ssh: { directory: keyDir, host: 'db.example.com', port: 22, user: 'deploy' },
      partials: [],
    });
    // At some point a partial existed on the runner (the dump streamed back, or the decrypted copy)…
    expect(states.some((s) => s.partials.some((p) => p.endsWith('.partial')))).toBe(true);
    // …and at the end none is left, nor the key: the post step then has nothing to do.
    expect(states.at(-1)!.partials).toEqual([]);
    expect(existsSync(keyDir)).toBe(false);
    const before = sshCalls().length;
    expect((await post(io)).messages).toEqual([]);
    expect(sshCalls().length).toBe(before);
  });

  test('killed mid-way: the post step closes the master, removes the key and the partial files', async () => {
    const io = await main();
    // The state as it was while a partial existed: what a killed main step would have left.
    const at = io.savedStates.findIndex((s) => (JSON.parse(s) as PostState).partials.length > 0) + 1;
    const left = JSON.parse(io.savedStates[at - 1]) as PostState;
    mkdirSync(left.ssh!.directory);
    writeFileSync(join(left.ssh!.directory, 'key'), 'private key', { mode: 0o600 });
    for (const partial of left.partials) writeFileSync(partial, 'half a dump', { mode: 0o600 });
    const before = sshCalls().length;
    const result = await post(io, at);
    expect(existsSync(left.ssh!.directory)).toBe(false);
    for (const partial of left.partials) expect(existsSync(partial)).toBe(false);
    const closing = sshCalls().slice(before);
    expect(closing).toHaveLength(1);
    expect(closing[0]).toContain(`-O exit deploy@db.example.com`);
    expect(closing[0]).toContain(`ControlPath=${left.ssh!.directory}/ctl`);
    expect(result.messages).toEqual([
      ...left.partials.map((p) => `Removed ${p}, a partial file the main step left.`),
      'Closed the SSH connection to db.example.com and removed its key (the main step had left them).',
    ]);
    expect(result.warnings).toEqual([]);
  });

  test('a partial file left on the server with the SSH key already gone: a warning naming it, the job stays green', async () => {
    const state: PostState = {
      ssh: { directory: join(tools.dir, 'rb-ssh-gone'), host: 'db.example.com', port: 22, user: 'deploy' },
      partials: [],
      serverPartials: ['backups/shop_202611271405_abcdef1.dump.partial'],
    };
    const warnings: string[] = [];
    await cleanupPost({
      getState: (name) => (name === POST_STATE_KEY ? JSON.stringify(state) : ''),
      info: () => undefined,
      warning: (m) => warnings.push(m),
      runner: tools.runner,
    });
    expect(warnings).toEqual([
      'Could not remove backups/shop_202611271405_abcdef1.dump.partial on deploy@db.example.com, partial files the main step left: its SSH key is gone.',
    ]);
  });
});

test('the master persists a bounded time after its last command (a number of seconds, never yes)', async () => {
  const io = recordedIO(
    {
      'database-url': 'postgres://app:pw@db/shop',
      directory: join(tools.dir, 'b'),
      'postgres-client-root': tools.clientRoot,
      ...SSH,
    },
    tools.runner,
  );
  await backupMain(io);
  const master = sshCalls().find((l) => l.includes('ControlMaster=yes'))!;
  const persist = /ControlPersist=(\S+)/.exec(master)![1];
  expect(persist).toMatch(/^\d+$/);
  expect(Number(persist)).toBeGreaterThan(0);
  expect(Number(persist)).toBeLessThanOrEqual(600);
});

test('an upload id the server sent is printed neutralised: a line break in it starts no workflow command', async () => {
  const { startS3Service } = await import('../../stand-ins/s3-service.js');
  const s3 = await startS3Service();
  try {
    s3.createBucket('backups');
    const state: PostState = {
      partials: [],
      upload: {
        bucket: 'backups',
        key: 'nightly/shop.dump',
        uploadId: 'abc\n::error::injected by the server',
        region: s3.region,
        endpoint: s3.endpoint,
        forcePathStyle: true,
      },
    };
    const lines: string[] = [];
    const inputs: Record<string, string> = {
      's3-access-key-id': s3.accessKeyId,
      's3-secret-access-key': s3.secretAccessKey,
    };
    await cleanupPost({
      getState: (name) => (name === POST_STATE_KEY ? JSON.stringify(state) : ''),
      info: (message) => lines.push(message),
      warning: (message) => lines.push(message),
      runner: () => Promise.reject(new Error('no process is started when there is no SSH leftover')),
      getInput: (name) => inputs[name] ?? '',
      setSecret: () => undefined,
    });
    const printed = lines.join('\n');
    expect(printed).toContain('abc\\n::error::injected');
    expect(printed.split('\n').some((line) => /^\s*::/.test(line))).toBe(false);
  } finally {
    await s3.stop();
  }
});
