/**
 * The runner's environment files (GITHUB_OUTPUT, GITHUB_ENV, GITHUB_STATE, GITHUB_PATH), parsed the way
 * actions/runner's FileCommandManager does on Linux: lines end at LF, `NAME=value` when `=` comes before any `<<`,
 * otherwise `NAME<<DELIMITER` followed by value lines up to a line that is exactly DELIMITER. A value therefore
 * can never contain its delimiter on a line of its own, which is why @actions/core picks a random one.
 */

export interface KeyValueEntry {
  name: string;
  value: string;
}

export class FileCommandError extends Error {}

/** Splits at LF only (a CR stays in the line), as the runner does on Linux. */
function readLines(text: string): { line: string; end: number }[] {
  const lines: { line: string; end: number }[] = [];
  let index = 0;
  while (index < text.length) {
    const lf = text.indexOf('\n', index);
    if (lf < 0) {
      lines.push({ line: text.slice(index), end: text.length });
      break;
    }
    lines.push({ line: text.slice(index, lf), end: lf + 1 });
    index = lf + 1;
  }
  return lines;
}

/** Entries in file order; a later entry for the same name wins when the caller folds them into a map. */
export function parseKeyValueFile(text: string, what = 'file command'): KeyValueEntry[] {
  const entries: KeyValueEntry[] = [];
  const lines = readLines(text);
  for (let i = 0; i < lines.length; i += 1) {
    const { line } = lines[i];
    if (line === '') continue;
    const equals = line.indexOf('=');
    const heredoc = line.indexOf('<<');
    if (equals >= 0 && (heredoc < 0 || equals < heredoc)) {
      const name = line.slice(0, equals);
      if (name === '') throw new FileCommandError(`Invalid ${what} format '${line}'. Name must not be empty`);
      entries.push({ name, value: line.slice(equals + 1) });
    } else if (heredoc >= 0) {
      const name = line.slice(0, heredoc);
      const delimiter = line.slice(heredoc + 2);
      if (name === '' || delimiter === '') {
        throw new FileCommandError(
          `Invalid ${what} format '${line}'. Name must not be empty and delimiter must not be empty`,
        );
      }
      const value: string[] = [];
      let closed = false;
      for (i += 1; i < lines.length; i += 1) {
        if (lines[i].line === delimiter) {
          closed = true;
          break;
        }
        value.push(lines[i].line);
      }
      if (!closed) throw new FileCommandError(`Invalid ${what} value. Matching delimiter not found '${delimiter}'`);
      entries.push({ name, value: value.join('\n') });
    } else {
      throw new FileCommandError(`Invalid ${what} format '${line}'`);
    }
  }
  return entries;
}

export function toRecord(entries: KeyValueEntry[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (const { name, value } of entries) record[name] = value;
  return record;
}

/** GITHUB_PATH: one directory per non-empty line, in the order written. */
export function parsePathFile(text: string): string[] {
  return readLines(text)
    .map(({ line }) => line)
    .filter((line) => line !== '');
}

/**
 * The runner keeps one list of prepended directories per job; a directory added again moves to the front.
 * Returns the list as it goes in front of PATH (latest first).
 */
export function prependPath(current: string[], added: string[]): string[] {
  let result = [...current];
  for (const dir of added) result = [dir, ...result.filter((d) => d !== dir)];
  return result;
}
