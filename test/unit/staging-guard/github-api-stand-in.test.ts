// The stand-in's checks must be able to fail: a wrong body, an unknown parameter or a call outside the API root
// are reported, so that the guard's tests cannot pass on traffic GitHub would not produce or accept.
import { GitHistory } from '../../stand-ins/git-history.js';
import { GitHubApiStandIn } from '../../stand-ins/github-api.js';
import { preloadOpenApi, validateRequest, validateResponse } from '../../stand-ins/github-openapi.js';

beforeAll(() => preloadOpenApi(), 60_000);

const CHECK_RUNS = '/repos/{owner}/{repo}/commits/{ref}/check-runs';
const COMMENTS = '/repos/{owner}/{repo}/issues/{issue_number}/comments';

test('a response that does not match the description is reported', () => {
  expect(validateResponse(CHECK_RUNS, 'get', 200, { total_count: 0, check_runs: [] })).toEqual([]);
  expect(validateResponse(CHECK_RUNS, 'get', 200, { total_count: 'one', check_runs: [{ name: 'test' }] })).toEqual(
    expect.arrayContaining([
      'checks/list-for-ref response 200: /total_count must be integer {"type":"integer"}',
      expect.stringMatching(/^checks\/list-for-ref response 200: \/check_runs\/0 must have required property 'id'/),
    ]),
  );
  expect(validateResponse(CHECK_RUNS, 'get', 403, { message: 'Resource not accessible by integration' })).toEqual([]);
  expect(validateResponse(CHECK_RUNS, 'get', 403, { message: 403 })).not.toEqual([]);
});

test('requests are checked against the operation parameters and body', () => {
  const params = { owner: 'o', repo: 'r', ref: 'abc' };
  expect(
    validateRequest(CHECK_RUNS, 'get', params, new URLSearchParams('per_page=100&page=2&filter=latest'), undefined),
  ).toEqual([]);
  expect(
    validateRequest(CHECK_RUNS, 'get', params, new URLSearchParams('per_page=many&sort=asc&filter=newest'), undefined),
  ).toEqual([
    expect.stringMatching(/query per_page=many: .*must be integer/),
    "checks/list-for-ref: unknown query parameter 'sort'",
    expect.stringMatching(/query filter=newest: .*must be equal to one of the allowed values/),
  ]);
  expect(
    validateRequest(COMMENTS, 'post', { owner: 'o', repo: 'r', issue_number: '1' }, new URLSearchParams(), {
      text: 'hi',
    }),
  ).toEqual([expect.stringMatching(/issues\/create-comment request body: \/ must have required property 'body'/)]);
  expect(validateRequest(CHECK_RUNS, 'get', params, new URLSearchParams(), { x: 1 })).toEqual([
    'checks/list-for-ref: sent a body to an operation that takes none',
  ]);
});

test('calls outside the API root, without the token, or to unknown endpoints are refused and reported', async () => {
  const git = GitHistory.create();
  const api = await GitHubApiStandIn.start({ owner: 'o', repo: 'r', git, token: 't0ken', prefix: '/api/v3' });
  try {
    const root = api.url.replace('/api/v3', '');
    const sha = git.resolve('master')!;
    expect(
      (await fetch(`${root}/repos/o/r/commits/${sha}/check-runs`, { headers: { authorization: 'token t0ken' } }))
        .status,
    ).toBe(404);
    const anonymous = await fetch(`${api.url}/repos/o/r/commits/${sha}/check-runs`);
    expect(anonymous.status).toBe(401);
    const ok = await fetch(`${api.url}/repos/o/r/commits/${sha}/check-runs`, {
      headers: { authorization: 'token t0ken' },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-ratelimit-limit')).toBe('5000');
    expect(Number(ok.headers.get('x-ratelimit-remaining'))).toBeLessThan(5000);
    expect((await fetch(`${api.url}/repos/o/r/branches`, { headers: { authorization: 'token t0ken' } })).status).toBe(
      404,
    );
    expect(api.problems).toEqual([
      expect.stringMatching(/not under the API root '\/api\/v3\/'/),
      expect.stringMatching(/GET \/repos\/o\/r\/branches: the stand-in does not serve it/),
    ]);
    expect(() => api.assertValid()).toThrow(/saw invalid traffic/);
  } finally {
    await api.stop();
    git.remove();
  }
});
