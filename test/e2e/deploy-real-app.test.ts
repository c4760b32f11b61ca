import { jest } from '@jest/globals';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorMessages as errors, runAction, type StepResult } from '../harness/index.js';
import { copyFixture, httpGet, randomSecretKey } from '../testbed/django-app.js';
import { startNginx, type NginxServer } from '../testbed/nginx.js';
import { freePort } from '../testbed/ports.js';
import { startPostgres, type PostgresServer } from '../testbed/postgres.js';
import { makeTempDir, shellQuote } from '../testbed/process.js';
import { startSshd, type SshServer } from '../testbed/sshd.js';
import { startSupervisord, type SupervisordServer } from '../testbed/supervisord.js';
import { git, sshTargetInputs } from './deploy-world.js';

/**
 * Issue 12: the deploy of an app written the Heroku way (test/fixtures/django-env: settings from environment
 * variables, DATABASE_URL through the dj-database-url conventions, an SQLite fallback, an HTML home page, no
 * /health), over SSH to a droplet-like server: supervisord runs gunicorn after `set -a; . shared/.env`, nginx is in
 * front with the maintenance flag, PostgreSQL holds the data.
 */

jest.setTimeout(1_200_000);

const FIXTURE = fileURLToPath(new URL('../fixtures/django-env', import.meta.url));

interface Site {
  deployTo: string;
  program: string;
  port: number;
  secretKey: string;
}

let dir: string;
let repo: string;
let pg: PostgresServer;
let sshd: SshServer;
let supervisor: SupervisordServer;
let nginx: NginxServer;
let site: Site;
/** A second server directory whose program has never run: for the failed first deploy. */
let fresh: Site;

function gunicorn(s: Site): string {
  const env = path.join(s.deployTo, 'shared', '.env');
  const serve = [
    '/usr/bin/gunicorn',
    '--chdir',
    path.join(s.deployTo, 'current'),
    '--bind',
    `127.0.0.1:${s.port}`,
    '--workers',
    '2',
    '--graceful-timeout',
    '10',
    'bakery.wsgi:application',
  ].join(' ');
  // The operator's habit: the program sources the same file the deploy links into each release.
  return `/bin/sh -c ${shellQuote(`set -a; . ${env}; set +a; exec ${serve}`)}`;
}

async function makeSite(name: string, database: string): Promise<Site> {
  const deployTo = path.join(dir, 'srv', name);
  fs.mkdirSync(path.join(deployTo, 'shared'), { recursive: true });
  await pg.createDatabase(database);
  const secretKey = randomSecretKey();
  fs.writeFileSync(
    path.join(deployTo, 'shared', '.env'),
    `# ${name}\nDATABASE_URL=${pg.url(database)}\nSECRET_KEY='${secretKey}'\nALLOWED_HOSTS=127.0.0.1,localhost\n`,
    { mode: 0o600 },
  );
  return { deployTo, program: name, port: await freePort(), secretKey };
}

beforeAll(async () => {
  dir = makeTempDir('deploy-real-app');
  repo = await copyFixture(path.join(dir, 'repo'), FIXTURE);
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'bakery v1');
  [pg, sshd] = await Promise.all([startPostgres(), startSshd()]);
  site = await makeSite('bakery', 'bakery');
  fresh = await makeSite('bakery-first', 'bakery_first');
  const program = (s: Site) => ({
    command: gunicorn(s),
    autostart: false,
    autorestart: 'unexpected' as const,
    startsecs: 1,
    stopasgroup: true,
    environment: { PYTHONDONTWRITEBYTECODE: '1', LANG: 'C.UTF-8' },
  });
  supervisor = await startSupervisord({ programs: { [site.program]: program(site), [fresh.program]: program(fresh) } });
  nginx = await startNginx({
    upstream: `127.0.0.1:${site.port}`,
    maintenanceFlagPath: path.join(site.deployTo, 'shared', 'maintenance.on'),
  });
}, 120_000);

afterAll(async () => {
  await Promise.all([nginx?.stop(), supervisor?.stop(), sshd?.stop(), pg?.stop()]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function deploy(to: Site, sha: string, extra: Record<string, string> = {}): Promise<StepResult> {
  return runAction({
    action: 'deploy',
    inputs: {
      ...sshTargetInputs(sshd),
      'deploy-to': to.deployTo,
      python: '/usr/bin/python3',
      // Each release's virtualenv without a pip of its own (Debian's pip, seen through the system site packages,
      // installs into it; ensurepip cost seconds a deploy): the first good deploy below keeps venv pip.
      'venv-args': '--system-site-packages --without-pip',
      'pip-args': '--no-index',
      'required-env': 'SECRET_KEY, DATABASE_URL',
      'supervisor-program': to.program,
      'supervisor-config': supervisor.configPath,
      // Generous: the test machine is shared, and a gunicorn worker may take seconds to boot.
      'health-timeout': '90s',
      'lock-timeout': '60s',
      ...extra,
    },
    github: { sha, workspace: repo, actor: 'octocat' },
    secrets: [new URL(pg.url('bakery')).password, sshd.privateKey.trim(), site.secretKey, fresh.secretKey],
    timeoutMs: 540_000,
  });
}

function commit(files: Record<string, string>, message: string): string {
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
    fs.writeFileSync(path.join(repo, file), text);
  }
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', message);
  return git(repo, 'rev-parse', 'HEAD');
}

const current = (s: Site) => {
  try {
    return path.basename(fs.readlinkSync(path.join(s.deployTo, 'current')));
  } catch {
    return undefined;
  }
};
const releases = (s: Site) => fs.readdirSync(path.join(s.deployTo, 'releases')).sort();
const applied = (database: string) =>
  pg.sql("SELECT app || '.' || name FROM django_migrations WHERE app = 'cakes' ORDER BY id", database);
const home = () => httpGet(`${nginx.url}/`, 10_000);
const backups = (s: Site) => {
  const folder = path.join(s.deployTo, 'shared', 'backups');
  return fs.existsSync(folder) ? fs.readdirSync(folder).sort() : [];
};

/** The ten-line /health view documented in actions/deploy/README.md, as a team would add it. */
function healthView(): Record<string, string> {
  const readme = fs.readFileSync(new URL('../../actions/deploy/README.md', import.meta.url), 'utf8');
  const view = /```python\n(# [\w/]+health\.py\n[\s\S]*?)```/.exec(readme)?.[1];
  if (!view) throw new Error('actions/deploy/README.md documents no health.py view');
  const urls = fs.readFileSync(path.join(FIXTURE, 'bakery', 'urls.py'), 'utf8');
  return {
    'bakery/health.py': view,
    'bakery/urls.py': urls
      .replace('from cakes import views', 'from bakery.health import health\nfrom cakes import views')
      .replace('urlpatterns = [\n', "urlpatterns = [\n    path('health', health),\n"),
  };
}

const PRICE_MIGRATION = `from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [('cakes', '0001_initial')]
    operations = [migrations.AddField(model_name='cake', name='price', field=models.IntegerField(default=4))]
`;

describe('a failed first deploy', () => {
  test('leaves the supervisor program as it was found: stopped, nothing answering', async () => {
    expect(await supervisor.state(fresh.program)).toBe('STOPPED');
    const v1 = git(repo, 'rev-parse', 'HEAD');
    // The health URL answers 404 (the app has no /health): the gate fails and the deploy rolls back.
    const result = await deploy(fresh, v1, { 'health-url': `http://127.0.0.1:${fresh.port}/health` });
    expect(result.exitCode).toBe(1);
    expect(errors(result).join('\n')).toMatch(/Health check of .* failed .*404/);
    expect(current(fresh)).toBeUndefined();
    expect(await supervisor.state(fresh.program)).toBe('STOPPED');
    await expect(httpGet(`http://127.0.0.1:${fresh.port}/`, 2000)).rejects.toThrow(/ECONNREFUSED/);
    expect(result.summary).toContain('it was stopped again');
  });
});

describe('deploy of an app configured from the environment', () => {
  test('migrate goes to the PostgreSQL database of shared/.env, and the summary says which', async () => {
    const v1 = git(repo, 'rev-parse', 'HEAD');
    // The virtualenv as `python -m venv` makes it by default, with its own pip (the path the other deploys skip).
    const result = await deploy(site, v1, { 'venv-args': '--system-site-packages' });
    expect(errors(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(
      fs.existsSync(path.join(site.deployTo, 'releases', result.outputs['release-id'], 'venv', 'bin', 'pip')),
    ).toBe(true);
    expect(await applied('bakery')).toBe('cakes.0001_initial');
    expect(await pg.sql('SELECT name FROM cakes_cake', 'bakery')).toBe('Tarte Tatin');
    const release = result.outputs['release-id'];
    expect(fs.existsSync(path.join(site.deployTo, 'releases', release, 'db.sqlite3'))).toBe(false);
    const port = new URL(pg.url('bakery')).port;
    expect(result.summary).toContain(`| Database | PostgreSQL database 'bakery' on 127.0.0.1:${port}: migrated |`);
    const answer = await home();
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('Tarte Tatin');

    // The pre-migration backup is reported as db-backup reports one: size, sha256 and the restore step.
    const file = result.outputs['backup-path'];
    const bytes = fs.readFileSync(file);
    expect(result.outputs['backup-size-bytes']).toBe(String(bytes.length));
    expect(result.outputs['backup-sha256']).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(result.outputs['restore-command']).toContain(`backup: ${file}`);
    expect(result.summary).toContain(`| Backup sha256 | \`${result.outputs['backup-sha256']}\` |`);
    expect(result.summary).toContain(`| Backup size | ${bytes.length} bytes |`);
  });

  test('a database-url naming another database than the app’s is refused before anything changes', async () => {
    await pg.createDatabase('bakery_copy');
    const before = { current: current(site), backups: backups(site), applied: await applied('bakery') };
    const v2 = commit({ 'cakes/migrations/0002_cake_price.py': PRICE_MIGRATION }, 'price');
    const result = await deploy(site, v2, { 'database-url': pg.url('bakery_copy') });
    expect(result.exitCode).toBe(1);
    const port = new URL(pg.url('bakery')).port;
    expect(errors(result)).toEqual([
      `Refusing to migrate: Django's default database is the PostgreSQL database 'bakery' on 127.0.0.1:${port}, but the pre-migration backup protects the PostgreSQL database 'bakery_copy' on 127.0.0.1:${port} (input 'database-url'). Make input 'database-url' and the app's settings name the same database.`,
    ]);
    expect(await applied('bakery')).toBe(before.applied);
    expect(
      await pg.sql("SELECT count(*) FROM django_migrations WHERE app = 'cakes'", 'bakery_copy').catch(() => '0'),
    ).toBe('0');
    expect(current(site)).toBe(before.current);
    expect(backups(site)).toEqual(before.backups);
    expect(fs.existsSync(path.join(site.deployTo, 'shared', 'maintenance.on'))).toBe(false);
    git(repo, 'reset', '-q', '--hard', 'HEAD~1');
  });

  test('an env file that is missing or does not parse is one clear error, nothing changed', async () => {
    const before = { current: current(site), releases: releases(site) };
    const sha = git(repo, 'rev-parse', 'HEAD');
    const missing = await deploy(site, sha, { 'env-file': 'shared/production.env' });
    expect(missing.exitCode).toBe(1);
    expect(errors(missing)).toEqual([
      `Input 'env-file': ${site.deployTo}/shared/production.env does not exist on ${sshd.host} (a file of NAME=value lines).`,
    ]);
    fs.writeFileSync(path.join(site.deployTo, 'shared', 'broken.env'), `SECRET_KEY=${site.secretKey}\nDEBUG = "on\n`);
    const broken = await deploy(site, sha, { 'env-file': 'shared/broken.env' });
    expect(broken.exitCode).toBe(1);
    expect(errors(broken)).toEqual([
      `The environment file ${site.deployTo}/shared/broken.env on ${sshd.host} does not parse: line 2 has an unclosed " quote (expected NAME=value lines; input 'env-file').`,
    ]);
    for (const result of [missing, broken]) expect(result.log).not.toMatch(/\n\s+at /);
    expect({ current: current(site), releases: releases(site) }).toEqual(before);
  });
});

describe('the health gate in smoke-check’s words', () => {
  test('an HTML page where JSON was expected fails with what the body was and what to configure', async () => {
    const before = current(site);
    const result = await deploy(site, git(repo, 'rev-parse', 'HEAD'), {
      'health-url': `${nginx.url}/`,
      'health-timeout': '45s',
    });
    expect(result.exitCode).toBe(1);
    expect(errors(result).join('\n')).toMatch(
      /the body was an HTML page; version-from reads the JSON \$\.commit\)\. Serve the release commit there .* or set version-from to header:<Name>, body, or none/,
    );
    expect(current(site)).toBe(before);
  });

  test('by status only (version-from: none) on the HTML home page', async () => {
    const result = await deploy(site, git(repo, 'rev-parse', 'HEAD'), {
      'health-url': `${nginx.url}/`,
      'version-from': 'none',
      'expected-status': '200',
    });
    expect(errors(result)).toEqual([]);
    expect(current(site)).toBe(result.outputs['release-id']);
  });

  test('by JSON path and by header, with the documented /health view', async () => {
    const sha = commit(healthView(), 'health view');
    const byJson = await deploy(site, sha, { 'health-url': `${nginx.url}/health`, 'version-from': 'json:$.commit' });
    expect(errors(byJson)).toEqual([]);
    const answer = await httpGet(`${nginx.url}/health`);
    expect(JSON.parse(answer.body)).toMatchObject({ commit: sha });
    expect(answer.headers['x-release-commit']).toBe(sha);
    const byHeader = await deploy(site, sha, {
      'health-url': `${nginx.url}/health`,
      'version-from': 'header:X-Release-Commit',
    });
    expect(errors(byHeader)).toEqual([]);
    // A header that does not carry the commit fails the gate.
    const wrong = await deploy(site, sha, {
      'health-url': `${nginx.url}/health`,
      'version-from': 'header:X-Other',
      'health-timeout': '20s',
    });
    expect(wrong.exitCode).toBe(1);
    expect(current(site)).toBe(byHeader.outputs['release-id']);
  });
});

describe('keeping a way back', () => {
  test('after several failed deploys and a good one, mode: rollback still finds the last good release', async () => {
    const good = git(repo, 'rev-parse', 'HEAD');
    const first = await deploy(site, good, { 'keep-releases': '2' });
    expect(errors(first)).toEqual([]);
    const rollbackTarget = first.outputs['release-id'];
    // Two broken releases: the settings do not import, so check --deploy fails in the build.
    for (const n of [1, 2]) {
      const broken = commit({ 'bakery/urls.py': `urlpatterns = [  # broken ${n}\n` }, `broken ${n}`);
      expect((await deploy(site, broken, { 'keep-releases': '2' })).exitCode).toBe(1);
      git(repo, 'reset', '-q', '--hard', 'HEAD~1');
    }
    const again = await deploy(site, good, { 'keep-releases': '2' });
    expect(errors(again)).toEqual([]);
    expect(releases(site)).toEqual([rollbackTarget, again.outputs['release-id']].sort());

    const rollback = await deploy(site, good, { mode: 'rollback' });
    expect(errors(rollback)).toEqual([]);
    expect(rollback.outputs['release-id']).toBe(rollbackTarget);
    expect(current(site)).toBe(rollbackTarget);
    expect((await home()).status).toBe(200);
  });
});

describe('rollback-migrations under load', () => {
  interface Load {
    ok: number;
    maintenance: number;
    failed: string[];
  }

  async function underLoad(during: () => Promise<StepResult>): Promise<{ load: Load; result: StepResult }> {
    const load: Load = { ok: 0, maintenance: 0, failed: [] };
    let running = true;
    const capAt = Date.now() + 200_000;
    const client = async () => {
      while (running && Date.now() < capAt) {
        try {
          const answer = await home();
          if (answer.status === 200) load.ok += 1;
          else if (answer.status === 503) load.maintenance += 1;
          else load.failed.push(`HTTP ${answer.status}`);
        } catch (error) {
          load.failed.push(String(error));
        }
      }
    };
    const clients = Array.from({ length: 4 }, client);
    try {
      return { load, result: await during() };
    } finally {
      running = false;
      await Promise.all(clients);
    }
  }

  test('migrations are reversed with the old code back behind maintenance: no answer but 200 or 503', async () => {
    const before = current(site);
    // The new release shows prices: its page reads the new column, so it cannot serve without it.
    const sha = commit(
      {
        'cakes/migrations/0002_cake_price.py': PRICE_MIGRATION,
        'cakes/models.py': fs
          .readFileSync(path.join(FIXTURE, 'cakes', 'models.py'), 'utf8')
          .replace('    name = models.CharField(max_length=100)\n', '$&    price = models.IntegerField(default=4)\n'),
        'cakes/templates/cakes/menu.html': fs
          .readFileSync(path.join(FIXTURE, 'cakes', 'templates', 'cakes', 'menu.html'), 'utf8')
          .replace('<li>{{ cake }}</li>', '<li>{{ cake }}: {{ cake.price }} €</li>'),
      },
      'prices',
    );
    const { load, result } = await underLoad(() =>
      deploy(site, sha, {
        'rollback-migrations': 'cakes',
        // No /nothing-here on this app: the gate fails fast and the deploy rolls back.
        'health-url': `${nginx.url}/nothing-here`,
      }),
    );
    process.stdout.write(
      `rollback-migrations under load: ${load.ok} ok, ${load.maintenance} maintenance 503, ${load.failed.length} failed\n`,
    );
    expect(errors(result).join('\n')).toMatch(/Health check of .*nothing-here failed .*404.*rolled back/);
    expect(result.outputs['rolled-back']).toBe('true');
    expect(result.summary).toContain('were migrated back (rollback-migrations), behind maintenance');
    expect(current(site)).toBe(before);
    expect(await applied('bakery')).toBe('cakes.0001_initial');
    expect(load.ok).toBeGreaterThan(10);
    expect(load.failed).toEqual([]);
    git(repo, 'reset', '-q', '--hard', 'HEAD~1');
  });
});
