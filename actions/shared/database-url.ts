import { ConfigurationError } from './errors.js';
import { redactUrlText, safeDecode } from './inputs.js';

export type DatabaseEngine = 'postgresql' | 'mysql';

/** Where a database is and how to log in, whichever way the user gave it (a URL or discrete settings). */
export interface DatabaseTarget {
  engine: DatabaseEngine;
  /** A host name, an IP address, or an absolute Unix socket directory/path. */
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** Connection options from the URL query, by their canonical name (sslmode, sslrootcert, connect_timeout…). */
  options: Record<string, string>;
}

const SCHEMES: Record<string, DatabaseEngine> = {
  'postgres:': 'postgresql',
  'postgresql:': 'postgresql',
  'mysql:': 'mysql',
  'mariadb:': 'mysql',
};

const DEFAULT_PORT: Record<DatabaseEngine, number> = { postgresql: 5432, mysql: 3306 };

/** Query options each engine understands; aliases map to one canonical name so callers see one spelling. */
const OPTIONS: Record<DatabaseEngine, Record<string, string>> = {
  postgresql: {
    sslmode: 'sslmode',
    sslrootcert: 'sslrootcert',
    sslcert: 'sslcert',
    sslkey: 'sslkey',
    connect_timeout: 'connect_timeout',
    application_name: 'application_name',
    options: 'options',
    target_session_attrs: 'target_session_attrs',
    host: 'host',
    port: 'port',
  },
  mysql: {
    sslmode: 'sslmode',
    'ssl-mode': 'sslmode',
    ssl_mode: 'sslmode',
    ssl: 'ssl',
    sslrootcert: 'ssl-ca',
    'ssl-ca': 'ssl-ca',
    ssl_ca: 'ssl-ca',
    'ssl-cert': 'ssl-cert',
    ssl_cert: 'ssl-cert',
    'ssl-key': 'ssl-key',
    ssl_key: 'ssl-key',
    connect_timeout: 'connect_timeout',
    'connect-timeout': 'connect_timeout',
    charset: 'charset',
    socket: 'socket',
  },
};

const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

/**
 * Parses postgres://, postgresql://, mysql:// and mariadb:// URLs. `setSecret` is called with the password (raw
 * and percent-decoded) before anything else can print it, including this function's own errors.
 */
export function parseDatabaseUrl(
  text: string,
  inputName: string,
  setSecret: (secret: string) => void = () => undefined,
): DatabaseTarget {
  const rawPassword = /^[a-z]+:\/\/[^/:@\s]*:([^@/\s]*)@/i.exec(text)?.[1];
  if (rawPassword) {
    setSecret(rawPassword);
    if (safeDecode(rawPassword) !== rawPassword) setSecret(safeDecode(rawPassword));
  }
  const accepted = 'postgres://, postgresql://, mysql:// or mariadb://';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigurationError(
      `Input '${inputName}' must be a database URL such as postgres://user:password@host:5432/name (${accepted}); got '${redactUrlText(text)}'.`,
    );
  }
  const engine = SCHEMES[url.protocol];
  if (!engine) {
    throw new ConfigurationError(
      `Input '${inputName}' has an unknown scheme '${url.protocol.replace(/:$/, '')}'; it accepts ${accepted}.`,
    );
  }
  const options: Record<string, string> = {};
  for (const [key, value] of url.searchParams) {
    const canonical = OPTIONS[engine][key];
    if (!canonical) {
      throw new ConfigurationError(
        `Input '${inputName}' has an unknown query option '${key}'; for ${engine} it accepts ${Object.keys(OPTIONS[engine]).join(', ')}.`,
      );
    }
    options[canonical] = value;
  }
  if (options.sslmode !== undefined) {
    options.sslmode = options.sslmode.toLowerCase().replace(/_/g, '-');
    // MySQL spells the modes REQUIRED / VERIFY_IDENTITY; fold them onto libpq's names.
    options.sslmode =
      { required: 'require', preferred: 'prefer', disabled: 'disable', 'verify-identity': 'verify-full' }[
        options.sslmode
      ] ?? options.sslmode;
    if (!SSL_MODES.includes(options.sslmode)) {
      throw new ConfigurationError(
        `Input '${inputName}' has sslmode '${options.sslmode}'; it accepts ${SSL_MODES.join(', ')}.`,
      );
    }
  }
  const socket = options.socket ?? (options.host?.startsWith('/') ? options.host : undefined);
  const host = socket ?? options.host ?? safeDecode(url.hostname.replace(/^\[|\]$/g, ''));
  delete options.host;
  delete options.socket;
  const portText = options.port ?? url.port;
  delete options.port;
  const port = portText === '' ? DEFAULT_PORT[engine] : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigurationError(`Input '${inputName}' has port '${portText}'; it accepts 1 to 65535.`);
  }
  const database = safeDecode(url.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/')) {
    throw new ConfigurationError(
      `Input '${inputName}' must name the database in its path (…/name); got '${redactUrlText(text)}'.`,
    );
  }
  return {
    engine,
    host: host === '' ? 'localhost' : host,
    port,
    user: safeDecode(url.username),
    password: safeDecode(url.password),
    database,
    options,
  };
}

/** The discrete settings the seeds use (DB_NAME, DB_USER, …), checked the same way as a URL. */
export function databaseFromSettings(
  settings: { engine: DatabaseEngine; name: string; user: string; password: string; host: string; port?: number },
  setSecret: (secret: string) => void = () => undefined,
): DatabaseTarget {
  if (settings.password) setSecret(settings.password);
  if (settings.name === '') throw new ConfigurationError(`Input 'db-name' is required when 'database-url' is not set.`);
  return {
    engine: settings.engine,
    host: settings.host || 'localhost',
    port: settings.port ?? DEFAULT_PORT[settings.engine],
    user: settings.user,
    password: settings.password,
    database: settings.name,
    options: {},
  };
}

/** How the target is shown in logs and summaries: never with its password. */
export function describeDatabase(target: DatabaseTarget): string {
  const scheme = target.engine === 'postgresql' ? 'postgresql' : 'mysql';
  const where = target.host.startsWith('/') ? `[socket ${target.host}]` : `${target.host}:${target.port}`;
  const user = target.user ? `${target.user}${target.password ? ':***' : ''}@` : '';
  const query = Object.entries(target.options)
    .filter(([key]) => !/key|password/i.test(key))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  return `${scheme}://${user}${where}/${target.database}${query ? `?${query}` : ''}`;
}

/**
 * libpq environment for the PostgreSQL tools: the password reaches them as PGPASSWORD, never on the command line,
 * and every other setting through the PG* variable libpq documents, so argv carries nothing about the login.
 */
export function postgresEnvironment(target: DatabaseTarget, database = target.database): Record<string, string> {
  const env: Record<string, string> = {
    PGHOST: target.host,
    PGPORT: String(target.port),
    PGDATABASE: database,
  };
  if (target.user) env.PGUSER = target.user;
  if (target.password) env.PGPASSWORD = target.password;
  const names: Record<string, string> = {
    sslmode: 'PGSSLMODE',
    sslrootcert: 'PGSSLROOTCERT',
    sslcert: 'PGSSLCERT',
    sslkey: 'PGSSLKEY',
    connect_timeout: 'PGCONNECT_TIMEOUT',
    application_name: 'PGAPPNAME',
    options: 'PGOPTIONS',
    target_session_attrs: 'PGTARGETSESSIONATTRS',
  };
  for (const [key, value] of Object.entries(target.options)) if (names[key]) env[names[key]] = value;
  env.PGCONNECT_TIMEOUT ??= '15';
  return env;
}

/** MariaDB/MySQL client connection arguments (no secret among them) and the environment carrying the password. */
export function mysqlConnection(
  target: DatabaseTarget,
  tool: 'client' | 'dump' = 'client',
): { args: string[]; env: Record<string, string> } {
  const args = target.host.startsWith('/')
    ? [`--socket=${target.host}`]
    : [`--host=${target.host === 'localhost' ? '127.0.0.1' : target.host}`, `--port=${target.port}`];
  if (target.user) args.push(`--user=${target.user}`);
  const o = target.options;
  if (o.sslmode === 'disable') args.push('--skip-ssl');
  else if (o.sslmode === 'require' || o.ssl === 'true' || o.ssl === '1') args.push('--ssl');
  else if (o.sslmode === 'verify-ca' || o.sslmode === 'verify-full') args.push('--ssl', '--ssl-verify-server-cert');
  if (o['ssl-ca']) args.push(`--ssl-ca=${o['ssl-ca']}`);
  if (o['ssl-cert']) args.push(`--ssl-cert=${o['ssl-cert']}`);
  if (o['ssl-key']) args.push(`--ssl-key=${o['ssl-key']}`);
  // The dump tools have no --connect-timeout (only the interactive client does).
  if (tool === 'client') args.push(`--connect-timeout=${o.connect_timeout ?? '15'}`);
  args.push(`--default-character-set=${o.charset ?? 'utf8mb4'}`);
  // MYSQL_PWD keeps the password out of argv; the clients read it when no --password is given.
  return { args, env: target.password ? { MYSQL_PWD: target.password } : {} };
}
