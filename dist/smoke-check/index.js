import { createRequire as __WEBPACK_EXTERNAL_createRequire } from "module";
/******/ var __webpack_modules__ = ({

/***/ 9421:
/***/ ((module, __unused_webpack___webpack_exports__, __nccwpck_require__) => {

__nccwpck_require__.a(module, async (__webpack_handle_async_dependencies__, __webpack_async_result__) => { try {
/* harmony import */ var _main_js__WEBPACK_IMPORTED_MODULE_0__ = __nccwpck_require__(5764);

await (0,_main_js__WEBPACK_IMPORTED_MODULE_0__/* .run */ .eF)();

__webpack_async_result__();
} catch(e) { __webpack_async_result__(e); } }, 1);

/***/ }),

/***/ 5764:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {


// EXPORTS
__nccwpck_require__.d(__webpack_exports__, {
  eF: () => (/* binding */ run)
});

// UNUSED EXPORTS: runnerEdges, smokeCheck

;// CONCATENATED MODULE: external "node:crypto"
const external_node_crypto_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:crypto");
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
    const delimiter = `ghadelimiter_${(0,external_node_crypto_namespaceObject.randomUUID)()}`;
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

;// CONCATENATED MODULE: external "node:http"
const external_node_http_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:http");
;// CONCATENATED MODULE: external "node:https"
const external_node_https_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:https");
;// CONCATENATED MODULE: external "node:tls"
const external_node_tls_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:tls");
;// CONCATENATED MODULE: ./actions/smoke-check/http-probe.ts




const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** What the requester adds itself: the only header that follows a redirect to another origin by default. */
const OWN_HEADERS = { 'user-agent': 'runbook-smoke-check' };
/**
 * A requester over node:http and node:https. Global fetch (undici) cannot take a CA bundle per request
 * without undici's own Agent, and follows redirects out of sight; here every hop is seen, so a redirect to
 * a login page is known, and TLS trust is set on our own agents.
 */
function createHttpRequester(tls, clock = performanceNow) {
    // keepAlive off: every attempt measures a fresh connection, as a user's first request after a deploy does.
    const httpAgent = new external_node_http_namespaceObject.Agent({ keepAlive: false });
    const httpsAgent = new external_node_https_namespaceObject.Agent({
        keepAlive: false,
        rejectUnauthorized: !tls.insecure,
        ...(tls.ca ? { ca: [...external_node_tls_namespaceObject.rootCertificates, tls.ca] } : {}),
    });
    return async (request) => {
        const started = clock();
        const controller = new AbortController();
        const timer = setTimeout(() => controller.abort(), request.timeoutMs);
        const hops = [];
        let url = request.url;
        let headers = { ...OWN_HEADERS, ...request.headers };
        try {
            for (;;) {
                const answer = await send(url, request, headers, url.protocol === 'https:' ? httpsAgent : httpAgent, controller);
                const locationHeader = answer.headers.location;
                const location = locationHeader && REDIRECT_STATUSES.has(answer.status) ? safeUrl(locationHeader, url) : undefined;
                hops.push({ url, status: answer.status, location });
                if (!location || !request.followRedirects) {
                    return { kind: 'response', ...answer, url, hops, latencyMs: clock() - started };
                }
                if (hops.length > request.maxRedirects) {
                    return {
                        kind: 'error',
                        code: 'TOO_MANY_REDIRECTS',
                        message: `more than ${request.maxRedirects} redirects`,
                        hops,
                        latencyMs: clock() - started,
                    };
                }
                // Any header the user gave may be a credential (X-Api-Key, X-Auth-Token…), not only Authorization and
                // Cookie: none goes to another origin unless asked, as curl without --location-trusted behaves.
                if (location.origin !== url.origin && !request.keepHeadersOnRedirect)
                    headers = { ...OWN_HEADERS };
                url = location;
            }
        }
        catch (error) {
            const timedOut = controller.signal.aborted;
            const err = error;
            return {
                kind: 'error',
                code: timedOut ? 'TIMEOUT' : (err.code ?? 'EUNKNOWN'),
                message: timedOut ? `no complete answer within ${request.timeoutMs} ms` : err.message,
                hops,
                latencyMs: clock() - started,
            };
        }
        finally {
            clearTimeout(timer);
        }
    };
}
function send(url, request, headers, agent, controller) {
    return new Promise((resolve, reject) => {
        const transport = url.protocol === 'https:' ? external_node_https_namespaceObject : external_node_http_namespaceObject;
        const auth = url.username ? `${safeDecode(url.username)}:${safeDecode(url.password)}` : undefined;
        const req = transport.request({
            protocol: url.protocol,
            hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
            port: url.port || undefined,
            path: `${url.pathname}${url.search}`,
            method: request.method,
            headers,
            agent,
            signal: controller.signal,
            ...(auth && !hasHeader(headers, 'authorization') ? { auth } : {}),
        }, (res) => {
            const chunks = [];
            let size = 0;
            const finish = () => resolve({
                status: res.statusCode ?? 0,
                headers: flattenHeaders(res.headers),
                body: Buffer.concat(chunks).toString('utf8'),
            });
            res.on('data', (chunk) => {
                if (size >= request.maxBodyBytes)
                    return;
                chunks.push(chunk.subarray(0, request.maxBodyBytes - size));
                size += chunk.length;
                // Enough to judge: a health check must not download a large page to the end.
                if (size >= request.maxBodyBytes) {
                    res.destroy();
                    finish();
                }
            });
            res.on('end', finish);
            res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
    });
}
function flattenHeaders(headers) {
    const flat = {};
    for (const [name, value] of Object.entries(headers)) {
        if (value !== undefined)
            flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
    return flat;
}
function hasHeader(headers, name) {
    return Object.keys(headers).some((key) => key.toLowerCase() === name);
}
function safeUrl(location, base) {
    try {
        return new URL(location, base);
    }
    catch {
        return undefined;
    }
}
function performanceNow() {
    return performance.now();
}

;// CONCATENATED MODULE: ./actions/smoke-check/json-path.ts


function parseJsonPath(name, text) {
    const fail = (why) => {
        throw new errors_ConfigurationError(`Input '${name}' must be a JSON path such as $.commit or data.items[0].id (${why}); got '${untrusted_text_excerpt(text)}'.`);
    };
    const source = text.trim();
    const segments = [];
    let i = source.startsWith('$') ? 1 : 0;
    let needsSeparator = i === 1;
    while (i < source.length) {
        const char = source[i];
        if (char === '.') {
            const match = /^[^.[\]\s]+/.exec(source.slice(i + 1));
            if (!match)
                fail(`a name must follow the dot at position ${i + 1}`);
            segments.push(match[0]);
            i += 1 + match[0].length;
        }
        else if (char === '[') {
            const rest = source.slice(i);
            const index = /^\[\s*(-?\d+)\s*\]/.exec(rest);
            const quoted = /^\[\s*(['"])(.*?)\1\s*\]/.exec(rest);
            if (index) {
                segments.push(Number(index[1]));
                i += index[0].length;
            }
            else if (quoted) {
                segments.push(quoted[2]);
                i += quoted[0].length;
            }
            else
                fail(`unclosed or unsupported [] at position ${i + 1}`);
        }
        else if (!needsSeparator) {
            const match = /^[^.[\]\s]+/.exec(source.slice(i));
            if (!match)
                fail(`unexpected '${char}' at position ${i + 1}`);
            segments.push(match[0]);
            i += match[0].length;
        }
        else
            fail(`unexpected '${char}' at position ${i + 1}`);
        needsSeparator = true;
    }
    if (segments.length === 0)
        fail('it names no field');
    return { text: source, segments };
}
function evaluateJsonPath(path, document) {
    let current = document;
    for (const segment of path.segments) {
        if (typeof segment === 'number') {
            if (!Array.isArray(current))
                return { found: false };
            const index = segment < 0 ? current.length + segment : segment;
            if (index < 0 || index >= current.length)
                return { found: false };
            current = current[index];
        }
        else {
            if (current === null || typeof current !== 'object' || Array.isArray(current))
                return { found: false };
            if (!Object.prototype.hasOwnProperty.call(current, segment))
                return { found: false };
            current = current[segment];
        }
    }
    return { found: true, value: current };
}
/**
 * Whether a JSON value equals what the user wrote. The text is read as JSON when it parses (`true`, `3`,
 * `{"a":1}`), so `json-equals: 3` matches the number 3; a string value also matches its plain text, so
 * `json-equals: ok` matches "ok" without quotes.
 */
function jsonValueEquals(actual, expected) {
    if (typeof actual === 'string' && actual === expected)
        return true;
    let parsed;
    try {
        parsed = JSON.parse(expected);
    }
    catch {
        return false;
    }
    return deepEqual(actual, parsed);
}
function deepEqual(a, b) {
    if (a === b)
        return true;
    if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null)
        return false;
    if (Array.isArray(a) !== Array.isArray(b))
        return false;
    const keysA = Object.keys(a);
    const keysB = Object.keys(b);
    if (keysA.length !== keysB.length)
        return false;
    return keysA.every((key) => deepEqual(a[key], b[key]));
}
/** A JSON value as a short text for a reason line. */
function describeJsonValue(value) {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

;// CONCATENATED MODULE: ./actions/smoke-check/status-set.ts


const ACCEPTS = 'HTTP statuses from 100 to 599 separated by commas, as codes (200), classes (2xx) or ranges (200-299)';
/** Parses a status set for input `name`; throws a ConfigurationError naming the input when it is malformed. */
function status_set_parseStatusSet(name, text) {
    const tokens = text
        .split(/[\s,]+/)
        .map((token) => token.trim())
        .filter((token) => token !== '');
    if (tokens.length === 0)
        throw new errors_ConfigurationError(`Input '${name}' must list ${ACCEPTS}; got '${untrusted_text_excerpt(text)}'.`);
    const ranges = tokens.map((token) => {
        let range;
        const single = /^(\d{3})$/.exec(token);
        const klass = /^([1-5])xx$/i.exec(token);
        const span = /^(\d{3})\s*-\s*(\d{3})$/.exec(token);
        if (single)
            range = [Number(single[1]), Number(single[1])];
        else if (klass)
            range = [Number(klass[1]) * 100, Number(klass[1]) * 100 + 99];
        else if (span)
            range = [Number(span[1]), Number(span[2])];
        if (!range || range[0] < 100 || range[1] > 599 || range[0] > range[1]) {
            throw new errors_ConfigurationError(`Input '${name}' must list ${ACCEPTS}; got '${untrusted_text_excerpt(token)}' in '${untrusted_text_excerpt(text)}'.`);
        }
        return range;
    });
    return { text: tokens.join(','), ranges };
}
function statusInSet(set, status) {
    return set.ranges.some(([low, high]) => status >= low && status <= high);
}

;// CONCATENATED MODULE: ./actions/smoke-check/retry-policy.ts




const TRANSIENT_ERRORS = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    EPIPE: 'connection closed while sending',
    ECONNABORTED: 'connection aborted',
    ENOTFOUND: 'host name not resolvable (yet)',
    EAI_AGAIN: 'host name lookup failed temporarily',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    EADDRNOTAVAIL: 'address not available',
    ETIMEDOUT: 'connection timed out',
    TIMEOUT: 'no answer within the request timeout',
    HPE_INVALID_CONSTANT: 'malformed HTTP answer',
    UND_ERR_SOCKET: 'connection closed',
};
/** Statuses a proxy or platform gives while the app behind it restarts. */
const WARMING_STATUSES = new Set([408, 425, 429, 502, 503, 504]);
function judgeAttempt(check, outcome, options) {
    if (outcome.kind === 'error') {
        if (outcome.code === 'TOO_MANY_REDIRECTS')
            return { kind: 'fatal', reason: `redirect loop (${outcome.message})` };
        if (isTlsTrustError(outcome.code)) {
            return {
                kind: 'fatal',
                reason: `TLS certificate not trusted (${outcome.code}); give the private CA in ca-bundle`,
            };
        }
        const known = TRANSIENT_ERRORS[outcome.code];
        const detail = outcome.code === 'TIMEOUT' ? `${known} (${check.timeoutMs} ms)` : known;
        return { kind: 'retry', reason: detail ?? `${untrustedText(outcome.code)}: ${untrustedText(outcome.message)}` };
    }
    if (check.rejectRedirect) {
        const rejected = outcome.hops.find((hop) => hop.location && check.rejectRedirect.test(hop.location.href));
        if (rejected?.location) {
            return {
                kind: 'definitive',
                reason: `redirected to ${untrustedText(redactUrl(rejected.location))}, which matches reject-redirect`,
            };
        }
    }
    const status = outcome.status;
    if (!statusInSet(check.expectedStatus, status)) {
        const hop = outcome.hops[outcome.hops.length - 1];
        const to = hop?.location ? ` to ${untrustedText(redactUrl(hop.location))}` : '';
        const reason = `HTTP ${status}${to}, expected ${check.expectedStatus.text}`;
        if (statusInSet(options.failFastStatuses, status))
            return { kind: 'definitive', reason };
        if (WARMING_STATUSES.has(status))
            return { kind: 'retry', reason: `HTTP ${status} (not ready yet)` };
        return { kind: 'retry', reason };
    }
    if (check.rejectBody && check.rejectBody.test(outcome.body)) {
        return { kind: 'definitive', reason: `body matches reject-body ${check.rejectBody}` };
    }
    const version = readVersion(check, outcome);
    if (check.expectVersion !== undefined) {
        if (version.value === undefined) {
            const reason = version.where === 'body'
                ? `body does not show version ${check.expectVersion} (yet)`
                : `no version in ${version.where}, expected ${check.expectVersion}`;
            return { kind: 'retry', reason };
        }
        if (!versionMatches(check, version.value)) {
            return {
                kind: 'retry',
                reason: `serves version ${untrustedText(describeJsonValue(version.value))} (${version.where}), expected ${check.expectVersion}`,
                version: version.value,
            };
        }
    }
    const failed = (reason) => ({ kind: 'retry', reason, version: version.value });
    for (const text of check.bodyContains) {
        if (!outcome.body.includes(text))
            return failed(`body does not contain '${text}'`);
    }
    if (check.bodyRegex && !check.bodyRegex.test(outcome.body))
        return failed(`body does not match ${check.bodyRegex}`);
    if (check.json) {
        const lookup = parseBodyJson(outcome.body);
        if (!lookup.ok)
            return failed(`body is not JSON, expected ${check.json.path.text}`);
        const found = evaluateJsonPath(check.json.path, lookup.value);
        if (!found.found)
            return failed(`${check.json.path.text} not found in the JSON body`);
        if (check.json.equals !== undefined && !jsonValueEquals(found.value, check.json.equals)) {
            return failed(`${check.json.path.text} is ${untrustedText(describeJsonValue(found.value))}, expected ${check.json.equals}`);
        }
    }
    for (const expectation of check.headerExpectations) {
        const value = outcome.headers[expectation.name.toLowerCase()];
        if (value === undefined)
            return failed(`no ${expectation.name} header`);
        if (expectation.equals !== undefined && value !== expectation.equals) {
            return failed(`header ${expectation.name} is '${untrustedText(value)}', expected '${expectation.equals}'`);
        }
        if (expectation.contains !== undefined && !value.includes(expectation.contains)) {
            return failed(`header ${expectation.name} is '${untrustedText(value)}', expected it to contain '${expectation.contains}'`);
        }
    }
    if (check.maxLatencyMs !== undefined && outcome.latencyMs > check.maxLatencyMs) {
        return failed(`answered in ${Math.round(outcome.latencyMs)} ms, over max-latency ${check.maxLatencyMs} ms`);
    }
    return { kind: 'pass', version: version.value };
}
function isTlsTrustError(code) {
    return (code.startsWith('CERT_') ||
        code.includes('SELF_SIGNED') ||
        code.startsWith('UNABLE_TO_') ||
        code === 'ERR_TLS_CERT_ALTNAME_INVALID' ||
        code === 'HOSTNAME_MISMATCH');
}
function parseBodyJson(body) {
    try {
        return { ok: true, value: JSON.parse(body) };
    }
    catch {
        return { ok: false };
    }
}
/** The release identity the answer carries, as text, and where it was looked for. */
function readVersion(check, outcome) {
    const source = check.versionFrom;
    if (source.kind === 'header')
        return { value: outcome.headers[source.name], where: `header ${source.name}` };
    if (source.kind === 'json') {
        const parsed = parseBodyJson(outcome.body);
        const found = parsed.ok ? evaluateJsonPath(source.path, parsed.value) : { found: false };
        const value = found.found && found.value !== null && found.value !== undefined ? found.value : undefined;
        return {
            value: value === undefined ? undefined : typeof value === 'string' ? value : JSON.stringify(value),
            where: source.path.text,
        };
    }
    // In the body: only known to be right when the expected text is there.
    if (check.expectVersion !== undefined && outcome.body.includes(check.expectVersion)) {
        return { value: check.expectVersion, where: 'body' };
    }
    return { value: undefined, where: 'body' };
}
/**
 * A version read from a header or JSON field matches when equal, or when one is a prefix of the other and
 * both are at least 7 characters: a health endpoint often reports the short sha of the full `github.sha`.
 */
function versionMatches(check, actual) {
    const expected = (check.expectVersion ?? '').trim();
    const got = actual.trim();
    if (got === expected)
        return true;
    if (got.length < 7 || expected.length < 7)
        return false;
    return got.startsWith(expected) || expected.startsWith(got);
}
/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): the wait
 * is uniform in [0, min(max, initial * 2^(n-1))] after the n-th failure in a row. Checks started together
 * against one restarting server spread out instead of knocking in lockstep, and the expected wait once the
 * server is up stays under one backoff step.
 */
function backoffDelay(failuresInARow, options, random) {
    const exponent = Math.min(Math.max(failuresInARow - 1, 0), 30);
    const cap = Math.min(options.maxIntervalMs, options.initialIntervalMs * 2 ** exponent);
    return Math.round(cap * Math.min(Math.max(random(), 0), 1));
}

;// CONCATENATED MODULE: ./actions/smoke-check/engine.ts




/** The real edges: node:http(s) with the run's TLS settings, the monotonic clock, timers, Math.random. */
function defaultEngineDeps(options, log) {
    return {
        request: createHttpRequester(options.tls),
        clock: () => performance.now(),
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        random: Math.random,
        log,
    };
}
const EXCERPT_BYTES = 4096;
/**
 * Runs every check in parallel until each passes `stableFor` times in a row, fails definitively, or the
 * shared deadline passes. Never throws for an unhealthy site: the report says what happened.
 */
async function runChecks(checks, options, deps) {
    const started = deps.clock();
    const deadlineAt = started + options.deadlineMs;
    const results = await Promise.all(checks.map((check, index) => runOne(check, checks.length > 1 ? `[${index + 1}] ` : '', options, deps, deadlineAt)));
    const failedCount = results.filter((result) => !result.ok).length;
    return { healthy: failedCount === 0, results, failedCount, durationMs: Math.round(deps.clock() - started) };
}
async function runOne(check, prefix, options, deps, deadlineAt) {
    const started = deps.clock();
    const url = redactUrl(check.url);
    const name = check.name ?? url;
    let attempts = 0;
    let passesInARow = 0;
    let failuresInARow = 0;
    let definitiveInARow = 0;
    let last;
    const finish = (ok, reason, version) => ({
        name,
        url,
        ok,
        status: last?.kind === 'response' ? last.status : undefined,
        latencyMs: last ? Math.round(last.latencyMs) : undefined,
        attempts,
        reason,
        version,
        redirects: (last?.hops ?? []).filter((hop) => hop.location).map((hop) => redactUrl(hop.location)),
        lastBody: last?.kind === 'response' ? last.body.slice(0, EXCERPT_BYTES) : undefined,
        durationMs: Math.round(deps.clock() - started),
    });
    for (;;) {
        const remaining = deadlineAt - deps.clock();
        attempts += 1;
        // The per-request timeout never reaches past the deadline, so the deadline holds even against a hang.
        last = await deps.request({
            url: check.url,
            method: check.method,
            headers: check.headers,
            timeoutMs: Math.max(1, Math.min(check.timeoutMs, remaining)),
            followRedirects: check.followRedirects,
            keepHeadersOnRedirect: check.keepHeadersOnRedirect ?? false,
            maxRedirects: options.maxRedirects,
            maxBodyBytes: options.maxBodyBytes,
        });
        const verdict = neutralised(judgeAttempt(check, last, options));
        const seen = last.kind === 'response' ? `HTTP ${last.status}` : untrustedText(last.code);
        const latency = `${Math.round(last.latencyMs)} ms`;
        let delay;
        if (verdict.kind === 'pass') {
            passesInARow += 1;
            failuresInARow = 0;
            definitiveInARow = 0;
            if (passesInARow >= options.stableFor) {
                deps.log(`${prefix}${name}: attempt ${attempts}: ${seen} in ${latency}: healthy`);
                const stable = options.stableFor > 1 ? ` (${options.stableFor} passes in a row)` : '';
                return finish(true, `healthy${stable}`, verdict.version);
            }
            // Stability is judged at a steady pace: the first interval, without growing or jitter.
            delay = options.initialIntervalMs;
            deps.log(`${prefix}${name}: attempt ${attempts}: ${seen} in ${latency}: pass ${passesInARow}/${options.stableFor}`);
        }
        else {
            passesInARow = 0;
            failuresInARow += 1;
            definitiveInARow = verdict.kind === 'definitive' ? definitiveInARow + 1 : 0;
            if (verdict.kind === 'fatal') {
                deps.log(`${prefix}${name}: attempt ${attempts}: ${verdict.reason}: giving up`);
                return finish(false, verdict.reason, verdict.version);
            }
            if (verdict.kind === 'definitive' && definitiveInARow >= options.failFastAfter) {
                deps.log(`${prefix}${name}: attempt ${attempts}: ${verdict.reason}: definitive, giving up`);
                const times = definitiveInARow > 1 ? ` (${definitiveInARow} times in a row)` : '';
                return finish(false, `${verdict.reason}${times}`, verdict.version);
            }
            delay = backoffDelay(failuresInARow, options, deps.random);
            deps.log(`${prefix}${name}: attempt ${attempts}: ${verdict.reason} after ${latency}; next try in ${delay} ms`);
        }
        if (deps.clock() + delay >= deadlineAt) {
            const why = verdict.kind === 'pass' ? `only ${passesInARow} of ${options.stableFor} passes in a row` : verdict.reason;
            return finish(false, `${why}; deadline of ${formatMs(options.deadlineMs)} reached after ${attempts} attempts`, verdict.version);
        }
        await deps.sleep(delay);
    }
}
/** Reasons and versions quote what the server said; they reach logs, annotations and the deploy's gate. */
const REASON_LIMIT = 1000;
function neutralised(verdict) {
    const version = verdict.version === undefined ? {} : { version: untrustedText(verdict.version) };
    if (verdict.kind === 'pass')
        return { kind: 'pass', ...version };
    return { kind: verdict.kind, reason: untrustedText(verdict.reason, REASON_LIMIT), ...version };
}
function formatMs(ms) {
    if (ms < 1000)
        return `${Math.round(ms)} ms`;
    if (ms < 60_000)
        return `${Number((ms / 1000).toFixed(1))} s`;
    const minutes = Math.floor(ms / 60_000);
    const seconds = Math.round((ms % 60_000) / 1000);
    return seconds ? `${minutes} min ${seconds} s` : `${minutes} min`;
}

;// CONCATENATED MODULE: ./actions/smoke-check/check-spec.ts




const HTTP_METHODS = ['GET', 'HEAD'];
const DEFAULT_RUN_OPTIONS = {
    deadlineMs: 120_000,
    stableFor: 1,
    failFastStatuses: status_set_parseStatusSet('fail-fast-statuses', '404,500'),
    failFastAfter: 2,
    initialIntervalMs: 500,
    maxIntervalMs: 2_000,
    tls: { insecure: false },
    maxBodyBytes: 1024 * 1024,
    maxRedirects: 10,
};
/**
 * A check with the action's defaults for whatever is not given: what the deploy action uses for its health
 * gate, e.g. `defineCheck({ url, expectVersion: sha, versionFrom: versionSource('json:$.commit') })`.
 */
function defineCheck(check) {
    return {
        method: 'GET',
        expectedStatus: parseStatusSet('expected-status', '2xx'),
        bodyContains: [],
        headerExpectations: [],
        versionFrom: { kind: 'body' },
        followRedirects: true,
        headers: {},
        timeoutMs: 10_000,
        ...check,
        url: typeof check.url === 'string' ? new URL(check.url) : check.url,
    };
}
/** `body`, `header:<Name>` or `json:<path>`; throws a ConfigurationError naming input `name`. */
function versionSource(text, name = 'version-from') {
    const trimmed = text.trim();
    if (trimmed === 'body')
        return { kind: 'body' };
    const header = /^header\s*:\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)$/.exec(trimmed);
    if (header)
        return { kind: 'header', name: header[1].toLowerCase() };
    const json = /^json\s*:\s*(.+)$/.exec(trimmed);
    if (json)
        return { kind: 'json', path: parseJsonPath(name, json[1]) };
    throw new errors_ConfigurationError(`Input '${name}' must be body, header:<Header-Name> or json:<path> (e.g. json:$.commit); got '${untrusted_text_excerpt(trimmed)}'.`);
}

;// CONCATENATED MODULE: ./actions/smoke-check/secret-mask.ts
/** Replaces every known secret in text with ***: for what the runner does not mask (summary, outputs). */
function maskSecrets(text, secrets) {
    // Longest first, so a secret that contains another is replaced whole.
    const ordered = [...new Set(secrets)].filter((secret) => secret.length > 0).sort((a, b) => b.length - a.length);
    let masked = text;
    for (const secret of ordered)
        masked = masked.split(secret).join('***');
    return masked;
}
/** Request headers whose values are credentials, masked whatever check sets them. */
const SECRET_HEADER = /^(authorization|proxy-authorization|cookie)$|token|secret|key|auth|session|password|signature/i;

;// CONCATENATED MODULE: ./actions/smoke-check/inputs.ts








/** Inputs a check object in `checks` may set for itself; the step's input of the same name is its default. */
const PER_CHECK_INPUTS = [
    'name',
    'url',
    'method',
    'expected-status',
    'body-contains',
    'body-regex',
    'json-path',
    'json-equals',
    'header',
    'header-contains',
    'expect-version',
    'version-from',
    'max-latency',
    'follow-redirects',
    'keep-headers-on-redirect',
    'reject-redirect',
    'reject-body',
    'headers',
    'basic-auth',
    'bearer-token',
    'timeout',
];
class FoundSecrets {
    onSecret;
    values = [];
    constructor(onSecret) {
        this.onSecret = onSecret;
    }
    push(...found) {
        for (const secret of found) {
            if (this.values.includes(secret))
                continue;
            this.values.push(secret);
            this.onSecret(secret);
        }
    }
}
/**
 * readInputs with the YAML parser loaded only when `checks` is given: `yaml` is most of what the bundle would parse
 * at start, and a step with `urls` alone never needs it.
 */
async function loadInputs(source, readFile, onSecret = () => undefined) {
    const parseYaml = source('checks').trim() === '' ? undefined : (await __nccwpck_require__.e(/* import() */ 815).then(__nccwpck_require__.t.bind(__nccwpck_require__, 8815, 19))).parse;
    return readInputs(source, readFile, onSecret, parseYaml);
}
/**
 * Reads and checks every input. `onSecret` is called the moment a credential is found, before any later input
 * can fail, so the runner masks it even when the step stops on a mistake further down. `parseYaml` is needed when
 * `checks` is given (loadInputs loads it then).
 */
function readInputs(source, readFile, onSecret = () => undefined, parseYaml) {
    const step = new InputReader(source);
    const secrets = new FoundSecrets(onSecret);
    // Secrets first: even an error about another input must not be able to print one.
    for (const name of ['basic-auth', 'bearer-token']) {
        const value = step.raw(name);
        if (value)
            secrets.push(...authSecrets(name, value));
    }
    const objects = [
        ...step.list('urls').map((url, index) => ({ fields: { url }, label: 'urls', index })),
        ...parseCheckList(step.raw('checks'), parseYaml).map((fields, index) => ({
            fields,
            label: 'checks',
            index,
        })),
    ];
    if (objects.length === 0) {
        throw new errors_ConfigurationError("Input 'urls' or 'checks' is required: give at least one URL to check.");
    }
    const checks = objects.map((object) => parseCheck(object, source, secrets));
    const insecure = step.boolean('insecure');
    const caBundle = step.optionalString('ca-bundle');
    const options = {
        ...DEFAULT_RUN_OPTIONS,
        deadlineMs: step.duration('deadline'),
        stableFor: step.integer('stable-for', { min: 1, max: 100 }),
        // Empty means no status is definitive: every failure is retried until the deadline.
        failFastStatuses: step.raw('fail-fast-statuses')
            ? status_set_parseStatusSet('fail-fast-statuses', step.raw('fail-fast-statuses'))
            : { text: '', ranges: [] },
        failFastAfter: step.integer('fail-fast-after', { min: 1, max: 100 }),
        initialIntervalMs: step.duration('initial-interval'),
        maxIntervalMs: step.duration('max-interval'),
        tls: { insecure, ...(caBundle ? { ca: readCaBundle(caBundle, readFile) } : {}) },
    };
    if (options.maxIntervalMs < options.initialIntervalMs) {
        throw new errors_ConfigurationError(`Input 'max-interval' must be at least 'initial-interval' (${step.raw('initial-interval')}); got '${step.raw('max-interval')}'.`);
    }
    return { checks, options, failOnUnhealthy: step.boolean('fail-on-unhealthy'), secrets: secrets.values };
}
function parseCheckList(text, parseYaml) {
    if (text === '')
        return [];
    if (!parseYaml)
        throw new Error("readInputs was given 'checks' without a YAML parser: call loadInputs.");
    const accepts = "Input 'checks' must be a YAML list whose items are URLs or objects with a url and any of " +
        PER_CHECK_INPUTS.filter((key) => key !== 'url').join(', ');
    let document;
    try {
        document = parseYaml(text);
    }
    catch (error) {
        throw new errors_ConfigurationError(`${accepts}; it does not parse: ${errors_errorMessage(error).split('\n')[0]}`);
    }
    if (!Array.isArray(document))
        throw new errors_ConfigurationError(`${accepts}; got a ${describeYaml(document)}.`);
    return document.map((item, index) => {
        if (typeof item === 'string')
            return { url: item };
        if (item === null || typeof item !== 'object' || Array.isArray(item)) {
            throw new errors_ConfigurationError(`${accepts}; item ${index + 1} is a ${describeYaml(item)}.`);
        }
        const unknown = Object.keys(item).filter((key) => !PER_CHECK_INPUTS.includes(key));
        if (unknown.length > 0)
            throw new errors_ConfigurationError(`${accepts}; item ${index + 1} has unknown key '${unknown[0]}'.`);
        if (!('url' in item))
            throw new errors_ConfigurationError(`${accepts}; item ${index + 1} has no url.`);
        return item;
    });
}
function describeYaml(value) {
    if (value === null || value === undefined)
        return 'empty value';
    if (Array.isArray(value))
        return 'list';
    return typeof value === 'object' ? 'mapping' : `${typeof value} (${String(value)})`;
}
/**
 * Reads one check. A key set on the check object wins over the step input of the same name, and errors
 * name it as `checks[2].method`, so the user finds the line.
 */
function parseCheck(check, source, secrets) {
    const object = check.label === 'checks' ? check.fields : {};
    const label = (name) => name in object && object[name] !== null ? `checks[${check.index + 1}].${name}` : name;
    const reader = new InputReader((name) => {
        const match = /^checks\[\d+\]\.(.+)$/.exec(name);
        return match ? yamlText(object[match[1]]) : source(name);
    });
    const read = (name) => reader.raw(label(name));
    // Credentials are collected before anything that could fail and print part of the check.
    for (const name of ['basic-auth', 'bearer-token']) {
        if (name in object && read(name))
            secrets.push(...authSecrets(label(name), read(name)));
    }
    const rawUrl = yamlText(check.fields.url);
    secrets.push(...secretsInRawUrl(rawUrl));
    const urlInput = check.label === 'urls' ? 'urls' : label('url');
    rejectRawDelimitersInCredentials(urlInput, rawUrl);
    const url = parseUrl(urlInput, rawUrl, ['http:', 'https:']);
    secrets.push(...secretsInUrl(url));
    if (url.password) {
        // Credentials in a URL travel as a Basic header; a debug page echoing it must not show them either.
        const pair = `${safeDecode(url.username)}:${safeDecode(url.password)}`;
        secrets.push(pair, Buffer.from(pair).toString('base64'));
    }
    const headers = parseRequestHeaders(label('headers'), read('headers'), secrets);
    // A check that sets its own auth replaces the step's, whichever kind each uses.
    const ownAuth = 'basic-auth' in object || 'bearer-token' in object;
    const basicAuth = ownAuth ? yamlText(object['basic-auth']) : read('basic-auth');
    const bearer = ownAuth ? yamlText(object['bearer-token']) : read('bearer-token');
    if (basicAuth && bearer) {
        throw new errors_ConfigurationError(`Input '${label('bearer-token')}' cannot be used together with 'basic-auth': give one of them.`);
    }
    if (basicAuth)
        headers.authorization = `Basic ${Buffer.from(basicAuth).toString('base64')}`;
    if (bearer)
        headers.authorization = `Bearer ${bearer}`;
    const jsonPathText = read('json-path');
    const jsonEquals = reader.optionalString(label('json-equals'));
    if (jsonEquals !== undefined && jsonPathText === '') {
        throw new errors_ConfigurationError(`Input '${label('json-equals')}' needs 'json-path' to say which JSON field to compare.`);
    }
    const expectVersion = reader.optionalString(label('expect-version'));
    const versionFrom = versionSource(read('version-from'), label('version-from'));
    const maxLatency = read('max-latency');
    return {
        url,
        ...(read('name') ? { name: read('name') } : {}),
        method: parseMethod(label('method'), read('method')),
        expectedStatus: status_set_parseStatusSet(label('expected-status'), read('expected-status')),
        bodyContains: splitLines(read('body-contains')),
        bodyRegex: optionalRegex(label('body-regex'), read('body-regex')),
        ...(jsonPathText ? { json: { path: parseJsonPath(label('json-path'), jsonPathText), equals: jsonEquals } } : {}),
        headerExpectations: [
            ...parseHeaderExpectations(label('header'), read('header'), 'equals'),
            ...parseHeaderExpectations(label('header-contains'), read('header-contains'), 'contains'),
        ],
        ...(expectVersion !== undefined ? { expectVersion } : {}),
        versionFrom,
        ...(maxLatency ? { maxLatencyMs: reader.duration(label('max-latency')) } : {}),
        followRedirects: reader.boolean(label('follow-redirects')),
        keepHeadersOnRedirect: reader.boolean(label('keep-headers-on-redirect')),
        rejectRedirect: optionalRegex(label('reject-redirect'), read('reject-redirect')),
        rejectBody: optionalRegex(label('reject-body'), read('reject-body')),
        headers,
        timeoutMs: reader.duration(label('timeout')),
    };
}
/** GET or HEAD, in any case: `method: get` is what people write in YAML. */
function parseMethod(name, value) {
    const method = value.toUpperCase();
    if (!HTTP_METHODS.includes(method)) {
        throw new errors_ConfigurationError(`Input '${name}' must be one of ${HTTP_METHODS.join(', ')}; got '${untrusted_text_excerpt(value)}'.`);
    }
    return method;
}
/** A YAML value as the text an input would have: lists become lines, scalars their plain text. */
function yamlText(value) {
    if (value === undefined || value === null)
        return '';
    if (Array.isArray(value))
        return value.map((item) => yamlText(item)).join('\n');
    if (typeof value === 'object')
        return JSON.stringify(value);
    return String(value).trim();
}
function splitLines(text) {
    return text
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '');
}
/** `/pattern/flags` or a bare pattern; compiled once here so a bad one stops the step before any request. */
function optionalRegex(name, text) {
    if (text === '')
        return undefined;
    const literal = /^\/(.*)\/([dgimsuvy]*)$/s.exec(text);
    try {
        // No 'g' or 'y': RegExp.test with them keeps state between calls and would skip matches on retries.
        return literal ? new RegExp(literal[1], literal[2].replace(/[gy]/g, '')) : new RegExp(text);
    }
    catch (error) {
        throw new errors_ConfigurationError(`Input '${name}' must be a regular expression (JavaScript syntax, optionally /pattern/flags); got '${untrusted_text_excerpt(text)}': ${errors_errorMessage(error)}.`);
    }
}
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
function parseRequestHeaders(name, text, secrets) {
    const headers = {};
    for (const line of splitLines(text)) {
        const colon = line.indexOf(':');
        const header = colon > 0 ? line.slice(0, colon).trim() : '';
        if (!HEADER_NAME.test(header)) {
            throw new errors_ConfigurationError(`Input '${name}' must hold one 'Name: value' request header per line; got a line without a valid header name.`);
        }
        const value = line.slice(colon + 1).trim();
        if (SECRET_HEADER.test(header) && value)
            secrets.push(...credentialParts(value));
        headers[header.toLowerCase()] = value;
    }
    return headers;
}
function parseHeaderExpectations(name, text, mode) {
    return splitLines(text).map((line) => {
        const colon = line.indexOf(':');
        const header = colon > 0 ? line.slice(0, colon).trim() : '';
        if (!HEADER_NAME.test(header)) {
            throw new errors_ConfigurationError(`Input '${name}' must hold one 'Header-Name: expected value' per line; got '${untrusted_text_excerpt(line)}'.`);
        }
        return { name: header.toLowerCase(), [mode]: line.slice(colon + 1).trim() };
    });
}
/** A credential and the forms it travels in: `Bearer x` and `x`, `user:pass`, `pass` and their base64. */
function authSecrets(name, value) {
    if (name.endsWith('basic-auth')) {
        const colon = value.indexOf(':');
        if (colon < 1) {
            throw new errors_ConfigurationError(`Input '${name}' must be 'user:password'; got a value without a user and a colon.`);
        }
        return [value, value.slice(colon + 1), Buffer.from(value).toString('base64')].filter((s) => s.length >= 3);
    }
    return credentialParts(value);
}
function credentialParts(value) {
    const parts = [value];
    const scheme = /^(Bearer|Basic|Token|Digest)\s+(.+)$/i.exec(value);
    if (scheme) {
        parts.push(scheme[2]);
        if (scheme[1].toLowerCase() === 'basic') {
            const decoded = Buffer.from(scheme[2], 'base64').toString('utf8');
            const colon = decoded.indexOf(':');
            if (colon > 0 && decoded.length - colon > 3)
                parts.push(decoded.slice(colon + 1));
        }
    }
    return parts.filter((part) => part.length >= 3);
}
/**
 * `user:pass@` in text that may not even parse as a URL: masked before the parse error can echo it. Both readings
 * are kept: the password ending at the first '@' (as a URL parser reads it) and at the last '@' before a host (what
 * was meant when the password holds a raw '@' or '/').
 */
function secretsInRawUrl(text) {
    const match = /\/\/[^/@\s:]*:([^@/\s]+)@/.exec(text);
    const lastAt = splitDatabaseUrl(text)?.rawPassword;
    return [...(match ? [match[1]] : []), ...(lastAt ? passwordForms(lastAt) : [])];
}
/**
 * A user name or password must have its '/', '?', '#' and '@' percent-encoded (RFC 3986 3.2.1). Unencoded, the
 * first '/' ends the host for curl and for browsers (WHATWG): `https://u:p@ss/w:rd@host` is a request to host `ss`
 * with the path `/w:rd@host`. Guessing the other reading (the last '@' before the path, as database URLs are read)
 * would check a different server than curl would for the same text, so such a URL is refused: an '@' in the path
 * after credentials, or an '@' after a user:password that does not parse. The message never quotes the URL.
 */
function rejectRawDelimitersInCredentials(name, text) {
    const parts = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)([\s\S]*)$/.exec(text);
    if (!parts)
        return;
    const [, authority, after] = parts;
    const path = after.replace(/[?#][\s\S]*$/, '');
    const cutAfterCredentials = authority.includes('@') && path.includes('@');
    const cutInsideCredentials = !authority.includes('@') && authority.includes(':') && after.includes('@') && !URL.canParse(text);
    if (cutAfterCredentials || cutInsideCredentials) {
        throw new errors_ConfigurationError(`Input '${name}' has a user name or password with a raw '/', '?', '#' or '@' in it, which ends the host early (curl and browsers would send this request to another host): percent-encode them in the credentials ('/' as %2F, '?' as %3F, '#' as %23, '@' as %40); an '@' in the path is written %40 too.`);
    }
}
function readCaBundle(value, readFile) {
    if (value.includes('-----BEGIN CERTIFICATE-----'))
        return value;
    let pem;
    try {
        pem = readFile(value);
    }
    catch (error) {
        throw new errors_ConfigurationError(`Input 'ca-bundle' must be a readable PEM file or the PEM text itself; cannot read '${value}': ${errors_errorMessage(error)}.`);
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
        throw new errors_ConfigurationError(`Input 'ca-bundle' must be a PEM file with at least one certificate; '${value}' holds none.`);
    }
    return pem;
}

;// CONCATENATED MODULE: ./actions/smoke-check/summary.ts



const summary_EXCERPT_CHARS = 1000;
/** The job summary as Markdown: a verdict line, one table row per check, the last body of each failure. */
function renderSummary(report, options, secrets) {
    const lines = [];
    const passed = report.results.length - report.failedCount;
    lines.push(`## Smoke check: ${report.healthy ? 'healthy ✅' : 'unhealthy ❌'}`, '');
    lines.push(`${passed} of ${report.results.length} checks passed in ${formatMs(report.durationMs)} ` +
        `(deadline ${formatMs(options.deadlineMs)}, ${options.stableFor} passing answer${options.stableFor > 1 ? 's' : ''} in a row required).`, '');
    if (options.tls.insecure) {
        lines.push('> [!WARNING]', '> TLS certificates were **not verified** (`insecure: true`).', '');
    }
    else if (options.tls.ca) {
        lines.push('TLS certificates verified against the system roots and the given `ca-bundle`.', '');
    }
    lines.push('| Check | Result | Status | Latency | Attempts | Reason |', '| --- | --- | --- | --- | --- | --- |');
    for (const result of report.results) {
        lines.push(`| ${cell(result.name)} | ${result.ok ? '✅ pass' : '❌ fail'} | ${result.status ?? '–'} | ` +
            `${result.latencyMs === undefined ? '–' : `${result.latencyMs} ms`} | ${result.attempts} | ${cell(result.reason)} |`);
    }
    for (const result of report.results.filter((r) => !r.ok))
        lines.push('', ...failureDetails(result));
    return maskSecrets(lines.join('\n') + '\n', secrets);
}
function failureDetails(result) {
    const heading = `Last answer of ${escapeHtml(result.name)}${result.status ? ` (HTTP ${result.status})` : ''}`;
    const redirects = result.redirects.length
        ? [`<p>Redirected through: ${result.redirects.map((url) => `<code>${escapeHtml(url)}</code>`).join(' → ')}</p>`]
        : [];
    if (result.lastBody === undefined) {
        return [
            '<details><summary>' + heading + '</summary>',
            '',
            ...redirects,
            `<p>No answer: ${escapeHtml(result.reason)}</p>`,
            '</details>',
        ];
    }
    // The server's own text: its lines stay (a <pre> block), each without controls, and bounded as a whole.
    const excerpt = untrustedLines(result.lastBody, summary_EXCERPT_CHARS);
    return [
        '<details><summary>' + heading + '</summary>',
        '',
        ...redirects,
        `<pre>${escapeHtml(excerpt) || '(empty body)'}</pre>`,
        '</details>',
    ];
}
function cell(text) {
    return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}
function escapeHtml(text) {
    return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

;// CONCATENATED MODULE: ./actions/smoke-check/main.ts









function runnerEdges() {
    return {
        inputs: environmentInputs,
        readFile: (path) => (0,external_node_fs_namespaceObject.readFileSync)(path, 'utf8'),
        setSecret: setSecret,
        setOutput: setOutput,
        info: info,
        warning: (message, title) => warning(message, title ? { title } : {}),
        error: (message, title) => error(message, title ? { title } : {}),
        writeSummary: async (markdown) => {
            // Outside a runner (act, a local run) there is no summary file; the log and outputs still tell everything.
            if (process.env.GITHUB_STEP_SUMMARY)
                await summary.addRaw(markdown).write();
        },
        engine: defaultEngineDeps,
    };
}
async function run(edges = runnerEdges()) {
    await runAction(async () => {
        await smokeCheck(edges);
    });
}
/** GitHub shows 10 annotations of a type per step; one is kept for the step's own failure message. */
const MAX_CHECK_ANNOTATIONS = 9;
async function smokeCheck(edges) {
    const inputs = await loadInputs(edges.inputs, edges.readFile, edges.setSecret);
    const mask = (text) => maskSecrets(text, inputs.secrets);
    if (inputs.options.tls.insecure) {
        edges.warning('TLS certificates are not verified for this check (insecure: true).', 'Smoke check');
    }
    edges.info(`Checking ${inputs.checks.length} URL${inputs.checks.length > 1 ? 's' : ''} in parallel ` +
        `(deadline ${inputs.options.deadlineMs} ms, stable-for ${inputs.options.stableFor}).`);
    const report = await runChecks(inputs.checks, inputs.options, edges.engine(inputs.options, (line) => edges.info(mask(line))));
    const results = report.results.map((r) => ({
        name: r.name,
        url: r.url,
        ok: r.ok,
        status: r.status ?? null,
        latencyMs: r.latencyMs ?? null,
        attempts: r.attempts,
        reason: r.reason,
        ...(r.version !== undefined ? { version: r.version } : {}),
        redirects: r.redirects,
    }));
    edges.setOutput('healthy', String(report.healthy));
    edges.setOutput('results', mask(JSON.stringify(results)));
    edges.setOutput('failed-count', String(report.failedCount));
    edges.setOutput('duration-ms', String(report.durationMs));
    await edges.writeSummary(renderSummary(report, inputs.options, inputs.secrets));
    const failed = report.results.filter((r) => !r.ok);
    const annotate = inputs.failOnUnhealthy ? edges.error : edges.warning;
    for (const result of failed.slice(0, MAX_CHECK_ANNOTATIONS)) {
        const where = result.name === result.url ? '' : `${result.url}: `;
        annotate(mask(`${where}${result.reason}`), `Smoke check failed: ${mask(result.name)}`);
    }
    if (failed.length > MAX_CHECK_ANNOTATIONS) {
        annotate(`${failed.length - MAX_CHECK_ANNOTATIONS} more failing checks: see the job summary.`);
    }
    if (report.healthy) {
        edges.info(`Healthy: ${report.results.length} of ${report.results.length} checks passed in ${report.durationMs} ms.`);
    }
    else {
        const message = `${report.failedCount} of ${report.results.length} smoke checks failed; first: ${mask(failed[0].url)}: ${mask(failed[0].reason)}`;
        if (inputs.failOnUnhealthy)
            throw new ActionFailure(message);
        edges.info(`${message} (fail-on-unhealthy is false: the step stays green).`);
    }
    return report;
}


/***/ }),

/***/ 181:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("buffer");

/***/ }),

/***/ 932:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("process");

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
/******/ 		__webpack_modules__[moduleId](module, module.exports, __nccwpck_require__);
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
/******/ 
/******/ // startup
/******/ // Load entry module and return exports
/******/ // This entry module used 'module' so it can't be inlined
/******/ var __webpack_exports__ = __nccwpck_require__(9421);
/******/ __webpack_exports__ = await __webpack_exports__;
/******/ 
