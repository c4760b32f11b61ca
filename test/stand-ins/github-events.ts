// Event payloads shaped like the ones GitHub writes to GITHUB_EVENT_PATH, for the events the staging guard judges.

export interface RepoRef {
  owner: string;
  repo: string;
}

function repository(full: string) {
  const [owner, name] = full.split('/');
  return { id: 42, name, full_name: full, owner: { login: owner }, private: false, default_branch: 'master' };
}

export function pullRequestEvent(options: {
  repo: string;
  action?: string;
  number: number;
  headRef: string;
  headSha: string;
  headRepo?: string | null;
  baseRef: string;
  baseSha: string;
}) {
  const headRepo = options.headRepo === undefined ? options.repo : options.headRepo;
  return {
    action: options.action ?? 'opened',
    number: options.number,
    pull_request: {
      number: options.number,
      state: 'open',
      head: { ref: options.headRef, sha: options.headSha, repo: headRepo ? repository(headRepo) : null },
      base: { ref: options.baseRef, sha: options.baseSha, repo: repository(options.repo) },
    },
    repository: repository(options.repo),
    sender: { login: 'ada-baker' },
  };
}

export function mergeGroupEvent(options: {
  repo: string;
  baseRef: string;
  baseSha: string;
  headSha: string;
  pullNumber: number;
}) {
  return {
    action: 'checks_requested',
    merge_group: {
      head_sha: options.headSha,
      head_ref: `refs/heads/gh-readonly-queue/${options.baseRef}/pr-${options.pullNumber}-${options.baseSha}`,
      base_sha: options.baseSha,
      base_ref: `refs/heads/${options.baseRef}`,
      head_commit: {
        id: options.headSha,
        tree_id: '0'.repeat(40),
        message: `Merge pull request #${options.pullNumber}`,
        timestamp: '2026-11-27T09:00:00Z',
        author: { name: 'Ada Baker', email: 'ada@ocpizza.example' },
        committer: { name: 'GitHub', email: 'noreply@github.com' },
      },
    },
    repository: repository(options.repo),
    sender: { login: 'ada-baker' },
  };
}

export function pushEvent(options: {
  repo: string;
  branch: string;
  before: string;
  after: string;
  pusher?: string;
  forced?: boolean;
  /** Epoch seconds, as GitHub sends repository.pushed_at in push payloads. */
  pushedAt?: number;
}) {
  return {
    ref: `refs/heads/${options.branch}`,
    before: options.before,
    after: options.after,
    created: false,
    deleted: false,
    forced: options.forced ?? false,
    pusher: { name: options.pusher ?? 'ada-baker', email: 'ada@ocpizza.example' },
    repository: { ...repository(options.repo), pushed_at: options.pushedAt ?? Math.floor(Date.now() / 1000) },
    head_commit: { id: options.after },
    sender: { login: options.pusher ?? 'ada-baker' },
  };
}
