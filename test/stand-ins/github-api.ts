// A local stand-in for the parts of GitHub's REST API the staging guard and the release workflow use: compare
// (computed by git from a real repository), check runs and commit statuses (with pagination and checks that turn
// from pending to done over time), pull requests and issue comments, and for a release: tags as git references
// (created and moved in the real repository, so a later `uses: …@v1` sees them) and releases. Every request is recorded and checked against the operation's
// parameters, and every response body is validated against @octokit/openapi; problems are collected and
// `assertValid()` fails the test that caused them.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GitHistory } from './git-history.js';
import { validateRequest, validateResponse } from './github-openapi.js';

export type CheckConclusion =
  'success' | 'failure' | 'neutral' | 'cancelled' | 'skipped' | 'timed_out' | 'action_required';

export interface CheckRunSpec {
  name: string;
  /** Final conclusion (default success). */
  conclusion?: CheckConclusion;
  /** Stays queued or in progress for this long after it is added, then completes; Infinity never completes. */
  pendingForMs?: number;
  /**
   * Stays in progress for this many listings of its commit's check runs, then completes: a wait driven by the
   * guard's own polls, so a test does not depend on how fast the machine is.
   */
  pendingForPolls?: number;
  /** When it started; default: when it was added. */
  startedAt?: string;
  detailsUrl?: string;
  /** The GitHub App that made it; default GitHub Actions. */
  app?: { slug: string; name: string; id: number };
  /** Its check suite (for GitHub Actions, the workflow run); default one suite per check run. */
  checkSuiteId?: number;
}

export interface StatusSpec {
  context: string;
  state: 'success' | 'failure' | 'error' | 'pending';
  /** Pending for this long after it is added, then `state`. */
  pendingForMs?: number;
  createdAt?: string;
  /** Login of the user or bot that posted it; default ci-bot. */
  creator?: string;
}

export interface PullSpec {
  number: number;
  headRef: string;
  /** Default: the current sha of headRef (or of `headBranchInGit`) in the git repository. */
  headSha?: string;
  /** The branch in the local git repository that holds the head (a fork's branch lives under another name). */
  headBranchInGit?: string;
  /** owner/name of the head repository; default the repository itself; null for a deleted fork. */
  headRepo?: string | null;
  baseRef: string;
  state?: 'open' | 'closed';
  mergeCommitSha?: string | null;
  mergedAt?: string | null;
  title?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  operationId: string;
  query: Record<string, string>;
  body: unknown;
  authorization: string;
}

export interface StandInOptions {
  owner: string;
  repo: string;
  git: GitHistory;
  token: string;
  /** '/api/v3' to look like GitHub Enterprise Server; '' for api.github.com. */
  prefix?: string;
}

/** A permission the stand-in can withhold, as GitHub's fine-grained tokens name them. */
export type Permission =
  'checks' | 'statuses' | 'pull-requests' | 'pull-requests:write' | 'contents' | 'contents:write';

/** A release the stand-in holds (created through POST /releases). */
export interface StoredRelease {
  id: number;
  tagName: string;
  targetCommitish: string;
  name: string;
  body: string;
  draft: boolean;
  prerelease: boolean;
  createdAt: string;
}

interface StoredCheck extends CheckRunSpec {
  id: number;
  sha: string;
  addedAt: number;
  /** Listings of its commit's check runs so far. */
  polls: number;
}
interface StoredStatus extends StatusSpec {
  id: number;
  sha: string;
  addedAt: number;
}
interface StoredComment {
  id: number;
  issue: number;
  body: string;
  createdAt: string;
  updatedAt: string;
}

type Handler = (ctx: RequestContext) => { status: number; body: unknown; headers?: Record<string, string> };

interface RequestContext {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  path: string;
}

interface Route {
  method: string;
  template: string;
  regex: RegExp;
  names: string[];
  needs: Permission;
  handler: Handler;
}

const EPOCH = '2026-11-27T08:00:00Z';

export class GitHubApiStandIn {
  readonly requests: RecordedRequest[] = [];
  readonly problems: string[] = [];
  private readonly checks: StoredCheck[] = [];
  private readonly statuses: StoredStatus[] = [];
  private readonly pulls = new Map<number, PullSpec>();
  private readonly comments: StoredComment[] = [];
  private readonly storedReleases: StoredRelease[] = [];
  private readonly denied = new Set<Permission>();
  private nextId = 1000;
  private rateRemaining = 5000;
  private readonly routes: Route[] = [];
  url = '';

  private constructor(
    private readonly options: StandInOptions,
    private readonly server: Server,
  ) {
    this.route('GET', '/repos/{owner}/{repo}/compare/{basehead}', 'contents', (c) => this.compare(c));
    this.route('GET', '/repos/{owner}/{repo}/commits/{ref}/check-runs', 'checks', (c) => this.listCheckRuns(c));
    this.route('GET', '/repos/{owner}/{repo}/commits/{ref}/status', 'statuses', (c) => this.combinedStatus(c));
    this.route('GET', '/repos/{owner}/{repo}/commits/{ref}/statuses', 'statuses', (c) => this.listStatuses(c));
    this.route('GET', '/repos/{owner}/{repo}/commits/{commit_sha}/pulls', 'pull-requests', (c) =>
      this.pullsForCommit(c),
    );
    this.route('GET', '/repos/{owner}/{repo}/pulls/{pull_number}', 'pull-requests', (c) => this.getPull(c));
    this.route('GET', '/repos/{owner}/{repo}/issues/{issue_number}/comments', 'pull-requests', (c) =>
      this.listComments(c),
    );
    this.route('POST', '/repos/{owner}/{repo}/issues/{issue_number}/comments', 'pull-requests:write', (c) =>
      this.createComment(c),
    );
    this.route('PATCH', '/repos/{owner}/{repo}/issues/comments/{comment_id}', 'pull-requests:write', (c) =>
      this.updateComment(c),
    );
    this.route('POST', '/repos/{owner}/{repo}/git/refs', 'contents:write', (c) => this.createRef(c));
    this.route('PATCH', '/repos/{owner}/{repo}/git/refs/{ref}', 'contents:write', (c) => this.updateRef(c));
    this.route('GET', '/repos/{owner}/{repo}/releases/tags/{tag}', 'contents', (c) => this.releaseByTag(c));
    this.route('POST', '/repos/{owner}/{repo}/releases', 'contents:write', (c) => this.createRelease(c));
  }

  static async start(options: StandInOptions): Promise<GitHubApiStandIn> {
    const server = createServer();
    const standIn = new GitHubApiStandIn(options, server);
    server.on('request', (req, res) => standIn.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    standIn.url = `http://127.0.0.1:${port}${options.prefix ?? ''}`;
    return standIn;
  }

  get fullName(): string {
    return `${this.options.owner}/${this.options.repo}`;
  }

  addCheckRun(sha: string, spec: CheckRunSpec): void {
    this.checks.push({ ...spec, id: this.nextId++, sha, addedAt: Date.now(), polls: 0 });
  }

  addStatus(sha: string, spec: StatusSpec): void {
    this.statuses.push({ ...spec, id: this.nextId++, sha, addedAt: Date.now() });
  }

  addPull(spec: PullSpec): void {
    this.pulls.set(spec.number, spec);
  }

  addComment(issue: number, body: string): number {
    const id = this.nextId++;
    this.comments.push({ id, issue, body, createdAt: EPOCH, updatedAt: EPOCH });
    return id;
  }

  commentsOn(issue: number): { id: number; body: string }[] {
    return this.comments.filter((c) => c.issue === issue).map(({ id, body }) => ({ id, body }));
  }

  /** The releases created so far, oldest first. */
  get releases(): readonly StoredRelease[] {
    return this.storedReleases;
  }

  /** Forgets a release (as deleting it on GitHub would; its tag stays). */
  deleteRelease(tagName: string): void {
    const index = this.storedReleases.findIndex((r) => r.tagName === tagName);
    if (index >= 0) this.storedReleases.splice(index, 1);
  }

  deny(permission: Permission): void {
    this.denied.add(permission);
  }

  setRateLimitRemaining(remaining: number): void {
    this.rateRemaining = remaining;
  }

  /** Throws with every request or response that did not match GitHub's description. */
  assertValid(): void {
    if (this.problems.length > 0)
      throw new Error(`GitHub API stand-in saw invalid traffic:\n${this.problems.join('\n')}`);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // -------------------------------------------------------------------------------------------------------------

  private route(method: string, template: string, needs: Permission, handler: Handler): void {
    const names: string[] = [];
    const regex = new RegExp(
      `^${template.replace(/\{(\w+)\}/g, (_, name: string) => {
        names.push(name);
        // compare's basehead and a git reference (`tags/v1`) may hold slashes; the other parameters never do.
        return name === 'basehead' || template.endsWith('/git/refs/{ref}') ? '(.+)' : '([^/]+)';
      })}$`,
    );
    this.routes.push({ method, template, regex, names, needs, handler });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://stand-in');
      const prefix = this.options.prefix ?? '';
      if (!url.pathname.startsWith(`${prefix}/`)) {
        this.problems.push(
          `${req.method} ${url.pathname}: not under the API root '${prefix}/' (GITHUB_API_URL not honoured?)`,
        );
        return this.send(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
      }
      const path = url.pathname.slice(prefix.length);
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        this.problems.push(`${req.method} ${path}: request body is not JSON`);
      }
      const route = this.routes.find((r) => r.method === req.method && r.regex.test(path));
      if (!route) {
        this.problems.push(
          `${req.method} ${path}: the stand-in does not serve it (the guard called an unexpected endpoint)`,
        );
        return this.send(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
      }
      const match = route.regex.exec(path)!;
      const params = Object.fromEntries(route.names.map((n, i) => [n, decodeURIComponent(match[i + 1])]));
      const operationId = route.template;
      this.requests.push({
        method: route.method,
        path,
        operationId,
        query: Object.fromEntries(url.searchParams),
        body,
        authorization: String(req.headers.authorization ?? ''),
      });
      this.problems.push(...validateRequest(route.template, route.method, params, url.searchParams, body));

      const reply = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        this.problems.push(...validateResponse(route.template, route.method, status, payload));
        this.send(res, status, payload, headers);
      };
      const auth = String(req.headers.authorization ?? '');
      if (auth !== `token ${this.options.token}` && auth !== `Bearer ${this.options.token}`) {
        return reply(401, {
          message: 'Bad credentials',
          documentation_url: 'https://docs.github.com/rest',
          status: '401',
        });
      }
      if (this.rateRemaining <= 0) {
        return reply(403, {
          message: 'API rate limit exceeded for installation.',
          documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
          status: '403',
        });
      }
      this.rateRemaining -= 1;
      if (params.owner !== this.options.owner || params.repo !== this.options.repo) {
        return reply(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
      }
      if (this.denied.has(route.needs)) {
        const [scope, level] = route.needs.split(':');
        return reply(
          403,
          {
            message: 'Resource not accessible by integration',
            documentation_url: 'https://docs.github.com/rest',
            status: '403',
          },
          { 'x-accepted-github-permissions': `${scope}=${level ?? 'read'}` },
        );
      }
      try {
        const result = route.handler({ params, query: url.searchParams, body, path });
        reply(result.status, result.body, result.headers);
      } catch (error) {
        this.problems.push(`${req.method} ${path}: stand-in error ${String(error)}`);
        this.send(res, 500, { message: String(error) });
      }
    });
  }

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'x-github-api-version-selected': '2022-11-28',
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': String(Math.max(this.rateRemaining, 0)),
      'x-ratelimit-used': String(5000 - Math.max(this.rateRemaining, 0)),
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
      'x-ratelimit-resource': 'core',
      ...headers,
    });
    res.end(text);
  }

  /** One page of `items` by per_page/page, with GitHub's Link header. */
  private paginate<T>(
    ctx: RequestContext,
    items: T[],
    defaultPerPage = 30,
  ): { page: T[]; headers: Record<string, string> } {
    const perPage = Math.min(Number(ctx.query.get('per_page') ?? defaultPerPage) || defaultPerPage, 100);
    const page = Math.max(Number(ctx.query.get('page') ?? 1) || 1, 1);
    const last = Math.max(Math.ceil(items.length / perPage), 1);
    const link = (n: number, rel: string) => {
      const q = new URLSearchParams(ctx.query);
      q.set('page', String(n));
      q.set('per_page', String(perPage));
      return `<${this.url}${ctx.path}?${q}>; rel="${rel}"`;
    };
    const links: string[] = [];
    if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
    if (page > 1) links.push(link(1, 'first'), link(page - 1, 'prev'));
    return {
      page: items.slice((page - 1) * perPage, page * perPage),
      headers: links.length ? { link: links.join(', ') } : {},
    };
  }

  private resolve(ref: string): string | undefined {
    // `owner:branch` names a branch of a repository in the fork network; the local repo holds them all, a fork's
    // branches under the name its pull request gives (headBranchInGit).
    const [owner, branch] = ref.includes(':') ? ref.split(':', 2) : [this.options.owner, ref];
    if (owner !== this.options.owner) {
      const pull = [...this.pulls.values()].find((p) => p.headRepo?.split('/')[0] === owner && p.headRef === branch);
      return pull ? this.options.git.resolve(pull.headBranchInGit ?? branch) : undefined;
    }
    return this.options.git.resolve(branch);
  }

  private notFound() {
    return {
      status: 404,
      body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' },
    };
  }

  // ---- compare ------------------------------------------------------------------------------------------------

  private compare(ctx: RequestContext) {
    const [baseName, headName] = ctx.params.basehead.split('...');
    const base = baseName && this.resolve(baseName);
    const head = headName && this.resolve(headName);
    if (!base || !head) return this.notFound();
    const git = this.options.git;
    // Left: commits only in base (how far head is behind); right: only in head (how far it is ahead).
    const [behind, ahead] = git
      .git('rev-list', '--left-right', '--count', `${base}...${head}`)
      .split(/\s+/)
      .map(Number);
    const mergeBase = git.git('merge-base', base, head);
    const status =
      ahead === 0 && behind === 0 ? 'identical' : behind === 0 ? 'ahead' : ahead === 0 ? 'behind' : 'diverged';
    const shas = ahead === 0 ? [] : git.git('rev-list', '--reverse', `${base}..${head}`).split('\n');
    const { page, headers } = this.paginate(ctx, shas, 250);
    const html = `https://github.com/${this.fullName}/compare/${baseName}...${headName}`;
    return {
      status: 200,
      headers,
      body: {
        url: `${this.url}/repos/${this.fullName}/compare/${baseName}...${headName}`,
        html_url: html,
        permalink_url: `https://github.com/${this.fullName}/compare/${base.slice(0, 7)}...${head.slice(0, 7)}`,
        diff_url: `${html}.diff`,
        patch_url: `${html}.patch`,
        base_commit: this.commitObject(base),
        merge_base_commit: this.commitObject(mergeBase),
        status,
        ahead_by: ahead,
        behind_by: behind,
        total_commits: ahead,
        commits: page.map((sha) => this.commitObject(sha)),
      },
    };
  }

  private commitObject(sha: string) {
    const info = this.options.git.info(sha);
    const api = `${this.url}/repos/${this.fullName}`;
    return {
      url: `${api}/commits/${sha}`,
      sha,
      node_id: nodeId('C', sha),
      html_url: `https://github.com/${this.fullName}/commit/${sha}`,
      comments_url: `${api}/commits/${sha}/comments`,
      commit: {
        url: `${api}/git/commits/${sha}`,
        author: { name: info.authorName, email: info.authorEmail, date: info.authorDate },
        committer: { name: info.committerName, email: info.committerEmail, date: info.committerDate },
        message: info.message,
        comment_count: 0,
        tree: { sha: info.tree, url: `${api}/git/trees/${info.tree}` },
        verification: { verified: false, reason: 'unsigned', payload: null, signature: null, verified_at: null },
      },
      author: user('ada-baker', 501),
      committer: user('ada-baker', 501),
      parents: info.parents.map((p) => ({
        sha: p,
        url: `${api}/commits/${p}`,
        html_url: `https://github.com/${this.fullName}/commit/${p}`,
      })),
    };
  }

  // ---- checks and statuses ------------------------------------------------------------------------------------

  private checkRunObject(check: StoredCheck) {
    const now = Date.now();
    const done =
      check.pendingForPolls !== undefined
        ? check.polls > check.pendingForPolls
        : check.pendingForMs === undefined || now >= check.addedAt + check.pendingForMs;
    const startedAt = check.startedAt ?? new Date(check.addedAt).toISOString();
    const api = `${this.url}/repos/${this.fullName}`;
    const html = check.detailsUrl ?? `https://github.com/${this.fullName}/actions/runs/77${check.id}/job/${check.id}`;
    return {
      id: check.id,
      node_id: nodeId('CR', String(check.id)),
      head_sha: check.sha,
      external_id: '',
      url: `${api}/check-runs/${check.id}`,
      html_url: html,
      details_url: html,
      status: done ? 'completed' : now - check.addedAt < 200 && check.polls <= 1 ? 'queued' : 'in_progress',
      conclusion: done ? (check.conclusion ?? 'success') : null,
      started_at: startedAt,
      completed_at: done
        ? new Date(
            Math.max(Date.parse(startedAt), Math.min(now, check.addedAt + (check.pendingForMs ?? 0))),
          ).toISOString()
        : null,
      output: {
        title: null,
        summary: null,
        text: null,
        annotations_count: 0,
        annotations_url: `${api}/check-runs/${check.id}/annotations`,
      },
      name: check.name,
      check_suite: { id: check.checkSuiteId ?? 9000 + check.id },
      app: check.app ? appObject(check.app) : githubActionsApp(),
      pull_requests: [],
    };
  }

  private listCheckRuns(ctx: RequestContext) {
    const sha = this.resolve(ctx.params.ref);
    if (!sha)
      return {
        status: 422,
        body: {
          message: `No commit found for SHA: ${ctx.params.ref}`,
          documentation_url: 'https://docs.github.com/rest',
        },
      };
    const stored = this.checks.filter((c) => c.sha === sha);
    // One listing is one poll, whichever page the guard reads first.
    if ((ctx.query.get('page') ?? '1') === '1') for (const check of stored) check.polls += 1;
    const runs = stored.map((c) => this.checkRunObject(c));
    const { page, headers } = this.paginate(ctx, runs);
    return { status: 200, headers, body: { total_count: runs.length, check_runs: page } };
  }

  private statusObject(status: StoredStatus) {
    const done = status.pendingForMs === undefined || Date.now() >= status.addedAt + status.pendingForMs;
    const created = status.createdAt ?? new Date(status.addedAt).toISOString();
    return {
      url: `${this.url}/repos/${this.fullName}/statuses/${status.sha}`,
      avatar_url: 'https://avatars.githubusercontent.com/u/9919?v=4',
      id: status.id,
      node_id: nodeId('SC', String(status.id)),
      state: done ? status.state : 'pending',
      description: done ? `${status.context}: ${status.state}` : `${status.context} is running`,
      target_url: `https://ci.ocpizza.example/builds/${status.id}`,
      context: status.context,
      created_at: created,
      updated_at: created,
      creator: user(
        status.creator ?? 'ci-bot',
        status.creator ? 710 : 700,
        status.creator?.endsWith('[bot]') ? 'Bot' : 'User',
      ),
    };
  }

  /** Newest first, as GitHub lists them. */
  private statusesFor(sha: string) {
    return this.statuses
      .filter((s) => s.sha === sha)
      .map((s) => this.statusObject(s))
      .reverse();
  }

  private combinedStatus(ctx: RequestContext) {
    const sha = this.resolve(ctx.params.ref);
    if (!sha) return this.notFound();
    const latest = new Map<string, ReturnType<GitHubApiStandIn['statusObject']>>();
    for (const s of this.statusesFor(sha)) if (!latest.has(s.context)) latest.set(s.context, s);
    const all = [...latest.values()];
    const state = all.some((s) => s.state === 'failure' || s.state === 'error')
      ? 'failure'
      : all.length === 0 || all.some((s) => s.state === 'pending')
        ? 'pending'
        : 'success';
    const { page, headers } = this.paginate(ctx, all, 100);
    return {
      status: 200,
      headers,
      body: {
        state,
        statuses: page.map(({ creator: _c, ...s }) => ({ ...s, required: false })),
        sha,
        total_count: all.length,
        repository: repositoryObject(this.options.owner, this.options.repo, 42, false),
        commit_url: `${this.url}/repos/${this.fullName}/commits/${sha}`,
        url: `${this.url}/repos/${this.fullName}/commits/${sha}/status`,
      },
    };
  }

  private listStatuses(ctx: RequestContext) {
    const sha = this.resolve(ctx.params.ref);
    if (!sha) return this.notFound();
    const { page, headers } = this.paginate(ctx, this.statusesFor(sha));
    return { status: 200, headers, body: page };
  }

  // ---- pull requests and comments ------------------------------------------------------------------------------

  private pullObject(spec: PullSpec, full: boolean) {
    const git = this.options.git;
    const headSha = spec.headSha ?? git.resolve(spec.headBranchInGit ?? spec.headRef) ?? '0'.repeat(40);
    const baseSha = git.resolve(spec.baseRef) ?? '0'.repeat(40);
    const headRepoName = spec.headRepo === undefined ? this.fullName : spec.headRepo;
    const [headOwner, headName] = (headRepoName ?? `ghost/${this.options.repo}`).split('/');
    const api = `${this.url}/repos/${this.fullName}`;
    const html = `https://github.com/${this.fullName}/pull/${spec.number}`;
    const merged = spec.mergedAt != null;
    const state = spec.state ?? (merged ? 'closed' : 'open');
    const link = (href: string) => ({ href });
    const simple = {
      url: `${api}/pulls/${spec.number}`,
      id: 80_000 + spec.number,
      node_id: nodeId('PR', String(spec.number)),
      html_url: html,
      diff_url: `${html}.diff`,
      patch_url: `${html}.patch`,
      issue_url: `${api}/issues/${spec.number}`,
      commits_url: `${api}/pulls/${spec.number}/commits`,
      review_comments_url: `${api}/pulls/${spec.number}/comments`,
      review_comment_url: `${api}/pulls/comments{/number}`,
      comments_url: `${api}/issues/${spec.number}/comments`,
      statuses_url: `${api}/statuses/${headSha}`,
      number: spec.number,
      state,
      locked: false,
      title: spec.title ?? `${spec.headRef} → ${spec.baseRef}`,
      user: user(headOwner, 600),
      body: null,
      labels: [],
      milestone: null,
      active_lock_reason: null,
      created_at: EPOCH,
      updated_at: EPOCH,
      closed_at: state === 'closed' ? (spec.mergedAt ?? EPOCH) : null,
      merged_at: spec.mergedAt ?? null,
      merge_commit_sha: spec.mergeCommitSha ?? null,
      assignee: null,
      assignees: [],
      requested_reviewers: [],
      requested_teams: [],
      head: {
        label: `${headOwner}:${spec.headRef}`,
        ref: spec.headRef,
        sha: headSha,
        user: user(headOwner, 600),
        repo: repositoryObject(
          headOwner,
          headName,
          headRepoName === this.fullName ? 42 : 43,
          headRepoName !== this.fullName,
        ),
      },
      base: {
        label: `${this.options.owner}:${spec.baseRef}`,
        ref: spec.baseRef,
        sha: baseSha,
        user: user(this.options.owner, 500),
        repo: repositoryObject(this.options.owner, this.options.repo, 42, false),
      },
      _links: {
        self: link(`${api}/pulls/${spec.number}`),
        html: link(html),
        issue: link(`${api}/issues/${spec.number}`),
        comments: link(`${api}/issues/${spec.number}/comments`),
        review_comments: link(`${api}/pulls/${spec.number}/comments`),
        review_comment: link(`${api}/pulls/comments{/number}`),
        commits: link(`${api}/pulls/${spec.number}/commits`),
        statuses: link(`${api}/statuses/${headSha}`),
      },
      author_association: 'MEMBER',
      auto_merge: null,
      draft: false,
    };
    if (!full) return simple;
    return {
      ...simple,
      merged,
      mergeable: state === 'open' ? true : null,
      rebaseable: state === 'open' ? true : null,
      mergeable_state: state === 'open' ? 'clean' : 'unknown',
      merged_by: merged ? user('ada-baker', 501) : null,
      comments: this.comments.filter((c) => c.issue === spec.number).length,
      review_comments: 0,
      maintainer_can_modify: false,
      commits: 1,
      additions: 1,
      deletions: 0,
      changed_files: 1,
    };
  }

  private getPull(ctx: RequestContext) {
    const spec = this.pulls.get(Number(ctx.params.pull_number));
    return spec ? { status: 200, body: this.pullObject(spec, true) } : this.notFound();
  }

  private pullsForCommit(ctx: RequestContext) {
    const sha = this.resolve(ctx.params.commit_sha);
    if (!sha) return this.notFound();
    const related = [...this.pulls.values()]
      .filter((p) => p.mergeCommitSha === sha || this.pullObject(p, false).head.sha === sha)
      .map((p) => this.pullObject(p, false));
    const { page, headers } = this.paginate(ctx, related);
    return { status: 200, headers, body: page };
  }

  private commentObject(comment: StoredComment) {
    const api = `${this.url}/repos/${this.fullName}`;
    return {
      id: comment.id,
      node_id: nodeId('IC', String(comment.id)),
      url: `${api}/issues/comments/${comment.id}`,
      html_url: `https://github.com/${this.fullName}/pull/${comment.issue}#issuecomment-${comment.id}`,
      body: comment.body,
      user: user('github-actions[bot]', 41898282, 'Bot'),
      created_at: comment.createdAt,
      updated_at: comment.updatedAt,
      issue_url: `${api}/issues/${comment.issue}`,
      author_association: 'NONE',
    };
  }

  private listComments(ctx: RequestContext) {
    const issue = Number(ctx.params.issue_number);
    if (!this.pulls.has(issue)) return this.notFound();
    const { page, headers } = this.paginate(
      ctx,
      this.comments.filter((c) => c.issue === issue).map((c) => this.commentObject(c)),
    );
    return { status: 200, headers, body: page };
  }

  private createComment(ctx: RequestContext) {
    const issue = Number(ctx.params.issue_number);
    if (!this.pulls.has(issue)) return this.notFound();
    const now = new Date().toISOString();
    const comment = {
      id: this.nextId++,
      issue,
      body: String((ctx.body as { body?: unknown }).body),
      createdAt: now,
      updatedAt: now,
    };
    this.comments.push(comment);
    return {
      status: 201,
      body: this.commentObject(comment),
      headers: { location: `${this.url}/repos/${this.fullName}/issues/comments/${comment.id}` },
    };
  }

  private updateComment(ctx: RequestContext) {
    const comment = this.comments.find((c) => c.id === Number(ctx.params.comment_id));
    if (!comment) return this.notFound();
    comment.body = String((ctx.body as { body?: unknown }).body);
    comment.updatedAt = new Date().toISOString();
    return { status: 200, body: this.commentObject(comment) };
  }

  // ---- git references and releases ------------------------------------------------------------------------------

  private validationFailed(message: string, resource?: string, field?: string, code = 'custom') {
    return {
      status: 422,
      body: {
        message,
        documentation_url: 'https://docs.github.com/rest',
        ...(resource ? { errors: [{ resource, code, ...(field ? { field } : {}) }] } : {}),
      },
    };
  }

  private refObject(ref: string, sha: string) {
    const api = `${this.url}/repos/${this.fullName}`;
    return {
      ref,
      node_id: nodeId('REF', ref),
      url: `${api}/git/${ref}`,
      object: { type: 'commit', sha, url: `${api}/git/commits/${sha}` },
    };
  }

  /** The commit a full sha names in the repository, or undefined (GitHub takes only a full sha here). */
  private commitSha(sha: unknown): string | undefined {
    if (typeof sha !== 'string' || !/^[0-9a-f]{40}$/.test(sha)) return undefined;
    return this.options.git.resolve(sha) === sha ? sha : undefined;
  }

  private refExists(ref: string): string | undefined {
    try {
      return this.options.git.git('rev-parse', '--verify', '--quiet', ref);
    } catch {
      return undefined;
    }
  }

  private createRef(ctx: RequestContext) {
    const { ref, sha } = ctx.body as { ref: string; sha: string };
    if (!/^refs\/[^/]+\/.+/.test(ref)) return this.validationFailed(`${ref} is not a valid ref name.`);
    const commit = this.commitSha(sha);
    if (!commit) return this.validationFailed('Object does not exist');
    if (this.refExists(ref) !== undefined) return this.validationFailed('Reference already exists');
    this.options.git.git('update-ref', ref, commit, '');
    return {
      status: 201,
      body: this.refObject(ref, commit),
      headers: { location: `${this.url}/repos/${this.fullName}/git/${ref}` },
    };
  }

  private updateRef(ctx: RequestContext) {
    const ref = `refs/${ctx.params.ref}`;
    const { sha, force } = ctx.body as { sha: string; force?: boolean };
    const current = this.refExists(ref);
    if (current === undefined) return this.validationFailed('Reference does not exist');
    const commit = this.commitSha(sha);
    if (!commit) return this.validationFailed('Object does not exist');
    const fastForward = this.options.git.git('merge-base', current, commit) === current;
    if (!force && !fastForward) return this.validationFailed('Update is not a fast forward');
    this.options.git.git('update-ref', ref, commit, current);
    return { status: 200, body: this.refObject(ref, commit) };
  }

  private releaseObject(release: StoredRelease) {
    const api = `${this.url}/repos/${this.fullName}`;
    const html = `https://github.com/${this.fullName}/releases/tag/${release.tagName}`;
    return {
      url: `${api}/releases/${release.id}`,
      html_url: html,
      assets_url: `${api}/releases/${release.id}/assets`,
      upload_url: `https://uploads.github.com/repos/${this.fullName}/releases/${release.id}/assets{?name,label}`,
      tarball_url: `${api}/tarball/${release.tagName}`,
      zipball_url: `${api}/zipball/${release.tagName}`,
      id: release.id,
      node_id: nodeId('RE', String(release.id)),
      tag_name: release.tagName,
      target_commitish: release.targetCommitish,
      name: release.name,
      body: release.body,
      draft: release.draft,
      prerelease: release.prerelease,
      created_at: release.createdAt,
      published_at: release.draft ? null : release.createdAt,
      author: user('github-actions[bot]', 41898282, 'Bot'),
      assets: [],
    };
  }

  private releaseByTag(ctx: RequestContext) {
    const release = this.storedReleases.find((r) => r.tagName === ctx.params.tag);
    return release ? { status: 200, body: this.releaseObject(release) } : this.notFound();
  }

  /**
   * As GitHub: a release of an existing tag, or of a new one made at target_commitish (default branch master); one
   * release per tag (422 already_exists); generated notes name the full changelog from the previous release's tag.
   */
  private createRelease(ctx: RequestContext) {
    const body = ctx.body as {
      tag_name: string;
      target_commitish?: string;
      name?: string;
      body?: string;
      draft?: boolean;
      prerelease?: boolean;
      generate_release_notes?: boolean;
    };
    const tag = body.tag_name;
    if (this.storedReleases.some((r) => r.tagName === tag))
      return this.validationFailed('Validation Failed', 'Release', 'tag_name', 'already_exists');
    if (this.refExists(`refs/tags/${tag}`) === undefined) {
      const target = this.options.git.resolve(body.target_commitish ?? 'master');
      if (!target) return this.validationFailed('Validation Failed', 'Release', 'target_commitish', 'invalid');
      this.options.git.git('update-ref', `refs/tags/${tag}`, target, '');
    }
    const previous = this.storedReleases.at(-1)?.tagName;
    const generated = `**Full Changelog**: https://github.com/${this.fullName}/${
      previous ? `compare/${previous}...${tag}` : `commits/${tag}`
    }`;
    const release: StoredRelease = {
      id: this.nextId++,
      tagName: tag,
      targetCommitish: body.target_commitish ?? 'master',
      name: body.name ?? tag,
      body: body.generate_release_notes ? `${body.body ? `${body.body}\n\n` : ''}${generated}` : (body.body ?? ''),
      draft: body.draft ?? false,
      prerelease: body.prerelease ?? false,
      createdAt: new Date().toISOString(),
    };
    this.storedReleases.push(release);
    return {
      status: 201,
      body: this.releaseObject(release),
      headers: { location: `${this.url}/repos/${this.fullName}/releases/${release.id}` },
    };
  }
}

export async function startGitHubApi(options: StandInOptions): Promise<GitHubApiStandIn> {
  return GitHubApiStandIn.start(options);
}

function nodeId(kind: string, id: string): string {
  return `${kind}_${Buffer.from(id).toString('base64url')}`;
}

function user(login: string, id: number, type = 'User') {
  const api = `https://api.github.com/users/${encodeURIComponent(login)}`;
  return {
    login,
    id,
    node_id: nodeId('U', login),
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: '',
    url: api,
    html_url: `https://github.com/${encodeURIComponent(login)}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type,
    site_admin: false,
  };
}

/** Another GitHub App, shaped like GitHub Actions' entry. */
function appObject(app: { slug: string; name: string; id: number }) {
  return {
    ...githubActionsApp(),
    id: app.id,
    slug: app.slug,
    node_id: nodeId('A', app.slug),
    name: app.name,
    html_url: `https://github.com/apps/${app.slug}`,
    owner: user(app.slug, app.id * 10, 'Organization'),
  };
}

function githubActionsApp() {
  return {
    id: 15368,
    slug: 'github-actions',
    client_id: 'Iv1.05c79e9ad1f6bdfa',
    node_id: 'MDM6QXBwMTUzNjg=',
    owner: user('github', 9919, 'Organization'),
    name: 'GitHub Actions',
    description: 'Automate your workflow from idea to production',
    external_url: 'https://help.github.com/en/actions',
    html_url: 'https://github.com/apps/github-actions',
    created_at: '2018-07-30T09:30:17Z',
    updated_at: '2024-04-10T20:33:16Z',
    permissions: {
      actions: 'write',
      checks: 'write',
      contents: 'write',
      metadata: 'read',
      pull_requests: 'write',
      statuses: 'write',
    },
    events: ['check_run', 'check_suite', 'pull_request', 'push'],
  };
}

function repositoryObject(owner: string, name: string, id: number, fork: boolean) {
  const full = `${owner}/${name}`;
  const api = `https://api.github.com/repos/${full}`;
  return {
    id,
    node_id: nodeId('R', full),
    name,
    full_name: full,
    owner: user(owner, id * 10),
    private: false,
    html_url: `https://github.com/${full}`,
    description: 'OC Pizza ordering site (Django)',
    fork,
    url: api,
    archive_url: `${api}/{archive_format}{/ref}`,
    assignees_url: `${api}/assignees{/user}`,
    blobs_url: `${api}/git/blobs{/sha}`,
    branches_url: `${api}/branches{/branch}`,
    collaborators_url: `${api}/collaborators{/collaborator}`,
    comments_url: `${api}/comments{/number}`,
    commits_url: `${api}/commits{/sha}`,
    compare_url: `${api}/compare/{base}...{head}`,
    contents_url: `${api}/contents/{+path}`,
    contributors_url: `${api}/contributors`,
    deployments_url: `${api}/deployments`,
    downloads_url: `${api}/downloads`,
    events_url: `${api}/events`,
    forks_url: `${api}/forks`,
    git_commits_url: `${api}/git/commits{/sha}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`,
    git_url: `git://github.com/${full}.git`,
    issue_comment_url: `${api}/issues/comments{/number}`,
    issue_events_url: `${api}/issues/events{/number}`,
    issues_url: `${api}/issues{/number}`,
    keys_url: `${api}/keys{/key_id}`,
    labels_url: `${api}/labels{/name}`,
    languages_url: `${api}/languages`,
    merges_url: `${api}/merges`,
    milestones_url: `${api}/milestones{/number}`,
    notifications_url: `${api}/notifications{?since,all,participating}`,
    pulls_url: `${api}/pulls{/number}`,
    releases_url: `${api}/releases{/id}`,
    ssh_url: `git@github.com:${full}.git`,
    stargazers_url: `${api}/stargazers`,
    statuses_url: `${api}/statuses/{sha}`,
    subscribers_url: `${api}/subscribers`,
    subscription_url: `${api}/subscription`,
    tags_url: `${api}/tags`,
    teams_url: `${api}/teams`,
    trees_url: `${api}/git/trees{/sha}`,
    clone_url: `https://github.com/${full}.git`,
    mirror_url: null,
    hooks_url: `${api}/hooks`,
    svn_url: `https://github.com/${full}`,
    homepage: null,
    language: 'Python',
    forks_count: 1,
    forks: 1,
    stargazers_count: 3,
    watchers_count: 3,
    watchers: 3,
    size: 512,
    default_branch: 'master',
    open_issues_count: 1,
    open_issues: 1,
    is_template: false,
    topics: [],
    has_issues: true,
    has_projects: false,
    has_wiki: false,
    has_pages: false,
    has_downloads: true,
    archived: false,
    disabled: false,
    visibility: 'public',
    pushed_at: EPOCH,
    created_at: '2019-03-01T10:00:00Z',
    updated_at: EPOCH,
    license: null,
    allow_forking: true,
  };
}
