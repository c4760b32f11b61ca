import { createHash } from 'node:crypto';
import {
  fingerprintOf,
  keysMatchingFingerprint,
  shellQuote,
  SshConnection,
  type SshSettings,
} from '../../../actions/shared/ssh.js';
import { describeExit, lastErrorLine, runProcess, sha256File } from '../../../actions/shared/process.js';
import { makeFakeTools } from '../db-backup/fake-tools.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';

const key = Buffer.from('ssh-ed25519 test key blob').toString('base64');
const fingerprint =
  'SHA256:' + createHash('sha256').update(Buffer.from(key, 'base64')).digest('base64').replace(/=+$/, '');
const settings = (extra: Partial<SshSettings> = {}): SshSettings => ({
  host: 'db.example.com',
  port: 2222,
  user: 'deploy',
  privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----',
  knownHosts: '[db.example.com]:2222 ssh-ed25519 ' + key,
  ...extra,
});

describe('host keys', () => {
  test('fingerprints as OpenSSH prints them; only matching keyscan lines become known_hosts', () => {
    expect(fingerprintOf(key)).toBe(fingerprint);
    const scan = `# comment\n[db.example.com]:2222 ssh-rsa ${Buffer.from('other').toString('base64')}\n[db.example.com]:2222 ssh-ed25519 ${key}\n\nbroken-line\n`;
    expect(keysMatchingFingerprint(scan, fingerprint)).toEqual([`[db.example.com]:2222 ssh-ed25519 ${key}`]);
    expect(keysMatchingFingerprint(scan, fingerprint + '=')).toHaveLength(1);
    expect(keysMatchingFingerprint(scan, 'SHA256:' + 'A'.repeat(43))).toEqual([]);
  });

  test('a pinned fingerprint is checked against what the server offers before connecting', async () => {
    const tools = makeFakeTools([], { FAKE_KEYSCAN: `[db.example.com]:2222 ssh-ed25519 ${key}` });
    try {
      const ok = await SshConnection.open(
        settings({ knownHosts: undefined, hostFingerprint: fingerprint }),
        tools.runner,
      );
      expect(ok.hostKeyPolicy).toBe(`pinned fingerprint ${fingerprint}`);
      expect(await ok.check('echo "$0" hello; printf "%s" "$SECRET_ONE"', 'echo', { SECRET_ONE: 'from stdin' })).toBe(
        'sh hello\nfrom stdin',
      );
      await expect(ok.check('false', 'a failing step')).rejects.toThrow(
        /a failing step on db.example.com failed: the remote command exited with code 1/,
      );
      // Names as a shell or dotenv accepts them, lower-case included; only what a shell cannot export is refused.
      expect(await ok.check('printf "%s" "$sentry_env"', 'echo', { sentry_env: 'production' })).toBe('production');
      await expect(ok.exec({ script: 'true', secrets: { 'not-a-name': 'x' } })).rejects.toThrow(
        /invalid secret variable name/,
      );
      await expect(ok.exec({ script: 'true', secrets: { A: 'two\nlines' } })).rejects.toThrow(
        /cannot contain a new line/,
      );
      const streamed = await ok.exec({
        script: 'cat',
        secrets: { A: 'x' },
        stdin: Readable.from([Buffer.from('streamed '), Buffer.from('input')]),
      });
      expect(streamed.stdout).toBe('streamed input');
      const sink = new PassThrough();
      const received: Buffer[] = [];
      sink.on('data', (c: Buffer) => received.push(c));
      await ok.exec({ script: 'printf streamed-out', stdoutStream: sink });
      expect(Buffer.concat(received).toString()).toBe('streamed-out');
      const bytes = await ok.exec({ script: 'cat', stdin: Buffer.from('raw') });
      expect(bytes.stdout).toBe('raw');
      const mixed = await ok.exec({ script: 'cat', secrets: { A: 'x' }, stdin: 'text' });
      expect(mixed.stdout).toBe('text');
      await ok.close();
      await ok.close();
      const wrong = 'SHA256:' + 'B'.repeat(43);
      await expect(
        SshConnection.open(settings({ knownHosts: undefined, hostFingerprint: wrong }), tools.runner),
      ).rejects.toThrow(
        `The host key of db.example.com:2222 does not match the pinned fingerprint ${wrong} (the server offers ${fingerprint}); refusing to connect.`,
      );
    } finally {
      tools.cleanup();
    }
    const silent = makeFakeTools([]);
    try {
      await expect(
        SshConnection.open(settings({ knownHosts: undefined, hostFingerprint: fingerprint }), silent.runner),
      ).rejects.toThrow(/no host key could be read/);
    } finally {
      silent.cleanup();
    }
  });

  test('connection failures are explained', async () => {
    const cases: [string, RegExp][] = [
      ['Host key verification failed.', /host key is not the one in ssh-known-hosts/],
      ['deploy@db.example.com: Permission denied (publickey).', /refused the key from 'ssh-private-key'/],
      [
        'ssh: connect to host db.example.com port 2222: Connection refused',
        /Cannot reach deploy@db.example.com:2222 over SSH: ssh: connect to host/,
      ],
      [
        'kex_exchange_identification: read: Connection reset by peer',
        /SSH to deploy@db.example.com:2222 failed: ssh exited with code 255: kex_exchange/,
      ],
    ];
    for (const [stderr, message] of cases) {
      const tools = makeFakeTools([], { FAKE_SSH_FAIL: stderr });
      try {
        await expect(SshConnection.open(settings(), tools.runner)).rejects.toThrow(message);
      } finally {
        tools.cleanup();
      }
    }
  });

  test('settings are checked before anything is written or run', async () => {
    const cases: [Partial<SshSettings>, RegExp][] = [
      [{ host: '' }, /Input 'ssh-host' is required/],
      [{ host: '-oProxyCommand=x' }, /Input 'ssh-host' must be a host name or IP address/],
      [{ user: 'a b' }, /Input 'ssh-user' must be a user name/],
      [{ privateKey: 'hunter2' }, /Input 'ssh-private-key' must be an OpenSSH or PEM private key/],
      [{ knownHosts: undefined }, /SSH host keys are verified: set 'ssh-known-hosts'/],
      [{ knownHosts: undefined, hostFingerprint: 'MD5:aa' }, /Input 'ssh-host-fingerprint' must look like SHA256:/],
    ];
    for (const [extra, message] of cases) {
      await expect(
        SshConnection.open(settings(extra), async () => {
          throw new Error('must not run');
        }),
      ).rejects.toThrow(message);
    }
  });

  test('shell quoting survives quotes', async () => {
    const word = `it's "quoted" $HOME \\ ;`;
    expect((await runProcess('sh', ['-c', `printf %s ${shellQuote(word)}`])).stdout).toBe(word);
  });
});

describe('process runner', () => {
  test('streams stdout to a 0600 file with its sha256, feeds stdin from a stream, keeps the stderr tail', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-proc-'));
    const file = join(dir, 'out');
    const input = new PassThrough();
    input.end('x'.repeat(100_000));
    const result = await runProcess('sh', ['-c', 'cat; echo oops >&2; echo last words >&2; exit 3'], {
      stdin: input,
      stdoutFile: file,
      sha256: true,
      stderrTailBytes: 11,
    });
    expect(result.code).toBe(3);
    expect(result.bytes).toBe(100_000);
    expect(result.sha256).toBe(await sha256File(file));
    expect(result.stderrTail).toBe('last words\n');
    expect(describeExit('tool', result)).toBe('tool exited with code 3: last words');
    expect(describeExit('tool', { code: null, signal: 'SIGKILL', stderrTail: '' })).toBe('tool was killed by SIGKILL');
    expect(lastErrorLine('\n\n')).toBe('');
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on('data', (c: Buffer) => chunks.push(c));
    await runProcess('printf', ['abc'], { stdoutStream: sink });
    expect(Buffer.concat(chunks).toString()).toBe('abc');
    writeFileSync(join(dir, 'x'), '');
    await expect(runProcess(join(dir, 'no-such-tool'), [])).rejects.toThrow(
      /Cannot run .*no-such-tool: not installed or not on PATH/,
    );
  });
});

describe('child environment', () => {
  test("the step's INPUT_* variables (raw inputs, secrets included) are not passed to the tools", async () => {
    process.env['INPUT_DATABASE-URL'] = 'postgres://u:secret@h/d';
    try {
      const result = await runProcess('sh', ['-c', 'env'], { env: { EXTRA: '1' } });
      expect(result.stdout).not.toContain('INPUT_DATABASE-URL');
      expect(result.stdout).toContain('EXTRA=1');
    } finally {
      delete process.env['INPUT_DATABASE-URL'];
    }
  });
});
