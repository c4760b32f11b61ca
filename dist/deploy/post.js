import { createRequire as __WEBPACK_EXTERNAL_createRequire } from "module";
/******/ // The require scope
/******/ var __nccwpck_require__ = {};
/******/ 
/************************************************************************/
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
/******/ /* webpack/runtime/hasOwnProperty shorthand */
/******/ (() => {
/******/ 	__nccwpck_require__.o = (obj, prop) => (Object.prototype.hasOwnProperty.call(obj, prop))
/******/ })();
/******/ 
/************************************************************************/
var __webpack_exports__ = {};

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

;// CONCATENATED MODULE: external "node:child_process"
const external_node_child_process_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:child_process");
;// CONCATENATED MODULE: external "node:stream"
const external_node_stream_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:stream");
;// CONCATENATED MODULE: external "node:stream/promises"
const external_node_stream_promises_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:stream/promises");
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
class errors_ActionFailure extends Error {
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

;// CONCATENATED MODULE: ./actions/shared/process.ts







const live = new Set();
/** Children still running, so a cancelled job can stop them before it deletes their half-written files. */
function killRunningProcesses(signal = 'SIGTERM') {
    for (const child of live)
        child.kill(signal);
}
const runProcess = (command, args, options = {}) => new Promise((resolve, reject) => {
    const child = (0,external_node_child_process_namespaceObject.spawn)(command, args, {
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
    const hash = options.sha256 ? (0,external_node_crypto_namespaceObject.createHash)('sha256') : undefined;
    let bytes = 0;
    let stdout = '';
    let sink;
    const destination = options.stdoutFile
        ? (0,external_node_fs_namespaceObject.createWriteStream)(options.stdoutFile, { mode: 0o600 })
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
                return reject(new errors_ActionFailure(`Cannot run ${command}: ${errno === 'ENOENT' ? 'not installed or not on PATH' : spawnError.message}`));
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
        return new errors_ActionFailure(`${what} failed: no space left on the device (ENOSPC).`);
    if (errno === 'EDQUOT')
        return new errors_ActionFailure(`${what} failed: the disk quota is exceeded (EDQUOT).`);
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return new errors_ActionFailure(`${what} failed: ${reason}`);
}
/**
 * The parent's environment without the step's INPUT_* variables: they hold the action's raw inputs (a database URL
 * with its password, a private key), which the tools we start have no business seeing.
 */
function inheritedEnvironment() {
    return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('INPUT_')));
}
function counter(hash, count) {
    return new external_node_stream_namespaceObject.Transform({
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
function process_lastErrorLine(stderr) {
    const lines = stderr
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l !== '');
    return lines.at(-1) ?? '';
}
/** A one-line failure reason for a finished process: its exit, and the end of what it printed on stderr. */
function describeExit(name, result) {
    const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
    const why = process_lastErrorLine(result.stderrTail);
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
        warn(`cleanup: ${errors_errorMessage(error)}`);
    }
}

;// CONCATENATED MODULE: external "node:path"
const external_node_path_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:path");
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
        const dir = (0,external_node_fs_namespaceObject.mkdtempSync)((0,external_node_path_namespaceObject.join)((0,external_node_os_namespaceObject.tmpdir)().length < 40 ? (0,external_node_os_namespaceObject.tmpdir)() : '/tmp', 'rb-ssh-'));
        try {
            const key = settings.privateKey.replace(/\r\n/g, '\n').trimEnd() + '\n';
            (0,external_node_fs_namespaceObject.writeFileSync)((0,external_node_path_namespaceObject.join)(dir, 'key'), key, { mode: 0o600 });
            let policy;
            if (settings.knownHosts) {
                (0,external_node_fs_namespaceObject.writeFileSync)((0,external_node_path_namespaceObject.join)(dir, 'known_hosts'), settings.knownHosts.trimEnd() + '\n', { mode: 0o600 });
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
                    throw new errors_ActionFailure(`The host key of ${settings.host}:${settings.port} does not match the pinned fingerprint ${settings.hostFingerprint}` +
                        (scan.stdout.trim()
                            ? ` (the server offers ${fingerprintsOf(scan.stdout).join(', ')})`
                            : ' (no host key could be read)') +
                        '; refusing to connect.');
                }
                (0,external_node_fs_namespaceObject.writeFileSync)((0,external_node_path_namespaceObject.join)(dir, 'known_hosts'), lines.join('\n') + '\n', { mode: 0o600 });
                policy = `pinned fingerprint ${settings.hostFingerprint}`;
            }
            else {
                (0,external_node_fs_namespaceObject.writeFileSync)((0,external_node_path_namespaceObject.join)(dir, 'known_hosts'), '', { mode: 0o600 });
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
                throw new errors_ActionFailure(connectionError(settings, master));
            return connection;
        }
        catch (error) {
            (0,external_node_fs_namespaceObject.rmSync)(dir, { recursive: true, force: true });
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
        if (!(0,external_node_fs_namespaceObject.existsSync)(leftover.directory))
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
            (0,external_node_path_namespaceObject.join)(this.dir, 'key'),
            '-o',
            'IdentitiesOnly=yes',
            '-o',
            'BatchMode=yes',
            '-o',
            `UserKnownHostsFile=${(0,external_node_path_namespaceObject.join)(this.dir, 'known_hosts')}`,
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
            `ControlPath=${(0,external_node_path_namespaceObject.join)(this.dir, 'ctl')}`,
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
                throw new errors_ConfigurationError(`A secret sent over SSH (${name}) cannot contain a new line.`);
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
            throw new errors_ActionFailure(`${what} on ${this.settings.host} failed: ${describeExit('the remote command', result)}`);
        return result.stdout;
    }
    /** Closes the master connection and removes the key. Safe to call twice. */
    async close() {
        try {
            await this.run('ssh', [...this.baseArgs(), '-O', 'exit', this.destination()]);
        }
        finally {
            (0,external_node_fs_namespaceObject.rmSync)(this.dir, { recursive: true, force: true });
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
    return external_node_stream_namespaceObject.Readable.from((async function* () {
        yield Buffer.from(head);
        for await (const chunk of rest)
            yield chunk;
    })());
}
function validateSettings(s) {
    if (!s.host)
        throw new errors_ConfigurationError(`Input 'ssh-host' is required for an SSH connection.`);
    if (!/^[A-Za-z0-9._:-]+$/.test(s.host) || s.host.startsWith('-')) {
        throw new errors_ConfigurationError(`Input 'ssh-host' must be a host name or IP address; got '${s.host}'.`);
    }
    if (!s.user || !/^[A-Za-z0-9._][A-Za-z0-9._-]*$/.test(s.user)) {
        throw new errors_ConfigurationError(`Input 'ssh-user' must be a user name (letters, digits, . _ -); got '${s.user}'.`);
    }
    if (!s.privateKey.includes('PRIVATE KEY')) {
        throw new errors_ConfigurationError(`Input 'ssh-private-key' must be an OpenSSH or PEM private key (the text of the file).`);
    }
    if (!s.knownHosts && !s.hostFingerprint && !s.acceptNew) {
        throw new errors_ConfigurationError(`SSH host keys are verified: set 'ssh-known-hosts' (known_hosts lines) or 'ssh-host-fingerprint' (SHA256:…), or 'ssh-accept-new-host-key: true' to trust a first-seen key.`);
    }
    if (s.hostFingerprint && !/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(s.hostFingerprint)) {
        throw new errors_ConfigurationError(`Input 'ssh-host-fingerprint' must look like SHA256:<43 base64 characters> (as 'ssh-keygen -lf' prints); got '${s.hostFingerprint}'.`);
    }
}
/** 'SHA256:…' of a key blob, as OpenSSH prints it (unpadded base64 of the SHA-256 of the decoded key). */
function fingerprintOf(base64Key) {
    return 'SHA256:' + (0,external_node_crypto_namespaceObject.createHash)('sha256').update(Buffer.from(base64Key, 'base64')).digest('base64').replace(/=+$/, '');
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
    return `SSH to ${where} failed: ${describeExit('ssh', result)}`;
}

;// CONCATENATED MODULE: external "node:http"
const external_node_http_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:http");
var external_node_http_default = /*#__PURE__*/__nccwpck_require__.n(external_node_http_namespaceObject);
;// CONCATENATED MODULE: external "node:https"
const external_node_https_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:https");
var external_node_https_default = /*#__PURE__*/__nccwpck_require__.n(external_node_https_namespaceObject);
;// CONCATENATED MODULE: ./actions/deploy/heroku/api.ts




/** Heroku's Platform API v3 media type: without it the API answers with its legacy, undocumented shapes. */
const HEROKU_ACCEPT = 'application/vnd.heroku+json; version=3';
/** An answer Heroku gave that is not a success: `id` is Heroku's error id (not_found, forbidden, …). */
class api_HerokuApiError extends errors_ActionFailure {
    status;
    errorId;
    constructor(message, status, errorId) {
        super(message);
        this.status = status;
        this.errorId = errorId;
        this.name = 'HerokuApiError';
    }
}
/** A Retry-After longer than this is not waited for in full: a deploy step should not hang for minutes. */
const MAX_RETRY_AFTER_MS = 60_000;
/** A thrown value's message, also for errors made in another realm (node internals seen from a test VM). */
function messageOf(error) {
    const message = error?.message;
    return typeof message === 'string' ? message : String(error);
}
/** Methods whose repetition cannot do a thing twice: a POST that creates a build or a release is not one of them. */
function isIdempotent(method) {
    return method === 'GET' || method === 'PUT' || method === 'DELETE' || method === 'PATCH';
}
/** Retry-After as seconds or an HTTP date, in milliseconds from `now`; undefined when absent or unreadable. */
function retryAfterMs(value, now) {
    if (!value)
        return undefined;
    if (/^\d+(\.\d+)?$/.test(value.trim()))
        return Math.round(Number(value) * 1000);
    const at = Date.parse(value);
    return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
/**
 * Whether to try again after an answer (status) or a network error (status 0), and how long to wait first.
 * 429 is always safe to repeat (Heroku did nothing); a 5xx or a lost connection only for idempotent methods,
 * since a POST may have created a build before the answer was lost. Backoff doubles with full jitter.
 */
function decideRetry(method, status, attempt, retryAfter, options) {
    if (attempt >= options.maxAttempts)
        return { retry: false, delayMs: 0 };
    const backoff = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
    const jittered = Math.round(backoff / 2 + (options.random() * backoff) / 2);
    if (status === 429) {
        return { retry: true, delayMs: Math.min(retryAfter ?? jittered, MAX_RETRY_AFTER_MS), reason: 'rate limited' };
    }
    if (!isIdempotent(method))
        return { retry: false, delayMs: 0 };
    if (status === 0)
        return { retry: true, delayMs: jittered, reason: 'connection failed' };
    if (status >= 500)
        return { retry: true, delayMs: retryAfter ?? jittered, reason: `HTTP ${status}` };
    return { retry: false, delayMs: 0 };
}
/**
 * A small Platform API client on node:http(s). The key goes only into the Authorization header of requests to
 * the API's own origin: signed URLs (put_url, output streams) are other hosts and never see it.
 */
class HerokuApi {
    options;
    maxAttempts;
    baseDelayMs;
    maxDelayMs;
    timeoutMs;
    /** Set when RateLimit-Remaining reached 0: the next request waits instead of collecting a 429. */
    pauseMs = 0;
    /** Every request sent, for the summary (method and path, never a header). */
    calls = [];
    constructor(options) {
        this.options = options;
        options.setSecret(options.apiKey);
        this.maxAttempts = options.maxAttempts ?? 5;
        this.baseDelayMs = options.baseDelayMs ?? 500;
        this.maxDelayMs = options.maxDelayMs ?? 8000;
        this.timeoutMs = options.timeoutMs ?? 30000;
    }
    get origin() {
        return this.options.baseUrl.origin;
    }
    get(path, headers = {}) {
        return this.request('GET', path, undefined, headers);
    }
    post(path, body) {
        return this.request('POST', path, body);
    }
    patch(path, body) {
        return this.request('PATCH', path, body);
    }
    /** A JSON request to the API, retried per decideRetry; throws HerokuApiError on an answer that is not 2xx. */
    async request(method, path, body, headers = {}) {
        const url = new URL(path.replace(/^\//, ''), this.options.baseUrl.href.replace(/\/?$/, '/'));
        const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
        const requestHeaders = {
            Accept: HEROKU_ACCEPT,
            Authorization: `Bearer ${this.options.apiKey}`,
            'User-Agent': this.options.userAgent ?? 'runbook-deploy',
            ...headers,
        };
        if (payload) {
            requestHeaders['Content-Type'] = 'application/json';
            requestHeaders['Content-Length'] = String(payload.length);
        }
        for (let attempt = 1;; attempt++) {
            if (this.pauseMs > 0) {
                const pause = this.pauseMs;
                this.pauseMs = 0;
                await this.options.sleep(pause);
            }
            this.calls.push(`${method} ${url.pathname}`);
            let answer;
            try {
                answer = await send(url, method, requestHeaders, payload, this.timeoutMs);
            }
            catch (error) {
                const decision = this.decide(method, 0, attempt, undefined);
                if (!decision.retry) {
                    throw new errors_ActionFailure(`Heroku API ${method} ${url.pathname}: ${messageOf(error)}`);
                }
                this.options.warning(`Heroku API ${method} ${url.pathname}: ${decision.reason}; retrying in ${decision.delayMs} ms.`);
                await this.options.sleep(decision.delayMs);
                continue;
            }
            if (answer.status >= 200 && answer.status < 300) {
                this.notePace(answer.headers);
                return { status: answer.status, headers: answer.headers, body: parseJson(answer.text, method, url) };
            }
            const decision = this.decide(method, answer.status, attempt, retryAfterMs(header(answer.headers, 'retry-after'), Date.now()));
            if (!decision.retry)
                throw apiError(method, url, answer);
            this.options.warning(`Heroku API ${method} ${url.pathname}: ${decision.reason}; retrying in ${decision.delayMs} ms (attempt ${attempt + 1} of ${this.maxAttempts}).`);
            await this.options.sleep(decision.delayMs);
        }
    }
    /** Uploads a file to a signed URL: PUT with an empty Content-Type (the URL is signed for exactly that). */
    async upload(putUrl, file, size) {
        const url = new URL(putUrl);
        for (let attempt = 1;; attempt++) {
            let status = 0;
            let text;
            try {
                const answer = await send(url, 'PUT', { 'Content-Type': '', 'Content-Length': String(size) }, () => (0,external_node_fs_namespaceObject.createReadStream)(file), this.timeoutMs * 4);
                status = answer.status;
                text = answer.text;
                if (status >= 200 && status < 300)
                    return;
            }
            catch (error) {
                text = messageOf(error);
            }
            const decision = this.decide('PUT', status, attempt, undefined);
            if (!decision.retry) {
                throw new errors_ActionFailure(`Uploading the source to ${url.origin} failed: ${status ? `HTTP ${status} ` : ''}${text.slice(0, 200)}`);
            }
            this.options.warning(`Source upload: ${decision.reason}; retrying in ${decision.delayMs} ms.`);
            await this.options.sleep(decision.delayMs);
        }
    }
    /**
     * Streams a build or release output URL into `onLine`, line by line, until the server closes it. The stream may
     * not exist yet for a moment (404): retried a few times. Never throws: a lost stream only costs log lines.
     */
    async stream(streamUrl, onLine, attempts = 10) {
        const url = new URL(streamUrl);
        for (let attempt = 1; attempt <= attempts; attempt++) {
            const status = await streamLines(url, onLine, this.timeoutMs * 20).catch(() => 0);
            if (status >= 200 && status < 300)
                return true;
            await this.options.sleep(Math.min(this.maxDelayMs, this.baseDelayMs * attempt));
        }
        return false;
    }
    decide(method, status, attempt, retryAfter) {
        return decideRetry(method, status, attempt, retryAfter, {
            maxAttempts: this.maxAttempts,
            baseDelayMs: this.baseDelayMs,
            maxDelayMs: this.maxDelayMs,
            random: this.options.random,
        });
    }
    /** Heroku refills the token bucket continuously: at zero, a short pause beats a 429 and its retry. */
    notePace(headers) {
        const remaining = header(headers, 'ratelimit-remaining');
        if (remaining !== undefined && Number(remaining) <= 0) {
            this.pauseMs = retryAfterMs(header(headers, 'retry-after'), Date.now()) ?? this.baseDelayMs * 2;
            this.options.warning(`Heroku API rate limit reached; pausing ${this.pauseMs} ms before the next request.`);
        }
    }
}
function header(headers, name) {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
}
function parseJson(text, method, url) {
    if (text.trim() === '')
        return undefined;
    try {
        return JSON.parse(text);
    }
    catch {
        throw new errors_ActionFailure(`Heroku API ${method} ${url.pathname} answered with something that is not JSON.`);
    }
}
function apiError(method, url, answer) {
    let id;
    let message = answer.text.slice(0, 300);
    try {
        const body = JSON.parse(answer.text);
        id = body.id;
        message = body.message ?? message;
    }
    catch {
        // Not JSON (a proxy's HTML page): the start of the text says enough.
    }
    const hint = answer.status === 401
        ? ' Check the heroku-api-key secret (a token from `heroku authorizations:create`).'
        : answer.status === 403 || answer.status === 404
            ? ' Check the app name and that the API key can access it.'
            : '';
    return new api_HerokuApiError(`Heroku API ${method} ${url.pathname} failed: HTTP ${answer.status}${id ? ` (${id})` : ''}: ${message}${hint}`, answer.status, id);
}
function transport(url) {
    if (url.protocol === 'https:')
        return (external_node_https_default());
    if (url.protocol === 'http:')
        return (external_node_http_default());
    throw new errors_ActionFailure(`Unsupported URL scheme ${url.protocol} (${url.origin}).`);
}
function send(url, method, headers, body, timeoutMs) {
    return new Promise((resolve, reject) => {
        const request = transport(url).request(url, { method, headers, timeout: timeoutMs }, (response) => {
            const chunks = [];
            response.on('data', (chunk) => chunks.push(chunk));
            response.on('end', () => resolve({
                status: response.statusCode ?? 0,
                headers: response.headers,
                text: Buffer.concat(chunks).toString('utf8'),
            }));
            response.on('error', reject);
        });
        request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        request.on('error', reject);
        if (typeof body === 'function')
            body().pipe(request);
        else
            request.end(body);
    });
}
/** GET a stream, handing each complete line to onLine as it arrives; resolves with the status once it ends. */
function streamLines(url, onLine, timeoutMs) {
    return new Promise((resolve, reject) => {
        const request = transport(url).get(url, { timeout: timeoutMs }, (response) => {
            const status = response.statusCode ?? 0;
            if (status < 200 || status >= 300) {
                response.resume();
                response.on('end', () => resolve(status));
                return;
            }
            let pending = '';
            response.setEncoding('utf8');
            response.on('data', (chunk) => {
                pending += chunk;
                const lines = pending.split('\n');
                pending = lines.pop() ?? '';
                for (const line of lines)
                    onLine(line.replace(/\r$/, ''));
            });
            response.on('end', () => {
                if (pending)
                    onLine(pending);
                resolve(status);
            });
            response.on('error', reject);
        });
        request.on('timeout', () => request.destroy(new Error(`stream idle for ${timeoutMs} ms`)));
        request.on('error', reject);
    });
}

;// CONCATENATED MODULE: ./actions/deploy/heroku/build.ts


function build_appPath(app, ...rest) {
    return ['/apps', encodeURIComponent(app), ...rest.map(encodeURIComponent)].join('/');
}
/** The request body of POST /apps/{app}/builds: buildpacks given as URLs, or as registry names (heroku/python). */
function buildRequest(blob, buildpacks) {
    const body = {
        source_blob: { url: blob.url, version: blob.version, checksum: blob.checksum },
    };
    if (buildpacks.length > 0)
        body.buildpacks = buildpacks.map((bp) => (/^https?:\/\//.test(bp) ? { url: bp } : { name: bp }));
    return body;
}
/** How long the log stream may lag behind a finished build or release before we stop waiting for its last lines. */
const STREAM_GRACE_MS = 15_000;
/** Waits for a stream to end, but never longer than the grace period (an output URL that stays open must not hang us). */
function build_settleStream(streaming, graceMs = STREAM_GRACE_MS) {
    let timer;
    const grace = new Promise((resolve) => {
        timer = setTimeout(resolve, graceMs);
        timer.unref?.();
    });
    return Promise.race([streaming, grace]).finally(() => clearTimeout(timer));
}
/**
 * A poll sleep that also wakes up once when the output stream ends: Heroku closes it when the work is done, so the
 * next status read need not wait a whole interval. Later sleeps are plain ones.
 */
function build_wakeOnEnd(sleep, streaming) {
    let ended = false;
    const end = streaming.then(() => {
        ended = true;
    });
    return (ms) => (ended ? sleep(ms) : Promise.race([sleep(ms), end]));
}
/** Polls `read` until `done` says so, or fails naming `what` after the timeout. */
async function build_pollUntil(read, done, poll, what) {
    const deadline = poll.clock() + poll.timeoutMs;
    for (;;) {
        const value = await read();
        if (done(value))
            return value;
        if (poll.clock() >= deadline) {
            throw new ActionFailure(`${what} did not finish within ${Math.round(poll.timeoutMs / 1000)} s.`);
        }
        await poll.sleep(poll.intervalMs);
    }
}
/** Clocks differ between the runner and Heroku: a build this much older than our request can still be ours. */
const CLOCK_SKEW_MS = 120_000;
/** The build a request created, known from its source: the signed URL (one per upload), commit and checksum. Pure. */
function isBuildOf(build, blob, sentAt) {
    const source = build.source_blob;
    if (source.url !== blob.url && (source.version !== blob.version || source.checksum !== blob.checksum))
        return false;
    const created = build.created_at ? Date.parse(build.created_at) : NaN;
    return Number.isNaN(created) || created >= sentAt.getTime() - CLOCK_SKEW_MS;
}
/** The answer to a POST may be lost after Heroku acted on it: a 5xx or a broken connection, not a 4xx refusal. */
function answerMayBeLost(error) {
    return !(error instanceof HerokuApiError) || error.status >= 500;
}
/**
 * When the answer to POST /builds is lost, the build may exist and go on to release on its own: look for it (by
 * its source, created since the request) before failing. Asked twice, a poll apart, in case the list lags.
 */
async function findLostBuild(api, app, blob, sentAt, poll) {
    for (let attempt = 0; attempt < 2; attempt++) {
        if (attempt > 0)
            await poll.sleep(poll.intervalMs);
        const { body } = await api.get(build_appPath(app, 'builds'), {
            Range: 'started_at ..; order=desc, max=20',
        });
        const found = (Array.isArray(body) ? body : []).find((b) => isBuildOf(b, blob, sentAt));
        if (found)
            return found;
    }
    return undefined;
}
/**
 * Creates the build, streams its output live into the log while polling its status, and returns it once it
 * is no longer pending (and, when it succeeded, once Heroku has attached the release it created).
 */
async function build_runBuild(api, app, blob, buildpacks, onLine, poll, events = {}) {
    const { onCreated = () => undefined, onLost = () => undefined, now = () => new Date() } = events;
    const sentAt = now();
    let created;
    try {
        created = (await api.post(build_appPath(app, 'builds'), buildRequest(blob, buildpacks))).body;
    }
    catch (error) {
        if (!answerMayBeLost(error))
            throw error;
        const found = await findLostBuild(api, app, blob, sentAt, poll);
        onLost({ error: errorMessage(error), found: found !== undefined });
        if (!found) {
            throw new ActionFailure(`Creating the build of ${app} failed (${errorMessage(error)}), and Heroku lists no build of this source since: nothing was built or released.`);
        }
        created = found;
    }
    onCreated(created);
    const streaming = created.output_stream_url ? api.stream(created.output_stream_url, onLine) : Promise.resolve(false);
    const read = async () => (await api.get(build_appPath(app, 'builds', created.id))).body;
    let build = await build_pollUntil(read, (b) => b.status !== 'pending', { ...poll, sleep: build_wakeOnEnd(poll.sleep, streaming) }, `The build ${created.id} of ${app}`);
    // The stream ends when the build does; wait for its last lines so the log reads in order.
    await build_settleStream(streaming);
    if (build.status === 'succeeded' && !build.release) {
        build = await build_pollUntil(read, (b) => b.release !== null, poll, `The release of build ${created.id}`);
    }
    return build;
}

;// CONCATENATED MODULE: ./actions/deploy/heroku/maintenance.ts

/** Django keeps migrations in <app>/migrations/*.py; any change there may alter the schema. */
const MIGRATION_PATHSPEC = '*/migrations/*.py';
async function maintenance_setMaintenance(api, app, on) {
    await api.patch(build_appPath(app), { maintenance: on });
}
/**
 * `git diff --name-only <old>..<new> -- '*\/migrations/*.py'`. The old commit is fetched when the checkout is
 * shallow and lacks it; when it still cannot be compared, the answer says why (and the caller plays safe).
 */
async function maintenance_migrationChanges(runner, repository, oldCommit, newCommit) {
    if (!oldCommit)
        return { known: false, why: 'the release serving now has no known commit' };
    if (!/^[0-9a-f]{7,64}$/i.test(oldCommit))
        return { known: false, why: `'${oldCommit}' is not a commit sha` };
    const has = async () => (await runner('git', ['cat-file', '-e', `${oldCommit}^{commit}`], { cwd: repository })).code === 0;
    if (!(await has())) {
        await runner('git', ['fetch', '--no-tags', '--quiet', '--depth=1', 'origin', oldCommit], { cwd: repository });
        if (!(await has())) {
            return {
                known: false,
                why: `commit ${oldCommit.slice(0, 12)} (serving now) is not in the checkout and could not be fetched`,
            };
        }
    }
    const diff = await runner('git', ['diff', '--name-only', `${oldCommit}..${newCommit}`, '--', MIGRATION_PATHSPEC], {
        cwd: repository,
    });
    if (diff.code !== 0)
        return { known: false, why: `git diff failed: ${diff.stderrTail.trim() || `exit code ${diff.code}`}` };
    return {
        known: true,
        files: diff.stdout
            .split('\n')
            .map((l) => l.trim())
            .filter((l) => l !== ''),
    };
}
/** Maintenance on or off, and the sentence the summary shows. Pure. */
function maintenance_decideMaintenance(mode, diff) {
    if (mode === 'true')
        return { on: true, why: 'maintenance: true' };
    if (mode === 'false')
        return { on: false, why: 'maintenance: false' };
    if (!diff.known)
        return { on: true, why: `migrations may differ (${diff.why}), so maintenance is on to be safe` };
    return diff.files.length > 0
        ? {
            on: true,
            why: `${diff.files.length} migration file(s) changed: ${diff.files.slice(0, 5).join(', ')}${diff.files.length > 5 ? ', …' : ''}`,
        }
        : { on: false, why: 'no migration file changed since the release serving now' };
}
/** Whether to back up before the release phase migrates: auto follows the same migration diff. Pure. */
function maintenance_decideBackup(mode, diff) {
    if (mode === 'always')
        return { take: true, why: 'backup: always' };
    if (mode === 'never')
        return { take: false, why: 'backup: never' };
    if (!diff.known)
        return { take: true, why: `migrations may differ (${diff.why})` };
    return diff.files.length > 0
        ? { take: true, why: `${diff.files.length} migration file(s) changed` }
        : { take: false, why: 'no migration file changed' };
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
function database_url_parseDatabaseUrl(text, inputName, setSecret = () => undefined) {
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

;// CONCATENATED MODULE: ./actions/deploy/heroku/dynos.ts


/** What the web dynos say about a release: up on it, crashed on it, or still on their way. Pure. */
function judgeDynos(dynos, version) {
    const web = dynos.filter((d) => d.type === 'web');
    if (web.length === 0)
        return { verdict: 'none', detail: 'no web dyno runs' };
    const list = web.map((d) => `${d.name} ${d.state} on v${d.release?.version ?? '?'}`).join(', ');
    // A dyno of the old release that crashes says nothing about the new one: only crashes on this version count.
    if (web.some((d) => d.release?.version === version && d.state === 'crashed'))
        return { verdict: 'crashed', detail: list };
    if (web.every((d) => d.release?.version === version && d.state === 'up'))
        return { verdict: 'up', detail: list };
    return { verdict: 'waiting', detail: list };
}
/**
 * The health gate when the router cannot be asked (the app is in maintenance, so every request gets Heroku's
 * maintenance page): the release succeeded, and every web dyno runs it and is up. GET /apps/{app}/dynos is polled
 * until then; a web dyno of this release that crashes fails it at once.
 */
async function dynos_checkDynos(api, app, version, poll) {
    const deadline = poll.clock() + poll.timeoutMs;
    for (;;) {
        const { body } = await api.get(appPath(app, 'dynos'));
        const { verdict, detail } = judgeDynos(Array.isArray(body) ? body : [], version);
        if (verdict === 'up')
            return detail;
        if (verdict === 'none')
            return `${detail}: only the release status could be checked`;
        if (verdict === 'crashed')
            throw new ActionFailure(`A web dyno of ${app} v${version} crashed (${detail}).`);
        if (poll.clock() >= deadline) {
            throw new ActionFailure(`The web dynos of ${app} were not up on v${version} within ${Math.round(poll.timeoutMs / 1000)} s (${detail}).`);
        }
        await poll.sleep(poll.intervalMs);
    }
}

;// CONCATENATED MODULE: ./actions/shared/inputs.ts



/** Reads inputs the way @actions/core does (INPUT_<NAME>, spaces to underscores, upper-case, trimmed). */
const environmentInputs = (name) => (process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();
/** One validated read of an action's inputs. Every parse error names the input and what it accepts. */
class inputs_InputReader {
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
        return inputs_parseUrl(name, value, options.protocols ?? ['http:', 'https:']);
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
function inputs_parseUrl(name, value, protocols) {
    let url;
    try {
        url = new URL(value);
    }
    catch {
        throw new ConfigurationError(`Input '${name}' must be an absolute URL with a scheme (${protocols.map((p) => p.replace(':', '://')).join(' or ')}); got '${excerpt(redactUrlText(value))}'.`);
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
        throw new ConfigurationError(`Input '${name}' must be a number${describeRange(range)}; got '${n}'.`);
    }
}

;// CONCATENATED MODULE: ./actions/smoke-check/json-path.ts


function json_path_parseJsonPath(name, text) {
    const fail = (why) => {
        throw new ConfigurationError(`Input '${name}' must be a JSON path such as $.commit or data.items[0].id (${why}); got '${excerpt(text)}'.`);
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

;// CONCATENATED MODULE: ./actions/smoke-check/check-spec.ts




const HTTP_METHODS = (/* unused pure expression or super */ null && (['GET', 'HEAD']));
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
function check_spec_versionSource(text, name = 'version-from') {
    const trimmed = text.trim();
    if (trimmed === 'body')
        return { kind: 'body' };
    const header = /^header\s*:\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)$/.exec(trimmed);
    if (header)
        return { kind: 'header', name: header[1].toLowerCase() };
    const json = /^json\s*:\s*(.+)$/.exec(trimmed);
    if (json)
        return { kind: 'json', path: parseJsonPath(name, json[1]) };
    throw new ConfigurationError(`Input '${name}' must be body, header:<Header-Name> or json:<path> (e.g. json:$.commit); got '${excerpt(trimmed)}'.`);
}

;// CONCATENATED MODULE: ./actions/deploy/inputs.ts







const TARGETS = (/* unused pure expression or super */ null && (['ssh', 'local', 'heroku']));
const RELOADS = (/* unused pure expression or super */ null && (['hup', 'restart', 'command']));
/** The names deploy shares with db-backup, db-restore and smoke-check; the old ones still work (README "Input names"). */
const DEPLOY_RENAMED_INPUTS = [
    { name: 'ssh-host', deprecated: 'hosts' },
    { name: 'ssh-port', deprecated: 'port' },
    { name: 'ssh-user', deprecated: 'user' },
    { name: 'ssh-private-key', deprecated: 'private-key' },
    { name: 'ssh-known-hosts', deprecated: 'known-hosts' },
    { name: 'ssh-host-fingerprint', deprecated: 'host-fingerprint' },
    { name: 'ssh-accept-new-host-key', deprecated: 'accept-new-host-key' },
    { name: 'expect-version', deprecated: 'expect-commit' },
];
/** `expected-status` and `version-from` with smoke-check's parsers and words, plus `none` (status only). */
function inputs_readHealthGate(read) {
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
function inputs_readAppDirectory(read) {
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
function parseHost(item, defaultPort) {
    const match = /^\[([^\]]+)\]:(\d+)$/.exec(item) ?? /^([^:]+):(\d+)$/.exec(item);
    const host = match ? match[1] : item;
    const port = match ? Number(match[2]) : defaultPort;
    // 253 characters is DNS's limit for a name: a longer one would only fail later, inside ssh.
    if (!HOST.test(host) || host.startsWith('-') || host.length > 253) {
        throw new ConfigurationError(`Input 'ssh-host' must list host names or IP addresses (host or host:port); got '${excerpt(item)}'.`);
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
function readDeployInputs(source, setSecret, env) {
    const read = new InputReader(source);
    const privateKey = read.raw('ssh-private-key');
    if (privateKey) {
        setSecret(privateKey);
        // A multi-line secret is masked line by line too: a tool may print one line of it.
        for (const line of privateKey.split(/\r?\n/))
            if (line.trim() && !line.includes('PRIVATE KEY'))
                setSecret(line.trim());
    }
    const databaseUrl = read.raw('database-url');
    const database = databaseUrl ? parseDatabaseUrl(databaseUrl, 'database-url', setSecret) : undefined;
    const target = read.oneOf('target', TARGETS);
    const mode = read.oneOf('mode', ['deploy', 'rollback']);
    const deployTo = read.string('deploy-to', { required: true });
    if (!posix.isAbsolute(deployTo) || deployTo.split('/').includes('..') || /[\n\0]/.test(deployTo)) {
        throw new ConfigurationError(`Input 'deploy-to' must be an absolute path on the server (e.g. /srv/app); got '${excerpt(deployTo)}'.`);
    }
    if (posix.normalize(deployTo) === '/')
        throw new ConfigurationError(`Input 'deploy-to' cannot be the root directory '/'.`);
    let ssh;
    if (target === 'ssh') {
        const port = read.integer('ssh-port', { min: 1, max: 65535 });
        const hosts = read.list('ssh-host').map((item) => parseHost(item, port));
        if (hosts.length === 0)
            throw new ConfigurationError(`Input 'ssh-host' is required with target ssh (one or more host names).`);
        const user = read.string('ssh-user', { required: true });
        if (!/^[A-Za-z0-9._][A-Za-z0-9._-]{0,63}$/.test(user)) {
            throw new ConfigurationError(`Input 'ssh-user' must be a user name (up to 64 letters, digits, . _ -); got '${excerpt(user)}'.`);
        }
        if (!privateKey)
            throw new ConfigurationError(`Input 'ssh-private-key' is required with target ssh (the text of an OpenSSH private key, from a secret).`);
        if (!privateKey.includes('PRIVATE KEY')) {
            throw new ConfigurationError(`Input 'ssh-private-key' must be an OpenSSH or PEM private key (the text of the file, from a secret).`);
        }
        const knownHosts = read.optionalString('ssh-known-hosts');
        const hostFingerprint = read.optionalString('ssh-host-fingerprint');
        const acceptNewHostKey = read.boolean('ssh-accept-new-host-key');
        if (knownHosts && !/^\S+\s+\S+\s+\S+/m.test(knownHosts)) {
            throw new ConfigurationError(`Input 'ssh-known-hosts' must be known_hosts lines ('host key-type base64-key'), as ssh-keyscan prints them.`);
        }
        if (hostFingerprint && !/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(hostFingerprint)) {
            throw new ConfigurationError(`Input 'ssh-host-fingerprint' must look like SHA256:<43 base64 characters> (as 'ssh-keygen -lf' prints); got '${hostFingerprint}'.`);
        }
        if (!knownHosts && !hostFingerprint && !acceptNewHostKey) {
            throw new ConfigurationError(`Host keys are verified: set 'ssh-known-hosts' (known_hosts lines) or 'ssh-host-fingerprint' (SHA256:…), or 'ssh-accept-new-host-key: true' to trust a first-seen key.`);
        }
        ssh = { hosts, user, privateKey, knownHosts, hostFingerprint, acceptNewHostKey };
    }
    const reload = read.oneOf('reload', RELOADS);
    const reloadCommand = read.optionalString('reload-command');
    const supervisorProgram = read.optionalString('supervisor-program');
    if (reload === 'command' && !reloadCommand) {
        throw new ConfigurationError(`Input 'reload-command' is required with reload: command (a shell command run on the server).`);
    }
    if (reload !== 'command' && !supervisorProgram) {
        throw new ConfigurationError(`Input 'supervisor-program' is required with reload: ${reload} (the supervisord program name).`);
    }
    if (supervisorProgram && !PROGRAM.test(supervisorProgram)) {
        throw new ConfigurationError(`Input 'supervisor-program' must be a supervisord program name (letters, digits, _ . : -); got '${supervisorProgram}'.`);
    }
    const requiredEnv = read.list('required-env');
    const badName = requiredEnv.find((name) => !ENV_NAME.test(name));
    if (badName)
        throw new ConfigurationError(`Input 'required-env' must list variable names (letters, digits, _); got '${badName}'.`);
    const rollbackMigrations = read.list('rollback-migrations');
    const badApp = rollbackMigrations.find((app) => !APP_LABEL.test(app));
    if (badApp)
        throw new ConfigurationError(`Input 'rollback-migrations' must list Django app labels; got '${badApp}'.`);
    const healthUrl = read.optionalString('health-url');
    if (healthUrl) {
        try {
            const url = new URL(healthUrl.replace(/\{host\}/g, 'example.invalid'));
            if (!['http:', 'https:'].includes(url.protocol))
                throw new Error('scheme');
        }
        catch {
            throw new ConfigurationError(`Input 'health-url' must be an http(s) URL, optionally with {host} (e.g. http://{host}/health); got '${healthUrl}'.`);
        }
    }
    const appDirectory = inputs_readAppDirectory(read);
    const maintenanceFile = read.string('maintenance-file', { required: true });
    if (maintenanceFile.startsWith('/') || maintenanceFile.split('/').includes('..')) {
        throw new ConfigurationError(`Input 'maintenance-file' must be a path relative to deploy-to; got '${maintenanceFile}'.`);
    }
    const sharedPaths = read.list('shared-paths');
    const badShared = sharedPaths.find((p) => p.startsWith('/') || p.split('/').includes('..') || p.replace(/\/+$/, '') === '');
    if (badShared !== undefined)
        throw new ConfigurationError(`Input 'shared-paths' must list paths relative to shared/; got '${badShared}'.`);
    const backupDirectory = read.string('backup-directory', { required: true });
    const envFile = read.optionalString('env-file');
    if (envFile !== undefined && (envFile.split('/').includes('..') || /[\n\0]/.test(envFile))) {
        throw new ConfigurationError(`Input 'env-file' must be a path on the server, absolute or relative to deploy-to (e.g. shared/.env); got '${envFile}'.`);
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
        maintenance: read.oneOf('maintenance', ['true', 'false', 'auto']),
        maintenanceFile,
        sharedPaths,
        reload,
        reloadCommand,
        supervisorProgram,
        supervisorConfig: read.optionalString('supervisor-config'),
        healthUrl,
        expectCommit: read.optionalString('expect-version'),
        healthGate: inputs_readHealthGate(read),
        healthTimeoutMs: read.duration('health-timeout'),
        strategy: read.oneOf('strategy', ['rolling', 'parallel']),
        batchSize: read.integer('batch-size', { min: 1 }),
        lockTimeoutMs: read.duration('lock-timeout'),
        rollbackMigrations,
        backup: read.oneOf('backup', ['auto', 'always', 'never']),
        database,
        backupDirectory: posix.isAbsolute(backupDirectory) ? backupDirectory : posix.join(deployTo, backupDirectory),
        envFile: envFile && (posix.isAbsolute(envFile) ? envFile : posix.join(deployTo, envFile)),
        actor: env.GITHUB_ACTOR || 'unknown',
    };
}
function commitInput(read) {
    const commit = read.string('commit', { required: true });
    if (!/^[0-9a-f]{7,40}$/i.test(commit) && !/^[A-Za-z0-9._/-]+$/.test(commit)) {
        throw new ConfigurationError(`Input 'commit' must be a commit sha or a ref; got '${commit}'.`);
    }
    return commit;
}

;// CONCATENATED MODULE: ./actions/deploy/heroku/inputs.ts




/** Heroku's own rule for app names (definitions.app.definitions.name in the Platform API schema). */
const APP_NAME = /^[a-z][a-z0-9-]{1,28}[a-z0-9]$/;
const CONFIG_VAR = /^\w+$/;
/** An http(s) URL template where `{app}` (and `{host}`, the SSH target's spelling) stand for the app name. */
function inputs_expandAppUrl(template, app) {
    return template.replace(/\{app\}|\{host\}/g, app);
}
/** The URL the health gate asks for one app: health-url, else health-path on app-url or on Heroku's web_url. */
function inputs_healthUrlOf(inputs, app, webUrl) {
    if (inputs.healthUrl)
        return inputs_expandAppUrl(inputs.healthUrl, app);
    const base = inputs.appUrl ? inputs_expandAppUrl(inputs.appUrl, app) : webUrl;
    if (!base || !inputs.healthPath)
        return undefined;
    return `${base.replace(/\/+$/, '')}${inputs.healthPath}`;
}
function urlTemplate(read, name) {
    const value = read.optionalString(name);
    if (value === undefined)
        return undefined;
    parseUrl(name, inputs_expandAppUrl(value, 'app-name'), ['http:', 'https:']);
    return value.replace(/\/+$/, '');
}
/**
 * Reads the inputs of `target: heroku`. The API key is masked first, before any other input can fail; a mistake
 * is one ConfigurationError naming the input and what it accepts, and no request has been sent by then.
 */
function readHerokuInputs(source, setSecret, env) {
    const read = new InputReader(source);
    const apiKey = read.raw('heroku-api-key');
    if (apiKey)
        setSecret(apiKey);
    if (!apiKey) {
        throw new ConfigurationError(`Input 'heroku-api-key' is required with target heroku (a Heroku API key from a secret, e.g. \${{ secrets.HEROKU_API_KEY }}).`);
    }
    if (/\s/.test(apiKey))
        throw new ConfigurationError(`Input 'heroku-api-key' must be one token without spaces or new lines.`);
    const apps = [...new Set([...read.list('app'), ...read.list('apps')])];
    if (apps.length === 0) {
        throw new ConfigurationError(`Input 'app' is required with target heroku (the Heroku app name, or several in 'apps').`);
    }
    const bad = apps.find((app) => !APP_NAME.test(app));
    if (bad !== undefined) {
        throw new ConfigurationError(`Input 'app' must be Heroku app names (3 to 30 characters: lower-case letters, digits and dashes, starting with a letter); got '${bad}'.`);
    }
    const apiUrl = read.url('heroku-api-url', { required: true });
    // The key goes in a bearer header: never in clear text beyond this machine.
    if (apiUrl.protocol !== 'https:' && !isLoopback(apiUrl.hostname)) {
        throw new ConfigurationError(`Input 'heroku-api-url' must be an https URL (plain http only to this machine, such as a local stand-in); got '${apiUrl.origin}'.`);
    }
    const appUrl = urlTemplate(read, 'app-url');
    const healthUrl = urlTemplate(read, 'health-url');
    const healthPath = read.raw('health-path').trim();
    if (healthPath && (!healthPath.startsWith('/') || /\s|#/.test(healthPath))) {
        throw new ConfigurationError(`Input 'health-path' must be a path starting with / (e.g. /health or /status?full=1), or empty for no health gate; got '${healthPath}'.`);
    }
    const databaseConfigVar = read.string('database-config-var', { required: true });
    if (!CONFIG_VAR.test(databaseConfigVar)) {
        throw new ConfigurationError(`Input 'database-config-var' must be a config var name (letters, digits, _); got '${databaseConfigVar}'.`);
    }
    const requiredConfigVars = read.list('required-config-vars');
    const badVar = requiredConfigVars.find((name) => !CONFIG_VAR.test(name));
    if (badVar !== undefined) {
        throw new ConfigurationError(`Input 'required-config-vars' must list config var names (letters, digits, _); got '${badVar}'.`);
    }
    const appDirectory = readAppDirectory(read);
    const commit = read.string('commit', { required: true });
    if (!/^[A-Za-z0-9._/-]+$/.test(commit))
        throw new ConfigurationError(`Input 'commit' must be a commit sha or a ref; got '${commit}'.`);
    const workspace = env.GITHUB_WORKSPACE || process.cwd();
    const backupDirectory = read.string('backup-directory', { required: true });
    return {
        mode: read.oneOf('mode', ['deploy', 'rollback']),
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
        maintenance: read.oneOf('maintenance', ['true', 'false', 'auto']),
        backup: read.oneOf('backup', ['auto', 'always', 'never']),
        backupDirectory: isAbsolute(backupDirectory) ? backupDirectory : resolve(workspace, backupDirectory),
        repository: read.optionalString('repository') ?? workspace,
        commit,
        appDirectory,
    };
}
function isLoopback(hostname) {
    return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

;// CONCATENATED MODULE: ./actions/deploy/heroku/release.ts


/** Heroku pages lists with a Range header; newest first is what a deploy wants (enough to see past rollbacks). */
const RECENT_RELEASES = 'version ..; order=desc, max=50';
async function release_recentReleases(api, app) {
    const { body } = await api.get(appPath(app, 'releases'), { Range: RECENT_RELEASES });
    return Array.isArray(body) ? body : [];
}
/** The release serving now: the one flagged current, else the newest that succeeded. Pure. */
function release_servingRelease(releases) {
    const sorted = [...releases].sort((a, b) => b.version - a.version);
    return sorted.find((r) => r.current) ?? sorted.find((r) => r.status === 'succeeded');
}
/** The version a rollback release went back to: Heroku writes `Rollback to v<N>` (API, CLI and dashboard alike). */
function rolledBackTo(release) {
    const match = /^Rollback to v(\d+)\b/.exec(release.description ?? '');
    return match ? Number(match[1]) : undefined;
}
/**
 * The version whose code a release runs: itself, or for a rollback the release it went back to (followed through
 * rollbacks of rollbacks, as far as the list reaches). Pure.
 */
function release_codeVersion(release, releases) {
    const byVersion = new Map(releases.map((r) => [r.version, r]));
    let version = release.version;
    for (let current = release, hops = 0; current && hops < releases.length; hops++) {
        const to = rolledBackTo(current);
        if (to === undefined)
            break;
        version = to;
        current = byVersion.get(to);
    }
    return version;
}
/**
 * Versions a rollback replaced: `Rollback to vN` written as vM means every release between vN and vM was taken
 * down, whether the health gate rejected it or someone rolled it back by hand. Pure.
 */
function replacedVersions(releases) {
    const replaced = new Set();
    for (const release of releases) {
        const to = rolledBackTo(release);
        if (to === undefined)
            continue;
        for (const other of releases)
            if (other.version > to && other.version < release.version)
                replaced.add(other.version);
    }
    return replaced;
}
/**
 * The release to roll back to from `serving`: the newest succeeded one older than the code serving (for a
 * rollback release, older than the release it went back to, so rolling back twice never returns to what the first
 * rollback replaced), and never one a rollback replaced. Pure.
 */
function release_rollbackTarget(releases, serving) {
    const bound = release_codeVersion(serving, releases);
    const replaced = replacedVersions(releases);
    return [...releases]
        .sort((a, b) => b.version - a.version)
        .find((r) => r.version < bound &&
        r.status === 'succeeded' &&
        !replaced.has(r.version) &&
        release_codeVersion(r, releases) < bound &&
        !replaced.has(release_codeVersion(r, releases)));
}
/** The commit a release runs: its slug's `commit` (the source_blob version we built it from). */
async function release_releaseCommit(api, app, release) {
    if (!release.slug)
        return undefined;
    const { body } = await api.get(appPath(app, 'slugs', release.slug.id));
    return body?.commit ?? undefined;
}
/**
 * Waits until the release leaves `pending`, streaming its release-phase output (where `manage.py migrate`
 * runs) into the log. A failed release phase means Heroku kept the previous release serving.
 */
async function release_waitForRelease(api, app, releaseId, onLine, poll) {
    const read = async () => (await api.get(appPath(app, 'releases', releaseId))).body;
    let release = await read();
    // Streamed even when the phase is already over: the stream replays its output, and a failure needs it in the log.
    const streaming = release.output_stream_url ? api.stream(release.output_stream_url, onLine) : Promise.resolve(false);
    if (release.status === 'pending') {
        release = await pollUntil(read, (r) => r.status !== 'pending', { ...poll, sleep: wakeOnEnd(poll.sleep, streaming) }, `The release phase of ${app}`);
    }
    await settleStream(streaming);
    return release;
}
/** POST /apps/{app}/releases {release}: a new release with the old slug and config; waited for. */
async function release_rollBack(api, app, to, onLine, poll) {
    const { body } = await api.post(appPath(app, 'releases'), { release: to.id });
    const release = await release_waitForRelease(api, app, body.id, onLine, poll);
    if (release.status !== 'succeeded') {
        throw new ActionFailure(`Rolling ${app} back to v${to.version} failed: release v${release.version} is ${release.status}.`);
    }
    return release;
}

;// CONCATENATED MODULE: ./actions/deploy/heroku/source.ts




/**
 * `git archive` of the commit as a gzipped tarball in a private temporary directory, hashed on the way through.
 * No history is needed: shallow checkouts work, unlike `git push heroku`.
 */
async function source_packSource(runner, repository, commit, appDirectory, tempDir) {
    const file = join(tempDir, 'source.tar.gz');
    const treeish = appDirectory ? `${commit}:${appDirectory}` : commit;
    try {
        const result = await runner('git', ['archive', '--format=tar.gz', treeish], {
            cwd: repository,
            stdoutFile: file,
            sha256: true,
        });
        if (result.code !== 0 || !result.sha256) {
            throw new ActionFailure(`git archive ${treeish} failed in ${repository}: ${lastErrorLine(result.stderrTail) || `exit code ${result.code}`}`);
        }
        return { file, sha256: result.sha256, sizeBytes: result.bytes };
    }
    catch (error) {
        // Whichever way it failed (git's exit, a full disk, git not found), no partial tarball stays behind.
        await rm(file, { force: true });
        throw error;
    }
}
/** POST /sources for a pair of signed URLs, then the tarball PUT to put_url; the build reads get_url. */
async function source_uploadSource(api, packed, commit) {
    const { body } = await api.post('/sources', undefined);
    const blob = body?.source_blob;
    if (!blob?.put_url || !blob.get_url)
        throw new ActionFailure('Heroku API POST /sources returned no upload URL.');
    await api.upload(blob.put_url, packed.file, packed.sizeBytes);
    return { url: blob.get_url, version: commit, checksum: `SHA256:${packed.sha256}`, sizeBytes: packed.sizeBytes };
}

;// CONCATENATED MODULE: ./actions/deploy/heroku/target.ts













/** The saved-state key of the Heroku target: which apps the post step must take out of maintenance. */
const HEROKU_STATE_KEY = 'deploy-heroku';
/** Names that must be set (non-empty) in the config vars but are not. Pure. */
function missingConfigVars(required, configVars) {
    return required.filter((name) => configVars[name] === undefined || configVars[name] === null || configVars[name] === '');
}
/** Outputs for several apps: one value per app, in app order, comma-separated. Pure. */
function perApp(values) {
    if (values.every((v) => v === undefined))
        return undefined;
    return values.map((v) => (v === undefined ? '' : String(v))).join(',');
}
/**
 * `target: heroku`: the commit built through the Platform API (no CLI, no git push), its release phase checked,
 * a pre-migration backup from the app's own DATABASE_URL, maintenance when migrations change, a health gate
 * expecting the new commit, and a rollback to the previous release when it fails.
 */
class HerokuTarget {
    inputs;
    edges;
    name = 'heroku';
    recorder;
    apps;
    maintenanceOn = new Set();
    report;
    tempDir;
    /** The build running now, for the post step if the job is cancelled meanwhile. */
    pendingBuild;
    /** Migration files differ from the serving release (or that is unknown): a rollback leaves the schema migrated. */
    migrationsChanged = false;
    constructor(inputs, edges) {
        this.inputs = inputs;
        this.edges = edges;
        this.recorder = new PhaseRecorder(edges.clock, edges.log);
        this.apps = inputs.apps.map((name) => ({ name, configVars: {} }));
        this.report = this.recorder.newReport('heroku', inputs.mode);
    }
    async run() {
        try {
            if (this.inputs.mode === 'rollback')
                await this.rollBackOnDemand();
            else
                await this.deploy();
            this.report.ok = true;
        }
        catch (error) {
            this.report.error = errorMessage(error);
        }
        finally {
            await this.cleanUp();
        }
        this.describeOutcome();
        this.report.durationMs = this.recorder.elapsed();
        return this.report;
    }
    /**
     * Outputs and headline say what serves at the end (the rollback release after a rejection, the old release after
     * a failed build), with the refused release apart, so a later step never takes the rejected one for the live one.
     */
    describeOutcome() {
        const { report, apps } = this;
        const serving = (a) => a.servingNow?.release ?? (a.rejected ? a.serving : (a.release ?? a.serving));
        report.releaseId = perApp(apps.map((a) => serving(a)?.id));
        report.releaseVersion = perApp(apps.map((a) => serving(a)?.version));
        report.previousReleaseId = perApp(apps.map((a) => a.serving?.id));
        report.previousReleaseVersion = perApp(apps.map((a) => a.serving?.version));
        report.rejectedReleaseId = perApp(apps.map((a) => a.rejected?.id));
        report.rejectedReleaseVersion = perApp(apps.map((a) => a.rejected?.version));
        report.buildId = perApp(apps.map((a) => a.buildId));
        const many = apps.length > 1;
        const named = (pick) => {
            const parts = apps.flatMap((a) => {
                const text = pick(a);
                return text ? [many ? `${a.name} ${text}` : text] : [];
            });
            return parts.length > 0 ? `\`${parts.join(', ')}\`` : undefined;
        };
        const live = named((a) => {
            const release = serving(a);
            if (!release)
                return 'no release';
            const code = a.servingNow && a.servingNow.codeVersion !== release.version ? ` (v${a.servingNow.codeVersion}'s code)` : '';
            return `v${release.version}${code}`;
        });
        const rejected = named((a) => a.rejected && `v${a.rejected.version}`);
        if (report.mode === 'rollback') {
            report.headline = report.ok ? `Rollback succeeded: ${live} serves` : `Rollback failed: ${live} serves`;
        }
        else if (report.ok) {
            report.headline = `Deploy of ${live} succeeded`;
        }
        else if (rejected) {
            report.headline = report.rolledBack
                ? `Deploy of ${rejected} failed and was rolled back: ${live} serves`
                : `Deploy of ${rejected} failed: ${live} still serves`;
        }
        else {
            report.headline = `Deploy failed before any release: ${live} still serves`;
        }
    }
    poll(timeoutMs = this.edges.buildTimeoutMs) {
        return { intervalMs: this.edges.pollIntervalMs, timeoutMs, clock: this.edges.clock, sleep: this.edges.sleep };
    }
    get api() {
        return this.edges.api;
    }
    info(line) {
        this.edges.log.info(line);
    }
    async deploy() {
        const { inputs } = this;
        const commit = await this.recorder.run('resolve commit', 'runner', () => this.resolveCommit());
        this.report.commit = commit;
        for (const app of this.apps) {
            await this.recorder.run('preflight', app.name, () => this.preflight(app), () => app.serving
                ? `serving v${app.serving.version}${app.servingCommit ? ` (${app.servingCommit.slice(0, 7)})` : ''}`
                : 'no release yet');
        }
        const first = this.apps[0];
        const diff = await this.recorder.run('migration check', 'runner', () => migrationChanges(this.edges.runner, inputs.repository, first.servingCommit, commit), (d) => (d.known ? `${d.files.length} migration file(s) changed` : d.why));
        this.migrationsChanged = !diff.known || diff.files.length > 0;
        const maintenance = decideMaintenance(inputs.maintenance, diff);
        const backup = decideBackup(inputs.backup, diff);
        const blob = await this.recorder.run('upload source', 'runner', () => this.source(commit), (b) => `${b.sizeBytes} bytes, ${b.checksum.slice(0, 19)}…`);
        if (backup.take) {
            const outcome = await this.recorder.run('backup', first.name, () => this.backup(first, commit), (o) => o.path);
            this.report.backupPath = outcome.path;
            this.report.restoreCommand = outcome.restoreCommand;
            this.report.backupSha256 = outcome.sha256;
            this.report.backupSizeBytes = outcome.sizeBytes;
        }
        else {
            this.recorder.skip('backup', first.name, backup.why);
        }
        if (maintenance.on) {
            for (const app of this.apps) {
                await this.recorder.run('maintenance on', app.name, async () => {
                    if (app.maintenanceBefore)
                        return;
                    // Recorded before the request: if the job is cancelled while it is in flight, the post step still turns it off.
                    this.maintenanceOn.add(app.name);
                    this.saveState();
                    await setMaintenance(this.api, app.name, true);
                }, () => (app.maintenanceBefore ? 'already on before the deploy: left on' : maintenance.why));
            }
        }
        else {
            this.recorder.skip('maintenance on', first.name, maintenance.why);
        }
        try {
            for (const app of this.apps) {
                app.build = await this.recorder.run('build', app.name, () => this.build(app, blob), (b) => `build ${b.id}`);
                app.release = await this.recorder.run('release phase', app.name, () => this.releasePhase(app), (r) => `v${r.version} ${r.status}`);
            }
        }
        catch (error) {
            // A later app failed: the apps already released go back, so all of them serve the same code again.
            await this.rollBackAll();
            throw error;
        }
        for (const app of this.apps)
            this.report.serving[app.name] = `v${app.release.version} (${commit.slice(0, 7)})`;
        // The site comes back before the health gate: the gate must see what users will see.
        await this.maintenanceOff();
        let gating;
        try {
            for (const app of this.apps) {
                gating = app;
                await this.healthGate(app, app.release, inputs.expectCommit ?? commit, '');
            }
        }
        catch (error) {
            if (gating?.release)
                gating.rejected = gating.release;
            await this.rollBackAll();
            throw error;
        }
    }
    /**
     * The health gate of one app: through the router (the smoke-check engine on the health URL), or, while the app
     * is in maintenance, through the API, since Heroku's router then answers every request with its maintenance page
     * and a 503 says nothing about the release. A maintenance page never causes a rollback.
     */
    async healthGate(app, release, commit, after) {
        const url = healthUrlOf(this.inputs, app.name, app.webUrl);
        if (!url) {
            this.recorder.skip('health', app.name, 'no health URL (health-path is empty and so is health-url): no health gate');
            return;
        }
        if (app.maintenanceBefore) {
            await this.apiGate(app, release, 'the app was in maintenance before the deploy and stays in it');
            return;
        }
        let refused;
        await this.recorder.run('health', app.name, async () => {
            const result = await this.edges.checkHealth(url, commit, this.inputs.healthTimeoutMs, (line) => this.info(line), this.inputs.healthGate);
            if (result.ok)
                return;
            // The gate saw the maintenance page if someone (or a maintenance-off that failed) put the app back in it.
            if (await this.inMaintenance(app)) {
                refused = result.reason;
                return;
            }
            throw new ActionFailure(`Health check of ${url} failed on ${app.name}${after}: ${result.reason}`);
        }, () => (refused ? `not judged: ${app.name} is in maintenance (${refused})` : url));
        if (refused)
            await this.apiGate(app, release, 'the app is in maintenance mode');
    }
    async inMaintenance(app) {
        try {
            return (await this.api.get(appPath(app.name))).body.maintenance === true;
        }
        catch {
            return false;
        }
    }
    /** What the API can tell without the router: the release succeeded and the web dynos are up on it. */
    async apiGate(app, release, why) {
        this.edges.log.warning(`${app.name}: ${why}, so the health gate cannot ask the site (Heroku's router serves the maintenance page to every request). Checked instead: the release status and the web dynos. Check the site when maintenance is turned off.`);
        await this.recorder.run('health (API)', app.name, async () => {
            if (release.status !== 'succeeded') {
                throw new ActionFailure(`Release v${release.version} of ${app.name} is ${release.status}.`);
            }
            return checkDynos(this.api, app.name, release.version, this.poll(this.inputs.healthTimeoutMs));
        }, (detail) => `v${release.version} succeeded; ${detail}; the site itself was not checked (maintenance)`);
        this.report.notes.push(`${app.name} is in maintenance mode: the health gate checked the release and its dynos through the API, not the site. Check the site when maintenance is turned off.`);
    }
    /**
     * mode: rollback: each app back to the release before the code serving (never one a rollback replaced, never a
     * failed one), then the health gate on the commit that release runs.
     */
    async rollBackOnDemand() {
        for (const app of this.apps) {
            await this.recorder.run('preflight', app.name, () => this.preflight(app));
            this.report.url ??= this.publicUrl(app);
            const releases = await recentReleases(this.api, app.name);
            const target = app.serving && rollbackTarget(releases, app.serving);
            if (!app.serving || !target) {
                throw new ActionFailure(`${app.name} has no earlier release to roll back to (releases that failed or that a rollback replaced are never chosen; v${app.serving?.version ?? '?'} serves).`);
            }
            const to = codeVersion(target, releases);
            app.release = await this.recorder.run('rollback', app.name, () => rollBack(this.api, app.name, target, (line) => this.info(line), this.poll()), (r) => `v${r.version} runs v${to}'s code`);
            app.servingNow = { release: app.release, codeVersion: to };
            this.report.rolledBack = true;
            this.report.serving[app.name] = `v${app.release.version} (rollback to v${target.version})`;
            const commit = await releaseCommit(this.api, app.name, app.release);
            this.report.commit ??= commit;
            if (commit)
                await this.healthGate(app, app.release, commit, ' after the rollback');
        }
    }
    /** The site's address for the `url` output: app-url, else the web_url Heroku gives the app. */
    publicUrl(app) {
        return this.inputs.appUrl ? expandAppUrl(this.inputs.appUrl, app.name) : app.webUrl;
    }
    async resolveCommit() {
        const { inputs } = this;
        const result = await this.edges.runner('git', ['rev-parse', '--verify', '--quiet', `${inputs.commit}^{commit}`], {
            cwd: inputs.repository,
        });
        const sha = result.stdout.trim();
        if (result.code !== 0 || !/^[0-9a-f]{40,64}$/.test(sha)) {
            throw new ActionFailure(`Commit '${inputs.commit}' is not in the repository at ${inputs.repository} (check out the commit to deploy first).`);
        }
        return sha;
    }
    /** The app exists and the key can reach it; its config vars (the secret ones masked) hold what is required. */
    async preflight(app) {
        const { body: info } = await this.api.get(appPath(app.name));
        app.webUrl = info.web_url ?? undefined;
        const { body: vars } = await this.api.get(appPath(app.name, 'config-vars'));
        app.configVars = vars ?? {};
        const secret = Object.keys(app.configVars).filter((name) => {
            const parts = secretParts(name, app.configVars[name]);
            for (const part of parts)
                this.edges.setSecret(part);
            return parts.length > 0;
        });
        this.info(`Config vars of ${app.name}: ${Object.keys(app.configVars).sort().join(', ') || '(none)'}`);
        if (secret.length > 0)
            this.info(`Masked as secrets: ${secret.sort().join(', ')}`);
        const missing = missingConfigVars(this.inputs.requiredConfigVars, app.configVars);
        if (missing.length > 0) {
            throw new ActionFailure(`Config vars missing on ${app.name}: ${missing.join(', ')} (set them with heroku config:set before deploying; nothing was changed).`);
        }
        app.maintenanceBefore = info.maintenance;
        if (info.maintenance)
            this.edges.log.warning(`${app.name} is already in maintenance mode (turned on before this deploy): the deploy leaves it on; turn it off with heroku maintenance:off when the app is ready.`);
        app.serving = servingRelease(await recentReleases(this.api, app.name));
        if (app.serving)
            app.servingCommit = await releaseCommit(this.api, app.name, app.serving);
        if (this.inputs.mode === 'deploy')
            this.report.url ??= this.publicUrl(app);
    }
    async source(commit) {
        this.tempDir = mkdtempSync(join(tmpdir(), 'runbook-heroku-'));
        const packed = await packSource(this.edges.runner, this.inputs.repository, commit, this.inputs.appDirectory, this.tempDir);
        this.info(`Packed ${commit.slice(0, 12)}: ${packed.sizeBytes} bytes, sha256 ${packed.sha256}`);
        return uploadSource(this.api, packed, commit);
    }
    async backup(app, commit) {
        const name = this.inputs.databaseConfigVar;
        const url = app.configVars[name];
        if (!url) {
            throw new ActionFailure(`No pre-migration backup can be taken: the config var ${name} of ${app.name} is not set (set database-config-var to the right name, or backup: never to deploy without one).`);
        }
        const database = parseDatabaseUrl(url, `config var ${name} of ${app.name}`, this.edges.setSecret);
        return this.edges.backup(database, { directory: this.inputs.backupDirectory, commit, now: this.edges.now() }, (line) => this.info(line));
    }
    async build(app, blob) {
        const build = await runBuild(this.api, app.name, blob, this.inputs.buildpacks, (line) => this.info(line), this.poll(), {
            onCreated: (created) => {
                this.info(`Build ${created.id} started on ${app.name}.`);
                app.buildId = created.id;
                this.pendingBuild = { app: app.name, id: created.id };
                this.saveState();
            },
            onLost: (lost) => {
                const what = lost.found
                    ? 'the build this run created was found by its source and followed: its release phase and health gate below are the ones that count'
                    : 'Heroku lists no build of this source: none was created';
                this.edges.log.warning(`POST /apps/${app.name}/builds: the answer was lost (${lost.error}); ${what}.`);
                this.report.notes.push(`The answer to the build request for ${app.name} was lost (${lost.error}); ${what}.`);
            },
            now: this.edges.now,
        }).finally(() => {
            this.pendingBuild = undefined;
            this.saveState();
        });
        if (build.status !== 'succeeded') {
            throw new ActionFailure(`The build of ${app.name} failed (build ${build.id}; its output is in the log above). ${app.name} was not released.`);
        }
        return build;
    }
    async releasePhase(app) {
        app.releasePhaseRan = true;
        const release = await waitForRelease(this.api, app.name, app.build.release.id, (line) => this.info(line), this.poll());
        if (release.status !== 'succeeded') {
            app.rejected = release;
            this.report.serving[app.name] = app.serving ? `v${app.serving.version} (unchanged)` : 'nothing';
            throw new ActionFailure(`The release phase of ${app.name} v${release.version} ${release.status} (manage.py migrate; its output is in the log above). Heroku keeps ${app.serving ? `v${app.serving.version}` : 'the previous release'} serving.`);
        }
        return release;
    }
    /** Every app already released goes back to the release that served before this deploy. */
    async rollBackAll() {
        for (const app of this.apps) {
            if (!app.release)
                continue;
            app.rejected ??= app.release;
            const releases = await recentReleases(this.api, app.name).catch(() => []);
            const target = app.serving ?? rollbackTarget(releases, app.release);
            if (!target) {
                this.report.notes.push(`${app.name} had no earlier release to roll back to; v${app.release.version} still serves.`);
                app.servingNow = { release: app.release, codeVersion: app.release.version };
                continue;
            }
            try {
                const rolled = await this.recorder.run('rollback', app.name, () => rollBack(this.api, app.name, target, (line) => this.info(line), this.poll()), (r) => `v${r.version} runs v${target.version}'s code`);
                app.servingNow = { release: rolled, codeVersion: codeVersion(target, releases) };
                this.report.rolledBack = true;
                this.report.serving[app.name] = `v${rolled.version} (rollback to v${target.version})`;
            }
            catch (error) {
                app.servingNow = { release: app.release, codeVersion: app.release.version };
                this.report.notes.push(`Rolling ${app.name} back failed: ${errorMessage(error)}`);
            }
        }
        this.noteMigrations();
    }
    /** Only what happened: migrations ran only where a release phase ran, and nothing reverses them. */
    noteMigrations() {
        const ran = this.apps.filter((a) => a.releasePhaseRan);
        if (!this.migrationsChanged || ran.length === 0)
            return;
        const restore = this.report.backupPath ? ' The pre-migration backup and its restore command are below.' : '';
        const rolledBack = this.report.rolledBack
            ? ' Heroku runs the release command on a rollback too, with the older code: its migrate applies nothing new and reverses nothing.'
            : '';
        this.report.notes.push(`The release phase ran on ${ran.map((a) => a.name).join(', ')}: migrations it applied stay applied.${rolledBack}${restore}`);
    }
    async maintenanceOff() {
        for (const name of [...this.maintenanceOn]) {
            await this.recorder.run('maintenance off', name, async () => {
                await setMaintenance(this.api, name, false);
                this.maintenanceOn.delete(name);
                this.saveState();
            });
        }
    }
    saveState() {
        this.edges.saveState({
            apiUrl: this.inputs.apiUrl.href,
            maintenanceOn: [...this.maintenanceOn],
            pendingBuilds: this.pendingBuild ? [this.pendingBuild] : [],
        });
    }
    /** Whatever happened: maintenance off (retried once), the tarball removed. */
    async cleanUp() {
        for (let attempt = 0; attempt < 2 && this.maintenanceOn.size > 0; attempt++) {
            try {
                await this.maintenanceOff();
            }
            catch (error) {
                this.edges.log.warning(`Turning maintenance off failed: ${errorMessage(error)}`);
            }
        }
        if (this.maintenanceOn.size > 0) {
            this.report.notes.push(`Maintenance is still on for ${[...this.maintenanceOn].join(', ')}: the post step tries again.`);
        }
        if (this.tempDir)
            rmSync(this.tempDir, { recursive: true, force: true });
    }
}

;// CONCATENATED MODULE: ./actions/deploy/heroku/post.ts






/**
 * After a cancelled or killed main step: cancels the build it left running (DELETE /apps/{app}/builds/{id}), then
 * takes every app it left in maintenance out of it. Only warns.
 */
async function herokuPostStep(io) {
    const raw = io.getState(HEROKU_STATE_KEY);
    if (!raw)
        return;
    const state = JSON.parse(raw);
    const builds = state.pendingBuilds ?? [];
    if (state.maintenanceOn.length === 0 && builds.length === 0)
        return;
    const apiKey = io.input('heroku-api-key');
    if (!apiKey) {
        io.warning(`Maintenance may still be on for ${state.maintenanceOn.join(', ')}, and no API key is available to turn it off.`);
        return;
    }
    const api = new HerokuApi({
        baseUrl: new URL(state.apiUrl),
        apiKey,
        setSecret: io.setSecret,
        sleep: io.sleep,
        random: Math.random,
        warning: io.warning,
        maxAttempts: 3,
    });
    // First the build: once cancelled, it cannot release after maintenance is off.
    for (const build of builds) {
        try {
            await api.request('DELETE', build_appPath(build.app, 'builds', build.id));
            io.info(`Build ${build.id} of ${build.app} cancelled (the job was cancelled while it ran).`);
        }
        catch (error) {
            io.warning(`Could not cancel build ${build.id} of ${build.app}: ${errors_errorMessage(error)}`);
        }
    }
    for (const app of state.maintenanceOn) {
        try {
            await maintenance_setMaintenance(api, app, false);
            io.info(`Maintenance turned off on ${app} (the main step had left it on).`);
        }
        catch (error) {
            io.warning(`Could not turn maintenance off on ${app}: ${errors_errorMessage(error)}`);
        }
    }
}
/** The runner's side of the post step: its saved state, the step's inputs, the log. */
function runnerHerokuPostIO() {
    return {
        getState: getState,
        input: (name) => getInput(name),
        setSecret: setSecret,
        info: info,
        warning: warning,
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    };
}

;// CONCATENATED MODULE: ./actions/deploy/server/app-database.ts


/** The line the probe prints, so whatever else the settings print on import is ignored. */
const PROBE_MARKER = 'runbook-database ';
/**
 * Run through `manage.py shell -c`: the release's interpreter, settings module and environment, exactly what
 * `migrate` will use. Reads settings only; no connection is opened.
 */
const app_database_PROBE_CODE = [
    'import json',
    'from django.db import connections',
    "s = connections['default'].settings_dict",
    "print('" +
        PROBE_MARKER +
        "' + json.dumps({k.lower(): str(s.get(k) or '') for k in ('ENGINE', 'HOST', 'PORT', 'NAME')}))",
].join('\n');
function app_database_parseProbe(stdout) {
    const line = stdout.split('\n').find((l) => l.startsWith(PROBE_MARKER));
    if (!line)
        return undefined;
    const value = JSON.parse(line.slice(PROBE_MARKER.length));
    return { engine: value.engine ?? '', host: value.host ?? '', port: value.port ?? '', name: value.name ?? '' };
}
function familyOf(engine) {
    if (/postg|psycopg|cockroach/i.test(engine))
        return 'postgresql';
    if (/mysql|mariadb/i.test(engine))
        return 'mysql';
    if (/sqlite/i.test(engine))
        return 'sqlite';
    return 'other';
}
const DEFAULT_PORTS = { postgresql: '5432', mysql: '3306' };
/** '' (a Unix socket), localhost and the loopback addresses all mean the database on the host that migrates. */
function sameHost(a, b) {
    const local = (h) => h === '' || h.startsWith('/') || /^(localhost|127\.\d+\.\d+\.\d+|::1|\[::1\])$/i.test(h);
    return a.toLowerCase() === b.toLowerCase() || (local(a) && local(b));
}
function app_database_describeAppDatabase(db) {
    const family = familyOf(db.engine);
    if (family === 'sqlite')
        return `SQLite file ${db.name}`;
    const port = db.port || DEFAULT_PORTS[family] || '';
    const where = `${db.host || 'localhost (socket)'}${port ? `:${port}` : ''}`;
    return `${family === 'other' ? db.engine : family === 'postgresql' ? 'PostgreSQL' : 'MySQL/MariaDB'} database '${db.name}' on ${where}`;
}
function describeTarget(target) {
    return `${target.engine === 'postgresql' ? 'PostgreSQL' : 'MySQL/MariaDB'} database '${target.database}' on ${target.host}:${target.port}`;
}
/**
 * Refuses a migrate that would not touch the database the backup protects: another engine, host, port or name, or
 * an SQLite file inside the release directory (settings that fell back to their default because DATABASE_URL did
 * not reach manage.py; it would be thrown away with the release).
 */
function app_database_checkAppDatabase(app, backup, releaseDirectory) {
    const family = familyOf(app.engine);
    if (family === 'sqlite') {
        const file = posix.resolve(releaseDirectory, app.name);
        if (app.name === '' || app.name === ':memory:' || file.startsWith(`${releaseDirectory}/`)) {
            throw new ActionFailure(`Refusing to migrate: Django's default database is the SQLite file ${app.name || '(none)'} inside the release, ` +
                `which is thrown away with it. The settings did not get DATABASE_URL: put it in the environment file (input 'env-file', default shared/.env).`);
        }
    }
    if (!backup)
        return;
    const { target, from } = backup;
    const port = app.port || DEFAULT_PORTS[family] || '';
    const same = family === target.engine &&
        sameHost(app.host, target.host) &&
        port === String(target.port) &&
        app.name === target.database;
    if (!same) {
        throw new ActionFailure(`Refusing to migrate: Django's default database is the ${app_database_describeAppDatabase(app)}, but the pre-migration ` +
            `backup protects the ${describeTarget(target)} (${from}). Make ${from} and the app's settings name the same database.`);
    }
}

;// CONCATENATED MODULE: ./actions/deploy/server/env-file.ts

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Throws an ActionFailure naming the file and the line number, never the line (it may hold a password). */
function env_file_parseEnvFile(text, where) {
    const env = {};
    const lines = text.split(/\r?\n/);
    lines.forEach((raw, index) => {
        const line = raw.trim();
        if (line === '' || line.startsWith('#'))
            return;
        const bad = (why) => new ActionFailure(`The environment file ${where} does not parse: line ${index + 1} ${why} (expected NAME=value lines; input 'env-file').`);
        const match = /^(?:export\s+)?([^=\s]+)\s*=\s*(.*)$/.exec(line);
        if (!match)
            throw bad('is not NAME=value');
        const [, name, rest] = match;
        if (!NAME.test(name))
            throw bad('does not start with a variable name (letters, digits, _)');
        env[name] = parseValue(rest, bad);
    });
    return env;
}
function parseValue(rest, bad) {
    const quote = rest[0];
    if (quote === "'" || quote === '"') {
        const end = findClosingQuote(rest, quote);
        if (end < 0)
            throw bad(`has an unclosed ${quote} quote`);
        const after = rest.slice(end + 1).trim();
        if (after !== '' && !after.startsWith('#'))
            throw bad('has text after the closing quote');
        const inner = rest.slice(1, end);
        if (quote === "'")
            return inner;
        return inner.replace(/\\([n"\\$`])/g, (_, c) => (c === 'n' ? '\n' : c));
    }
    // An unquoted value ends at a comment that follows a blank, as in the shell.
    return rest.replace(/\s+#.*$/, '').trim();
}
function findClosingQuote(text, quote) {
    for (let i = 1; i < text.length; i += 1) {
        if (quote === '"' && text[i] === '\\')
            i += 1;
        else if (text[i] === quote)
            return i;
    }
    return -1;
}
/** Names whose values are secrets by convention; their values (and any URL password) are masked once read. */
const SECRET_NAME = /SECRET|PASSWORD|PASSWD|TOKEN|KEY|CREDENTIAL|PRIVATE|_URL$|DSN/i;
function env_file_maskEnvFile(env, setSecret) {
    for (const [name, value] of Object.entries(env)) {
        if (value === '')
            continue;
        if (SECRET_NAME.test(name))
            setSecret(value);
        const password = /^[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:([^@\s]+)@/i.exec(value)?.[1];
        if (password) {
            setSecret(password);
            try {
                setSecret(decodeURIComponent(password));
            }
            catch {
                // Not percent-encoded: the raw form is masked already.
            }
        }
    }
}

;// CONCATENATED MODULE: ./actions/deploy/server/migration-safety.ts

/** The line the probe prints, so whatever else the settings print on import is ignored. */
const PLAN_MARKER = 'runbook-plan ';
const PLAN_ERROR_MARKER = 'runbook-plan-error ';
/**
 * Python run by `manage.py shell -c` after the database probe: the plan of `migrate` (leaf nodes, as `migrate
 * --plan` builds it), and a verdict per operation. The rules are those of django-migration-linter, strong_migrations
 * and GitLab's migration style guide, narrowed to one question: does the code serving now keep working while, and
 * after, this operation runs? Anything not known to be safe is breaking. Only reads: the migration table is queried,
 * nothing is written.
 */
const migration_safety_PLAN_PROBE_CODE = String.raw `
def runbook_plan():
    import django
    from django.db import connections
    from django.db.migrations import operations as ops
    from django.db.migrations.executor import MigrationExecutor
    from django.db.models.fields import NOT_PROVIDED
    connection = connections['default']
    vendor = connection.vendor
    executor = MigrationExecutor(connection)
    conflicts = executor.loader.detect_conflicts()
    if conflicts:
        raise RuntimeError('Conflicting migrations detected: ' + '; '.join('%s: %s' % (app, ', '.join(names)) for app, names in sorted(conflicts.items())))
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    state = executor._create_project_state(with_applied_migrations=True)
    try:
        from django.contrib.postgres import operations as pg_ops
        concurrent = (pg_ops.AddIndexConcurrently, pg_ops.RemoveIndexConcurrently)
        extension = pg_ops.CreateExtension
    except Exception:
        concurrent, extension = (), ()
    no_db = {'help_text', 'verbose_name', 'choices', 'validators', 'blank', 'editable', 'error_messages', 'default',
             'related_name', 'related_query_name', 'limit_choices_to', 'on_delete', 'auto_now', 'auto_now_add',
             'upload_to', 'storage', 'serialize'}
    safe = lambda why: ('safe', why)
    breaking = lambda why: ('breaking', why)

    def index(what, unique=False):
        also = '; a unique index also refuses the serving code a duplicate' if unique else ''
        if vendor == 'postgresql':
            return breaking(what + ': PostgreSQL builds it without CONCURRENTLY, so writes to the table wait until it is built' + also + '; use AddIndexConcurrently (atomic = False), or mark the migration zero_downtime for a small table')
        if vendor == 'mysql':
            return safe(what + ': InnoDB builds it online, reads and writes go on' + also)
        return safe(what + ' on ' + vendor)

    def field_of(app_label, model_name, name):
        model = state.models.get((app_label, model_name))
        if model is None:
            return None
        fields = model.fields if isinstance(model.fields, dict) else dict(model.fields)
        return fields.get(name)

    def alter_field(old, new):
        if old is None:
            return breaking('the field is unknown before this migration')
        _, old_path, _, old_kw = old.deconstruct()
        _, new_path, _, new_kw = new.deconstruct()
        if old_path != new_path:
            return breaking('the column type changes (%s to %s): the serving code reads and writes the old type, and the table is rewritten under a lock' % (old_path.rsplit('.', 1)[-1], new_path.rsplit('.', 1)[-1]))
        changed = sorted(k for k in set(old_kw) | set(new_kw) if k not in no_db and old_kw.get(k, NOT_PROVIDED) != new_kw.get(k, NOT_PROVIDED))
        verdicts = []
        for key in changed:
            if key == 'null':
                verdicts.append(safe('NULL allowed from now on') if new.null else breaking('NOT NULL from now on: the serving code may still write NULL, and the table is scanned under a lock'))
            elif key == 'max_length' and old.max_length is not None and (new.max_length is None or new.max_length > old.max_length):
                verdicts.append(safe('max_length grows (%s to %s): what the serving code writes still fits' % (old.max_length, new.max_length)))
            elif key in ('db_index', 'unique'):
                verdicts.append(index('an index on the column', key == 'unique') if new_kw.get(key) else safe('an index is dropped'))
            else:
                verdicts.append(breaking('%s changes (%r to %r)' % (key, old_kw.get(key, 'default'), new_kw.get(key, 'default'))))
        if not verdicts:
            return safe('no database change (%s)' % (', '.join(sorted(k for k in set(old_kw) | set(new_kw) if old_kw.get(k, NOT_PROVIDED) != new_kw.get(k, NOT_PROVIDED))) or 'nothing changes'))
        bad = [why for verdict, why in verdicts if verdict == 'breaking']
        return breaking('; '.join(bad)) if bad else safe('; '.join(why for _, why in verdicts))

    def judge(app_label, op, migration):
        if isinstance(op, ops.CreateModel):
            return safe('a new table the serving code does not use')
        if isinstance(op, ops.DeleteModel):
            return breaking('the serving code still uses the table: delete the model in a release after the one that stops using it')
        if isinstance(op, ops.AddField):
            field = op.field
            if field.many_to_many:
                return safe('a new join table the serving code does not use')
            if field.null:
                return safe("a nullable column: the serving code's INSERTs leave it NULL")
            if getattr(field, 'db_default', NOT_PROVIDED) is not NOT_PROVIDED:
                return safe('NOT NULL with a database default (db_default): the serving code\'s INSERTs get it')
            if field.has_default() or not op.preserve_default or (field.blank and field.empty_strings_allowed):
                return breaking('NOT NULL, and Django %s applies the default only while adding the column (it keeps no database default): the serving code\'s INSERTs, which do not name the column, fail; add it with null=True first (or db_default on Django 5.0+)' % django.get_version())
            return breaking("NOT NULL without a database default: the serving code's INSERTs, which do not name the column, fail")
        if isinstance(op, ops.RemoveField):
            return breaking('the serving code still selects the column: stop using it in one release, remove it in the next')
        if isinstance(op, (ops.RenameField, ops.RenameModel, ops.AlterModelTable)):
            return breaking('the serving code still uses the old name: add the new one, copy, switch the code, then remove the old one')
        if isinstance(op, ops.AlterField):
            return alter_field(field_of(app_label, op.model_name_lower, op.name), op.field)
        if isinstance(op, (ops.AlterModelOptions, ops.AlterModelManagers)):
            return safe('no database change')
        if concurrent and isinstance(op, concurrent):
            return safe('built or dropped CONCURRENTLY: reads and writes go on')
        if extension and isinstance(op, extension):
            return safe('a database extension the serving code does not use')
        if isinstance(op, (ops.RemoveIndex, ops.RemoveConstraint)):
            return safe("dropping it does not break the serving code's queries")
        if isinstance(op, ops.AddIndex):
            return index('a new index')
        if isinstance(op, getattr(ops, 'AlterIndexTogether', ())):
            return index('index_together')
        if isinstance(op, ops.AlterUniqueTogether):
            return index('unique_together', True)
        if isinstance(op, ops.AddConstraint):
            if type(op.constraint).__name__ == 'UniqueConstraint' and not getattr(op.constraint, 'condition', None):
                return index('a unique constraint', True)
            return breaking('a new constraint is validated against the whole table under a lock, and the serving code may write rows it refuses')
        if isinstance(op, (ops.RunPython, ops.RunSQL)):
            noop = op.code is ops.RunPython.noop if isinstance(op, ops.RunPython) else op.sql in ('', [], ())
            if noop:
                return safe('does nothing going forward')
            if (op.hints or {}).get('zero_downtime') is True:
                return safe("marked safe by its author (hints={'zero_downtime': True})")
            return breaking("a data migration: what it does to the serving code cannot be read from it; mark it hints={'zero_downtime': True} when the serving code works before, during and after it")
        if isinstance(op, ops.SeparateDatabaseAndState):
            verdicts = [judge(app_label, inner, migration) for inner in op.database_operations]
            bad = [why for verdict, why in verdicts if verdict == 'breaking']
            if bad:
                return breaking('; '.join(bad))
            return safe('; '.join(why for _, why in verdicts) or 'changes the state only, not the database')
        return breaking('%s is not known to keep the serving code working' % type(op).__name__)

    pending, operations = [], []
    for migration, backwards in plan:
        name = '%s.%s' % (migration.app_label, migration.name)
        pending.append(name)
        marked = getattr(migration, 'zero_downtime', False) is True
        for op in migration.operations:
            try:
                verdict, reason = breaking('unapplies a migration') if backwards else judge(migration.app_label, op, migration)
            except Exception as error:
                verdict, reason = breaking('could not be judged (%s: %s)' % (type(error).__name__, error))
            if marked and verdict == 'breaking':
                verdict, reason = 'safe', 'marked safe by its migration (zero_downtime = True); otherwise: ' + reason
            try:
                description = op.describe()
            except Exception:
                description = type(op).__name__
            operations.append({'migration': name, 'operation': type(op).__name__, 'description': description, 'verdict': verdict, 'reason': reason})
            op.state_forwards(migration.app_label, state)
    return {'pending': pending, 'operations': operations, 'django': django.get_version(), 'vendor': vendor}

try:
    print('${PLAN_MARKER}' + json.dumps(runbook_plan()))
except Exception as error:
    print('${PLAN_ERROR_MARKER}' + json.dumps('%s: %s' % (type(error).__name__, error)))
`;
/** The plan the probe printed; throws with Django's own message when it could not read it. */
function migration_safety_parsePlan(stdout) {
    const lines = stdout.split('\n');
    const error = lines.find((l) => l.startsWith(PLAN_ERROR_MARKER));
    if (error)
        throw new ActionFailure(`Reading the migration plan failed: ${JSON.parse(error.slice(PLAN_ERROR_MARKER.length))}`);
    const line = lines.find((l) => l.startsWith(PLAN_MARKER));
    if (!line)
        throw new ActionFailure('Reading the migration plan failed: manage.py shell printed no plan.');
    const value = JSON.parse(line.slice(PLAN_MARKER.length));
    return {
        pending: value.pending ?? [],
        operations: value.operations ?? [],
        django: value.django ?? '',
        vendor: value.vendor ?? '',
    };
}
/**
 * `true` and `false` mean what they say; `auto` turns maintenance on only when a pending operation would break the
 * code that keeps serving while (and after) the migrations run.
 */
function migration_safety_decideMaintenance(mode, plan, serving = true) {
    if (mode === 'true')
        return { on: true, why: 'maintenance: true' };
    if (mode === 'false')
        return { on: false, why: 'maintenance: false' };
    if (plan.pending.length === 0)
        return { on: false, why: 'no pending migration' };
    // Nothing of ours serves before a first deploy: no old code can meet the new schema.
    if (!serving)
        return { on: false, why: 'first deploy: no release serves yet, so no serving code can break' };
    const breaking = plan.operations.filter((o) => o.verdict === 'breaking');
    if (breaking.length > 0) {
        const names = [...new Set(breaking.map((o) => `${o.migration} (${o.operation})`))];
        return { on: true, why: `breaking for the serving code: ${names.join(', ')}` };
    }
    return { on: false, why: `every pending operation is safe while the serving code runs (${plan.operations.length})` };
}

;// CONCATENATED MODULE: ./actions/deploy/server/scripts.ts





/**
 * The shell scripts each phase runs on a server (or on the runner for target local). Every value that came
 * from a user or from the repository goes through shellQuote, the one quoting function; the executors add
 * `set -eu`, so any failing command fails its phase.
 */
const q = (/* unused pure expression or super */ null && (shellQuote));
function layoutOf(deployTo) {
    return {
        root: deployTo,
        releases: posix.join(deployTo, 'releases'),
        shared: posix.join(deployTo, 'shared'),
        current: posix.join(deployTo, 'current'),
        log: posix.join(deployTo, 'releases.jsonl'),
        lock: posix.join(deployTo, '.deploy.lock'),
        lockInfo: posix.join(deployTo, '.deploy.lock.json'),
        lockStale: posix.join(deployTo, '.deploy.lock.stale'),
    };
}
function releaseDir(layout, id) {
    return posix.join(layout.releases, id);
}
/** Arguments given as one input ('--no-index --find-links /wheels'), split on blanks and quoted word by word. */
function quoteArgs(text) {
    return text
        .split(/\s+/)
        .filter((word) => word !== '')
        .map(q)
        .join(' ');
}
/**
 * Holds the deploy lock for as long as our stdin stays open. flock is released by the kernel when the holder
 * dies (a killed job, a dropped connection), so a `.deploy.lock.json` found on entry was left by a holder that
 * never cleaned up: it is moved aside as `.deploy.lock.stale` for the report, and the lock is taken over.
 */
function lockHolderScript(layout, timeoutSeconds, info, underLock = '') {
    return [
        `mkdir -p ${q(layout.root)}`,
        `cd ${q(layout.root)}`,
        `exec 9>>${q(layout.lock)}`,
        `if ! flock -n 9; then`,
        `  echo "waiting for the deploy lock held by: $(cat ${q(layout.lockInfo)} 2>/dev/null || echo unknown)" >&2`,
        `  if ! flock -w ${Math.max(1, Math.ceil(timeoutSeconds))} 9; then`,
        `    echo "deploy lock still held after ${Math.ceil(timeoutSeconds)} s by: $(cat ${q(layout.lockInfo)} 2>/dev/null || echo unknown)" >&2`,
        `    exit 75`,
        `  fi`,
        `fi`,
        `if [ -s ${q(layout.lockInfo)} ]; then mv -f ${q(layout.lockInfo)} ${q(layout.lockStale)}; else rm -f ${q(layout.lockStale)}; fi`,
        `printf '{"pid":%s,"host":"%s","deploy":%s}\\n' "$$" "$(hostname)" ${q(JSON.stringify(info))} > ${q(layout.lockInfo + '.tmp')}`,
        `mv -f ${q(layout.lockInfo + '.tmp')} ${q(layout.lockInfo)}`,
        // Says so itself (no polling): what a dead holder left behind, then the line the action waits for.
        `if [ -s ${q(layout.lockStale)} ]; then sed 's/^/stale /' ${q(layout.lockStale)}; fi`,
        // The reads the deploy needs next (preflight), in this round trip rather than one more of their own.
        ...(underLock ? [underLock] : []),
        `echo ${LOCK_ACQUIRED}`,
        // Blocks until the action closes our stdin; then the lock file is cleaned up and flock released on exit.
        `cat > /dev/null`,
        `rm -f ${q(layout.lockInfo)}`,
    ].join('\n');
}
/** The line the lock holder prints once it holds the lock. */
const LOCK_ACQUIRED = 'runbook-lock-acquired';
/** What the holder printed before LOCK_ACQUIRED: the info a dead holder left behind, if any. */
function parseLockStale(stdout) {
    return stdout
        .split('\n')
        .filter((line) => line.startsWith('stale '))
        .map((line) => line.slice('stale '.length))
        .join('\n')
        .trim();
}
/** Checks the server before anything changes, and reads what it serves now and whether its program runs. */
function preflightScript(layout, program) {
    const lines = [`mkdir -p ${q(layout.releases)} ${q(layout.shared)}`, `cd ${q(layout.root)}`];
    lines.push(`df -Pk . | awk 'NR==2 { print "free_kb " $4 }'`, `if [ -L current ]; then echo "current $(basename "$(readlink current)")"; fi`, `for d in releases/*/; do [ -d "$d" ] && echo "release $(basename "$d")"; done; true`, `if [ -f ${q(layout.log)} ]; then sed 's/^/log /' ${q(layout.log)}; fi`);
    // supervisorctl status exits non-zero for a stopped program: its state word is what matters.
    if (program?.supervisorProgram)
        lines.push(`echo "program $(${supervisorctl(program)} status ${q(program.supervisorProgram)} 2>/dev/null | awk '{ print $2 }' || true)"`);
    return lines.join('\n');
}
/**
 * Prints the environment file after a first line saying whether it exists. Run with a silent log: the file holds
 * the app's secrets.
 */
function envFileScript(path) {
    return `if [ -f ${q(path)} ]; then echo present; cat ${q(path)}; else echo absent; fi`;
}
/**
 * Preflight and the environment file, run by the lock holder once it holds the lock: each line prefixed
 * (`pre `, `env `) so neither can pass for the holder's own lines, and a failure reported as a line with the
 * script's last error, since the holder itself must keep running.
 */
function underLockScript(layout, program, envFile) {
    const run = (prefix, script) => `if out=$(sh -c ${q(`set -eu\n${script}`)} 2>&1); then printf '%s\n' "$out" | sed 's/^/${prefix} /'; else echo "${prefix}-failed $(printf '%s\n' "$out" | tail -n 1)"; fi`;
    return [run('pre', preflightScript(layout, program)), run('env', envFileScript(envFile))].join('\n');
}
/** The preflight and environment file output the lock holder printed, or the error of the one that failed. */
function parseUnderLock(stdout) {
    const section = (prefix) => stdout
        .split('\n')
        .filter((line) => line.startsWith(`${prefix} `))
        .map((line) => line.slice(prefix.length + 1))
        .join('\n');
    const failed = stdout.split('\n').find((line) => /^(pre|env)-failed /.test(line));
    return { preflight: section('pre'), env: section('env'), failed: failed?.replace(/^(pre|env)-failed /, '') };
}
function parsePreflight(stdout) {
    const facts = { releases: [], log: '' };
    const log = [];
    for (const line of stdout.split('\n')) {
        const [word, ...rest] = line.split(' ');
        const value = rest.join(' ');
        if (word === 'program')
            facts.programState = value || undefined;
        else if (word === 'free_kb')
            facts.freeKb = Number(value);
        else if (word === 'current' && value)
            facts.current = value;
        else if (word === 'release')
            facts.releases.push(value);
        else if (word === 'log')
            log.push(value);
    }
    facts.log = log.join('\n');
    return facts;
}
/** Unpacks the `git archive` stream arriving on stdin into the new release, and links the shared paths. */
function unpackScript(layout, id, commit, sharedPaths, logEntry) {
    const dir = releaseDir(layout, id);
    const lines = [
        ...(logEntry ? [appendLogScript(layout, [logEntry])] : []),
        `rm -rf ${q(dir)}`,
        `mkdir -p ${q(dir)}`,
        `tar -x -f - -C ${q(dir)}`,
        // The fixture's /health (and anything else) reads which commit and release this directory is.
        `printf 'commit=%s\\nrelease=%s\\n' ${q(commit)} ${q(id)} > ${q(posix.join(dir, 'REVISION'))}`,
    ];
    for (const entry of sharedPaths) {
        const isDir = entry.endsWith('/');
        const path = entry.replace(/\/+$/, '');
        const shared = posix.join(layout.shared, path);
        const link = posix.join(dir, path);
        // Relative links keep a release valid if deploy-to is moved or mounted elsewhere.
        const target = posix.relative(posix.dirname(link), shared);
        if (isDir)
            lines.push(`mkdir -p ${q(shared)}`);
        lines.push(`if [ -e ${q(shared)} ]; then mkdir -p ${q(posix.dirname(link))}; rm -rf ${q(link)}; ln -s ${q(target)} ${q(link)}; fi`);
    }
    return lines.join('\n');
}
/** The interpreter of a release: its virtualenv's, or the configured one. */
function pythonOf(settings) {
    return settings.venv ? './venv/bin/python' : q(settings.python);
}
/** RELEASE_DIR, RELEASE_ID and RELEASE_COMMIT (from the release's REVISION file) for every command the deploy runs. */
function releaseEnv(layout, id) {
    const dir = releaseDir(layout, id);
    return [
        `export RELEASE_DIR=${q(dir)} RELEASE_ID=${q(id)}`,
        `RELEASE_COMMIT=$(sed -n 's/^commit=//p' ${q(posix.join(dir, 'REVISION'))} 2>/dev/null || true); export RELEASE_COMMIT`,
    ];
}
function releasePrologue(layout, id, settings) {
    const lines = [`cd ${q(releaseDir(layout, id))}`, ...releaseEnv(layout, id)];
    if (settings.djangoSettings)
        lines.push(`export DJANGO_SETTINGS_MODULE=${q(settings.djangoSettings)}`);
    return lines;
}
function manage(settings, args) {
    return `${pythonOf(settings)} ${q(settings.managePy)} ${args}`;
}
function buildScript(layout, id, settings) {
    const lines = releasePrologue(layout, id, settings);
    if (settings.venv)
        lines.push(`${q(settings.python)} -m venv ${quoteArgs(settings.venvArgs)} venv`);
    if (settings.requirements) {
        lines.push(`${pythonOf(settings)} -m pip install --disable-pip-version-check ${quoteArgs(settings.pipArgs)} -r ${q(settings.requirements)}`);
    }
    if (settings.buildCommand)
        lines.push(`sh -c ${q(settings.buildCommand)}`);
    if (settings.collectstatic)
        lines.push(manage(settings, 'collectstatic --noinput'));
    if (settings.checkDeploy)
        lines.push(manage(settings, 'check --deploy'));
    return lines.join('\n');
}
/**
 * One Django process on the release: which database `default` is, the plan `migrate` would run with a verdict per
 * operation (migration-safety.ts), and, for rollback-migrations, the state of those apps before migrating.
 */
function releaseProbeScript(layout, id, settings, apps) {
    const lines = [
        ...releasePrologue(layout, id, settings),
        manage(settings, `shell -c ${q(`${PROBE_CODE}\n${PLAN_PROBE_CODE}`)}`),
    ];
    if (apps.length > 0)
        lines.push(`echo '--- applied'`, manage(settings, `showmigrations ${apps.map(q).join(' ')}`));
    return lines.join('\n');
}
function migrateScript(layout, id, settings) {
    return [...releasePrologue(layout, id, settings), manage(settings, 'migrate --noinput')].join('\n');
}
/** Migrates apps back with the new release's code (the old release does not know the new migrations). */
function unmigrateScript(layout, id, settings, targets) {
    const lines = releasePrologue(layout, id, settings);
    for (const [app, migration] of targets)
        lines.push(manage(settings, `migrate --noinput ${q(app)} ${q(migration)}`));
    return lines.join('\n');
}
function maintenanceOnScript(layout, file, id) {
    const path = posix.join(layout.root, file);
    return `mkdir -p ${q(posix.dirname(path))}\nprintf '%s\\n' ${q(`deploying ${id}`)} > ${q(path)}`;
}
function maintenanceOffScript(layout, file) {
    return `rm -f ${q(posix.join(layout.root, file))}`;
}
/**
 * Points `current` at a release atomically: a new symlink under a temporary name is renamed over the old one
 * (rename(2) replaces it in one step; `ln -sfn` alone unlinks first, leaving a moment with no `current`).
 * Without a release, `current` is removed (a first deploy that failed leaves nothing half-served).
 */
function switchScript(layout, id) {
    if (id === undefined)
        return `rm -f ${q(layout.current)}`;
    const temp = posix.join(layout.root, `.current.${id}`);
    return [
        `rm -f ${q(temp)}`,
        `ln -s ${q(posix.join('releases', id))} ${q(temp)}`,
        `mv -T ${q(temp)} ${q(layout.current)}`,
    ].join('\n');
}
/** The line a HUP reload prints when gunicorn's old workers outlived the wait: tenths of seconds waited, their PIDs. */
const RELOAD_LEFT = 'runbook-reload-left';
/** How long a HUP reload waits, at least, for gunicorn's old workers to exit. */
const RELOAD_WAIT_SECONDS = 60;
function reloadScript(settings, layout, id, waitSeconds = RELOAD_WAIT_SECONDS) {
    if (settings.reload === 'command') {
        return [...releaseEnv(layout, id), `sh -c ${q(settings.reloadCommand ?? '')}`].join('\n');
    }
    const ctl = supervisorctl(settings);
    const program = q(settings.supervisorProgram ?? '');
    // A program that is not running yet (first deploy) cannot be signalled: it is started instead.
    const start = `if ! ${ctl} status ${program} | grep -q RUNNING; then ${ctl} start ${program}; exit 0; fi`;
    if (settings.reload === 'restart')
        return `${start}\n${ctl} restart ${program}`;
    // HUP: gunicorn's master keeps the socket and replaces its workers; no request is refused. The old workers finish
    // their requests and exit a moment later: the phase ends only once they are gone, so nothing of the old code
    // answers after it (maintenance off follows a breaking migration). A child with children of its own is a master
    // behind a wrapper, not a worker, and is not waited for. The wait is bounded: waitSeconds, or longer when the
    // master's command line gives a --graceful-timeout above it (gunicorn kills a worker that outlives that); a worker
    // still alive at the bound is named on a RELOAD_LEFT line, since it may still answer with the old code.
    const ticks = Math.max(1, Math.round(waitSeconds * 10));
    return [
        start,
        `master=$(${ctl} pid ${program} 2>/dev/null || true)`,
        `old=''; for w in $(ps -o pid= --ppid "$master" 2>/dev/null || true); do if [ -z "$(ps -o pid= --ppid "$w" 2>/dev/null || true)" ]; then old="$old $w"; fi; done`,
        `bound=${ticks}; graceful=$(ps -o args= -p "$master" 2>/dev/null | sed -En 's/.*--graceful-timeout[= ]+([0-9]+).*/\\1/p' || true)`,
        `if [ -n "$graceful" ] && [ $((graceful * 10 + 50)) -gt "$bound" ]; then bound=$((graceful * 10 + 50)); fi`,
        `${ctl} signal HUP ${program}`,
        `n=0; while :; do left=''; for w in $old; do if kill -0 "$w" 2>/dev/null; then left="$left $w"; fi; done; if [ -z "$left" ] || [ "$n" -ge "$bound" ]; then break; fi; sleep 0.1; n=$((n + 1)); done`,
        `if [ -n "$left" ]; then echo "${RELOAD_LEFT} $bound$left"; fi`,
    ].join('\n');
}
/** The old workers a HUP reload left running (RELOAD_LEFT), if any: the seconds it waited and their PIDs. */
function parseReloadLeft(stdout) {
    const line = stdout.split('\n').find((l) => l.startsWith(`${RELOAD_LEFT} `));
    if (!line)
        return undefined;
    const [tenths, ...pids] = line
        .slice(RELOAD_LEFT.length + 1)
        .trim()
        .split(/\s+/);
    // Only process ids are kept: the line is a server's output, and it reaches the log and the summary.
    return { seconds: Number(tenths) / 10, pids: pids.filter((pid) => /^\d+$/.test(pid)) };
}
function supervisorctl(settings) {
    return `supervisorctl${settings.supervisorConfig ? ` -c ${q(settings.supervisorConfig)}` : ''}`;
}
/** Stops the program: after a failed first deploy, what the deploy started goes back to how it was found. */
function stopProgramScript(settings) {
    return `${supervisorctl(settings)} stop ${q(settings.supervisorProgram ?? '')} || true`;
}
function appendLogScript(layout, entries) {
    return entries.map((entry) => `printf '%s\\n' ${q(formatLogEntry(entry))} >> ${q(layout.log)}`).join('\n');
}
function pruneScript(layout, remove) {
    if (remove.length === 0)
        return 'true';
    return `cd ${q(layout.releases)}\nrm -rf -- ${remove.map(q).join(' ')}`;
}

;// CONCATENATED MODULE: ./actions/deploy/server/target.ts










/** The saved-state key shared by the main and post steps. */
const STATE_KEY = 'deploy';
/** Runs a script and throws an ActionFailure naming the phase, the host and the tool's last error line. */
async function must(host, script, what, log, options = {}) {
    const result = await host.executor.run(script, {
        stdin: options.stdin,
        secrets: options.env && Object.keys(host.env).length > 0 ? host.env : undefined,
    });
    if (result.stdout.trim())
        log.info(result.stdout.trimEnd());
    if (result.code !== 0) {
        if (result.stderr.trim())
            log.info(result.stderr.trimEnd());
        throw new ActionFailure(`${what} failed on ${host.name}: ${failureReason(result)}`);
    }
    return result;
}
/**
 * The line that says what went wrong: a Python traceback ends with the exception (but psycopg2 adds the SQL and a
 * caret after it), tools print `error:`; otherwise the last line.
 */
function failureReason(result) {
    const lines = result.stderr
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '');
    const named = lines.findLast((l) => /^[A-Za-z_][\w.]*(Error|Exception|Failure)\b|\berror:|^ERROR\b|^fatal:/i.test(l));
    return named ?? lines.at(-1) ?? `exit code ${result.code}`;
}
const SILENT = { info: () => undefined, startGroup: () => undefined, endGroup: () => undefined };
function chunk(items, size) {
    const batches = [];
    for (let i = 0; i < items.length; i += size)
        batches.push(items.slice(i, i + size));
    return batches;
}
/** The deploy to one or more servers over SSH, or to this machine (target local): the same release logic. */
class ServerTarget {
    inputs;
    edges;
    name;
    layout;
    recorder;
    hosts = [];
    report;
    maintenanceOn = new Set();
    /** Set once migrate starts: a failure after it leaves the schema migrated (or partly), which the report says. */
    migrationsStarted = false;
    startedAt;
    constructor(inputs, edges) {
        this.inputs = inputs;
        this.edges = edges;
        this.name = inputs.target;
        this.layout = scripts.layoutOf(inputs.deployTo);
        this.recorder = new PhaseRecorder(edges.clock, edges.log);
        this.startedAt = edges.now();
        this.report = this.recorder.newReport(inputs.target, inputs.mode);
    }
    get log() {
        return this.edges.log;
    }
    phase(name, host, body, detail) {
        return this.recorder.run(name, host.name, body, detail);
    }
    /** Runs `body` on each host: one after the other, or all at once; the first failure is rethrown after all settle. */
    async each(hosts, parallel, body) {
        if (!parallel) {
            for (const host of hosts)
                await body(host);
            return;
        }
        const results = await Promise.allSettled(hosts.map(body));
        const failed = results.find((r) => r.status === 'rejected');
        if (failed)
            throw failed.reason;
    }
    async run() {
        try {
            await this.connect();
            if (this.inputs.mode === 'rollback')
                await this.rollbackOnDemand();
            else
                await this.deploy();
            this.report.ok = true;
        }
        catch (error) {
            this.report.error = errorMessage(error);
            if (this.migrationsStarted && this.inputs.rollbackMigrations.length === 0) {
                this.report.notes.push(this.report.restoreCommand
                    ? 'Migrations are not reversed automatically: the pre-migration backup and its restore command are below.'
                    : 'Migrations are not reversed automatically, and no pre-migration backup was taken (backup: never).');
            }
        }
        finally {
            await this.finish();
        }
        this.report.durationMs = this.recorder.elapsed();
        return this.report;
    }
    saveState() {
        this.edges.saveState({
            hosts: this.hosts.map((h) => h.executor.postState()),
            maintenanceOn: this.hosts.filter((h) => this.maintenanceOn.has(h)).map((h) => h.executor.label),
            maintenanceOffScript: scripts.maintenanceOffScript(this.layout, this.inputs.maintenanceFile),
        });
    }
    /** Connects every host (host keys verified) and takes every lock before anything changes anywhere. */
    async connect() {
        const addresses = this.inputs.ssh?.hosts ?? [undefined];
        for (const address of addresses) {
            const name = address ? address.host : 'local';
            const placeholder = { name };
            const executor = await this.phase('connect', placeholder, () => this.edges.openHost(address), (e) => e.hostKeyPolicy);
            this.hosts.push({ address, name, executor, facts: { releases: [], log: '' }, env: {}, switched: false });
            this.saveState();
        }
        const policies = new Set(this.hosts.map((h) => h.executor.hostKeyPolicy).filter((p) => p !== undefined));
        for (const policy of policies) {
            if (policy.startsWith('accept-new'))
                this.report.notes.push(`SSH host keys: ${policy}.`);
        }
        const underLock = new Map();
        for (const host of this.hosts)
            await this.phase('lock', host, async () => {
                const { stale, output } = await this.lock(host);
                underLock.set(host, output);
                return stale;
            }, (stale) => stale ?? 'preflight read under the lock');
        for (const host of this.hosts) {
            host.facts = await this.phase('preflight', host, () => this.preflight(host, underLock.get(host) ?? ''), (f) => (f.current ? `serving ${f.current}` : 'nothing deployed yet'));
            host.previous = host.facts.current;
            if (host.previous)
                this.report.serving[host.name] = host.previous;
        }
    }
    /** Takes the lock; the holder also runs preflight and reads the environment file (its output, not logged). */
    async lock(host) {
        const token = this.edges.token();
        const info = { token, who: this.inputs.actor, since: this.startedAt.toISOString(), commit: this.inputs.commit };
        const stdin = new PassThrough();
        let output = '';
        let acquired = () => undefined;
        const seen = new Promise((resolve) => (acquired = () => resolve('acquired')));
        // The holder says itself when it holds the lock: no status command polled over the connection.
        const stdout = new Writable({
            write(chunk, _encoding, done) {
                output += chunk.toString('utf8');
                if (output.split('\n').includes(scripts.LOCK_ACQUIRED))
                    acquired();
                done();
            },
        });
        const program = this.inputs.reload === 'command' ? undefined : this.inputs;
        const underLock = scripts.underLockScript(this.layout, program, this.envFilePath());
        const holder = host.executor.run(scripts.lockHolderScript(this.layout, this.inputs.lockTimeoutMs / 1000, info, underLock), {
            stdin,
            stdoutStream: stdout,
        });
        // Bounded: the holder itself gives up after lock-timeout; this allows for a slow connection on top.
        let timer;
        const deadline = new Promise((resolve) => {
            timer = setTimeout(() => resolve('timeout'), this.inputs.lockTimeoutMs + 30_000);
        });
        let first;
        try {
            first = await Promise.race([seen, holder, deadline]);
        }
        finally {
            clearTimeout(timer);
        }
        if (first === 'timeout') {
            stdin.end();
            throw new ActionFailure(`Timed out taking the deploy lock on ${host.name}.`);
        }
        if (first !== 'acquired') {
            stdin.end();
            const why = lastErrorLine(first.stderr) || `exit code ${first.code}`;
            throw new ActionFailure(first.code === 75
                ? `Another deploy is running on ${host.name}: ${why}`
                : `Could not take the deploy lock on ${host.name}: ${why}`);
        }
        host.releaseLock = async () => {
            stdin.end();
            await holder;
        };
        const stale = scripts.parseLockStale(output);
        if (stale) {
            const note = `A deploy lock left by a deploy that died was found on ${host.name} (${stale}): reported, taken over.`;
            this.report.notes.push(note);
            this.log.warning(note);
            return { stale: 'stale lock taken over', output };
        }
        return { output };
    }
    async preflight(host, underLock) {
        const read = scripts.parseUnderLock(underLock);
        if (read.failed)
            throw new ActionFailure(`Preflight failed on ${host.name}: ${read.failed}`);
        if (read.preflight.trim())
            this.log.info(read.preflight.trimEnd());
        const facts = scripts.parsePreflight(read.preflight);
        host.env = this.readEnvFile(host, read.env);
        const missing = this.inputs.requiredEnv.filter((name) => !host.env[name]);
        if (missing.length > 0) {
            throw new ActionFailure(`Preflight failed on ${host.name}: ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not set in ${this.envFilePath()} (required-env).`);
        }
        // A release needs room for its code, its virtualenv and its static files.
        if (facts.freeKb !== undefined && facts.freeKb < 100 * 1024) {
            throw new ActionFailure(`Preflight failed on ${host.name}: only ${Math.round(facts.freeKb / 1024)} MB free under ${this.inputs.deployTo}.`);
        }
        return facts;
    }
    envFilePath() {
        return this.inputs.envFile ?? `${this.layout.shared}/.env`;
    }
    /** Parses the environment file the lock holder printed (never logged: it holds the app's secrets), masking them. */
    readEnvFile(host, output) {
        const path = this.envFilePath();
        const [presence, ...content] = output.split('\n');
        if (presence !== 'present') {
            if (this.inputs.envFile === undefined)
                return {};
            throw new ActionFailure(`Input 'env-file': ${path} does not exist on ${host.name} (a file of NAME=value lines).`);
        }
        const text = content.join('\n');
        const env = parseEnvFile(text, `${path} on ${host.name}`);
        maskEnvFile(env, (secret) => this.edges.setSecret(secret));
        // Over SSH each variable travels as one stdin line: a multi-line value would only fail later, at the first
        // manage.py command, after the build. Said here, before anything changes.
        const multiLine = this.inputs.target === 'ssh' ? Object.keys(env).find((name) => env[name].includes('\n')) : undefined;
        if (multiLine) {
            throw new ActionFailure(`The environment file ${path} on ${host.name}: ${multiLine} holds a new line, which cannot be passed over SSH to the manage.py commands (input 'env-file': keep each value on one line).`);
        }
        return env;
    }
    async appendLog(host, release, outcome, commit, note) {
        await must(host, scripts.appendLogScript(this.layout, [this.logEntry(release, outcome, commit, note)]), 'Writing the release log', this.log);
    }
    logEntry(release, outcome, commit, note) {
        const entry = {
            release,
            commit,
            who: this.inputs.actor,
            when: this.edges.now().toISOString(),
            outcome,
        };
        if (note)
            entry.note = note;
        return entry;
    }
    async deploy() {
        const inputs = this.inputs;
        const commit = await this.edges.resolveCommit(inputs.repository, inputs.commit);
        this.report.commit = commit;
        const existing = new Set(this.hosts.flatMap((h) => [...h.facts.releases, ...(h.facts.current ? [h.facts.current] : [])]));
        let now = this.edges.now();
        let id = releaseId(now, commit);
        // Two deploys in the same second (after one another, under the lock) must not overwrite each other's release.
        while (existing.has(id)) {
            now = new Date(now.getTime() + 1000);
            id = releaseId(now, commit);
        }
        this.report.releaseId = id;
        this.report.previousReleaseId = this.hosts[0].previous;
        try {
            await this.deployRelease(id, commit, now);
        }
        catch (error) {
            // A release that failed before its switch is marked so it is never a rollback target; prune removes it later.
            for (const host of this.hosts) {
                if (!host.switched)
                    await this.appendLog(host, id, 'failed', commit, errorMessage(error)).catch(() => undefined);
            }
            throw error;
        }
    }
    async deployRelease(id, commit, now) {
        const inputs = this.inputs;
        const parallel = inputs.strategy === 'parallel';
        const build = { ...inputs };
        await this.each(this.hosts, parallel, async (host) => {
            await this.phase('upload', host, async () => {
                const stream = this.edges.archive(inputs.repository, commit, inputs.appDirectory);
                await must(host, scripts.unpackScript(this.layout, id, commit, inputs.sharedPaths, this.logEntry(id, 'started', commit)), 'Unpacking the release', this.log, { stdin: stream });
            });
            await this.phase('build', host, () => must(host, scripts.buildScript(this.layout, id, build), 'Build', this.log, { env: true }));
        });
        const first = this.hosts[0];
        const backupDatabase = this.backupDatabase(first);
        const probe = await this.phase('plan', first, () => this.probeRelease(first, id, backupDatabase), (p) => `${describeAppDatabase(p.database)}; ${p.plan.pending.length
            ? `${p.plan.pending.length} pending: ${p.plan.pending.join(', ')}`
            : 'no pending migration'}`);
        const appDatabase = probe.database;
        const planned = { pending: probe.plan.pending, applied: probe.applied };
        const pending = planned.pending.length > 0;
        this.report.migrations = probe.plan.operations;
        if (inputs.backup === 'always' || (inputs.backup === 'auto' && pending)) {
            const outcome = await this.phase('backup', first, () => this.backup(first, backupDatabase?.target, commit, id, now), (b) => b.path);
            this.report.backupPath = outcome.path;
            this.report.restoreCommand = outcome.restoreCommand;
            this.report.backupSha256 = outcome.sha256;
            this.report.backupSizeBytes = outcome.sizeBytes;
        }
        else {
            this.recorder.skip('backup', first.name, inputs.backup === 'never' ? 'backup: never' : 'no pending migration');
        }
        const serving = this.hosts.some((h) => h.previous !== undefined);
        const decision = decideMaintenance(inputs.maintenance, probe.plan, serving);
        this.report.maintenance = decision;
        const maintenance = decision.on;
        // The flag goes up on the other hosts first (a round trip each); on the first host it goes up in the migrate
        // script itself, right before the migration, or in a round trip of its own when nothing is to migrate.
        if (maintenance)
            await this.maintenanceOnAll(id, pending ? first : undefined);
        let migrated = false;
        if (pending) {
            this.migrationsStarted = true;
            const behind = maintenance && this.recordMaintenanceOn(first);
            const script = scripts.migrateScript(this.layout, id, build);
            await this.phase('migrate', first, () => must(first, behind ? `${scripts.maintenanceOnScript(this.layout, inputs.maintenanceFile, id)}\n${script}` : script, 'migrate', this.log, { env: true }), () => (behind ? 'maintenance turned on first, in the same script' : undefined));
            migrated = true;
            this.report.database = `${describeAppDatabase(appDatabase)}: migrated`;
        }
        else {
            this.report.database = `${describeAppDatabase(appDatabase)}: no migration pending`;
            this.recorder.skip('migrate', first.name, 'no pending migration');
        }
        // Under maintenance the site is down anyway: every host switches at once, then the flag comes off.
        const batches = maintenance || parallel ? [this.hosts] : chunk(this.hosts, inputs.batchSize);
        try {
            for (const batch of batches) {
                await this.each(batch, true, async (host) => {
                    const off = this.maintenanceOn.has(host);
                    await this.phase('switch', host, async () => {
                        host.switched = true;
                        // The flag comes off in the same script, once the reload is done and the new code serves.
                        await this.switchAndReload(host, id, `Switching current and reloading (${inputs.reload})${off ? ' and turning maintenance off' : ''}`, off ? scripts.maintenanceOffScript(this.layout, inputs.maintenanceFile) : undefined);
                        this.report.serving[host.name] = id;
                        if (off) {
                            this.maintenanceOn.delete(host);
                            this.saveState();
                        }
                    }, () => (off ? 'maintenance turned off after the reload, in the same script' : undefined));
                });
                await this.maintenanceOff();
                await this.each(batch, true, (host) => this.healthGate(host, commit));
            }
        }
        catch (error) {
            await this.rollBack(id, commit, migrated ? planned.applied : undefined, errorMessage(error));
            throw error;
        }
        for (const host of this.hosts) {
            await this.phase('prune', host, () => this.prune(host, id, commit), (removed) => (removed.length ? `removed ${removed.join(', ')}` : 'nothing to remove'));
        }
    }
    /** The database the pre-migration backup protects: the database-url input, else the env file's DATABASE_URL. */
    backupDatabase(host) {
        if (this.inputs.database)
            return { target: this.inputs.database, from: "input 'database-url'" };
        // With backup: never nothing is protected, so the app's own URL (sqlite:// too) is not ours to parse.
        if (this.inputs.backup === 'never')
            return undefined;
        const url = host.env.DATABASE_URL;
        if (!url)
            return undefined;
        const from = `DATABASE_URL in ${this.envFilePath()}`;
        return { target: parseDatabaseUrl(url, from, this.edges.setSecret), from };
    }
    /**
     * One Django process on the release: which database it migrates (refused when the backup does not protect it),
     * then the pending migrations with a verdict per operation, and the apps' state for rollback-migrations.
     */
    async probeRelease(host, id, backup) {
        const result = await must(host, scripts.releaseProbeScript(this.layout, id, this.inputs, this.inputs.rollbackMigrations), "Reading Django's database settings and migration plan", SILENT, { env: true });
        const [probe, applied = ''] = result.stdout.split('--- applied');
        const database = parseProbe(probe);
        if (!database)
            throw new ActionFailure(`Reading Django's database settings on ${host.name}: manage.py shell printed nothing.`);
        checkAppDatabase(database, backup, scripts.releaseDir(this.layout, id));
        const plan = parsePlan(probe);
        for (const op of plan.operations)
            this.log.info(`${op.migration} ${op.operation} (${op.description}): ${op.verdict}, ${op.reason}`);
        return { database, plan, applied: parseAppliedMigrations(applied) };
    }
    async backup(host, database, commit, id, now) {
        if (!database) {
            throw new ActionFailure(`Migrations are pending and no pre-migration backup can be taken: no 'database-url' input and no DATABASE_URL in ${this.envFilePath()} (set backup: never to deploy without one).`);
        }
        return this.edges.backup(host.executor, { database, directory: this.inputs.backupDirectory, commit, releaseId: id, now }, (line) => this.log.info(line));
    }
    async healthGate(host, commit) {
        if (!this.inputs.healthUrl) {
            this.recorder.skip('health', host.name, 'no health-url');
            return;
        }
        const url = this.healthUrl(host);
        const expect = this.inputs.expectCommit || commit;
        await this.phase('health', host, () => this.askHealth(host, url, expect, ''), (reason) => reason);
    }
    /** The gate's answer in words; throws when the release is not healthy within health-timeout. */
    async askHealth(host, url, expect, when) {
        const result = await this.edges.checkHealth(url, expect, this.inputs.healthTimeoutMs, (line) => this.log.info(line), this.inputs.healthGate);
        if (!result.ok)
            throw new ActionFailure(`Health check of ${url} failed on ${host.name}${when}: ${result.reason}`);
        return result.reason;
    }
    healthUrl(host) {
        return (this.inputs.healthUrl ?? '').replace(/\{host\}/g, host.address?.host ?? '127.0.0.1');
    }
    /**
     * Puts every switched host back on its previous release and marks the release bad. Migrations to reverse
     * (rollback-migrations) are reversed behind maintenance, after the old code is back: no request reaches code
     * that does not match the schema (the new code on the old schema, or the old code mid-reversal).
     */
    async rollBack(id, commit, applied, why) {
        const first = this.hosts[0];
        const unmigrate = applied !== undefined && applied.size > 0 && this.inputs.rollbackMigrations.length > 0;
        if (unmigrate)
            await this.maintenanceOnAll(id).catch((error) => this.noteFailure('Maintenance', error));
        for (const host of this.hosts) {
            if (host.switched) {
                try {
                    await this.phase('rollback', host, () => this.switchBack(host));
                    if (host.previous)
                        this.report.serving[host.name] = host.previous;
                    else
                        delete this.report.serving[host.name];
                    this.report.rolledBack = true;
                }
                catch (error) {
                    this.noteFailure(`Rolling back ${host.name}`, error);
                }
            }
            if (host.switched)
                await this.appendLog(host, id, 'rolled-back', commit, why).catch(() => undefined);
        }
        if (unmigrate) {
            // The new release's code, since only it knows the migrations to reverse; it serves nothing any more.
            await this.phase('unmigrate', first, () => must(first, scripts.unmigrateScript(this.layout, id, this.inputs, applied), 'Migrating back', this.log, {
                env: true,
            }))
                .then(() => this.report.notes.push(`Migrations of ${[...applied.keys()].join(', ')} were migrated back (rollback-migrations), behind maintenance.`))
                .catch((error) => this.noteFailure('Migrating back', error));
        }
        this.report.notes.push(this.report.rolledBack
            ? `The new release was rolled back: ${Object.entries(this.report.serving)
                .map(([h, r]) => `${h} serves ${r}`)
                .join(', ') || 'nothing was deployed before it'}.`
            : 'Nothing was switched.');
    }
    noteFailure(what, error) {
        this.report.notes.push(`${what} failed: ${errorMessage(error)}. Check the server by hand.`);
    }
    /**
     * `current` back to the previous release and a reload; after a first deploy, `current` is removed and a program
     * the deploy started is stopped again, as it was found.
     */
    async switchBack(host) {
        if (host.previous) {
            await this.switchAndReload(host, host.previous, `Switching current back and reloading (${this.inputs.reload})`);
            return;
        }
        await must(host, scripts.switchScript(this.layout, undefined), 'Removing current', this.log);
        if (this.inputs.reload !== 'command' && host.facts.programState && host.facts.programState !== 'RUNNING') {
            await must(host, scripts.stopProgramScript(this.inputs), 'Stopping the program', this.log);
            this.report.notes.push(`${host.name}: ${this.inputs.supervisorProgram} was ${host.facts.programState} before this first deploy; it was stopped again.`);
        }
    }
    /**
     * `current` to a release and the reload, with `after` (maintenance off) in the same script. A HUP reload that
     * gave up waiting for gunicorn's old workers is said as a warning and a note: they may still answer.
     */
    async switchAndReload(host, release, what, after) {
        const result = await must(host, [
            scripts.switchScript(this.layout, release),
            scripts.reloadScript(this.inputs, this.layout, release, this.edges.reloadWaitSeconds),
            ...(after ? [after] : []),
        ].join('\n'), what, this.log);
        const left = scripts.parseReloadLeft(result.stdout);
        if (left) {
            const note = `${host.name}: gunicorn's old workers (PID ${left.pids.join(', ')}) were still running ${left.seconds} s after the HUP reload; they may still answer with the code of the release before ${release} (a request that long, or a --graceful-timeout above ${left.seconds} s not on the master's command line).`;
            this.report.notes.push(note);
            this.log.warning(note);
        }
    }
    /** Records a host's maintenance flag as on before it exists: a post step after a kill removes it even then. */
    recordMaintenanceOn(host) {
        this.maintenanceOn.add(host);
        this.saveState();
        return true;
    }
    /** Maintenance on, a round trip per host; `except` turns it on itself later (in its migrate script). */
    async maintenanceOnAll(id, except) {
        for (const host of this.hosts) {
            if (this.maintenanceOn.has(host) || host === except)
                continue;
            await this.phase('maintenance on', host, async () => {
                this.recordMaintenanceOn(host);
                await must(host, scripts.maintenanceOnScript(this.layout, this.inputs.maintenanceFile, id), 'Turning maintenance on', this.log);
            });
        }
    }
    /**
     * Records the release as succeeded and removes the old ones in one script: under the lock, the releases are the
     * ones preflight listed plus the new one.
     */
    async prune(host, keepId, commit) {
        const entry = this.logEntry(keepId, 'succeeded', commit);
        const existing = [...new Set([...host.facts.releases, keepId])].filter(isReleaseId);
        const entries = [...parseReleaseLog(host.facts.log), entry];
        const remove = planPrune(existing, this.inputs.keepReleases, { current: this.report.serving[host.name], deploying: keepId }, entries);
        await must(host, `${scripts.appendLogScript(this.layout, [entry])}\n${scripts.pruneScript(this.layout, remove)}`, 'Writing the release log and pruning old releases', this.log);
        return remove;
    }
    async rollbackOnDemand() {
        for (const host of this.hosts) {
            const entries = parseReleaseLog(host.facts.log);
            const target = chooseRollbackTarget(host.facts.current, host.facts.releases, entries);
            if (!target) {
                throw new ActionFailure(`No release to roll back to on ${host.name}: ${host.facts.current ? `nothing older than ${host.facts.current} succeeded` : 'nothing is deployed'}.`);
            }
            const commit = [...entries].reverse().find((e) => e.release === target)?.commit ?? '';
            this.report.releaseId = target;
            this.report.previousReleaseId = host.facts.current;
            this.report.commit = commit;
            await this.phase('switch', host, () => this.switchAndReload(host, target, `Switching current and reloading (${this.inputs.reload})`));
            this.report.serving[host.name] = target;
            this.report.rolledBack = true;
            if (host.facts.current)
                await this.appendLog(host, host.facts.current, 'rolled-back', '', `rolled back on demand to ${target}`);
            await this.appendLog(host, target, 'restored', commit);
            if (commit && this.inputs.healthUrl) {
                const url = this.healthUrl(host);
                await this.phase('health', host, () => this.askHealth(host, url, commit, ' after the rollback'));
            }
        }
    }
    async maintenanceOff() {
        for (const host of [...this.maintenanceOn]) {
            await this.phase('maintenance off', host, () => must(host, scripts.maintenanceOffScript(this.layout, this.inputs.maintenanceFile), 'Turning maintenance off', this.log));
            this.maintenanceOn.delete(host);
            this.saveState();
        }
    }
    /** Always: maintenance off, locks released, connections closed, whatever happened before. */
    async finish() {
        try {
            await this.maintenanceOff();
        }
        catch (error) {
            this.report.notes.push(`Maintenance could not be turned off: ${errorMessage(error)}; the post step tries again.`);
        }
        for (const host of this.hosts) {
            try {
                await host.releaseLock?.();
            }
            catch (error) {
                this.log.warning(`Releasing the deploy lock on ${host.name}: ${errorMessage(error)}`);
            }
        }
        for (const host of this.hosts) {
            try {
                await host.executor.close();
            }
            catch (error) {
                this.log.warning(`Closing the connection to ${host.name}: ${errorMessage(error)}`);
            }
        }
        if (this.inputs.healthUrl && this.hosts.length > 0) {
            try {
                this.report.url = new URL(this.healthUrl(this.hosts[0])).origin + '/';
            }
            catch {
                // Validated in inputs; nothing to report if it still does not parse.
            }
        }
        this.saveState();
    }
}

;// CONCATENATED MODULE: ./actions/deploy/post-step.ts






/**
 * After the main step, whatever happened (post-if: always()): turns off a maintenance flag the main step left
 * on (a cancelled or killed job), closes the SSH masters and removes the key and known_hosts. Only warns.
 */
async function postStep(io) {
    const raw = io.getState(STATE_KEY);
    if (!raw)
        return;
    const state = JSON.parse(raw);
    for (const host of state.hosts) {
        const leftover = host.ssh && host.sshDirectory ? { directory: host.sshDirectory, ...host.ssh } : undefined;
        try {
            if (state.maintenanceOn.includes(host.label)) {
                const connection = leftover && SshConnection.fromLeftover(leftover, io.runner);
                const result = connection
                    ? await connection.exec({ script: state.maintenanceOffScript })
                    : leftover === undefined
                        ? await io.runner('bash', ['-c', state.maintenanceOffScript])
                        : { code: 1, stderrTail: 'its SSH key was already removed' };
                if (result.code === 0)
                    io.info(`Maintenance turned off on ${host.label} (the main step had left it on).`);
                else
                    io.warning(`Could not turn maintenance off on ${host.label}: ${result.stderrTail.trim() || `exit code ${result.code}`}`);
            }
        }
        finally {
            if (leftover)
                await SshConnection.closeLeftover(leftover, io.runner);
        }
    }
}
const runPostStep = async (io = { getState: getState, info: info, warning: warning, runner: runProcess }, heroku = runnerHerokuPostIO()) => {
    await runPost(() => postStep(io), io.warning);
    await runPost(() => herokuPostStep(heroku), heroku.warning);
};

;// CONCATENATED MODULE: ./actions/deploy/post.ts

void runPostStep();

