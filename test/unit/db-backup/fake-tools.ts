// Stand-ins for the database and SSH command-line tools, as small shell scripts on a private PATH: the actions'
// whole flow (process spawning, files, verification, encryption with the real openssl) runs in-process and fast.
// FAKE_* variables steer them: a server version, a failing login, a truncated dump.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActionIO } from '../../../actions/db-backup/action-io.js';
import { runProcess, type ProcessRunner } from '../../../actions/shared/process.js';

const LOGIN_CHECK = `
if [ "\${PGPASSWORD:-}\${MYSQL_PWD:-}" = "wrong" ]; then
  echo "$(basename "$0"): error: connection to server at \\"127.0.0.1\\", port 5432 failed: FATAL:  password authentication failed for user \\"app\\"" >&2
  exit 2
fi
printf '%s\\n' "$0 $*" >> "$FAKE_LOG"
env | grep -E '^(PG|MYSQL_PWD|DATABASE_URL|RUNBOOK)' | sort >> "$FAKE_LOG"
# FAKE_WATCH: the modes of the files in a folder while a tool runs (partials exist only then).
if [ -n "\${FAKE_WATCH:-}" ]; then for f in "$FAKE_WATCH"/*; do [ -e "$f" ] && stat -c 'mode %a %n' "$f" >> "$FAKE_LOG"; done; fi
true
`;

const TOOLS: Record<string, string> = {
  pg_dump: `${LOGIN_CHECK}
out=-; format=custom
for a in "$@"; do case "$a" in --file=*) out="\${a#--file=}";; --format=*) format="\${a#--format=}";; esac; done
# Node's stdio are sockets, which /dev/stdout cannot be reopened on: write to the inherited descriptor.
emit() { if [ "$out" = - ]; then cat; else cat >> "$out"; fi; }
[ "$out" = - ] || : > "$out"
if [ "$format" = custom ]; then printf 'PGDMP\\001fake archive of %s\\n' "$PGDATABASE" | emit; else
  printf -- '-- dump of %s\\n' "$PGDATABASE" | emit; fi
# FAKE_BIG: that many more bytes of dump (a large database, for a full disk).
if [ -n "\${FAKE_BIG:-}" ]; then head -c "$FAKE_BIG" /dev/zero | tr '\\000' x | emit; fi
if [ -n "\${FAKE_SLEEP:-}" ]; then sleep "$FAKE_SLEEP" & p=$!; trap 'kill $p; exit 143' TERM; wait $p; fi
if [ -n "\${FAKE_TRUNCATE:-}" ]; then exit 0; fi
if [ -n "\${FAKE_DUMP_FAIL:-}" ]; then echo "pg_dump: error: query failed: out of disk" >&2; exit 1; fi
if [ "$format" = plain ]; then printf -- '-- PostgreSQL database dump complete\\n' | emit; fi
`,
  psql: `${LOGIN_CHECK}
case "$*" in
  *"SHOW server_version"*) echo "\${FAKE_SERVER_VERSION:-15.4 (Debian 15.4-1)}";;
  *"count(*)"*) echo 2;;
  *" -c "*) ;;
  *) cat > /dev/null; [ -n "\${FAKE_RESTORE_FAIL:-}" ] && { echo 'psql:<stdin>:3: ERROR:  relation "x" does not exist' >&2; exit 3; }; true;;
esac
`,
  pg_restore: `${LOGIN_CHECK}
case "$1" in
  --list) if [ -n "$2" ]; then h=$(head -c 5 "$2"); else h=$(head -c 5); cat > /dev/null; fi
    if [ "$h" = PGDMP ]; then printf ';\\n; Archive created at 2026-01-01\\n1; 2615 2200 SCHEMA - public\\n2; 1259 16385 TABLE public t\\n'; else echo "pg_restore: error: input file does not appear to be a valid archive" >&2; exit 1; fi;;
  *) cat > /dev/null; [ -n "\${FAKE_RESTORE_FAIL:-}" ] && { echo 'pg_restore: error: could not execute query' >&2; exit 1; }; true;;
esac
`,
  mariadb: `${LOGIN_CHECK}
case "$*" in
  *"SELECT VERSION()"*) echo "\${FAKE_MYSQL_VERSION:-10.11.6-MariaDB-0+deb12u1}";;
  *) cat > /dev/null;;
esac
`,
  'mariadb-dump': `${LOGIN_CHECK}
printf -- '-- MariaDB dump\\nINSERT INTO t VALUES (1);\\n'
[ -n "\${FAKE_BIG:-}" ] && head -c "$FAKE_BIG" /dev/zero | tr '\\000' x
[ -n "\${FAKE_TRUNCATE:-}" ] && exit 0
printf -- '-- Dump completed on 2026-01-01\\n'
`,
  manage: `${LOGIN_CHECK}
case "$1" in
  dumpdata) [ -n "\${FAKE_BIG:-}" ] && head -c "$FAKE_BIG" /dev/zero | tr '\\000' ' '; if [ -n "\${FAKE_TRUNCATE:-}" ]; then printf '[{"model": "shop.pizza", "pk": 1, "fields": {"name": "Reine'; else printf '[{"model": "shop.pizza", "pk": 1, "fields": {"name": "Reine \\\\"4\\\\" [x]"}}]'; fi;;
  flush|loaddata) cat > /dev/null;;
  shell) echo 'Django 3.2 banner line'; echo "runbook-database=\${FAKE_DJANGO_DB:-shop}";;
esac
`,
  // OpenSSH stand-ins: the "server" is this machine; the remote command is run by sh.
  ssh: `printf '%s\\n' "ssh $*" >> "$FAKE_LOG"
[ -n "\${FAKE_SSH_FAIL:-}" ] && { echo "\${FAKE_SSH_FAIL}" >&2; exit 255; }
for a in "$@"; do last="$a"; case "$a" in -N|-O) exit 0;; esac; done
exec sh -c "$last"
`,
  'ssh-keyscan': `printf '%s\\n' "\${FAKE_KEYSCAN:-}"`,
};

export interface FakeTools {
  dir: string;
  /** Versioned client root: <dir>/clients/<N>/bin/{pg_dump,psql,pg_restore}. */
  clientRoot: string;
  log: string;
  runner: ProcessRunner;
  cleanup: () => void;
}

export function makeFakeTools(majors: number[] = [15], env: Record<string, string> = {}): FakeTools {
  const dir = mkdtempSync(join(tmpdir(), 'rb-fake-tools-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const write = (path: string, body: string) => writeFileSync(path, `#!/bin/sh\n${body}`, { mode: 0o755 });
  for (const [name, body] of Object.entries(TOOLS)) write(join(bin, name), body);
  const clientRoot = join(dir, 'clients');
  for (const major of majors) {
    mkdirSync(join(clientRoot, String(major), 'bin'), { recursive: true });
    for (const tool of ['pg_dump', 'psql', 'pg_restore'])
      write(join(clientRoot, String(major), 'bin', tool), TOOLS[tool]);
  }
  const log = join(dir, 'calls.log');
  writeFileSync(log, '');
  const runner: ProcessRunner = (command, args, options = {}) =>
    runProcess(command, args, {
      ...options,
      env: { PATH: `${bin}:${process.env.PATH}`, FAKE_LOG: log, ...env, ...options.env },
    });
  return { dir, clientRoot, log, runner, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface RecordedIO extends ActionIO {
  outputs: Record<string, string>;
  secrets: string[];
  messages: string[];
  warnings: string[];
  summaries: string[];
  /** core.saveState values, each as last saved, and every value saved in order. */
  states: Record<string, string>;
  savedStates: string[];
  cancel?: () => void;
}

export function recordedIO(
  inputs: Record<string, string>,
  runner: ProcessRunner,
  env: Record<string, string> = {},
): RecordedIO {
  const io: RecordedIO = {
    outputs: {},
    secrets: [],
    messages: [],
    warnings: [],
    summaries: [],
    states: {},
    savedStates: [],
    saveState: (name, value) => {
      io.states[name] = value;
      io.savedStates.push(value);
    },
    inputs: (name) => inputs[name] ?? '',
    setSecret: (s) => io.secrets.push(s),
    setOutput: (k, v) => (io.outputs[k] = v),
    info: (m) => io.messages.push(m),
    warning: (m) => io.warnings.push(m),
    writeSummary: async (md) => {
      io.summaries.push(md);
    },
    runner,
    now: () => new Date(Date.UTC(2026, 10, 27, 14, 5)),
    env,
    onCancel: (handler) => {
      io.cancel = handler;
      return () => (io.cancel = undefined);
    },
  };
  return io;
}

/** What the action printed as workflow commands; the exit code it set is put back (this is jest's process). */
export async function capturingStdout(action: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    lines.push(
      ...String(chunk)
        .split(/\r?\n/)
        .filter((l) => l.startsWith('::error')),
    );
    return true;
  }) as typeof process.stdout.write;
  const exitCode = process.exitCode;
  try {
    await action();
  } finally {
    process.stdout.write = write;
    process.exitCode = exitCode;
  }
  return lines;
}
