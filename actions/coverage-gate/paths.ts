import { posix } from 'node:path';

export interface PathContext {
  /** The repository checkout (GITHUB_WORKSPACE), as an absolute POSIX path. */
  workspace: string;
  /** Where the tests ran, relative to the workspace ('' for the root). */
  workingDirectory: string;
  /** Directories report paths may be relative to, relative to the workspace or absolute. */
  sourceRoots: string[];
  /** Prefixes removed from report paths (a build machine's checkout directory, a Docker mount). */
  stripPrefixes: string[];
  /** Whether a workspace-relative path names a file of the checkout. */
  exists: (relativePath: string) => boolean;
}

export interface NormalisedPath {
  path: string;
  matched: boolean;
}

/** Forward slashes, no './', no trailing slash; Windows drive letters kept so they can be recognised. */
export function toPosix(path: string): string {
  let p = path
    .trim()
    .replace(/^file:\/\//, '')
    .replace(/\\/g, '/');
  if (/^\/[A-Za-z]:\//.test(p)) p = p.slice(1);
  p = p.replace(/\/{2,}/g, '/');
  const drive = /^[A-Za-z]:\//.exec(p)?.[0] ?? '';
  const rest = posix.normalize(p.slice(drive.length));
  return (drive + rest).replace(/^\.\//, '').replace(/\/$/, '');
}

function isAbsolute(p: string): boolean {
  return p.startsWith('/') || /^[A-Za-z]:\//.test(p);
}

function relativeTo(base: string, p: string): string | undefined {
  const b = toPosix(base);
  if (p === b) return '';
  const prefix = b.endsWith('/') ? b : `${b}/`;
  const sameCase = /^[A-Za-z]:\//.test(b) ? p.toLowerCase().startsWith(prefix.toLowerCase()) : p.startsWith(prefix);
  return sameCase ? p.slice(prefix.length) : undefined;
}

/**
 * Maps a path as a report names it to a path in the repository so annotations land on the right file. Tries,
 * in order: the workspace, the stripped prefixes, the report's and the configured source roots, the working
 * directory; then the longest path suffix that exists (a report written on another machine or OS).
 */
export function normalisePath(reportPath: string, reportRoots: string[], context: PathContext): NormalisedPath {
  const p = toPosix(reportPath);
  const candidates: string[] = [];
  const push = (candidate: string | undefined): void => {
    if (candidate === undefined || candidate === '' || candidate.startsWith('../')) return;
    const clean = toPosix(candidate);
    if (!candidates.includes(clean)) candidates.push(clean);
  };
  for (const prefix of context.stripPrefixes) {
    const stripped = relativeTo(prefix, p);
    if (stripped !== undefined) {
      push(stripped);
      if (context.workingDirectory) push(posix.join(context.workingDirectory, stripped));
    }
  }
  if (isAbsolute(p)) {
    push(relativeTo(context.workspace, p));
    for (const root of [...reportRoots, ...context.sourceRoots]) {
      const inside = relativeTo(root, p);
      if (inside !== undefined) push(inside);
    }
  } else {
    for (const root of [...reportRoots, ...context.sourceRoots]) {
      const r = toPosix(root);
      const joined = isAbsolute(r) ? relativeTo(context.workspace, posix.join(r, p)) : posix.join(r, p);
      push(joined);
    }
    if (context.workingDirectory) push(posix.join(context.workingDirectory, p));
    push(p);
  }
  for (const candidate of candidates) if (context.exists(candidate)) return { path: candidate, matched: true };
  // A path from another machine: drop leading directories until what remains is a file of the checkout.
  const parts = p
    .replace(/^[A-Za-z]:\//, '')
    .replace(/^\//, '')
    .split('/');
  for (let i = 1; i < parts.length; i++) {
    const suffix = parts.slice(i).join('/');
    if (context.exists(suffix)) return { path: suffix, matched: true };
    if (context.workingDirectory && context.exists(posix.join(context.workingDirectory, suffix))) {
      return { path: posix.join(context.workingDirectory, suffix), matched: true };
    }
  }
  return { path: candidates[0] ?? p, matched: false };
}

/** A glob ('**', '*', '?', '{a,b}') as a regular expression over POSIX paths. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  const g = toPosix(glob);
  for (let i = 0; i < g.length; i++) {
    const c = g[i];
    if (c === '*') {
      if (g[i + 1] === '*') {
        i++;
        if (g[i + 1] === '/') {
          i++;
          source += '(?:.*/)?';
        } else source += '.*';
      } else source += '[^/]*';
    } else if (c === '?') source += '[^/]';
    else if (c === '{') {
      const close = g.indexOf('}', i);
      if (close === -1) source += '\\{';
      else {
        source += `(?:${g
          .slice(i + 1, close)
          .split(',')
          .map((alt) => alt.replace(/[.+^$()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*'))
          .join('|')})`;
        i = close;
      }
    } else source += c.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  // A directory pattern covers everything below it.
  return new RegExp(`^${source}(?:/.*)?$`);
}
