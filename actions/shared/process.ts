import { spawn } from 'node:child_process';
import { createHash, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ActionFailure } from './errors.js';

/** How one child process is run. Secrets travel in `env` or `stdin`, never in `args` (argv is world-readable). */
export interface ProcessOptions {
  /** Added to (and overriding) the parent's environment. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Text, bytes, or a stream piped to the child's stdin; stdin is closed when it ends. */
  stdin?: string | Buffer | Readable;
  /** Stream stdout into this file (created 0600, truncated); stdout is then not captured. */
  stdoutFile?: string;
  /** Or into this stream. */
  stdoutStream?: Writable;
  /** Hash of what went to stdoutFile/stdoutStream, computed on the way through. */
  sha256?: boolean;
  /** How much of stderr to keep for error messages (the tail, where tools say what went wrong). */
  stderrTailBytes?: number;
  /** Captured stdout limit when stdout is not streamed. */
  stdoutLimitBytes?: number;
  signal?: AbortSignal;
  /** Called with each stderr chunk (e.g. to forward progress to the log). */
  onStderr?: (chunk: Buffer) => void;
}

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderrTail: string;
  /** Bytes written to stdoutFile/stdoutStream. */
  bytes: number;
  sha256?: string;
}

/** The process edge the actions receive, so tests can run real processes or record the calls. */
export type ProcessRunner = (command: string, args: string[], options?: ProcessOptions) => Promise<ProcessResult>;

const live = new Set<import('node:child_process').ChildProcess>();

/** Children still running, so a cancelled job can stop them before it deletes their half-written files. */
export function killRunningProcesses(signal: NodeJS.Signals = 'SIGTERM'): void {
  for (const child of live) child.kill(signal);
}

export const runProcess: ProcessRunner = (command, args, options = {}) =>
  new Promise<ProcessResult>((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...inheritedEnvironment(), ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      signal: options.signal,
    });
    live.add(child);
    const tailLimit = options.stderrTailBytes ?? 8192;
    let stderrTail = Buffer.alloc(0);
    child.stderr.on('data', (chunk: Buffer) => {
      options.onStderr?.(chunk);
      stderrTail = Buffer.concat([stderrTail, chunk]);
      if (stderrTail.length > tailLimit) stderrTail = stderrTail.subarray(stderrTail.length - tailLimit);
    });

    let spawnError: Error | undefined;
    child.on('error', (error) => {
      spawnError = error;
    });
    // A child that exits without reading all its stdin must not crash us with EPIPE.
    child.stdin.on('error', () => undefined);
    if (options.stdin === undefined) child.stdin.end();
    else if (typeof options.stdin === 'string' || Buffer.isBuffer(options.stdin)) child.stdin.end(options.stdin);
    else options.stdin.on('error', (e) => child.stdin.destroy(e)).pipe(child.stdin);

    const hash = options.sha256 ? createHash('sha256') : undefined;
    let bytes = 0;
    let stdout = '';
    let sink: Promise<void>;
    const destination = options.stdoutFile
      ? createWriteStream(options.stdoutFile, { mode: 0o600 })
      : options.stdoutStream;
    if (destination) {
      // Handled here, where the pipeline is made: a write error (a full disk) would otherwise reject before the
      // child closes, with nobody listening, and crash the step with a stack trace.
      sink = pipeline(
        child.stdout,
        counter(hash, (n) => (bytes += n)),
        destination,
      ).catch((error: unknown) => {
        child.kill('SIGTERM');
        throw writeFailure(error, options.stdoutFile);
      });
      sink.catch(() => undefined);
    } else {
      const limit = options.stdoutLimitBytes ?? 1 << 20;
      child.stdout.on('data', (chunk: Buffer) => {
        if (stdout.length < limit) stdout += chunk.toString('utf8');
      });
      sink = new Promise((done) => child.stdout.on('end', done));
    }

    child.on('close', (code, signal) => {
      live.delete(child);
      sink.then(
        () => {
          // A cancellation (AbortError) still resolves: the caller reports the signal the child died of.
          if (spawnError && spawnError.name !== 'AbortError') {
            const errno = (spawnError as NodeJS.ErrnoException).code;
            return reject(
              new ActionFailure(
                `Cannot run ${command}: ${errno === 'ENOENT' ? 'not installed or not on PATH' : spawnError.message}`,
              ),
            );
          }
          resolve({
            code,
            signal,
            stdout,
            stderrTail: stderrTail.toString('utf8'),
            bytes,
            sha256: hash?.digest('hex'),
          });
        },
        (error: unknown) => reject(error),
      );
    });
  });

/** One line for a failed write of a tool's output: which file, and the system's reason (ENOSPC: the disk is full). */
export function writeFailure(error: unknown, file: string | undefined): ActionFailure {
  const errno = (error as NodeJS.ErrnoException).code;
  const what = file ? `Writing ${file} on the runner` : 'Writing the output';
  if (errno === 'ENOSPC') return new ActionFailure(`${what} failed: no space left on the device (ENOSPC).`);
  if (errno === 'EDQUOT') return new ActionFailure(`${what} failed: the disk quota is exceeded (EDQUOT).`);
  const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return new ActionFailure(`${what} failed: ${reason}`);
}

/**
 * The parent's environment without the step's INPUT_* variables: they hold the action's raw inputs (a database URL
 * with its password, a private key), which the tools we start have no business seeing.
 */
function inheritedEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('INPUT_')));
}

function counter(hash: Hash | undefined, count: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash?.update(chunk);
      count(chunk.length);
      callback(null, chunk);
    },
  });
}

/**
 * sha256 of a file, read in 1 MiB pieces into one reused buffer: a backup never passes through memory whole, and
 * hashing a large one does not leave a trail of chunk buffers for the garbage collector (memory stays flat).
 */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

/** The last non-empty line of a tool's stderr: usually the one that says what went wrong. */
export function lastErrorLine(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return lines.at(-1) ?? '';
}

/** A one-line failure reason for a finished process: its exit, and the end of what it printed on stderr. */
export function describeExit(name: string, result: Pick<ProcessResult, 'code' | 'signal' | 'stderrTail'>): string {
  const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
  const why = lastErrorLine(result.stderrTail);
  return `${name} ${how}${why ? `: ${why}` : ''}`;
}
