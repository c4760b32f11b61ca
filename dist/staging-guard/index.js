import { createRequire as __WEBPACK_EXTERNAL_createRequire } from "module";
/******/ var __webpack_modules__ = ({

/***/ 1296:
/***/ ((module, __unused_webpack___webpack_exports__, __nccwpck_require__) => {

__nccwpck_require__.a(module, async (__webpack_handle_async_dependencies__, __webpack_async_result__) => { try {
/* harmony import */ var _main_js__WEBPACK_IMPORTED_MODULE_0__ = __nccwpck_require__(3838);

await (0,_main_js__WEBPACK_IMPORTED_MODULE_0__/* .run */ .eF)();

__webpack_async_result__();
} catch(e) { __webpack_async_result__(e); } }, 1);

/***/ }),

/***/ 3838:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {


// EXPORTS
__nccwpck_require__.d(__webpack_exports__, {
  eF: () => (/* binding */ run)
});

// UNUSED EXPORTS: coreRunner, defaultEdges, guard

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __nccwpck_require__(7598);
;// CONCATENATED MODULE: external "node:fs"
const external_node_fs_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs");
;// CONCATENATED MODULE: external "node:fs/promises"
const promises_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs/promises");
;// CONCATENATED MODULE: external "node:os"
const external_node_os_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:os");
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
    process.stdout.write(`::${name}${props ? ` ${props}` : ''}::${escapeData(message)}${external_node_os_namespaceObject.EOL}`);
}
/** A value in GITHUB_OUTPUT/GITHUB_STATE, fenced by a random delimiter so a multi-line value cannot forge another. */
function issueFileCommand(file, name, value) {
    const path = process.env[`GITHUB_${file}`] ?? '';
    if (!(0,external_node_fs_namespaceObject.existsSync)(path))
        throw new Error(`Missing file at path: ${path}`);
    const delimiter = `ghadelimiter_${(0,external_node_crypto_.randomUUID)()}`;
    const text = commandValue(value);
    if (name.includes(delimiter) || text.includes(delimiter)) {
        throw new Error(`Unexpected input: the value contains the delimiter "${delimiter}"`);
    }
    (0,external_node_fs_namespaceObject.appendFileSync)(path, `${name}<<${delimiter}${external_node_os_namespaceObject.EOL}${text}${external_node_os_namespaceObject.EOL}${delimiter}${external_node_os_namespaceObject.EOL}`, { encoding: 'utf8' });
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
    process.stdout.write(message + external_node_os_namespaceObject.EOL);
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
    process.stdout.write(external_node_os_namespaceObject.EOL);
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
        this.buffer += text + (addEOL ? external_node_os_namespaceObject.EOL : '');
        return this;
    }
    async write() {
        const path = process.env.GITHUB_STEP_SUMMARY;
        if (!path)
            throw new Error('Unable to find environment variable for $GITHUB_STEP_SUMMARY.');
        try {
            await (0,promises_namespaceObject.access)(path, promises_namespaceObject.constants.R_OK | promises_namespaceObject.constants.W_OK);
        }
        catch {
            throw new Error(`Unable to access summary file: '${path}'. Check if the file has correct read/write permissions.`);
        }
        await (0,promises_namespaceObject.appendFile)(path, this.buffer, { encoding: 'utf8' });
        this.buffer = '';
        return this;
    }
}
const summary = new Summary();

;// CONCATENATED MODULE: external "node:timers/promises"
const external_node_timers_promises_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:timers/promises");
;// CONCATENATED MODULE: ./actions/shared/errors.ts
/**
 * A mistake in what the user gave the action. Its message is shown as is, without a stack trace, and names
 * the input, the value it got (never a secret's) and what the input accepts.
 */
class errors_ConfigurationError extends Error {
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
function errors_errorMessage(error) {
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

;// CONCATENATED MODULE: ./actions/shared/untrusted-text.ts
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
function untrusted_text_excerpt(value) {
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
function redactDatabaseUrl(text) {
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
        throw new ConfigurationError(`Input '${inputName}' must be a database URL such as postgres://user:password@host:5432/name (${accepted}); got '${excerpt(redactDatabaseUrl(text))}'.`);
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
        throw new ConfigurationError(`Input '${inputName}' must name the database in its path (…/name); got '${excerpt(redactDatabaseUrl(text))}'.`);
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
            throw new errors_ConfigurationError(`Input '${name}' is required.`);
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
        throw new errors_ConfigurationError(`Input '${name}' must be true or false; got '${untrusted_text_excerpt(value)}'.`);
    }
    integer(name, range = {}) {
        const value = this.raw(name);
        if (value === '' && range.fallback !== undefined)
            return range.fallback;
        if (!/^[+-]?\d+$/.test(value))
            throw new errors_ConfigurationError(`Input '${name}' must be a whole number${describeRange(range)}; got '${untrusted_text_excerpt(value)}'.`);
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
            throw new errors_ConfigurationError(`Input '${name}' must be a number${describeRange(range)}; got '${untrusted_text_excerpt(value)}'.`);
        }
        checkRange(name, n, range);
        return n;
    }
    oneOf(name, allowed, fallback) {
        const value = this.raw(name);
        if (value === '' && fallback !== undefined)
            return fallback;
        if (!allowed.includes(value)) {
            throw new errors_ConfigurationError(`Input '${name}' must be one of ${allowed.join(', ')}; got '${untrusted_text_excerpt(value)}'.`);
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
            throw new errors_ConfigurationError(`Input '${name}' must be a duration above zero such as 500ms, 30s, 5m or 1h (a bare number is seconds); got '${untrusted_text_excerpt(value)}'.`);
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
                throw new errors_ConfigurationError(`Input '${name}' is required.`);
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
        throw new errors_ConfigurationError(`Input '${name}' must be an absolute URL with a scheme (${protocols.map((p) => p.replace(':', '://')).join(' or ')}); got '${untrusted_text_excerpt(redactUrlText(value))}'.`);
    }
    if (!protocols.includes(url.protocol)) {
        throw new errors_ConfigurationError(`Input '${name}' must use ${protocols.map((p) => p.replace(':', '')).join(' or ')}; got '${untrusted_text_excerpt(url.protocol.replace(':', ''))}' in '${untrusted_text_excerpt(redactUrl(url))}'.`);
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
function redactUrlText(text) {
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
        throw new errors_ConfigurationError(`Input '${name}' must be a number${describeRange(range)}; got '${n}'.`);
    }
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
        if (!(error instanceof errors_ConfigurationError || error instanceof ActionFailure) && error instanceof Error) {
            debug(error.stack ?? error.message);
        }
        setFailed(errors_errorMessage(error));
    }
}
/**
 * Post steps clean up and only warn: a cleanup problem must never turn a green job red.
 */
async function runPost(post, warn = core.warning) {
    try {
        await post();
    }
    catch (error) {
        warn(`cleanup: ${errorMessage(error)}`);
    }
}

;// CONCATENATED MODULE: ./actions/staging-guard/event.ts
/**
 * What the guard is asked to judge, read from the event that started the workflow. Pure: the payload comes in as
 * plain JSON and an unhandled event becomes a `skip` with the reason, never an error.
 */
const PULL_REQUEST_ACTIONS = ['opened', 'edited', 'reopened', 'synchronize'];
const obj = (v) => (v && typeof v === 'object' ? v : {});
const str = (v) => (typeof v === 'string' ? v : '');
const ZERO_SHA = /^0{40}$/;
function subjectOf(eventName, payloadValue) {
    const payload = obj(payloadValue);
    if (eventName === 'pull_request' || eventName === 'pull_request_target') {
        const action = str(payload.action);
        if (!PULL_REQUEST_ACTIONS.includes(action)) {
            return {
                kind: 'skip',
                reason: `pull request action '${action}' is not one the guard judges (${PULL_REQUEST_ACTIONS.join(', ')})`,
            };
        }
        const pr = obj(payload.pull_request);
        const number = typeof pr.number === 'number' ? pr.number : Number(payload.number);
        if (!Number.isInteger(number) || number <= 0)
            return { kind: 'skip', reason: 'the event has no pull request number' };
        return { kind: 'pull request', number, baseRef: str(obj(pr.base).ref) };
    }
    if (eventName === 'merge_group') {
        const group = obj(payload.merge_group);
        const headRef = str(group.head_ref);
        // GitHub names the queue branch gh-readonly-queue/<base>/pr-<number>-<sha>, after the last pull request in it.
        const match = /\/pr-(\d+)-[0-9a-f]+$/.exec(headRef);
        return {
            kind: 'merge group',
            baseRef: str(group.base_ref).replace(/^refs\/heads\//, ''),
            headSha: str(group.head_sha),
            baseSha: str(group.base_sha),
            pullNumber: match ? Number(match[1]) : null,
        };
    }
    if (eventName === 'push') {
        const ref = str(payload.ref);
        if (!ref.startsWith('refs/heads/'))
            return { kind: 'skip', reason: `the push is to '${ref}', not to a branch` };
        const after = str(payload.after);
        if (ZERO_SHA.test(after) || payload.deleted === true)
            return { kind: 'skip', reason: `the push deleted '${ref}'` };
        const pushedAt = obj(payload.repository).pushed_at;
        return {
            kind: 'push',
            branch: ref.slice('refs/heads/'.length),
            before: str(payload.before),
            after,
            forced: payload.forced === true,
            pusher: str(obj(payload.pusher).name) || str(obj(payload.sender).login) || 'unknown',
            // The push payload gives pushed_at in epoch seconds; other payloads an ISO string.
            pushedAt: typeof pushedAt === 'number'
                ? new Date(pushedAt * 1000).toISOString()
                : typeof pushedAt === 'string' && pushedAt !== ''
                    ? pushedAt
                    : null,
        };
    }
    return {
        kind: 'skip',
        reason: `the '${eventName}' event is not one the guard judges (pull_request, pull_request_target, merge_group, push)`,
    };
}

;// CONCATENATED MODULE: ./actions/staging-guard/github-gateway.ts


/**
 * Octokit from @actions/github: it reads GITHUB_API_URL (GitHub Enterprise Server) and the runner's proxy settings.
 * Loaded when an event needs the API, so a skipped event does not parse it.
 */
async function defaultOctokit(token) {
    return (await __nccwpck_require__.e(/* import() */ 413).then(__nccwpck_require__.bind(__nccwpck_require__, 2413))).getOctokit(token);
}
function createGateway(octokit, repository) {
    const { owner, repo } = repository;
    const base = { owner, repo };
    return {
        async compare(baseRef, headRef) {
            const response = await call('compare the head with the base', 'contents: read', () => octokit.rest.repos.compareCommitsWithBasehead({ ...base, basehead: `${baseRef}...${headRef}`, per_page: 1 }));
            const { status, ahead_by, behind_by } = response.data;
            return { status, aheadBy: ahead_by, behindBy: behind_by };
        },
        async commitsBetween(baseRef, headRef) {
            const commits = [];
            // The compare body is not a list, so octokit.paginate does not apply; GitHub stops at 250 commits.
            for (let page = 1; page <= 3; page++) {
                const response = await call('list the commits of the merge group', 'contents: read', () => octokit.rest.repos.compareCommitsWithBasehead({
                    ...base,
                    basehead: `${baseRef}...${headRef}`,
                    per_page: 100,
                    page,
                }));
                for (const commit of response.data.commits) {
                    commits.push({ sha: commit.sha, message: commit.commit.message, parents: commit.parents.map((p) => p.sha) });
                }
                if (!/rel="next"/.test(String(response.headers.link ?? '')))
                    break;
            }
            return commits;
        },
        async checks(sha) {
            // Every run, not only the latest of each name: runs of the same name from other apps or other workflow runs
            // must not hide a failure, so the policy decides what replaces what.
            const runs = await call('list check runs', 'checks: read', () => octokit.paginate(octokit.rest.checks.listForRef, { ...base, ref: sha, filter: 'all', per_page: 100 }));
            const observations = runs.map((run) => ({
                name: run.name,
                kind: 'check run',
                status: run.status,
                conclusion: run.conclusion ?? null,
                url: run.html_url ?? run.details_url ?? null,
                startedAt: run.started_at ?? null,
                app: run.app?.slug ?? null,
                appName: run.app?.name ?? null,
                suite: run.check_suite?.id ?? null,
            }));
            // Every status, newest first, with its creator: the combined status keeps only the newest per context,
            // whoever posted it, so a success from anyone with statuses: write would hide a failure.
            const statuses = await call('read commit statuses', 'statuses: read', () => octokit.paginate(octokit.rest.repos.listCommitStatusesForRef, { ...base, ref: sha, per_page: 100 }));
            for (const status of statuses) {
                observations.push({
                    name: status.context,
                    kind: 'status',
                    status: status.state,
                    conclusion: null,
                    url: status.target_url ?? null,
                    startedAt: status.created_at,
                    app: status.creator?.login ?? null,
                    appName: null,
                });
            }
            return observations;
        },
        async getPull(number) {
            const response = await call(`read pull request #${number}`, 'pull-requests: read', () => octokit.rest.pulls.get({ ...base, pull_number: number }));
            return pullFacts(response.data);
        },
        async pullsForCommit(sha) {
            const pulls = await call('list the pull requests of a commit', 'pull-requests: read', () => octokit.paginate(octokit.rest.repos.listPullRequestsAssociatedWithCommit, {
                ...base,
                commit_sha: sha,
                per_page: 100,
            }));
            return pulls.map(pullFacts);
        },
        async listComments(issue) {
            const comments = await call('list pull request comments', 'pull-requests: read', () => octokit.paginate(octokit.rest.issues.listComments, { ...base, issue_number: issue, per_page: 100 }));
            return comments.map((c) => ({ id: c.id, body: c.body ?? '' }));
        },
        async createComment(issue, body) {
            await call('comment on the pull request', 'pull-requests: write', () => octokit.rest.issues.createComment({ ...base, issue_number: issue, body }));
        },
        async updateComment(id, body) {
            await call('update the guard comment', 'pull-requests: write', () => octokit.rest.issues.updateComment({ ...base, comment_id: id, body }));
        },
    };
}
function pullFacts(pull) {
    return {
        number: pull.number,
        state: pull.state,
        headRef: pull.head.ref,
        headSha: pull.head.sha,
        headRepo: pull.head.repo?.full_name ?? null,
        baseRef: pull.base.ref,
        baseRepo: pull.base.repo.full_name,
        mergedAt: pull.merged_at,
        mergeCommitSha: pull.merge_commit_sha,
    };
}
function isHttpError(error) {
    return typeof error === 'object' && error !== null && typeof error.status === 'number';
}
/**
 * Runs one API call and turns the errors a user can fix into one readable sentence: a token without the
 * permission (GitHub answers 403, or 404 to hide a private resource), or a spent rate limit.
 */
async function call(what, permission, request) {
    try {
        return await request();
    }
    catch (error) {
        throw explainRequestError(error, what, permission);
    }
}
/** What the guard's job needs, said the way a workflow writes it. */
const JOB_PERMISSIONS = 'contents: read, checks: read, statuses: read and pull-requests: read (pull-requests: write when comment is true)';
function explainRequestError(error, what, permission) {
    if (!isHttpError(error))
        return new ActionFailure(`Could not ${what}: ${untrustedText(errors_errorMessage(error))}`);
    const headers = error.response?.headers ?? {};
    // GitHub's own words, but from a server: neutralised before they reach the log.
    const firstLine = untrustedText(error.message.split('\n')[0].replace(/ - https:\/\/docs\.github\.com\S*$/, ''));
    if ((error.status === 403 || error.status === 429) && String(headers['x-ratelimit-remaining']) === '0') {
        const reset = Number(headers['x-ratelimit-reset']);
        const when = Number.isFinite(reset) && reset > 0 ? ` It resets at ${new Date(reset * 1000).toISOString()}.` : '';
        return new ActionFailure(`Could not ${what}: the GitHub API rate limit for this token is spent.${when}`);
    }
    if (error.status === 403 || error.status === 404) {
        // GitHub names the permission the endpoint needs in this header when the token lacks it.
        const accepted = headers['x-accepted-github-permissions'];
        const needs = accepted ? ` (GitHub accepts: ${untrustedText(String(accepted))})` : '';
        return new ActionFailure(`Could not ${what}: GitHub answered ${error.status} (${firstLine}). The token lacks '${permission}'${needs}. ` +
            `Give the job \`permissions:\` with ${JOB_PERMISSIONS}, or pass a token that has them in github-token.`);
    }
    return new ActionFailure(`Could not ${what}: GitHub answered ${error.status} (${firstLine}).`);
}

;// CONCATENATED MODULE: ./actions/staging-guard/inputs.ts



function readInputs(source = environmentInputs, env = process.env) {
    const reader = new InputReader(source);
    const token = reader.string('github-token');
    if (token === '') {
        throw new errors_ConfigurationError("Input 'github-token' is required: pass a token that can read checks and statuses, such as `github-token: ${{ github.token }}` (the default) or a fine-grained token.");
    }
    const protectedBranches = reader.list('protected');
    if (protectedBranches.length === 0) {
        throw new errors_ConfigurationError("Input 'protected' must name at least one branch (comma or newline separated), such as 'master,main'.");
    }
    const allowedSources = reader.list('allowed-sources');
    if (allowedSources.length === 0) {
        throw new errors_ConfigurationError("Input 'allowed-sources' must name at least one branch that may be merged into a protected branch (comma or newline separated), such as 'staging'; got an empty value.");
    }
    const job = (env.GITHUB_JOB ?? '').trim();
    const ignore = parsePatterns('ignore-checks', reader.raw('ignore-checks'));
    if (job !== '' && !ignore.some((p) => p.kind === 'name' && p.name === job))
        ignore.push({ kind: 'name', name: job });
    return {
        protected: protectedBranches,
        'allowed-sources': allowedSources,
        'required-checks': parsePatterns('required-checks', reader.raw('required-checks')),
        'wait-for-checks': waitDuration(reader),
        'poll-interval': reader.duration('poll-interval'),
        'treat-skipped-as-pass': reader.boolean('treat-skipped-as-pass'),
        'treat-neutral-as-pass': reader.boolean('treat-neutral-as-pass'),
        'ignore-checks': ignore,
        comment: reader.boolean('comment'),
        'github-token': token,
    };
}
function waitDuration(reader) {
    const value = reader.raw('wait-for-checks');
    if (/^0+(\.0+)?\s*(ms|s|m|h|min|sec)?$/.test(value))
        return 0;
    const ms = parseDuration(value);
    if (ms === undefined) {
        throw new errors_ConfigurationError(`Input 'wait-for-checks' must be 0 (do not wait) or a duration such as 30s, 10m or 1h (a bare number is seconds); got '${untrusted_text_excerpt(value)}'.`);
    }
    return ms;
}
/**
 * Check names one per line (or comma separated), each an exact name or a /regular expression/ with optional flags,
 * optionally pinned to the GitHub App that must make it with `@app-slug` at the end (`test@github-actions`).
 * Commas are not separators inside a regex, so a line that starts with '/' is kept whole.
 */
function parsePatterns(input, value) {
    const items = value
        .split('\n')
        .flatMap((line) => (line.trim().startsWith('/') ? [line] : line.split(',')))
        .map((item) => item.trim())
        .filter((item) => item !== '');
    return items.map((item) => {
        const pin = APP_PIN.exec(item);
        const text = pin ? pin[1] : item;
        const app = pin ? { app: pin[2].toLowerCase() } : {};
        const regex = /^\/(.*)\/([dgimsuy]*)$/.exec(text);
        if (!regex) {
            if (text.startsWith('/')) {
                throw new errors_ConfigurationError(`Input '${input}' has '${item}', which starts like a regular expression but does not end with '/' and optional flags (then @app if pinned); write a check name, or a regular expression between slashes such as /^test/.`);
            }
            return { kind: 'name', name: text, ...app };
        }
        try {
            // The g and y flags make test() stateful, which would skip matches; they mean nothing for a name check.
            return { kind: 'regex', regex: new RegExp(regex[1], regex[2].replace(/[gy]/g, '')), source: text, ...app };
        }
        catch (error) {
            const why = error instanceof Error ? error.message.replace(/^Invalid regular expression: /, '') : String(error);
            throw new errors_ConfigurationError(`Input '${input}' has a malformed regular expression '${item}' (${why}); write a check name, or a valid regular expression between slashes such as /^test/.`);
        }
    });
}
/** `name@app-slug`: GitHub App slugs are lower-case letters, digits and dashes. */
const APP_PIN = /^(.+)@([A-Za-z0-9][A-Za-z0-9-]*)$/;

;// CONCATENATED MODULE: ./actions/staging-guard/merge-group.ts
function groupTrail(commits, baseSha, headSha) {
    const bySha = new Map(commits.map((c) => [c.sha, c]));
    const trail = { pullHeads: [], numbers: [], unnamed: [] };
    let sha = headSha;
    // Bounded by the listed commits: a chain that leaves the list (a truncated compare) just stops.
    for (let step = 0; step < commits.length && sha !== baseSha; step++) {
        const commit = bySha.get(sha);
        if (!commit)
            break;
        const subject = commit.message.split('\n')[0];
        const named = /^Merge pull request #(\d+) from /.exec(subject) ?? /\(#(\d+)\)$/.exec(subject);
        if (named)
            trail.numbers.push(Number(named[1]));
        if (commit.parents.length > 1)
            trail.pullHeads.push(commit.parents[1]);
        else if (!named)
            trail.unnamed.push(commit.sha);
        sha = commit.parents[0];
    }
    return trail;
}

;// CONCATENATED MODULE: ./actions/staging-guard/policy.ts

function matchesPattern(pattern, name) {
    if (pattern.kind === 'name')
        return pattern.name === name;
    pattern.regex.lastIndex = 0;
    return pattern.regex.test(name);
}
/** The pattern matches the check's name and, when pinned to an app, the check is a check run of that app. */
function matchesCheck(pattern, check) {
    if (!matchesPattern(pattern, check.name))
        return false;
    if (pattern.app === undefined)
        return true;
    return check.kind === 'check run' && (check.app ?? '').toLowerCase() === pattern.app.toLowerCase();
}
function describePattern(pattern) {
    return `${pattern.kind === 'name' ? pattern.name : pattern.source}${pattern.app ? `@${pattern.app}` : ''}`;
}
/** A branch-name pattern from allowed-sources or protected: exact, or with `*` for any run of characters. */
function branchMatches(patterns, branch) {
    return patterns.some((pattern) => {
        if (!pattern.includes('*'))
            return pattern === branch;
        const regex = new RegExp(`^${pattern.split('*').map(escapeRegex).join('.*')}$`);
        return regex.test(branch);
    });
}
function escapeRegex(text) {
    return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
function verdictOf(rules) {
    const reasons = rules.filter((r) => r.state !== 'pass').map((r) => `${r.rule}: ${r.reason}`);
    return { allowed: rules.length > 0 && reasons.length === 0, rules, reasons };
}
function sourceBranchRule(facts) {
    const rule = 'source branch';
    const allowed = facts.allowedSources.join(', ');
    if (branchMatches(facts.allowedSources, facts.headRef)) {
        return { rule, state: 'pass', reason: `'${facts.headRef}' is an allowed source (${allowed})`, fix: '' };
    }
    return {
        rule,
        state: 'fail',
        reason: `'${facts.headRef}' is not an allowed source for '${facts.baseRef}' (allowed: ${allowed})`,
        fix: `Merge '${facts.headRef}' into ${facts.allowedSources[0]} first, let CI validate it there, then open the pull request from ${facts.allowedSources[0]} into ${facts.baseRef}.`,
    };
}
function sameRepositoryRule(facts) {
    const rule = 'same repository';
    if (facts.headRepo === facts.baseRepo) {
        return { rule, state: 'pass', reason: `the head branch lives in ${facts.baseRepo}`, fix: '' };
    }
    const where = facts.headRepo === null ? 'a deleted fork' : `the fork ${facts.headRepo}`;
    return {
        rule,
        state: 'fail',
        reason: `the head branch '${facts.headRef}' comes from ${where}, not from ${facts.baseRepo}: a fork's ${facts.headRef} is not ours`,
        fix: `Open the pull request from a branch of ${facts.baseRepo} itself (push the change to ${facts.baseRepo}'s ${facts.allowedSources[0]} through a reviewed pull request).`,
    };
}
function freshnessRule(comparison, headRef, baseRef) {
    const rule = 'up to date with base';
    if (comparison.behindBy === 0) {
        const ahead = comparison.aheadBy === 1 ? '1 commit' : `${comparison.aheadBy} commits`;
        return { rule, state: 'pass', reason: `'${headRef}' contains '${baseRef}' and is ahead by ${ahead}`, fix: '' };
    }
    const behind = comparison.behindBy === 1 ? '1 commit' : `${comparison.behindBy} commits`;
    const shape = comparison.status === 'diverged' ? `has diverged from '${baseRef}' and is` : 'is';
    return {
        rule,
        state: 'fail',
        reason: `'${headRef}' ${shape} behind '${baseRef}' by ${behind}: what was tested is not what would be merged`,
        fix: updateCommands(headRef, baseRef),
    };
}
/** The exact commands that bring the source branch up to date; CI then validates the result on the source. */
function updateCommands(headRef, baseRef) {
    return [
        'git fetch origin',
        `git switch ${headRef}`,
        `git merge --no-edit origin/${baseRef}`,
        `git push origin ${headRef}`,
    ].join(' && ');
}
function checkStateOf(check) {
    if (check.kind === 'status') {
        if (check.status === 'success')
            return 'pass';
        if (check.status === 'pending')
            return 'pending';
        return 'fail';
    }
    if (check.status !== 'completed')
        return 'pending';
    switch (check.conclusion) {
        case 'success':
            return 'pass';
        case 'skipped':
            return 'skipped';
        case 'neutral':
            return 'neutral';
        default:
            // failure, cancelled, timed_out, action_required, stale, startup_failure: none of these validated the commit.
            return 'fail';
    }
}
/** The check matches an ignore pattern, or is a matrix leg of it (`test (3.11)` for `test`). */
function isIgnored(check, ignore) {
    return ignore.some((pattern) => matchesCheck(pattern, check) ||
        (pattern.kind === 'name' &&
            check.name.startsWith(`${pattern.name} (`) &&
            matchesCheck({ ...pattern, name: check.name }, check)));
}
/**
 * One observation per source of a check: the same name from another app, another workflow run (check suite) or
 * another status creator is another check, and all of them must pass. Only a later run from the same source
 * replaces an earlier one: a re-run of the job in the same workflow run, or a newer status from the same creator.
 */
function latestPerSource(checks) {
    const latest = new Map();
    for (const check of checks) {
        const key = [check.kind, check.app ?? '', check.suite ?? '', check.name].join('\u0000');
        const seen = latest.get(key);
        if (!seen || (check.startedAt ?? '') > (seen.startedAt ?? ''))
            latest.set(key, check);
    }
    return [...latest.values()];
}
/** How a check is named in the verdict: its kind, its name and who made it, all as text safe to print. */
function checkLabel(check, all) {
    const by = check.kind === 'status' ? (check.app ? `by ${check.app}` : '') : (check.appName ?? check.app ?? '');
    const twins = all.filter((c) => c.kind === check.kind && c.name === check.name && c.app === check.app && c.suite !== check.suite);
    const suite = twins.length > 0 && check.suite != null ? `check suite ${check.suite}` : '';
    const source = [by, suite].filter((part) => part !== '').join(', ');
    return `${check.kind} '${untrustedText(check.name)}'${source ? ` (${untrustedText(source)})` : ''}`;
}
/**
 * One row per check (and per required pattern that matched nothing). Skipped and neutral checks count as a pass
 * only when the user said so; when they did not, such a check fails only if it is required, since a job that
 * did not run (a deploy job skipped on pull requests) is not a red check.
 */
function evaluateChecks(sha, observed, options) {
    const checks = latestPerSource(observed.filter((c) => !isIgnored(c, options.ignore))).sort((a, b) => a.name.localeCompare(b.name) ||
        a.kind.localeCompare(b.kind) ||
        (a.app ?? '').localeCompare(b.app ?? '') ||
        (a.suite ?? 0) - (b.suite ?? 0));
    const short = sha.slice(0, 7);
    const rules = [];
    let waiting = false;
    const isRequired = (check) => options.required.some((p) => matchesCheck(p, check));
    for (const check of checks) {
        const rule = checkLabel(check, checks);
        const state = checkStateOf(check);
        const required = isRequired(check);
        const link = check.url ? ` (${untrustedText(check.url)})` : '';
        if (state === 'pass') {
            rules.push({ rule, state: 'pass', reason: `succeeded on ${short}`, fix: '' });
        }
        else if (state === 'pending') {
            waiting = true;
            rules.push({
                rule,
                state: 'pending',
                reason: `still ${untrustedText(check.status.replace('_', ' '))} on ${short}`,
                fix: 'Wait for it to finish (raise wait-for-checks to let the guard wait longer), then re-run the guard.',
            });
        }
        else if (state === 'skipped' || state === 'neutral') {
            const counts = state === 'skipped' ? options.treatSkippedAsPass : options.treatNeutralAsPass;
            const input = state === 'skipped' ? 'treat-skipped-as-pass' : 'treat-neutral-as-pass';
            if (counts) {
                rules.push({ rule, state: 'pass', reason: `${state} on ${short}, counted as a pass (${input})`, fix: '' });
            }
            else if (!required) {
                rules.push({ rule, state: 'pass', reason: `${state} on ${short}; not required, so not counted`, fix: '' });
            }
            else {
                rules.push({
                    rule,
                    state: 'fail',
                    reason: `required but ${state} on ${short}: it did not validate the commit${link}`,
                    fix: `Make the check run on this branch, or set ${input}: true if a ${state} result is acceptable.`,
                });
            }
        }
        else {
            const outcome = untrustedText(check.kind === 'status' ? check.status : (check.conclusion ?? 'failed'));
            rules.push({
                rule,
                state: 'fail',
                reason: `${outcome} on ${short}${link}`,
                fix: `Fix what '${untrustedText(check.name)}' reports, push the fix to the source branch and let CI run again (a failed run is replaced only by a re-run of the same workflow run, or a newer status from the same creator).`,
            });
        }
    }
    for (const pattern of options.required) {
        if (checks.some((c) => matchesCheck(pattern, c)))
            continue;
        waiting = true;
        const others = checks.filter((c) => matchesPattern(pattern, c.name)).map((c) => checkLabel(c, checks));
        const otherApps = others.length > 0 ? ` (only from another source: ${others.join(', ')})` : '';
        rules.push({
            rule: `required check '${untrustedText(describePattern(pattern))}'`,
            state: 'missing',
            reason: `no check run or status matching it was reported on ${short}${otherApps}`,
            fix: 'Make sure the workflow that produces it runs for this branch (check its `on:` filters and job `if:`), or correct required-checks.',
        });
    }
    if (checks.length === 0 && options.required.length === 0) {
        waiting = true;
        rules.push({
            rule: 'checks',
            state: 'missing',
            reason: `no check run or status other than the guard itself was reported on ${short}: nothing validated it`,
            fix: 'Run the test workflow on the source branch (on: push / pull_request) so that the commit is validated.',
        });
    }
    return { rules, waiting };
}
/** After the wait is over, what is still pending or missing explains itself as having run out of time. */
function closeWaiting(rules, waitedMs) {
    if (waitedMs <= 0)
        return rules;
    const seconds = Math.round(waitedMs / 1000);
    return rules.map((r) => r.state === 'pending' || r.state === 'missing' ? { ...r, reason: `${r.reason}, after waiting ${seconds}s` } : r);
}
function pushOriginRule(origin, facts) {
    const rule = 'came through the flow';
    const short = facts.sha.slice(0, 7);
    const via = origin.via;
    if (via?.kind === 'pull request') {
        return {
            rule,
            state: 'pass',
            reason: `${short} is the merge of pull request #${via.number} from '${via.headRef}'`,
            fix: '',
        };
    }
    if (via?.kind === 'contained') {
        return { rule, state: 'pass', reason: `${short} is a commit of '${via.source}'`, fix: '' };
    }
    const force = facts.forced ? ' (a force push)' : '';
    const fix = `Revert ${short} on ${facts.branch} (git revert -m 1 for a merge), bring the change through ${facts.allowedSources[0]} and a pull request, ` +
        `and review who may bypass the ${facts.branch} ruleset.`;
    if (origin.refusedPulls.length > 0) {
        const pulls = origin.refusedPulls
            .map((p) => `pull request #${p.number} from '${p.headRef}'${p.headRepo ? ` of ${p.headRepo}` : ' of a deleted fork'}`)
            .join(', ');
        return {
            rule,
            state: 'fail',
            reason: `the flow was bypassed: ${short} on '${facts.branch}' is the merge of ${pulls}, which is not an allowed source ` +
                `(${facts.allowedSources.join(', ')}); it was merged by ${facts.pusher} although the guard refuses it (an admin merge, or the guard is not a required check)`,
            fix,
        };
    }
    return {
        rule,
        state: 'fail',
        reason: `a direct push or an admin bypass happened: ${short} on '${facts.branch}', pushed by ${facts.pusher}${force}, ` +
            `is neither the merge of a pull request from ${facts.allowedSources.join(', ')} nor a commit of it`,
        fix,
    };
}

;// CONCATENATED MODULE: ./actions/staging-guard/summary.ts
/** Hidden in the pull request comment so that the next run finds and updates it instead of adding another. */
const COMMENT_MARKER = '<!-- runbook:staging-guard -->';
const ICON = {
    pass: '✅ pass',
    fail: '❌ fail',
    pending: '⏳ pending',
    missing: '❔ missing',
};
/** Markdown for the job summary and the pull request comment: the verdict, then one row per rule. */
function renderVerdict(verdict, context) {
    const head = verdict.allowed
        ? `### ✅ Staging guard: allowed\n\n${context.subject} at ${context.sha.slice(0, 7)} came through the flow.`
        : `### ❌ Staging guard: refused\n\n${context.subject} at ${context.sha.slice(0, 7)} does not satisfy the flow.`;
    const rows = verdict.rules.map((r) => `| ${cell(r.rule)} | ${ICON[r.state]} | ${cell(r.reason)} | ${fixCell(r)} |`);
    return [head, '', '| rule | result | reason | fix |', '| --- | --- | --- | --- |', ...rows, ''].join('\n');
}
// GitHub refuses comment bodies over 65536 characters; hundreds of matrix checks can get there.
const COMMENT_LIMIT = 65_000;
function renderComment(verdict, context) {
    // Rows that did not pass come first, so a cut comment still shows why the merge was refused.
    const ordered = {
        ...verdict,
        rules: [...verdict.rules].sort((a, b) => Number(a.state === 'pass') - Number(b.state === 'pass')),
    };
    const body = `${COMMENT_MARKER}\n${renderVerdict(ordered, context)}`;
    if (body.length <= COMMENT_LIMIT)
        return body;
    const cut = body.lastIndexOf('\n', COMMENT_LIMIT - 200);
    return `${body.slice(0, cut)}\n\n… ${verdict.rules.length} rules in all; the job summary has the whole table.\n`;
}
function fixCell(rule) {
    if (rule.fix === '')
        return '';
    // Commands read better as code; prose stays prose.
    return rule.fix.startsWith('git ') ? `\`${cell(rule.fix)}\`` : cell(rule.fix);
}
/** A table cell: no line breaks, and pipes escaped so they do not split the row. */
function cell(text) {
    return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

;// CONCATENATED MODULE: ./actions/staging-guard/main.ts












const coreRunner = {
    info: (message) => info(message),
    notice: (message) => notice(message),
    warning: (message) => warning(message),
    setOutput: (name, value) => setOutput(name, value),
    setSecret: (value) => setSecret(value),
    writeSummary: async (markdown) => {
        if (process.env.GITHUB_STEP_SUMMARY)
            await summary.addRaw(markdown).write();
    },
};
function defaultEdges(env = process.env) {
    const path = env.GITHUB_EVENT_PATH;
    const payload = path ? JSON.parse((0,external_node_fs_namespaceObject.readFileSync)(path, 'utf8')) : {};
    return {
        inputs: environmentInputs,
        env,
        event: { name: env.GITHUB_EVENT_NAME ?? '', payload },
        gateway: async (token, repository) => createGateway(await defaultOctokit(token), repository),
        clock: () => Date.now(),
        sleep: (ms) => (0,external_node_timers_promises_namespaceObject.setTimeout)(ms),
        runner: coreRunner,
    };
}
async function run(edges) {
    await runAction(() => guard(edges ?? defaultEdges()).then(() => undefined));
}
/** Judges the event and returns the verdict (undefined when there was nothing to judge); throws when refused. */
async function guard(edges) {
    const inputs = readInputs(edges.inputs, edges.env);
    edges.runner.setSecret(inputs['github-token']);
    if (edges.event.name === 'pull_request') {
        // The workflow file comes from the pull request's own merge commit: the change being judged can edit its judge.
        edges.runner.warning('The staging guard runs on `pull_request`, so GitHub runs this workflow file as the pull request changed it: a pull request can edit or remove its own guard. Run the guard on `pull_request_target` and make that check required (see "Make it a required check that a pull request cannot edit" in the staging-guard README).');
    }
    const subject = subjectOf(edges.event.name, edges.event.payload);
    if (subject.kind === 'skip')
        return skip(edges, `Staging guard skipped: ${subject.reason}.`);
    const gh = await edges.gateway(inputs['github-token'], repositoryOf(edges));
    const judge = new Judge(gh, inputs, edges);
    let judged;
    if (subject.kind === 'pull request')
        judged = await judge.pullRequest(subject);
    else if (subject.kind === 'merge group')
        judged = await judge.mergeGroup(subject);
    else
        judged = await judge.push(subject);
    if (!judged)
        return undefined;
    const verdict = verdictOf(judged.rules);
    const { runner } = edges;
    for (const rule of verdict.rules)
        runner.info(`${rule.state.padEnd(7)} ${rule.rule}: ${rule.reason}`);
    runner.setOutput('allowed', String(verdict.allowed));
    runner.setOutput('reasons', JSON.stringify(verdict.reasons));
    const context = { subject: judged.title, sha: judged.sha };
    await runner.writeSummary(renderVerdict(verdict, context));
    if (inputs.comment && judged.pullNumber !== null)
        await upsertComment(gh, runner, judged.pullNumber, renderComment(verdict, context));
    if (!verdict.allowed) {
        const lines = verdict.rules
            .filter((r) => r.state !== 'pass')
            .map((r) => `- ${r.rule}: ${r.reason}${r.fix ? `\n  Fix: ${r.fix}` : ''}`);
        throw new ActionFailure(`Staging guard refused ${judged.title}:\n${lines.join('\n')}`);
    }
    return verdict;
}
function skip(edges, message) {
    edges.runner.notice(message);
    edges.runner.setOutput('allowed', 'skipped');
    edges.runner.setOutput('reasons', '[]');
    return undefined;
}
function repositoryOf(edges) {
    const payloadRepo = edges.event.payload?.repository?.full_name;
    const full = edges.env.GITHUB_REPOSITORY || (typeof payloadRepo === 'string' ? payloadRepo : '');
    const [owner, repo, extra] = full.split('/');
    if (!owner || !repo || extra !== undefined) {
        throw new errors_ConfigurationError(`GITHUB_REPOSITORY must be owner/name; got '${full}'. Run the guard inside a GitHub Actions job.`);
    }
    return { owner, repo };
}
class Judge {
    gh;
    inputs;
    edges;
    constructor(gh, inputs, edges) {
        this.gh = gh;
        this.inputs = inputs;
        this.edges = edges;
    }
    get sources() {
        return this.inputs['allowed-sources'];
    }
    async pullRequest(subject) {
        // The payload is frozen at the event; a re-run must judge the pull request as it is now.
        const pull = await this.gh.getPull(subject.number);
        if (!branchMatches(this.inputs.protected, pull.baseRef)) {
            return skip(this.edges, `Staging guard skipped: pull request #${pull.number} targets '${pull.baseRef}', which is not protected (${this.inputs.protected.join(', ')}).`);
        }
        const rules = this.sourceRules(pull);
        if (pull.headRepo !== null) {
            // A fork's branch is named owner:branch across the fork network; a deleted fork has nothing to compare.
            const head = pull.headRepo === pull.baseRepo ? pull.headSha : `${pull.headRepo.split('/')[0]}:${pull.headRef}`;
            rules.push(freshnessRule(await this.gh.compare(pull.baseRef, head), pull.headRef, pull.baseRef));
        }
        rules.push(...(await this.checkRules(pull.headSha, rules, null)));
        return {
            title: `pull request #${pull.number} (${pull.headRef} → ${pull.baseRef})`,
            sha: pull.headSha,
            rules,
            pullNumber: pull.number,
        };
    }
    async mergeGroup(subject) {
        if (!branchMatches(this.inputs.protected, subject.baseRef)) {
            return skip(this.edges, `Staging guard skipped: the merge group targets '${subject.baseRef}', which is not protected (${this.inputs.protected.join(', ')}).`);
        }
        const pulls = await this.pullsOfGroup(subject);
        const rules = [];
        let title = `merge group into ${subject.baseRef}`;
        if (pulls.length === 0) {
            rules.push({
                rule: 'source branch',
                state: 'fail',
                reason: 'no pull request of the merge group was found: its branch does not name one (expected gh-readonly-queue/<base>/pr-<number>-<sha>) and its commits name none',
                fix: "Let GitHub's merge queue create the merge group; do not push gh-readonly-queue branches by hand.",
            });
        }
        else if (pulls.length === 1) {
            title = `merge group for pull request #${pulls[0].number} (${pulls[0].headRef} → ${subject.baseRef})`;
            rules.push(...this.sourceRules({ ...pulls[0], baseRef: subject.baseRef }));
        }
        else {
            // Every pull request of the group is judged: one from a feature branch must not ride behind staging's.
            title = `merge group for pull requests ${pulls.map((p) => `#${p.number}`).join(', ')} into ${subject.baseRef}`;
            for (const pull of pulls) {
                for (const rule of this.sourceRules({ ...pull, baseRef: subject.baseRef })) {
                    rules.push({ ...rule, rule: `${rule.rule} of #${pull.number}` });
                }
            }
        }
        const comparison = await this.gh.compare(subject.baseSha, subject.headSha);
        rules.push(freshnessRule(comparison, 'the merge group', subject.baseRef));
        rules.push(...(await this.checkRules(subject.headSha, rules, null)));
        return { title, sha: subject.headSha, rules, pullNumber: null };
    }
    /**
     * The open pull requests into the group's base that the group holds: the one its branch names, and those its
     * history names (see merge-group.ts), oldest first.
     */
    async pullsOfGroup(subject) {
        const trail = groupTrail(await this.gh.commitsBetween(subject.baseSha, subject.headSha), subject.baseSha, subject.headSha);
        const found = new Map();
        const keep = (pull) => {
            if (pull.state === 'open' && pull.baseRef === subject.baseRef)
                found.set(pull.number, pull);
        };
        for (const head of trail.pullHeads) {
            for (const pull of await this.gh.pullsForCommit(head))
                if (pull.headSha === head)
                    keep(pull);
        }
        if (subject.pullNumber !== null && !found.has(subject.pullNumber))
            keep(await this.gh.getPull(subject.pullNumber));
        for (const number of trail.numbers.filter((n) => !found.has(n))) {
            // A message can name an issue or a deleted pull request: that one is not in the queue.
            const pull = await this.gh.getPull(number).catch((error) => {
                if (/answered 404/.test(errors_errorMessage(error)))
                    return undefined;
                throw error;
            });
            if (pull)
                keep(pull);
        }
        if (trail.unnamed.length > 0) {
            this.edges.runner.info(`The merge group has ${trail.unnamed.length} commit(s) that name no pull request (a rebase merge); they are judged through the pull request the queue branch names and the group's checks.`);
        }
        return [...found.values()].sort((a, b) => a.number - b.number);
    }
    async push(subject) {
        const { runner } = this.edges;
        if (branchMatches(this.sources, subject.branch)) {
            runner.notice(`Push to '${subject.branch}': nothing to guard here. CI on ${subject.branch} is the validation; the guard judges what goes from ${subject.branch} into ${this.inputs.protected.join(', ')}.`);
            runner.setOutput('allowed', 'true');
            runner.setOutput('reasons', '[]');
            return undefined;
        }
        if (!branchMatches(this.inputs.protected, subject.branch)) {
            return skip(this.edges, `Staging guard skipped: '${subject.branch}' is neither protected (${this.inputs.protected.join(', ')}) nor an allowed source.`);
        }
        const origin = { via: null, refusedPulls: [] };
        let checksSha = subject.after;
        let cutoff = null;
        const merged = (await this.gh.pullsForCommit(subject.after)).filter((p) => p.mergedAt !== null && p.baseRef === subject.branch && p.mergeCommitSha === subject.after);
        const good = merged.find((p) => branchMatches(this.sources, p.headRef) && p.headRepo === p.baseRepo);
        if (good) {
            origin.via = { kind: 'pull request', number: good.number, headRef: good.headRef, headSha: good.headSha };
            checksSha = good.headSha;
        }
        else {
            origin.refusedPulls = merged.map((p) => ({ number: p.number, headRef: p.headRef, headRepo: p.headRepo }));
            for (const source of this.sources.filter((s) => !s.includes('*'))) {
                const comparison = await this.gh.compare(source, subject.after).catch((error) => {
                    // A source branch that does not exist (yet) cannot contain the commit; anything else is a real problem.
                    if (/answered 404/.test(errors_errorMessage(error)))
                        return undefined;
                    throw error;
                });
                if (comparison && comparison.aheadBy === 0) {
                    origin.via = { kind: 'contained', source };
                    // The checks on this commit that started after the push were started by the push itself: not evidence.
                    cutoff = subject.pushedAt;
                    break;
                }
            }
        }
        const rules = [pushOriginRule(origin, { ...subject, sha: subject.after, allowedSources: this.sources })];
        if (origin.via)
            rules.push(...(await this.checkRules(checksSha, rules, cutoff)));
        return {
            title: `push of ${subject.after.slice(0, 7)} to ${subject.branch}`,
            sha: subject.after,
            rules,
            pullNumber: null,
        };
    }
    sourceRules(pull) {
        const facts = {
            headRef: pull.headRef,
            headRepo: pull.headRepo,
            baseRepo: pull.baseRepo,
            baseRef: pull.baseRef,
            allowedSources: this.sources,
        };
        return [sourceBranchRule(facts), sameRepositoryRule(facts)];
    }
    /**
     * Evaluates the head's checks, polling while some are pending or required ones are missing, up to
     * wait-for-checks. Waiting is pointless once another rule has already refused, so then it looks once.
     */
    async checkRules(sha, earlier, cutoff) {
        const { clock, sleep, runner } = this.edges;
        const options = {
            required: this.inputs['required-checks'],
            ignore: this.inputs['ignore-checks'],
            treatSkippedAsPass: this.inputs['treat-skipped-as-pass'],
            treatNeutralAsPass: this.inputs['treat-neutral-as-pass'],
        };
        const wait = earlier.some((r) => r.state === 'fail') ? 0 : this.inputs['wait-for-checks'];
        const interval = this.inputs['poll-interval'];
        const started = clock();
        const deadline = started + wait;
        // Bounded by rounds as well as by the clock, so a clock that stands still cannot hold the job.
        const maxRounds = Math.ceil(wait / interval) + 1;
        for (let round = 1;; round++) {
            let observed = await this.gh.checks(sha);
            if (cutoff !== null)
                observed = observed.filter((c) => c.startedAt === null || c.startedAt < cutoff);
            const evaluation = evaluateChecks(sha, observed, options);
            const now = clock();
            if (!evaluation.waiting || now >= deadline || round >= maxRounds) {
                return closeWaiting(evaluation.rules, wait > 0 ? now - started : 0);
            }
            const open = evaluation.rules.filter((r) => r.state === 'pending' || r.state === 'missing').map((r) => r.rule);
            runner.info(`Waiting for ${open.join(', ')}; ${Math.ceil((deadline - now) / 1000)}s left of wait-for-checks.`);
            await sleep(Math.min(interval, deadline - now));
        }
    }
}
/** Keeps one guard comment per pull request, found by its hidden marker and edited in place. */
async function upsertComment(gh, runner, pull, body) {
    try {
        const existing = (await gh.listComments(pull)).find((c) => c.body.includes(COMMENT_MARKER));
        if (existing)
            await gh.updateComment(existing.id, body);
        else
            await gh.createComment(pull, body);
    }
    catch (error) {
        // The verdict stands without the comment: a token that cannot comment (a fork's) must not turn it red.
        runner.warning(`The verdict comment was not posted: ${errors_errorMessage(error)}`);
    }
}


/***/ }),

/***/ 2613:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("assert");

/***/ }),

/***/ 4434:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("events");

/***/ }),

/***/ 9896:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("fs");

/***/ }),

/***/ 8611:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("http");

/***/ }),

/***/ 5692:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("https");

/***/ }),

/***/ 9278:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("net");

/***/ }),

/***/ 4589:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:assert");

/***/ }),

/***/ 6698:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:async_hooks");

/***/ }),

/***/ 4573:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:buffer");

/***/ }),

/***/ 7540:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:console");

/***/ }),

/***/ 7598:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:crypto");

/***/ }),

/***/ 3053:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:diagnostics_channel");

/***/ }),

/***/ 610:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:dns");

/***/ }),

/***/ 8474:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:events");

/***/ }),

/***/ 7067:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:http");

/***/ }),

/***/ 2467:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:http2");

/***/ }),

/***/ 7030:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:net");

/***/ }),

/***/ 643:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:perf_hooks");

/***/ }),

/***/ 1792:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:querystring");

/***/ }),

/***/ 7075:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:stream");

/***/ }),

/***/ 1692:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:tls");

/***/ }),

/***/ 3136:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:url");

/***/ }),

/***/ 7975:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:util");

/***/ }),

/***/ 3429:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:util/types");

/***/ }),

/***/ 5919:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:worker_threads");

/***/ }),

/***/ 8522:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:zlib");

/***/ }),

/***/ 857:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("os");

/***/ }),

/***/ 3193:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("string_decoder");

/***/ }),

/***/ 4756:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("tls");

/***/ }),

/***/ 9023:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("util");

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
/******/ /* webpack/runtime/async module */
/******/ (() => {
/******/ 	var webpackQueues = typeof Symbol === "function" ? Symbol("webpack queues") : "__webpack_queues__";
/******/ 	var webpackExports = typeof Symbol === "function" ? Symbol("webpack exports") : "__webpack_exports__";
/******/ 	var webpackError = typeof Symbol === "function" ? Symbol("webpack error") : "__webpack_error__";
/******/ 	var resolveQueue = (queue) => {
/******/ 		if(queue && queue.d < 1) {
/******/ 			queue.d = 1;
/******/ 			queue.forEach((fn) => (fn.r--));
/******/ 			queue.forEach((fn) => (fn.r-- ? fn.r++ : fn()));
/******/ 		}
/******/ 	}
/******/ 	var wrapDeps = (deps) => (deps.map((dep) => {
/******/ 		if(dep !== null && typeof dep === "object") {
/******/ 			if(dep[webpackQueues]) return dep;
/******/ 			if(dep.then) {
/******/ 				var queue = [];
/******/ 				queue.d = 0;
/******/ 				dep.then((r) => {
/******/ 					obj[webpackExports] = r;
/******/ 					resolveQueue(queue);
/******/ 				}, (e) => {
/******/ 					obj[webpackError] = e;
/******/ 					resolveQueue(queue);
/******/ 				});
/******/ 				var obj = {};
/******/ 				obj[webpackQueues] = (fn) => (fn(queue));
/******/ 				return obj;
/******/ 			}
/******/ 		}
/******/ 		var ret = {};
/******/ 		ret[webpackQueues] = x => {};
/******/ 		ret[webpackExports] = dep;
/******/ 		return ret;
/******/ 	}));
/******/ 	__nccwpck_require__.a = (module, body, hasAwait) => {
/******/ 		var queue;
/******/ 		hasAwait && ((queue = []).d = -1);
/******/ 		var depQueues = new Set();
/******/ 		var exports = module.exports;
/******/ 		var currentDeps;
/******/ 		var outerResolve;
/******/ 		var reject;
/******/ 		var promise = new Promise((resolve, rej) => {
/******/ 			reject = rej;
/******/ 			outerResolve = resolve;
/******/ 		});
/******/ 		promise[webpackExports] = exports;
/******/ 		promise[webpackQueues] = (fn) => (queue && fn(queue), depQueues.forEach(fn), promise["catch"](x => {}));
/******/ 		module.exports = promise;
/******/ 		body((deps) => {
/******/ 			currentDeps = wrapDeps(deps);
/******/ 			var fn;
/******/ 			var getResult = () => (currentDeps.map((d) => {
/******/ 				if(d[webpackError]) throw d[webpackError];
/******/ 				return d[webpackExports];
/******/ 			}))
/******/ 			var promise = new Promise((resolve) => {
/******/ 				fn = () => (resolve(getResult));
/******/ 				fn.r = 0;
/******/ 				var fnQueue = (q) => (q !== queue && !depQueues.has(q) && (depQueues.add(q), q && !q.d && (fn.r++, q.push(fn))));
/******/ 				currentDeps.map((dep) => (dep[webpackQueues](fnQueue)));
/******/ 			});
/******/ 			return fn.r ? promise : getResult();
/******/ 		}, (err) => ((err ? reject(promise[webpackError] = err) : outerResolve(exports)), resolveQueue(queue)));
/******/ 		queue && queue.d < 0 && (queue.d = 0);
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
/******/ 
/******/ // startup
/******/ // Load entry module and return exports
/******/ // This entry module used 'module' so it can't be inlined
/******/ var __webpack_exports__ = __nccwpck_require__(1296);
/******/ __webpack_exports__ = await __webpack_exports__;
/******/ 
