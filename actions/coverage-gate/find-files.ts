// The files a report pattern names, matched the way @actions/glob matched them here before (one pattern,
// matchDirectories: false, implicitDescendants: false, then files only): with the same minimatch and the same
// options (dot, nobrace, noext, nonegate, nocomment; nocase on Windows), walking node:fs itself, because
// @actions/glob imports @actions/core, whose OIDC client brings undici into every run with a glob in `reports`.
// node:fs's own glob is not used: it came in Node 22 and reads braces and dot files differently.
// Symbolic links are followed; a link back into its own chain, or a broken one, is skipped.
import { readdir, realpath, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { isAbsolute, join, parse } from 'node:path';
import { GLOBSTAR, Minimatch } from 'minimatch';

const WINDOWS = process.platform === 'win32';

/** Absolute paths of the files matching `pattern` (relative to `cwd` unless absolute), in no particular order. */
export async function globFiles(pattern: string, cwd: string): Promise<string[]> {
  const absolute = isAbsolute(pattern) ? pattern : join(cwd, pattern);
  const { root } = parse(absolute);
  const glob = new Minimatch(WINDOWS ? absolute.replace(/\\/g, '/') : absolute, {
    dot: true,
    nobrace: true,
    nocase: WINDOWS,
    nocomment: true,
    noext: true,
    nonegate: true,
  });
  // One pattern without braces: one list of parts, the root's first (a '' on POSIX, the drive on Windows).
  const parts = (glob.set[0] ?? []).slice(1).filter((part) => part !== '');
  let start = root;
  let first = 0;
  while (first < parts.length && typeof parts[first] === 'string') start = join(start, parts[first++] as string);
  const matchers = parts
    .slice(first)
    .map((part): Matcher => (part === GLOBSTAR ? 'globstar' : (part as RegExp | string)));
  const found = new Set<string>();
  await visit(start, 0, matchers, found, []);
  return [...found];
}

/** '**', or one name's pattern: minimatch gives a plain name as a string, which `test` below reads as equality. */
type Matcher = 'globstar' | RegExp | string;

/** Walks `path` against matchers[index…]; `chain` holds the real paths of the directories walked into. */
async function visit(path: string, index: number, matchers: Matcher[], found: Set<string>, chain: string[]) {
  const stats = await statOrUndefined(path);
  if (!stats) return;
  if (index === matchers.length) {
    if (stats.isFile()) found.add(path);
    return;
  }
  const matcher = matchers[index];
  if (matcher === 'globstar') await visit(path, index + 1, matchers, found, chain);
  if (!stats.isDirectory()) return;
  const real = await realpath(path);
  if (chain.includes(real)) return;
  const inner = [...chain, real];
  for (const name of await readdir(path)) {
    if (matcher === 'globstar') await visit(join(path, name), index, matchers, found, inner);
    else if (typeof matcher === 'string' ? matcher === name : matcher.test(name))
      await visit(join(path, name), index + 1, matchers, found, inner);
  }
}

/** stat through symbolic links; undefined for a broken link or a path gone meanwhile. */
async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
