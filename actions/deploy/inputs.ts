import { posix } from 'node:path';
import { parseDatabaseUrl, type DatabaseTarget } from '../shared/database-url.js';
import { ConfigurationError } from '../shared/errors.js';
import { InputReader, type InputSource } from '../shared/inputs.js';
import type { RenamedInput } from '../shared/renamed-inputs.js';
import { versionSource, type VersionSource } from '../smoke-check/check-spec.js';
import { parseStatusSet, type StatusSet } from '../smoke-check/status-set.js';
import { excerpt } from '../shared/untrusted-text.js';

export const TARGETS = ['ssh', 'local', 'heroku'] as const;
export type TargetName = (typeof TARGETS)[number];
export const RELOADS = ['hup', 'restart', 'command'] as const;
export type ReloadMethod = (typeof RELOADS)[number];
export type MaintenanceMode = 'true' | 'false' | 'auto';
export type Strategy = 'rolling' | 'parallel';
export type DeployMode = 'deploy' | 'rollback';
export type BackupMode = 'auto' | 'always' | 'never';

/** The names deploy shares with db-backup, db-restore and smoke-check; the old ones still work (README "Input names"). */
export const DEPLOY_RENAMED_INPUTS: readonly RenamedInput[] = [
  { name: 'ssh-host', deprecated: 'hosts' },
  { name: 'ssh-port', deprecated: 'port' },
  { name: 'ssh-user', deprecated: 'user' },
  { name: 'ssh-private-key', deprecated: 'private-key' },
  { name: 'ssh-known-hosts', deprecated: 'known-hosts' },
  { name: 'ssh-host-fingerprint', deprecated: 'host-fingerprint' },
  { name: 'ssh-accept-new-host-key', deprecated: 'accept-new-host-key' },
  { name: 'expect-version', deprecated: 'expect-commit' },
];

export interface HostAddress {
  host: string;
  port: number;
}

export interface SshInputs {
  hosts: HostAddress[];
  user: string;
  privateKey: string;
  knownHosts?: string;
  hostFingerprint?: string;
  acceptNewHostKey: boolean;
}

/** Everything the deploy was asked, validated once before any connection is opened. */
export interface DeployInputs {
  target: TargetName;
  mode: DeployMode;
  ssh?: SshInputs;
  deployTo: string;
  keepReleases: number;
  /** Variables that must be set in shared/.env before anything changes. */
  requiredEnv: string[];
  /** The Git checkout the release is archived from, and the commit. */
  repository: string;
  commit: string;
  /** Path of the Django project inside the repository ('' = the root). */
  appDirectory: string;
  venv: boolean;
  python: string;
  venvArgs: string;
  buildCommand?: string;
  requirements?: string;
  pipArgs: string;
  managePy: string;
  djangoSettings?: string;
  collectstatic: boolean;
  checkDeploy: boolean;
  maintenance: MaintenanceMode;
  maintenanceFile: string;
  /** Paths under shared/ linked into each release; a trailing '/' marks a directory created when missing. */
  sharedPaths: string[];
  reload: ReloadMethod;
  reloadCommand?: string;
  supervisorProgram?: string;
  supervisorConfig?: string;
  /** With '{host}' replaced by each host; unset: no health gate. */
  healthUrl?: string;
  expectCommit?: string;
  /** What a healthy answer is: smoke-check's expected-status and version-from ('none': the status only). */
  healthGate: HealthGate;
  healthTimeoutMs: number;
  strategy: Strategy;
  batchSize: number;
  lockTimeoutMs: number;
  rollbackMigrations: string[];
  backup: BackupMode;
  /** From the input; when unset, DATABASE_URL is read from shared/.env on the (first) server. */
  database?: DatabaseTarget;
  backupDirectory: string;
  /** The environment file loaded for every manage.py command; unset: shared/.env when it exists. */
  envFile?: string;
  actor: string;
}

export interface HealthGate {
  expectedStatus: StatusSet;
  versionFrom: VersionSource | 'none';
}

/** `expected-status` and `version-from` with smoke-check's parsers and words, plus `none` (status only). */
export function readHealthGate(read: InputReader): HealthGate {
  const versionFrom = read.raw('version-from');
  return {
    expectedStatus: parseStatusSet('expected-status', read.raw('expected-status')),
    versionFrom: versionFrom === 'none' ? 'none' : versionSource(versionFrom, 'version-from'),
  };
}

const HOST = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[?[0-9A-Fa-f:]+\]?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PROGRAM = /^[A-Za-z0-9_.:-]+$/;
const APP_LABEL = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `app-directory`: where manage.py lives, relative to the repository root ('' for the root itself). */
export function readAppDirectory(read: InputReader): string {
  const appDirectory = read
    .raw('app-directory')
    .replace(/^\.\/?$/, '')
    .replace(/\/+$/, '');
  if (appDirectory.startsWith('/') || appDirectory.split('/').includes('..')) {
    throw new ConfigurationError(`Input 'app-directory' must be a path inside the repository; got '${appDirectory}'.`);
  }
  return appDirectory;
}

/** `host`, `host:port` or `[v6]:port`; the ssh-port input is the default. */
export function parseHost(item: string, defaultPort: number): HostAddress {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(item) ?? /^([^:]+):(\d+)$/.exec(item);
  const host = match ? match[1] : item;
  const port = match ? Number(match[2]) : defaultPort;
  // 253 characters is DNS's limit for a name: a longer one would only fail later, inside ssh.
  if (!HOST.test(host) || host.startsWith('-') || host.length > 253) {
    throw new ConfigurationError(
      `Input 'ssh-host' must list host names or IP addresses (host or host:port); got '${excerpt(item)}'.`,
    );
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigurationError(`Input 'ssh-host': the port of '${item}' must be from 1 to 65535.`);
  }
  return { host, port };
}

/**
 * Reads and checks every input before anything touches a server: a user mistake is one error naming the input,
 * what it got (never a secret) and what it accepts. `setSecret` masks the key and database password at once.
 */
export function readDeployInputs(
  source: InputSource,
  setSecret: (secret: string) => void,
  env: Record<string, string | undefined>,
): DeployInputs {
  const read = new InputReader(source);
  const privateKey = read.raw('ssh-private-key');
  if (privateKey) {
    setSecret(privateKey);
    // A multi-line secret is masked line by line too: a tool may print one line of it.
    for (const line of privateKey.split(/\r?\n/))
      if (line.trim() && !line.includes('PRIVATE KEY')) setSecret(line.trim());
  }
  const databaseUrl = read.raw('database-url');
  const database = databaseUrl ? parseDatabaseUrl(databaseUrl, 'database-url', setSecret) : undefined;

  const target = read.oneOf('target', TARGETS);
  const mode = read.oneOf('mode', ['deploy', 'rollback'] as const);
  const deployTo = read.string('deploy-to', { required: true });
  if (!posix.isAbsolute(deployTo) || deployTo.split('/').includes('..') || /[\n\0]/.test(deployTo)) {
    throw new ConfigurationError(
      `Input 'deploy-to' must be an absolute path on the server (e.g. /srv/app); got '${excerpt(deployTo)}'.`,
    );
  }
  if (posix.normalize(deployTo) === '/')
    throw new ConfigurationError(`Input 'deploy-to' cannot be the root directory '/'.`);

  let ssh: SshInputs | undefined;
  if (target === 'ssh') {
    const port = read.integer('ssh-port', { min: 1, max: 65535 });
    const hosts = read.list('ssh-host').map((item) => parseHost(item, port));
    if (hosts.length === 0)
      throw new ConfigurationError(`Input 'ssh-host' is required with target ssh (one or more host names).`);
    const user = read.string('ssh-user', { required: true });
    if (!/^[A-Za-z0-9._][A-Za-z0-9._-]{0,63}$/.test(user)) {
      throw new ConfigurationError(
        `Input 'ssh-user' must be a user name (up to 64 letters, digits, . _ -); got '${excerpt(user)}'.`,
      );
    }
    if (!privateKey)
      throw new ConfigurationError(
        `Input 'ssh-private-key' is required with target ssh (the text of an OpenSSH private key, from a secret).`,
      );
    if (!privateKey.includes('PRIVATE KEY')) {
      throw new ConfigurationError(
        `Input 'ssh-private-key' must be an OpenSSH or PEM private key (the text of the file, from a secret).`,
      );
    }
    const knownHosts = read.optionalString('ssh-known-hosts');
    const hostFingerprint = read.optionalString('ssh-host-fingerprint');
    const acceptNewHostKey = read.boolean('ssh-accept-new-host-key');
    if (knownHosts && !/^\S+\s+\S+\s+\S+/m.test(knownHosts)) {
      throw new ConfigurationError(
        `Input 'ssh-known-hosts' must be known_hosts lines ('host key-type base64-key'), as ssh-keyscan prints them.`,
      );
    }
    if (hostFingerprint && !/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(hostFingerprint)) {
      throw new ConfigurationError(
        `Input 'ssh-host-fingerprint' must look like SHA256:<43 base64 characters> (as 'ssh-keygen -lf' prints); got '${hostFingerprint}'.`,
      );
    }
    if (!knownHosts && !hostFingerprint && !acceptNewHostKey) {
      throw new ConfigurationError(
        `Host keys are verified: set 'ssh-known-hosts' (known_hosts lines) or 'ssh-host-fingerprint' (SHA256:…), or 'ssh-accept-new-host-key: true' to trust a first-seen key.`,
      );
    }
    ssh = { hosts, user, privateKey, knownHosts, hostFingerprint, acceptNewHostKey };
  }

  const reload = read.oneOf('reload', RELOADS);
  const reloadCommand = read.optionalString('reload-command');
  const supervisorProgram = read.optionalString('supervisor-program');
  if (reload === 'command' && !reloadCommand) {
    throw new ConfigurationError(
      `Input 'reload-command' is required with reload: command (a shell command run on the server).`,
    );
  }
  if (reload !== 'command' && !supervisorProgram) {
    throw new ConfigurationError(
      `Input 'supervisor-program' is required with reload: ${reload} (the supervisord program name).`,
    );
  }
  if (supervisorProgram && !PROGRAM.test(supervisorProgram)) {
    throw new ConfigurationError(
      `Input 'supervisor-program' must be a supervisord program name (letters, digits, _ . : -); got '${supervisorProgram}'.`,
    );
  }

  const requiredEnv = read.list('required-env');
  const badName = requiredEnv.find((name) => !ENV_NAME.test(name));
  if (badName)
    throw new ConfigurationError(
      `Input 'required-env' must list variable names (letters, digits, _); got '${badName}'.`,
    );

  const rollbackMigrations = read.list('rollback-migrations');
  const badApp = rollbackMigrations.find((app) => !APP_LABEL.test(app));
  if (badApp) throw new ConfigurationError(`Input 'rollback-migrations' must list Django app labels; got '${badApp}'.`);

  const healthUrl = read.optionalString('health-url');
  if (healthUrl) {
    try {
      const url = new URL(healthUrl.replace(/\{host\}/g, 'example.invalid'));
      if (!['http:', 'https:'].includes(url.protocol)) throw new Error('scheme');
    } catch {
      throw new ConfigurationError(
        `Input 'health-url' must be an http(s) URL, optionally with {host} (e.g. http://{host}/health); got '${healthUrl}'.`,
      );
    }
  }

  const appDirectory = readAppDirectory(read);
  const maintenanceFile = read.string('maintenance-file', { required: true });
  if (maintenanceFile.startsWith('/') || maintenanceFile.split('/').includes('..')) {
    throw new ConfigurationError(
      `Input 'maintenance-file' must be a path relative to deploy-to; got '${maintenanceFile}'.`,
    );
  }
  const sharedPaths = read.list('shared-paths');
  const badShared = sharedPaths.find(
    (p) => p.startsWith('/') || p.split('/').includes('..') || p.replace(/\/+$/, '') === '',
  );
  if (badShared !== undefined)
    throw new ConfigurationError(`Input 'shared-paths' must list paths relative to shared/; got '${badShared}'.`);
  const backupDirectory = read.string('backup-directory', { required: true });
  const envFile = read.optionalString('env-file');
  if (envFile !== undefined && (envFile.split('/').includes('..') || /[\n\0]/.test(envFile))) {
    throw new ConfigurationError(
      `Input 'env-file' must be a path on the server, absolute or relative to deploy-to (e.g. shared/.env); got '${envFile}'.`,
    );
  }

  return {
    target,
    mode,
    ssh,
    deployTo: posix.normalize(deployTo).replace(/\/$/, ''),
    keepReleases: read.integer('keep-releases', { min: 1, max: 100 }),
    requiredEnv,
    repository: read.optionalString('repository') ?? env.GITHUB_WORKSPACE ?? process.cwd(),
    commit: commitInput(read),
    appDirectory,
    venv: read.boolean('venv'),
    python: read.string('python', { required: true }),
    venvArgs: read.raw('venv-args'),
    buildCommand: read.optionalString('build-command'),
    requirements: read.optionalString('requirements'),
    pipArgs: read.raw('pip-args'),
    managePy: read.string('manage-py', { required: true }),
    djangoSettings: read.optionalString('django-settings'),
    collectstatic: read.boolean('collectstatic'),
    checkDeploy: read.boolean('check-deploy'),
    maintenance: read.oneOf('maintenance', ['true', 'false', 'auto'] as const),
    maintenanceFile,
    sharedPaths,
    reload,
    reloadCommand,
    supervisorProgram,
    supervisorConfig: read.optionalString('supervisor-config'),
    healthUrl,
    expectCommit: read.optionalString('expect-version'),
    healthGate: readHealthGate(read),
    healthTimeoutMs: read.duration('health-timeout'),
    strategy: read.oneOf('strategy', ['rolling', 'parallel'] as const),
    batchSize: read.integer('batch-size', { min: 1 }),
    lockTimeoutMs: read.duration('lock-timeout'),
    rollbackMigrations,
    backup: read.oneOf('backup', ['auto', 'always', 'never'] as const),
    database,
    backupDirectory: posix.isAbsolute(backupDirectory) ? backupDirectory : posix.join(deployTo, backupDirectory),
    envFile: envFile && (posix.isAbsolute(envFile) ? envFile : posix.join(deployTo, envFile)),
    actor: env.GITHUB_ACTOR || 'unknown',
  };
}

function commitInput(read: InputReader): string {
  const commit = read.string('commit', { required: true });
  if (!/^[0-9a-f]{7,40}$/i.test(commit) && !/^[A-Za-z0-9._/-]+$/.test(commit)) {
    throw new ConfigurationError(`Input 'commit' must be a commit sha or a ref; got '${commit}'.`);
  }
  return commit;
}
