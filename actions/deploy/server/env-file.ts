import { ActionFailure } from '../../shared/errors.js';

/**
 * The release's environment file (`shared/.env`, linked into each release as `.env`), read the way dotenv, Docker's
 * `--env-file` and `set -a; . .env` agree on: `NAME=value` lines, an optional `export `, `#` comments, values in
 * single quotes (literal) or double quotes (\n, \", \\ and \$ escapes). Nothing is expanded or executed.
 */
export type EnvironmentFile = Record<string, string>;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Throws an ActionFailure naming the file and the line number, never the line (it may hold a password). */
export function parseEnvFile(text: string, where: string): EnvironmentFile {
  const env: EnvironmentFile = {};
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const bad = (why: string) =>
      new ActionFailure(
        `The environment file ${where} does not parse: line ${index + 1} ${why} (expected NAME=value lines; input 'env-file').`,
      );
    const match = /^(?:export\s+)?([^=\s]+)\s*=\s*(.*)$/.exec(line);
    if (!match) throw bad('is not NAME=value');
    const [, name, rest] = match;
    if (!NAME.test(name)) throw bad('does not start with a variable name (letters, digits, _)');
    env[name] = parseValue(rest, bad);
  });
  return env;
}

function parseValue(rest: string, bad: (why: string) => Error): string {
  const quote = rest[0];
  if (quote === "'" || quote === '"') {
    const end = findClosingQuote(rest, quote);
    if (end < 0) throw bad(`has an unclosed ${quote} quote`);
    const after = rest.slice(end + 1).trim();
    if (after !== '' && !after.startsWith('#')) throw bad('has text after the closing quote');
    const inner = rest.slice(1, end);
    if (quote === "'") return inner;
    return inner.replace(/\\([n"\\$`])/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  // An unquoted value ends at a comment that follows a blank, as in the shell.
  return rest.replace(/\s+#.*$/, '').trim();
}

function findClosingQuote(text: string, quote: string): number {
  for (let i = 1; i < text.length; i += 1) {
    if (quote === '"' && text[i] === '\\') i += 1;
    else if (text[i] === quote) return i;
  }
  return -1;
}

/** Names whose values are secrets by convention; their values (and any URL password) are masked once read. */
const SECRET_NAME = /SECRET|PASSWORD|PASSWD|TOKEN|KEY|CREDENTIAL|PRIVATE|_URL$|DSN/i;

export function maskEnvFile(env: EnvironmentFile, setSecret: (secret: string) => void): void {
  for (const [name, value] of Object.entries(env)) {
    if (value === '') continue;
    if (SECRET_NAME.test(name)) setSecret(value);
    const password = /^[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:([^@\s]+)@/i.exec(value)?.[1];
    if (password) {
      setSecret(password);
      try {
        setSecret(decodeURIComponent(password));
      } catch {
        // Not percent-encoded: the raw form is masked already.
      }
    }
  }
}
