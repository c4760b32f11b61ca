// .ci/provision.sh and the demo's use of it, with apt-get and dpkg-query as stand-ins on a private PATH (nothing is
// installed) and the dpkg lock files in a scratch root, held by a real process through a real fcntl lock.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';

const ROOT = new URL('../../..', import.meta.url).pathname;
const SCRIPT = join(ROOT, '.ci', 'provision.sh');

// dpkg-query says `wrk` is missing; apt-get records its arguments and answers as apt does.
const FAKES: Record<string, string> = {
  'dpkg-query': `[ "\${@: -1}" = wrk ] && exit 1; printf 'install ok installed'`,
  'apt-get': `printf '%s\\n' "$*" >> "$FAKE_CALLS"
if [ -n "\${FAKE_APT_FAIL:-}" ]; then echo "E: Unable to locate package wrk"; exit 100; fi
case "$*" in *install*) echo "Unpacking wrk (4.2.0-1) ..."; echo "Setting up wrk (4.2.0-1) ...";; esac`,
};

let dir: string;
let env: Record<string, string>;
let calls: string;
const lockFile = () => join(dir, 'root', 'var', 'lib', 'dpkg', 'lock-frontend');

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rb-provision-'));
  const bin = join(dir, 'bin');
  for (const sub of ['var/lib/dpkg', 'var/lib/apt/lists', 'usr/sbin'])
    mkdirSync(join(dir, 'root', sub), { recursive: true });
  mkdirSync(bin);
  for (const [name, body] of Object.entries(FAKES)) {
    writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  writeFileSync(lockFile(), '');
  calls = join(dir, 'calls');
  env = {
    ...(process.env as Record<string, string>),
    PATH: `${bin}:${process.env.PATH}`,
    TMPDIR: dir,
    RUNBOOK_PROVISION_ROOT: join(dir, 'root'),
    FAKE_CALLS: calls,
  };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A process holding an exclusive fcntl lock on the file, as apt-get or dpkg does, until it is killed. */
async function holdLock(file: string): Promise<ChildProcessWithoutNullStreams> {
  const holder = spawn('/usr/bin/python3', [
    '-c',
    "import fcntl, sys; f = open(sys.argv[1], 'w'); fcntl.lockf(f, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.read()",
    file,
  ]);
  await once(holder.stdout, 'data');
  return holder;
}

function provision(extra: Record<string, string> = {}) {
  const child = spawn('bash', [SCRIPT], { env: { ...env, ...extra } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = once(child, 'close').then(([code]) => code as number);
  return { child, exited, out: () => stdout, err: () => stderr };
}

test('waits for the process holding the dpkg lock, says who it is, then installs and shows each package', async () => {
  const holder = await holdLock(lockFile());
  const run = provision({ RUNBOOK_APT_LOCK_WAIT: '3600' });
  try {
    // Event-driven: the message comes while the lock is held, and nothing has been installed yet.
    await new Promise<void>((resolve, reject) => {
      const check = () => (/waiting for/.test(run.out()) ? resolve() : undefined);
      run.child.stdout.on('data', check);
      run.exited.then(() => reject(new Error(`provision ended without waiting: ${run.out()}${run.err()}`)));
      check();
    });
    expect(run.out()).toContain(`waiting for python3 (pid ${holder.pid}) to release ${lockFile()}`);
    expect(existsSync(calls)).toBe(false);
  } finally {
    holder.kill();
  }
  expect(await run.exited).toBe(0);
  expect(readFileSync(calls, 'utf8')).toMatch(/-o DPkg::Lock::Timeout=3600 install -y --no-install-recommends wrk/);
  expect(run.out()).toContain('provision:   set up wrk 4.2.0-1');
  expect(run.out()).toMatch(/provision: done\n$/);
  // The policy that keeps packages from starting their services is removed again.
  expect(existsSync(join(dir, 'root', 'usr', 'sbin', 'policy-rc.d'))).toBe(false);
});

test('a lock held past the wait ends in one line naming the holder and what to run', async () => {
  const holder = await holdLock(lockFile());
  try {
    const run = provision({ RUNBOOK_APT_LOCK_WAIT: '0' });
    expect(await run.exited).toBe(1);
    expect(run.err()).toBe(
      `provision: gave up after 0 s: python3 (pid ${holder.pid}) still holds ${lockFile()}; run 'sudo npm run provision' once it has finished\n`,
    );
    expect(existsSync(calls)).toBe(false);
  } finally {
    holder.kill();
  }
});

test('an apt-get failure is one line with apt’s reason, where the full output is, and what to run', async () => {
  const run = provision({ FAKE_APT_FAIL: '1' });
  expect(await run.exited).toBe(1);
  expect(run.err()).toBe(
    `provision: apt-get update failed (E: Unable to locate package wrk); the full output is in ${join(dir, 'runbook-provision.log')}. Fix that, then run 'sudo npm run provision'\n`,
  );
});

test('the demo stops on a provisioning failure with that one line, not a stack trace', () => {
  const demo = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'test', 'demo', 'run.ts')], {
    env: { ...env, FAKE_APT_FAIL: '1' },
    encoding: 'utf8',
  });
  expect(demo.status).toBe(1);
  expect(demo.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^provision: apt-get update failed \(E: /)]);
  expect(demo.stdout).not.toMatch(/Starting a private server/);
}, 60_000);
