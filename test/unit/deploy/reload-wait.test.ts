import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { deployMain } from '../../../actions/deploy/main.js';
import { layoutOf, parseReloadLeft, reloadScript } from '../../../actions/deploy/server/scripts.js';
import { localInputs, makeWorld, worldIO } from './world.js';

/**
 * The HUP reload's wait for gunicorn's old workers, run in bash against a fake process tree: a master (bash) with
 * two childless workers (`sleep`), which on HUP starts two new ones and says so; a fake supervisorctl that reports
 * it RUNNING, gives its PID and signals it. The old workers exit only when the test kills them: the test drives
 * every step by events (the master's lines, the script's exit), never by how long something took.
 */
const MASTER = `
sleep 1000 & a=$!
sleep 1000 & b=$!
trap 'sleep 1000 & c=$!; sleep 1000 & d=$!; echo "hup $c $d"' HUP
trap 'kill $a $b \${c:-} \${d:-} 2>/dev/null; exit 0' TERM
echo "workers $a $b"
while :; do wait; done
`;

const SUPERVISORCTL = `#!/bin/bash
m=$(cat "$FAKE_DIR/master.pid")
case "$1" in
  status) echo "web RUNNING pid $m, uptime 0:00:10" ;;
  pid) echo "$m" ;;
  signal) kill -"$2" "$m" ;;
  *) echo "unexpected: supervisorctl $*" >&2; exit 2 ;;
esac
`;

interface Master {
  process: ChildProcess;
  /** The old workers, then the next line the master prints (after a HUP: `hup <new> <new>`). */
  workers: number[];
  next(): Promise<string>;
}

let dir: string;
let master: Master | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'reload-wait-'));
  writeFileSync(join(dir, 'master.sh'), MASTER);
  writeFileSync(join(dir, 'supervisorctl'), SUPERVISORCTL);
  chmodSync(join(dir, 'supervisorctl'), 0o755);
});

afterEach(async () => {
  if (master && master.process.exitCode === null) {
    const exited = new Promise((resolve) => master!.process.once('exit', resolve));
    master.process.kill('SIGTERM');
    await exited;
  }
  master = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function startMaster(args: string[]): Promise<Master> {
  const child = spawn('bash', [join(dir, 'master.sh'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const line = await lines.next();
    if (line.done) throw new Error('the fake master ended');
    return line.value;
  };
  const first = await next();
  writeFileSync(join(dir, 'master.pid'), `${child.pid}\n`);
  master = { process: child, workers: first.split(' ').slice(1).map(Number), next };
  return master;
}

const env = () => ({ ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}`, FAKE_DIR: dir });
const settings = { reload: 'hup', supervisorProgram: 'web' } as const;

function runScript(script: string): { exit: Promise<{ code: number | null; stdout: string }>; exited: () => boolean } {
  const child = spawn('bash', ['-c', `set -eu\n${script}`], { env: env(), stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  let done = false;
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  const exit = new Promise<{ code: number | null; stdout: string }>((resolve) =>
    child.on('close', (code) => {
      done = true;
      resolve({ code, stdout });
    }),
  );
  return { exit, exited: () => done };
}

test('the reload ends once the old workers have exited, and not before; nothing to warn about', async () => {
  const m = await startMaster([]);
  // A bound no test run reaches: only the workers' exit can end the wait.
  const run = runScript(reloadScript(settings, layoutOf('/srv/app'), 'r1', 3600));
  await m.next(); // the HUP arrived: new workers started, the old ones still run
  expect(run.exited()).toBe(false);
  process.kill(m.workers[0], 'SIGTERM');
  expect(run.exited()).toBe(false);
  process.kill(m.workers[1], 'SIGTERM');
  const { code, stdout } = await run.exit;
  expect(code).toBe(0);
  expect(parseReloadLeft(stdout)).toBeUndefined();
});

test('a worker that never exits: the wait gives up at its bound, extended to the master graceful-timeout, and names it', async () => {
  // gunicorn kills a worker that outlives --graceful-timeout: the wait allows that plus 5 s, above the bound given.
  const m = await startMaster(['--graceful-timeout=1']);
  const run = runScript(reloadScript(settings, layoutOf('/srv/app'), 'r1', 0.2));
  const [, ...fresh] = (await m.next()).split(' ');
  process.kill(m.workers[0], 'SIGTERM');
  const { code, stdout } = await run.exit;
  expect(code).toBe(0);
  const left = parseReloadLeft(stdout);
  expect(left?.seconds).toBe(6);
  expect(left?.pids).toContain(String(m.workers[1]));
  for (const pid of fresh) expect(left?.pids).not.toContain(pid);
}, 120_000);

test('the deploy says so: a warning and a summary note naming the old worker still running', async () => {
  const world = makeWorld();
  const path = process.env.PATH;
  try {
    const m = await startMaster([]);
    process.env.PATH = `${dir}:${path ?? ''}`;
    process.env.FAKE_DIR = dir;
    const sha = world.commit([]);
    const { io, recorded } = worldIO(world, localInputs(world, sha, { reload: 'hup', 'supervisor-program': 'web' }), {
      reloadWaitSeconds: 0.3,
    });
    await deployMain(io);
    expect(world.current()).toBe(recorded.outputs['release-id']);
    const warning = recorded.warnings.find((w) => w.includes('old workers'));
    expect(warning).toMatch(/were still running 0\.3 s after the HUP reload; they may still answer/);
    for (const pid of m.workers) expect(warning).toContain(String(pid));
    expect(recorded.summary).toContain(`(PID ${m.workers.join(', ')}) were still running`);
  } finally {
    process.env.PATH = path;
    delete process.env.FAKE_DIR;
    world.cleanup();
  }
}, 120_000);

test("the reload-wait line is the server's text: only numeric process ids are kept from it", () => {
  // A wrapper on the server can print anything after the marker; a `::` or `##[` token there would reach the log and
  // the summary as a workflow command.
  const stdout = ['migrating…', 'runbook-reload-left 600 812 ::error::boom ##[set-output 9x 913', 'done'].join('\n');
  expect(parseReloadLeft(stdout)).toEqual({ seconds: 60, pids: ['812', '913'] });
});
