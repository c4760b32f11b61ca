// Local equivalents of the third-party actions and the `services:` our workflows use. Each does on this machine what
// the real one does for a job, and refuses (UnsupportedWorkflowError) any input it does not implement:
// - actions/checkout: a git clone of the repository (a local git directory the run names) at the ref, detached, with
//   `origin` pointing at that directory (so a job can push tags there); fetch-depth 1 by default, 0 for everything.
// - actions/setup-python: a virtualenv of Debian's /usr/bin/python3 (seeing Debian's packages) first on PATH, pip
//   without an index (no network); a different version asked for is said in a notice, not hidden.
// - actions/upload-artifact / download-artifact: a directory store, one folder per artifact name.
// - services: a PostgreSQL or MySQL/MariaDB image maps to a test bed cluster the run gives; the image's variables
//   (user, password, database) are created there, and `job.services.<id>.ports` names the cluster's port.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { filterMatches, UnsupportedWorkflowError, WorkflowError } from './workflow-triggers.js';

type Mapping = Record<string, unknown>;

export interface AdapterResult {
  outputs: Record<string, string>;
  /** Why the step failed, as the real action would say it; undefined when it succeeded. */
  failure?: string;
  /** What the real action would print as a warning or notice (e.g. no files to upload). */
  notice?: string;
}

function refuseUnknown(where: string, action: string, given: Record<string, string>, known: string[]) {
  for (const name of Object.keys(given))
    if (!known.includes(name))
      throw new UnsupportedWorkflowError(`${where}: ${action} input '${name}' is not supported by the local runner`);
}

const git = (args: string[], cwd: string) =>
  execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

export interface CheckoutRequest {
  where: string;
  given: Record<string, string>;
  workspace: string;
  /** The repository and commit of the event (checked out when `repository`/`ref` are not given). */
  repository: string;
  sha: string;
  /** The local git directory of a repository, by owner/name; undefined when the run knows none. */
  gitDir(repository: string): string | undefined;
}

/** actions/checkout: a clone of the repository's local git directory at the ref, in the workspace at `path`. */
export function checkout(request: CheckoutRequest): AdapterResult {
  const { where, given } = request;
  refuseUnknown(where, 'actions/checkout', given, [
    'repository',
    'ref',
    'path',
    'fetch-depth',
    'fetch-tags',
    'persist-credentials',
  ]);
  const repository = given.repository || request.repository;
  const dir = request.gitDir(repository);
  if (dir === undefined)
    throw new UnsupportedWorkflowError(`${where}: no local git repository is known for ${repository}`);
  const ref = given.ref || (repository === request.repository ? request.sha : 'HEAD');
  const depth = given['fetch-depth'] === undefined || given['fetch-depth'] === '' ? 1 : Number(given['fetch-depth']);
  if (!Number.isInteger(depth) || depth < 0)
    throw new WorkflowError(`${where}: fetch-depth is a whole number; got '${given['fetch-depth']}'`);
  let sha: string;
  try {
    sha = git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], dir);
  } catch {
    return { outputs: {}, failure: `A branch, tag or commit '${ref}' does not exist in ${repository}` };
  }
  const target = resolve(request.workspace, given.path ?? '.');
  if (relative(request.workspace, target).startsWith('..'))
    throw new WorkflowError(`${where}: path '${given.path}' is outside the workspace`);
  mkdirSync(target, { recursive: true });
  git(['init', '--quiet'], target);
  git(['remote', 'add', 'origin', dir], target);
  // As actions/checkout: one commit by default; fetch-depth 0 is every branch and tag with their history.
  const refspecs = depth === 0 ? ['+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*', sha] : [sha];
  git(
    [
      '-c',
      'protocol.version=2',
      'fetch',
      '--quiet',
      ...(depth === 0 ? [] : ['--no-tags', `--depth=${depth}`]),
      `file://${dir}`,
      ...refspecs,
    ],
    target,
  );
  git(['checkout', '--quiet', '--detach', sha], target);
  return { outputs: { ref, commit: sha } };
}

const SYSTEM_PYTHON = '/usr/bin/python3';

/**
 * actions/setup-python: a bash script (run as a step, so GITHUB_PATH, GITHUB_ENV and GITHUB_OUTPUT work as for any
 * step) that puts a virtualenv of Debian's python3 first on PATH. It sees Debian's packages (Django, psycopg2,
 * coverage…, with coverage's `coverage` command), so `pip install -r requirements.txt` succeeds when they satisfy it; there is no network, so pip gets no
 * index (PIP_NO_INDEX) and a requirement they do not satisfy fails at once, by name.
 */
export function setupPythonScript(where: string, given: Record<string, string>): string {
  refuseUnknown(where, 'actions/setup-python', given, ['python-version']);
  return [
    'set -euo pipefail',
    'venv="$RUNNER_TEMP/setup-python"',
    `${SYSTEM_PYTHON} -m venv --system-site-packages "$venv"`,
    // Debian names coverage's command python3-coverage; pip, finding the package installed, would not add `coverage`.
    `if "$venv/bin/python" -c 'import coverage' 2>/dev/null; then printf '#!/bin/sh\\nexec "%s" -m coverage "$@"\\n' "$venv/bin/python" >"$venv/bin/coverage"; chmod +x "$venv/bin/coverage"; fi`,
    'echo "$venv/bin" >>"$GITHUB_PATH"',
    'echo "PIP_NO_INDEX=1" >>"$GITHUB_ENV"',
    `version=$(${SYSTEM_PYTHON} -c 'import platform; print(platform.python_version())')`,
    'echo "python-version=$version" >>"$GITHUB_OUTPUT"',
    'echo "python-path=$venv/bin/python" >>"$GITHUB_OUTPUT"',
    'case "$version" in',
    '  "$REQUESTED" | "$REQUESTED".*) ;;',
    '  *) [ -z "$REQUESTED" ] || echo "::notice title=setup-python (local runner)::python-version $REQUESTED was asked; this runner has Debian\'s Python $version" ;;',
    'esac',
  ].join('\n');
}

/** Files under root, relative paths with `/`, in a stable order. */
function walk(root: string): string[] {
  if (!existsSync(root)) return [];
  if (!statSync(root).isDirectory()) return [''];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort();
}

/** The folder a path or glob searches from: the part before its first wildcard segment. */
function searchRoot(pattern: string): string {
  const segments = pattern.split('/');
  const first = segments.findIndex((s) => /[*?[]/.test(s));
  return first < 0 ? pattern : segments.slice(0, first).join('/') || '/';
}

/**
 * actions/upload-artifact: the files the `path` lines name (files, folders or globs, relative to the workspace),
 * kept under the artifact's name relative to the least common ancestor of their search paths, as upload-artifact does.
 */
export function uploadArtifact(
  where: string,
  given: Record<string, string>,
  workspace: string,
  store: string,
): AdapterResult {
  refuseUnknown(where, 'actions/upload-artifact', given, [
    'name',
    'path',
    'if-no-files-found',
    'retention-days',
    'overwrite',
  ]);
  const name = given.name || 'artifact';
  const missing = given['if-no-files-found'] || 'warn';
  if (!['warn', 'error', 'ignore'].includes(missing))
    throw new WorkflowError(`${where}: if-no-files-found is warn, error or ignore; got '${missing}'`);
  const lines = (given.path ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (lines.length === 0) throw new WorkflowError(`${where}: actions/upload-artifact needs a path`);
  if (lines.some((l) => l.startsWith('!')))
    throw new UnsupportedWorkflowError(`${where}: exclusion paths (!…) are not supported by the local runner`);
  const absolute = (p: string) => (isAbsolute(p) ? p : resolve(workspace, p));
  const roots = lines.map((l) => absolute(searchRoot(l)));
  const files = new Set<string>();
  for (const [index, line] of lines.entries()) {
    const root = roots[index];
    const pattern = absolute(line);
    for (const file of walk(root)) {
      const full = file === '' ? root : join(root, file);
      if (pattern === root || filterMatches([pattern], full)) files.add(full);
    }
  }
  if (files.size === 0) {
    const message = `No files were found with the provided path: ${lines.join(', ')}. No artifacts will be uploaded.`;
    return missing === 'error' ? { outputs: {}, failure: message } : { outputs: {}, notice: message };
  }
  // A single file keeps only its name; otherwise paths below the common ancestor of the search roots.
  let ancestor = roots.map((r) => (existsSync(r) && statSync(r).isDirectory() ? r : dirname(r)))[0];
  for (const r of roots.map((r) => (existsSync(r) && statSync(r).isDirectory() ? r : dirname(r))))
    while (ancestor !== '/' && relative(ancestor, r).startsWith('..')) ancestor = dirname(ancestor);
  const target = join(store, name);
  if (existsSync(target) && given.overwrite !== 'true')
    return {
      outputs: {},
      failure: `Failed to CreateArtifact: an artifact with this name already exists on the workflow run: ${name}`,
    };
  rmSync(target, { recursive: true, force: true });
  for (const file of files) cpSync(file, join(target, relative(ancestor, file)));
  const id = String(readdirSync(store).length);
  return { outputs: { 'artifact-id': id, 'artifact-url': `file://${target}` } };
}

/** actions/download-artifact: one artifact into `path` (default the workspace), or every artifact in its own folder. */
export function downloadArtifact(
  where: string,
  given: Record<string, string>,
  workspace: string,
  store: string,
): AdapterResult {
  refuseUnknown(where, 'actions/download-artifact', given, ['name', 'path']);
  const destination = resolve(workspace, given.path || '.');
  const names = given.name ? [given.name] : existsSync(store) ? readdirSync(store).sort() : [];
  for (const name of names) {
    const source = join(store, name);
    if (!existsSync(source)) return { outputs: {}, failure: `Artifact not found for name: ${name}` };
    cpSync(source, given.name ? destination : join(destination, name), { recursive: true });
  }
  return { outputs: { 'download-path': destination } };
}

/** A database cluster of the test bed (startPostgres, startMariaDB) a service maps to. */
export interface DatabaseCluster {
  port: number;
  sql(sql: string, database?: string): Promise<string>;
}

export interface ServiceClusters {
  postgres?: DatabaseCluster;
  mysql?: DatabaseCluster;
}

const SERVICE_KEYS = new Set(['image', 'env', 'ports', 'options', 'credentials']);
const quotePg = (value: string) => `'${value.replace(/'/g, "''")}'`;
const quoteMy = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * The `services:` of a job mapped to the test bed's clusters: a fresh database as the image's variables ask (a
 * service container is new for each job), and the `job.services` context with the cluster's port for the container's.
 * An empty image starts no service, as on GitHub.
 */
export async function startServices(
  where: string,
  services: Mapping,
  evaluate: (value: unknown) => string,
  clusters: ServiceClusters,
): Promise<Record<string, { id: string; network: string; ports: Record<string, string> }>> {
  const context: Record<string, { id: string; network: string; ports: Record<string, string> }> = {};
  for (const [id, value] of Object.entries(services)) {
    const spec = typeof value === 'object' && value !== null ? (value as Mapping) : { image: value };
    const at = `${where}.services.${id}`;
    for (const key of Object.keys(spec))
      if (!SERVICE_KEYS.has(key))
        throw new UnsupportedWorkflowError(`${at}.${key} is not supported by the local runner`);
    const image = evaluate(spec.image);
    if (image === '') continue;
    const kind = /^postgres(:|$)/.test(image) ? 'postgres' : /^(mysql|mariadb)(:|$)/.test(image) ? 'mysql' : undefined;
    if (kind === undefined)
      throw new UnsupportedWorkflowError(`${at}: image '${image}' has no local equivalent (postgres, mysql, mariadb)`);
    const cluster = clusters[kind];
    if (cluster === undefined)
      throw new WorkflowError(`${at}: the run gives no ${kind} cluster for image '${image}' (services.${kind})`);
    const options = evaluate(spec.options);
    // Health checks wait for a container to start; the cluster is already up.
    if (options.split(/\s+/).some((o) => o.startsWith('--') && !o.startsWith('--health-')))
      throw new UnsupportedWorkflowError(
        `${at}.options: only --health-* options have a local meaning; got '${options}'`,
      );
    const env = Object.fromEntries(Object.entries((spec.env as Mapping) ?? {}).map(([k, v]) => [k, evaluate(v)]));
    const containerPort = kind === 'postgres' ? '5432' : '3306';
    const ports: Record<string, string> = {};
    for (const port of Array.isArray(spec.ports) ? spec.ports.map((p) => evaluate(p)) : []) {
      const [host, container] = port.includes(':') ? port.split(':') : [undefined, port];
      if (container.replace(/\/tcp$/, '') !== containerPort)
        throw new UnsupportedWorkflowError(`${at}: port '${port}': the ${kind} service listens on ${containerPort}`);
      if (host !== undefined && host !== String(cluster.port))
        throw new UnsupportedWorkflowError(
          `${at}: port '${port}' fixes the host port, which the local runner cannot give; write '${containerPort}' and read job.services.${id}.ports['${containerPort}']`,
        );
      ports[containerPort] = String(cluster.port);
    }
    if (kind === 'postgres') await provisionPostgres(at, env, cluster);
    else await provisionMysql(at, env, cluster);
    context[id] = { id, network: '', ports };
  }
  return context;
}

async function provisionPostgres(at: string, env: Record<string, string>, cluster: DatabaseCluster) {
  const user = env.POSTGRES_USER || 'postgres';
  const database = env.POSTGRES_DB || user;
  if (!env.POSTGRES_PASSWORD)
    throw new WorkflowError(`${at}: the postgres image does not start without POSTGRES_PASSWORD`);
  const role = `"${user.replace(/"/g, '""')}"`;
  await cluster.sql(
    [
      `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${quotePg(user)}) THEN CREATE ROLE ${role}; END IF; END $$;`,
      `ALTER ROLE ${role} LOGIN SUPERUSER PASSWORD ${quotePg(env.POSTGRES_PASSWORD)};`,
      `DROP DATABASE IF EXISTS "${database.replace(/"/g, '""')}" WITH (FORCE);`,
      `CREATE DATABASE "${database.replace(/"/g, '""')}" OWNER ${role};`,
    ].join('\n'),
    'postgres',
  );
}

async function provisionMysql(at: string, env: Record<string, string>, cluster: DatabaseCluster) {
  if (!env.MYSQL_ROOT_PASSWORD)
    throw new UnsupportedWorkflowError(`${at}: the local MySQL service needs MYSQL_ROOT_PASSWORD`);
  const statements = [
    `CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY ${quoteMy(env.MYSQL_ROOT_PASSWORD)};`,
    `ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY ${quoteMy(env.MYSQL_ROOT_PASSWORD)};`,
    `GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;`,
  ];
  const database = env.MYSQL_DATABASE ? `\`${env.MYSQL_DATABASE.replace(/`/g, '``')}\`` : undefined;
  if (database) statements.push(`DROP DATABASE IF EXISTS ${database};`, `CREATE DATABASE ${database};`);
  if (env.MYSQL_USER && env.MYSQL_PASSWORD) {
    const user = `${quoteMy(env.MYSQL_USER)}@'%'`;
    statements.push(
      `CREATE USER IF NOT EXISTS ${user} IDENTIFIED BY ${quoteMy(env.MYSQL_PASSWORD)};`,
      ...(database ? [`GRANT ALL PRIVILEGES ON ${database}.* TO ${user};`] : []),
    );
  }
  await cluster.sql(statements.join('\n'));
}
