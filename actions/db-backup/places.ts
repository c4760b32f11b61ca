import { constants, createReadStream } from 'node:fs';
import { access, chmod, mkdir, open, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { ActionFailure, ConfigurationError } from '../shared/errors.js';
import { runProcess, sha256File, type ProcessResult, type ProcessRunner } from '../shared/process.js';
import { shellQuote, type SshConnection } from '../shared/ssh.js';
import { excerpt } from '../shared/untrusted-text.js';
import { JsonStructureCheck } from './verify.js';

export interface RunOptions {
  env?: Record<string, string>;
  /** Variables that carry secrets: env on the runner, stdin lines over SSH; never argv. */
  secretEnv?: Record<string, string>;
  cwd?: string;
  /** stdout into a file on the runner, streamed (over SSH too). */
  stdoutFile?: string;
  /** stdout into a stream on the runner (e.g. an upload), streamed over SSH too. */
  stdoutStream?: Writable;
  /** stdout into a file on this host (a shell redirection on a server). */
  stdoutOnHost?: string;
  /** stdin from a file on this host. */
  stdinOnHost?: string;
  /** stdin from a stream on the runner. */
  stdin?: Readable;
  sha256?: boolean;
  signal?: AbortSignal;
}

/** Where commands run: the runner itself, or a server over SSH. Both run the same tools with the same arguments. */
export interface CommandHost {
  /** 'the runner' or 'deploy@db.example.com', for messages. */
  readonly where: string;
  readonly remote: boolean;
  run(command: string, args: string[], options?: RunOptions): Promise<ProcessResult>;
  /** A POSIX sh script (with `set -eu` over SSH); stdout returned. */
  sh(script: string, options?: RunOptions): Promise<ProcessResult>;
}

/** Where backup files live. Paths are absolute on that host. */
export interface FileStore {
  readonly where: string;
  readonly remote: boolean;
  /** Creates the directory and proves it is writable, or throws a ConfigurationError naming `input`. */
  prepareDirectory(dir: string, input: string): Promise<void>;
  list(dir: string): Promise<string[]>;
  size(path: string): Promise<number>;
  sha256(path: string): Promise<string>;
  head(path: string, bytes: number): Promise<Buffer>;
  tail(path: string, bytes: number): Promise<string>;
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  /**
   * Creates an empty file only its owner can read (0600), for a tool to write into: tools such as pg_dump --file
   * and openssl -out keep the mode of a file that exists, and would otherwise create it 0644 under a usual umask.
   * Servers need none: every command there runs under umask 077.
   */
  createPrivate?(path: string): Promise<void>;
  /** undefined when the file is one well-formed JSON document, else why not. */
  checkJson(path: string): Promise<string | undefined>;
}

export class LocalHost implements CommandHost {
  readonly where = 'the runner';
  readonly remote = false;
  constructor(private readonly runner: ProcessRunner = runProcess) {}

  run(command: string, args: string[], options: RunOptions = {}): Promise<ProcessResult> {
    return this.runner(command, args, {
      env: { ...options.env, ...options.secretEnv },
      cwd: options.cwd,
      stdoutFile: options.stdoutFile ?? options.stdoutOnHost,
      stdoutStream: options.stdoutStream,
      stdin: options.stdin ?? (options.stdinOnHost ? createReadStream(options.stdinOnHost) : undefined),
      sha256: options.sha256,
      signal: options.signal,
    });
  }

  sh(script: string, options: RunOptions = {}): Promise<ProcessResult> {
    return this.run('sh', ['-c', script], options);
  }
}

export class SshHost implements CommandHost {
  readonly remote = true;
  readonly where: string;
  constructor(private readonly ssh: SshConnection) {
    this.where = `${ssh.settings.user}@${ssh.settings.host}`;
  }

  run(command: string, args: string[], options: RunOptions = {}): Promise<ProcessResult> {
    return this.sh(`exec ${[command, ...args].map(shellQuote).join(' ')}`, options);
  }

  sh(script: string, options: RunOptions = {}): Promise<ProcessResult> {
    const exports = Object.entries(options.env ?? {})
      .map(([k, v]) => `export ${k}=${shellQuote(v)}`)
      .join('\n');
    const cd = options.cwd ? `cd ${shellQuote(options.cwd)}\n` : '';
    let body = script;
    if (options.stdoutOnHost || options.stdinOnHost) {
      // Redirections apply to the whole script.
      const out = options.stdoutOnHost ? ` > ${shellQuote(options.stdoutOnHost)}` : '';
      const inp = options.stdinOnHost ? ` < ${shellQuote(options.stdinOnHost)}` : '';
      body = `{\n${script.replace(/^exec /, '')}\n}${out}${inp}`;
    }
    // Every file a dump tool, openssl or a redirection creates on the server is private to its user (a backup
    // holds the whole database, whatever the server's default umask).
    return this.ssh.exec({
      script: `umask 077\n${cd}${exports}\n${body}`,
      secrets: options.secretEnv,
      stdin: options.stdin,
      stdoutFile: options.stdoutFile,
      stdoutStream: options.stdoutStream,
      sha256: options.sha256,
      signal: options.signal,
    });
  }
}

export class LocalFiles implements FileStore {
  readonly where = 'the runner';
  readonly remote = false;

  async prepareDirectory(dir: string, input: string): Promise<void> {
    try {
      await makeDirectories(dir);
      await access(dir, constants.W_OK);
      // access() says yes to root everywhere; a real probe file also catches read-only mounts.
      const probe = join(dir, `.runbook-write-test-${process.pid}`);
      await writeFile(probe, '', { mode: 0o600 });
      await unlink(probe);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      throw new ConfigurationError(
        `Input '${input}': cannot write backups to '${excerpt(dir)}' on the runner (${code}).`,
      );
    }
  }

  async list(dir: string): Promise<string[]> {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  }

  async size(path: string): Promise<number> {
    return (await stat(path)).size;
  }

  sha256(path: string): Promise<string> {
    return sha256File(path);
  }

  async head(path: string, bytes: number): Promise<Buffer> {
    const handle = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(bytes);
      const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }

  async tail(path: string, bytes: number): Promise<string> {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(bytes, size);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      return buffer.toString('utf8');
    } finally {
      await handle.close();
    }
  }

  rename(from: string, to: string): Promise<void> {
    return rename(from, to);
  }

  remove(path: string): Promise<void> {
    return rm(path, { force: true });
  }

  async createPrivate(path: string): Promise<void> {
    // A file left by an earlier run keeps its mode through open(); fchmod on the handle, not the path, so a cancel
    // that removes the partial meanwhile cannot turn into an ENOENT error.
    const handle = await open(path, 'w', 0o600);
    try {
      await handle.chmod(0o600);
    } finally {
      await handle.close();
    }
  }

  async exists(path: string): Promise<boolean> {
    return stat(path).then(
      () => true,
      () => false,
    );
  }

  async checkJson(path: string): Promise<string | undefined> {
    const check = new JsonStructureCheck();
    for await (const chunk of createReadStream(path, { encoding: 'utf8' })) check.feed(chunk as string);
    const structural = check.end();
    if (structural) return structural;
    // Small enough to parse outright: catches what a bracket count cannot (a bad literal, a stray comma).
    if ((await this.size(path)) <= 64 * 1024 * 1024) {
      const { readFile } = await import('node:fs/promises');
      try {
        JSON.parse(await readFile(path, 'utf8'));
      } catch (error) {
        return `invalid JSON: ${(error as Error).message}`;
      }
    }
    return undefined;
  }
}

/**
 * mkdir -p, one level at a time: Node's recursive mkdir can spin forever on pseudo file systems such as /proc,
 * where it gets ENOENT for a directory it cannot create.
 */
async function makeDirectories(dir: string): Promise<void> {
  const parts = resolve(dir).split('/').filter(Boolean);
  let path = '';
  for (const part of parts) {
    path += `/${part}`;
    try {
      await mkdir(path, { mode: 0o700 });
      // Backups hold the whole database: a folder made for them is the owner's only, whatever the umask.
      await chmod(path, 0o700);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/** Backup files kept on the server, handled with POSIX tools over the SSH connection. */
export class RemoteFiles implements FileStore {
  readonly remote = true;
  readonly where: string;
  constructor(private readonly host: CommandHost) {
    this.where = host.where;
  }

  private async out(script: string, what: string): Promise<string> {
    const result = await this.host.sh(script);
    if (result.code !== 0) throw new ActionFailure(`${what} on ${this.where} failed: ${result.stderrTail.trim()}`);
    return result.stdout;
  }

  async prepareDirectory(dir: string, input: string): Promise<void> {
    const q = shellQuote(dir);
    const result = await this.host.sh(
      `mkdir -p ${q} && probe=${q}/.runbook-write-test-$$ && : > "$probe" && rm -f "$probe"`,
    );
    if (result.code !== 0) {
      throw new ConfigurationError(
        `Input '${input}': cannot write backups to '${excerpt(dir)}' on ${this.where} (${result.stderrTail.trim()}).`,
      );
    }
  }

  /**
   * A folder that does not exist holds no backup yet; one that exists but cannot be opened (permission denied, not a
   * folder), or lies under a folder that cannot be searched, is an error naming it.
   */
  async list(dir: string): Promise<string[]> {
    const d = shellQuote(dir);
    const text = await this.out(
      [
        `if cd ${d} 2>/dev/null; then for f in *; do if [ -f "$f" ]; then printf '%s\\n' "$f"; fi; done; exit 0; fi`,
        `p=${d}; while [ ! -e "$p" ] && [ ! -L "$p" ]; do p=$(dirname "$p"); done`,
        `if [ "$p" = ${d} ] || [ ! -d "$p" ] || [ ! -x "$p" ]; then cd ${d} || exit 1; exit 1; fi`,
      ].join('\n'),
      'listing backups',
    );
    return text.split('\n').filter((l) => l !== '');
  }

  async size(path: string): Promise<number> {
    return Number((await this.out(`wc -c < ${shellQuote(path)}`, 'reading the backup size')).trim());
  }

  async sha256(path: string): Promise<string> {
    return (await this.out(`sha256sum ${shellQuote(path)}`, 'hashing the backup')).trim().split(/\s+/)[0];
  }

  async head(path: string, bytes: number): Promise<Buffer> {
    const text = await this.out(`head -c ${bytes} ${shellQuote(path)} | od -An -v -tx1`, 'reading the backup');
    return Buffer.from(text.replace(/\s+/g, ''), 'hex');
  }

  async tail(path: string, bytes: number): Promise<string> {
    return this.out(`tail -c ${bytes} ${shellQuote(path)}`, 'reading the backup');
  }

  async rename(from: string, to: string): Promise<void> {
    await this.out(`mv -f ${shellQuote(from)} ${shellQuote(to)}`, 'renaming the backup');
  }

  async remove(path: string): Promise<void> {
    await this.out(`rm -f ${shellQuote(path)}`, 'removing a file');
  }

  async exists(path: string): Promise<boolean> {
    return (await this.host.sh(`[ -e ${shellQuote(path)} ]`)).code === 0;
  }

  async checkJson(path: string): Promise<string | undefined> {
    const result = await this.host.sh(
      `python3 -c 'import json,sys; json.load(open(sys.argv[1], encoding="utf-8"))' ${shellQuote(path)}`,
    );
    return result.code === 0 ? undefined : `invalid JSON: ${result.stderrTail.trim().split('\n').at(-1)}`;
  }
}
