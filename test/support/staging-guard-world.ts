// The repository the staging guard's tests judge: `master`, and `staging` two commits ahead, in a real git
// history served by the GitHub API stand-in. Shared by the in-process tests and the e2e runs of the bundle.
import { GitHistory } from '../stand-ins/git-history.js';
import { GitHubApiStandIn } from '../stand-ins/github-api.js';
import { pullRequestEvent } from '../stand-ins/github-events.js';

export const REPO = 'ocpizza/site';

export interface StagingRepo {
  git: GitHistory;
  api: GitHubApiStandIn;
  masterSha: string;
  stagingSha: string;
}

/**
 * In a test file: a fresh history and stand-in before each test (handed to `use`), stopped and removed after it;
 * every request the stand-in answered must have matched GitHub's OpenAPI description. The history is built with git
 * once per file and copied for each test (the same commits, so the same shas in every test of the file): building
 * it took about 14 git processes per test.
 */
export function useStagingRepo(options: { token: string; prefix?: string }, use: (repo: StagingRepo) => void): void {
  let template: { git: GitHistory; masterSha: string; stagingSha: string } | undefined;
  let current: StagingRepo | undefined;
  beforeEach(async () => {
    if (!template) {
      const git = GitHistory.create();
      const masterSha = git.resolve('master')!;
      git.branch('staging', 'master');
      git.commit('staging', 'Add pizza sizes to the menu');
      const stagingSha = git.commit('staging', 'Fix order total rounding');
      template = { git, masterSha, stagingSha };
    }
    const git = template.git.copy();
    const { masterSha, stagingSha } = template;
    const api = await GitHubApiStandIn.start({ owner: 'ocpizza', repo: 'site', git, ...options });
    current = { git, api, masterSha, stagingSha };
    use(current);
  });
  afterEach(async () => {
    if (!current) return;
    await current.api.stop();
    current.git.remove();
    current.api.assertValid();
    current = undefined;
  });
  afterAll(() => {
    template?.git.remove();
    template = undefined;
  });
}

/** The checks the seeds require on `sha`, green, and the guard's own check run still in progress. */
export function addGreenChecks(api: GitHubApiStandIn, sha: string): void {
  api.addCheckRun(sha, { name: 'test' });
  api.addCheckRun(sha, { name: 'lint' });
  api.addStatus(sha, { context: 'coverage/90', state: 'success' });
  // The guard's own check run, still running while it judges: it must not wait for itself.
  api.addCheckRun(sha, { name: 'guard', pendingForMs: Infinity });
}

/**
 * A pull_request_target event (the set-up the README asks for) from `headRef` into master, from a fork when
 * `headRepo` names another repository.
 */
export function pullIntoMaster(
  repo: StagingRepo,
  pull: { number: number; headRef: string; headSha: string; headRepo?: string | null },
): { name: string; payload: unknown } {
  return {
    name: 'pull_request_target',
    payload: pullRequestEvent({ repo: REPO, ...pull, baseRef: 'master', baseSha: repo.masterSha }),
  };
}
