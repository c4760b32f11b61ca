import type { CommitFacts } from './github-gateway.js';

/**
 * Where the pull requests of a merge group are found in its history. GitHub's merge queue builds the group's head
 * commit on the base by adding each queued pull request in turn, so the first-parent chain from the head back to
 * `base_sha` has one step per pull request (several for a rebase):
 * - merge method: a merge commit whose second parent is the pull request's head commit;
 * - squash method: one commit whose subject ends with `(#<number>)`, as GitHub writes it;
 * - rebase method: the pull request's commits, rewritten, with nothing that names it.
 * The queue branch names only the last pull request (`gh-readonly-queue/<base>/pr-<number>-<sha>`), so the branch
 * name alone cannot judge a group of several.
 */
export interface GroupTrail {
  /** Head commits of pull requests merged into the group (second parents of its merge commits). */
  pullHeads: string[];
  /** Pull request numbers named by the group's squash or merge commit messages. */
  numbers: number[];
  /** Steps of the chain that name no pull request (a rebase), for the summary. */
  unnamed: string[];
}

export function groupTrail(commits: CommitFacts[], baseSha: string, headSha: string): GroupTrail {
  const bySha = new Map(commits.map((c) => [c.sha, c]));
  const trail: GroupTrail = { pullHeads: [], numbers: [], unnamed: [] };
  let sha = headSha;
  // Bounded by the listed commits: a chain that leaves the list (a truncated compare) just stops.
  for (let step = 0; step < commits.length && sha !== baseSha; step++) {
    const commit = bySha.get(sha);
    if (!commit) break;
    const subject = commit.message.split('\n')[0];
    const named = /^Merge pull request #(\d+) from /.exec(subject) ?? /\(#(\d+)\)$/.exec(subject);
    if (named) trail.numbers.push(Number(named[1]));
    if (commit.parents.length > 1) trail.pullHeads.push(commit.parents[1]);
    else if (!named) trail.unnamed.push(commit.sha);
    sha = commit.parents[0];
  }
  return trail;
}
