import { createRequire as __WEBPACK_EXTERNAL_createRequire } from "module";
/******/ var __webpack_modules__ = ({

/***/ 52289:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {

/* harmony export */ __nccwpck_require__.d(__webpack_exports__, {
/* harmony export */   Aq: () => (/* binding */ redactDatabaseUrl),
/* harmony export */   DZ: () => (/* binding */ describeDatabase),
/* harmony export */   N0: () => (/* binding */ databaseFromSettings),
/* harmony export */   V: () => (/* binding */ libpqDatabaseArgument),
/* harmony export */   bR: () => (/* binding */ mysqlConnection),
/* harmony export */   c4: () => (/* binding */ mysqlIdentifier),
/* harmony export */   f7: () => (/* binding */ postgresIdentifier),
/* harmony export */   mx: () => (/* binding */ parseDatabaseUrl),
/* harmony export */   ng: () => (/* binding */ postgresEnvironment)
/* harmony export */ });
/* unused harmony exports splitDatabaseUrl, safeDecode, passwordForms, requiresTls */
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_0__ = __nccwpck_require__(79223);
/* harmony import */ var _untrusted_text_js__WEBPACK_IMPORTED_MODULE_1__ = __nccwpck_require__(81450);


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
const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];
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
function splitDatabaseUrl(text) {
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
function passwordForms(rawPassword) {
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
function redactDatabaseUrl(text) {
    const parts = splitDatabaseUrl(text);
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
    const parts = splitDatabaseUrl(text);
    if (parts?.rawPassword)
        for (const form of passwordForms(parts.rawPassword))
            setSecret(form);
    const accepted = 'postgres://, postgresql://, mysql:// or mariadb://';
    let url;
    try {
        if (!parts)
            throw new TypeError('no scheme');
        url = new URL(`${parts.scheme}://${parts.hostAndAfter}`);
    }
    catch {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ConfigurationError */ .j1(`Input '${inputName}' must be a database URL such as postgres://user:password@host:5432/name (${accepted}); got '${(0,_untrusted_text_js__WEBPACK_IMPORTED_MODULE_1__/* .excerpt */ .Kb)(redactDatabaseUrl(text))}'.`);
    }
    const engine = SCHEMES[url.protocol];
    if (!engine) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ConfigurationError */ .j1(`Input '${inputName}' has an unknown scheme '${url.protocol.replace(/:$/, '')}'; it accepts ${accepted}.`);
    }
    const options = {};
    for (const [key, value] of url.searchParams) {
        const canonical = OPTIONS[engine][key];
        if (!canonical) {
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ConfigurationError */ .j1(`Input '${inputName}' has an unknown query option '${key}'; for ${engine} it accepts ${Object.keys(OPTIONS[engine]).join(', ')}.`);
        }
        options[canonical] = value;
    }
    if (options.sslmode !== undefined) {
        options.sslmode = options.sslmode.toLowerCase().replace(/_/g, '-');
        // MySQL spells the modes REQUIRED / VERIFY_IDENTITY; fold them onto libpq's names.
        options.sslmode =
            { required: 'require', preferred: 'prefer', disabled: 'disable', 'verify-identity': 'verify-full' }[options.sslmode] ?? options.sslmode;
        if (!SSL_MODES.includes(options.sslmode)) {
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ConfigurationError */ .j1(`Input '${inputName}' has sslmode '${options.sslmode}'; it accepts ${SSL_MODES.join(', ')}.`);
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
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ConfigurationError */ .j1(`Input '${inputName}' has port '${portText}'; it accepts 1 to 65535.`);
    }
    const database = safeDecode(url.pathname.replace(/^\//, ''));
    if (database === '' || database.includes('/')) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ConfigurationError */ .j1(`Input '${inputName}' must name the database in its path (…/name); got '${(0,_untrusted_text_js__WEBPACK_IMPORTED_MODULE_1__/* .excerpt */ .Kb)(redactDatabaseUrl(text))}'.`);
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
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ConfigurationError */ .j1(`Input 'db-name' is required when 'database-url' is not set.`);
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
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ConfigurationError */ .j1(`Input '${inputName}' names the database '${name}', which starts with '-'; the dump tools would read it as an option. Rename the database or use another.`);
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


/***/ }),

/***/ 79223:
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

/***/ 97073:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {

/* harmony export */ __nccwpck_require__.d(__webpack_exports__, {
/* harmony export */   Sl: () => (/* binding */ redactUrlText),
/* harmony export */   i_: () => (/* binding */ InputReader),
/* harmony export */   rg: () => (/* binding */ environmentInputs)
/* harmony export */ });
/* unused harmony exports splitList, parseDuration, parseUrl, redactUrl, SECRET_QUERY_KEY, secretsInUrl */
/* harmony import */ var _database_url_js__WEBPACK_IMPORTED_MODULE_0__ = __nccwpck_require__(52289);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_1__ = __nccwpck_require__(79223);
/* harmony import */ var _untrusted_text_js__WEBPACK_IMPORTED_MODULE_2__ = __nccwpck_require__(81450);



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
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ConfigurationError */ .j1(`Input '${name}' is required.`);
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
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ConfigurationError */ .j1(`Input '${name}' must be true or false; got '${(0,_untrusted_text_js__WEBPACK_IMPORTED_MODULE_2__/* .excerpt */ .Kb)(value)}'.`);
    }
    integer(name, range = {}) {
        const value = this.raw(name);
        if (value === '' && range.fallback !== undefined)
            return range.fallback;
        if (!/^[+-]?\d+$/.test(value))
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ConfigurationError */ .j1(`Input '${name}' must be a whole number${describeRange(range)}; got '${(0,_untrusted_text_js__WEBPACK_IMPORTED_MODULE_2__/* .excerpt */ .Kb)(value)}'.`);
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
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ConfigurationError */ .j1(`Input '${name}' must be a number${describeRange(range)}; got '${(0,_untrusted_text_js__WEBPACK_IMPORTED_MODULE_2__/* .excerpt */ .Kb)(value)}'.`);
        }
        checkRange(name, n, range);
        return n;
    }
    oneOf(name, allowed, fallback) {
        const value = this.raw(name);
        if (value === '' && fallback !== undefined)
            return fallback;
        if (!allowed.includes(value)) {
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ConfigurationError */ .j1(`Input '${name}' must be one of ${allowed.join(', ')}; got '${(0,_untrusted_text_js__WEBPACK_IMPORTED_MODULE_2__/* .excerpt */ .Kb)(value)}'.`);
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
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ConfigurationError */ .j1(`Input '${name}' must be a duration above zero such as 500ms, 30s, 5m or 1h (a bare number is seconds); got '${(0,_untrusted_text_js__WEBPACK_IMPORTED_MODULE_2__/* .excerpt */ .Kb)(value)}'.`);
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
                throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ConfigurationError */ .j1(`Input '${name}' is required.`);
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
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ConfigurationError */ .j1(`Input '${name}' must be an absolute URL with a scheme (${protocols.map((p) => p.replace(':', '://')).join(' or ')}); got '${(0,_untrusted_text_js__WEBPACK_IMPORTED_MODULE_2__/* .excerpt */ .Kb)(redactUrlText(value))}'.`);
    }
    if (!protocols.includes(url.protocol)) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ConfigurationError */ .j1(`Input '${name}' must use ${protocols.map((p) => p.replace(':', '')).join(' or ')}; got '${(0,_untrusted_text_js__WEBPACK_IMPORTED_MODULE_2__/* .excerpt */ .Kb)(url.protocol.replace(':', ''))}' in '${(0,_untrusted_text_js__WEBPACK_IMPORTED_MODULE_2__/* .excerpt */ .Kb)(redactUrl(url))}'.`);
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
    return url.password ? (0,_database_url_js__WEBPACK_IMPORTED_MODULE_0__/* .redactDatabaseUrl */ .Aq)(copy.href) : copy.href;
}
/** Hides the password of every URL in `text`: a value that does not parse as a URL, or a message quoting one. */
function redactUrlText(text) {
    // What precedes '//' (a scheme, or a mistyped one such as 'https//') stays as written.
    return text.replace(/(\S*?\/\/)(\S*)/g, (_url, head, rest) => rest.includes('@') ? head + (0,_database_url_js__WEBPACK_IMPORTED_MODULE_0__/* .redactDatabaseUrl */ .Aq)(`x://${rest}`).slice('x://'.length) : head + rest);
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
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ConfigurationError */ .j1(`Input '${name}' must be a number${describeRange(range)}; got '${n}'.`);
    }
}


/***/ }),

/***/ 27055:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {

/* harmony export */ __nccwpck_require__.d(__webpack_exports__, {
/* harmony export */   $O: () => (/* binding */ openObjectStore),
/* harmony export */   T5: () => (/* binding */ objectKey),
/* harmony export */   TL: () => (/* binding */ parseS3Location),
/* harmony export */   bC: () => (/* binding */ objectUrl),
/* harmony export */   qP: () => (/* binding */ CHECKSUM_SUFFIX),
/* harmony export */   qT: () => (/* binding */ readBucketSettings)
/* harmony export */ });
/* unused harmony exports S3_SCHEME, DEFAULT_PART_MB */
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_0__ = __nccwpck_require__(79223);
/* harmony import */ var _inputs_js__WEBPACK_IMPORTED_MODULE_1__ = __nccwpck_require__(97073);
/* harmony import */ var _untrusted_text_js__WEBPACK_IMPORTED_MODULE_2__ = __nccwpck_require__(81450);



const S3_SCHEME = 's3://';
/** The sidecar written beside each verified backup: `sha256sum` format, so `sha256sum -c` checks a download. */
const CHECKSUM_SUFFIX = '.sha256';
const DEFAULT_PART_MB = 16;
/** `s3://bucket/some/prefix/` → bucket and prefix (no trailing slash). Bucket names follow S3's rules. */
function parseS3Location(text, input) {
    if (!text.startsWith(S3_SCHEME)) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ConfigurationError */ .j1(`Input '${input}' must be an s3://bucket/prefix location; got '${(0,_untrusted_text_js__WEBPACK_IMPORTED_MODULE_2__/* .excerpt */ .Kb)((0,_inputs_js__WEBPACK_IMPORTED_MODULE_1__/* .redactUrlText */ .Sl)(text))}'.`);
    }
    const rest = text.slice(S3_SCHEME.length);
    const slash = rest.indexOf('/');
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    const path = (slash === -1 ? '' : rest.slice(slash + 1)).replace(/\/+$/, '');
    // s3://key:secret@bucket would be a secret in the location, which is logged and summarised: never quote it.
    if (bucket.includes('@')) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ConfigurationError */ .j1(`Input '${input}' must not hold credentials (s3://<key>@<bucket>); give them as s3-access-key-id and s3-secret-access-key.`);
    }
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || bucket.includes('..')) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ConfigurationError */ .j1(`Input '${input}': '${(0,_untrusted_text_js__WEBPACK_IMPORTED_MODULE_2__/* .excerpt */ .Kb)(bucket)}' is not a bucket name (3 to 63 lower-case letters, digits, dots and hyphens).`);
    }
    if (path !== '' && path.split('/').some((part) => part === '' || part === '.' || part === '..')) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ConfigurationError */ .j1(`Input '${input}': the key prefix '${(0,_untrusted_text_js__WEBPACK_IMPORTED_MODULE_2__/* .excerpt */ .Kb)(path)}' has an empty, '.' or '..' part.`);
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
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ConfigurationError */ .j1(`Inputs 's3-access-key-id' and 's3-secret-access-key' go together; set both, or neither to use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the environment.`);
    }
    if (sessionToken && !accessKeyId) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ConfigurationError */ .j1(`Input 's3-session-token' needs 's3-access-key-id' and 's3-secret-access-key'.`);
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
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ConfigurationError */ .j1(`Input 's3-endpoint' must be an http(s) URL without credentials, such as https://fra1.digitaloceanspaces.com; got '${endpoint}'.`);
        }
    }
    const region = read.optionalString('s3-region') ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
    if (!/^[a-z0-9-]+$/.test(region)) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ConfigurationError */ .j1(`Input 's3-region' must be a region name such as eu-west-3 or auto; got '${region}'.`);
    }
    const sse = read.optionalString('s3-server-side-encryption');
    if (sse !== undefined && !['AES256', 'aws:kms', 'aws:kms:dsse'].includes(sse)) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ConfigurationError */ .j1(`Input 's3-server-side-encryption' must be one of AES256, aws:kms, aws:kms:dsse; got '${sse}'.`);
    }
    const kmsKeyId = read.optionalString('s3-kms-key-id');
    if (kmsKeyId && !sse?.startsWith('aws:kms')) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ConfigurationError */ .j1(`Input 's3-kms-key-id' needs 's3-server-side-encryption' aws:kms or aws:kms:dsse.`);
    }
    const storageClass = read.optionalString('s3-storage-class');
    if (storageClass !== undefined && !/^[A-Z_]+$/.test(storageClass)) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ConfigurationError */ .j1(`Input 's3-storage-class' must be a storage class such as STANDARD, STANDARD_IA or GLACIER_IR; got '${storageClass}'.`);
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
    const { S3ObjectStore } = await Promise.all(/* import() */[__nccwpck_require__.e(358), __nccwpck_require__.e(372)]).then(__nccwpck_require__.bind(__nccwpck_require__, 56372));
    return new S3ObjectStore(settings);
}


/***/ }),

/***/ 81450:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {

/* harmony export */ __nccwpck_require__.d(__webpack_exports__, {
/* harmony export */   Kb: () => (/* binding */ excerpt),
/* harmony export */   Ui: () => (/* binding */ untrustedText)
/* harmony export */ });
/* unused harmony exports UNTRUSTED_TEXT_LIMIT, EXCERPT_CHARS, untrustedLines */
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

/***/ 42613:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("assert");

/***/ }),

/***/ 20181:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("buffer");

/***/ }),

/***/ 35317:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("child_process");

/***/ }),

/***/ 49140:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("constants");

/***/ }),

/***/ 76982:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("crypto");

/***/ }),

/***/ 24434:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("events");

/***/ }),

/***/ 79896:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("fs");

/***/ }),

/***/ 91943:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("fs/promises");

/***/ }),

/***/ 58611:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("http");

/***/ }),

/***/ 65692:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("https");

/***/ }),

/***/ 69278:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("net");

/***/ }),

/***/ 34589:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:assert");

/***/ }),

/***/ 16698:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:async_hooks");

/***/ }),

/***/ 4573:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:buffer");

/***/ }),

/***/ 31421:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:child_process");

/***/ }),

/***/ 37540:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:console");

/***/ }),

/***/ 77598:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:crypto");

/***/ }),

/***/ 53053:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:diagnostics_channel");

/***/ }),

/***/ 40610:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:dns");

/***/ }),

/***/ 78474:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:events");

/***/ }),

/***/ 73024:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs");

/***/ }),

/***/ 51455:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs/promises");

/***/ }),

/***/ 37067:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:http");

/***/ }),

/***/ 32467:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:http2");

/***/ }),

/***/ 44708:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:https");

/***/ }),

/***/ 98995:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:module");

/***/ }),

/***/ 77030:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:net");

/***/ }),

/***/ 48161:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:os");

/***/ }),

/***/ 76760:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:path");

/***/ }),

/***/ 643:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:perf_hooks");

/***/ }),

/***/ 1708:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:process");

/***/ }),

/***/ 41792:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:querystring");

/***/ }),

/***/ 57075:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:stream");

/***/ }),

/***/ 46193:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:string_decoder");

/***/ }),

/***/ 41692:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:tls");

/***/ }),

/***/ 73136:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:url");

/***/ }),

/***/ 57975:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:util");

/***/ }),

/***/ 73429:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:util/types");

/***/ }),

/***/ 75919:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:worker_threads");

/***/ }),

/***/ 38522:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:zlib");

/***/ }),

/***/ 70857:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("os");

/***/ }),

/***/ 16928:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("path");

/***/ }),

/***/ 2203:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("stream");

/***/ }),

/***/ 13193:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("string_decoder");

/***/ }),

/***/ 53557:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("timers");

/***/ }),

/***/ 64756:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("tls");

/***/ }),

/***/ 52018:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("tty");

/***/ }),

/***/ 87016:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("url");

/***/ }),

/***/ 39023:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("util");

/***/ }),

/***/ 43106:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("zlib");

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
/******/ 		id: moduleId,
/******/ 		loaded: false,
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
/******/ 	// Flag the module as loaded
/******/ 	module.loaded = true;
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
/******/ /* webpack/runtime/node module decorator */
/******/ (() => {
/******/ 	__nccwpck_require__.nmd = (module) => {
/******/ 		module.paths = [];
/******/ 		if (!module.children) module.children = [];
/******/ 		return module;
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

// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __nccwpck_require__(73024);
// EXTERNAL MODULE: ./actions/shared/database-url.ts
var database_url = __nccwpck_require__(52289);
// EXTERNAL MODULE: ./actions/shared/untrusted-text.ts
var untrusted_text = __nccwpck_require__(81450);
// EXTERNAL MODULE: external "node:child_process"
var external_node_child_process_ = __nccwpck_require__(31421);
// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __nccwpck_require__(77598);
// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __nccwpck_require__(51455);
// EXTERNAL MODULE: external "node:stream"
var external_node_stream_ = __nccwpck_require__(57075);
;// CONCATENATED MODULE: external "node:stream/promises"
const external_node_stream_promises_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:stream/promises");
// EXTERNAL MODULE: ./actions/shared/errors.ts
var errors = __nccwpck_require__(79223);
;// CONCATENATED MODULE: ./actions/shared/process.ts







const live = new Set();
/** Children still running, so a cancelled job can stop them before it deletes their half-written files. */
function killRunningProcesses(signal = 'SIGTERM') {
    for (const child of live)
        child.kill(signal);
}
const process_runProcess = (command, args, options = {}) => new Promise((resolve, reject) => {
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
    const hash = (0,external_node_crypto_.createHash)('sha256');
    const handle = await (0,promises_.open)(path, 'r');
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
function process_describeExit(name, result) {
    const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
    const why = lastErrorLine(result.stderrTail);
    return `${name} ${how}${why ? `: ${why}` : ''}`;
}

// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __nccwpck_require__(48161);
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
    if (!(0,external_node_fs_.existsSync)(path))
        throw new Error(`Missing file at path: ${path}`);
    const delimiter = `ghadelimiter_${(0,external_node_crypto_.randomUUID)()}`;
    const text = commandValue(value);
    if (name.includes(delimiter) || text.includes(delimiter)) {
        throw new Error(`Unexpected input: the value contains the delimiter "${delimiter}"`);
    }
    (0,external_node_fs_.appendFileSync)(path, `${name}<<${delimiter}${external_node_os_.EOL}${text}${external_node_os_.EOL}${delimiter}${external_node_os_.EOL}`, { encoding: 'utf8' });
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
    process.stdout.write(external_node_os_.EOL);
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
        if (!(error instanceof errors/* ConfigurationError */.j1 || error instanceof errors/* ActionFailure */.dR) && error instanceof Error) {
            debug(error.stack ?? error.message);
        }
        setFailed((0,errors/* errorMessage */.gJ)(error));
    }
}
/**
 * Post steps clean up and only warn: a cleanup problem must never turn a green job red.
 */
async function run_action_runPost(post, warn = core.warning) {
    try {
        await post();
    }
    catch (error) {
        warn(`cleanup: ${errorMessage(error)}`);
    }
}

// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __nccwpck_require__(76760);
;// CONCATENATED MODULE: ./actions/db-backup/artifact.ts



// GitHub refuses these in artifact names (the upload client checks the same list before any request).
const FORBIDDEN_NAME_CHARACTERS = ['"', ':', '<', '>', '|', '*', '?', '\r', '\n', '\\', '/'];
function readArtifactRequest(read) {
    const upload = read.boolean('upload-artifact', false);
    const name = read.optionalString('artifact-name');
    const retention = read.optionalString('retention-days');
    if (!upload)
        return undefined;
    const bad = name ? FORBIDDEN_NAME_CHARACTERS.filter((c) => name.includes(c)) : [];
    if (bad.length) {
        throw new errors/* ConfigurationError */.j1(`Input 'artifact-name' is ${JSON.stringify(name)}, which contains ${bad.map((c) => JSON.stringify(c)).join(', ')}; an artifact name cannot contain any of ${FORBIDDEN_NAME_CHARACTERS.map((c) => JSON.stringify(c)).join(' ')}.`);
    }
    return {
        name,
        retentionDays: retention === undefined ? undefined : read.integer('retention-days', { min: 1, max: 90 }),
    };
}
/** Reads the repository's visibility from the event payload the runner wrote; anything unreadable is 'unknown'. */
function repositoryVisibility(eventPath, readFile = (p) => (0,external_node_fs_.readFileSync)(p, 'utf8')) {
    if (!eventPath)
        return 'unknown';
    let repository;
    try {
        repository = JSON.parse(readFile(eventPath)).repository;
    }
    catch {
        return 'unknown';
    }
    const visibility = repository?.visibility;
    if (visibility === 'public' || visibility === 'private' || visibility === 'internal')
        return visibility;
    if (repository?.private === true)
        return 'private';
    if (repository?.private === false)
        return 'public';
    return 'unknown';
}
/**
 * Anyone who can read a public repository can download its artifacts, so a database dump goes there only
 * encrypted. Checked before any dump so nothing is half-done.
 */
function checkArtifactAllowed(request, context) {
    if (!request)
        return;
    const input = context.input ?? 'upload-artifact';
    if (context.storage === 'server') {
        throw new errors/* ConfigurationError */.j1(`Input '${input}' needs the backup on the runner, but 'storage' is server; use storage: runner (the dump is streamed back over SSH).`);
    }
    if ((context.visibility === 'public' || context.visibility === 'unknown') && !context.encrypted) {
        const why = context.visibility === 'public'
            ? 'this repository is public, so anyone could download the artifact'
            : 'the event payload does not say this repository is private, so it is treated as public';
        throw new errors/* ConfigurationError */.j1(`Input '${input}' is true but ${why}; set 'encryption-passphrase' (the artifact is then the encrypted file) or keep the backup out of artifacts.`);
    }
    const missing = ['ACTIONS_RUNTIME_TOKEN', 'ACTIONS_RESULTS_URL'].filter((name) => !context.env[name]);
    if (missing.length) {
        throw new errors/* ConfigurationError */.j1(`Input '${input}' is true but ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set; the runner gives these to JavaScript actions (not to run: scripts), so call this action with uses:.`);
    }
}
/** Uploads the verified backup (already complete on disk: takeBackup renames only after verification). */
async function uploadBackup(request, backup, uploader) {
    const name = request.name ?? (0,external_node_path_.basename)(backup.path);
    // Custom archives are compressed by pg_dump and ciphertext does not compress: zipping them again only costs CPU.
    const compressionLevel = backup.encrypted || backup.format === 'custom' ? 0 : 6;
    const id = await uploader.upload(name, backup.path, { retentionDays: request.retentionDays, compressionLevel });
    return { name, id, retentionDays: request.retentionDays };
}
function artifactSummaryRow(artifact, env) {
    const retention = artifact.retentionDays ? `kept ${artifact.retentionDays} days` : "the repository's retention";
    const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: runId } = env;
    const name = `\`${artifact.name}\``;
    const link = server && repo && runId ? `[${name}](${server}/${repo}/actions/runs/${runId}/artifacts/${artifact.id})` : name;
    return ['Artifact', `${link} (id ${artifact.id}, ${retention})`];
}

// EXTERNAL MODULE: ./actions/shared/object-store.ts
var object_store = __nccwpck_require__(27055);
;// CONCATENATED MODULE: ./actions/shared/backup-files.ts
const NAME = /^(.+)_(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})_([0-9A-Za-z]+)(?:-(\d+))?\.(dump|sql|json)(\.enc)?$/;
/** `202611271405` for 2026-11-27 14:05 UTC. */
function timestampOf(time) {
    const p = (n) => String(n).padStart(2, '0');
    return `${time.getUTCFullYear()}${p(time.getUTCMonth() + 1)}${p(time.getUTCDate())}${p(time.getUTCHours())}${p(time.getUTCMinutes())}`;
}
/** A prefix safe in a file name (the database name by default): letters, digits, dot, dash, underscore. */
function sanitizePrefix(prefix) {
    return prefix.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '') || 'backup';
}
/** The short sha in a name: 7 characters of a commit, or 'nosha' when no commit is known. */
function shortSha(sha) {
    const clean = sha.replace(/[^0-9A-Za-z]/g, '');
    return clean === '' ? 'nosha' : clean.slice(0, 7).toLowerCase();
}
function backupFileName(prefix, time, sha, extension, options = {}) {
    const seq = options.sequence && options.sequence > 1 ? `-${options.sequence}` : '';
    return `${sanitizePrefix(prefix)}_${timestampOf(time)}_${shortSha(sha)}${seq}.${extension}${options.encrypted ? '.enc' : ''}`;
}
/** The parts of a backup name, or undefined for any other file (which retention and `latest` never touch). */
function parseBackupName(file) {
    const m = NAME.exec(file);
    if (!m)
        return undefined;
    const [, prefix, y, mo, d, h, mi, sha, seq, extension, enc] = m;
    const time = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi)));
    // Reject impossible dates (month 13, 31 February): Date.UTC would silently roll them over.
    if (timestampOf(time) !== `${y}${mo}${d}${h}${mi}`)
        return undefined;
    return {
        file,
        prefix,
        time,
        sha,
        sequence: seq ? Number(seq) : 1,
        extension: extension,
        encrypted: enc !== undefined,
    };
}
/** The newest backup among `files` (by the time in its name, then by name), optionally of one prefix. */
/** What db-restore appends to a database's name for the safety backup it takes before restoring. */
const SAFETY_BACKUP_SUFFIX = '-before-restore';
/**
 * The newest backup of `prefix`; without a prefix, the newest of any database except db-restore's own safety
 * backups (a second `latest` restore must not undo the first by picking what the first saved).
 */
function latestBackup(files, prefix, now) {
    return files
        .map(parseBackupName)
        .filter((b) => b !== undefined &&
        !isFuture(b, now) &&
        (prefix === undefined ? !b.prefix.endsWith(SAFETY_BACKUP_SUFFIX) : b.prefix === sanitizePrefix(prefix)))
        .sort(compareNewestFirst)[0];
}
/**
 * A name dated after `now` was not made by a backup that already happened (a wrong clock, or a file named to be
 * picked): `latest` never chooses it and retention neither counts nor deletes it.
 */
function isFuture(backup, now) {
    return now !== undefined && backup.time.getTime() > now.getTime();
}
/** The backup names in `files` dated after `now`, for a warning. */
function futureBackups(files, now) {
    return files.filter((file) => {
        const backup = parseBackupName(file);
        return backup !== undefined && isFuture(backup, now);
    });
}
function compareNewestFirst(a, b) {
    return (b.time.getTime() - a.time.getTime() || b.sequence - a.sequence || (a.file < b.file ? 1 : a.file > b.file ? -1 : 0));
}
/**
 * Which files to delete: backups of this prefix older than keep-days, or beyond the newest keep-count. Files that
 * do not match the naming pattern, other prefixes, names dated in the future and the backup just made are never
 * candidates (a future name counted among the newest would push a real backup out).
 */
function planRetention(files, rule) {
    const prefix = sanitizePrefix(rule.prefix);
    const ours = files
        .map(parseBackupName)
        .filter((b) => b !== undefined && b.prefix === prefix && !isFuture(b, rule.now))
        .sort(compareNewestFirst);
    const cutoff = rule.now.getTime() - rule.keepDays * 86_400_000;
    const remove = [];
    const keep = [];
    ours.forEach((backup, index) => {
        const tooOld = rule.keepDays > 0 && backup.time.getTime() < cutoff;
        const beyondCount = rule.keepCount > 0 && index >= rule.keepCount;
        if (backup.file !== rule.protect && (tooOld || beyondCount))
            remove.push(backup.file);
        else
            keep.push(backup.file);
    });
    return { remove, keep };
}

;// CONCATENATED MODULE: ./actions/db-backup/client-plan.ts

/** '150004' (server_version_num) or '15.4 (Debian 15.4-1)' → 15; 9.6 → 9 (a major was two numbers before 10). */
function postgresMajor(version) {
    const text = version.trim();
    if (/^\d{5,6}$/.test(text)) {
        const n = Number(text);
        return n >= 100000 ? Math.floor(n / 10000) : Math.floor(n / 10000);
    }
    const m = /(\d+)(?:\.(\d+))?/.exec(text);
    return m ? Number(m[1]) : undefined;
}
/**
 * The client for a server: the newest installed, which must be at least the server's major (pg_dump refuses to
 * dump a newer server, and a dump made by an older client could miss newer objects). Otherwise stop with how
 * to install the right one.
 */
function choosePostgresClient(serverVersion, installed, where = 'the runner') {
    const server = postgresMajor(serverVersion);
    if (server === undefined)
        throw new errors/* ActionFailure */.dR(`Could not read the PostgreSQL server version from '${serverVersion}'.`);
    const sorted = [...installed].sort((a, b) => b.major - a.major);
    const best = sorted[0];
    if (best && best.major >= server)
        return best;
    const found = sorted.length
        ? `the newest client on ${where} is ${best.major} (${best.binDir ? `${best.binDir}/pg_dump` : 'pg_dump on PATH'})`
        : `no pg_dump was found on ${where}`;
    throw new errors/* ActionFailure */.dR(`The PostgreSQL server is version ${server} but ${found}; pg_dump must be at least as new as the server. ` +
        `Install postgresql-client-${server} on ${where}: add the PostgreSQL (PGDG) apt repository ` +
        `(https://wiki.postgresql.org/wiki/Apt, e.g. 'sudo apt-get install -y postgresql-common && sudo /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y') ` +
        `then 'sudo apt-get install -y postgresql-client-${server}'.`);
}
/** Majors from a listing of `<root>/<N>/bin/pg_dump` paths (one per line), as `ls -d` or a directory scan gives. */
function postgresClientsFromPaths(paths) {
    const clients = [];
    for (const path of paths) {
        const m = /^(.*\/(\d+)\/bin)\/pg_dump$/.exec(path.trim());
        if (m)
            clients.push({ major: Number(m[2]), binDir: m[1] });
    }
    return clients;
}
/** `pg_dump (PostgreSQL) 15.4 (Debian 15.4-1)` → 15. */
function postgresClientFromVersionText(text) {
    const m = /pg_dump \(PostgreSQL\) (\d+)/.exec(text);
    return m ? { major: Number(m[1]), binDir: '' } : undefined;
}
/** `SELECT VERSION()`: '10.11.6-MariaDB-0+deb12u1' or '8.0.36'. */
function parseMysqlVersion(version) {
    const m = /^(\d+)\.(\d+)/.exec(version.trim());
    if (!m)
        throw new errors/* ActionFailure */.dR(`Could not read the MySQL/MariaDB server version from '${version}'.`);
    return {
        flavour: /mariadb/i.test(version) ? 'mariadb' : 'mysql',
        version: version.trim(),
        major: Number(m[1]),
        minor: Number(m[2]),
    };
}
/**
 * mariadb-dump for MariaDB, mysqldump for MySQL when it is the Oracle one. MariaDB's mysqldump is a link to
 * mariadb-dump, which dumps MySQL 5.7 fine but not every MySQL 8 object, so say so instead of guessing.
 */
function chooseMysqlDump(server, available, where = 'the runner') {
    if (server.flavour === 'mariadb') {
        if (available.mariadbDump)
            return { dump: 'mariadb-dump', client: 'mariadb' };
        if (available.mysqldump)
            return { dump: 'mysqldump', client: 'mysql' };
    }
    else {
        if (available.mysqldump && !available.mysqldumpIsMariadb)
            return { dump: 'mysqldump', client: 'mysql' };
        if (available.mariadbDump || available.mysqldump) {
            return {
                dump: available.mariadbDump ? 'mariadb-dump' : 'mysqldump',
                client: available.mariadbDump ? 'mariadb' : 'mysql',
                warning: server.major >= 8
                    ? `The server is MySQL ${server.version}; only MariaDB's dump client is on ${where}. Install mysql-client (Oracle's) for a dump that covers every MySQL 8 feature.`
                    : undefined,
            };
        }
    }
    throw new errors/* ActionFailure */.dR(`No MySQL/MariaDB dump client (mariadb-dump or mysqldump) was found on ${where}. ` +
        `Install it: 'sudo apt-get install -y ${server.flavour === 'mariadb' ? 'mariadb-client' : 'default-mysql-client'}'.`);
}

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
class ssh_SshConnection {
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
    static async open(settings, run = process_runProcess) {
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
            const connection = new ssh_SshConnection(settings, dir, run, policy);
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
    static fromLeftover(leftover, run = process_runProcess) {
        if (!(0,external_node_fs_.existsSync)(leftover.directory))
            return undefined;
        const { directory, ...where } = leftover;
        return new ssh_SshConnection({ ...where, privateKey: '' }, directory, run, '');
    }
    /** In a post step: closes the master a killed main step left and removes its key directory; false if none. */
    static async closeLeftover(leftover, run = process_runProcess) {
        const connection = ssh_SshConnection.fromLeftover(leftover, run);
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
        const remote = `exec sh -c ${ssh_shellQuote(`set -eu\n${prologue}\n${command.script}`)}`;
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
            throw new errors/* ActionFailure */.dR(`${what} on ${this.settings.host} failed: ${process_describeExit('the remote command', result)}`);
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
function ssh_shellQuote(word) {
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
    return `SSH to ${where} failed: ${process_describeExit('ssh', result)}`;
}

;// CONCATENATED MODULE: ./actions/db-backup/verify.ts
/** Written by pg_dump as the last comment of a plain dump; absent when the dump was cut short. */
const POSTGRES_DUMP_COMPLETE = '-- PostgreSQL database dump complete';
/** Written by mysqldump / mariadb-dump at the very end (with --comments, the default). */
const MYSQL_DUMP_COMPLETE = '-- Dump completed';
function checkSize(size) {
    return size > 0 ? undefined : 'the dump is empty (0 bytes)';
}
/** The end of an SQL dump must carry its tool's completion marker. */
function checkSqlMarker(format, tail) {
    const marker = format === 'plain' ? POSTGRES_DUMP_COMPLETE : MYSQL_DUMP_COMPLETE;
    return tail.includes(marker) ? undefined : `the dump does not end with '${marker}' (it was cut short)`;
}
/** `pg_restore --list` must succeed and list at least the archive header. */
function checkArchiveListing(code, listing, stderr) {
    if (code !== 0)
        return `pg_restore --list cannot read the archive: ${stderr.trim().split('\n').at(-1) ?? `exit ${code}`}`;
    if (!/; Archive created at/.test(listing))
        return 'pg_restore --list printed no archive header';
    return undefined;
}
/** Custom-format archives start with the magic 'PGDMP'. */
function isCustomArchive(head) {
    return head.subarray(0, 5).toString('latin1') === 'PGDMP';
}
/**
 * A streaming structural check of `dumpdata` output: a top-level array whose brackets balance and whose strings
 * close, read chunk by chunk so a large fixture is never held in memory. Truncation (the usual failure: a
 * killed dumpdata) always breaks the balance. Files small enough are also JSON.parse'd by the caller.
 */
class JsonStructureCheck {
    depth = 0;
    inString = false;
    escaped = false;
    started = false;
    closed = false;
    error;
    offset = 0;
    feed(chunk) {
        if (this.error)
            return;
        for (const ch of chunk) {
            this.offset++;
            if (this.inString) {
                if (this.escaped)
                    this.escaped = false;
                else if (ch === '\\')
                    this.escaped = true;
                else if (ch === '"')
                    this.inString = false;
                continue;
            }
            if (ch === ' ' || ch === '\n' || ch === '\r' || ch === '\t')
                continue;
            if (this.closed)
                return this.fail(`unexpected '${ch}' after the end of the top-level array`);
            if (!this.started) {
                if (ch !== '[')
                    return this.fail(`dumpdata output must start with '['; found '${ch}'`);
                this.started = true;
            }
            if (ch === '"')
                this.inString = true;
            else if (ch === '[' || ch === '{')
                this.depth++;
            else if (ch === ']' || ch === '}') {
                this.depth--;
                if (this.depth < 0)
                    return this.fail(`unbalanced '${ch}'`);
                if (this.depth === 0)
                    this.closed = true;
            }
        }
    }
    end() {
        if (this.error)
            return this.error;
        if (!this.started)
            return 'the JSON is empty';
        if (!this.closed || this.inString)
            return 'the JSON ends before its top-level array closes (it was cut short)';
        return undefined;
    }
    fail(message) {
        this.error = `invalid JSON at character ${this.offset}: ${message}`;
    }
}

;// CONCATENATED MODULE: ./actions/db-backup/backup.ts








const EXTENSIONS = {
    custom: 'dump',
    plain: 'sql',
    mysql: 'sql',
    json: 'json',
};
const OPENSSL_ENC_ARGS = ['enc', '-aes-256-cbc', '-pbkdf2', '-iter', '600000', '-md', 'sha256'];
const PASSPHRASE_ENV = 'RUNBOOK_BACKUP_PASSPHRASE';
function formatOf(request) {
    if (request.engine === 'postgresql')
        return request.postgresFormat;
    return request.engine === 'mysql' ? 'mysql' : 'json';
}
/** A PostgreSQL client set on a host: versioned directories first, else whatever pg_dump is on PATH. */
async function postgresClientsOn(host, root) {
    const listing = await host.sh(`for f in ${ssh_shellQuote(root)}/*/bin/pg_dump; do [ -x "$f" ] && printf '%s\\n' "$f"; done; true`);
    const clients = postgresClientsFromPaths(listing.stdout.split('\n'));
    if (clients.length > 0)
        return clients;
    const onPath = await host.sh('pg_dump --version 2>/dev/null || true');
    const client = postgresClientFromVersionText(onPath.stdout);
    return client ? [client] : [];
}
/** The first backup name (by sequence) not among `taken`; never one that exists, so no backup is overwritten. */
function freeName(taken, nameFor) {
    for (let sequence = 1; sequence < 100; sequence++) {
        const name = nameFor(sequence);
        if (!taken.has(name))
            return name;
    }
    throw new errors/* ActionFailure */.dR(`99 backups of this database were already taken in this minute at this commit (${nameFor(1)} and its sequels); remove some first.`);
}
function tool(client, name) {
    return client.binDir ? `${client.binDir}/${name}` : name;
}
/** Explains a failed login or connection in one line, naming where (never the password). */
function connectionFailure(target, result, what) {
    // psql puts the cause on one line and a hint on the next; keep both, without the tool's own prefix.
    const lines = result.stderrTail
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '');
    const start = Math.max(0, lines.findIndex((l) => /error|FATAL|failed|denied|refused/i.test(l)));
    const reason = lines.slice(start, start + 2).join(' ') || process_describeExit(what, result);
    return new errors/* ActionFailure */.dR(`Cannot connect to ${(0,database_url/* describeDatabase */.DZ)(target)}: ${reason.replace(/^(psql|pg_dump|mariadb|mysql|mariadb-dump|mysqldump): (error: |Got error: )?/, '')}`);
}
/** The server's version, read before anything is dumped (the client is chosen from it). */
async function readServerVersion(host, target, psql = 'psql', mysqlClient = 'mariadb') {
    if (target.engine === 'postgresql') {
        const { PGPASSWORD, ...env } = (0,database_url/* postgresEnvironment */.ng)(target);
        const result = await host.run(psql, ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', 'SHOW server_version'], {
            env,
            secretEnv: PGPASSWORD ? { PGPASSWORD } : undefined,
        });
        if (result.code !== 0)
            throw connectionFailure(target, result, 'psql');
        return result.stdout.trim();
    }
    const { args, env } = (0,database_url/* mysqlConnection */.bR)(target);
    const result = await host.run(mysqlClient, [...args, '--batch', '--skip-column-names', '-e', 'SELECT VERSION()'], {
        secretEnv: env,
    });
    if (result.code !== 0)
        throw connectionFailure(target, result, mysqlClient);
    return result.stdout.trim();
}
async function planDump(request, edges) {
    const host = edges.dumpHost;
    if (request.engine === 'postgresql') {
        const target = request.database;
        const clients = await postgresClientsOn(host, request.postgresClientRoot);
        const newest = [...clients].sort((a, b) => b.major - a.major)[0];
        const serverVersion = await readServerVersion(host, target, newest ? tool(newest, 'psql') : 'psql');
        const client = choosePostgresClient(serverVersion, clients, host.where);
        const { PGPASSWORD, ...env } = (0,database_url/* postgresEnvironment */.ng)(target);
        const args = ['--no-password', request.postgresFormat === 'custom' ? '--format=custom' : '--format=plain'];
        // A plain dump that drops what it recreates restores over existing data the same way pg_restore --clean does.
        if (request.postgresFormat === 'plain')
            args.push('--clean', '--if-exists');
        return {
            command: tool(client, 'pg_dump'),
            args,
            env,
            secretEnv: PGPASSWORD ? { PGPASSWORD } : {},
            fileOption: (path) => `--file=${path}`,
            client: `pg_dump ${client.major}${client.binDir ? ` (${client.binDir})` : ''}`,
            serverVersion,
        };
    }
    if (request.engine === 'mysql') {
        const target = request.database;
        const probe = await host.sh('command -v mariadb-dump >/dev/null 2>&1 && echo mariadb-dump; command -v mysqldump >/dev/null 2>&1 && echo mysqldump && mysqldump --version 2>/dev/null; true');
        const available = {
            mariadbDump: /^mariadb-dump$/m.test(probe.stdout),
            mysqldump: /^mysqldump$/m.test(probe.stdout),
            mysqldumpIsMariadb: /mariadb/i.test(probe.stdout.split('\n').slice(1).join('\n')),
        };
        const clientName = available.mariadbDump ? 'mariadb' : 'mysql';
        const serverVersion = await readServerVersion(host, target, clientName, clientName);
        const choice = chooseMysqlDump(parseMysqlVersion(serverVersion), available, host.where);
        if (choice.warning)
            edges.warn(choice.warning);
        const { args, env } = (0,database_url/* mysqlConnection */.bR)(target, 'dump');
        return {
            command: choice.dump,
            args: [
                ...args,
                '--single-transaction',
                '--routines',
                '--triggers',
                '--events',
                '--hex-blob',
                '--no-tablespaces',
                '--skip-lock-tables',
                // The name is an operand, never an option, whatever it starts with.
                '--',
                target.database,
            ],
            env: {},
            secretEnv: env,
            client: choice.dump,
            serverVersion,
        };
    }
    const django = request.django;
    const env = {};
    const secretEnv = {};
    if (django.databaseUrl)
        secretEnv.DATABASE_URL = django.databaseUrl;
    return {
        command: 'sh',
        // The user's command is a shell fragment (it may be 'python manage.py' or '.venv/bin/python src/manage.py').
        args: [
            '-c',
            `${django.manageCommand} "$@"`,
            'manage.py',
            'dumpdata',
            '--natural-foreign',
            '--natural-primary',
            '--exclude=contenttypes',
            '--exclude=auth.permission',
            '--exclude=sessions.session',
            '--exclude=admin.logentry',
        ],
        env,
        secretEnv,
        cwd: django.workingDirectory,
        client: `${django.manageCommand} dumpdata`,
        serverVersion: '',
    };
}
/**
 * Takes one backup: read the server version, pick a client at least as new, dump into `<name>.partial`, verify,
 * (encrypt,) rename into place, then apply retention. Any failure removes the partial: a name without
 * `.partial` always means a verified backup.
 */
async function takeBackup(request, edges) {
    const clock = edges.clock ?? Date.now;
    const started = clock();
    const { files } = edges;
    const format = formatOf(request);
    if (runsAsOneScript(request, edges))
        return takeServerArchive(request, edges, started);
    const spec = await planDump(request, edges);
    if (spec.serverVersion)
        edges.log(`Server version ${spec.serverVersion}; dumping with ${spec.client} on ${edges.dumpHost.where}.`);
    const existing = new Set([...(await files.list(request.directory)), ...(request.takenNames ?? [])]);
    const name = freeName(existing, (sequence) => backupFileName(request.prefix, request.now, request.sha, EXTENSIONS[format], {
        encrypted: request.passphrase !== undefined,
        sequence,
    }));
    const finalPath = external_node_path_.posix.join(request.directory, name);
    const plainPath = external_node_path_.posix.join(request.directory, `${name.replace(/\.enc$/, '')}.partial`);
    const encPath = `${finalPath}.partial`;
    const partials = new Set();
    const track = (path) => {
        partials.add(path);
        edges.trackPartial?.(path);
    };
    try {
        track(plainPath);
        await files.createPrivate?.(plainPath);
        const sameHost = edges.dumpHost.remote === edges.files.remote;
        const args = [...spec.args];
        let streamedHash;
        let result;
        const dumpStarted = clock();
        if (sameHost && spec.fileOption) {
            args.splice(spec.args.length, 0, spec.fileOption(plainPath));
            result = await edges.dumpHost.run(spec.command, args, {
                env: spec.env,
                secretEnv: spec.secretEnv,
                cwd: spec.cwd,
                signal: edges.signal,
            });
        }
        else {
            result = await edges.dumpHost.run(spec.command, args, {
                env: spec.env,
                secretEnv: spec.secretEnv,
                cwd: spec.cwd,
                signal: edges.signal,
                sha256: !sameHost || !edges.files.remote,
                ...(sameHost ? { stdoutOnHost: plainPath } : { stdoutFile: plainPath }),
            });
            streamedHash = result.sha256;
        }
        if (edges.signal?.aborted)
            throw new errors/* ActionFailure */.dR('The backup was cancelled; its partial file was removed.');
        const dumped = clock();
        if (result.code !== 0) {
            if (request.database &&
                /password authentication failed|Access denied|could not connect|Connection refused|timeout expired/i.test(result.stderrTail)) {
                throw connectionFailure(request.database, result, spec.command);
            }
            throw new errors/* ActionFailure */.dR(`The dump failed: ${process_describeExit(external_node_path_.posix.basename(spec.command), result)}`);
        }
        // The checksum of an unencrypted dump is read while the verification runs: on a large archive the two reads
        // overlap instead of adding up.
        const hashing = streamedHash || request.passphrase !== undefined ? undefined : files.sha256(plainPath);
        hashing?.catch(() => undefined);
        edges.log(`Dumped in ${dumped - dumpStarted} ms (checks before the dump: ${dumpStarted - started} ms); verifying.`);
        const verification = await verifyDump(format, plainPath, request, edges, spec);
        edges.log(`Verified in ${clock() - dumped} ms.`);
        let path = plainPath;
        if (request.passphrase !== undefined) {
            track(encPath);
            await files.createPrivate?.(encPath);
            const enc = await edges.storeHost.run('openssl', [...OPENSSL_ENC_ARGS, '-salt', '-pass', `env:${PASSPHRASE_ENV}`, '-in', plainPath, '-out', encPath], {
                secretEnv: { [PASSPHRASE_ENV]: request.passphrase },
            });
            if (enc.code !== 0)
                throw new errors/* ActionFailure */.dR(`Encrypting the backup failed: ${process_describeExit('openssl', enc)}`);
            await files.remove(plainPath);
            path = encPath;
            streamedHash = undefined;
        }
        const sizeBytes = await files.size(path);
        const sha256 = streamedHash ?? (await (hashing ?? files.sha256(path)));
        await files.rename(path, finalPath);
        partials.clear();
        edges.trackPartial?.(undefined);
        const deleted = await applyRetention(request, name, edges);
        return {
            path: finalPath,
            file: name,
            location: files.remote ? 'server' : 'runner',
            where: files.where,
            sizeBytes,
            sha256,
            format,
            encrypted: request.passphrase !== undefined,
            serverVersion: spec.serverVersion,
            client: spec.client,
            durationMs: clock() - started,
            verification,
            deleted,
            database: request.database?.database ?? '',
        };
    }
    catch (error) {
        for (const path of partials)
            await files.remove(path).catch(() => undefined);
        edges.trackPartial?.(undefined);
        throw error;
    }
}
/**
 * A custom-format PostgreSQL archive dumped and kept on one server (the deploy's pre-migration backup, db-backup
 * over SSH): every command over the connection costs a client start and a remote shell, so the same steps run as
 * two scripts instead of about ten commands. The client is still chosen here from the server's version, and the
 * checks are those of verifyDump, made on the server before the rename and repeated here on what it reports.
 */
function runsAsOneScript(request, edges) {
    return (request.engine === 'postgresql' &&
        request.postgresFormat === 'custom' &&
        request.passphrase === undefined &&
        request.verify === 'archive' &&
        edges.dumpHost.remote &&
        edges.files.remote &&
        edges.dumpHost === edges.storeHost);
}
const q = ssh_shellQuote;
const MARK = 'runbook-backup';
/** Clients, server version (read with the newest psql) and the files already in the directory, in one script. */
function probeScript(root, directory) {
    return [
        'newest=; newest_major=-1',
        `for f in ${q(root)}/*/bin/pg_dump; do`,
        '  [ -x "$f" ] || continue',
        '  printf \'client %s\\n\' "$f"',
        '  m=${f%/bin/pg_dump}; m=${m##*/}',
        "  case $m in ''|*[!0-9]*) continue;; esac",
        '  if [ "$m" -gt "$newest_major" ]; then newest_major=$m; newest=${f%/pg_dump}/psql; fi',
        'done',
        `if [ -z "$newest" ]; then printf 'path %s\\n' "$(pg_dump --version 2>/dev/null || true)"; newest=psql; fi`,
        `printf 'psql %s\\n' "$newest"`,
        `if [ -d ${q(directory)} ]; then for f in ${q(directory)}/*; do if [ -e "$f" ]; then printf 'file %s\\n' "\${f##*/}"; fi; done; fi`,
        'rc=0; v=$("$newest" -X -A -t -v ON_ERROR_STOP=1 -c \'SHOW server_version\') || rc=$?',
        `if [ "$rc" = 0 ]; then printf 'server %s\\n' "$v"; else printf 'psql-exit %s\\n' "$rc"; fi`,
    ].join('\n');
}
/**
 * Dump to the partial, check it (size, PGDMP magic, pg_restore --list with its header), hash it and rename it
 * only if every check passed; the partial is removed on any other way out. The last line says what happened.
 */
function archiveScript(dump, pgRestore, partial, final) {
    const p = q(partial);
    return [
        'umask 077',
        `trap 'rm -f ${p} ${q(`${partial}.list`)} ${q(`${partial}.err`)}' EXIT`,
        "trap 'exit 143' HUP INT TERM",
        'now() { date +%s%3N; }',
        't0=$(now)',
        `rc=0; ${dump} || rc=$?`,
        `if [ "$rc" != 0 ]; then echo "${MARK} dump $rc"; exit 0; fi`,
        't1=$(now)',
        `size=$(wc -c < ${p} | tr -d ' ')`,
        `magic=$(head -c 5 ${p} | od -An -v -tx1 | tr -d ' \\n')`,
        `lrc=0; ${q(pgRestore)} --list ${p} > ${q(`${partial}.list`)} 2> ${q(`${partial}.err`)} || lrc=$?`,
        `if [ "$lrc" != 0 ]; then cat ${q(`${partial}.err`)} >&2; fi`,
        `entries=$(grep -c '^[0-9][0-9]*;' ${q(`${partial}.list`)} || true)`,
        `header=0; if grep -q '; Archive created at' ${q(`${partial}.list`)}; then header=1; fi`,
        'sum=-; state=rejected',
        `if [ "$size" -gt 0 ] && [ "$magic" = 5047444d50 ] && [ "$lrc" = 0 ] && [ "$header" = 1 ]; then`,
        `  sum=$(sha256sum ${p} | cut -d' ' -f1)`,
        `  if [ -e ${q(final)} ]; then state=exists; else mv -f ${p} ${q(final)}; state=kept; fi`,
        'fi',
        't2=$(now)',
        `echo "${MARK} $state $size $magic $lrc $header $entries $sum $t0 $t1 $t2"`,
    ].join('\n');
}
async function takeServerArchive(request, edges, started) {
    const clock = edges.clock ?? Date.now;
    const host = edges.dumpHost;
    const target = request.database;
    const { PGPASSWORD, ...env } = (0,database_url/* postgresEnvironment */.ng)(target);
    const secretEnv = PGPASSWORD ? { PGPASSWORD } : undefined;
    const probe = await host.sh(probeScript(request.postgresClientRoot, request.directory), { env, secretEnv });
    if (probe.code !== 0)
        throw new errors/* ActionFailure */.dR(`Preparing the backup on ${host.where} failed: ${process_describeExit('the remote script', probe)}`);
    const lines = probe.stdout.split('\n');
    const value = (word) => lines.filter((l) => l.startsWith(`${word} `)).map((l) => l.slice(word.length + 1));
    let clients = postgresClientsFromPaths(value('client'));
    if (clients.length === 0) {
        const onPath = postgresClientFromVersionText(value('path').join('\n'));
        clients = onPath ? [onPath] : [];
    }
    const failedPsql = value('psql-exit')[0];
    if (failedPsql !== undefined) {
        const result = { code: Number(failedPsql), signal: null, stdout: '', stderrTail: probe.stderrTail, bytes: 0 };
        throw connectionFailure(target, result, value('psql')[0] ?? 'psql');
    }
    const serverVersion = (value('server')[0] ?? '').trim();
    const client = choosePostgresClient(serverVersion, clients, host.where);
    const clientName = `pg_dump ${client.major}${client.binDir ? ` (${client.binDir})` : ''}`;
    edges.log(`Server version ${serverVersion}; dumping with ${clientName} on ${host.where}.`);
    const name = freeName(new Set([...value('file'), ...(request.takenNames ?? [])]), (sequence) => backupFileName(request.prefix, request.now, request.sha, 'dump', { sequence }));
    const finalPath = external_node_path_.posix.join(request.directory, name);
    const partial = `${finalPath}.partial`;
    edges.trackPartial?.(partial);
    try {
        const dump = [tool(client, 'pg_dump'), '--no-password', '--format=custom', `--file=${partial}`].map(q).join(' ');
        const scriptStarted = clock();
        const result = await host.sh(archiveScript(dump, tool(client, 'pg_restore'), partial, finalPath), {
            env,
            secretEnv,
            signal: edges.signal,
        });
        if (edges.signal?.aborted)
            throw new errors/* ActionFailure */.dR('The backup was cancelled; its partial file was removed.');
        const last = result.stdout
            .split('\n')
            .reverse()
            .find((l) => l.startsWith(`${MARK} `));
        if (result.code !== 0 || !last)
            throw new errors/* ActionFailure */.dR(`The backup on ${host.where} failed: ${process_describeExit('the backup script', result)}`);
        const [state, ...fields] = last.slice(MARK.length + 1).split(' ');
        if (state === 'dump') {
            const failed = { ...result, code: Number(fields[0]) };
            if (/password authentication failed|Access denied|could not connect|Connection refused|timeout expired/i.test(result.stderrTail))
                throw connectionFailure(target, failed, tool(client, 'pg_dump'));
            throw new errors/* ActionFailure */.dR(`The dump failed: ${process_describeExit('pg_dump', failed)}`);
        }
        const [size, magic, listCode, header, entries, sha256, t0, t1, t2] = fields;
        const timings = [t0, t1, t2].map(Number);
        if (timings.every(Number.isFinite)) {
            edges.log(`Dumped in ${timings[1] - timings[0]} ms (checks before the dump: ${scriptStarted - started} ms); verifying.`);
            edges.log(`Verified in ${timings[2] - timings[1]} ms.`);
        }
        const fail = (reason) => new errors/* ActionFailure */.dR(`The backup failed verification: ${reason}; no backup was kept.`);
        const reason = checkSize(Number(size)) ??
            (isCustomArchive(Buffer.from(magic, 'hex')) ? undefined : 'the file is not a pg_dump custom archive') ??
            checkArchiveListing(Number(listCode), header === '1' ? '; Archive created at' : '', result.stderrTail);
        if (reason) {
            if (state === 'kept')
                await edges.files.remove(finalPath);
            throw fail(reason);
        }
        if (state !== 'kept')
            throw new errors/* ActionFailure */.dR(`The backup could not be renamed: ${finalPath} appeared on ${host.where} meanwhile.`);
        edges.trackPartial?.(undefined);
        const deleted = await applyRetention(request, name, edges);
        return {
            path: finalPath,
            file: name,
            location: 'server',
            where: edges.files.where,
            sizeBytes: Number(size),
            sha256,
            format: 'custom',
            encrypted: false,
            serverVersion,
            client: clientName,
            durationMs: clock() - started,
            verification: `${size} bytes; pg_restore --list read ${entries} entries`,
            deleted,
            database: target.database,
        };
    }
    catch (error) {
        await edges.files.remove(partial).catch(() => undefined);
        edges.trackPartial?.(undefined);
        throw error;
    }
}
async function verifyDump(format, path, request, edges, spec) {
    const fail = (reason) => new errors/* ActionFailure */.dR(`The backup failed verification: ${reason}; no backup was kept.`);
    const size = await edges.files.size(path);
    const empty = checkSize(size);
    if (empty)
        throw fail(empty);
    const checks = [`${size} bytes`];
    if (format === 'custom') {
        if (!isCustomArchive(await edges.files.head(path, 5)))
            throw fail('the file is not a pg_dump custom archive');
        const clients = await postgresClientsOn(edges.storeHost, request.postgresClientRoot);
        const client = choosePostgresClient(spec.serverVersion, clients, edges.storeHost.where);
        const list = await edges.storeHost.run(tool(client, 'pg_restore'), ['--list', path]);
        const reason = checkArchiveListing(list.code, list.stdout, list.stderrTail);
        if (reason)
            throw fail(reason);
        const entries = list.stdout.split('\n').filter((l) => /^\d+;/.test(l)).length;
        checks.push(`pg_restore --list read ${entries} entries`);
    }
    else if (format === 'plain' || format === 'mysql') {
        const reason = checkSqlMarker(format, await edges.files.tail(path, 4096));
        if (reason)
            throw fail(reason);
        checks.push('completion marker present');
    }
    else {
        const reason = await edges.files.checkJson(path);
        if (reason)
            throw fail(reason);
        checks.push('JSON parses');
    }
    if (request.verify === 'restore') {
        checks.push(await testRestore(format, path, request, edges, spec));
    }
    return checks.join('; ');
}
/** Restores the dump into a scratch database next to the real one, then drops it whatever happened. */
async function testRestore(format, path, request, edges, spec, 
/** The backup as a stream on the runner (read back from a bucket) instead of the file at `path`. */
openStream) {
    const target = request.database;
    const scratch = `${target.database.slice(0, 40)}_verify_${Math.random().toString(36).slice(2, 8)}`;
    const host = edges.dumpHost;
    const fromFile = openStream
        ? { stdin: await openStream() }
        : edges.dumpHost.remote === edges.files.remote
            ? { stdinOnHost: path }
            : { stdin: (await Promise.resolve(/* import() */).then(__nccwpck_require__.t.bind(__nccwpck_require__, 73024, 23))).createReadStream(path) };
    const fail = (what, result) => new errors/* ActionFailure */.dR(`The backup failed its test restore into scratch database '${scratch}': ${process_describeExit(what, result)}; no backup was kept.`);
    if (format === 'custom' || format === 'plain') {
        const binDir = spec.command.includes('/') ? external_node_path_.posix.dirname(spec.command) : '';
        const pg = (name) => (binDir ? `${binDir}/${name}` : name);
        const { PGPASSWORD, ...env } = (0,database_url/* postgresEnvironment */.ng)(target);
        const secretEnv = PGPASSWORD ? { PGPASSWORD } : undefined;
        // The database to connect to comes from PGDATABASE: a name in argv could be read as a connection string.
        const admin = (sql) => host.run(pg('psql'), ['-X', '-v', 'ON_ERROR_STOP=1', '-c', sql], { env, secretEnv });
        const created = await admin(`CREATE DATABASE ${(0,database_url/* postgresIdentifier */.f7)(scratch)}`);
        if (created.code !== 0)
            throw fail('CREATE DATABASE', created);
        try {
            const scratchEnv = { ...env, PGDATABASE: scratch };
            const restored = format === 'custom'
                ? await host.run(pg('pg_restore'), [
                    '--no-owner',
                    '--no-acl',
                    '--exit-on-error',
                    '--single-transaction',
                    `--dbname=${(0,database_url/* libpqDatabaseArgument */.V)(scratch)}`,
                ], { env: scratchEnv, secretEnv, ...fromFile })
                : await host.run(pg('psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction', '-o', '/dev/null'], { env: scratchEnv, secretEnv, ...fromFile });
            if (restored.code !== 0)
                throw fail(format === 'custom' ? 'pg_restore' : 'psql', restored);
            const tables = await host.run(pg('psql'), [
                '-X',
                '-A',
                '-t',
                '-c',
                "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog','information_schema')",
            ], { env: scratchEnv, secretEnv });
            return `test restore into a scratch database succeeded (${tables.stdout.trim() || '?'} tables)`;
        }
        finally {
            const dropped = await admin(`DROP DATABASE IF EXISTS ${(0,database_url/* postgresIdentifier */.f7)(scratch)}`);
            if (dropped.code !== 0)
                edges.warn(`Could not drop the scratch database '${scratch}': ${lastErrorLine(dropped.stderrTail)}`);
        }
    }
    const { args, env } = (0,database_url/* mysqlConnection */.bR)(target);
    const client = spec.command.startsWith('mariadb') ? 'mariadb' : 'mysql';
    const admin = (sql) => host.run(client, [...args, '-e', sql], { secretEnv: env });
    const created = await admin(`CREATE DATABASE ${(0,database_url/* mysqlIdentifier */.c4)(scratch)}`);
    if (created.code !== 0)
        throw fail('CREATE DATABASE', created);
    try {
        const restored = await host.run(client, [...args, `--database=${scratch}`], { secretEnv: env, ...fromFile });
        if (restored.code !== 0)
            throw fail(client, restored);
        return 'test restore into a scratch database succeeded';
    }
    finally {
        const dropped = await admin(`DROP DATABASE IF EXISTS ${(0,database_url/* mysqlIdentifier */.c4)(scratch)}`);
        if (dropped.code !== 0)
            edges.warn(`Could not drop the scratch database '${scratch}': ${lastErrorLine(dropped.stderrTail)}`);
    }
}
async function applyRetention(request, name, edges, now = false) {
    if (request.keepDays === 0 && request.keepCount === 0)
        return [];
    if (request.deferRetention && !now)
        return [];
    const plan = planRetention(await edges.files.list(request.directory), {
        prefix: request.prefix,
        keepDays: request.keepDays,
        keepCount: request.keepCount,
        now: request.now,
        protect: name,
    });
    for (const file of plan.remove) {
        await edges.files.remove(external_node_path_.posix.join(request.directory, file));
        edges.log(`Retention: deleted ${file}`);
    }
    return plan.remove;
}
/**
 * The db-restore step that puts this backup back, ready to paste into a workflow. Every key is an input of
 * db-restore's action.yml (a unit test checks each variant); secrets appear as the secret names the reusable
 * workflows use, never as values.
 */
function restoreCommand(result, actionRef, server, bucket) {
    const lines = [`- uses: ${actionRef}`, '  with:', `    backup: ${result.path}`];
    if (result.format === 'json') {
        lines.push('    engine: django', '    django-manage-command: python manage.py');
    }
    else {
        lines.push(`    database-url: \${{ secrets.DATABASE_URL }}`);
    }
    lines.push(`    confirm: ${result.database || '<database name>'}`);
    if (result.encrypted)
        lines.push(`    encryption-passphrase: \${{ secrets.BACKUP_PASSPHRASE }}`);
    // A dump taken over SSH reached a database only that server may reach: the restore goes the same way.
    if (result.location === 'server' || server) {
        if (result.location === 'server')
            lines.push('    storage: server');
        lines.push(`    ssh-host: ${server?.host ?? '<server>'}`);
        if (server && server.port !== 22)
            lines.push(`    ssh-port: ${server.port}`);
        lines.push(`    ssh-user: ${server?.user ?? '<user>'}`, `    ssh-private-key: \${{ secrets.DEPLOY_SSH_KEY }}`, `    ssh-known-hosts: \${{ secrets.SERVER_KNOWN_HOSTS }}`);
    }
    // The bucket is reached as the backup reached it; credentials from the inputs become secret references (never
    // values), credentials from the environment need no input.
    if (result.location === 'bucket' && bucket) {
        lines.push(`    s3-region: ${bucket.region}`);
        if (bucket.endpoint)
            lines.push(`    s3-endpoint: ${bucket.endpoint}`);
        if (bucket.forcePathStyle)
            lines.push('    s3-force-path-style: true');
        if (bucket.credentials) {
            lines.push(`    s3-access-key-id: \${{ secrets.S3_ACCESS_KEY_ID }}`, `    s3-secret-access-key: \${{ secrets.S3_SECRET_ACCESS_KEY }}`);
            if (bucket.credentials.sessionToken)
                lines.push(`    s3-session-token: \${{ secrets.S3_SESSION_TOKEN }}`);
        }
    }
    return lines.join('\n');
}

// EXTERNAL MODULE: external "node:string_decoder"
var external_node_string_decoder_ = __nccwpck_require__(46193);
;// CONCATENATED MODULE: ./actions/db-backup/bucket-backup.ts
// db-backup's bucket place: a dump streamed straight into an S3-compatible bucket (no file of the whole dump on
// the runner), or a verified backup file copied there; then the bucket's own retention.











/** The backup names already in the bucket (the new one must take none of them). */
function namesIn(objects) {
    return objects.map((o) => external_node_path_.posix.basename(o.key));
}
/** What the object carries about itself: enough to know, from the bucket alone, what it is and where it came from. */
function backupMetadata(request, fields) {
    const ascii = (text) => text.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
    const metadata = {
        engine: request.engine,
        format: fields.format,
        'server-version': ascii(fields.serverVersion || 'unknown'),
        commit: ascii(request.sha || 'none'),
        database: ascii(request.database?.database ?? ''),
        'part-size': String(fields.partSize),
    };
    if (fields.sha256)
        metadata.sha256 = fields.sha256;
    return metadata;
}
/**
 * Passes the dump's output on to the upload and reads it on the way (start, end, JSON structure), without ever
 * ending the upload's stream: only the caller ends it, once the dump has exited cleanly and passed its checks, so a
 * dump that dies half-way can never complete the upload.
 */
class DumpTap extends external_node_stream_.Writable {
    body = new external_node_stream_.PassThrough();
    head = Buffer.alloc(0);
    tail = Buffer.alloc(0);
    bytes = 0;
    json;
    decoder = new external_node_string_decoder_.StringDecoder('utf8');
    constructor(format) {
        super();
        if (format === 'json')
            this.json = new JsonStructureCheck();
    }
    _write(chunk, _encoding, callback) {
        this.bytes += chunk.length;
        if (this.head.length < 5)
            this.head = Buffer.concat([this.head, chunk.subarray(0, 5 - this.head.length)]);
        this.tail = Buffer.concat([this.tail, chunk.subarray(Math.max(0, chunk.length - 4096))]);
        if (this.tail.length > 4096)
            this.tail = this.tail.subarray(this.tail.length - 4096);
        this.json?.feed(this.decoder.write(chunk));
        if (this.body.write(chunk))
            callback();
        else
            this.body.once('drain', () => callback());
    }
    _final(callback) {
        callback();
    }
    /** Why the dump is not complete, or undefined. */
    problem(format) {
        const empty = checkSize(this.bytes);
        if (empty)
            return empty;
        if (format === 'custom')
            return isCustomArchive(this.head) ? undefined : 'the output is not a pg_dump custom archive';
        if (format === 'plain' || format === 'mysql')
            return checkSqlMarker(format, this.tail.toString('utf8'));
        this.json.feed(this.decoder.end());
        return this.json.end();
    }
}
/**
 * The bucket is the only place: the dump runs (on the runner or over SSH) and its output is streamed into a
 * multipart upload. The upload completes only after the dump exited 0 with a complete output; the stored object's
 * checksum is then checked, a custom archive's table of contents is read back with pg_restore --list (and with
 * verify: restore the object is restored into a scratch database), and only then is the checksum file written
 * beside it: a backup without its `.sha256` is never taken as good.
 */
async function streamBackupToBucket(request, edges, store, existing) {
    const clock = edges.clock ?? Date.now;
    const started = clock();
    const format = formatOf(request);
    const spec = await planDump(request, edges);
    if (spec.serverVersion)
        edges.log(`Server version ${spec.serverVersion}; dumping with ${spec.client} on ${edges.dumpHost.where}.`);
    const name = freeName(new Set(namesIn(existing)), (sequence) => backupFileName(request.prefix, request.now, request.sha, EXTENSIONS[format], { sequence }));
    const key = (0,object_store/* objectKey */.T5)(store.settings, name);
    const url = (0,object_store/* objectUrl */.bC)(store.settings, name);
    const tap = new DumpTap(format);
    edges.log(`Streaming the dump into ${url}.`);
    const uploading = trackedUpload(edges, key, (started) => store.upload(key, tap.body, backupMetadata(request, { format, serverVersion: spec.serverVersion, partSize: store.settings.partSize }), edges.signal, started));
    let uploadError;
    // A failed upload stops reading: stop the dump too (its pipe would otherwise fill and block it for good).
    uploading.catch((error) => {
        uploadError = error;
        tap.destroy(error);
    });
    let dumpError;
    try {
        const result = await edges.dumpHost.run(spec.command, spec.args, {
            env: spec.env,
            secretEnv: spec.secretEnv,
            cwd: spec.cwd,
            signal: edges.signal,
            stdoutStream: tap,
        });
        if (edges.signal?.aborted)
            dumpError = new errors/* ActionFailure */.dR('The backup was cancelled; the upload was aborted.');
        else if (result.code !== 0)
            dumpError = dumpFailure(request, spec, result);
        else {
            const problem = tap.problem(format);
            if (problem)
                dumpError = new errors/* ActionFailure */.dR(`The backup failed verification: ${problem}; nothing was kept.`);
        }
    }
    catch (error) {
        dumpError = error;
    }
    if (dumpError || uploadError) {
        // Whichever failed first is the story; the dump's "write failed" after a failed upload is only its echo.
        const first = uploadError ?? dumpError;
        // The upload sees the error, aborts the multipart upload and settles; wait for that before reporting.
        tap.body.destroy(first);
        await uploading.catch(() => undefined);
        throw first;
    }
    tap.body.end();
    const dumped = clock();
    const sent = await uploading;
    edges.log(`Dumped and uploaded ${sent.bytes} bytes in ${dumped - started} ms; ${sent.verification}.`);
    const checks = [`${sent.bytes} bytes`, sent.verification];
    try {
        checks.push(...(await verifyObject(format, key, url, request, edges, spec, store)));
        await store.putText(`${key}${object_store/* CHECKSUM_SUFFIX */.qP}`, `${sent.sha256}  ${name}\n`);
    }
    catch (error) {
        await store.remove(key).catch(() => undefined);
        throw error;
    }
    return {
        path: url,
        file: name,
        location: 'bucket',
        where: store.where,
        sizeBytes: sent.bytes,
        sha256: sent.sha256,
        format,
        encrypted: false,
        serverVersion: spec.serverVersion,
        client: spec.client,
        durationMs: clock() - started,
        verification: checks.join('; '),
        deleted: [],
        database: request.database?.database ?? '',
    };
}
/** Tells the edges about the multipart upload while it is in progress (a killed run's post step aborts it). */
async function trackedUpload(edges, key, upload) {
    let started = false;
    try {
        return await upload((uploadId) => {
            started = true;
            edges.trackUpload?.({ key, uploadId });
        });
    }
    finally {
        if (started)
            edges.trackUpload?.(undefined);
    }
}
function dumpFailure(request, spec, result) {
    if (request.database &&
        /password authentication failed|Access denied|could not connect|Connection refused|timeout expired/i.test(result.stderrTail))
        return connectionFailure(request.database, result, spec.command);
    return new errors/* ActionFailure */.dR(`The dump failed: ${process_describeExit(external_node_path_.posix.basename(spec.command), result)}; the upload was aborted.`);
}
/** Checks made on what the bucket holds: a custom archive's table of contents, and the test restore when asked. */
async function verifyObject(format, key, url, request, edges, spec, store) {
    const checks = [];
    const fail = (reason) => new errors/* ActionFailure */.dR(`The backup in ${url} failed verification: ${reason}; it was deleted.`);
    if (format === 'custom') {
        const clients = await postgresClientsOn(edges.storeHost, request.postgresClientRoot);
        const client = choosePostgresClient(spec.serverVersion, clients, edges.storeHost.where);
        // pg_restore reads the table of contents at the start of the archive and stops: the rest is not downloaded.
        const abort = new AbortController();
        const stream = await store.download(key, abort.signal);
        stream.on('error', () => undefined);
        const list = await edges.storeHost.run(tool(client, 'pg_restore'), ['--list'], { stdin: stream });
        abort.abort();
        stream.destroy();
        const reason = checkArchiveListing(list.code, list.stdout, list.stderrTail);
        if (reason)
            throw fail(reason);
        checks.push(`pg_restore --list read ${list.stdout.split('\n').filter((l) => /^\d+;/.test(l)).length} entries`);
    }
    else {
        checks.push(format === 'json' ? 'JSON structure complete' : 'completion marker present');
    }
    if (request.verify === 'restore') {
        checks.push(await testRestore(format, url, request, edges, spec, () => store.download(key)));
    }
    return checks;
}
/**
 * Copies a verified backup file (on the runner, or read over SSH from the server) into the bucket, with its
 * SHA-256 in the object's metadata; the hash of what was sent must equal the file's, and the stored object's
 * checksum must equal what was sent.
 */
async function copyBackupToBucket(backup, request, edges, store) {
    const key = (0,object_store/* objectKey */.T5)(store.settings, backup.file);
    const url = (0,object_store/* objectUrl */.bC)(store.settings, backup.file);
    const metadata = backupMetadata(request, {
        format: backup.format,
        serverVersion: backup.serverVersion,
        sha256: backup.sha256,
        partSize: store.settings.partSize,
    });
    let body;
    let reading = Promise.resolve();
    if (backup.location === 'server') {
        const pipe = new external_node_stream_.PassThrough();
        reading = edges.storeHost.run('cat', ['--', backup.path], { stdoutStream: pipe, signal: edges.signal }).then((result) => {
            if (result.code !== 0)
                pipe.destroy(new errors/* ActionFailure */.dR(`Reading ${backup.path}: ${process_describeExit('cat', result)}`));
        }, (error) => pipe.destroy(error));
        body = pipe;
    }
    else {
        body = (0,external_node_fs_.createReadStream)(backup.path);
    }
    edges.log(`Copying ${backup.path} to ${url}.`);
    const sent = await trackedUpload(edges, key, (started) => store.upload(key, body, metadata, edges.signal, started));
    await reading;
    if (sent.sha256 !== backup.sha256 || sent.bytes !== backup.sizeBytes) {
        await store.remove(key).catch(() => undefined);
        throw new errors/* ActionFailure */.dR(`The copy sent to ${url} (${sent.bytes} bytes, sha256 ${sent.sha256}) is not the verified backup (${backup.sizeBytes} bytes, sha256 ${backup.sha256}); it was deleted.`);
    }
    await store.putText(`${key}${object_store/* CHECKSUM_SUFFIX */.qP}`, `${sent.sha256}  ${backup.file}\n`);
    return { url, key, sizeBytes: sent.bytes, sha256: sent.sha256, verification: sent.verification, deleted: [] };
}
/**
 * Retention in the bucket, by the time in the names (as on disk), once the new backup is verified there: the
 * backup just made is never a candidate. Each deleted backup takes its checksum file with it.
 */
async function applyBucketRetention(request, name, store, log) {
    if (request.keepDays === 0 && request.keepCount === 0)
        return [];
    const names = namesIn(await store.list());
    const plan = planRetention(names, { ...request, protect: name });
    for (const file of plan.remove) {
        await store.remove((0,object_store/* objectKey */.T5)(store.settings, file));
        if (names.includes(`${file}${object_store/* CHECKSUM_SUFFIX */.qP}`))
            await store.remove((0,object_store/* objectKey */.T5)(store.settings, `${file}${object_store/* CHECKSUM_SUFFIX */.qP}`));
        log(`Retention: deleted ${(0,object_store/* objectUrl */.bC)(store.settings, file)}`);
    }
    return plan.remove;
}

// EXTERNAL MODULE: ./actions/shared/inputs.ts
var shared_inputs = __nccwpck_require__(97073);
;// CONCATENATED MODULE: ./actions/db-backup/inputs.ts







function readConnectionInputs(read, setSecret, workspace) {
    const engineInput = read.oneOf('engine', ['auto', 'postgresql', 'mysql', 'django'], 'auto');
    const url = read.optionalString('database-url');
    let database;
    if (url) {
        database = (0,database_url/* parseDatabaseUrl */.mx)(url, 'database-url', setSecret);
    }
    else if (read.optionalString('db-name')) {
        const engine = engineInput === 'postgresql' || engineInput === 'mysql' ? engineInput : undefined;
        if (!engine) {
            throw new errors/* ConfigurationError */.j1(`Input 'engine' must be postgresql or mysql when the database is given by 'db-name' (no URL to infer it from).`);
        }
        database = (0,database_url/* databaseFromSettings */.N0)({
            engine,
            name: read.string('db-name'),
            user: read.string('db-user'),
            password: read.string('db-password'),
            host: read.string('db-host'),
            port: read.optionalString('db-port') === undefined ? undefined : read.integer('db-port', { min: 1, max: 65535 }),
        }, setSecret);
    }
    const engine = engineInput === 'auto' ? (database?.engine ?? 'django') : engineInput;
    if (engine !== 'django' && !database) {
        throw new errors/* ConfigurationError */.j1(`Input 'database-url' (or 'db-name' with 'db-user', 'db-password', 'db-host') is required for engine ${engine}.`);
    }
    if (engine !== 'django' && database && database.engine !== engine) {
        throw new errors/* ConfigurationError */.j1(`Input 'engine' is ${engine} but 'database-url' is a ${database.engine} URL.`);
    }
    let django;
    if (engine === 'django') {
        const manageCommand = read.optionalString('django-manage-command');
        if (!manageCommand) {
            throw new errors/* ConfigurationError */.j1(`Input 'django-manage-command' is required for engine django (e.g. 'python manage.py'); without a database-url or db-name there is nothing else to back up.`);
        }
        django = { manageCommand, workingDirectory: read.string('working-directory') || workspace };
    }
    return {
        engine,
        database,
        databaseUrl: url,
        django,
        ssh: readSsh(read, setSecret),
        postgresClientRoot: read.string('postgres-client-root') || '/usr/lib/postgresql',
    };
}
function readSsh(read, setSecret) {
    const host = read.optionalString('ssh-host');
    if (!host)
        return undefined;
    const privateKey = read.string('ssh-private-key');
    if (privateKey) {
        setSecret(privateKey);
        for (const line of privateKey.split(/\r?\n/))
            if (line.trim().length > 20 && !line.includes('PRIVATE KEY'))
                setSecret(line.trim());
    }
    return {
        host,
        port: read.integer('ssh-port', { min: 1, max: 65535, fallback: 22 }),
        user: read.string('ssh-user', { required: true }),
        privateKey,
        knownHosts: read.optionalString('ssh-known-hosts'),
        hostFingerprint: read.optionalString('ssh-host-fingerprint'),
        acceptNew: read.boolean('ssh-accept-new-host-key', false),
    };
}
/** `storage`: one place or two, comma-separated (runner or server, and/or bucket). */
function readStoragePlaces(read) {
    const words = read
        .string('storage')
        .split(/[\s,]+/)
        .filter((w) => w !== '');
    if (words.length === 0)
        return { file: 'runner', bucket: false };
    const bad = words.find((w) => !['runner', 'server', 'bucket'].includes(w));
    if (bad !== undefined ||
        new Set(words).size !== words.length ||
        (words.includes('runner') && words.includes('server')))
        throw new errors/* ConfigurationError */.j1(`Input 'storage' must be runner, server or bucket, or bucket with one of the other two (e.g. 'server, bucket'); got '${read.string('storage')}'.`);
    return {
        file: words.find((w) => w === 'runner' || w === 'server'),
        bucket: words.includes('bucket'),
    };
}
function readBackupInputs(source, setSecret, workspace, env = {}) {
    const read = new shared_inputs/* InputReader */.i_(source);
    const connection = readConnectionInputs(read, setSecret, workspace);
    const places = readStoragePlaces(read);
    const storage = places.file ?? 'runner';
    const bucketInput = read.optionalString('bucket');
    if (places.bucket !== Boolean(bucketInput)) {
        throw new errors/* ConfigurationError */.j1(places.bucket
            ? `Input 'storage' includes bucket, which needs 'bucket' (an s3://bucket/prefix location).`
            : `Input 'bucket' is set but 'storage' does not include bucket; use e.g. 'storage: bucket' or 'storage: runner, bucket'.`);
    }
    const bucket = bucketInput
        ? (0,object_store/* readBucketSettings */.qT)(read, { ...(0,object_store/* parseS3Location */.TL)(bucketInput, 'bucket'), input: 'bucket' }, setSecret, env)
        : undefined;
    if (storage === 'server' && !connection.ssh) {
        throw new errors/* ConfigurationError */.j1(`Input 'storage' is server, which needs 'ssh-host' (the backup is kept on that server).`);
    }
    const dirInput = read.string('directory') || 'backups';
    // On the server a relative directory is relative to the SSH user's home, where remote commands start.
    const directory = storage === 'server' || (0,external_node_path_.isAbsolute)(dirInput) ? dirInput : (0,external_node_path_.resolve)(workspace, dirInput);
    const passphrase = read.optionalString('encryption-passphrase');
    if (passphrase) {
        setSecret(passphrase);
        if (passphrase.length < 12)
            throw new errors/* ConfigurationError */.j1(`Input 'encryption-passphrase' must be at least 12 characters long.`);
    }
    if (!places.file && passphrase) {
        throw new errors/* ConfigurationError */.j1(`Input 'encryption-passphrase' needs a file to encrypt, but 'storage' is bucket only; use 'storage: runner, bucket' (the encrypted file is uploaded) or the bucket's own 's3-server-side-encryption'.`);
    }
    const verify = read.oneOf('verify', ['archive', 'restore'], 'archive');
    if (verify === 'restore' && connection.engine === 'django') {
        throw new errors/* ConfigurationError */.j1(`Input 'verify' cannot be restore for engine django (loaddata into a scratch database needs a second Django settings); use archive.`);
    }
    const format = read.oneOf('format', ['custom', 'plain'], 'custom');
    const inputs = {
        ...connection,
        format,
        directory,
        storage,
        keepFile: places.file !== undefined,
        bucket,
        prefix: sanitizePrefix(read.string('prefix') || connection.database?.database || 'django'),
        sha: read.string('sha'),
        keepDays: read.integer('keep-days', { min: 0, fallback: 14 }),
        keepCount: read.integer('keep-count', { min: 0, fallback: 0 }),
        verify,
        passphrase,
        artifact: readArtifactRequest(read),
    };
    if (!places.file && inputs.artifact) {
        throw new errors/* ConfigurationError */.j1(`Input 'upload-artifact' needs the backup file on the runner, but 'storage' is bucket only; use 'storage: runner, bucket'.`);
    }
    return inputs;
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
        if (!existsSync(path))
            continue;
        const kind = statSync(path).isDirectory() ? 'folder' : 'file';
        rmSync(path, { recursive: true, force: true });
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
        partSize: DEFAULT_PART_MB * 1024 * 1024,
    };
    const url = objectUrl(settings, upload.key);
    // The id is the server's text (CreateMultipartUpload's answer): printed only neutralised.
    const id = untrustedText(upload.uploadId);
    const store = await openObjectStore(settings);
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
    getState: core.getState,
    info: core.info,
    warning: core.warning,
    runner: runProcess,
    getInput: (name) => core.getInput(name),
    setSecret: core.setSecret,
}) => runPost(() => cleanupPost(io), io.warning);

;// CONCATENATED MODULE: ./actions/db-backup/places.ts








class LocalHost {
    runner;
    where = 'the runner';
    remote = false;
    constructor(runner = process_runProcess) {
        this.runner = runner;
    }
    run(command, args, options = {}) {
        return this.runner(command, args, {
            env: { ...options.env, ...options.secretEnv },
            cwd: options.cwd,
            stdoutFile: options.stdoutFile ?? options.stdoutOnHost,
            stdoutStream: options.stdoutStream,
            stdin: options.stdin ?? (options.stdinOnHost ? (0,external_node_fs_.createReadStream)(options.stdinOnHost) : undefined),
            sha256: options.sha256,
            signal: options.signal,
        });
    }
    sh(script, options = {}) {
        return this.run('sh', ['-c', script], options);
    }
}
class SshHost {
    ssh;
    remote = true;
    where;
    constructor(ssh) {
        this.ssh = ssh;
        this.where = `${ssh.settings.user}@${ssh.settings.host}`;
    }
    run(command, args, options = {}) {
        return this.sh(`exec ${[command, ...args].map(ssh_shellQuote).join(' ')}`, options);
    }
    sh(script, options = {}) {
        const exports = Object.entries(options.env ?? {})
            .map(([k, v]) => `export ${k}=${ssh_shellQuote(v)}`)
            .join('\n');
        const cd = options.cwd ? `cd ${ssh_shellQuote(options.cwd)}\n` : '';
        let body = script;
        if (options.stdoutOnHost || options.stdinOnHost) {
            // Redirections apply to the whole script.
            const out = options.stdoutOnHost ? ` > ${ssh_shellQuote(options.stdoutOnHost)}` : '';
            const inp = options.stdinOnHost ? ` < ${ssh_shellQuote(options.stdinOnHost)}` : '';
            body = `{\n${script.replace(/^exec /, '')}\n}${out}${inp}`;
        }
        // Every file a dump tool, openssl or a redirection creates on the server is private to its user (a backup
        // holds the whole database, whatever the server's default umask).
        return this.ssh.exec({
            script: `umask 077\n${cd}${exports}\n${body}`,
            secrets: options.secretEnv,
            stdin: options.stdin,
            stdoutFile: options.stdoutFile,
            stdoutStream: options.stdoutStream,
            sha256: options.sha256,
            signal: options.signal,
        });
    }
}
class LocalFiles {
    where = 'the runner';
    remote = false;
    async prepareDirectory(dir, input) {
        try {
            await makeDirectories(dir);
            await (0,promises_.access)(dir, external_node_fs_.constants.W_OK);
            // access() says yes to root everywhere; a real probe file also catches read-only mounts.
            const probe = (0,external_node_path_.join)(dir, `.runbook-write-test-${process.pid}`);
            await (0,promises_.writeFile)(probe, '', { mode: 0o600 });
            await (0,promises_.unlink)(probe);
        }
        catch (error) {
            const code = error.code ?? 'error';
            throw new errors/* ConfigurationError */.j1(`Input '${input}': cannot write backups to '${(0,untrusted_text/* excerpt */.Kb)(dir)}' on the runner (${code}).`);
        }
    }
    async list(dir) {
        return (await (0,promises_.readdir)(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
    }
    async size(path) {
        return (await (0,promises_.stat)(path)).size;
    }
    sha256(path) {
        return sha256File(path);
    }
    async head(path, bytes) {
        const handle = await (0,promises_.open)(path, 'r');
        try {
            const buffer = Buffer.alloc(bytes);
            const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
            return buffer.subarray(0, bytesRead);
        }
        finally {
            await handle.close();
        }
    }
    async tail(path, bytes) {
        const handle = await (0,promises_.open)(path, 'r');
        try {
            const { size } = await handle.stat();
            const length = Math.min(bytes, size);
            const buffer = Buffer.alloc(length);
            await handle.read(buffer, 0, length, size - length);
            return buffer.toString('utf8');
        }
        finally {
            await handle.close();
        }
    }
    rename(from, to) {
        return (0,promises_.rename)(from, to);
    }
    remove(path) {
        return (0,promises_.rm)(path, { force: true });
    }
    async createPrivate(path) {
        // A file left by an earlier run keeps its mode through open(); fchmod on the handle, not the path, so a cancel
        // that removes the partial meanwhile cannot turn into an ENOENT error.
        const handle = await (0,promises_.open)(path, 'w', 0o600);
        try {
            await handle.chmod(0o600);
        }
        finally {
            await handle.close();
        }
    }
    async exists(path) {
        return (0,promises_.stat)(path).then(() => true, () => false);
    }
    async checkJson(path) {
        const check = new JsonStructureCheck();
        for await (const chunk of (0,external_node_fs_.createReadStream)(path, { encoding: 'utf8' }))
            check.feed(chunk);
        const structural = check.end();
        if (structural)
            return structural;
        // Small enough to parse outright: catches what a bracket count cannot (a bad literal, a stray comma).
        if ((await this.size(path)) <= 64 * 1024 * 1024) {
            const { readFile } = await Promise.resolve(/* import() */).then(__nccwpck_require__.t.bind(__nccwpck_require__, 51455, 23));
            try {
                JSON.parse(await readFile(path, 'utf8'));
            }
            catch (error) {
                return `invalid JSON: ${error.message}`;
            }
        }
        return undefined;
    }
}
/**
 * mkdir -p, one level at a time: Node's recursive mkdir can spin forever on pseudo file systems such as /proc,
 * where it gets ENOENT for a directory it cannot create.
 */
async function makeDirectories(dir) {
    const parts = (0,external_node_path_.resolve)(dir).split('/').filter(Boolean);
    let path = '';
    for (const part of parts) {
        path += `/${part}`;
        try {
            await (0,promises_.mkdir)(path, { mode: 0o700 });
            // Backups hold the whole database: a folder made for them is the owner's only, whatever the umask.
            await (0,promises_.chmod)(path, 0o700);
        }
        catch (error) {
            if (error.code !== 'EEXIST')
                throw error;
        }
    }
}
/** Backup files kept on the server, handled with POSIX tools over the SSH connection. */
class RemoteFiles {
    host;
    remote = true;
    where;
    constructor(host) {
        this.host = host;
        this.where = host.where;
    }
    async out(script, what) {
        const result = await this.host.sh(script);
        if (result.code !== 0)
            throw new errors/* ActionFailure */.dR(`${what} on ${this.where} failed: ${result.stderrTail.trim()}`);
        return result.stdout;
    }
    async prepareDirectory(dir, input) {
        const q = ssh_shellQuote(dir);
        const result = await this.host.sh(`mkdir -p ${q} && probe=${q}/.runbook-write-test-$$ && : > "$probe" && rm -f "$probe"`);
        if (result.code !== 0) {
            throw new errors/* ConfigurationError */.j1(`Input '${input}': cannot write backups to '${(0,untrusted_text/* excerpt */.Kb)(dir)}' on ${this.where} (${result.stderrTail.trim()}).`);
        }
    }
    /**
     * A folder that does not exist holds no backup yet; one that exists but cannot be opened (permission denied, not a
     * folder), or lies under a folder that cannot be searched, is an error naming it.
     */
    async list(dir) {
        const d = ssh_shellQuote(dir);
        const text = await this.out([
            `if cd ${d} 2>/dev/null; then for f in *; do if [ -f "$f" ]; then printf '%s\\n' "$f"; fi; done; exit 0; fi`,
            `p=${d}; while [ ! -e "$p" ] && [ ! -L "$p" ]; do p=$(dirname "$p"); done`,
            `if [ "$p" = ${d} ] || [ ! -d "$p" ] || [ ! -x "$p" ]; then cd ${d} || exit 1; exit 1; fi`,
        ].join('\n'), 'listing backups');
        return text.split('\n').filter((l) => l !== '');
    }
    async size(path) {
        return Number((await this.out(`wc -c < ${ssh_shellQuote(path)}`, 'reading the backup size')).trim());
    }
    async sha256(path) {
        return (await this.out(`sha256sum ${ssh_shellQuote(path)}`, 'hashing the backup')).trim().split(/\s+/)[0];
    }
    async head(path, bytes) {
        const text = await this.out(`head -c ${bytes} ${ssh_shellQuote(path)} | od -An -v -tx1`, 'reading the backup');
        return Buffer.from(text.replace(/\s+/g, ''), 'hex');
    }
    async tail(path, bytes) {
        return this.out(`tail -c ${bytes} ${ssh_shellQuote(path)}`, 'reading the backup');
    }
    async rename(from, to) {
        await this.out(`mv -f ${ssh_shellQuote(from)} ${ssh_shellQuote(to)}`, 'renaming the backup');
    }
    async remove(path) {
        await this.out(`rm -f ${ssh_shellQuote(path)}`, 'removing a file');
    }
    async exists(path) {
        return (await this.host.sh(`[ -e ${ssh_shellQuote(path)} ]`)).code === 0;
    }
    async checkJson(path) {
        const result = await this.host.sh(`python3 -c 'import json,sys; json.load(open(sys.argv[1], encoding="utf-8"))' ${ssh_shellQuote(path)}`);
        return result.code === 0 ? undefined : `invalid JSON: ${result.stderrTail.trim().split('\n').at(-1)}`;
    }
}

;// CONCATENATED MODULE: ./actions/db-backup/action-io.ts
// The runner-facing edges of db-backup, shared with db-restore and deploy. Kept apart from main.ts so that their
// bundles do not pull in main's lazily loaded artifact client.





const runnerIO = () => ({
    inputs: shared_inputs/* environmentInputs */.rg,
    setSecret: setSecret,
    setOutput: setOutput,
    info: info,
    warning: warning,
    writeSummary: async (markdown) => {
        await summary.addRaw(markdown, true).write();
    },
    runner: process_runProcess,
    saveState: saveState,
    now: () => new Date(),
    env: process.env,
    onCancel: (handler) => {
        const listener = () => handler();
        process.on('SIGINT', listener);
        process.on('SIGTERM', listener);
        return () => {
            process.off('SIGINT', listener);
            process.off('SIGTERM', listener);
        };
    },
});
/** Opens where the dump runs and where the file goes: the runner, or a server over SSH (streamed back or kept). */
async function openPlaces(inputs, io) {
    const local = new LocalHost(io.runner);
    if (!inputs.ssh)
        return { dumpHost: local, storeHost: local, files: new LocalFiles(), close: async () => undefined };
    const ssh = await ssh_SshConnection.open(inputs.ssh, io.runner);
    io.cleanup?.sshOpened(ssh.leftover());
    io.info(`Connected to ${inputs.ssh.user}@${inputs.ssh.host}:${inputs.ssh.port} (host key ${ssh.hostKeyPolicy}).`);
    const remote = new SshHost(ssh);
    const server = inputs.storage === 'server';
    return {
        dumpHost: remote,
        storeHost: server ? remote : local,
        files: server ? new RemoteFiles(remote) : new LocalFiles(),
        close: () => ssh.close(),
        hostKeyPolicy: ssh.hostKeyPolicy,
    };
}
function actionRef(env, name) {
    // Unset when the action runs from a local path (the demo): the README's placeholder, not a made-up owner.
    const repo = env.GITHUB_ACTION_REPOSITORY || '<owner>/runbook';
    const ref = env.GITHUB_ACTION_REF || 'v1';
    return `${repo}/actions/${name}@${ref}`;
}

;// CONCATENATED MODULE: ./actions/db-backup/main.ts













async function backupMain(io) {
    const workspace = io.env.GITHUB_WORKSPACE || process.cwd();
    const inputs = readBackupInputs(io.inputs, io.setSecret, workspace, io.env);
    checkArtifactAllowed(inputs.artifact, {
        visibility: repositoryVisibility(io.env.GITHUB_EVENT_PATH),
        encrypted: Boolean(inputs.passphrase),
        storage: inputs.storage,
        env: io.env,
    });
    if (inputs.artifact && io.env.ACTIONS_RUNTIME_TOKEN)
        io.setSecret(io.env.ACTIONS_RUNTIME_TOKEN);
    if (inputs.database)
        io.info(`Backing up ${(0,database_url/* describeDatabase */.DZ)(inputs.database)}`);
    // The bucket is checked (reachable, credentials, bucket exists, listable) before anything is dumped or deleted.
    let store;
    let inBucket = [];
    if (inputs.bucket) {
        store = await (0,object_store/* openObjectStore */.$O)(inputs.bucket);
        inBucket = await store.list();
        io.info(`Bucket ${store.where} is reachable (${inBucket.length} ${inBucket.length === 1 ? 'object' : 'objects'} under the prefix).`);
    }
    // A killed step runs no finally: its post step closes the SSH master and removes the key and partial files.
    const cleanup = new PostCleanup(io.saveState);
    const places = await openPlaces(inputs, { ...io, cleanup });
    // Every partial file the backup has made (the plain dump and, when encrypting, the encrypted one at once).
    const partials = new Set();
    const cancel = new AbortController();
    let deadline;
    const unregister = io.onCancel(() => {
        io.warning('Cancelled: stopping the dump and removing the partial file.');
        cancel.abort();
        killRunningProcesses('SIGTERM');
        if (!places.files.remote)
            for (const path of partials)
                (0,external_node_fs_.rmSync)(path, { force: true });
        // The flow normally unwinds once its child is gone; if something is stuck, do not outlive the cancellation.
        deadline = setTimeout(() => process.exit(1), 5000);
        deadline.unref();
    });
    try {
        if (inputs.keepFile)
            await places.files.prepareDirectory(inputs.directory, 'directory');
        const request = {
            engine: inputs.engine,
            database: inputs.database,
            postgresFormat: inputs.format,
            directory: inputs.directory,
            prefix: inputs.prefix,
            sha: inputs.sha,
            now: io.now(),
            keepDays: inputs.keepDays,
            keepCount: inputs.keepCount,
            verify: inputs.verify,
            passphrase: inputs.passphrase,
            django: inputs.django && { ...inputs.django, databaseUrl: inputs.databaseUrl },
            postgresClientRoot: inputs.postgresClientRoot,
            takenNames: namesIn(inBucket),
            // With a second place, nothing is deleted anywhere until both hold a verified copy.
            deferRetention: store !== undefined,
        };
        const edges = {
            dumpHost: places.dumpHost,
            storeHost: places.storeHost,
            files: places.files,
            log: io.info,
            warn: io.warning,
            trackPartial: (path) => {
                if (path === undefined)
                    partials.clear();
                else
                    partials.add(path);
                if (places.files.remote)
                    cleanup.serverPartial(path);
                else
                    cleanup.partial(path);
            },
            trackUpload: (upload) => {
                if (upload && store)
                    io.info(`Multipart upload ${(0,untrusted_text/* untrustedText */.Ui)(upload.uploadId)} created for ${(0,object_store/* objectUrl */.bC)({ bucket: store.settings.bucket, prefix: upload.key })}; if this step is killed, its post step aborts it.`);
                cleanup.uploading(upload && store && uploadLeftover(store.settings, upload));
            },
            signal: cancel.signal,
        };
        let result;
        let copy;
        if (!store) {
            result = await takeBackup(request, edges);
        }
        else if (!inputs.keepFile) {
            result = await streamBackupToBucket(request, edges, store, inBucket);
        }
        else {
            result = await takeBackup(request, edges);
            try {
                copy = await copyBackupToBucket(result, request, edges, store);
            }
            catch (error) {
                throw new errors/* ActionFailure */.dR(`The backup ${result.path} on ${result.where} is verified and kept, but the copy to ${store.where} failed: ${error.message} Nothing was deleted by retention.`);
            }
            io.info(`Copied to ${copy.url}: ${copy.verification}.`);
            io.setOutput('bucket-url', copy.url);
            result.deleted = await applyRetention(request, result.file, edges, true);
        }
        if (store) {
            const deleted = await applyBucketRetention(request, result.file, store, io.info);
            if (copy)
                copy.deleted = deleted;
            else
                result.deleted = deleted;
            if (!copy)
                io.setOutput('bucket-url', result.path);
        }
        const command = restoreCommand(result, actionRef(io.env, 'db-restore'), inputs.ssh, store?.settings);
        const outputs = {
            path: result.path,
            'size-bytes': String(result.sizeBytes),
            sha256: result.sha256,
            format: result.format,
            'server-version': result.serverVersion,
            'duration-ms': String(result.durationMs),
            'restore-command': command,
        };
        for (const [name, value] of Object.entries(outputs))
            io.setOutput(name, value);
        io.info(`Backup ${result.path} (${result.sizeBytes} bytes, sha256 ${result.sha256}) verified: ${result.verification}.`);
        const extraRows = [];
        if (copy)
            extraRows.push(...bucketRows(copy));
        if (inputs.artifact) {
            // Loaded only when asked: the client is most of the bundle, and db-restore and deploy import this module.
            const uploader = io.artifacts ?? (await Promise.all(/* import() */[__nccwpck_require__.e(291), __nccwpck_require__.e(600)]).then(__nccwpck_require__.bind(__nccwpck_require__, 99600))).sdkUploader();
            const artifact = await uploadBackup(inputs.artifact, result, uploader);
            io.setOutput('artifact-id', String(artifact.id));
            io.info(`Uploaded ${result.path} as artifact ${artifact.name} (id ${artifact.id}).`);
            extraRows.push(artifactSummaryRow(artifact, io.env));
        }
        await io.writeSummary(backupSummary(result, inputs.sha, command, places.hostKeyPolicy, extraRows));
    }
    finally {
        clearTimeout(deadline);
        unregister();
        await places.close();
    }
}
function bucketRows(copy) {
    return [
        ['Bucket copy', `\`${copy.url}\` (${copy.sizeBytes} bytes, same SHA-256), ${copy.verification}`],
        [
            'Retention (bucket)',
            copy.deleted.length ? `deleted ${copy.deleted.map((f) => `\`${f}\``).join(', ')}` : 'nothing to delete',
        ],
    ];
}
function backupSummary(result, sha, command, hostKeyPolicy, extraRows = []) {
    const rows = [
        ['File', `\`${result.path}\` (on ${result.where})`],
        ['Protects commit', sha ? `\`${sha.slice(0, 12)}\`` : '(none given)'],
        ['Format', `${result.format}${result.encrypted ? ', encrypted (AES-256-CBC, PBKDF2)' : ''}`],
        ['Size', `${result.sizeBytes} bytes`],
        ['SHA-256', `\`${result.sha256}\``],
        ['Server version', result.serverVersion || '(not read)'],
        ['Client', result.client],
        ['Verification', result.verification],
        ['Duration', `${result.durationMs} ms`],
        [
            'Retention',
            result.deleted.length ? `deleted ${result.deleted.map((f) => `\`${f}\``).join(', ')}` : 'nothing to delete',
        ],
    ];
    if (hostKeyPolicy)
        rows.push(['SSH host key', hostKeyPolicy]);
    rows.push(...extraRows);
    return [
        '## Database backup',
        '',
        '| | |',
        '| --- | --- |',
        ...rows.map(([k, v]) => `| ${k} | ${v.replace(/\|/g, '\\|')} |`),
        '',
        '<details><summary>Restore this backup</summary>',
        '',
        '```yaml',
        command,
        '```',
        '',
        '</details>',
        '',
    ].join('\n');
}
const run = (io = runnerIO()) => runAction(() => backupMain(io));

;// CONCATENATED MODULE: ./actions/db-backup/index.ts

void run();

