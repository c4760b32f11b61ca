// The examples' deploy.yml, run by the local workflow runner for a push to master as GitHub would run it for the
// team: through `<owner>/runbook/.github/workflows/deploy-django.yml@v1` (the v1 tag of a clone of this repository),
// with the example's own https URLs. The runner machine resolves those names and trusts their certificates as a
// self-hosted runner of a team with a private CA would: a hosts line per name (runWorkflow's `hosts`, mounted over
// /etc/hosts in each step's own mount namespace) pointing at a loopback address of the test's own, where the site
// answers on port 443 with a certificate of the test bed's CA, which the runner trusts through NODE_EXTRA_CA_CERTS
// (and CURL_CA_BUNDLE for curl).
import dns from 'node:dns/promises';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { snapshotRepository, type RepositorySnapshot } from '../harness/repository-snapshot.js';
import { runWorkflow, type JobRun, type WorkflowRun } from '../harness/workflow-runner.js';
import { GitHistory } from '../stand-ins/git-history.js';
import { GitHubApiStandIn } from '../stand-ins/github-api.js';
import { pushEvent } from '../stand-ins/github-events.js';
import { startHerokuStage, type HerokuStage } from './deploy-heroku-world.js';
import { copyFixture, GUNICORN, productionEnv, WSGI_APP } from '../testbed/django-app.js';
import { startNginx, type NginxServer } from '../testbed/nginx.js';
import { freePort, privateLoopbackAddress } from '../testbed/ports.js';
import { startPostgres, type PostgresServer } from '../testbed/postgres.js';
import { makeTempDir } from '../testbed/process.js';
import { startSshd, type SshServer } from '../testbed/sshd.js';
import { startSupervisord, type SupervisordServer } from '../testbed/supervisord.js';
import { createTestCA, type TestCA } from '../testbed/tls.js';

const EXAMPLES = new URL('../../examples/', import.meta.url).pathname;
const OWNER = 'ocpizza';

/** GET https://<name><path> on `address`, SNI and Host set to the name, verified against the CA. */
function httpsGet(
  address: string,
  name: string,
  urlPath: string,
  ca: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = https.get(
      { host: address, servername: name, port: 443, path: urlPath, headers: { host: name }, ca, agent: false },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    request.on('error', reject);
    request.setTimeout(20_000, () => request.destroy(new Error(`no answer from https://${name}${urlPath}`)));
  });
}

/** Each step's outcome and the end of its log, for a failure message. */
function explain(run: WorkflowRun): string {
  const lines: string[] = [];
  const walk = (jobs: JobRun[], prefix: string) => {
    for (const job of jobs) {
      lines.push(`${prefix}${job.id}: ${job.result}`);
      for (const step of job.steps)
        lines.push(
          `  ${prefix}${job.id}/${step.id}: ${step.outcome} ${step.message ?? ''}\n${(step.result?.log ?? '').slice(-1500)}`,
        );
      if (job.called) walk(job.called, `${prefix}${job.id}/`);
    }
  };
  walk(run.jobs, '');
  return lines.join('\n');
}

function replaceExactly(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`expected ${JSON.stringify(from)} in the example`);
  return text.split(from).join(to);
}

describe('the runner machine resolves names given to runWorkflow and trusts the test CA', () => {
  let ca: TestCA;
  let address: string;
  let server: https.Server;
  let dir: string;
  const commit = 'c0ffee'.repeat(6) + 'c0ff';

  beforeAll(async () => {
    ca = await createTestCA();
    address = await privateLoopbackAddress(443);
    const certificate = await ca.issue(['ocpizza.example']);
    server = https.createServer(certificate, (request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ status: 'ok', commit, host: request.headers.host }));
    });
    await new Promise<void>((resolve) => server.listen(443, address, resolve));
    dir = makeTempDir('workflow-hosts');
  }, 60_000);

  afterAll(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    ca?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const workflow = () => {
    const file = path.join(dir, 'check.yml');
    fs.writeFileSync(
      file,
      `on: push
permissions: {}
jobs:
  check:
    runs-on: ubuntu-24.04
    steps:
      - id: curl
        run: |
          body=$(curl -sS --fail https://ocpizza.example/health)
          echo "body=$body" >> "$GITHUB_OUTPUT"
      - id: smoke
        uses: ./actions/smoke-check
        with:
          urls: https://ocpizza.example/health
          expect-version: ${commit}
          version-from: json:$.commit
`,
    );
    return file;
  };

  test('a run step (curl) and an action step (Node) reach https://ocpizza.example/ served on the address', async () => {
    const run = await runWorkflow({
      workflow: workflow(),
      event: { name: 'push', payload: { ref: 'refs/heads/master', after: commit } },
      github: { sha: commit, ref: 'refs/heads/master' },
      hosts: { 'ocpizza.example': address },
      runnerEnv: { NODE_EXTRA_CA_CERTS: ca.certPath, CURL_CA_BUNDLE: ca.certPath },
    });
    if (run.conclusion !== 'success') throw new Error(explain(run));
    const [curl, smoke] = run.jobs[0].steps;
    expect(JSON.parse(curl.result!.steps![0].outputs.body)).toEqual({ status: 'ok', commit, host: 'ocpizza.example' });
    expect(smoke.result!.outputs.healthy).toBe('true');
    // Only the steps saw the name: the machine's own lookup still does not know it.
    await expect(dns.lookup('ocpizza.example')).rejects.toThrow();
    expect(fs.readFileSync('/etc/hosts', 'utf8')).not.toContain('ocpizza.example');
  }, 120_000);

  test('without the hosts line the name does not resolve; without the CA the certificate is refused', async () => {
    const unresolved = await runWorkflow({
      workflow: workflow(),
      event: { name: 'push', payload: { ref: 'refs/heads/master', after: commit } },
      github: { sha: commit, ref: 'refs/heads/master' },
      runnerEnv: { NODE_EXTRA_CA_CERTS: ca.certPath, CURL_CA_BUNDLE: ca.certPath },
    });
    expect(unresolved.conclusion).toBe('failure');
    expect(unresolved.jobs[0].steps[0].result!.log).toMatch(/Could not resolve host: ocpizza\.example/);
    expect(unresolved.jobs[0].steps[1].outcome).toBe('skipped');

    const untrusted = await runWorkflow({
      workflow: workflow(),
      event: { name: 'push', payload: { ref: 'refs/heads/master', after: commit } },
      github: { sha: commit, ref: 'refs/heads/master' },
      hosts: { 'ocpizza.example': address },
    });
    expect(untrusted.conclusion).toBe('failure');
    expect(untrusted.jobs[0].steps[0].result!.log).toMatch(/SSL certificate problem/);
  }, 120_000);
});

/** A clone of this repository with v1 on a commit of the working tree, made once for the file. */
let runbook: RepositorySnapshot | undefined;
function runbookAtV1(): RepositorySnapshot {
  if (!runbook) {
    runbook = snapshotRepository();
    runbook.tag('v1', runbook.commit('runbook under test'));
  }
  return runbook;
}
afterAll(() => runbook?.dispose());

/**
 * The team's repository (the OC Pizza fixture) on a real git history the GitHub API stand-in serves: each change is
 * made on staging, CI green on it, and its pull request merged into master as GitHub merges one.
 */
interface TeamRepo {
  dir: string;
  history: GitHistory;
  api: GitHubApiStandIn;
  /** Commits `change` on staging and merges it into master; returns master before and the merge. */
  mergeFromStaging(title: string, change: (tree: string) => void): { before: string; merge: string };
}

const TOKEN = 'ghs_e2eExampleDeployToken4d2a9c7e1b';

/** `app`: a git repository of the project with master checked out (committed when `init`). */
async function teamRepo(app: string, repo: string, init: boolean): Promise<TeamRepo> {
  const history = GitHistory.open(app);
  if (init) {
    history.git('init', '--quiet', '--initial-branch=master');
    history.git('add', '-A');
    history.git('commit', '--quiet', '-m', 'OC Pizza');
  }
  history.branch('staging', 'master');
  const api = await GitHubApiStandIn.start({ owner: OWNER, repo, git: history, token: TOKEN });
  let pull = 0;
  return {
    dir: app,
    history,
    api,
    mergeFromStaging(title, change) {
      const before = history.resolve('master')!;
      history.git('switch', '--quiet', 'staging');
      change(app);
      history.git('add', '-A');
      history.git('commit', '--quiet', '-m', title);
      const head = history.resolve('staging')!;
      pull += 1;
      const merge = history.git(
        'commit-tree',
        `${head}^{tree}`,
        '-p',
        before,
        '-p',
        head,
        '-m',
        `Merge pull request #${pull} from ${OWNER}/staging\n\n${title}`,
      );
      history.git('update-ref', 'refs/heads/master', merge, before);
      api.addCheckRun(head, { name: 'ci / Tests under the coverage gate' });
      api.addPull({
        number: pull,
        headRef: 'staging',
        headSha: head,
        baseRef: 'master',
        state: 'closed',
        mergeCommitSha: merge,
        mergedAt: new Date().toISOString(),
        title,
      });
      return { before, merge };
    },
  };
}

/** The menu view renders a template that does not exist (renamed in the view only): the home page answers 500. */
function breakTheHomePage(tree: string): void {
  const views = path.join(tree, 'pizzas', 'views.py');
  fs.writeFileSync(views, replaceExactly(fs.readFileSync(views, 'utf8'), "'pizzas/menu.html'", "'pizzas/carte.html'"));
}

/** A change that needs a migration (a new column): the pre-migration backup is taken before it is applied. */
function addVegetarianFlag(tree: string): void {
  const models = path.join(tree, 'pizzas', 'models.py');
  fs.writeFileSync(
    models,
    replaceExactly(
      fs.readFileSync(models, 'utf8'),
      '    available = models.BooleanField(default=True)\n',
      '    available = models.BooleanField(default=True)\n    vegetarian = models.BooleanField(default=False)\n',
    ),
  );
  fs.writeFileSync(
    path.join(tree, 'pizzas', 'migrations', '0003_pizza_vegetarian.py'),
    [
      'from django.db import migrations, models',
      '',
      '',
      'class Migration(migrations.Migration):',
      '',
      "    dependencies = [('pizzas', '0002_seed_menu')]",
      '',
      '    operations = [',
      "        migrations.AddField(model_name='pizza', name='vegetarian', field=models.BooleanField(default=False)),",
      '    ]',
      '',
    ].join('\n'),
  );
}

/** The SSH examples, and what this server's copy of each needs that the example leaves to the team. */
interface SshExample {
  name: string;
  /** The site's name in the example's URLs. */
  site: string;
  /** deploy-to in the example, and the paths its server files name. */
  root: string;
  supervisor: string;
  nginx: string;
  program: string;
  /** Variables of shared/.env besides productionEnv's (what the example's required-env names). */
  env: (databaseUrl: string) => Record<string, string>;
  /** The caller's secrets for the host, the key and the known_hosts lines. */
  secrets: { host: string; key: string; knownHosts: string };
  /** `with:` values the team sets for its own project (the fixture's app labels instead of the seed's). */
  with?: Record<string, string>;
}

const SSH_EXAMPLES: SshExample[] = [
  {
    name: 'droplet-staging-flow',
    site: 'ocpizza.example',
    root: '/srv/ocpizza',
    supervisor: 'server/ocpizza-gunicorn.supervisor.conf',
    nginx: 'server/ocpizza.nginx.conf',
    program: 'ocpizza-gunicorn',
    env: () => ({ SENTRY_DSN: 'https://0123456789abcdef@o1.ingest.sentry.invalid/2' }),
    secrets: { host: 'DROPLET_HOST', key: 'DEPLOY_SSH_KEY', knownHosts: 'DROPLET_KNOWN_HOSTS' },
    // The seed's app label is OCPizza; the fixture's app with the migrations this test adds is pizzas.
    with: { 'rollback-migrations': 'pizzas' },
  },
  {
    name: 'ec2-nightly-backup',
    site: 'oc-pizza.example',
    root: '/home/ubuntu/oc-pizza',
    supervisor: 'server/oc-pizza.supervisor.conf',
    nginx: 'server/oc-pizza.nginx.conf',
    program: 'oc-pizza-gunicorn',
    // The seed's settings read the database from NAME_DB, USER_DB…; the fixture reads DATABASE_URL, set too.
    env: (databaseUrl) => {
      const url = new URL(databaseUrl);
      return {
        NAME_DB: url.pathname.slice(1),
        USER_DB: decodeURIComponent(url.username),
        PASSWORD_DB: decodeURIComponent(url.password),
        HOST_DB: url.hostname,
        PORT_DB: url.port,
      };
    },
    secrets: { host: 'EC2_HOST', key: 'EC2_SSH_KEY', knownHosts: 'EC2_KNOWN_HOSTS' },
  },
];

describe.each(SSH_EXAMPLES)('examples/$name: a push to master deploys over SSH', (ex) => {
  let ca: TestCA;
  let address: string;
  let pg: PostgresServer;
  let supervisor: SupervisordServer;
  let sshd: SshServer;
  let nginx: NginxServer;
  let team: TeamRepo;
  let dir: string;
  let deployTo: string;
  let caller: string;
  const REPO = `${OWNER}/oc-pizza`;

  beforeAll(async () => {
    dir = makeTempDir(`example-deploy-${ex.name}`);
    deployTo = path.join(dir, 'srv', 'ocpizza');
    [ca, address, pg] = await Promise.all([createTestCA(), privateLoopbackAddress(443), startPostgres()]);
    await pg.createDatabase('ocpizza');
    fs.mkdirSync(path.join(deployTo, 'shared', 'logs'), { recursive: true });
    // The server's shared/.env (what the settings read, and what the example's required-env names): HTTPS behind
    // nginx, as `check --deploy` wants it.
    const env = {
      ...productionEnv({ databaseUrl: pg.url('ocpizza'), allowedHosts: ex.site }),
      ...ex.env(pg.url('ocpizza')),
    };
    fs.writeFileSync(
      path.join(deployTo, 'shared', '.env'),
      Object.entries(env)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(''),
      { mode: 0o600 },
    );

    // The example's supervisor program, with what cannot be the same here changed: the paths, the port, Debian's
    // gunicorn (the packages are Debian's, see the .bashrc below), the fixture's WSGI module, this machine's user.
    const programText = fs.readFileSync(path.join(EXAMPLES, ex.name, ex.supervisor), 'utf8');
    const command = /^command=(.+)$/m.exec(programText)![1];
    const appPort = await freePort();
    supervisor = await startSupervisord({
      programs: {
        [ex.program]: {
          command: replaceExactly(replaceExactly(command, '127.0.0.1:8000', `127.0.0.1:${appPort}`), ex.root, deployTo)
            .replace(/^\S+/, GUNICORN)
            .replace(/\S+:application$/, WSGI_APP),
          directory: deployTo,
          // Nothing to run before the first deploy (there is no `current` yet): the deploy starts it.
          autostart: false,
          autorestart: 'unexpected',
          stopasgroup: true,
          environment: { PYTHONDONTWRITEBYTECODE: '1', LANG: 'C.UTF-8' },
        },
      },
    });
    // The server: this sshd, whose sessions find the test bed supervisord where Debian's supervisorctl looks.
    sshd = await startSshd({
      mounts: [{ source: supervisor.configPath, target: '/etc/supervisor/supervisord.conf' }],
    });
    // The server's Python packages are Debian's (no network for pip here): the deploy's virtualenv sees them, and pip
    // finds the requirements satisfied instead of asking an index.
    const bashrc = path.join(sshd.home, '.bashrc');
    fs.writeFileSync(
      bashrc,
      'export PYTHONPATH=/usr/lib/python3/dist-packages PIP_NO_INDEX=1\n' + fs.readFileSync(bashrc, 'utf8'),
    );

    // The example's nginx site, served over TLS on 443 as certbot would leave it.
    const site = fs.readFileSync(path.join(EXAMPLES, ex.name, ex.nginx), 'utf8');
    const body = site.slice(site.indexOf('server {') + 'server {'.length, site.lastIndexOf('}'));
    const directives = body
      .split('\n')
      .filter((l) => !/^\s*(listen|server_name)\s/.test(l) && !/^\s*#/.test(l))
      .join('\n');
    nginx = await startNginx({
      serverBlock: replaceExactly(
        replaceExactly(directives, 'http://127.0.0.1:8000', `http://127.0.0.1:${appPort}`),
        ex.root,
        deployTo,
      ),
      tls: await ca.issue([ex.site]),
      listen: { host: address, port: 443 },
      serverName: ex.site,
    });

    team = await teamRepo(await copyFixture(path.join(dir, 'oc-pizza')), 'oc-pizza', true);
    // The example as the team fills it in for this server: <owner>, and the deploy user and directory of this
    // server; the URLs stay the example's.
    const example = parseDocument(
      fs.readFileSync(path.join(EXAMPLES, ex.name, '.github/workflows/deploy.yml'), 'utf8'),
    );
    for (const job of ['flow', 'deploy'])
      example.setIn(['jobs', job, 'uses'], String(example.getIn(['jobs', job, 'uses'])).replace('<owner>', OWNER));
    example.setIn(['jobs', 'deploy', 'with', 'user'], sshd.user);
    example.setIn(['jobs', 'deploy', 'with', 'deploy-to'], deployTo);
    for (const [name, value] of Object.entries(ex.with ?? {})) example.setIn(['jobs', 'deploy', 'with', name], value);
    caller = path.join(dir, 'deploy.yml');
    fs.writeFileSync(caller, example.toString());
  }, 180_000);

  afterAll(async () => {
    await Promise.all([nginx?.stop(), supervisor?.stop(), sshd?.stop(), pg?.stop(), team?.api.stop()]);
    ca?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const push = ({ before, merge }: { before: string; merge: string }) =>
    runWorkflow({
      workflow: caller,
      event: { name: 'push', payload: pushEvent({ repo: REPO, branch: 'master', before, after: merge }) },
      secrets: {
        [ex.secrets.host]: `127.0.0.1:${sshd.port}`,
        [ex.secrets.key]: sshd.privateKey,
        [ex.secrets.knownHosts]: sshd.knownHosts,
      },
      github: { repository: REPO, sha: merge, ref: 'refs/heads/master', apiUrl: team.api.url, token: TOKEN },
      repositoryDir: team.dir,
      repositories: { [`${OWNER}/runbook`]: runbookAtV1().dir },
      hosts: { [ex.site]: address },
      runnerEnv: { NODE_EXTRA_CA_CERTS: ca.certPath },
    });
  const health = async () =>
    JSON.parse((await httpsGet(address, ex.site, '/health', ca.certPem)).body) as { commit: string };

  let first: { before: string; merge: string };

  test('the merge deploys: backup before migrating, https://<site>/health reports the merge', async () => {
    first = team.mergeFromStaging('Menu: vegetarian pizzas', addVegetarianFlag);
    const run = await push(first);
    if (run.conclusion !== 'success') throw new Error(explain(run));
    const deploy = run.jobs.find((j) => j.id === 'deploy')!;
    expect(deploy.outputs).toMatchObject({ 'rolled-back': 'false', healthy: 'true' });
    expect(deploy.called![0].environment).toEqual({ name: 'production', url: `https://${ex.site}` });
    const backup = deploy.outputs['backup-path'];
    expect(backup.startsWith(path.join(deployTo, 'shared', 'backups') + '/')).toBe(true);
    expect(fs.statSync(backup).size).toBeGreaterThan(0);
    expect((await health()).commit).toBe(first.merge);
    expect(await pg.sql('SELECT count(*) FROM pizzas_pizza WHERE NOT vegetarian', 'ocpizza')).toMatch(/^\d+\n?$/);
    expect(fs.readlinkSync(path.join(deployTo, 'current'))).toMatch(new RegExp(`${first.merge.slice(0, 7)}$`));
  }, 600_000);

  test('a merge that breaks the home page passes the health gate, fails the smoke check and is rolled back', async () => {
    const broken = team.mergeFromStaging('Menu: the new template name', breakTheHomePage);
    const run = await push(broken);
    expect(run.conclusion).toBe('failure');
    const deploy = run.jobs.find((j) => j.id === 'deploy')!;
    const steps = Object.fromEntries(deploy.called![0].steps.map((s) => [s.id, s]));
    expect(steps.deploy.outcome).toBe('success');
    expect(steps.smoke.result!.outputs.healthy).toBe('false');
    const homePage = steps.smoke.result!.log.split('\n').filter((l) => l.includes(`https://${ex.site}/: attempt`));
    expect(homePage.some((l) => l.includes(': HTTP 500'))).toBe(true);
    expect(steps.rollback.outcome).toBe('success');
    expect(deploy.outputs['rolled-back']).toBe('true');
    // The previous release serves again, its home page too.
    expect((await health()).commit).toBe(first.merge);
    expect((await httpsGet(address, ex.site, '/', ca.certPem)).status).toBe(200);
  }, 600_000);
});

/**
 * Heroku's edge on this machine, over TLS on one address: api.heroku.com is the Platform API stand-in, and
 * <app>.herokuapp.com (or a custom domain of the app) is that app's router (the stage serves each app's current
 * release under /<app>/), the Host header passed on as Heroku's router passes it.
 */
async function herokuEdge(
  stage: HerokuStage,
  apps: string[],
  domains: Record<string, string>,
  certificate: { cert: string; key: string },
  address: string,
): Promise<https.Server> {
  const targets = new Map<string, string>([['api.heroku.com', stage.standIn.url]]);
  for (const app of apps) targets.set(`${app}.herokuapp.com`, `${stage.appUrl}/${app}`);
  for (const [domain, app] of Object.entries(domains)) targets.set(domain, `${stage.appUrl}/${app}`);
  const server = https.createServer(certificate, (request, response) => {
    const base = targets.get(String(request.headers.host ?? '').toLowerCase());
    if (base === undefined) {
      response.writeHead(404).end('no such app');
      return;
    }
    const upstream = http.request(
      `${base}${request.url ?? '/'}`,
      { method: request.method, headers: request.headers, agent: false },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', () => response.writeHead(502).end('bad gateway'));
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(443, address, resolve));
  return server;
}

/** /health answers 500: the view reads a setting the project does not have (a rename half done). */
function breakTheHealthView(tree: string): void {
  const views = path.join(tree, 'ocpizza', 'views.py');
  fs.writeFileSync(
    views,
    replaceExactly(
      fs.readFileSync(views, 'utf8'),
      'revision = read_revision(settings.BASE_DIR)',
      'revision = read_revision(settings.PROJECT_ROOT)',
    ),
  );
}

/** The Heroku examples run here (heroku-mysql needs a MySQL add-on the stage does not have). */
interface HerokuExample {
  name: string;
  apps: string[];
  /** Custom domains in the example's URLs, and the app each one is routed to. */
  domains: Record<string, string>;
  environmentUrl: string;
  maintenance: boolean;
}

const HEROKU_EXAMPLES: HerokuExample[] = [
  {
    name: 'heroku-two-apps',
    apps: ['ocpizza-customers', 'ocpizza-staff'],
    domains: {},
    environmentUrl: 'https://ocpizza-customers.herokuapp.com',
    maintenance: false,
  },
  {
    name: 'heroku-maintenance-backups',
    apps: ['ocpizza-api'],
    domains: { 'ocpizza.fr': 'ocpizza-api' },
    environmentUrl: 'https://ocpizza.fr',
    maintenance: true,
  },
];

describe.each(HEROKU_EXAMPLES)('examples/$name: a push to master deploys through the Platform API', (ex) => {
  const APPS = ex.apps;
  const NAMES = ['api.heroku.com', ...APPS.map((a) => `${a}.herokuapp.com`), ...Object.keys(ex.domains)];
  const REPO = `${OWNER}/ocpizza-heroku`;
  let ca: TestCA;
  let address: string;
  let stage: HerokuStage;
  let edge: https.Server;
  let team: TeamRepo;
  let dir: string;
  let caller: string;

  beforeAll(async () => {
    dir = makeTempDir(`example-deploy-${ex.name}`);
    [ca, address, stage] = await Promise.all([createTestCA(), privateLoopbackAddress(443), startHerokuStage()]);
    // Both interfaces serve the repository's first commit, released by hand before the workflow existed.
    for (const app of APPS) await stage.addApp(app);
    edge = await herokuEdge(stage, APPS, ex.domains, await ca.issue(NAMES), address);
    team = await teamRepo(stage.repo, 'ocpizza-heroku', false);
    const example = parseDocument(
      fs.readFileSync(path.join(EXAMPLES, ex.name, '.github/workflows/deploy.yml'), 'utf8'),
    );
    for (const job of ['flow', 'deploy'])
      example.setIn(['jobs', job, 'uses'], String(example.getIn(['jobs', job, 'uses'])).replace('<owner>', OWNER));
    caller = path.join(dir, 'deploy.yml');
    fs.writeFileSync(caller, example.toString());
  }, 180_000);

  afterAll(async () => {
    if (edge) {
      edge.closeAllConnections();
      await new Promise<void>((resolve) => edge.close(() => resolve()));
    }
    await team?.api.stop();
    await stage?.stop();
    ca?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const push = ({ before, merge }: { before: string; merge: string }) =>
    runWorkflow({
      workflow: caller,
      event: { name: 'push', payload: pushEvent({ repo: REPO, branch: 'master', before, after: merge }) },
      secrets: { HEROKU_API_KEY: stage.standIn.apiKey },
      github: { repository: REPO, sha: merge, ref: 'refs/heads/master', apiUrl: team.api.url, token: TOKEN },
      repositoryDir: team.dir,
      repositories: { [`${OWNER}/runbook`]: runbookAtV1().dir },
      hosts: Object.fromEntries(NAMES.map((n) => [n, address])),
      runnerEnv: { NODE_EXTRA_CA_CERTS: ca.certPath },
    });
  const healthOf = async (name: string) =>
    JSON.parse((await httpsGet(address, name, '/health', ca.certPem)).body) as { commit: string };

  let first: { before: string; merge: string };

  test('the merge is built, released on each app after a backup, and each answers with it', async () => {
    first = team.mergeFromStaging('Menu: vegetarian pizzas', addVegetarianFlag);
    const run = await push(first);
    if (run.conclusion !== 'success') throw new Error(explain(run));
    const deploy = run.jobs.find((j) => j.id === 'deploy')!;
    expect(deploy.outputs).toMatchObject({ 'rolled-back': 'false', healthy: 'true' });
    expect(deploy.called![0].environment).toEqual({ name: 'production', url: ex.environmentUrl });
    expect(deploy.outputs['backup-path']).not.toBe('');
    for (const app of APPS) {
      expect(stage.standIn.current(app)?.commit).toBe(first.merge);
      expect((await healthOf(`${app}.herokuapp.com`)).commit).toBe(first.merge);
      // Maintenance on for the release and off after it where the example asks for it; off at the end anyway.
      if (ex.maintenance) expect(stage.standIn.apps.get(app)!.maintenanceHistory).toEqual([true, false]);
      expect(stage.standIn.apps.get(app)!.maintenance).toBe(false);
    }
    for (const domain of Object.keys(ex.domains)) expect((await healthOf(domain)).commit).toBe(first.merge);
    // Every call went to the stand-in through https://api.heroku.com, each matching Heroku's schema.
    expect(stage.standIn.violations).toEqual([]);
    expect(stage.standIn.changes().some((r) => r.method === 'POST' && /\/builds$/.test(r.path))).toBe(true);
  }, 600_000);

  test('a merge whose /health fails is rolled back: every app serves the previous release', async () => {
    const broken = team.mergeFromStaging('Health: read the revision from PROJECT_ROOT', breakTheHealthView);
    const run = await push(broken);
    expect(run.conclusion).toBe('failure');
    const deploy = run.jobs.find((j) => j.id === 'deploy')!;
    expect(deploy.outputs['rolled-back']).toBe('true');
    for (const app of APPS) {
      expect(stage.standIn.current(app)?.commit).toBe(first.merge);
      expect((await healthOf(`${app}.herokuapp.com`)).commit).toBe(first.merge);
      expect(stage.standIn.apps.get(app)!.maintenance).toBe(false);
    }
    expect(stage.standIn.violations).toEqual([]);
  }, 600_000);
});
