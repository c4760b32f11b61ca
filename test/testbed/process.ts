import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface CommandResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  uid?: number;
  gid?: number;
  timeoutMs?: number;
}

/** Thrown when a daemon died because its port was taken between freePort() and its bind (parallel jest workers). */
export class AddressInUseError extends Error {}

/** Runs a command to completion; resolves with its exit code (never throws on non-zero), rejects on timeout. */
export function runCommand(command: string, args: string[], options: RunOptions = {}): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? 60000;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      uid: options.uid,
      gid: options.gid,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => stdout.push(c));
    child.stderr.on('data', (c: Buffer) => stderr.push(c));
    const timer = setTimeout(() => {
      killGroup(child.pid, 'SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        code: code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1),
      });
    });
    // A command that exits without reading stdin must not crash us with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** Like runCommand, but a non-zero exit throws an error carrying the command's stderr. */
export async function runChecked(command: string, args: string[], options: RunOptions = {}): Promise<string> {
  const result = await runCommand(command, args, options);
  if (result.code !== 0) {
    const detail = (result.stderr.trim() || result.stdout.trim()).slice(-2000);
    throw new Error(`${path.basename(command)} ${args.join(' ')} exited with ${result.code}: ${detail}`);
  }
  return result.stdout;
}

export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Cleanup registry. Every resource a starter creates gets a shell script that removes it. Scripts run on stop(),
// on process 'exit' (synchronously), and from a detached reaper that outlives this process: jest runs test files
// in a VM whose `process.on('exit')` never fires, and may SIGKILL a worker that hangs, so only a separate process
// can be sure that no postgres, sshd or namespace survives a crashed test run.
// ---------------------------------------------------------------------------------------------------------------

const live = new Map<string, string>();
let registryDir: string | undefined;

function ensureRegistry(): string {
  if (registryDir) return registryDir;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `runbook-testbed-reaper-${process.pid}-`));
  // Waits while the parent lives and is no zombie (this machine's init does not reap orphans, and `kill -0` succeeds
  // on a zombie); six hours at most, so the loop is bounded even if the pid were reused by a long-lived process.
  const reaper = [
    'i=0',
    'while [ "$i" -lt 21600 ] && read -r stat < "/proc/$1/stat"; do',
    '  case "${stat##*) }" in Z*|X*) break ;; esac',
    '  sleep 1; i=$((i+1))',
    'done',
    'for f in "$2"/*.sh; do [ -f "$f" ] && sh "$f" >/dev/null 2>&1; done',
    'rm -rf "$2"',
  ].join('\n');
  // The subshell is backgrounded so the reaper is re-parented to init: killing our process tree spares it.
  const launcher = spawn(
    'sh',
    ['-c', `(${reaper}) </dev/null >/dev/null 2>&1 &`, 'runbook-testbed-reaper', String(process.pid), dir],
    {
      detached: true,
      stdio: 'ignore',
    },
  );
  launcher.unref();
  // Outside jest (tsx scripts) this runs on a normal exit; the reaper then finds nothing left to do.
  process.on('exit', () => {
    for (const file of [...live.values()]) runScriptSync(file);
  });
  registryDir = dir;
  return dir;
}

function runScriptSync(file: string): void {
  try {
    execFileSync('sh', [file], { stdio: 'ignore', timeout: 30000 });
  } catch {
    // Best effort: the next steps (and the reaper) still run.
  }
  fs.rmSync(file, { force: true });
}

/** The cleanup of one started service: steps added as they are created, run in order kill → commands → remove. */
export class Cleanup {
  private readonly file: string;
  private readonly kills: string[] = [];
  private readonly commands: string[] = [];
  private readonly removals: string[] = [];
  private done = false;

  constructor(readonly description: string) {
    const id = `${Date.now()}-${randomBytes(4).toString('hex')}`;
    this.file = path.join(ensureRegistry(), `${id}.sh`);
    this.write();
  }

  killProcessGroup(pid: number | undefined): this {
    if (pid) this.kills.push(`kill -KILL -${pid} 2>/dev/null`);
    return this.write();
  }

  /** For supervisors that put each child in its own process group: kill those groups while the parent is alive. */
  killChildProcessGroups(pid: number | undefined): this {
    if (pid)
      this.kills.push(`for c in $(pgrep -P ${pid}); do kill -KILL -$c 2>/dev/null; kill -KILL $c 2>/dev/null; done`);
    return this.write();
  }

  command(script: string): this {
    this.commands.push(`${script} >/dev/null 2>&1`);
    return this.write();
  }

  removePath(target: string): this {
    this.removals.push(`rm -rf -- ${shellQuote(target)}`);
    return this.write();
  }

  /** Runs every step now (idempotent); after this the reaper has nothing left to do for this service. */
  runNow(): void {
    if (this.done) return;
    this.done = true;
    live.delete(this.file);
    runScriptSync(this.file);
  }

  private write(): this {
    if (this.done) return this;
    const body = ['# ' + this.description.replace(/\n/g, ' '), ...this.kills, ...this.commands, ...this.removals];
    fs.writeFileSync(this.file, body.join('\n') + '\n', { mode: 0o600 });
    live.set(this.file, this.file);
    return this;
  }
}

export function makeTempDir(kind: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `runbook-${kind}-`));
}

// ---------------------------------------------------------------------------------------------------------------
// Long-running daemons: own process group (so children die with them), output appended to a log file.
// ---------------------------------------------------------------------------------------------------------------

export interface DaemonOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
  logPath: string;
}

export interface Daemon {
  readonly pid: number;
  readonly logPath: string;
  running(): boolean;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
  signal(signal: NodeJS.Signals): void;
  /** Signals the whole process group, waits up to timeoutMs, then SIGKILLs what is left. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
  log(): string;
}

export function spawnDaemon(command: string, args: string[], options: DaemonOptions): Daemon {
  const fd = fs.openSync(options.logPath, 'a');
  let child;
  try {
    child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      uid: options.uid,
      gid: options.gid,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    fs.closeSync(fd);
  }
  let isRunning = true;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      isRunning = false;
      resolve();
    });
    child.once('error', (error) => {
      fs.appendFileSync(options.logPath, `spawn ${command} failed: ${error.message}\n`);
      isRunning = false;
      resolve();
    });
  });
  child.unref();
  const pid = child.pid ?? -1;
  const daemon: Daemon = {
    pid,
    logPath: options.logPath,
    exited,
    running: () => isRunning,
    signal: (signal) => killGroup(pid, signal),
    log: () => readLog(options.logPath),
    async stop(signal = 'SIGTERM', timeoutMs = 10000) {
      if (isRunning) {
        killGroup(pid, signal);
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          exited.then(() => false),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
        ]);
        clearTimeout(timer);
        if (timedOut) killGroup(pid, 'SIGKILL');
        await exited;
      }
      // Children that outlived the leader (a postgres backend, an sshd session) go too.
      killGroup(pid, 'SIGKILL');
    },
  };
  return daemon;
}

function readLog(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Waits until `ready()` says yes. If the daemon dies first, throws AddressInUseError when its log says the port
 * was taken, else an error with the end of its log.
 */
export async function waitForDaemon(
  daemon: Daemon,
  name: string,
  ready: () => Promise<boolean>,
  timeoutMs = 30000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!daemon.running()) {
      const log = daemon.log();
      if (/address already in use|EADDRINUSE/i.test(log)) throw new AddressInUseError(`${name}: port already in use`);
      throw new Error(`${name} exited during start-up:\n${tail(log)}`);
    }
    if (await ready()) return;
    if (Date.now() >= deadline) throw new Error(`${name} not ready after ${timeoutMs} ms:\n${tail(daemon.log())}`);
    await delay(50);
  }
}

export function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Retries a whole start when another process grabbed the free port first. */
export async function withPortRetry<T>(start: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (!(error instanceof AddressInUseError) || attempt >= attempts) throw error;
    }
  }
}

/** uid and gid of a system user (postgres, mysql) from /etc/passwd. */
export function systemUser(name: string): { uid: number; gid: number; home: string } {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`system user ${name} does not exist (run npm run provision)`);
  const fields = line.split(':');
  return { uid: Number(fields[2]), gid: Number(fields[3]), home: fields[5] ?? '/' };
}

export function currentUser(): string {
  return os.userInfo().username;
}

/** Direct children of `pid`, read from /proc/<n>/stat (this kernel has no /proc/<pid>/task/<tid>/children). */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces and parentheses: fields restart after the last ')'.
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === pid) children.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return children;
}
