/**
 * Runs one entry file (main or post) under Node 24 and captures its output, with the runner's cancellation
 * sequence: SIGINT, then SIGTERM after 7.5 s, then the whole process tree is killed 2.5 s later
 * (docs.github.com, "Workflow cancellation reference"). A step timeout cancels the same way.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { createLineReader } from './workflow-commands.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

const SIGTERM_AFTER_MS = 7500;
const KILL_AFTER_MS = 2500;
// Output still arriving from grandchildren after the entry process exited is read for this long, no longer.
const DRAIN_MS = 1000;

let verifiedNode: string | undefined;

/** node_modules/node/bin/node (the `node` devDependency ships a real Node 24 binary). */
export function node24(): string {
  if (verifiedNode) return verifiedNode;
  const binary = join(REPO_ROOT, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(binary)) {
    throw new Error(`Node 24 binary not found at ${binary}: run \`npm ci\` (the devDependency "node" provides it)`);
  }
  const version = spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? '';
  if (!version.startsWith('v24.')) throw new Error(`${binary} is ${version || 'not runnable'}, expected Node 24`);
  verifiedNode = binary;
  return binary;
}

export interface OutputLine {
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface ProcessRun {
  exitCode: number;
  signal?: string;
  log: string;
  lines: OutputLine[];
  timedOut: boolean;
  cancelled: boolean;
  durationMs: number;
  /** Process group id, so the job can kill what the step left running (the runner's orphan cleanup). */
  pgid?: number;
}

export interface ProcessOptions {
  script: string;
  /** Another program than Node 24 running `script` (a composite action's shell); its args already name the script. */
  command?: { file: string; args: string[] };
  env: Record<string, string>;
  cwd: string;
  timeoutMs: number;
  cancelAfterMs?: number;
  /** SIGINT, as cancelAfterMs, as soon as a line of output matches: a cancel tied to a point of the run, not a time. */
  cancelOnLine?: RegExp;
  /** SIGINT, as cancelAfterMs, once this promise settles. */
  cancelWhen?: Promise<unknown>;
  /** The runner's waits before SIGTERM and before the kill; only the harness's own tests shorten them. */
  grace?: { sigtermAfterMs: number; killAfterMs: number };
  onLine?: (line: OutputLine) => void;
  /** Mounted over /etc/hosts in a private mount namespace of the step (see ActionRunOptions.hostsFile). */
  hostsFile?: string;
}

/**
 * The argv that runs `file args` with `hostsFile` bind-mounted over /etc/hosts in a mount namespace of its own.
 * unshare and perl exec in turn, so the process keeps its pid and stays the leader of the step's process group (the
 * cancellation sequence signals it as before). perl, not sh: dash drops variables whose names are not shell names,
 * and every `INPUT_<NAME>` with a dash in it (INPUT_EXPECT-VERSION) would be lost; bash keeps them but would source
 * a BASH_ENV of the step first.
 */
export function withHostsFile(hostsFile: string, file: string, args: string[]): { file: string; args: string[] } {
  const script =
    'system("mount", "--bind", "--", shift(@ARGV), "/etc/hosts") == 0 or exit 125; exec { $ARGV[0] } @ARGV or die "$ARGV[0]: $!\\n"';
  return {
    file: 'unshare',
    args: ['--mount', '--propagation', 'private', '--', '/usr/bin/perl', '-e', script, hostsFile, file, ...args],
  };
}

function signalExitCode(signal: NodeJS.Signals | null): number {
  const number = signal ? constants.signals[signal] : undefined;
  return number === undefined ? 1 : 128 + number;
}

export function runEntry(options: ProcessOptions): Promise<ProcessRun> {
  const started = Date.now();
  // Its own process group, so the last stage of cancellation can kill the tree as the runner does.
  const direct = { file: options.command?.file ?? node24(), args: options.command?.args ?? [options.script] };
  const launch = options.hostsFile ? withHostsFile(options.hostsFile, direct.file, direct.args) : direct;
  const child = spawn(launch.file, launch.args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let log = '';
  const lines: OutputLine[] = [];
  const readers = { stdout: createLineReader(), stderr: createLineReader() };
  const push = (line: OutputLine) => {
    lines.push(line);
    options.onLine?.(line);
    if (options.cancelOnLine?.test(line.text) && !cancelled && !timedOut) {
      cancelled = true;
      cancel();
    }
  };
  const capture = (stream: 'stdout' | 'stderr') => {
    const decoder = new StringDecoder('utf8');
    const take = (text: string) => {
      log += text;
      for (const line of readers[stream].push(text)) push({ stream, text: line });
    };
    child[stream].on('data', (chunk: Buffer) => take(decoder.write(chunk)));
    child[stream].on('end', () => take(decoder.end()));
  };
  capture('stdout');
  capture('stderr');

  let timedOut = false;
  let cancelled = false;
  let exited = false;
  const timers: NodeJS.Timeout[] = [];
  const signal = (sig: NodeJS.Signals, group = false) => {
    if (exited || child.pid === undefined) return;
    try {
      process.kill(group ? -child.pid : child.pid, sig);
    } catch {
      // Already gone.
    }
  };
  const grace = options.grace ?? { sigtermAfterMs: SIGTERM_AFTER_MS, killAfterMs: KILL_AFTER_MS };
  const cancel = () => {
    signal('SIGINT');
    timers.push(setTimeout(() => signal('SIGTERM'), grace.sigtermAfterMs));
    timers.push(setTimeout(() => signal('SIGKILL', true), grace.sigtermAfterMs + grace.killAfterMs));
  };
  timers.push(
    setTimeout(() => {
      if (!cancelled) {
        timedOut = true;
        cancel();
      }
    }, options.timeoutMs),
  );
  const cancelNow = () => {
    if (!cancelled && !timedOut && !exited) {
      cancelled = true;
      cancel();
    }
  };
  options.cancelWhen?.then(cancelNow, cancelNow);
  if (options.cancelAfterMs !== undefined) {
    timers.push(
      setTimeout(() => {
        if (!timedOut) {
          cancelled = true;
          cancel();
        }
      }, options.cancelAfterMs),
    );
  }

  return new Promise((resolvePromise, reject) => {
    let settled = false;
    const finish = (code: number | null, sig: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      for (const stream of ['stdout', 'stderr'] as const) {
        for (const line of readers[stream].end()) push({ stream, text: line });
      }
      resolvePromise({
        exitCode: code ?? signalExitCode(sig),
        signal: sig ?? undefined,
        log,
        lines,
        timedOut,
        cancelled,
        durationMs: Date.now() - started,
        pgid: child.pid,
      });
    };
    child.on('error', (error) => {
      for (const t of timers) clearTimeout(t);
      if (!settled) reject(error);
      settled = true;
    });
    child.on('exit', (code, sig) => {
      exited = true;
      // 'close' waits for the pipes; a grandchild that inherited them could hold them open for ever.
      const drain = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish(code, sig);
      }, DRAIN_MS);
      child.on('close', () => {
        clearTimeout(drain);
        finish(code, sig);
      });
    });
  });
}

/** Kills whatever a step left running in its process group; the runner does this at the end of the job. */
export function killProcessGroup(pgid: number | undefined): void {
  if (pgid === undefined) return;
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // Nothing left.
  }
}
