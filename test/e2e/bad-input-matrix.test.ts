// The bad-input matrix: every action's built bundle, run through the runner harness with one input at a time set to
// a hostile value. Its table is the list of what we promise: a refused value fails the step with exit 1 and one
// `::error::` line that names the input, without a stack trace, without a secret in any output, and without
// creating or changing a file. A value the table accepts is legitimately valid for that input (a path may contain
// `;`, an empty value means the default): the step must then not blame that input, and must still leave no stack
// trace, leak nothing and create nothing in the workspace beyond what the action documents.
//
// No network and no service: every base below points at closed loopback ports with short deadlines, so an
// accepted value ends in a quick connection error, never a wait.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { runAction, type StepResult } from '../harness/index.js';

/** The hostile values. NUL is not among them: an input reaches the action as an environment variable, which cannot
 * hold one (execve cuts at it, and Node refuses to spawn with it), so no workflow can deliver it. */
const HOSTILE = {
  empty: '',
  whitespace: '  \t ',
  '10 KB': 'a'.repeat(10 * 1024),
  newlines: 'first\nsecond\n',
  '-option': '--help',
  '$(id)': '$(id)',
  ';': 'x; touch pwned',
  '../': '../../../../etc/passwd',
  'non-UTF-8': 'caf\udce9',
} as const;
type Hostile = keyof typeof HOSTILE;
const ALL = Object.keys(HOSTILE) as Hostile[];

/** The password in every base's database URL and the key in deploy's: must never be printed. */
const DB_PASSWORD = 'MatrixPw-7c1e9b';
const DATABASE_URL = `postgres://shop:${DB_PASSWORD}@127.0.0.1:1/shop`;
const PRIVATE_KEY = `-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAAMatrixKeyLine0123456789abcdef\n-----END OPENSSH PRIVATE KEY-----\n`;
const KNOWN_HOSTS = '[127.0.0.1]:1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMatrixHostKey0123456789abcdefghijklmn';

interface ActionCase {
  /** Inputs that make a valid run which stops quickly without a service. */
  base: (workspace: string) => Record<string, string>;
  /** Files the base itself puts in the workspace. */
  files?: Record<string, string>;
  secrets: string[];
  github?: { apiUrl: string };
  /**
   * Per input: the hostile values it accepts, with why. Every other value must be refused with an error naming the
   * input. Inputs not listed are not in the matrix (free text such as a comment title, or secrets).
   */
  inputs: Record<string, Partial<Record<Hostile, string>>>;
}

/** Accepted because an empty or blank value means "not set": the action.yml default (or no value) applies. */
const UNSET = 'blank means unset: the default applies';
const unset = { empty: UNSET, whitespace: UNSET } as const;

/** A legal name used as data (a file or branch name): never run by a shell, never given to a program as an option. */
const asName = (reason: string): Partial<Record<Hostile, string>> => ({
  '$(id)': reason,
  '-option': reason,
  ';': reason,
  newlines: reason,
  'non-UTF-8': reason,
});

const MATRIX: Record<string, ActionCase> = {
  'coverage-gate': {
    base: () => ({ reports: 'lcov.info', threshold: '50' }),
    files: { 'lcov.info': 'TN:\nSF:shop/pricing.py\nDA:1,1\nDA:2,0\nend_of_record\n', 'shop/pricing.py': 'x = 1\n' },
    secrets: [],
    inputs: {
      threshold: {},
      precision: { ...unset },
      metric: { ...unset },
      'fail-on-error': { ...unset },
      'path-thresholds': { ...unset },
      'diff-base': {
        ...unset,
        '10 KB': 'a well-formed revision name: one git cannot find is a warning, and no changed-line coverage',
      },
      'badge-path': { ...unset, ...asName('a legal file name inside the workspace, written as is') },
      reports: {
        '../':
          'reports may be read from outside the workspace (another checkout); /etc/passwd is then refused by its content, naming the file',
      },
    },
  },
  'smoke-check': {
    base: () => ({ urls: 'http://127.0.0.1:1/health', timeout: '1s', deadline: '1s', 'initial-interval': '100ms' }),
    secrets: [],
    inputs: {
      urls: {},
      method: {},
      'expected-status': {},
      timeout: {},
      'stable-for': {},
      'version-from': {},
      insecure: {},
    },
  },
  'staging-guard': {
    base: () => ({ 'github-token': 'ghs_matrixToken0123456789', 'wait-for-checks': '1s', 'poll-interval': '1s' }),
    github: { apiUrl: 'http://127.0.0.1:1' },
    secrets: ['ghs_matrixToken0123456789'],
    inputs: {
      protected: {
        ...asName('compared with the pushed branch name only; a push to a branch not listed is not judged'),
        '10 KB': 'compared with the pushed branch name only',
        '../': 'compared with the pushed branch name only',
      },
      'allowed-sources': {
        ...asName('compared with pull request head branch names only'),
        '10 KB': 'compared with pull request head branch names only',
        '../': 'compared with pull request head branch names only',
      },
      'wait-for-checks': {},
      comment: {},
    },
  },
  'db-backup': {
    base: () => ({ 'database-url': DATABASE_URL }),
    secrets: [DB_PASSWORD],
    inputs: {
      'database-url': {
        empty: 'no URL: the engine falls back to Django dumpdata, which then asks for django-manage-command',
        whitespace: 'no URL: the engine falls back to Django dumpdata, which then asks for django-manage-command',
      },
      engine: { ...unset },
      'keep-days': { ...unset },
      directory: { ...unset, ...asName('a legal directory name: created for the backups (documented)') },
      prefix: {
        ...unset,
        ...asName('cut to letters, digits, . _ - before it names a file'),
        '../': 'cut to letters, digits, . _ - before it names a file',
        '10 KB': 'cut to letters, digits, . _ - before it names a file',
      },
    },
  },
  'db-restore': {
    base: () => ({ backup: 'latest', confirm: 'shop', 'database-url': DATABASE_URL }),
    secrets: [DB_PASSWORD],
    inputs: {
      backup: {},
      confirm: {},
      storage: { ...unset },
      directory: { ...unset, ...asName('a legal directory name: it holds no backup, which is said naming backup') },
      prefix: {
        ...unset,
        ...asName('a name prefix to match: matching none is said naming backup'),
        '../': 'a name prefix to match: matching none is said naming backup',
        '10 KB': 'a name prefix to match: matching none is said naming backup',
      },
    },
  },
  deploy: {
    base: () => ({
      target: 'ssh',
      'ssh-host': '127.0.0.1',
      'ssh-port': '1',
      'ssh-user': 'deploy',
      'ssh-private-key': PRIVATE_KEY,
      'ssh-known-hosts': KNOWN_HOSTS,
      'deploy-to': '/srv/matrix-app',
      'supervisor-program': 'matrix-gunicorn',
      'health-timeout': '1s',
      'lock-timeout': '1s',
    }),
    secrets: [PRIVATE_KEY],
    inputs: {
      target: {},
      'ssh-host': { newlines: 'one host per line: two hosts, which then cannot be reached' },
      'ssh-port': {},
      'ssh-user': {},
      'deploy-to': {},
      'keep-releases': {},
      strategy: {},
      'health-timeout': {},
    },
  },
};

interface Row {
  action: string;
  input: string;
  hostile: Hostile;
  accepted?: string;
}

const ROWS: Row[] = Object.entries(MATRIX).flatMap(([action, c]) =>
  Object.entries(c.inputs).flatMap(([input, accepts]) =>
    ALL.map((hostile) => ({
      action,
      input,
      hostile,
      accepted: accepts[hostile],
    })),
  ),
);

/** Every file under `dir` with its size and modification time, to prove nothing was created or changed. */
function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      const stat = statSync(path, { throwIfNoEntry: false });
      if (!stat) continue;
      files.set(relative(dir, path), `${stat.size}:${stat.mtimeMs}`);
      if (stat.isDirectory()) walk(path);
    }
  };
  walk(dir);
  return files;
}

/** The longest error line: the longest sentence of what an input accepts plus a ~100-character quote of the value. */
const MAX_ERROR_CHARS = 500;

const STACK = /\n\s+at .+[:(]\d+:\d+\)?/;

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'bad-input-matrix-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function runRow(
  row: Row,
): Promise<{ result: StepResult; before: Map<string, string>; after: Map<string, string> }> {
  const c = MATRIX[row.action];
  const workspace = mkdtempSync(join(root, `${row.action}-`));
  for (const [path, content] of Object.entries(c.files ?? {})) {
    const file = join(workspace, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  const before = snapshot(workspace);
  const result = await runAction({
    action: row.action,
    inputs: { ...c.base(workspace), [row.input]: HOSTILE[row.hostile] },
    secrets: c.secrets,
    github: { workspace, ...c.github },
    timeoutMs: 60_000,
  });
  return { result, before, after: snapshot(workspace) };
}

describe.each(Object.keys(MATRIX))('%s', (action) => {
  const title = (r: Row): string => `${r.input} = ${r.hostile}: ${r.accepted ? `accepted (${r.accepted})` : 'refused'}`;
  test.concurrent.each(ROWS.filter((r) => r.action === action).map((r) => [title(r), r] as const))(
    '%s',
    async (_title, row) => {
      const { result, before, after } = await runRow(row);
      const errors = result.annotations.filter((a) => a.level === 'error').map((a) => a.message);
      expect(result.log).not.toMatch(STACK);
      expect(result.timedOut).toBe(false);
      // An error quotes at most ~100 characters of a value, on one line (a line break could start a runner command).
      expect(errors.filter((e) => e.length > MAX_ERROR_CHARS || /[\r\n]/.test(e))).toEqual([]);
      if (row.accepted === undefined) {
        expect({ exitCode: result.exitCode, errors }).toEqual({
          exitCode: 1,
          errors: [expect.stringContaining(`'${row.input}'`)],
        });
        expect(after).toEqual(before);
        expect(result.outputs).toEqual({});
      } else {
        expect(errors.filter((e) => e.includes(`'${row.input}'`))).toEqual([]);
      }
    },
    90_000,
  );
});
