import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  copyFixture,
  djangoManage,
  productionEnv,
  startDjangoApp,
  type DjangoApp,
  type HealthBody,
  httpGet,
} from '../testbed/django-app.js';
import { startPostgres, type PostgresServer } from '../testbed/postgres.js';
import { makeTempDir } from '../testbed/process.js';
import { startHerokuStandIn, type HerokuStandIn } from '../stand-ins/heroku-api.js';
import { git } from '../support/git.js';

/**
 * Heroku on this machine: the Platform API stand-in, PostgreSQL as the app's DATABASE_URL, and the app URL a
 * local proxy in front of the Django fixture under gunicorn. A release phase really runs `manage.py migrate` from the
 * uploaded tarball, and a release that becomes current really restarts the app on its slug with RUNBOOK_COMMIT of
 * that release, so the health gate sees the old or the new commit as a user would.
 */
export interface HerokuStage {
  dir: string;
  repo: string;
  pg: PostgresServer;
  databaseUrl: string;
  standIn: HerokuStandIn;
  /** The app's public URL (the proxy); `${appUrl}/<app>` reaches an app added by `addApp`. */
  appUrl: string;
  /** When set, the next app started serves this commit instead of its release's (a broken release). */
  serveWrongCommit: boolean;
  /** Commits whose releases always answer /health with another commit (code the health gate must refuse). */
  brokenCommits: Set<string>;
  commit(message: string): string;
  /** /health of an app (default: ocpizza). */
  health(app?: string): Promise<{ status: number; body?: HealthBody }>;
  /**
   * Another app on the same database and config vars (a second interface of the seeds), released by hand at the
   * repository's HEAD and served under `${appUrl}/<name>`.
   */
  addApp(name: string): Promise<void>;
  /**
   * Serves ocpizza at a web_url as Heroku gives it (`http://<app>-<hash>.herokuapp.com/`, the shape the Platform API
   * schema requires): `env` (for the step) preloads a resolver that answers that host name with loopback, as an
   * /etc/hosts line would, and sends its port 80 to the router's free port, as a DNAT rule would. Sets the web_url.
   */
  herokuappRouter(): Promise<{ webUrl: string; env: Record<string, string> }>;
  stop(): Promise<void>;
}

const FIRST_APP = 'ocpizza';

export { git };

function unpack(tarball: Buffer, into: string): string {
  fs.mkdirSync(into, { recursive: true });
  execFileSync('tar', ['-xzf', '-', '-C', into], { input: tarball });
  return into;
}

export async function startHerokuStage(): Promise<HerokuStage> {
  const dir = makeTempDir('heroku-e2e');
  const repo = await copyFixture(path.join(dir, 'repo'));
  git(repo, 'init', '-q', '-b', 'master');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'OC Pizza v1');

  const pg = await startPostgres();
  await pg.createDatabase('ocpizza');
  const databaseUrl = pg.url('ocpizza');
  const env = productionEnv({ databaseUrl, secure: false });
  const migrate = await djangoManage(['migrate', '--noinput'], { projectDir: repo, env });
  if (migrate.code !== 0) throw new Error(`initial migrate failed: ${migrate.stderr}`);

  /** The gunicorn serving each app's current release. */
  const servers = new Map<string, DjangoApp>();
  let slugCount = 0;
  const stage: HerokuStage = {
    dir,
    repo,
    pg,
    databaseUrl,
    standIn: undefined as unknown as HerokuStandIn,
    appUrl: '',
    serveWrongCommit: false,
    brokenCommits: new Set(),
    addApp: async () => undefined,
    herokuappRouter: async () => ({ webUrl: '', env: {} }),
    commit(message) {
      git(repo, 'add', '-A');
      git(repo, 'commit', '-q', '-m', message);
      return git(repo, 'rev-parse', 'HEAD');
    },
    async health(name = FIRST_APP) {
      const answer = await httpGet(`${stage.appUrl}/${name}/health`);
      try {
        return { status: answer.status, body: JSON.parse(answer.body) as HealthBody };
      } catch {
        return { status: answer.status };
      }
    },
    async stop() {
      for (const server of routers) {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
      }
      for (const server of servers.values()) await server.stop();
      await stage.standIn?.stop();
      await pg.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };

  /** A release of `name` becomes current: the new slug starts, the proxy switches to it, the old one stops. */
  const serve = async (name: string, projectDir: string, commit: string, version: number) => {
    const next = await startDjangoApp({
      projectDir,
      databaseUrl,
      commit: stage.serveWrongCommit || stage.brokenCommits.has(commit) ? 'f'.repeat(40) : commit,
      release: `v${version}`,
      workers: 1,
    });
    const previous = servers.get(name);
    servers.set(name, next);
    await previous?.stop();
  };

  // `/<app>/…` goes to that app (the prefix removed); anything else to the first app.
  const route = (request: http.IncomingMessage, response: http.ServerResponse) => {
    const prefix = /^\/([^/?]+)/.exec(request.url ?? '')?.[1] ?? '';
    const named = servers.has(prefix);
    const app = servers.get(named ? prefix : FIRST_APP);
    if (!app) {
      response.writeHead(503).end('no release');
      return;
    }
    // Heroku's router answers every request of an app in maintenance with its own page (router code H80).
    if (stage.standIn.apps.get(named ? prefix : FIRST_APP)?.maintenance) {
      response.writeHead(503, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache, no-store' });
      response.end(
        '<!DOCTYPE html><html><head><title>Offline for Maintenance</title></head><body><iframe src="//www.herokucdn.com/error-pages/maintenance.html"></iframe></body></html>',
      );
      return;
    }
    const rest = named ? (request.url ?? '').slice(prefix.length + 1) || '/' : request.url;
    const upstream = http.request(
      `${app.url}${rest}`,
      { method: request.method, headers: request.headers, agent: false },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', () => response.writeHead(502).end('bad gateway'));
    request.pipe(upstream);
  };
  const proxy = http.createServer(route);
  const routers = [proxy];
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  stage.appUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  const slugDir = (tarball: Buffer) => unpack(tarball, path.join(dir, 'slugs', String(++slugCount)));
  const standIn = await startHerokuStandIn({
    hooks: {
      releasePhase: async (_app, _commit, tarball) => {
        const project = slugDir(tarball);
        const result = await djangoManage(['migrate', '--noinput'], { projectDir: project, env });
        const lines = `${result.stdout}${result.stderr}`.split('\n').filter((l) => l.trim() !== '');
        return { ok: result.code === 0, lines };
      },
      released: async (name, commit, version) => {
        const tarball = standIn.apps.get(name)!.releases.find((r) => r.version === version)?.slug?.tarball;
        await serve(name, tarball && tarball.length > 0 ? slugDir(tarball) : repo, commit, version);
      },
    },
  });
  standIn.lineDelayMs = 20;
  stage.standIn = standIn;
  stage.addApp = async (name) => {
    standIn.addApp(name, { configVars: { ...env } });
    const head = git(repo, 'rev-parse', 'HEAD');
    await serve(name, repo, head, 1);
    standIn.seedRelease(name, head);
  };
  stage.herokuappRouter = async () => {
    const router = http.createServer(route);
    await new Promise<void>((resolve) => router.listen(0, '127.0.0.1', resolve));
    routers.push(router);
    const port = (router.address() as AddressInfo).port;
    const host = `${FIRST_APP}-0123abcd.herokuapp.com`;
    const preload = path.join(dir, 'herokuapp-hosts.mjs');
    // In the step only: the host name resolves to loopback (an /etc/hosts line), and a connection to its port 80
    // goes to the router's free port (a DNAT rule), so the web_url keeps the shape the schema requires without
    // binding port 80, which needs root.
    fs.writeFileSync(
      preload,
      [
        "import dns from 'node:dns';",
        "import net from 'node:net';",
        `const host = ${JSON.stringify(host)};`,
        'const lookup = dns.lookup;',
        'dns.lookup = function (hostname, options, callback) {',
        "  const done = typeof options === 'function' ? options : callback;",
        '  if (String(hostname).toLowerCase() !== host) return lookup.apply(this, arguments);',
        "  const all = typeof options === 'object' && options !== null && options.all;",
        "  process.nextTick(() => (all ? done(null, [{ address: '127.0.0.1', family: 4 }]) : done(null, '127.0.0.1', 4)));",
        '};',
        'const connect = net.Socket.prototype.connect;',
        'net.Socket.prototype.connect = function (...args) {',
        '  const options = Array.isArray(args[0]) ? args[0][0] : args[0];',
        "  if (options && typeof options === 'object' && String(options.host).toLowerCase() === host && Number(options.port) === 80) {",
        "    options.host = '127.0.0.1';",
        `    options.port = ${port};`,
        '  }',
        '  return connect.apply(this, args);',
        '};',
        '',
      ].join('\n'),
    );
    const webUrl = `http://${host}/`;
    standIn.apps.get(FIRST_APP)!.webUrl = webUrl;
    return { webUrl, env: { NODE_OPTIONS: `--import=${preload}` } };
  };
  // v1, deployed by hand before these tests: the fixture as committed, serving.
  await stage.addApp(FIRST_APP);
  return stage;
}
