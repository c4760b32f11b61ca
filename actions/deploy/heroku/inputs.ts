import { isAbsolute, resolve } from 'node:path';
import { ConfigurationError } from '../../shared/errors.js';
import { InputReader, parseUrl, type InputSource } from '../../shared/inputs.js';
import { readAppDirectory, readHealthGate, type BackupMode, type HealthGate, type MaintenanceMode } from '../inputs.js';

/** Heroku's own rule for app names (definitions.app.definitions.name in the Platform API schema). */
export const APP_NAME = /^[a-z][a-z0-9-]{1,28}[a-z0-9]$/;
const CONFIG_VAR = /^\w+$/;

/** Everything a Heroku deploy was asked, checked before the first API call. */
export interface HerokuInputs {
  /** deploy, or rollback: back to the release before the one serving, on demand. */
  mode: 'deploy' | 'rollback';
  apiKey: string;
  apiUrl: URL;
  /** Deployed in this order; the backup is taken once, from the first app's database. */
  apps: string[];
  /** The app's public URL, `{app}` replaced by each app name; also the `url` output. */
  appUrl?: string;
  /** The health endpoint (`{app}` replaced); when unset, health-path on app-url or on the app's web_url. */
  healthUrl?: string;
  /** `/health` by default; empty with no health-url: no health gate. */
  healthPath: string;
  expectCommit?: string;
  healthTimeoutMs: number;
  /** expected-status and version-from, read as for the server targets. */
  healthGate: HealthGate;
  buildpacks: string[];
  databaseConfigVar: string;
  requiredConfigVars: string[];
  maintenance: MaintenanceMode;
  backup: BackupMode;
  /** Absolute directory on the runner. */
  backupDirectory: string;
  repository: string;
  commit: string;
  appDirectory: string;
}

/** An http(s) URL template where `{app}` (and `{host}`, the SSH target's spelling) stand for the app name. */
export function expandAppUrl(template: string, app: string): string {
  return template.replace(/\{app\}|\{host\}/g, app);
}

/** The URL the health gate asks for one app: health-url, else health-path on app-url or on Heroku's web_url. */
export function healthUrlOf(inputs: HerokuInputs, app: string, webUrl: string | undefined): string | undefined {
  if (inputs.healthUrl) return expandAppUrl(inputs.healthUrl, app);
  const base = inputs.appUrl ? expandAppUrl(inputs.appUrl, app) : webUrl;
  if (!base || !inputs.healthPath) return undefined;
  return `${base.replace(/\/+$/, '')}${inputs.healthPath}`;
}

function urlTemplate(read: InputReader, name: string): string | undefined {
  const value = read.optionalString(name);
  if (value === undefined) return undefined;
  parseUrl(name, expandAppUrl(value, 'app-name'), ['http:', 'https:']);
  return value.replace(/\/+$/, '');
}

/**
 * Reads the inputs of `target: heroku`. The API key is masked first, before any other input can fail; a mistake
 * is one ConfigurationError naming the input and what it accepts, and no request has been sent by then.
 */
export function readHerokuInputs(
  source: InputSource,
  setSecret: (secret: string) => void,
  env: Record<string, string | undefined>,
): HerokuInputs {
  const read = new InputReader(source);
  const apiKey = read.raw('heroku-api-key');
  if (apiKey) setSecret(apiKey);
  if (!apiKey) {
    throw new ConfigurationError(
      `Input 'heroku-api-key' is required with target heroku (a Heroku API key from a secret, e.g. \${{ secrets.HEROKU_API_KEY }}).`,
    );
  }
  if (/\s/.test(apiKey))
    throw new ConfigurationError(`Input 'heroku-api-key' must be one token without spaces or new lines.`);
  const apps = [...new Set([...read.list('app'), ...read.list('apps')])];
  if (apps.length === 0) {
    throw new ConfigurationError(
      `Input 'app' is required with target heroku (the Heroku app name, or several in 'apps').`,
    );
  }
  const bad = apps.find((app) => !APP_NAME.test(app));
  if (bad !== undefined) {
    throw new ConfigurationError(
      `Input 'app' must be Heroku app names (3 to 30 characters: lower-case letters, digits and dashes, starting with a letter); got '${bad}'.`,
    );
  }
  const apiUrl = read.url('heroku-api-url', { required: true }) as URL;
  // The key goes in a bearer header: never in clear text beyond this machine.
  if (apiUrl.protocol !== 'https:' && !isLoopback(apiUrl.hostname)) {
    throw new ConfigurationError(
      `Input 'heroku-api-url' must be an https URL (plain http only to this machine, such as a local stand-in); got '${apiUrl.origin}'.`,
    );
  }
  const appUrl = urlTemplate(read, 'app-url');
  const healthUrl = urlTemplate(read, 'health-url');
  const healthPath = read.raw('health-path').trim();
  if (healthPath && (!healthPath.startsWith('/') || /\s|#/.test(healthPath))) {
    throw new ConfigurationError(
      `Input 'health-path' must be a path starting with / (e.g. /health or /status?full=1), or empty for no health gate; got '${healthPath}'.`,
    );
  }
  const databaseConfigVar = read.string('database-config-var', { required: true });
  if (!CONFIG_VAR.test(databaseConfigVar)) {
    throw new ConfigurationError(
      `Input 'database-config-var' must be a config var name (letters, digits, _); got '${databaseConfigVar}'.`,
    );
  }
  const requiredConfigVars = read.list('required-config-vars');
  const badVar = requiredConfigVars.find((name) => !CONFIG_VAR.test(name));
  if (badVar !== undefined) {
    throw new ConfigurationError(
      `Input 'required-config-vars' must list config var names (letters, digits, _); got '${badVar}'.`,
    );
  }
  const appDirectory = readAppDirectory(read);
  const commit = read.string('commit', { required: true });
  if (!/^[A-Za-z0-9._/-]+$/.test(commit))
    throw new ConfigurationError(`Input 'commit' must be a commit sha or a ref; got '${commit}'.`);
  const workspace = env.GITHUB_WORKSPACE || process.cwd();
  const backupDirectory = read.string('backup-directory', { required: true });
  return {
    mode: read.oneOf('mode', ['deploy', 'rollback'] as const),
    apiKey,
    apiUrl,
    apps,
    appUrl,
    healthUrl,
    healthPath,
    expectCommit: read.optionalString('expect-version'),
    healthTimeoutMs: read.duration('health-timeout'),
    healthGate: readHealthGate(read),
    buildpacks: read.list('buildpacks'),
    databaseConfigVar,
    requiredConfigVars,
    maintenance: read.oneOf('maintenance', ['true', 'false', 'auto'] as const),
    backup: read.oneOf('backup', ['auto', 'always', 'never'] as const),
    backupDirectory: isAbsolute(backupDirectory) ? backupDirectory : resolve(workspace, backupDirectory),
    repository: read.optionalString('repository') ?? workspace,
    commit,
    appDirectory,
  };
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}
