import type { getOctokit } from '@actions/github';
import { ActionFailure, errorMessage } from '../shared/errors.js';
import { untrustedText } from '../shared/untrusted-text.js';
import type { CheckObservation, Comparison } from './policy.js';

export type Octokit = ReturnType<typeof getOctokit>;

/** A pull request as the guard needs it. */
export interface PullFacts {
  number: number;
  state: string;
  headRef: string;
  headSha: string;
  headRepo: string | null;
  baseRef: string;
  baseRepo: string;
  mergedAt: string | null;
  mergeCommitSha: string | null;
}

/** A commit as the merge-group walk needs it. */
export interface CommitFacts {
  sha: string;
  message: string;
  parents: string[];
}

export interface CommentFacts {
  id: number;
  body: string;
}

/** Everything the guard asks GitHub, behind one small interface so that `run` can be tested against a stand-in. */
export interface GitHubGateway {
  compare(base: string, head: string): Promise<Comparison>;
  /** The commits in head that base lacks, oldest first (GitHub's compare lists at most 250). */
  commitsBetween(base: string, head: string): Promise<CommitFacts[]>;
  checks(sha: string): Promise<CheckObservation[]>;
  getPull(number: number): Promise<PullFacts>;
  pullsForCommit(sha: string): Promise<PullFacts[]>;
  listComments(issue: number): Promise<CommentFacts[]>;
  createComment(issue: number, body: string): Promise<void>;
  updateComment(id: number, body: string): Promise<void>;
}

/**
 * Octokit from @actions/github: it reads GITHUB_API_URL (GitHub Enterprise Server) and the runner's proxy settings.
 * Loaded when an event needs the API, so a skipped event does not parse it.
 */
export async function defaultOctokit(token: string): Promise<Octokit> {
  return (await import('@actions/github')).getOctokit(token);
}

export function createGateway(octokit: Octokit, repository: { owner: string; repo: string }): GitHubGateway {
  const { owner, repo } = repository;
  const base = { owner, repo };

  return {
    async compare(baseRef, headRef) {
      const response = await call('compare the head with the base', 'contents: read', () =>
        octokit.rest.repos.compareCommitsWithBasehead({ ...base, basehead: `${baseRef}...${headRef}`, per_page: 1 }),
      );
      const { status, ahead_by, behind_by } = response.data;
      return { status, aheadBy: ahead_by, behindBy: behind_by };
    },

    async commitsBetween(baseRef, headRef) {
      const commits: CommitFacts[] = [];
      // The compare body is not a list, so octokit.paginate does not apply; GitHub stops at 250 commits.
      for (let page = 1; page <= 3; page++) {
        const response = await call('list the commits of the merge group', 'contents: read', () =>
          octokit.rest.repos.compareCommitsWithBasehead({
            ...base,
            basehead: `${baseRef}...${headRef}`,
            per_page: 100,
            page,
          }),
        );
        for (const commit of response.data.commits) {
          commits.push({ sha: commit.sha, message: commit.commit.message, parents: commit.parents.map((p) => p.sha) });
        }
        if (!/rel="next"/.test(String(response.headers.link ?? ''))) break;
      }
      return commits;
    },

    async checks(sha) {
      // Every run, not only the latest of each name: runs of the same name from other apps or other workflow runs
      // must not hide a failure, so the policy decides what replaces what.
      const runs = await call('list check runs', 'checks: read', () =>
        octokit.paginate(octokit.rest.checks.listForRef, { ...base, ref: sha, filter: 'all', per_page: 100 }),
      );
      const observations: CheckObservation[] = runs.map((run) => ({
        name: run.name,
        kind: 'check run',
        status: run.status,
        conclusion: run.conclusion ?? null,
        url: run.html_url ?? run.details_url ?? null,
        startedAt: run.started_at ?? null,
        app: run.app?.slug ?? null,
        appName: run.app?.name ?? null,
        suite: run.check_suite?.id ?? null,
      }));
      // Every status, newest first, with its creator: the combined status keeps only the newest per context,
      // whoever posted it, so a success from anyone with statuses: write would hide a failure.
      const statuses = await call('read commit statuses', 'statuses: read', () =>
        octokit.paginate(octokit.rest.repos.listCommitStatusesForRef, { ...base, ref: sha, per_page: 100 }),
      );
      for (const status of statuses) {
        observations.push({
          name: status.context,
          kind: 'status',
          status: status.state,
          conclusion: null,
          url: status.target_url ?? null,
          startedAt: status.created_at,
          app: status.creator?.login ?? null,
          appName: null,
        });
      }
      return observations;
    },

    async getPull(number) {
      const response = await call(`read pull request #${number}`, 'pull-requests: read', () =>
        octokit.rest.pulls.get({ ...base, pull_number: number }),
      );
      return pullFacts(response.data);
    },

    async pullsForCommit(sha) {
      const pulls = await call('list the pull requests of a commit', 'pull-requests: read', () =>
        octokit.paginate(octokit.rest.repos.listPullRequestsAssociatedWithCommit, {
          ...base,
          commit_sha: sha,
          per_page: 100,
        }),
      );
      return pulls.map(pullFacts);
    },

    async listComments(issue) {
      const comments = await call('list pull request comments', 'pull-requests: read', () =>
        octokit.paginate(octokit.rest.issues.listComments, { ...base, issue_number: issue, per_page: 100 }),
      );
      return comments.map((c) => ({ id: c.id, body: c.body ?? '' }));
    },

    async createComment(issue, body) {
      await call('comment on the pull request', 'pull-requests: write', () =>
        octokit.rest.issues.createComment({ ...base, issue_number: issue, body }),
      );
    },

    async updateComment(id, body) {
      await call('update the guard comment', 'pull-requests: write', () =>
        octokit.rest.issues.updateComment({ ...base, comment_id: id, body }),
      );
    },
  };
}

interface PullLike {
  number: number;
  state: string;
  head: { ref: string; sha: string; repo: { full_name: string } | null };
  base: { ref: string; repo: { full_name: string } };
  merged_at: string | null;
  merge_commit_sha: string | null;
}

function pullFacts(pull: PullLike): PullFacts {
  return {
    number: pull.number,
    state: pull.state,
    headRef: pull.head.ref,
    headSha: pull.head.sha,
    headRepo: pull.head.repo?.full_name ?? null,
    baseRef: pull.base.ref,
    baseRepo: pull.base.repo.full_name,
    mergedAt: pull.merged_at,
    mergeCommitSha: pull.merge_commit_sha,
  };
}

interface HttpErrorLike {
  status: number;
  message: string;
  response?: { headers?: Record<string, string | number | undefined> };
}

function isHttpError(error: unknown): error is HttpErrorLike {
  return typeof error === 'object' && error !== null && typeof (error as { status?: unknown }).status === 'number';
}

/**
 * Runs one API call and turns the errors a user can fix into one readable sentence: a token without the
 * permission (GitHub answers 403, or 404 to hide a private resource), or a spent rate limit.
 */
export async function call<T>(what: string, permission: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw explainRequestError(error, what, permission);
  }
}

/** What the guard's job needs, said the way a workflow writes it. */
export const JOB_PERMISSIONS =
  'contents: read, checks: read, statuses: read and pull-requests: read (pull-requests: write when comment is true)';

export function explainRequestError(error: unknown, what: string, permission: string): Error {
  if (!isHttpError(error)) return new ActionFailure(`Could not ${what}: ${untrustedText(errorMessage(error))}`);
  const headers = error.response?.headers ?? {};
  // GitHub's own words, but from a server: neutralised before they reach the log.
  const firstLine = untrustedText(error.message.split('\n')[0].replace(/ - https:\/\/docs\.github\.com\S*$/, ''));
  if ((error.status === 403 || error.status === 429) && String(headers['x-ratelimit-remaining']) === '0') {
    const reset = Number(headers['x-ratelimit-reset']);
    const when = Number.isFinite(reset) && reset > 0 ? ` It resets at ${new Date(reset * 1000).toISOString()}.` : '';
    return new ActionFailure(`Could not ${what}: the GitHub API rate limit for this token is spent.${when}`);
  }
  if (error.status === 403 || error.status === 404) {
    // GitHub names the permission the endpoint needs in this header when the token lacks it.
    const accepted = headers['x-accepted-github-permissions'];
    const needs = accepted ? ` (GitHub accepts: ${untrustedText(String(accepted))})` : '';
    return new ActionFailure(
      `Could not ${what}: GitHub answered ${error.status} (${firstLine}). The token lacks '${permission}'${needs}. ` +
        `Give the job \`permissions:\` with ${JOB_PERMISSIONS}, or pass a token that has them in github-token.`,
    );
  }
  return new ActionFailure(`Could not ${what}: GitHub answered ${error.status} (${firstLine}).`);
}
