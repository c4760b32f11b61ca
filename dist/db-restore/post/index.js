import { createRequire as __WEBPACK_EXTERNAL_createRequire } from "module";
/******/ var __webpack_modules__ = ({

/***/ 9223:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {

/* harmony export */ __nccwpck_require__.d(__webpack_exports__, {
/* harmony export */   dR: () => (/* binding */ ActionFailure),
/* harmony export */   gJ: () => (/* binding */ errorMessage),
/* harmony export */   j1: () => (/* binding */ ConfigurationError)
/* harmony export */ });
/**
 * A mistake in what the user gave the action. Its message is shown as is, without a stack trace, and names
 * the input, the value it got (never a secret's) and what the input accepts.
 */
class ConfigurationError extends Error {
    constructor(message) {
        super(message);
        this.name = 'ConfigurationError';
    }
}
/**
 * A failure the action detected and explained itself (a check failed, a dump was truncated). Like a
 * ConfigurationError it is reported as its message alone.
 */
class ActionFailure extends Error {
    constructor(message) {
        super(message);
        this.name = 'ActionFailure';
    }
}
/** A readable message for anything thrown, including values that are not Error objects. */
function errorMessage(error) {
    if (error instanceof Error)
        return error.message || error.name;
    if (typeof error === 'string')
        return error;
    try {
        return JSON.stringify(error) ?? String(error);
    }
    catch {
        return String(error);
    }
}


/***/ }),

/***/ 2040:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {


// EXPORTS
__nccwpck_require__.d(__webpack_exports__, {
  yq: () => (/* binding */ DEFAULT_PART_MB),
  bC: () => (/* binding */ objectUrl),
  $O: () => (/* binding */ openObjectStore)
});

// UNUSED EXPORTS: CHECKSUM_SUFFIX, S3_SCHEME, objectKey, parseS3Location, readBucketSettings

// EXTERNAL MODULE: ./actions/shared/errors.ts
var errors = __nccwpck_require__(9223);
// EXTERNAL MODULE: ./actions/shared/untrusted-text.ts
var untrusted_text = __nccwpck_require__(1450);
;// CONCATENATED MODULE: ./actions/shared/database-url.ts


const SCHEMES = {
    'postgres:': 'postgresql',
    'postgresql:': 'postgresql',
    'mysql:': 'mysql',
    'mariadb:': 'mysql',
};
const DEFAULT_PORT = { postgresql: 5432, mysql: 3306 };
/** Query options each engine understands; aliases map to one canonical name so callers see one spelling. */
const OPTIONS = {
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
const SSL_MODES = (/* unused pure expression or super */ null && (['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']));
/**
 * What follows the user info: host (a name or address, [IPv6], or empty for a socket), then optional :port, /name and
 * ?query. No raw '@' before the query, which is how the end of the user info is found.
 */
const HOST_AND_AFTER = /^(?:\[[0-9A-Fa-f:.]*(?:%[\w.~-]+)?\]|[A-Za-z0-9._~%-]*)(?::\d*)?(?:\/[^?@]*)?(?:\?[\s\S]*)?$/;
/**
 * Splits `scheme://user:password@host…`. The user info ends at the '@' after which the rest reads as a host, port,
 * name and query (the last '@' before the host), so a password keeps raw '@', '/', ':' and '?' (what generated
 * passwords hold); the user ends at the first ':'. An '@' in the query is fine; one before it must be encoded.
 */
function database_url_splitDatabaseUrl(text) {
    const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([\s\S]*)$/.exec(text);
    if (!m)
        return undefined;
    const [, scheme, rest] = m;
    const readings = [];
    for (let i = rest.indexOf('@'); i !== -1; i = rest.indexOf('@', i + 1))
        if (HOST_AND_AFTER.test(rest.slice(i + 1)))
            readings.push(i);
    // Two readings differ by an '@' in the first one's query (`?application_name=ci@runner`, or a password with
    // '?' and '@'): the first is right only if its query names options the engine knows.
    const known = OPTIONS[SCHEMES[`${scheme.toLowerCase()}:`]];
    let at = readings.find((i) => {
        const query = /\?([^#]*)/.exec(rest.slice(i + 1))?.[1] ?? '';
        return !known || [...new URLSearchParams(query).keys()].every((key) => key in known);
    }) ??
        readings.at(-1) ??
        -1;
    // No reading fits: whatever comes before the last '@' is still treated as (and hidden as) user info.
    if (at === -1)
        at = rest.lastIndexOf('@');
    if (at === -1)
        return { scheme, rawUser: '', hostAndAfter: rest };
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
function safeDecode(text) {
    try {
        return decodeURIComponent(text);
    }
    catch {
        return text;
    }
}
/**
 * Every spelling of a password that a log line could carry: as written, decoded, and encoded the ways URL code
 * encodes it (encodeURIComponent, the WHATWG user info set, form encoding).
 */
function database_url_passwordForms(rawPassword) {
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
function database_url_redactDatabaseUrl(text) {
    const parts = database_url_splitDatabaseUrl(text);
    if (!parts || parts.rawPassword === undefined)
        return text;
    return `${parts.scheme}://${parts.rawUser}:***@${parts.hostAndAfter}`;
}
/**
 * Parses postgres://, postgresql://, mysql:// and mariadb:// URLs. `setSecret` is called with every form of the
 * password before anything else can print it, including this function's own errors. The user info is split off by
 * splitDatabaseUrl; the rest goes through the WHATWG URL parser without it.
 */
function parseDatabaseUrl(text, inputName, setSecret = () => undefined) {
    const parts = database_url_splitDatabaseUrl(text);
    if (parts?.rawPassword)
        for (const form of database_url_passwordForms(parts.rawPassword))
            setSecret(form);
    const accepted = 'postgres://, postgresql://, mysql:// or mariadb://';
    let url;
    try {
        if (!parts)
            throw new TypeError('no scheme');
        url = new URL(`${parts.scheme}://${parts.hostAndAfter}`);
    }
    catch {
        throw new ConfigurationError(`Input '${inputName}' must be a database URL such as postgres://user:password@host:5432/name (${accepted}); got '${excerpt(database_url_redactDatabaseUrl(text))}'.`);
    }
    const engine = SCHEMES[url.protocol];
    if (!engine) {
        throw new ConfigurationError(`Input '${inputName}' has an unknown scheme '${url.protocol.replace(/:$/, '')}'; it accepts ${accepted}.`);
    }
    const options = {};
    for (const [key, value] of url.searchParams) {
        const canonical = OPTIONS[engine][key];
        if (!canonical) {
            throw new ConfigurationError(`Input '${inputName}' has an unknown query option '${key}'; for ${engine} it accepts ${Object.keys(OPTIONS[engine]).join(', ')}.`);
        }
        options[canonical] = value;
    }
    if (options.sslmode !== undefined) {
        options.sslmode = options.sslmode.toLowerCase().replace(/_/g, '-');
        // MySQL spells the modes REQUIRED / VERIFY_IDENTITY; fold them onto libpq's names.
        options.sslmode =
            { required: 'require', preferred: 'prefer', disabled: 'disable', 'verify-identity': 'verify-full' }[options.sslmode] ?? options.sslmode;
        if (!SSL_MODES.includes(options.sslmode)) {
            throw new ConfigurationError(`Input '${inputName}' has sslmode '${options.sslmode}'; it accepts ${SSL_MODES.join(', ')}.`);
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
        throw new ConfigurationError(`Input '${inputName}' must name the database in its path (…/name); got '${excerpt(database_url_redactDatabaseUrl(text))}'.`);
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
function databaseFromSettings(settings, setSecret = () => undefined) {
    if (settings.password)
        setSecret(settings.password);
    if (settings.name === '')
        throw new ConfigurationError(`Input 'db-name' is required when 'database-url' is not set.`);
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
function checkDatabaseName(name, inputName) {
    if (name.startsWith('-')) {
        throw new ConfigurationError(`Input '${inputName}' names the database '${name}', which starts with '-'; the dump tools would read it as an option. Rename the database or use another.`);
    }
}
/** An SQL identifier for PostgreSQL: in double quotes, a quote inside doubled. */
function postgresIdentifier(name) {
    return `"${name.replace(/"/g, '""')}"`;
}
/** An SQL identifier for MySQL/MariaDB: in backticks, a backtick inside doubled. */
function mysqlIdentifier(name) {
    return `\`${name.replace(/`/g, '``')}\``;
}
/**
 * The value of pg_restore/psql --dbname for a database name: libpq reads a value holding '=' (or a URI) as a whole
 * connection string, so such a name goes as `dbname='…'` with the quoting libpq documents.
 */
function libpqDatabaseArgument(name) {
    if (!name.includes('=') && !/^postgres(ql)?:\/\//.test(name))
        return name;
    return `dbname='${name.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
/** How the target is shown in logs and summaries: never with its password. */
function describeDatabase(target) {
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
function requiresTls(host) {
    return /\.amazonaws\.com$/i.test(host) || /(^|\.)heroku(app)?\.com$/i.test(host);
}
/**
 * libpq environment for the PostgreSQL tools: the password reaches them as PGPASSWORD, never on the command line,
 * and every other setting through the PG* variable libpq documents, so argv carries nothing about the login.
 */
function postgresEnvironment(target, database = target.database) {
    const env = {
        PGHOST: target.host,
        PGPORT: String(target.port),
        PGDATABASE: database,
    };
    if (target.user)
        env.PGUSER = target.user;
    if (target.password)
        env.PGPASSWORD = target.password;
    const names = {
        sslmode: 'PGSSLMODE',
        sslrootcert: 'PGSSLROOTCERT',
        sslcert: 'PGSSLCERT',
        sslkey: 'PGSSLKEY',
        connect_timeout: 'PGCONNECT_TIMEOUT',
        application_name: 'PGAPPNAME',
        options: 'PGOPTIONS',
        target_session_attrs: 'PGTARGETSESSIONATTRS',
    };
    for (const [key, value] of Object.entries(target.options))
        if (names[key])
            env[names[key]] = value;
    if (!target.options.sslmode && requiresTls(target.host))
        env.PGSSLMODE = 'require';
    env.PGCONNECT_TIMEOUT ??= '15';
    return env;
}
/** MariaDB/MySQL client connection arguments (no secret among them) and the environment carrying the password. */
function mysqlConnection(target, tool = 'client') {
    const args = target.host.startsWith('/')
        ? [`--socket=${target.host}`]
        : [`--host=${target.host === 'localhost' ? '127.0.0.1' : target.host}`, `--port=${target.port}`];
    if (target.user)
        args.push(`--user=${target.user}`);
    const o = target.options;
    if (o.sslmode === 'disable')
        args.push('--skip-ssl');
    else if (o.sslmode === 'require' || o.ssl === 'true' || o.ssl === '1')
        args.push('--ssl');
    else if (o.sslmode === 'verify-ca' || o.sslmode === 'verify-full')
        args.push('--ssl', '--ssl-verify-server-cert');
    if (o['ssl-ca'])
        args.push(`--ssl-ca=${o['ssl-ca']}`);
    if (o['ssl-cert'])
        args.push(`--ssl-cert=${o['ssl-cert']}`);
    if (o['ssl-key'])
        args.push(`--ssl-key=${o['ssl-key']}`);
    // The dump tools have no --connect-timeout (only the interactive client does).
    if (tool === 'client')
        args.push(`--connect-timeout=${o.connect_timeout ?? '15'}`);
    args.push(`--default-character-set=${o.charset ?? 'utf8mb4'}`);
    // MYSQL_PWD keeps the password out of argv; the clients read it when no --password is given.
    return { args, env: target.password ? { MYSQL_PWD: target.password } : {} };
}

;// CONCATENATED MODULE: ./actions/shared/inputs.ts



/** Reads inputs the way @actions/core does (INPUT_<NAME>, spaces to underscores, upper-case, trimmed). */
const environmentInputs = (name) => (process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();
/** One validated read of an action's inputs. Every parse error names the input and what it accepts. */
class InputReader {
    source;
    constructor(source = environmentInputs) {
        this.source = source;
    }
    /** The raw trimmed value, '' when unset. */
    raw(name) {
        return this.source(name).trim();
    }
    string(name, options = {}) {
        const value = this.raw(name);
        if (options.required && value === '')
            throw new ConfigurationError(`Input '${name}' is required.`);
        return value;
    }
    optionalString(name) {
        const value = this.raw(name);
        return value === '' ? undefined : value;
    }
    /** YAML 1.2 core schema booleans, as the runner's getBooleanInput accepts. */
    boolean(name, fallback) {
        const value = this.raw(name);
        if (value === '' && fallback !== undefined)
            return fallback;
        if (['true', 'True', 'TRUE'].includes(value))
            return true;
        if (['false', 'False', 'FALSE'].includes(value))
            return false;
        throw new ConfigurationError(`Input '${name}' must be true or false; got '${excerpt(value)}'.`);
    }
    integer(name, range = {}) {
        const value = this.raw(name);
        if (value === '' && range.fallback !== undefined)
            return range.fallback;
        if (!/^[+-]?\d+$/.test(value))
            throw new ConfigurationError(`Input '${name}' must be a whole number${describeRange(range)}; got '${excerpt(value)}'.`);
        const n = Number(value);
        checkRange(name, n, range);
        return n;
    }
    number(name, range = {}) {
        const value = this.raw(name);
        if (value === '' && range.fallback !== undefined)
            return range.fallback;
        const n = Number(value);
        if (value === '' || !Number.isFinite(n)) {
            throw new ConfigurationError(`Input '${name}' must be a number${describeRange(range)}; got '${excerpt(value)}'.`);
        }
        checkRange(name, n, range);
        return n;
    }
    oneOf(name, allowed, fallback) {
        const value = this.raw(name);
        if (value === '' && fallback !== undefined)
            return fallback;
        if (!allowed.includes(value)) {
            throw new ConfigurationError(`Input '${name}' must be one of ${allowed.join(', ')}; got '${excerpt(value)}'.`);
        }
        return value;
    }
    /** A duration with a unit (ms, s, m, h), or a bare number of seconds; returned in milliseconds, above zero. */
    duration(name, fallback) {
        const value = this.raw(name);
        if (value === '' && fallback !== undefined)
            return fallback;
        const ms = parseDuration(value);
        if (ms === undefined || ms <= 0) {
            throw new ConfigurationError(`Input '${name}' must be a duration above zero such as 500ms, 30s, 5m or 1h (a bare number is seconds); got '${excerpt(value)}'.`);
        }
        return ms;
    }
    /** Items separated by commas or new lines, trimmed, empty ones dropped. */
    list(name) {
        return splitList(this.raw(name));
    }
    /** An absolute http(s) URL. */
    url(name, options = {}) {
        const value = this.raw(name);
        if (value === '') {
            if (options.required)
                throw new ConfigurationError(`Input '${name}' is required.`);
            return undefined;
        }
        return parseUrl(name, value, options.protocols ?? ['http:', 'https:']);
    }
}
function splitList(value) {
    return value
        .split(/[\n,]/)
        .map((item) => item.trim())
        .filter((item) => item !== '');
}
const UNIT_MS = { ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000 };
/** '30s' → 30000; '1m30s' → 90000; '2.5' → 2500 (bare numbers are seconds); undefined when unparsable. */
function parseDuration(value) {
    const text = value.trim();
    if (/^\d+(\.\d+)?$/.test(text))
        return Math.round(Number(text) * 1000);
    const parts = [...text.matchAll(/(\d+(?:\.\d+)?)\s*(ms|sec|min|s|m|h)/g)];
    if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text.replace(/\s+/g, ''))
        return undefined;
    return Math.round(parts.reduce((sum, [, n, unit]) => sum + Number(n) * UNIT_MS[unit], 0));
}
/** Parses a URL for input `name`, naming the input (and never echoing a password) when it does not parse. */
function parseUrl(name, value, protocols) {
    let url;
    try {
        url = new URL(value);
    }
    catch {
        throw new ConfigurationError(`Input '${name}' must be an absolute URL with a scheme (${protocols.map((p) => p.replace(':', '://')).join(' or ')}); got '${excerpt(inputs_redactUrlText(value))}'.`);
    }
    if (!protocols.includes(url.protocol)) {
        throw new ConfigurationError(`Input '${name}' must use ${protocols.map((p) => p.replace(':', '')).join(' or ')}; got '${excerpt(url.protocol.replace(':', ''))}' in '${excerpt(redactUrl(url))}'.`);
    }
    return url;
}
/** The URL as text with its password and secret-looking query values replaced by ***. */
function redactUrl(url) {
    const copy = new URL(url.href);
    for (const key of [...copy.searchParams.keys()]) {
        if (SECRET_QUERY_KEY.test(key))
            copy.searchParams.set(key, '***');
    }
    // The user info is cut where the database URLs' parser cuts it (the last '@' before a host), so a password
    // holding a raw '@' or '/' is hidden whole, not only up to where the WHATWG parser ends it.
    return url.password ? redactDatabaseUrl(copy.href) : copy.href;
}
/** Hides the password of every URL in `text`: a value that does not parse as a URL, or a message quoting one. */
function inputs_redactUrlText(text) {
    // What precedes '//' (a scheme, or a mistyped one such as 'https//') stays as written.
    return text.replace(/(\S*?\/\/)(\S*)/g, (_url, head, rest) => rest.includes('@') ? head + redactDatabaseUrl(`x://${rest}`).slice('x://'.length) : head + rest);
}
/** Query keys whose values are credentials in practice (tokens, signatures, API keys, passwords). */
const SECRET_QUERY_KEY = /token|secret|password|passwd|pwd|key|signature|sig|auth|credential|session/i;
/** The secrets a URL carries: its password in every spelling and its secret-looking query values. */
function secretsInUrl(url) {
    const secrets = [];
    const rawPassword = url.password ? splitDatabaseUrl(url.href)?.rawPassword : undefined;
    if (rawPassword)
        secrets.push(...passwordForms(rawPassword));
    for (const [key, value] of url.searchParams) {
        if (SECRET_QUERY_KEY.test(key) && value !== '') {
            secrets.push(value);
            const encoded = encodeURIComponent(value);
            if (encoded !== value)
                secrets.push(encoded);
        }
    }
    return secrets;
}
function describeRange(range) {
    if (range.min !== undefined && range.max !== undefined)
        return ` from ${range.min} to ${range.max}`;
    if (range.min !== undefined)
        return ` of at least ${range.min}`;
    if (range.max !== undefined)
        return ` of at most ${range.max}`;
    return '';
}
function checkRange(name, n, range) {
    if ((range.min !== undefined && n < range.min) || (range.max !== undefined && n > range.max)) {
        throw new ConfigurationError(`Input '${name}' must be a number${describeRange(range)}; got '${n}'.`);
    }
}

;// CONCATENATED MODULE: ./actions/shared/object-store.ts



const S3_SCHEME = 's3://';
/** The sidecar written beside each verified backup: `sha256sum` format, so `sha256sum -c` checks a download. */
const CHECKSUM_SUFFIX = '.sha256';
const DEFAULT_PART_MB = 16;
/** `s3://bucket/some/prefix/` → bucket and prefix (no trailing slash). Bucket names follow S3's rules. */
function parseS3Location(text, input) {
    if (!text.startsWith(S3_SCHEME)) {
        throw new ConfigurationError(`Input '${input}' must be an s3://bucket/prefix location; got '${excerpt(redactUrlText(text))}'.`);
    }
    const rest = text.slice(S3_SCHEME.length);
    const slash = rest.indexOf('/');
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    const path = (slash === -1 ? '' : rest.slice(slash + 1)).replace(/\/+$/, '');
    // s3://key:secret@bucket would be a secret in the location, which is logged and summarised: never quote it.
    if (bucket.includes('@')) {
        throw new ConfigurationError(`Input '${input}' must not hold credentials (s3://<key>@<bucket>); give them as s3-access-key-id and s3-secret-access-key.`);
    }
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || bucket.includes('..')) {
        throw new ConfigurationError(`Input '${input}': '${excerpt(bucket)}' is not a bucket name (3 to 63 lower-case letters, digits, dots and hyphens).`);
    }
    if (path !== '' && path.split('/').some((part) => part === '' || part === '.' || part === '..')) {
        throw new ConfigurationError(`Input '${input}': the key prefix '${excerpt(path)}' has an empty, '.' or '..' part.`);
    }
    return { bucket, path };
}
/** The bucket inputs shared by db-backup and db-restore (`s3-*`); secrets are masked as soon as they are read. */
function readBucketSettings(read, location, setSecret, env) {
    const accessKeyId = read.optionalString('s3-access-key-id');
    const secretAccessKey = read.optionalString('s3-secret-access-key');
    const sessionToken = read.optionalString('s3-session-token');
    for (const secret of [secretAccessKey, sessionToken])
        if (secret)
            setSecret(secret);
    // Credentials from configure-aws-credentials (OIDC) arrive as variables; mask them in case a tool echoes them.
    for (const name of ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'])
        if (env[name])
            setSecret(env[name]);
    if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) {
        throw new ConfigurationError(`Inputs 's3-access-key-id' and 's3-secret-access-key' go together; set both, or neither to use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the environment.`);
    }
    if (sessionToken && !accessKeyId) {
        throw new ConfigurationError(`Input 's3-session-token' needs 's3-access-key-id' and 's3-secret-access-key'.`);
    }
    const endpoint = read.optionalString('s3-endpoint');
    if (endpoint) {
        let url;
        try {
            url = new URL(endpoint);
        }
        catch {
            url = undefined;
        }
        if (!url || !/^https?:$/.test(url.protocol) || url.username || url.password) {
            throw new ConfigurationError(`Input 's3-endpoint' must be an http(s) URL without credentials, such as https://fra1.digitaloceanspaces.com; got '${endpoint}'.`);
        }
    }
    const region = read.optionalString('s3-region') ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
    if (!/^[a-z0-9-]+$/.test(region)) {
        throw new ConfigurationError(`Input 's3-region' must be a region name such as eu-west-3 or auto; got '${region}'.`);
    }
    const sse = read.optionalString('s3-server-side-encryption');
    if (sse !== undefined && !['AES256', 'aws:kms', 'aws:kms:dsse'].includes(sse)) {
        throw new ConfigurationError(`Input 's3-server-side-encryption' must be one of AES256, aws:kms, aws:kms:dsse; got '${sse}'.`);
    }
    const kmsKeyId = read.optionalString('s3-kms-key-id');
    if (kmsKeyId && !sse?.startsWith('aws:kms')) {
        throw new ConfigurationError(`Input 's3-kms-key-id' needs 's3-server-side-encryption' aws:kms or aws:kms:dsse.`);
    }
    const storageClass = read.optionalString('s3-storage-class');
    if (storageClass !== undefined && !/^[A-Z_]+$/.test(storageClass)) {
        throw new ConfigurationError(`Input 's3-storage-class' must be a storage class such as STANDARD, STANDARD_IA or GLACIER_IR; got '${storageClass}'.`);
    }
    return {
        input: location.input,
        bucket: location.bucket,
        prefix: location.path,
        region,
        endpoint,
        forcePathStyle: read.boolean('s3-force-path-style', false),
        credentials: accessKeyId ? { accessKeyId, secretAccessKey: secretAccessKey, sessionToken } : undefined,
        serverSideEncryption: sse,
        kmsKeyId,
        storageClass,
        // S3 allows 10,000 parts of at least 5 MiB: 16 MiB parts carry a stream of up to about 160 GB.
        partSize: read.integer('s3-part-size-mb', { min: 5, max: 5120, fallback: DEFAULT_PART_MB }) * 1024 * 1024,
    };
}
/** The key of a file under the settings' prefix. */
function objectKey(settings, name) {
    return settings.prefix ? `${settings.prefix}/${name}` : name;
}
function objectUrl(settings, name) {
    const path = name === undefined ? settings.prefix : objectKey(settings, name);
    return `${S3_SCHEME}${settings.bucket}${path ? `/${path}` : ''}`;
}
/** Opens the bucket with the AWS SDK, loaded here on first use (ncc puts it in a chunk of its own). */
async function openObjectStore(settings) {
    const { S3ObjectStore } = await Promise.all(/* import() */[__nccwpck_require__.e(358), __nccwpck_require__.e(372)]).then(__nccwpck_require__.bind(__nccwpck_require__, 6372));
    return new S3ObjectStore(settings);
}


/***/ }),

/***/ 1450:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {

/* harmony export */ __nccwpck_require__.d(__webpack_exports__, {
/* harmony export */   Ui: () => (/* binding */ untrustedText)
/* harmony export */ });
/* unused harmony exports UNTRUSTED_TEXT_LIMIT, EXCERPT_CHARS, excerpt, untrustedLines */
/**
 * Text that came from a server (a body, a header, a JSON value, an API's check name or error message), made safe
 * to print. The runner reads workflow commands from every line a step prints: `::name::` at the start of a line
 * (after spaces) and the legacy `##[name]` anywhere in it, where a line ends at LF, CR or CRLF (actions/runner
 * ActionCommand.TryParseV2 / TryParse, .NET ReadLine). So a server value must never carry a line break, must not
 * start with `::`, and must not contain `##[`; the log viewer and summaries also get no control or bidi
 * characters, and no value is longer than `maxChars` characters.
 */
function untrustedText(value, maxChars = UNTRUSTED_TEXT_LIMIT) {
    const chars = Array.from(value);
    const kept = chars.length > maxChars ? chars.slice(0, maxChars) : chars;
    let text = kept.map(escapeChar).join('');
    // `##[` anywhere, and `::` where it could start a line: one character of each becomes an escape.
    text = text.replace(/##\[/g, '#\\u0023[').replace(/^(\s*):/, '$1\\u003a');
    if (kept.length < chars.length)
        text += `… (${chars.length - kept.length} more characters)`;
    return text;
}
/** The default bound: long enough for a sha, a version string or a URL, short enough for one log line. */
const UNTRUSTED_TEXT_LIMIT = 200;
/** Characters of a user's value (an input, a report's content) an error message quotes: enough to recognise it. */
const EXCERPT_CHARS = 100;
/** `value` as an error message quotes it: one line, at most EXCERPT_CHARS characters, then how many more. */
function excerpt(value) {
    return untrustedText(value, EXCERPT_CHARS);
}
/**
 * Several lines of server text (a body excerpt shown in a `<pre>` block), each line neutralised and bounded on
 * its own; the line breaks between them stay, as plain LF.
 */
function untrustedLines(value, maxChars) {
    const lines = value.split(/\r\n|[\r\n\u0085\u2028\u2029]/);
    const out = [];
    let used = 0;
    for (const line of lines) {
        if (used >= maxChars) {
            out.push(`… (${lines.length - out.length} more lines)`);
            break;
        }
        out.push(untrustedText(line, maxChars - used));
        used += Math.max(line.length, 1);
    }
    return out.join('\n');
}
// C0 and C1 controls, DEL, line and paragraph separators, bidi overrides and isolates, zero-width and BOM.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;
const NAMED = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
function escapeChar(char) {
    if (!UNSAFE.test(char))
        return char;
    return NAMED[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}


/***/ }),

/***/ 181:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("buffer");

/***/ }),

/***/ 4434:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("events");

/***/ }),

/***/ 6698:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:async_hooks");

/***/ }),

/***/ 1421:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:child_process");

/***/ }),

/***/ 7598:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:crypto");

/***/ }),

/***/ 3024:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs");

/***/ }),

/***/ 1455:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs/promises");

/***/ }),

/***/ 7067:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:http");

/***/ }),

/***/ 2467:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:http2");

/***/ }),

/***/ 4708:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:https");

/***/ }),

/***/ 8161:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:os");

/***/ }),

/***/ 6760:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:path");

/***/ }),

/***/ 1708:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:process");

/***/ }),

/***/ 7075:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:stream");

/***/ }),

/***/ 7975:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:util");

/***/ }),

/***/ 8522:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:zlib");

/***/ }),

/***/ 2203:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("stream");

/***/ })

/******/ });
/************************************************************************/
/******/ // The module cache
/******/ var __webpack_module_cache__ = {};
/******/ 
/******/ // The require function
/******/ function __nccwpck_require__(moduleId) {
/******/ 	// Check if module is in cache
/******/ 	var cachedModule = __webpack_module_cache__[moduleId];
/******/ 	if (cachedModule !== undefined) {
/******/ 		return cachedModule.exports;
/******/ 	}
/******/ 	// Create a new module (and put it into the cache)
/******/ 	var module = __webpack_module_cache__[moduleId] = {
/******/ 		// no module.id needed
/******/ 		// no module.loaded needed
/******/ 		exports: {}
/******/ 	};
/******/ 
/******/ 	// Execute the module function
/******/ 	var threw = true;
/******/ 	try {
/******/ 		__webpack_modules__[moduleId].call(module.exports, module, module.exports, __nccwpck_require__);
/******/ 		threw = false;
/******/ 	} finally {
/******/ 		if(threw) delete __webpack_module_cache__[moduleId];
/******/ 	}
/******/ 
/******/ 	// Return the exports of the module
/******/ 	return module.exports;
/******/ }
/******/ 
/******/ // expose the modules object (__webpack_modules__)
/******/ __nccwpck_require__.m = __webpack_modules__;
/******/ 
/************************************************************************/
/******/ /* webpack/runtime/asset-relocator-loader */
/******/ if (typeof __nccwpck_require__ !== 'undefined') __nccwpck_require__.ab = decodeURIComponent(new URL('.', import.meta.url).pathname).slice(import.meta.url.match(/^file:\/\/\/\w:/) ? 1 : 0, -1) + "/";
/******/ 
/******/ /* webpack/runtime/compat get default export */
/******/ (() => {
/******/ 	// getDefaultExport function for compatibility with non-harmony modules
/******/ 	__nccwpck_require__.n = (module) => {
/******/ 		var getter = module && module.__esModule ?
/******/ 			() => (module['default']) :
/******/ 			() => (module);
/******/ 		__nccwpck_require__.d(getter, { a: getter });
/******/ 		return getter;
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/create fake namespace object */
/******/ (() => {
/******/ 	var getProto = Object.getPrototypeOf ? (obj) => (Object.getPrototypeOf(obj)) : (obj) => (obj.__proto__);
/******/ 	var leafPrototypes;
/******/ 	// create a fake namespace object
/******/ 	// mode & 1: value is a module id, require it
/******/ 	// mode & 2: merge all properties of value into the ns
/******/ 	// mode & 4: return value when already ns object
/******/ 	// mode & 16: return value when it's Promise-like
/******/ 	// mode & 8|1: behave like require
/******/ 	__nccwpck_require__.t = function(value, mode) {
/******/ 		if(mode & 1) value = this(value);
/******/ 		if(mode & 8) return value;
/******/ 		if(typeof value === 'object' && value) {
/******/ 			if((mode & 4) && value.__esModule) return value;
/******/ 			if((mode & 16) && typeof value.then === 'function') return value;
/******/ 		}
/******/ 		var ns = Object.create(null);
/******/ 		__nccwpck_require__.r(ns);
/******/ 		var def = {};
/******/ 		leafPrototypes = leafPrototypes || [null, getProto({}), getProto([]), getProto(getProto)];
/******/ 		for(var current = mode & 2 && value; typeof current == 'object' && !~leafPrototypes.indexOf(current); current = getProto(current)) {
/******/ 			Object.getOwnPropertyNames(current).forEach((key) => (def[key] = () => (value[key])));
/******/ 		}
/******/ 		def['default'] = () => (value);
/******/ 		__nccwpck_require__.d(ns, def);
/******/ 		return ns;
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/define property getters */
/******/ (() => {
/******/ 	// define getter functions for harmony exports
/******/ 	__nccwpck_require__.d = (exports, definition) => {
/******/ 		for(var key in definition) {
/******/ 			if(__nccwpck_require__.o(definition, key) && !__nccwpck_require__.o(exports, key)) {
/******/ 				Object.defineProperty(exports, key, { enumerable: true, get: definition[key] });
/******/ 			}
/******/ 		}
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/ensure chunk */
/******/ (() => {
/******/ 	__nccwpck_require__.f = {};
/******/ 	// This file contains only the entry chunk.
/******/ 	// The chunk loading function for additional chunks
/******/ 	__nccwpck_require__.e = (chunkId) => {
/******/ 		return Promise.all(Object.keys(__nccwpck_require__.f).reduce((promises, key) => {
/******/ 			__nccwpck_require__.f[key](chunkId, promises);
/******/ 			return promises;
/******/ 		}, []));
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/get javascript chunk filename */
/******/ (() => {
/******/ 	// This function allow to reference async chunks
/******/ 	__nccwpck_require__.u = (chunkId) => {
/******/ 		// return url for filenames based on template
/******/ 		return "" + chunkId + ".index.js";
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/hasOwnProperty shorthand */
/******/ (() => {
/******/ 	__nccwpck_require__.o = (obj, prop) => (Object.prototype.hasOwnProperty.call(obj, prop))
/******/ })();
/******/ 
/******/ /* webpack/runtime/make namespace object */
/******/ (() => {
/******/ 	// define __esModule on exports
/******/ 	__nccwpck_require__.r = (exports) => {
/******/ 		if(typeof Symbol !== 'undefined' && Symbol.toStringTag) {
/******/ 			Object.defineProperty(exports, Symbol.toStringTag, { value: 'Module' });
/******/ 		}
/******/ 		Object.defineProperty(exports, '__esModule', { value: true });
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/import chunk loading */
/******/ (() => {
/******/ 	// no baseURI
/******/ 	
/******/ 	// object to store loaded and loading chunks
/******/ 	// undefined = chunk not loaded, null = chunk preloaded/prefetched
/******/ 	// [resolve, Promise] = chunk loading, 0 = chunk loaded
/******/ 	var installedChunks = {
/******/ 		792: 0
/******/ 	};
/******/ 	
/******/ 	var installChunk = (data) => {
/******/ 		var {ids, modules, runtime} = data;
/******/ 		// add "modules" to the modules object,
/******/ 		// then flag all "ids" as loaded and fire callback
/******/ 		var moduleId, chunkId, i = 0;
/******/ 		for(moduleId in modules) {
/******/ 			if(__nccwpck_require__.o(modules, moduleId)) {
/******/ 				__nccwpck_require__.m[moduleId] = modules[moduleId];
/******/ 			}
/******/ 		}
/******/ 		if(runtime) runtime(__nccwpck_require__);
/******/ 		for(;i < ids.length; i++) {
/******/ 			chunkId = ids[i];
/******/ 			if(__nccwpck_require__.o(installedChunks, chunkId) && installedChunks[chunkId]) {
/******/ 				installedChunks[chunkId][0]();
/******/ 			}
/******/ 			installedChunks[ids[i]] = 0;
/******/ 		}
/******/ 	
/******/ 	}
/******/ 	
/******/ 	__nccwpck_require__.f.j = (chunkId, promises) => {
/******/ 			// import() chunk loading for javascript
/******/ 			var installedChunkData = __nccwpck_require__.o(installedChunks, chunkId) ? installedChunks[chunkId] : undefined;
/******/ 			if(installedChunkData !== 0) { // 0 means "already installed".
/******/ 	
/******/ 				// a Promise means "currently loading".
/******/ 				if(installedChunkData) {
/******/ 					promises.push(installedChunkData[1]);
/******/ 				} else {
/******/ 					if(true) { // all chunks have JS
/******/ 						// setup Promise in chunk cache
/******/ 						var promise = import("./" + __nccwpck_require__.u(chunkId)).then(installChunk, (e) => {
/******/ 							if(installedChunks[chunkId] !== 0) installedChunks[chunkId] = undefined;
/******/ 							throw e;
/******/ 						});
/******/ 						var promise = Promise.race([promise, new Promise((resolve) => (installedChunkData = installedChunks[chunkId] = [resolve]))])
/******/ 						promises.push(installedChunkData[1] = promise);
/******/ 					}
/******/ 				}
/******/ 			}
/******/ 	};
/******/ 	
/******/ 	// no prefetching
/******/ 	
/******/ 	// no preloaded
/******/ 	
/******/ 	// no external install chunk
/******/ 	
/******/ 	// no on chunks loaded
/******/ })();
/******/ 
/************************************************************************/
var __webpack_exports__ = {};

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __nccwpck_require__(7598);
// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __nccwpck_require__(3024);
// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __nccwpck_require__(1455);
// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __nccwpck_require__(8161);
;// CONCATENATED MODULE: ./actions/shared/runner-commands.ts
// The part of @actions/core the actions use, written the same way (the runner's workflow and file commands).
// @actions/core itself imports its OIDC client statically, and with it @actions/http-client and undici: 0.9 MB
// parsed and +15 MiB on every start, for a token none of these actions asks for. Same names and signatures as
// @actions/core, so an import line is all that changes.
//
// Why a copy and not @actions/core's own command modules: @actions/core 3.0.1 has no side-effect-free entry point.
// Its package.json `exports` holds "." only (lib/core.js, which imports lib/oidc-utils.js and so undici), and no
// "sideEffects": false that would let a bundler drop that import. lib/command.js and lib/file-command.js would do,
// but they are not exported: Node refuses `@actions/core/lib/command.js` (ERR_PACKAGE_PATH_NOT_EXPORTED), and so
// do TypeScript and ncc (TS2307 "Cannot find module"); reaching them by a node_modules file path would tie the
// bundles to files @actions/core marks "for internal use, subject to change". So this copy stays, and
// test/unit/shared/runner-commands.test.ts keeps it byte for byte equal to @actions/core (checked again on each
// @actions/core upgrade, when its `exports` should be looked at again).




function commandValue(input) {
    if (input === null || input === undefined)
        return '';
    return typeof input === 'string' || input instanceof String ? String(input) : JSON.stringify(input);
}
const escapeData = (s) => commandValue(s).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
/** `::name key=value,…::message` on stdout; empty properties are left out as the runner expects. */
function issueCommand(name, properties, message) {
    const props = Object.entries(properties)
        .filter(([, v]) => v)
        .map(([k, v]) => `${k}=${escapeProperty(v)}`)
        .join(',');
    process.stdout.write(`::${name}${props ? ` ${props}` : ''}::${escapeData(message)}${external_node_os_.EOL}`);
}
/** A value in GITHUB_OUTPUT/GITHUB_STATE, fenced by a random delimiter so a multi-line value cannot forge another. */
function issueFileCommand(file, name, value) {
    const path = process.env[`GITHUB_${file}`] ?? '';
    if (!existsSync(path))
        throw new Error(`Missing file at path: ${path}`);
    const delimiter = `ghadelimiter_${randomUUID()}`;
    const text = commandValue(value);
    if (name.includes(delimiter) || text.includes(delimiter)) {
        throw new Error(`Unexpected input: the value contains the delimiter "${delimiter}"`);
    }
    appendFileSync(path, `${name}<<${delimiter}${EOL}${text}${EOL}${delimiter}${EOL}`, { encoding: 'utf8' });
}
function annotation(properties) {
    return {
        title: properties.title,
        file: properties.file,
        line: properties.startLine,
        endLine: properties.endLine,
        col: properties.startColumn,
        endColumn: properties.endColumn,
    };
}
const runner_commands_text = (message) => (message instanceof Error ? message.toString() : message);
function info(message) {
    process.stdout.write(message + external_node_os_.EOL);
}
function debug(message) {
    issueCommand('debug', {}, message);
}
function notice(message, properties = {}) {
    issueCommand('notice', annotation(properties), runner_commands_text(message));
}
function warning(message, properties = {}) {
    issueCommand('warning', annotation(properties), runner_commands_text(message));
}
function error(message, properties = {}) {
    issueCommand('error', annotation(properties), runner_commands_text(message));
}
function setFailed(message) {
    process.exitCode = 1;
    error(message);
}
function setSecret(secret) {
    issueCommand('add-mask', {}, secret);
}
function startGroup(name) {
    issueCommand('group', {}, name);
}
function endGroup() {
    issueCommand('endgroup', {}, '');
}
function setOutput(name, value) {
    if (process.env.GITHUB_OUTPUT)
        return issueFileCommand('OUTPUT', name, value);
    process.stdout.write(EOL);
    issueCommand('set-output', { name }, value);
}
function saveState(name, value) {
    if (process.env.GITHUB_STATE)
        return issueFileCommand('STATE', name, value);
    issueCommand('save-state', { name }, value);
}
function getState(name) {
    return process.env[`STATE_${name}`] || '';
}
function getInput(name, options = {}) {
    const value = process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] || '';
    if (options.required && !value)
        throw new Error(`Input required and not supplied: ${name}`);
    return options.trimWhitespace === false ? value : value.trim();
}
/** The job summary: text gathered by addRaw, appended to GITHUB_STEP_SUMMARY by write. */
class Summary {
    buffer = '';
    addRaw(text, addEOL = false) {
        this.buffer += text + (addEOL ? external_node_os_.EOL : '');
        return this;
    }
    async write() {
        const path = process.env.GITHUB_STEP_SUMMARY;
        if (!path)
            throw new Error('Unable to find environment variable for $GITHUB_STEP_SUMMARY.');
        try {
            await (0,promises_.access)(path, promises_.constants.R_OK | promises_.constants.W_OK);
        }
        catch {
            throw new Error(`Unable to access summary file: '${path}'. Check if the file has correct read/write permissions.`);
        }
        await (0,promises_.appendFile)(path, this.buffer, { encoding: 'utf8' });
        this.buffer = '';
        return this;
    }
}
const summary = new Summary();

// EXTERNAL MODULE: ./actions/shared/object-store.ts + 2 modules
var object_store = __nccwpck_require__(2040);
// EXTERNAL MODULE: ./actions/shared/untrusted-text.ts
var untrusted_text = __nccwpck_require__(1450);
// EXTERNAL MODULE: external "node:child_process"
var external_node_child_process_ = __nccwpck_require__(1421);
// EXTERNAL MODULE: external "node:stream"
var external_node_stream_ = __nccwpck_require__(7075);
;// CONCATENATED MODULE: external "node:stream/promises"
const external_node_stream_promises_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:stream/promises");
// EXTERNAL MODULE: ./actions/shared/errors.ts
var errors = __nccwpck_require__(9223);
;// CONCATENATED MODULE: ./actions/shared/process.ts







const live = new Set();
/** Children still running, so a cancelled job can stop them before it deletes their half-written files. */
function killRunningProcesses(signal = 'SIGTERM') {
    for (const child of live)
        child.kill(signal);
}
const runProcess = (command, args, options = {}) => new Promise((resolve, reject) => {
    const child = (0,external_node_child_process_.spawn)(command, args, {
        cwd: options.cwd,
        env: { ...inheritedEnvironment(), ...options.env },
        stdio: ['pipe', 'pipe', 'pipe'],
        signal: options.signal,
    });
    live.add(child);
    const tailLimit = options.stderrTailBytes ?? 8192;
    let stderrTail = Buffer.alloc(0);
    child.stderr.on('data', (chunk) => {
        options.onStderr?.(chunk);
        stderrTail = Buffer.concat([stderrTail, chunk]);
        if (stderrTail.length > tailLimit)
            stderrTail = stderrTail.subarray(stderrTail.length - tailLimit);
    });
    let spawnError;
    child.on('error', (error) => {
        spawnError = error;
    });
    // A child that exits without reading all its stdin must not crash us with EPIPE.
    child.stdin.on('error', () => undefined);
    if (options.stdin === undefined)
        child.stdin.end();
    else if (typeof options.stdin === 'string' || Buffer.isBuffer(options.stdin))
        child.stdin.end(options.stdin);
    else
        options.stdin.on('error', (e) => child.stdin.destroy(e)).pipe(child.stdin);
    const hash = options.sha256 ? (0,external_node_crypto_.createHash)('sha256') : undefined;
    let bytes = 0;
    let stdout = '';
    let sink;
    const destination = options.stdoutFile
        ? (0,external_node_fs_.createWriteStream)(options.stdoutFile, { mode: 0o600 })
        : options.stdoutStream;
    if (destination) {
        // Handled here, where the pipeline is made: a write error (a full disk) would otherwise reject before the
        // child closes, with nobody listening, and crash the step with a stack trace.
        sink = (0,external_node_stream_promises_namespaceObject.pipeline)(child.stdout, counter(hash, (n) => (bytes += n)), destination).catch((error) => {
            child.kill('SIGTERM');
            throw writeFailure(error, options.stdoutFile);
        });
        sink.catch(() => undefined);
    }
    else {
        const limit = options.stdoutLimitBytes ?? 1 << 20;
        child.stdout.on('data', (chunk) => {
            if (stdout.length < limit)
                stdout += chunk.toString('utf8');
        });
        sink = new Promise((done) => child.stdout.on('end', done));
    }
    child.on('close', (code, signal) => {
        live.delete(child);
        sink.then(() => {
            // A cancellation (AbortError) still resolves: the caller reports the signal the child died of.
            if (spawnError && spawnError.name !== 'AbortError') {
                const errno = spawnError.code;
                return reject(new errors/* ActionFailure */.dR(`Cannot run ${command}: ${errno === 'ENOENT' ? 'not installed or not on PATH' : spawnError.message}`));
            }
            resolve({
                code,
                signal,
                stdout,
                stderrTail: stderrTail.toString('utf8'),
                bytes,
                sha256: hash?.digest('hex'),
            });
        }, (error) => reject(error));
    });
});
/** One line for a failed write of a tool's output: which file, and the system's reason (ENOSPC: the disk is full). */
function writeFailure(error, file) {
    const errno = error.code;
    const what = file ? `Writing ${file} on the runner` : 'Writing the output';
    if (errno === 'ENOSPC')
        return new errors/* ActionFailure */.dR(`${what} failed: no space left on the device (ENOSPC).`);
    if (errno === 'EDQUOT')
        return new errors/* ActionFailure */.dR(`${what} failed: the disk quota is exceeded (EDQUOT).`);
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return new errors/* ActionFailure */.dR(`${what} failed: ${reason}`);
}
/**
 * The parent's environment without the step's INPUT_* variables: they hold the action's raw inputs (a database URL
 * with its password, a private key), which the tools we start have no business seeing.
 */
function inheritedEnvironment() {
    return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('INPUT_')));
}
function counter(hash, count) {
    return new external_node_stream_.Transform({
        transform(chunk, _encoding, callback) {
            hash?.update(chunk);
            count(chunk.length);
            callback(null, chunk);
        },
    });
}
/**
 * sha256 of a file, read in 1 MiB pieces into one reused buffer: a backup never passes through memory whole, and
 * hashing a large one does not leave a trail of chunk buffers for the garbage collector (memory stays flat).
 */
async function sha256File(path) {
    const hash = createHash('sha256');
    const handle = await open(path, 'r');
    try {
        const buffer = Buffer.allocUnsafe(1 << 20);
        for (;;) {
            const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
            if (bytesRead === 0)
                break;
            hash.update(buffer.subarray(0, bytesRead));
        }
    }
    finally {
        await handle.close();
    }
    return hash.digest('hex');
}
/** The last non-empty line of a tool's stderr: usually the one that says what went wrong. */
function lastErrorLine(stderr) {
    const lines = stderr
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l !== '');
    return lines.at(-1) ?? '';
}
/** A one-line failure reason for a finished process: its exit, and the end of what it printed on stderr. */
function describeExit(name, result) {
    const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
    const why = lastErrorLine(result.stderrTail);
    return `${name} ${how}${why ? `: ${why}` : ''}`;
}

;// CONCATENATED MODULE: ./actions/shared/run-action.ts


/**
 * The one place an action's entry talks to the runner about failure: any thrown value becomes a single
 * `::error::` line and a non-zero exit. Known failures show their message only; an unexpected error also
 * shows its stack in the debug log, where it helps a maintainer without scaring a user.
 */
async function runAction(main) {
    try {
        await main();
    }
    catch (error) {
        if (!(error instanceof ConfigurationError || error instanceof ActionFailure) && error instanceof Error) {
            core.debug(error.stack ?? error.message);
        }
        core.setFailed(errorMessage(error));
    }
}
/**
 * Post steps clean up and only warn: a cleanup problem must never turn a green job red.
 */
async function runPost(post, warn = warning) {
    try {
        await post();
    }
    catch (error) {
        warn(`cleanup: ${(0,errors/* errorMessage */.gJ)(error)}`);
    }
}

// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __nccwpck_require__(6760);
;// CONCATENATED MODULE: ./actions/shared/ssh.ts







/**
 * How long the master connection outlives its last command. Bounded, so a step killed before close() does not leave
 * a login open for good on the runner; a later command after an idle spell simply connects again.
 */
const CONTROL_PERSIST_SECONDS = 120;
/**
 * One multiplexed OpenSSH connection (ControlMaster): the handshake is paid once, every command after it reuses
 * the master socket. The key and known_hosts live in a private 0700 directory removed by close().
 */
class SshConnection {
    settings;
    dir;
    run;
    hostKeyPolicy;
    constructor(settings, dir, run, 
    /** How the host key was trusted, for the summary. */
    hostKeyPolicy) {
        this.settings = settings;
        this.dir = dir;
        this.run = run;
        this.hostKeyPolicy = hostKeyPolicy;
    }
    static async open(settings, run = runProcess) {
        validateSettings(settings);
        // A short path: ControlPath must fit in a Unix socket name (about 100 bytes).
        const dir = (0,external_node_fs_.mkdtempSync)((0,external_node_path_.join)((0,external_node_os_.tmpdir)().length < 40 ? (0,external_node_os_.tmpdir)() : '/tmp', 'rb-ssh-'));
        try {
            const key = settings.privateKey.replace(/\r\n/g, '\n').trimEnd() + '\n';
            (0,external_node_fs_.writeFileSync)((0,external_node_path_.join)(dir, 'key'), key, { mode: 0o600 });
            let policy;
            if (settings.knownHosts) {
                (0,external_node_fs_.writeFileSync)((0,external_node_path_.join)(dir, 'known_hosts'), settings.knownHosts.trimEnd() + '\n', { mode: 0o600 });
                policy = 'verified against ssh-known-hosts';
            }
            else if (settings.hostFingerprint) {
                const scan = await run('ssh-keyscan', [
                    '-T',
                    String(settings.connectTimeoutSeconds ?? 15),
                    '-p',
                    String(settings.port),
                    settings.host,
                ]);
                const lines = keysMatchingFingerprint(scan.stdout, settings.hostFingerprint);
                if (lines.length === 0) {
                    throw new errors/* ActionFailure */.dR(`The host key of ${settings.host}:${settings.port} does not match the pinned fingerprint ${settings.hostFingerprint}` +
                        (scan.stdout.trim()
                            ? ` (the server offers ${fingerprintsOf(scan.stdout).join(', ')})`
                            : ' (no host key could be read)') +
                        '; refusing to connect.');
                }
                (0,external_node_fs_.writeFileSync)((0,external_node_path_.join)(dir, 'known_hosts'), lines.join('\n') + '\n', { mode: 0o600 });
                policy = `pinned fingerprint ${settings.hostFingerprint}`;
            }
            else {
                (0,external_node_fs_.writeFileSync)((0,external_node_path_.join)(dir, 'known_hosts'), '', { mode: 0o600 });
                policy = 'accept-new (trusted on first use, as asked)';
            }
            const connection = new SshConnection(settings, dir, run, policy);
            const master = await run('ssh', [
                ...connection.baseArgs(),
                '-o',
                'ControlMaster=yes',
                '-o',
                `ControlPersist=${CONTROL_PERSIST_SECONDS}`,
                '-f',
                '-N',
                connection.destination(),
            ]);
            if (master.code !== 0)
                throw new errors/* ActionFailure */.dR(connectionError(settings, master));
            return connection;
        }
        catch (error) {
            (0,external_node_fs_.rmSync)(dir, { recursive: true, force: true });
            throw error;
        }
    }
    /** The private directory (key, known_hosts, ControlPath socket ctl), for a post step that cleans up. */
    get directory() {
        return this.dir;
    }
    /** Saved by a main step (core.saveState) for its post step. */
    leftover() {
        const { host, port, user } = this.settings;
        return { directory: this.dir, host, port, user };
    }
    /**
     * In a post step: the connection a killed main step left, to run a last command through its master (or a new
     * login with the same key) and close. undefined when there is nothing left (the main step closed it itself).
     */
    static fromLeftover(leftover, run = runProcess) {
        if (!(0,external_node_fs_.existsSync)(leftover.directory))
            return undefined;
        const { directory, ...where } = leftover;
        return new SshConnection({ ...where, privateKey: '' }, directory, run, '');
    }
    /** In a post step: closes the master a killed main step left and removes its key directory; false if none. */
    static async closeLeftover(leftover, run = runProcess) {
        const connection = SshConnection.fromLeftover(leftover, run);
        await connection?.close();
        return connection !== undefined;
    }
    /** Common options: the key, known_hosts, no prompts, and the multiplexing socket. */
    baseArgs() {
        const s = this.settings;
        return [
            '-F',
            '/dev/null',
            '-p',
            String(s.port),
            '-i',
            (0,external_node_path_.join)(this.dir, 'key'),
            '-o',
            'IdentitiesOnly=yes',
            '-o',
            'BatchMode=yes',
            '-o',
            `UserKnownHostsFile=${(0,external_node_path_.join)(this.dir, 'known_hosts')}`,
            '-o',
            'GlobalKnownHostsFile=/dev/null',
            '-o',
            `StrictHostKeyChecking=${s.acceptNew ? 'accept-new' : 'yes'}`,
            '-o',
            `ConnectTimeout=${s.connectTimeoutSeconds ?? 15}`,
            '-o',
            'ServerAliveInterval=15',
            '-o',
            'ServerAliveCountMax=4',
            '-o',
            'LogLevel=ERROR',
            '-o',
            `ControlPath=${(0,external_node_path_.join)(this.dir, 'ctl')}`,
        ];
    }
    destination() {
        return `${this.settings.user}@${this.settings.host}`;
    }
    /** Runs a POSIX sh script on the server with `set -eu`: any failing command fails the whole script. */
    async exec(command) {
        const names = Object.keys(command.secrets ?? {});
        for (const [name, value] of Object.entries(command.secrets ?? {})) {
            // Any name a POSIX shell can `read` and `export`, lower-case included (an app's .env may use them).
            if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
                throw new Error(`invalid secret variable name ${name}`);
            if (value.includes('\n'))
                throw new errors/* ConfigurationError */.j1(`A secret sent over SSH (${name}) cannot contain a new line.`);
        }
        // Each secret is one stdin line read by the remote shell before the script runs; the rest of stdin follows.
        const prologue = names.map((n) => `IFS= read -r ${n}; export ${n}`).join('\n');
        const remote = `exec sh -c ${shellQuote(`set -eu\n${prologue}\n${command.script}`)}`;
        const head = names.map((n) => `${command.secrets[n]}\n`).join('');
        const options = {
            signal: command.signal,
            stdoutFile: command.stdoutFile,
            stdoutStream: command.stdoutStream,
            sha256: command.sha256,
        };
        options.stdin = joinStdin(head, command.stdin);
        return this.run('ssh', [...this.baseArgs(), '-o', 'ControlMaster=no', this.destination(), remote], options);
    }
    /** Like exec, but a non-zero exit throws with the script's stderr tail. Returns stdout. */
    async check(script, what, secrets) {
        const result = await this.exec({ script, secrets });
        if (result.code !== 0)
            throw new errors/* ActionFailure */.dR(`${what} on ${this.settings.host} failed: ${describeExit('the remote command', result)}`);
        return result.stdout;
    }
    /** Closes the master connection and removes the key. Safe to call twice. */
    async close() {
        try {
            await this.run('ssh', [...this.baseArgs(), '-O', 'exit', this.destination()]);
        }
        finally {
            (0,external_node_fs_.rmSync)(this.dir, { recursive: true, force: true });
        }
    }
}
function joinStdin(head, rest) {
    if (rest === undefined)
        return head === '' ? undefined : head;
    if (head === '')
        return rest;
    if (typeof rest === 'string' || Buffer.isBuffer(rest))
        return Buffer.concat([Buffer.from(head), Buffer.from(rest)]);
    return external_node_stream_.Readable.from((async function* () {
        yield Buffer.from(head);
        for await (const chunk of rest)
            yield chunk;
    })());
}
function validateSettings(s) {
    if (!s.host)
        throw new errors/* ConfigurationError */.j1(`Input 'ssh-host' is required for an SSH connection.`);
    if (!/^[A-Za-z0-9._:-]+$/.test(s.host) || s.host.startsWith('-')) {
        throw new errors/* ConfigurationError */.j1(`Input 'ssh-host' must be a host name or IP address; got '${s.host}'.`);
    }
    if (!s.user || !/^[A-Za-z0-9._][A-Za-z0-9._-]*$/.test(s.user)) {
        throw new errors/* ConfigurationError */.j1(`Input 'ssh-user' must be a user name (letters, digits, . _ -); got '${s.user}'.`);
    }
    if (!s.privateKey.includes('PRIVATE KEY')) {
        throw new errors/* ConfigurationError */.j1(`Input 'ssh-private-key' must be an OpenSSH or PEM private key (the text of the file).`);
    }
    if (!s.knownHosts && !s.hostFingerprint && !s.acceptNew) {
        throw new errors/* ConfigurationError */.j1(`SSH host keys are verified: set 'ssh-known-hosts' (known_hosts lines) or 'ssh-host-fingerprint' (SHA256:…), or 'ssh-accept-new-host-key: true' to trust a first-seen key.`);
    }
    if (s.hostFingerprint && !/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(s.hostFingerprint)) {
        throw new errors/* ConfigurationError */.j1(`Input 'ssh-host-fingerprint' must look like SHA256:<43 base64 characters> (as 'ssh-keygen -lf' prints); got '${s.hostFingerprint}'.`);
    }
}
/** 'SHA256:…' of a key blob, as OpenSSH prints it (unpadded base64 of the SHA-256 of the decoded key). */
function fingerprintOf(base64Key) {
    return 'SHA256:' + (0,external_node_crypto_.createHash)('sha256').update(Buffer.from(base64Key, 'base64')).digest('base64').replace(/=+$/, '');
}
function fingerprintsOf(scan) {
    return knownHostsEntries(scan).map((e) => fingerprintOf(e.key));
}
function knownHostsEntries(text) {
    return text
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '' && !line.startsWith('#'))
        .map((line) => ({ line, key: line.split(/\s+/)[2] ?? '' }))
        .filter((e) => e.key !== '');
}
/** The ssh-keyscan lines whose key has the pinned fingerprint: only those become known_hosts. */
function keysMatchingFingerprint(scan, fingerprint) {
    const wanted = fingerprint.replace(/=+$/, '');
    return knownHostsEntries(scan)
        .filter((e) => fingerprintOf(e.key) === wanted)
        .map((e) => e.line);
}
/** A word the POSIX shell reads back exactly. */
function shellQuote(word) {
    return `'${word.replace(/'/g, `'\\''`)}'`;
}
function connectionError(s, result) {
    const tail = result.stderrTail;
    const where = `${s.user}@${s.host}:${s.port}`;
    if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No .* host key is known/i.test(tail)) {
        return `SSH to ${where} refused: the server's host key is not the one in ssh-known-hosts (host key verification failed).`;
    }
    if (/Permission denied/i.test(tail))
        return `SSH to ${where} refused the key from 'ssh-private-key' (permission denied).`;
    if (/timed out|Connection refused|No route|Could not resolve|Name or service not known/i.test(tail)) {
        return `Cannot reach ${where} over SSH: ${tail.trim().split('\n').at(-1)}`;
    }
    return `SSH to ${where} failed: ${describeExit('ssh', result)}`;
}

;// CONCATENATED MODULE: ./actions/db-backup/post-step.ts
// The post step of db-backup and db-restore (post-if: always()): what a killed main step could not clean up itself.







const POST_STATE_KEY = 'db-cleanup';
/** The post step's record of a multipart upload into the bucket of `settings` (what it needs to abort it). */
function uploadLeftover(settings, upload) {
    const { bucket, region, endpoint, forcePathStyle } = settings;
    return { ...upload, bucket, region, endpoint, forcePathStyle };
}
/** Kept up to date by the main step as the connection opens and partial files come and go. */
class PostCleanup {
    save;
    ssh;
    upload;
    partials = new Set();
    folders = new Set();
    serverPartials = new Set();
    constructor(save) {
        this.save = save;
    }
    sshOpened(leftover) {
        this.ssh = leftover;
        this.write();
    }
    /** A partial file or folder on the runner exists (path), or none is left (undefined). */
    partial(path) {
        if (path === undefined)
            this.partials.clear();
        else
            this.partials.add(path);
        this.write();
    }
    /**
     * A folder on the runner that lives for the whole step (db-restore's download), removed by the post step if the
     * step is killed; `partial(undefined)`, said when a dump's partial file is done, leaves it in place.
     */
    folder(path) {
        this.folders.add(path);
        this.write();
    }
    /** A partial file on the SSH server exists (path), or none is left there (undefined). */
    serverPartial(path) {
        if (path === undefined)
            this.serverPartials.clear();
        else
            this.serverPartials.add(path);
        this.write();
    }
    /** A multipart upload was created (until it is completed or aborted), or none is in progress (undefined). */
    uploading(upload) {
        this.upload = upload;
        this.write();
    }
    write() {
        const state = { ssh: this.ssh, partials: [...this.folders, ...this.partials], upload: this.upload };
        if (this.serverPartials.size > 0)
            state.serverPartials = [...this.serverPartials];
        this.save?.(POST_STATE_KEY, JSON.stringify(state));
    }
}
async function cleanupPost(io) {
    const raw = io.getState(POST_STATE_KEY);
    if (!raw)
        return;
    const state = JSON.parse(raw);
    for (const path of state.partials) {
        if (!(0,external_node_fs_.existsSync)(path))
            continue;
        const kind = (0,external_node_fs_.statSync)(path).isDirectory() ? 'folder' : 'file';
        (0,external_node_fs_.rmSync)(path, { recursive: true, force: true });
        io.info(`Removed ${path}, a partial ${kind} the main step left.`);
    }
    if (state.upload)
        await abortLeftoverUpload(state.upload, io);
    if (state.ssh && state.serverPartials?.length)
        await removeServerPartials(state.ssh, state.serverPartials, io);
    if (state.ssh && (await SshConnection.closeLeftover(state.ssh, io.runner)))
        io.info(`Closed the SSH connection to ${state.ssh.host} and removed its key (the main step had left them).`);
}
/**
 * Removes the partial files a killed main step left on the SSH server, through its master if it still answers, else
 * a new login with its key; the host key is checked against the known_hosts the main step verified, as always.
 */
async function removeServerPartials(ssh, paths, io) {
    const connection = SshConnection.fromLeftover(ssh, io.runner);
    const where = `${ssh.user}@${ssh.host}`;
    if (!connection) {
        io.warning(`Could not remove ${paths.join(', ')} on ${where}, partial files the main step left: its SSH key is gone.`);
        return;
    }
    // One word per path, in order: the server's answer names none of them, so nothing it prints reaches the log.
    const script = `for f in ${paths.map(shellQuote).join(' ')}; do if [ -e "$f" ]; then rm -f -- "$f"; echo removed; else echo absent; fi; done`;
    const result = await connection.exec({ script });
    if (result.code !== 0) {
        io.warning(`Could not remove ${paths.join(', ')} on ${where}, partial files the main step left: ${describeExit('the remote command', result)}`);
        return;
    }
    const words = result.stdout.split('\n');
    paths.forEach((path, i) => {
        if (words[i] === 'removed')
            io.info(`Removed ${path} on ${where}, a partial file the main step left.`);
    });
}
/** AbortMultipartUpload for the upload the main step created and neither completed nor aborted: its parts go. */
async function abortLeftoverUpload(upload, io) {
    const input = (name) => io.getInput?.(name) || undefined;
    const accessKeyId = input('s3-access-key-id');
    const secretAccessKey = input('s3-secret-access-key');
    const sessionToken = input('s3-session-token');
    for (const secret of [secretAccessKey, sessionToken])
        if (secret)
            io.setSecret?.(secret);
    const settings = {
        input: 'bucket',
        bucket: upload.bucket,
        prefix: '',
        region: upload.region,
        endpoint: upload.endpoint,
        forcePathStyle: upload.forcePathStyle,
        credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, sessionToken } : undefined,
        partSize: object_store/* DEFAULT_PART_MB */.yq * 1024 * 1024,
    };
    const url = (0,object_store/* objectUrl */.bC)(settings, upload.key);
    // The id is the server's text (CreateMultipartUpload's answer): printed only neutralised.
    const id = (0,untrusted_text/* untrustedText */.Ui)(upload.uploadId);
    const store = await (0,object_store/* openObjectStore */.$O)(settings);
    try {
        if (await store.abortUpload(upload.key, upload.uploadId))
            io.info(`Aborted the multipart upload to ${url} (id ${id}) that the main step left unfinished: its parts are deleted and no object was made.`);
        else
            io.info(`The multipart upload to ${url} (id ${id}) was already completed or aborted.`);
    }
    catch (error) {
        io.warning(`Could not abort the multipart upload to ${url} (id ${id}), left unfinished by the main step: ${error.message} Its parts stay billed until it is aborted (aws s3api abort-multipart-upload) or a lifecycle rule removes incomplete uploads.`);
    }
}
const runCleanupPost = (io = {
    getState: getState,
    info: info,
    warning: warning,
    runner: runProcess,
    getInput: (name) => getInput(name),
    setSecret: setSecret,
}) => runPost(() => cleanupPost(io), io.warning);

;// CONCATENATED MODULE: ./actions/db-restore/post.ts

void runCleanupPost();

