import { jest } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import {
  addMigration,
  copyFixture,
  describeResult,
  djangoManage,
  djangoPython,
  DJANGO_FIXTURE_DIR,
  type DjangoApp,
  gunicornCommand,
  type HealthBody,
  httpGet,
  productionEnv,
  startDjangoApp,
} from '../testbed/django-app.js';
import { startMariaDB, type MariaDBServer } from '../testbed/mariadb.js';
import { freePort } from '../testbed/ports.js';
import { startPostgres, type PostgresServer } from '../testbed/postgres.js';
import { Cleanup, type CommandResult, makeTempDir } from '../testbed/process.js';

jest.setTimeout(120000);

const apps: DjangoApp[] = [];
// Registered with the test bed's reaper, so the copies go even if this file's process dies.
const scratch = new Cleanup('django fixture e2e scratch directories');

function tempDir(kind: string): string {
  const dir = makeTempDir(`django-fixture-${kind}`);
  scratch.removePath(dir);
  return dir;
}

async function serve(options: Parameters<typeof startDjangoApp>[0]): Promise<DjangoApp> {
  const app = await startDjangoApp(options);
  apps.push(app);
  return app;
}

async function health(app: DjangoApp): Promise<{ status: number; body: HealthBody }> {
  const answer = await httpGet(`${app.url}/health`);
  return { status: answer.status, body: JSON.parse(answer.body) as HealthBody };
}

/** Fails with the command's output rather than a bare "expected 0, received 1". */
function succeeded(result: CommandResult): CommandResult {
  if (result.code !== 0) throw new Error(`command failed: ${describeResult(result)}`);
  return result;
}

function sqliteUrl(dir: string): string {
  return `sqlite:///${path.join(dir, 'ocpizza.sqlite3')}`;
}

afterAll(async () => {
  await Promise.all(apps.map((app) => app.stop()));
  scratch.runNow();
});

describe('the fixture on SQLite under gunicorn', () => {
  test('/health reports pending migrations, then applied ones, with the commit and release it was given', async () => {
    const dir = tempDir('sqlite');
    const databaseUrl = sqliteUrl(dir);
    const app = await serve({ databaseUrl, commit: '4e29ec73a49c86ef', release: '20261127T101500Z-4e29ec7' });

    const before = await health(app);
    expect(before.status).toBe(200);
    expect(before.body).toEqual({
      status: 'ok',
      commit: '4e29ec73a49c86ef',
      release: '20261127T101500Z-4e29ec7',
      database: 'ok',
      migrations: 'pending',
    });

    const migrate = succeeded(await djangoManage(['migrate', '--noinput'], { env: productionEnv({ databaseUrl }) }));
    expect(migrate.stdout).toMatch(/Applying pizzas\.0002_seed_menu\.\.\. OK/);

    expect((await health(app)).body.migrations).toBe('applied');
    const menu = await httpGet(`${app.url}/`);
    expect(menu.status).toBe(200);
    expect(menu.body).toContain('Margherita');
    expect(menu.body).toContain('/static/pizzas/menu.css');
    expect((await httpGet(`${app.url}/version`)).body).toBe(
      'commit=4e29ec73a49c86ef\nrelease=20261127T101500Z-4e29ec7\n',
    );
  });

  test('a release directory tells its commit through REVISION, its id through its name, its settings through .env', async () => {
    const root = tempDir('release');
    const release = await copyFixture(path.join(root, 'releases', '20261127T120000Z-9d5d081'));
    fs.writeFileSync(path.join(release, 'REVISION'), '9d5d0811e1b4e8a8\n');
    // As a deploy does it: shared/.env linked into the release; the process environment has no DATABASE_URL.
    fs.mkdirSync(path.join(root, 'shared'));
    const sharedDatabase = path.join(root, 'shared', 'from-env-file.sqlite3');
    fs.writeFileSync(
      path.join(root, 'shared', '.env'),
      `# shared settings\nDATABASE_URL="sqlite:///${sharedDatabase}"\n`,
    );
    fs.symlinkSync(path.join(root, 'shared', '.env'), path.join(release, '.env'));
    const current = path.join(root, 'current');
    fs.symlinkSync(release, current);

    const env = { ...productionEnv({ databaseUrl: 'unused' }), DATABASE_URL: undefined };
    succeeded(await djangoManage(['migrate', '--noinput'], { projectDir: current, env }));
    expect(fs.existsSync(sharedDatabase)).toBe(true);

    const app = await serve({ projectDir: current, databaseUrl: 'unused', env: { DATABASE_URL: undefined } });
    const { body } = await health(app);
    expect(body).toEqual({
      status: 'ok',
      commit: '9d5d0811e1b4e8a8',
      release: '20261127T120000Z-9d5d081',
      database: 'ok',
      migrations: 'applied',
    });
  });

  test('after the current symlink moves, HUP makes gunicorn serve the new release without failing a request', async () => {
    const root = tempDir('hup');
    const releases = ['20261127T120000Z-aaaaaaa', '20261127T121500Z-bbbbbbb'];
    for (const [index, id] of releases.entries()) {
      const release = await copyFixture(path.join(root, 'releases', id));
      fs.writeFileSync(path.join(release, 'REVISION'), `commit=${'ab'[index].repeat(40)}\n`);
    }
    const current = path.join(root, 'current');
    fs.symlinkSync(path.join(root, 'releases', releases[0]), current);
    const databaseUrl = sqliteUrl(root);
    succeeded(
      await djangoManage(['migrate', '--noinput'], { projectDir: current, env: productionEnv({ databaseUrl }) }),
    );
    const app = await serve({ projectDir: current, databaseUrl });
    expect((await health(app)).body.release).toBe(releases[0]);

    // The deploy's switch: a new link renamed over the old one, then HUP to the master.
    fs.symlinkSync(path.join(root, 'releases', releases[1]), `${current}.next`);
    fs.renameSync(`${current}.next`, current);
    app.signal('SIGHUP');

    const answers: number[] = [];
    const seen = new Set<string>();
    // Ready lines ocpizza/wsgi.py logs as each replacement worker finishes booting.
    const readyOnNewRelease = (): number =>
      app.log().match(new RegExp(`worker \\d+ ready: release ${releases[1]}`, 'g'))?.length ?? 0;
    // While the new workers boot, requests wait in the listen backlog: a generous per-request timeout, one deadline.
    const deadline = Date.now() + 45000;
    while ((!seen.has(releases[1]) || readyOnNewRelease() < 2) && Date.now() < deadline) {
      const answer = await httpGet(`${app.url}/health`, 20000).catch(() => undefined);
      answers.push(answer?.status ?? 0);
      if (answer?.status === 200) seen.add((JSON.parse(answer.body) as HealthBody).release);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(seen.has(releases[1])).toBe(true);
    expect(readyOnNewRelease()).toBe(2);
    expect(answers.filter((status) => status !== 200)).toEqual([]);
    // Once both new workers are up, nothing answers for the old release any more.
    for (let i = 0; i < 6; i++) expect((await health(app)).body.commit).toBe('b'.repeat(40));
  });

  test('an unreachable database gives 503 with the reason, and not the password', async () => {
    const closedPort = await freePort();
    const password = 's3cret-Pizza-pw';
    const app = await serve({ databaseUrl: `postgres://ocp:${password}@127.0.0.1:${closedPort}/ocpizza` });

    expect(app.health.status).toBe(503);
    const body = JSON.parse(app.health.body) as HealthBody;
    expect(body.status).toBe('error');
    expect(body.database).toMatch(/^error: .*(refused|could not connect)/i);
    expect(body.migrations).toBe('unknown');
    expect(app.health.body).not.toContain(password);
  });
});

describe('manage.py in a production environment', () => {
  test('check --deploy finds no issue with the production settings, and lists them without HTTPS', async () => {
    const databaseUrl = sqliteUrl(tempDir('check'));
    const secure = await djangoManage(['check', '--deploy', '--fail-level', 'WARNING'], {
      env: productionEnv({ databaseUrl }),
    });
    expect(secure.code).toBe(0);
    expect(secure.stdout).toContain('System check identified no issues');

    const plain = await djangoManage(['check', '--deploy', '--fail-level', 'WARNING'], {
      env: productionEnv({ databaseUrl, secure: false }),
    });
    expect(plain.code).not.toBe(0);
    expect(plain.stderr).toContain('security.W008');
    expect(plain.stderr).toContain('security.W004');
  });

  test('a missing SECRET_KEY is one clear line, not a traceback', async () => {
    const env = { ...productionEnv({ databaseUrl: sqliteUrl(tempDir('nokey')) }), SECRET_KEY: undefined };
    const result = await djangoManage(['check'], { env });
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim()).toBe(
      'ocpizza: configuration error: SECRET_KEY is not set; it is required unless DEBUG=1 (50+ random characters)',
    );
  });

  test('collectstatic writes the stylesheet and the admin files into STATIC_ROOT', async () => {
    const staticRoot = path.join(tempDir('static'), 'static');
    const env = productionEnv({ databaseUrl: sqliteUrl(staticRoot), staticRoot });
    const result = await djangoManage(['collectstatic', '--noinput'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\d+ static files copied/);
    expect(fs.readFileSync(path.join(staticRoot, 'pizzas', 'menu.css'), 'utf8')).toBe(
      fs.readFileSync(path.join(DJANGO_FIXTURE_DIR, 'pizzas', 'static', 'pizzas', 'menu.css'), 'utf8'),
    );
    expect(fs.existsSync(path.join(staticRoot, 'admin', 'css', 'base.css'))).toBe(true);
  });

  test('gunicornCommand is a supervisord command line without --preload, chdir to the current symlink', () => {
    const { argv, command } = gunicornCommand({ projectDir: '/srv/ocpizza/current', bind: '127.0.0.1:8000' });
    expect(argv).not.toContain('--preload');
    expect(argv.slice(0, 3)).toEqual(['/usr/bin/gunicorn', '--chdir', '/srv/ocpizza/current']);
    expect(command).toMatch(/--graceful-timeout \d+ .*ocpizza\.wsgi:application$/);
    const venv = gunicornCommand({
      projectDir: '/srv/my app/current',
      bind: '127.0.0.1:8000',
      python: '/srv/venv/bin/python',
    });
    expect(venv.argv.slice(0, 5)).toEqual(['/srv/venv/bin/python', '-m', 'gunicorn', '--chdir', '/srv/my app/current']);
    expect(venv.command).toContain("--chdir '/srv/my app/current'");
  });
});

describe('new and failing migrations (SQLite)', () => {
  test('migrate --plan lists a new migration, migrate applies it; a failing one fails and stays unapplied', async () => {
    const dir = tempDir('migrations');
    const project = await copyFixture(path.join(dir, 'project'));
    const env = productionEnv({ databaseUrl: sqliteUrl(dir) });
    succeeded(await djangoManage(['migrate', '--noinput'], { projectDir: project, env }));

    const added = addMigration(project, 'add-field');
    expect(added.name).toBe('0002_order_note_0002');
    const plan = await djangoManage(['migrate', '--plan'], { projectDir: project, env });
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('orders.0002_order_note_0002');
    expect(plan.stdout).not.toContain('pizzas.0002_seed_menu');

    succeeded(await djangoManage(['migrate', '--noinput'], { projectDir: project, env }));
    // The model carries the field too, so Django sees nothing left to migrate.
    const check = await djangoManage(['makemigrations', '--check', '--dry-run'], { projectDir: project, env });
    expect(check.code).toBe(0);

    const failing = addMigration(project, 'failing');
    expect(failing.name).toBe('0003_runbook_failing');
    const failed = await djangoManage(['migrate', '--noinput'], { projectDir: project, env });
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain('runbook_table_that_does_not_exist');
    const shown = await djangoManage(['showmigrations', 'orders'], { projectDir: project, env });
    expect(shown.stdout).toContain('[X] 0002_order_note_0002');
    expect(shown.stdout).toContain('[ ] 0003_runbook_failing');
  });
});

describe('the Django test suite under coverage', () => {
  test('passes, and coverage json/xml report branch coverage below 100 % and apart from line coverage', async () => {
    const project = await copyFixture(path.join(tempDir('coverage'), 'project'));
    const run = await djangoPython(['-m', 'coverage', 'run', '--branch', 'manage.py', 'test'], { projectDir: project });
    succeeded(run);
    expect(run.stderr).toMatch(/Ran \d+ tests in [\d.]+s\s+OK/);

    expect((await djangoPython(['-m', 'coverage', 'json', '-o', 'coverage.json'], { projectDir: project })).code).toBe(
      0,
    );
    const report = JSON.parse(fs.readFileSync(path.join(project, 'coverage.json'), 'utf8')) as {
      files: Record<string, unknown>;
      totals: { percent_covered: number; num_statements: number; covered_lines: number; num_branches: number };
    };
    const { totals } = report;
    const lineRate = (100 * totals.covered_lines) / totals.num_statements;
    expect(totals.num_branches).toBeGreaterThan(0);
    expect(totals.percent_covered).toBeGreaterThan(50);
    expect(totals.percent_covered).toBeLessThan(100);
    expect(Math.abs(totals.percent_covered - lineRate)).toBeGreaterThan(0.01);
    // .coveragerc measures the apps, not their tests or migrations.
    expect(Object.keys(report.files)).toContain('orders/models.py');
    expect(Object.keys(report.files).filter((file) => /tests\.py$|migrations\//.test(file))).toEqual([]);

    expect((await djangoPython(['-m', 'coverage', 'xml', '-o', 'coverage.xml'], { projectDir: project })).code).toBe(0);
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(
      fs.readFileSync(path.join(project, 'coverage.xml'), 'utf8'),
    ) as { coverage: Record<string, string> };
    expect(Number(xml.coverage['branch-rate'])).toBeGreaterThan(0);
    expect(Number(xml.coverage['branch-rate'])).toBeLessThan(1);
    expect(Number(xml.coverage['line-rate'])).toBeCloseTo(lineRate / 100, 3);
  });
});

describe('the fixture on PostgreSQL', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgres();
    await server.createDatabase('ocpizza');
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('migrates, serves /health, applies a new migration and rolls a failing one back', async () => {
    const project = await copyFixture(path.join(tempDir('postgres'), 'project'));
    const databaseUrl = server.url('ocpizza');
    const env = productionEnv({ databaseUrl });
    succeeded(await djangoManage(['migrate', '--noinput'], { projectDir: project, env }));
    expect(await server.sql('SELECT count(*) FROM pizzas_pizza', 'ocpizza')).toBe('4');

    const app = await serve({ projectDir: project, databaseUrl, commit: 'a8e451fc', release: 'r-pg' });
    expect(await health(app)).toEqual({
      status: 200,
      body: { status: 'ok', commit: 'a8e451fc', release: 'r-pg', database: 'ok', migrations: 'applied' },
    });

    const added = addMigration(project, 'add-field');
    expect((await health(app)).body.migrations).toBe('applied'); // the running workers still have the old code
    succeeded(await djangoManage(['migrate', '--noinput'], { projectDir: project, env }));
    const column = `SELECT is_nullable FROM information_schema.columns WHERE table_name = 'orders_order' AND column_name = '${added.field}'`;
    expect(await server.sql(column, 'ocpizza')).toBe('YES');

    addMigration(project, 'failing');
    const failed = await djangoManage(['migrate', '--noinput'], { projectDir: project, env });
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain('runbook_table_that_does_not_exist');
    expect(
      await server.sql("SELECT count(*) FROM django_migrations WHERE name = '0003_runbook_failing'", 'ocpizza'),
    ).toBe('0');
  });

  test('a wrong password answers 503 without echoing it', async () => {
    const wrong = 'not-the-Password-42';
    const url = new URL(server.url('ocpizza'));
    url.password = wrong;
    const app = await serve({ databaseUrl: url.toString() });
    expect(app.health.status).toBe(503);
    expect((JSON.parse(app.health.body) as HealthBody).database).toMatch(/^error: .*password authentication failed/);
    expect(app.health.body).not.toContain(wrong);
  });
});

describe('the fixture on MariaDB', () => {
  let server: MariaDBServer;
  beforeAll(async () => {
    server = await startMariaDB();
    await server.createDatabase('ocpizza');
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('migrates, serves /health and the menu, and reports a failing migration', async () => {
    const project = await copyFixture(path.join(tempDir('mariadb'), 'project'));
    const databaseUrl = server.url('ocpizza');
    const env = productionEnv({ databaseUrl });
    succeeded(await djangoManage(['migrate', '--noinput'], { projectDir: project, env }));
    expect(await server.sql("SELECT name FROM pizzas_pizza WHERE name = 'Quatre fromages'", 'ocpizza')).toBe(
      'Quatre fromages',
    );

    const app = await serve({ projectDir: project, databaseUrl, commit: '22ad7031', release: 'r-mariadb' });
    const { status, body } = await health(app);
    expect(status).toBe(200);
    expect(body).toMatchObject({ database: 'ok', migrations: 'applied', commit: '22ad7031', release: 'r-mariadb' });
    expect((await httpGet(`${app.url}/`)).body).toContain('Quatre fromages');

    addMigration(project, 'failing');
    const plan = await djangoManage(['migrate', '--plan'], { projectDir: project, env });
    expect(plan.stdout).toContain('orders.0002_runbook_failing');
    const failed = await djangoManage(['migrate', '--noinput'], { projectDir: project, env });
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toMatch(/1146.*runbook_table_that_does_not_exist/);
    expect((await health(app)).body.migrations).toBe('applied');
  });
});
