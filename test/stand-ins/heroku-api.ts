// A local Heroku Platform API stand-in (node:http on 127.0.0.1) with Heroku's observable behaviour for a deploy:
// apps, config vars, sources with signed put/get URLs served by the stand-in itself, builds that go pending →
// succeeded/failed on their own with output streamed over a chunked response, releases whose release phase runs
// (a hook: the e2e test runs the real `manage.py migrate` there), the maintenance flag, Range-paged release lists,
// rollbacks (which run the release phase again, as Heroku does), web dynos, and scripted 429 / 503 answers or
// answers lost after the request was carried out. Every request body and every JSON answer is checked against Heroku's
// published schema (heroku-schema.ts); a mismatch is recorded in `violations`, which tests assert empty.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { checkRequest, checkResponse } from './heroku-schema.js';

export interface RecordedRequest {
  method: string;
  path: string;
  body?: unknown;
  /** Which headers came, with the Authorization value replaced by whether it was right. */
  accept?: string;
  auth: 'valid' | 'invalid' | 'none';
  contentType?: string;
  status: number;
}

export interface PhaseOutcome {
  ok: boolean;
  /** Lines streamed to the output URL, one by one with `lineDelayMs` between them. */
  lines: string[];
}

export interface StandInHooks {
  /** The build: default succeeds with buildpack-like lines. `tarball` is the uploaded gzipped source. */
  build?(app: string, commit: string, tarball: Buffer): Promise<PhaseOutcome> | PhaseOutcome;
  /** The release phase (Procfile `release:`): default succeeds. */
  releasePhase?(app: string, commit: string, tarball: Buffer): Promise<PhaseOutcome> | PhaseOutcome;
  /** A release became current (deploy or rollback): the e2e test switches what the app URL serves. */
  released?(app: string, commit: string, version: number): Promise<void> | void;
  /** The state of the web dynos of the current release (default up). */
  dynoState?(app: string, version: number): 'up' | 'starting' | 'crashed';
}

export interface ScriptedFailure {
  status: 429 | 503;
  method?: string;
  /** Applies to the first request whose path matches. */
  path?: RegExp;
  retryAfterSeconds?: number;
  /**
   * The request is carried out (a build created, a release made) and only then is its answer lost: replaced by the
   * status, or the connection reset ('reset'), as when a proxy or the network fails after the API acted.
   */
  answerLost?: 'status' | 'reset';
}

interface Stream {
  lines: string[];
  done: boolean;
  listeners: Set<() => void>;
}

interface Slug {
  id: string;
  commit: string;
  tarball: Buffer;
  processTypes: Record<string, string>;
  createdAt: string;
}

interface Release {
  id: string;
  version: number;
  status: 'pending' | 'succeeded' | 'failed';
  current: boolean;
  description: string;
  slug?: Slug;
  streamId?: string;
  createdAt: string;
  updatedAt: string;
}

interface Build {
  id: string;
  status: 'pending' | 'succeeded' | 'failed';
  sourceUrl: string;
  version: string | null;
  checksum: string | null;
  buildpacks: { url?: string; name?: string }[] | null;
  streamId: string;
  /** Cancelled by DELETE while pending: it ends failed and never releases. */
  cancelled?: boolean;
  slug?: Slug;
  release?: Release;
  createdAt: string;
  updatedAt: string;
}

export interface StandInApp {
  id: string;
  name: string;
  maintenance: boolean;
  /** Every value the maintenance flag took, in order. */
  maintenanceHistory: boolean[];
  configVars: Record<string, string>;
  webUrl: string;
  releases: Release[];
  builds: Build[];
  slugs: Map<string, Slug>;
  dynoId: string;
  createdAt: string;
}

export interface HerokuStandIn {
  url: string;
  apiKey: string;
  requests: RecordedRequest[];
  violations: string[];
  apps: Map<string, StandInApp>;
  hooks: StandInHooks;
  /** Milliseconds between streamed lines and before a build or release changes state. */
  lineDelayMs: number;
  addApp(name: string, options?: { configVars?: Record<string, string>; webUrl?: string }): StandInApp;
  /** Seeds a succeeded current release of `commit` (as an earlier deploy would have left it). */
  seedRelease(app: string, commit: string, tarball?: Buffer): void;
  failNext(failure: ScriptedFailure): void;
  /** Requests that change something (anything but GET). */
  changes(): RecordedRequest[];
  current(app: string): { version: number; commit?: string } | undefined;
  stop(): Promise<void>;
}

const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const USER = { id: '01234567-89ab-cdef-0123-456789abcdef', email: 'deployer@example.com' };
const STACK = { id: '69bee368-352b-4bd0-9b7c-819d860a2588', name: 'heroku-24' };

function procfileOf(tarball: Buffer): Record<string, string> {
  // Enough for `git archive` output: the root Procfile's header, then its text in the next 512-byte block.
  try {
    const tar = gunzipSync(tarball).toString('latin1');
    const at = tar.indexOf('Procfile\0');
    if (at < 0) return { web: 'gunicorn' };
    const content = tar.slice(Math.ceil((at + 1) / 512) * 512).split('\0')[0];
    const types: Record<string, string> = {};
    for (const line of content.split('\n')) {
      const m = /^(\w+):\s*(.+)$/.exec(line.trim());
      if (m) types[m[1]] = m[2];
    }
    return types;
  } catch {
    return { web: 'gunicorn' };
  }
}

export async function startHerokuStandIn(
  options: { apiKey?: string; hooks?: StandInHooks } = {},
): Promise<HerokuStandIn> {
  const apiKey = options.apiKey ?? `HRKU-${randomBytes(24).toString('hex')}`;
  const apps = new Map<string, StandInApp>();
  const blobs = new Map<string, { signature: string; data?: Buffer }>();
  const streams = new Map<string, Stream>();
  const requests: RecordedRequest[] = [];
  const violations: string[] = [];
  const failures: ScriptedFailure[] = [];
  let base = '';

  const standIn: HerokuStandIn = {
    url: '',
    apiKey,
    requests,
    violations,
    apps,
    hooks: options.hooks ?? {},
    lineDelayMs: 30,
    addApp(name, appOptions = {}) {
      const app: StandInApp = {
        id: randomUUID(),
        name,
        maintenance: false,
        maintenanceHistory: [],
        configVars: { ...appOptions.configVars },
        webUrl: appOptions.webUrl ?? `https://${name}-0123abcd.herokuapp.com/`,
        releases: [],
        builds: [],
        slugs: new Map(),
        dynoId: randomUUID(),
        createdAt: now(),
      };
      apps.set(name, app);
      return app;
    },
    seedRelease(name, commit, tarball = Buffer.alloc(0)) {
      const app = apps.get(name)!;
      const slug: Slug = { id: randomUUID(), commit, tarball, processTypes: { web: 'gunicorn' }, createdAt: now() };
      app.slugs.set(slug.id, slug);
      const release = newRelease(app, `Deploy ${commit.slice(0, 8)}`, slug);
      release.status = 'succeeded';
      makeCurrent(app, release);
    },
    failNext(failure) {
      failures.push(failure);
    },
    changes: () => requests.filter((r) => r.method !== 'GET'),
    current(name) {
      const release = apps.get(name)?.releases.find((r) => r.current);
      return release && { version: release.version, commit: release.slug?.commit };
    },
    stop: () =>
      new Promise((resolve) => {
        for (const stream of streams.values()) finish(stream);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  function newStream(): string {
    const id = randomUUID();
    streams.set(id, { lines: [], done: false, listeners: new Set() });
    return id;
  }
  function emit(stream: Stream): void {
    for (const listener of stream.listeners) listener();
  }
  function finish(stream: Stream): void {
    stream.done = true;
    emit(stream);
  }
  async function play(streamId: string, lines: string[], build?: Build): Promise<void> {
    const stream = streams.get(streamId)!;
    for (const line of lines) {
      await sleep(standIn.lineDelayMs);
      if (build?.cancelled) {
        stream.lines.push(' !     Build cancelled');
        break;
      }
      stream.lines.push(line);
      emit(stream);
    }
    finish(stream);
  }

  function newRelease(app: StandInApp, description: string, slug?: Slug): Release {
    const version = (app.releases.at(-1)?.version ?? 0) + 1;
    const release: Release = {
      id: randomUUID(),
      version,
      status: 'pending',
      current: false,
      description,
      slug,
      createdAt: now(),
      updatedAt: now(),
    };
    app.releases.push(release);
    return release;
  }
  function makeCurrent(app: StandInApp, release: Release): void {
    for (const r of app.releases) r.current = r === release;
  }

  function appJson(app: StandInApp): unknown {
    return {
      acm: false,
      archived_at: null,
      buildpack_provided_description: 'Python',
      build_stack: STACK,
      created_at: app.createdAt,
      git_url: `https://git.heroku.com/${app.name}.git`,
      id: app.id,
      internal_routing: null,
      maintenance: app.maintenance,
      name: app.name,
      owner: USER,
      organization: null,
      team: null,
      region: { id: '59accabd-516d-4f0e-83e6-6e3757701145', name: 'eu' },
      released_at: app.releases.find((r) => r.current)?.updatedAt ?? null,
      repo_size: null,
      slug_size: null,
      space: null,
      stack: STACK,
      updated_at: now(),
      web_url: app.webUrl,
    };
  }
  function releaseJson(app: StandInApp, release: Release): unknown {
    return {
      addon_plan_names: ['heroku-postgresql:essential-0'],
      artifacts: release.slug ? [{ type: 'slug', id: release.slug.id }] : [],
      app: { name: app.name, id: app.id },
      created_at: release.createdAt,
      description: release.description,
      id: release.id,
      updated_at: release.updatedAt,
      slug: release.slug ? { id: release.slug.id } : null,
      status: release.status,
      user: USER,
      version: release.version,
      current: release.current,
      output_stream_url: release.streamId ? `${base}/streams/${release.streamId}` : null,
      eligible_for_rollback: release.status === 'succeeded',
    };
  }
  function buildJson(app: StandInApp, build: Build): unknown {
    return {
      app: { id: app.id },
      buildpacks: build.buildpacks,
      created_at: build.createdAt,
      id: build.id,
      output_stream_url: `${base}/streams/${build.streamId}`,
      source_blob: {
        checksum: build.checksum,
        url: build.sourceUrl,
        version: build.version,
        version_description: null,
      },
      release: build.release ? { id: build.release.id } : null,
      slug: build.slug ? { id: build.slug.id } : null,
      stack: STACK.name,
      status: build.status,
      updated_at: build.updatedAt,
      user: USER,
    };
  }
  function slugJson(slug: Slug): unknown {
    return {
      blob: { method: 'get', url: `${base}/slugs/${slug.id}.tgz` },
      buildpack_provided_description: 'Python',
      checksum: `SHA256:${createHash('sha256').update(slug.tarball).digest('hex')}`,
      commit: slug.commit,
      commit_description: null,
      created_at: slug.createdAt,
      id: slug.id,
      process_types: slug.processTypes,
      size: slug.tarball.length,
      stack: STACK,
      updated_at: slug.createdAt,
    };
  }

  /** The build runs on its own after the POST answered, as on Heroku: the client must poll and stream. */
  async function runBuild(app: StandInApp, build: Build): Promise<void> {
    const lines = ['-----> Building on the Heroku-24 stack', '-----> Using buildpack: heroku/python'];
    const key = /\/blobs\/([^/?]+)/.exec(build.sourceUrl)?.[1];
    const tarball = key ? blobs.get(key)?.data : undefined;
    let outcome: PhaseOutcome;
    if (!tarball) outcome = { ok: false, lines: ['!     Unable to fetch source from the source_blob url.'] };
    else if (build.checksum && build.checksum !== `SHA256:${createHash('sha256').update(tarball).digest('hex')}`) {
      outcome = { ok: false, lines: ['!     Checksum mismatch: the source does not match source_blob.checksum.'] };
    } else {
      outcome = standIn.hooks.build
        ? await standIn.hooks.build(app.name, build.version ?? '', tarball)
        : {
            ok: true,
            lines: [
              '-----> Python app detected',
              '-----> Installing requirements with pip',
              '-----> Discovering process types',
            ],
          };
    }
    await play(
      build.streamId,
      [...lines, ...outcome.lines, outcome.ok ? '-----> Launching...' : ' !     Push failed'],
      build,
    );
    if (build.cancelled) return;
    build.updatedAt = now();
    if (!outcome.ok) {
      build.status = 'failed';
      return;
    }
    const slug: Slug = {
      id: randomUUID(),
      commit: build.version ?? '',
      tarball: tarball!,
      processTypes: procfileOf(tarball!),
      createdAt: now(),
    };
    app.slugs.set(slug.id, slug);
    build.slug = slug;
    const release = newRelease(app, `Deploy ${slug.commit.slice(0, 8)}`, slug);
    build.release = release;
    build.status = 'succeeded';
    if (slug.processTypes.release) {
      release.streamId = newStream();
      void runReleasePhase(app, release, slug);
    } else {
      await succeed(app, release);
    }
  }

  async function runReleasePhase(app: StandInApp, release: Release, slug: Slug): Promise<void> {
    await sleep(standIn.lineDelayMs);
    const outcome = standIn.hooks.releasePhase
      ? await standIn.hooks.releasePhase(app.name, slug.commit, slug.tarball)
      : {
          ok: true,
          lines: ['Operations to perform:', '  Apply all migrations: admin, auth, orders', 'No migrations to apply.'],
        };
    await play(release.streamId!, [`Running release command...`, ...outcome.lines]);
    if (outcome.ok) await succeed(app, release);
    else {
      release.status = 'failed';
      release.updatedAt = now();
    }
  }

  async function succeed(app: StandInApp, release: Release): Promise<void> {
    if (standIn.hooks.released) await standIn.hooks.released(app.name, release.slug?.commit ?? '', release.version);
    release.status = 'succeeded';
    release.updatedAt = now();
    makeCurrent(app, release);
  }

  function serveStream(id: string, response: http.ServerResponse): void {
    const stream = streams.get(id);
    if (!stream) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Transfer-Encoding': 'chunked' });
    let sent = 0;
    const pump = () => {
      while (sent < stream.lines.length) response.write(`${stream.lines[sent++]}\n`);
      if (stream.done) {
        stream.listeners.delete(pump);
        response.end();
      }
    };
    stream.listeners.add(pump);
    response.on('close', () => stream.listeners.delete(pump));
    pump();
  }

  /** Pages a release list the way Heroku reads `Range: version ..; order=desc, max=N`. */
  function pageReleases(app: StandInApp, range: string | undefined): { items: Release[]; next?: string } {
    const match = /^version\s+(\d*)\.\.(\d*)\s*(?:;\s*(.*))?$/.exec(range?.trim() ?? '');
    const opts = Object.fromEntries(
      (match?.[3] ?? '')
        .split(',')
        .map((p) => p.trim().split('='))
        .filter((p) => p.length === 2),
    ) as Record<string, string>;
    const max = Math.min(1000, Number(opts.max ?? 200));
    let items = [...app.releases].sort((a, b) => a.version - b.version);
    if (match?.[1]) items = items.filter((r) => r.version >= Number(match[1]));
    if (match?.[2]) items = items.filter((r) => r.version <= Number(match[2]));
    if (opts.order === 'desc') items.reverse();
    const page = items.slice(0, max);
    const rest = items[max];
    return {
      items: page,
      next: rest
        ? `version ${opts.order === 'desc' ? `..${rest.version}` : `${rest.version}..`}; order=${opts.order ?? 'asc'}, max=${max}`
        : undefined,
    };
  }

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      handle(request, Buffer.concat(chunks), response).catch((error: unknown) => {
        violations.push(`stand-in error: ${error instanceof Error ? error.stack : String(error)}`);
        if (!response.headersSent) response.writeHead(500).end();
      });
    });
  });

  async function handle(request: http.IncomingMessage, raw: Buffer, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', base);
    const method = request.method ?? 'GET';
    const path = url.pathname;
    const authHeader = request.headers.authorization;
    const record: RecordedRequest = {
      method,
      path,
      accept: request.headers.accept,
      auth: !authHeader ? 'none' : authHeader === `Bearer ${apiKey}` ? 'valid' : 'invalid',
      contentType: request.headers['content-type'],
      status: 0,
    };
    requests.push(record);
    const reply = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      if (body === undefined) {
        response.writeHead(status, headers).end();
        return;
      }
      const text = JSON.stringify(body);
      response.writeHead(status, {
        'Content-Type': 'application/json',
        'RateLimit-Remaining': '4499',
        ...headers,
      });
      response.end(text);
    };

    // Signed URLs: not the API, no key may reach them (the real ones are S3 and build-output hosts).
    if (path.startsWith('/blobs/') || path.startsWith('/streams/')) {
      if (authHeader) violations.push(`${method} ${path}: the API key was sent to a signed URL`);
      const key = path.split('/')[2];
      if (path.startsWith('/streams/')) {
        record.status = 200;
        return serveStream(key, response);
      }
      const blob = blobs.get(key);
      if (!blob) return reply(404);
      if (method === 'PUT') {
        if (url.searchParams.get('signature') !== blob.signature) return reply(403);
        if (request.headers['content-type'] !== '' && request.headers['content-type'] !== undefined) {
          violations.push(
            `PUT ${path}: Content-Type '${request.headers['content-type']}' (the URL is signed for an empty one)`,
          );
          return reply(403);
        }
        blob.data = raw;
        return reply(200);
      }
      if (method === 'GET' && blob.data) {
        record.status = 200;
        response.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(blob.data);
        return;
      }
      return reply(404);
    }

    if (record.auth !== 'valid') {
      return reply(401, { id: 'unauthorized', message: 'There were no credentials in your `Authorization` header.' });
    }
    if (request.headers.accept !== 'application/vnd.heroku+json; version=3') {
      violations.push(`${method} ${path}: Accept '${request.headers.accept}' is not the version 3 media type`);
    }
    const scripted = failures.findIndex((f) => (!f.method || f.method === method) && (!f.path || f.path.test(path)));
    let lost: ScriptedFailure | undefined;
    if (scripted >= 0 && failures[scripted].answerLost) [lost] = failures.splice(scripted, 1);
    else if (scripted >= 0) {
      const [failure] = failures.splice(scripted, 1);
      if (failure.status === 429) {
        return reply(
          429,
          {
            id: 'rate_limit',
            message: 'Your account reached the API rate limit. Please wait a few minutes before making new requests',
          },
          { 'Retry-After': String(failure.retryAfterSeconds ?? 1), 'RateLimit-Remaining': '0' },
        );
      }
      return reply(503, { id: 'unavailable', message: 'API is temporarily unavailable.' });
    }

    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        violations.push(`${method} ${path}: request body is not JSON`);
        return reply(400, { id: 'bad_request', message: 'Invalid JSON.' });
      }
      if (!String(request.headers['content-type']).startsWith('application/json')) {
        violations.push(`${method} ${path}: JSON body sent as '${request.headers['content-type']}'`);
      }
    }
    record.body = body;
    const problems = checkRequest(method, path, body);
    if (problems.length > 0) {
      violations.push(...problems);
      return reply(422, { id: 'invalid_params', message: problems.join('; ') });
    }

    const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
      violations.push(...checkResponse(method, path, json));
      if (lost?.answerLost === 'reset') {
        record.status = 0;
        response.socket?.destroy();
      } else if (lost) reply(lost.status, { id: 'unavailable', message: 'API is temporarily unavailable.' });
      else reply(status, json, headers);
    };
    const notFound = (what: string) => reply(404, { id: 'not_found', message: `Couldn't find that ${what}.` });

    if (method === 'POST' && path === '/sources') {
      const key = randomUUID();
      const signature = randomBytes(16).toString('hex');
      blobs.set(key, { signature });
      return send(201, {
        source_blob: { get_url: `${base}/blobs/${key}?get=1`, put_url: `${base}/blobs/${key}?signature=${signature}` },
      });
    }

    const parts = path.split('/').slice(1).map(decodeURIComponent);
    if (parts[0] !== 'apps' || !parts[1]) return notFound('resource');
    const app = apps.get(parts[1]) ?? [...apps.values()].find((a) => a.id === parts[1]);
    if (!app) return notFound('app');
    const [, , collection, id] = parts;

    if (!collection) {
      if (method === 'GET') return send(200, appJson(app));
      if (method === 'PATCH') {
        const patch = body as { maintenance?: boolean };
        if (typeof patch.maintenance === 'boolean') {
          app.maintenance = patch.maintenance;
          app.maintenanceHistory.push(patch.maintenance);
        }
        return send(200, appJson(app));
      }
    }
    if (collection === 'config-vars' && method === 'GET') return send(200, app.configVars);
    if (collection === 'dynos' && method === 'GET' && !id) {
      // One web dyno, restarted on each new release (so it runs the current one).
      const current = app.releases.find((r) => r.current);
      if (!current) return send(200, []);
      const state = standIn.hooks.dynoState?.(app.name, current.version) ?? 'up';
      return send(200, [
        {
          attach_url: null,
          command: current.slug?.processTypes.web ?? 'gunicorn',
          created_at: current.updatedAt,
          id: app.dynoId,
          name: 'web.1',
          release: { id: current.id, version: current.version },
          app: { name: app.name, id: app.id },
          size: 'basic',
          state,
          type: 'web',
          updated_at: current.updatedAt,
        },
      ]);
    }
    if (collection === 'slugs' && method === 'GET' && id) {
      const slug = app.slugs.get(id);
      return slug ? send(200, slugJson(slug)) : notFound('slug');
    }
    if (collection === 'builds') {
      if (method === 'POST' && !id) {
        const request = body as {
          source_blob: { url: string; version?: string; checksum?: string };
          buildpacks?: { url?: string; name?: string }[];
        };
        const build: Build = {
          id: randomUUID(),
          status: 'pending',
          sourceUrl: request.source_blob.url,
          version: request.source_blob.version ?? null,
          checksum: request.source_blob.checksum ?? null,
          buildpacks: request.buildpacks ?? null,
          streamId: newStream(),
          createdAt: now(),
          updatedAt: now(),
        };
        app.builds.push(build);
        void runBuild(app, build);
        return send(201, buildJson(app, build));
      }
      if (method === 'GET' && id) {
        const build = app.builds.find((b) => b.id === id);
        return build ? send(200, buildJson(app, build)) : notFound('build');
      }
      if (method === 'GET') {
        // Newest first for `order=desc`, as Heroku pages builds by started_at.
        const desc = /order=desc/.test(request.headers.range ?? '');
        const max = Number(/max=(\d+)/.exec(request.headers.range ?? '')?.[1] ?? 200);
        const sorted = desc ? [...app.builds].reverse() : app.builds;
        return send(
          200,
          sorted.slice(0, max).map((b) => buildJson(app, b)),
        );
      }
      if (method === 'DELETE' && id) {
        const build = app.builds.find((b) => b.id === id);
        if (!build) return notFound('build');
        if (build.status === 'pending') {
          build.cancelled = true;
          build.status = 'failed';
          build.updatedAt = now();
        }
        return send(200, buildJson(app, build));
      }
    }
    if (collection === 'releases') {
      if (method === 'GET' && id) {
        const release = app.releases.find((r) => r.id === id || String(r.version) === id);
        return release ? send(200, releaseJson(app, release)) : notFound('release');
      }
      if (method === 'GET') {
        const page = pageReleases(app, request.headers.range);
        return send(
          page.next ? 206 : 200,
          page.items.map((r) => releaseJson(app, r)),
          page.next ? { 'Next-Range': page.next } : {},
        );
      }
      if (method === 'POST') {
        const target = app.releases.find((r) => r.id === (body as { release?: string }).release);
        if (!target?.slug || target.status !== 'succeeded') return notFound('release');
        const release = newRelease(app, `Rollback to v${target.version}`, target.slug);
        // Heroku runs the release phase on every new release, a rollback included (with the old slug's command).
        if (target.slug.processTypes.release) {
          release.streamId = newStream();
          void runReleasePhase(app, release, target.slug);
        } else {
          await succeed(app, release);
        }
        return send(201, releaseJson(app, release));
      }
    }
    return notFound('resource');
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  standIn.url = base;
  return standIn;
}
