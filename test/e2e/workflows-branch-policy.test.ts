// runbook's own staging-guard.yml, run by the local workflow runner for a pull_request_target event: it calls the
// reusable branch-policy.yml, which checks runbook out at its own commit and runs the built staging guard from that
// checkout, against the GitHub API stand-in. staging → master with a green `ci` is allowed; feature → master is
// refused; the guard's own check run (`policy / Staging guard`, named by the caller job) is not waited for.
import { pullRequestEvent } from '../stand-ins/github-events.js';
import type { GitHubApiStandIn } from '../stand-ins/github-api.js';
import { preloadOpenApi } from '../stand-ins/github-openapi.js';
import { REPO, useStagingRepo, type StagingRepo } from '../support/staging-guard-world.js';
import { runWorkflow } from '../harness/workflow-runner.js';

const TOKEN = 'ghs_e2eWorkflowRunnerToken4b8e2d6f1a';

beforeAll(() => preloadOpenApi(), 60_000);

let repo: StagingRepo;
let api: GitHubApiStandIn;
useStagingRepo({ token: TOKEN, prefix: '/api/v3' }, (r) => {
  repo = r;
  api = r.api;
});

function pullRequestTarget(number: number, headRef: string, headSha: string) {
  api.addPull({ number, headRef, baseRef: 'master' });
  // The check of runbook's CI on the head, and the guard's own check run, still running while it judges.
  api.addCheckRun(headSha, { name: 'ci' });
  api.addCheckRun(headSha, { name: 'policy / Staging guard', pendingForMs: Infinity });
  return runWorkflow({
    workflow: '.github/workflows/staging-guard.yml',
    event: {
      name: 'pull_request_target',
      payload: pullRequestEvent({ repo: REPO, number, headRef, headSha, baseRef: 'master', baseSha: repo.masterSha }),
    },
    github: { repository: REPO, apiUrl: api.url, token: TOKEN, sha: repo.masterSha, ref: 'refs/heads/master' },
  });
}

test('staging → master: the called branch policy allows it', async () => {
  const run = await pullRequestTarget(7, 'staging', repo.stagingSha);
  expect(run.triggered).toBe(true);
  expect(run.jobs).toEqual([
    expect.objectContaining({ id: 'policy', result: 'success', outputs: { allowed: 'true', reasons: '[]' } }),
  ]);
  const [guard] = run.jobs[0].called!;
  expect(guard).toMatchObject({ id: 'guard', result: 'success' });
  expect(guard.steps.map((s) => s.outcome)).toEqual(['success', 'success']);
  expect(guard.steps[1].result?.summary).toContain('Staging guard: allowed');
}, 120_000);

test('feature → master: refused, and the run fails', async () => {
  repo.git.branch('feature/menu', 'master');
  const feature = repo.git.commit('feature/menu', 'Menu tweak');
  const run = await pullRequestTarget(8, 'feature/menu', feature);
  expect(run.conclusion).toBe('failure');
  expect(run.jobs[0].result).toBe('failure');
  expect(run.jobs[0].outputs.allowed).toBe('false');
  expect(JSON.parse(run.jobs[0].outputs.reasons)).toEqual([expect.stringMatching(/feature\/menu/)]);
}, 120_000);
