// The files a report pattern names, matched the way @actions/glob matched them here before (one pattern,
// matchDirectories: false, implicitDescendants: false, then files only), on node:fs alone: @actions/glob imports
// @actions/core, whose OIDC client brings undici into every run with a glob in `reports`. node:fs's own glob is
// not used: it came in Node 22 and reads braces and dot files differently.
//
// What is kept from @actions/glob (minimatch with dot, nobrace, noext, nonegate, nocomment; nocase on Windows):
// '*' and '?' within a name, dot files included; '**' as a whole segment for any depth (none too); '[abc]',
// '[a-z]', '[!x]' or '[^x]' and POSIX classes such as '[[:digit:]]'; '{' and '}' literal; '\' escapes the next
// character except on Windows; symbolic links followed, a link back into its own chain or a broken one skipped.
import { readdir, realpath, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { isAbsolute, join, parse } from 'node:path';

const WINDOWS = process.platform === 'win32';

/** Absolute paths of the files matching `pattern` (relative to `cwd` unless absolute), in no particular order. */
export async function globFiles(pattern: string, cwd: string): Promise<string[]> {
  const absolute = isAbsolute(pattern) ? pattern : join(cwd, pattern);
  const { root } = parse(absolute);
  const segments = absolute
    .slice(root.length)
    .split(WINDOWS ? /[\\/]/ : '/')
    .filter((s) => s !== '');
  let start = root;
  let first = 0;
  while (first < segments.length && literal(segments[first]) !== undefined) {
    start = join(start, literal(segments[first])!);
    first++;
  }
  const matchers = segments.slice(first).map((s): Matcher => (s === '**' ? 'globstar' : segmentRegExp(s)));
  const found = new Set<string>();
  await visit(start, 0, matchers, found, []);
  return [...found];
}

type Matcher = 'globstar' | RegExp;

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
    else if (matcher.test(name)) await visit(join(path, name), index + 1, matchers, found, inner);
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

/** The segment as a plain name when it has no wildcard and no closed character set; undefined otherwise. */
function literal(segment: string): string | undefined {
  let name = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c === '\\' && !WINDOWS && i + 1 < segment.length) name += segment[++i];
    else if (c === '*' || c === '?') return undefined;
    else if (c === '[' && setEnd(segment, i) !== -1) return undefined;
    else name += c;
  }
  return name;
}

/** Index of the ']' closing the set opened at `open` (a ']' first in the set is a member), or -1. */
function setEnd(segment: string, open: number): number {
  let i = open + 1;
  if (segment[i] === '!' || segment[i] === '^') i++;
  if (segment[i] === ']') i++;
  for (; i < segment.length; i++) {
    if (segment[i] === '\\' && !WINDOWS) i++;
    else if (segment.startsWith('[:', i)) {
      const close = segment.indexOf(':]', i + 2);
      if (close !== -1) i = close + 1;
    } else if (segment[i] === ']') return i;
  }
  return -1;
}

/** minimatch's POSIX classes (the ones it does not negate). */
const POSIX_CLASSES: Record<string, string> = {
  alnum: '\\p{L}\\p{Nl}\\p{Nd}',
  alpha: '\\p{L}\\p{Nl}',
  ascii: '\\x00-\\x7f',
  blank: '\\p{Zs}\\t',
  cntrl: '\\p{Cc}',
  digit: '\\p{Nd}',
  lower: '\\p{Ll}',
  punct: '\\p{P}',
  space: '\\p{Z}\\t\\r\\n\\v\\f',
  upper: '\\p{Lu}',
  word: '\\p{L}\\p{Nl}\\p{Nd}\\p{Pc}',
  xdigit: 'A-Fa-f0-9',
};

/** Escapes what a 'u' regular expression reads as syntax (and nothing else: '\\,' is an error there). */
const escapeRegExp = (s: string) => s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');

/** One name's pattern as an anchored regular expression. */
function segmentRegExp(segment: string): RegExp {
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c === '\\' && !WINDOWS && i + 1 < segment.length) source += escapeRegExp(segment[++i]);
    else if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '[' && setEnd(segment, i) !== -1) {
      const end = setEnd(segment, i);
      source += setRegExp(segment.slice(i + 1, end));
      i = end;
    } else source += escapeRegExp(c);
  }
  return new RegExp(`^${source}$`, WINDOWS ? 'iu' : 'u');
}

/** One character inside a class, escaped when the class would read it as syntax. */
const classMember = (c: string) => (/[\\\]^[-]/.test(c) ? `\\${c}` : c);

/** The inside of '[…]' as a regular expression class. */
function setRegExp(body: string): string {
  let i = 0;
  const negated = body[0] === '!' || body[0] === '^';
  if (negated) i++;
  let members = '';
  for (; i < body.length; i++) {
    const c = body[i];
    const posix = /^\[:(\w+):\]/.exec(body.slice(i));
    if (posix && POSIX_CLASSES[posix[1]] !== undefined) {
      members += POSIX_CLASSES[posix[1]];
      i += posix[0].length - 1;
    } else if (c === '-' && members !== '' && i + 1 < body.length) members += '-';
    else members += classMember(c === '\\' && !WINDOWS && i + 1 < body.length ? body[++i] : c);
  }
  return `[${negated ? '^' : ''}${members}]`;
}
