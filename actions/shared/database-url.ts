import { ConfigurationError } from './errors.js';
import { excerpt } from './untrusted-text.js';

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
 * What follows the user info: host (a name or address, [IPv6], or empty for a socket), then optional :port, /name and
 * ?query. No raw '@' before the query, which is how the end of the user info is found.
 */
const HOST_AND_AFTER = /^(?:\[[0-9A-Fa-f:.]*(?:%[\w.~-]+)?\]|[A-Za-z0-9._~%-]*)(?::\d*)?(?:\/[^?@]*)?(?:\?[\s\S]*)?$/;

/** A database URL split by hand before any URL parser sees it: user info apart, raw as the user wrote it. */
export interface UrlParts {
  scheme: string;
  /** Raw (still percent-encoded) user and password; undefined when the URL has none. */
  rawUser: string;
  rawPassword?: string;
  /** Host, port, path and query, as written. */
  hostAndAfter: string;
}

/**
 * Splits `scheme://user:password@host…`. The user info ends at the '@' after which the rest reads as a host, port,
 * name and query (the last '@' before the host), so a password keeps raw '@', '/', ':' and '?' (what generated
 * passwords hold); the user ends at the first ':'. An '@' in the query is fine; one before it must be encoded.
 */
export function splitDatabaseUrl(text: string): UrlParts | undefined {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([\s\S]*)$/.exec(text);
  if (!m) return undefined;
  const [, scheme, rest] = m;
  const readings: number[] = [];
  for (let i = rest.indexOf('@'); i !== -1; i = rest.indexOf('@', i + 1))
    if (HOST_AND_AFTER.test(rest.slice(i + 1))) readings.push(i);
  // Two readings differ by an '@' in the first one's query (`?application_name=ci@runner`, or a password with
  // '?' and '@'): the first is right only if its query names options the engine knows.
  const known = OPTIONS[SCHEMES[`${scheme.toLowerCase()}:`]];
  let at =
    readings.find((i) => {
      const query = /\?([^#]*)/.exec(rest.slice(i + 1))?.[1] ?? '';
      return !known || [...new URLSearchParams(query).keys()].every((key) => key in known);
    }) ??
    readings.at(-1) ??
    -1;
  // No reading fits: whatever comes before the last '@' is still treated as (and hidden as) user info.
  if (at === -1) at = rest.lastIndexOf('@');
  if (at === -1) return { scheme, rawUser: '', hostAndAfter: rest };
  const userinfo = rest.slice(0, at);
  const colon = userinfo.indexOf(':');
  return {
    scheme,
    rawUser: colon === -1 ? userinfo : userinfo.slice(0, colon),
    rawPassword: colon === -1 ? undefined : userinfo.slice(colon + 1),
    hostAndAfter: rest.slice(at + 1),
  };
}

/** decodeURIComponent, or the text as it is when it is not valid percent-encoding. */
export function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Every spelling of a password that a log line could carry: as written, decoded, and encoded the ways URL code
 * encodes it (encodeURIComponent, the WHATWG user info set, form encoding).
 */
export function passwordForms(rawPassword: string): string[] {
  const decoded = safeDecode(rawPassword);
  const whatwg = new URL('x://h');
  whatwg.password = decoded;
  const forms = [
    rawPassword,
    decoded,
    encodeURIComponent(decoded),
    whatwg.password,
    new URLSearchParams({ p: decoded }).toString().slice(2),
  ];
  return [...new Set(forms)].filter((f) => f !== '');
}

/** The URL with its password replaced by ***, for error messages, whatever characters the password holds. */
export function redactDatabaseUrl(text: string): string {
  const parts = splitDatabaseUrl(text);
  if (!parts || parts.rawPassword === undefined) return text;
  return `${parts.scheme}://${parts.rawUser}:***@${parts.hostAndAfter}`;
}

/**
 * Parses postgres://, postgresql://, mysql:// and mariadb:// URLs. `setSecret` is called with every form of the
 * password before anything else can print it, including this function's own errors. The user info is split off by
 * splitDatabaseUrl; the rest goes through the WHATWG URL parser without it.
 */
export function parseDatabaseUrl(
  text: string,
  inputName: string,
  setSecret: (secret: string) => void = () => undefined,
): DatabaseTarget {
  const parts = splitDatabaseUrl(text);
  if (parts?.rawPassword) for (const form of passwordForms(parts.rawPassword)) setSecret(form);
  const accepted = 'postgres://, postgresql://, mysql:// or mariadb://';
  let url: URL;
  try {
    if (!parts) throw new TypeError('no scheme');
    url = new URL(`${parts.scheme}://${parts.hostAndAfter}`);
  } catch {
    throw new ConfigurationError(
      `Input '${inputName}' must be a database URL such as postgres://user:password@host:5432/name (${accepted}); got '${excerpt(redactDatabaseUrl(text))}'.`,
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
      `Input '${inputName}' must name the database in its path (…/name); got '${excerpt(redactDatabaseUrl(text))}'.`,
    );
  }
  checkDatabaseName(database, inputName);
  return {
    engine,
    host: host === '' ? 'localhost' : host,
    port,
    user: safeDecode(parts.rawUser),
    password: safeDecode(parts.rawPassword ?? ''),
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
  checkDatabaseName(settings.name, 'db-name');
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

/**
 * A database name is handed to tools as an argument (mysqldump takes it as an operand): one starting with '-' would be
 * read as an option (`--all-databases`), and no real database is named so.
 */
function checkDatabaseName(name: string, inputName: string): void {
  if (name.startsWith('-')) {
    throw new ConfigurationError(
      `Input '${inputName}' names the database '${name}', which starts with '-'; the dump tools would read it as an option. Rename the database or use another.`,
    );
  }
}

/** An SQL identifier for PostgreSQL: in double quotes, a quote inside doubled. */
export function postgresIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** An SQL identifier for MySQL/MariaDB: in backticks, a backtick inside doubled. */
export function mysqlIdentifier(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/**
 * The value of pg_restore/psql --dbname for a database name: libpq reads a value holding '=' (or a URI) as a whole
 * connection string, so such a name goes as `dbname='…'` with the quoting libpq documents.
 */
export function libpqDatabaseArgument(name: string): string {
  if (!name.includes('=') && !/^postgres(ql)?:\/\//.test(name)) return name;
  return `dbname='${name.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
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
 * Hosts that refuse unencrypted connections: Heroku Postgres (its DATABASE_URL names an AWS host, and carries no
 * sslmode) and Amazon RDS with rds.force_ssl. libpq's default, prefer, would work but fall back silently; require
 * says it. An sslmode in the URL always wins.
 */
export function requiresTls(host: string): boolean {
  return /\.amazonaws\.com$/i.test(host) || /(^|\.)heroku(app)?\.com$/i.test(host);
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
  if (!target.options.sslmode && requiresTls(target.host)) env.PGSSLMODE = 'require';
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
