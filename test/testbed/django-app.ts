import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';
import {
  AddressInUseError,
  Cleanup,
  type CommandResult,
  type Daemon,
  makeTempDir,
  runCommand,
  shellQuote,
  spawnDaemon,
  tail,
  waitForDaemon,
  withPortRetry,
} from './process.js';

/** The OC Pizza Django project in the repository; tests that change it work on a copyFixture() copy. */
export const DJANGO_FIXTURE_DIR = fileURLToPath(new URL('../fixtures/django', import.meta.url));
/** Debian's interpreter: the first python3 on PATH is another build that cannot see python3-django. */
export const PYTHON = '/usr/bin/python3';
export const GUNICORN = '/usr/bin/gunicorn';
export const WSGI_APP = 'ocpizza.wsgi:application';

/** A SECRET_KEY that passes `check --deploy` (50+ characters, varied, no django-insecure- prefix). */
export function randomSecretKey(): string {
  return randomBytes(48).toString('base64url');
}

/** A minimal environment for the fixture: no variable of the calling test process leaks into Django's settings. */
export function baseEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    LANG: 'C.UTF-8',
    // Keeps the checked-in fixture free of __pycache__ when tests run it in place.
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1',
  };
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export interface ProductionEnvOptions {
  databaseUrl: string;
  secretKey?: string;
  allowedHosts?: string;
  /** RUNBOOK_SECURE=1: HTTPS redirect, secure cookies, HSTS; what `check --deploy` wants behind nginx+TLS. */
  secure?: boolean;
  staticRoot?: string;
}

/** The variables a production deploy of the fixture sets (what shared/.env holds on a server). */
export function productionEnv(options: ProductionEnvOptions): Record<string, string> {
  const env: Record<string, string> = {
    DATABASE_URL: options.databaseUrl,
    SECRET_KEY: options.secretKey ?? randomSecretKey(),
    DEBUG: '0',
    ALLOWED_HOSTS: options.allowedHosts ?? 'ocpizza.example,localhost,127.0.0.1',
  };
  if (options.secure ?? true) env.RUNBOOK_SECURE = '1';
  if (options.staticRoot) env.STATIC_ROOT = options.staticRoot;
  return env;
}

export interface ManageOptions {
  projectDir?: string;
  /** Added to baseEnv(); DATABASE_URL, SECRET_KEY, … */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

/** Runs `/usr/bin/python3 manage.py <args>`; resolves with the exit code and output, never throws on failure. */
export function djangoManage(args: string[], options: ManageOptions = {}): Promise<CommandResult> {
  return djangoPython(['manage.py', ...args], options);
}

/** Runs `/usr/bin/python3 <args>` in the project, e.g. ['-m', 'coverage', 'run', '--branch', 'manage.py', 'test']. */
export function djangoPython(args: string[], options: ManageOptions = {}): Promise<CommandResult> {
  return runCommand(PYTHON, args, {
    cwd: options.projectDir ?? DJANGO_FIXTURE_DIR,
    env: baseEnv(options.env),
    timeoutMs: options.timeoutMs ?? 120000,
  });
}

export interface GunicornCommandOptions {
  /** The directory gunicorn chdirs to and imports from: on a server the `current` symlink, not a release. */
  projectDir: string;
  /** host:port, or unix:/path. */
  bind: string;
  workers?: number;
  /** Seconds an old worker may take to finish its request after HUP or TERM. */
  gracefulTimeout?: number;
  timeout?: number;
  /** Process title suffix (`gunicorn: master [ocpizza]`), handy in ps and supervisorctl. */
  name?: string;
  /** Log each request to stdout (supervisord's stdout_logfile). */
  accessLog?: boolean;
  pidFile?: string;
  /**
   * Run `<python> -m gunicorn` instead of Debian's /usr/bin/gunicorn, e.g. a virtualenv's interpreter. HUP never
   * re-executes the master, so workers keep its interpreter and sys.path: prefer a stable path to one inside a
   * release, or restart when the requirements change.
   */
  python?: string;
  extraArgs?: string[];
}

export interface GunicornCommand {
  argv: string[];
  /** argv joined and shell-quoted: the `command=` line of a supervisord program. */
  command: string;
}

/**
 * The gunicorn command line for a zero-downtime HUP reload after a `current` symlink switch.
 *
 * No --preload: the master never imports the app, so workers spawned on HUP import the new release.
 * --chdir is the symlink path (gunicorn does not resolve it, and re-chdirs on HUP): new workers find the new code.
 * The master keeps the listening socket across HUP, and old workers finish their requests within graceful-timeout.
 */
export function gunicornCommand(options: GunicornCommandOptions): GunicornCommand {
  const argv = [
    ...(options.python ? [options.python, '-m', 'gunicorn'] : [GUNICORN]),
    '--chdir',
    options.projectDir,
    '--bind',
    options.bind,
    '--workers',
    String(options.workers ?? 2),
    '--worker-class',
    'sync',
    '--timeout',
    String(options.timeout ?? 30),
    '--graceful-timeout',
    String(options.gracefulTimeout ?? 20),
    '--name',
    options.name ?? 'ocpizza',
    '--error-logfile',
    '-',
  ];
  if (options.accessLog ?? true) argv.push('--access-logfile', '-');
  if (options.pidFile) argv.push('--pid', options.pidFile);
  argv.push(...(options.extraArgs ?? []), WSGI_APP);
  return { argv, command: argv.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : shellQuote(arg))).join(' ') };
}

export interface HttpAnswer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** One GET with a timeout, on a connection of its own; rejects on connection errors. */
export function httpGet(url: string, timeoutMs = 5000, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    // No keep-alive: Node 24's global agent reuses idle sockets for 5 s, the same as nginx's keepalive_timeout
    // here, so a reused socket could be closed by nginx just as the request goes out ("socket hang up").
    const request = http.get(url, { headers, timeout: timeoutMs, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          headers: response.headers,
        }),
      );
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

export interface HealthBody {
  status: 'ok' | 'error';
  commit: string;
  release: string;
  database: string;
  migrations: 'applied' | 'pending' | 'unknown';
}

export interface DjangoAppOptions {
  projectDir?: string;
  databaseUrl: string;
  /** RUNBOOK_COMMIT / RUNBOOK_RELEASE; leave unset to test the REVISION file. */
  commit?: string;
  release?: string;
  /** Extra variables, on top of productionEnv({ secure: false }). */
  env?: Record<string, string | undefined>;
  /** host:port; default 127.0.0.1 on a free port. */
  bind?: string;
  workers?: number;
  timeoutMs?: number;
}

export interface DjangoApp {
  url: string;
  port: number;
  /** The gunicorn master (leader of its process group). */
  pid: number;
  /** The /health answer that ended the start-up wait (200, or 503 when the database is unreachable). */
  health: HttpAnswer;
  log(): string;
  /** Sends a signal to the master only: HUP reloads the workers, TERM shuts down gracefully. */
  signal(signal: NodeJS.Signals): void;
  stop(): Promise<void>;
}

/** Serves the fixture with Debian's gunicorn until stop(); resolves once /health answers. Does not migrate. */
export async function startDjangoApp(options: DjangoAppOptions): Promise<DjangoApp> {
  const projectDir = options.projectDir ?? DJANGO_FIXTURE_DIR;
  const dir = makeTempDir('django-app');
  const cleanup = new Cleanup(`gunicorn for ${projectDir}`).removePath(dir);
  const env = baseEnv({
    ...productionEnv({ databaseUrl: options.databaseUrl, secure: false }),
    RUNBOOK_COMMIT: options.commit,
    RUNBOOK_RELEASE: options.release,
    ...options.env,
  });
  const workers = options.workers ?? 2;
  let attempt = 0;
  try {
    return await withPortRetry(async () => {
      const [host, port] = options.bind ? splitBind(options.bind) : ['127.0.0.1', await freePort('127.0.0.1')];
      const hostPort = `${host.includes(':') ? `[${host}]` : host}:${port}`;
      const { argv } = gunicornCommand({ projectDir, bind: hostPort, workers });
      // One log per attempt: the "Connection in use" of a lost port race must not fail the next attempt.
      const daemon = spawnDaemon(argv[0], argv.slice(1), {
        cwd: projectDir,
        env,
        logPath: path.join(dir, `gunicorn-${++attempt}.log`),
      });
      cleanup.killProcessGroup(daemon.pid);
      const url = `http://${hostPort}`;
      let health: HttpAnswer | undefined;
      try {
        await waitForDaemon(
          daemon,
          'gunicorn',
          async () => {
            // gunicorn retries a taken port for 5 s before dying; give the port back to withPortRetry at once.
            if (/Connection in use/.test(daemon.log())) throw new AddressInUseError(`gunicorn: ${host}:${port} in use`);
            // Every worker, not just the first: a test that then changes the project must not race a booting one.
            if (readyWorkers(daemon.log()) < workers) return false;
            health = await httpGet(`${url}/health`, 2000).catch(() => undefined);
            return health !== undefined;
          },
          options.timeoutMs ?? 30000,
        );
      } catch (error) {
        await daemon.stop('SIGKILL');
        throw error;
      }
      return appHandle(daemon, url, port, health as HttpAnswer, cleanup);
    });
  } catch (error) {
    cleanup.runNow();
    throw error;
  }
}

/** Workers that finished booting, from the line ocpizza/wsgi.py logs (`worker <pid> ready: release …`). */
export function readyWorkers(log: string): number {
  return log.match(/ ocpizza worker \d+ ready: /g)?.length ?? 0;
}

function appHandle(daemon: Daemon, url: string, port: number, health: HttpAnswer, cleanup: Cleanup): DjangoApp {
  return {
    url,
    port,
    pid: daemon.pid,
    health,
    log: () => daemon.log(),
    signal: (signal) => {
      try {
        process.kill(daemon.pid, signal);
      } catch {
        // Already gone.
      }
    },
    async stop() {
      // TERM is gunicorn's graceful shutdown; the group kill afterwards catches orphaned workers.
      await daemon.stop('SIGTERM', 15000);
      cleanup.runNow();
    },
  };
}

function splitBind(bind: string): [string, number] {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(bind);
  if (!match) throw new Error(`bind must be host:port, got ${bind}`);
  return [match[1], Number(match[2])];
}

const SKIPPED = new Set([
  '__pycache__',
  '.coverage',
  'coverage.xml',
  'coverage.json',
  'htmlcov',
  'staticfiles',
  'db.sqlite3',
]);

/** Copies the fixture (without caches, databases or reports) to toDir, created if needed; returns toDir. */
export async function copyFixture(toDir: string, fromDir = DJANGO_FIXTURE_DIR): Promise<string> {
  await fs.promises.mkdir(toDir, { recursive: true });
  await fs.promises.cp(fromDir, toDir, {
    recursive: true,
    filter: (source) => !SKIPPED.has(path.basename(source)) && !path.basename(source).startsWith('.coverage.'),
  });
  return toDir;
}

export type MigrationKind = 'add-field' | 'failing';

export interface AddedMigration {
  app: string;
  /** e.g. 0002_order_note_0002 */
  name: string;
  path: string;
  /** The column the add-field migration creates (orders_order.<field>). */
  field?: string;
}

/**
 * Writes the next migration of the orders app.
 *
 * 'add-field' adds a nullable text column to Order (in the model too, so Django sees no unmigrated change); being
 * nullable, the release still serving during the deploy keeps inserting orders. 'failing' runs SQL on a table
 * that does not exist, so `migrate` fails on every database while `migrate --plan` still lists it.
 */
export function addMigration(projectDir: string, kind: MigrationKind): AddedMigration {
  const app = 'orders';
  const migrationsDir = path.join(projectDir, app, 'migrations');
  const existing = fs
    .readdirSync(migrationsDir)
    .filter((file) => /^\d{4}_\w+\.py$/.test(file))
    .sort();
  const latest = existing.at(-1);
  if (!latest) throw new Error(`no migrations in ${migrationsDir}`);
  const number = String(Number(latest.slice(0, 4)) + 1).padStart(4, '0');
  const dependency = `('${app}', '${latest.replace(/\.py$/, '')}')`;

  if (kind === 'add-field') {
    const field = `note_${number}`;
    const name = `${number}_order_${field}`;
    const file = path.join(migrationsDir, `${name}.py`);
    fs.writeFileSync(
      file,
      [
        'from django.db import migrations, models',
        '',
        '',
        'class Migration(migrations.Migration):',
        '',
        `    dependencies = [${dependency}]`,
        '',
        '    operations = [',
        `        migrations.AddField(model_name='order', name='${field}', field=models.TextField(blank=True, null=True)),`,
        '    ]',
        '',
      ].join('\n'),
    );
    const modelsFile = path.join(projectDir, app, 'models.py');
    const models = fs.readFileSync(modelsFile, 'utf8');
    const anchor = /^( {4})total = models\.DecimalField\(.*\)\n/m;
    if (!anchor.test(models)) throw new Error(`${modelsFile}: Order.total not found, cannot add ${field}`);
    fs.writeFileSync(
      modelsFile,
      models.replace(
        anchor,
        (line, indent: string) => `${line}${indent}${field} = models.TextField(blank=True, null=True)\n`,
      ),
    );
    return { app, name, path: file, field };
  }

  const name = `${number}_runbook_failing`;
  const file = path.join(migrationsDir, `${name}.py`);
  fs.writeFileSync(
    file,
    [
      'from django.db import migrations',
      '',
      '',
      'class Migration(migrations.Migration):',
      '',
      `    dependencies = [${dependency}]`,
      '',
      '    operations = [',
      "        migrations.RunSQL('SELECT missing_column FROM runbook_table_that_does_not_exist', migrations.RunSQL.noop),",
      '    ]',
      '',
    ].join('\n'),
  );
  return { app, name, path: file };
}

/** Tail of a failed command's output, for assertion messages. */
export function describeResult(result: CommandResult): string {
  return `exit ${result.code}\n--- stdout\n${tail(result.stdout)}\n--- stderr\n${tail(result.stderr)}`;
}
