// The server pieces of the examples, run for real: the example's nginx site in front of gunicorn started from the
// example's supervisor program, serving the OC Pizza fixture with the example's /health view, in the release layout
// the deploy builds. Switching `current` and sending HUP must serve the new commit; the maintenance flag must give
// the 503 page; a database that does not answer must make /health say so. The Heroku examples' view reports the
// dyno's slug commit.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { snapshotRepository, type RepositorySnapshot } from '../harness/repository-snapshot.js';
import { runWorkflow } from '../harness/workflow-runner.js';
import { pullRequestEvent } from '../stand-ins/github-events.js';
import { preloadOpenApi } from '../stand-ins/github-openapi.js';
import { REPO, useStagingRepo, type StagingRepo } from '../support/staging-guard-world.js';
import { copyFixture, djangoPython, GUNICORN, httpGet, productionEnv, WSGI_APP } from '../testbed/django-app.js';
import { startNginx } from '../testbed/nginx.js';
import { startMariaDB } from '../testbed/mariadb.js';
import { startPostgres } from '../testbed/postgres.js';
import { freePort } from '../testbed/ports.js';
import { delay, makeTempDir } from '../testbed/process.js';
import { startSupervisord } from '../testbed/supervisord.js';

const examples = new URL('../../examples/', import.meta.url).pathname;

interface ServerExample {
  name: string;
  /** The deploy-to directory the example's files name. */
  root: string;
  nginx: string;
  supervisor: string;
  /** Where the example's nginx serves /static/ from, inside a release. */
  staticDir: string;
}

const SERVER_EXAMPLES: ServerExample[] = [
  {
    name: 'droplet-staging-flow',
    root: '/srv/ocpizza',
    nginx: 'server/ocpizza.nginx.conf',
    supervisor: 'server/ocpizza-gunicorn.supervisor.conf',
    staticDir: 'OCPizza/staticfiles',
  },
  {
    name: 'ec2-nightly-backup',
    root: '/home/ubuntu/oc-pizza',
    nginx: 'server/oc-pizza.nginx.conf',
    supervisor: 'server/oc-pizza.supervisor.conf',
    staticDir: 'staticfiles',
  },
];

function replaceExactly(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`expected ${JSON.stringify(from)} in the example`);
  return text.split(from).join(to);
}

/** The `[program:x]` section of a supervisor file: its name and its `key=value` lines. */
function supervisorProgram(text: string): { name: string; options: Record<string, string> } {
  const lines = text.split('\n').filter((l) => l.trim() && !l.trim().startsWith(';'));
  const header = lines.findIndex((l) => /^\[program:[\w.-]+\]$/.test(l.trim()));
  if (header < 0) throw new Error('no [program:x] section');
  const name = /^\[program:([\w.-]+)\]$/.exec(lines[header].trim())![1];
  const options: Record<string, string> = {};
  for (const line of lines.slice(header + 1)) {
    if (line.startsWith('[')) break;
    const at = line.indexOf('=');
    options[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return { name, options };
}

/** The directives inside the example's `server { … }`, without the listen and server_name the test bed sets. */
function serverDirectives(text: string): string {
  const body = text.slice(text.indexOf('server {') + 'server {'.length, text.lastIndexOf('}'));
  return body
    .split('\n')
    .filter((l) => !/^\s*(listen|server_name)\s/.test(l) && !/^\s*#/.test(l))
    .join('\n');
}

/** Polls until `check` holds, at most `attempts` times (no wall-clock assertion: only the number of tries). */
async function eventually(check: () => Promise<boolean>, attempts = 200): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    if (await check().catch(() => false)) return true;
    await delay(100);
  }
  return false;
}

const json = (body: string) => JSON.parse(body) as { status: string; commit: string; database: string };

describe.each(SERVER_EXAMPLES)('examples/$name: nginx → gunicorn (supervisor) → /health', (example) => {
  test('HUP after switching current serves the new commit; the flag gives the maintenance page', async () => {
    const dir = makeTempDir('example-server');
    const root = path.join(dir, 'app');
    const pg = await startPostgres();
    let supervisor: Awaited<ReturnType<typeof startSupervisord>> | undefined;
    let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
    try {
      await pg.createDatabase('ocpizza');
      fs.mkdirSync(path.join(root, 'shared', 'logs'), { recursive: true });
      const env = productionEnv({ databaseUrl: pg.url('ocpizza'), secure: false });
      fs.writeFileSync(
        path.join(root, 'shared', '.env'),
        Object.entries(env)
          .map(([k, v]) => `${k}=${v}\n`)
          .join(''),
      );
      const health = fs.readFileSync(path.join(examples, example.name, 'django', 'health.py'), 'utf8');
      const commits = { r1: '1'.repeat(40), r2: '2'.repeat(40) };
      for (const [release, commit] of Object.entries(commits)) {
        const dirOf = await copyFixture(path.join(root, 'releases', release));
        fs.writeFileSync(path.join(dirOf, 'REVISION'), `commit=${commit}\nrelease=${release}\n`);
        fs.symlinkSync('../../shared/.env', path.join(dirOf, '.env'));
        fs.writeFileSync(path.join(dirOf, 'ocpizza', 'example_health.py'), health);
        const urls = path.join(dirOf, 'ocpizza', 'urls.py');
        fs.writeFileSync(
          urls,
          replaceExactly(
            fs.readFileSync(urls, 'utf8'),
            'urlpatterns = [\n',
            "from . import example_health\n\nurlpatterns = [\n    path('example-health', example_health.health),\n",
          ),
        );
        fs.mkdirSync(path.join(dirOf, example.staticDir), { recursive: true });
        fs.writeFileSync(path.join(dirOf, example.staticDir, 'app.css'), `/* ${release} */\n`);
        fs.mkdirSync(path.join(dirOf, 'maintenance'));
        fs.writeFileSync(path.join(dirOf, 'maintenance', 'maintenance.html'), '<h1>Back in a minute</h1>\n');
      }
      fs.symlinkSync('releases/r1', path.join(root, 'current'));

      // The example's program, with only what cannot be the same on this machine changed: the paths, the port,
      // Debian's gunicorn instead of the release's virtualenv, the fixture's WSGI module and this machine's user.
      const program = supervisorProgram(fs.readFileSync(path.join(examples, example.name, example.supervisor), 'utf8'));
      const argv = program.options.command.split(/\s+/);
      expect(argv).toEqual(expect.arrayContaining(['--chdir', `${example.root}/current`]));
      expect(argv).not.toContain('--preload');
      const appPort = await freePort();
      const command = replaceExactly(
        replaceExactly(program.options.command, '127.0.0.1:8000', `127.0.0.1:${appPort}`),
        example.root,
        root,
      )
        .replace(/^\S+/, GUNICORN)
        .replace(/\S+:application$/, WSGI_APP);
      supervisor = await startSupervisord({
        programs: {
          [program.name]: {
            command,
            directory: replaceExactly(program.options.directory, example.root, root),
            stopasgroup: program.options.stopasgroup === 'true',
            environment: { PYTHONDONTWRITEBYTECODE: '1', LANG: 'C.UTF-8' },
          },
        },
      });
      await supervisor.waitForState(program.name, 'RUNNING');

      const site = fs.readFileSync(path.join(examples, example.name, example.nginx), 'utf8');
      nginx = await startNginx({
        serverBlock: replaceExactly(
          replaceExactly(serverDirectives(site), 'http://127.0.0.1:8000', `http://127.0.0.1:${appPort}`),
          example.root,
          root,
        ),
      });
      const get = (p: string) => httpGet(`${nginx!.url}${p}`);

      expect(await eventually(async () => json((await get('/example-health')).body).commit === commits.r1)).toBe(true);
      const first = await get('/example-health');
      expect(first.status).toBe(200);
      expect(json(first.body)).toMatchObject({ status: 'ok', database: 'ok', commit: commits.r1 });
      expect((await get('/static/app.css')).body).toBe('/* r1 */\n');

      fs.writeFileSync(path.join(root, 'shared', 'maintenance.on'), '');
      const down = await get('/');
      expect(down.status).toBe(503);
      expect(down.headers['retry-after']).toBe('60');
      expect(down.body).toContain('Back in a minute');
      fs.rmSync(path.join(root, 'shared', 'maintenance.on'));
      expect((await get('/example-health')).status).toBe(200);

      // The deploy's switch: a new symlink renamed over `current`, then HUP to the gunicorn master.
      fs.symlinkSync('releases/r2', path.join(root, 'current.new'));
      fs.renameSync(path.join(root, 'current.new'), path.join(root, 'current'));
      expect((await supervisor.ctl('signal', 'HUP', program.name)).code).toBe(0);
      expect(await eventually(async () => json((await get('/example-health')).body).commit === commits.r2)).toBe(true);
      expect((await get('/static/app.css')).body).toBe('/* r2 */\n');

      await pg.stop();
      const broken = await get('/example-health');
      expect(broken.status).toBe(503);
      expect(json(broken.body)).toMatchObject({ status: 'error', commit: commits.r2 });
      expect(json(broken.body).database).toMatch(/^error: /);
    } finally {
      await nginx?.stop();
      await supervisor?.stop();
      await pg.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 180000);
});

describe.each(['heroku-two-apps', 'heroku-maintenance-backups', 'heroku-mysql'])('examples/%s', (name) => {
  test('/health reports the slug commit and the database', async () => {
    const dir = makeTempDir('example-heroku');
    try {
      const project = await copyFixture(path.join(dir, 'app'));
      fs.copyFileSync(
        path.join(examples, name, 'django', 'health.py'),
        path.join(project, 'ocpizza', 'example_health.py'),
      );
      // The view's own logic: a database that answers and one that cannot be opened (SQLite through the fixture's
      // DATABASE_URL parser), the commit from the dyno metadata variables.
      const script = [
        'import json, django',
        'django.setup()',
        'from django.test import RequestFactory',
        'from ocpizza.example_health import health',
        "response = health(RequestFactory().get('/health'))",
        "print(json.dumps({'status': response.status_code, 'body': json.loads(response.content)}))",
      ].join('\n');
      const run = async (databaseUrl: string) => {
        const result = await djangoPython(['-c', script], {
          projectDir: project,
          env: {
            ...productionEnv({ databaseUrl, secure: false }),
            DJANGO_SETTINGS_MODULE: 'ocpizza.settings',
            HEROKU_SLUG_COMMIT: 'c'.repeat(40),
            HEROKU_RELEASE_VERSION: 'v42',
          },
        });
        expect(result.stderr).toBe('');
        return JSON.parse(result.stdout) as { status: number; body: Record<string, string> };
      };
      const up = await run(`sqlite:///${path.join(dir, 'db.sqlite3')}`);
      expect(up).toEqual({
        status: 200,
        body: { status: 'ok', database: 'ok', commit: 'c'.repeat(40), release: 'v42' },
      });
      const down = await run(`sqlite:///${path.join(dir, 'missing', 'db.sqlite3')}`);
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ status: 'error', commit: 'c'.repeat(40) });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60000);
});

// The examples' caller workflows, run by the local workflow runner as GitHub would run them for the team: each calls
// `<owner>/runbook/.github/workflows/<w>.yml@v1`, resolved to the v1 tag of a clone of this repository.
const OWNER = 'ocpizza';
let runbook: RepositorySnapshot | undefined;
/** A clone of this repository with v1 on a commit of the working tree, made once for the file. */
function runbookAtV1(): RepositorySnapshot {
  if (!runbook) {
    runbook = snapshotRepository();
    runbook.tag('v1', runbook.commit('runbook under test'));
  }
  return runbook;
}
afterAll(() => runbook?.dispose());

/** The example's caller workflow with `<owner>` filled in, as the team's copy says it. */
function callerWorkflow(example: string, file: string, into: string): string {
  const text = fs.readFileSync(path.join(examples, example, '.github', 'workflows', file), 'utf8');
  const target = path.join(into, `${example}-${file}`);
  fs.writeFileSync(target, replaceExactly(text, '<owner>/runbook/', `${OWNER}/runbook/`));
  return target;
}

const ALL_EXAMPLES = [
  'heroku-two-apps',
  'droplet-staging-flow',
  'heroku-maintenance-backups',
  'heroku-mysql',
  'ec2-nightly-backup',
];

describe('examples: the staging guard on pull requests into master, through @v1', () => {
  const TOKEN = 'ghs_e2eExamplesGuardToken7c1f9a3b5d';
  let repo: StagingRepo;
  useStagingRepo({ token: TOKEN, prefix: '/api/v3' }, (r) => (repo = r));
  beforeAll(() => preloadOpenApi(), 60_000);

  test.each(ALL_EXAMPLES)(
    '%s: staging → master is allowed, feature → master is refused',
    async (example) => {
      const dir = makeTempDir('example-guard');
      try {
        const workflow = callerWorkflow(example, 'staging-guard.yml', dir);
        const pull = (number: number, headRef: string, headSha: string) => {
          repo.api.addPull({ number, headRef, baseRef: 'master' });
          // The example's CI check on the head (caller job `ci`, called job's name), green.
          repo.api.addCheckRun(headSha, { name: 'ci / Tests under the coverage gate' });
          return runWorkflow({
            workflow,
            event: {
              name: 'pull_request_target',
              payload: pullRequestEvent({
                repo: REPO,
                number,
                headRef,
                headSha,
                baseRef: 'master',
                baseSha: repo.masterSha,
              }),
            },
            github: {
              repository: REPO,
              apiUrl: repo.api.url,
              token: TOKEN,
              sha: repo.masterSha,
              ref: 'refs/heads/master',
            },
            repositories: { [`${OWNER}/runbook`]: runbookAtV1().dir },
          });
        };
        const staging = await pull(7, 'staging', repo.stagingSha);
        expect(staging.conclusion).toBe('success');
        expect(staging.jobs[0].outputs).toEqual({ allowed: 'true', reasons: '[]' });

        repo.git.branch('feature/menu', 'master');
        const feature = await pull(8, 'feature/menu', repo.git.commit('feature/menu', 'Menu tweak'));
        expect(feature.conclusion).toBe('failure');
        expect(JSON.parse(feature.jobs[0].outputs.reasons)).toEqual([expect.stringMatching(/feature\/menu/)]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
    180_000,
  );
});

describe('examples: CI on a push to staging, through @v1', () => {
  let pg: Awaited<ReturnType<typeof startPostgres>>;
  let maria: Awaited<ReturnType<typeof startMariaDB>>;
  let dir: string;
  beforeAll(async () => {
    [pg, maria] = await Promise.all([startPostgres(), startMariaDB()]);
    dir = makeTempDir('example-ci');
  }, 120_000);
  afterAll(async () => {
    await Promise.all([pg?.stop(), maria?.stop()]);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  // One example per database service: the droplet's PostgreSQL, Heroku's MySQL (JawsDB).
  test.each(['droplet-staging-flow', 'heroku-mysql'])(
    '%s: the tests pass the 90 %% gate; a commit of untested code fails it',
    async (example) => {
      // The team's repository: the OC Pizza project on a staging branch.
      const app = await copyFixture(path.join(dir, example));
      const git = (...args: string[]) =>
        execFileSync('git', ['-c', 'user.name=dev', '-c', 'user.email=dev@ocpizza.invalid', ...args], {
          cwd: app,
          encoding: 'utf8',
        }).trim();
      git('init', '--quiet', '--initial-branch=staging');
      git('add', '-A');
      git('commit', '--quiet', '-m', 'OC Pizza');
      const workflow = callerWorkflow(example, 'ci.yml', dir);
      const push = (sha: string) =>
        runWorkflow({
          workflow,
          event: { name: 'push', payload: { ref: 'refs/heads/staging', after: sha } },
          github: { repository: `${OWNER}/oc-pizza`, sha, ref: 'refs/heads/staging' },
          repositoryDir: app,
          repositories: { [`${OWNER}/runbook`]: runbookAtV1().dir },
          services: { postgres: pg, mysql: maria },
        });
      const green = await push(git('rev-parse', 'HEAD'));
      const coverage = Number(green.jobs[0].outputs.coverage);
      expect(coverage).toBeGreaterThanOrEqual(90);
      expect(green).toMatchObject({ conclusion: 'success', jobs: [{ outputs: { passed: 'true' } }] });

      // A report module nobody wrote tests for: enough untested lines to take the project under 90 %.
      const lines = ['def weekly_report(orders):', '    totals = {}'];
      for (let i = 0; i < 120; i++)
        lines.push(`    totals['k${i}'] = sum(o.total for o in orders if o.id % ${i + 2} == 0)`);
      lines.push('    return totals', '');
      fs.writeFileSync(path.join(app, 'orders', 'reports.py'), lines.join('\n'));
      fs.appendFileSync(path.join(app, 'orders', 'models.py'), '\nfrom . import reports  # noqa: E402,F401\n');
      git('add', '-A');
      git('commit', '--quiet', '-m', 'Weekly report');
      const red = await push(git('rev-parse', 'HEAD'));
      expect(red.conclusion).toBe('failure');
      expect(red.jobs[0].outputs.passed).toBe('false');
      expect(Number(red.jobs[0].outputs.coverage)).toBeLessThan(90);
    },
    600_000,
  );
});
