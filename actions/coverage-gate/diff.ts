/** Changed lines of the pull request, from `git diff --unified=0`, keyed by repository path. */
export type ChangedLines = Map<string, number[]>;

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}
export type Git = (args: string[]) => Promise<GitResult>;

/** What git accepts as a revision here: no leading '-', no spaces or control characters, no '..'. */
export function isRevision(value: string): boolean {
  return /^[\w./^~@{}-]+$/.test(value) && !value.startsWith('-') && !value.includes('..');
}

/** The new-side line numbers of every hunk, per file; deleted files have none. */
export function parseUnifiedDiff(text: string): ChangedLines {
  const changed: ChangedLines = new Map();
  let current: number[] | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('+++ ')) {
      let path = line.slice(4).replace(/\t.*$/, '');
      if (path.startsWith('"') && path.endsWith('"')) path = JSON.parse(path) as string;
      if (path === '/dev/null') {
        current = undefined;
        continue;
      }
      path = path.replace(/^b\//, '');
      current = changed.get(path) ?? [];
      changed.set(path, current);
    } else if (line.startsWith('@@ ') && current) {
      const match = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@/.exec(line);
      if (!match) continue;
      const start = Number(match[1]);
      const length = match[2] === undefined ? 1 : Number(match[2]);
      for (let l = start; l < start + length; l++) current.push(l);
    }
  }
  return changed;
}

/** How many commits each deepening fetch asks for, and how often, before giving up on a merge base. */
const DEEPEN_BY = 100;
const DEEPEN_ATTEMPTS = 5;

export interface DiffResult {
  changed: ChangedLines;
  /** What was compared, e.g. 'origin/main...HEAD'. */
  range: string;
  notes: string[];
}

/**
 * The lines HEAD changes relative to its merge base with `base`. A shallow checkout (actions/checkout's
 * default fetch-depth 1) has neither the base branch nor the merge base, so they are fetched, deepening in
 * bounded steps; without a merge base the two trees are compared directly, and the notes say so.
 */
export async function changedLinesSince(git: Git, base: string): Promise<DiffResult> {
  // The base also comes from the event (the pull request's base branch): it must never reach git as an option.
  if (!isRevision(base)) throw new Error(`'${base}' is not a branch or commit git can compare with`);
  const notes: string[] = [];
  const shallow = (await git(['rev-parse', '--is-shallow-repository'])).stdout.trim() === 'true';
  const hasBase = async (): Promise<boolean> =>
    (await git(['rev-parse', '--verify', '--quiet', `${base}^{commit}`])).code === 0;
  const remoteBranch = /^([\w.-]+)\/(.+)$/.exec(base);
  const fetchBase = async (extra: string[]): Promise<GitResult> => {
    const refspec =
      remoteBranch && !/^[0-9a-f]{40}$/.test(base)
        ? [remoteBranch[1], `+refs/heads/${remoteBranch[2]}:refs/remotes/${remoteBranch[1]}/${remoteBranch[2]}`]
        : ['origin', base];
    return git(['fetch', '--no-tags', '--no-recurse-submodules', ...extra, ...refspec]);
  };
  if (!(await hasBase())) {
    const fetched = await fetchBase([`--depth=${DEEPEN_BY}`]);
    if (fetched.code !== 0 || !(await hasBase())) {
      throw new Error(`cannot find or fetch the diff base '${base}': ${fetched.stderr.trim() || 'unknown revision'}`);
    }
    notes.push(`fetched ${base} (depth ${DEEPEN_BY})`);
  }
  const mergeBase = async (): Promise<boolean> => (await git(['merge-base', base, 'HEAD'])).code === 0;
  let haveMergeBase = await mergeBase();
  for (let attempt = 0; !haveMergeBase && shallow && attempt < DEEPEN_ATTEMPTS; attempt++) {
    await git(['fetch', '--no-tags', '--no-recurse-submodules', `--deepen=${DEEPEN_BY}`, 'origin', 'HEAD']);
    await fetchBase([`--deepen=${DEEPEN_BY}`]);
    haveMergeBase = await mergeBase();
  }
  const range = haveMergeBase ? `${base}...HEAD` : base;
  if (!haveMergeBase) notes.push(`no merge base with ${base} in the history: compared the trees of ${base} and HEAD`);
  const diff = await git([
    'diff',
    '--unified=0',
    '--no-color',
    '--no-ext-diff',
    '--diff-filter=AMRC',
    '-M',
    range,
    ...(haveMergeBase ? [] : ['HEAD']),
  ]);
  if (diff.code !== 0) throw new Error(`git diff ${range} failed: ${diff.stderr.trim()}`);
  return { changed: parseUnifiedDiff(diff.stdout), range: haveMergeBase ? range : `${base}..HEAD`, notes };
}
