import { createRequire as __WEBPACK_EXTERNAL_createRequire } from "module";
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
/** Kept up to date by the main step as the connection opens and partial files come and go. */
class PostCleanup {
    save;
    ssh;
    partials = new Set();
    constructor(save) {
        this.save = save;
    }
    sshOpened(leftover) {
        this.ssh = leftover;
        this.write();
    }
    /** A partial file on the runner exists (path), or none is left (undefined). */
    partial(path) {
        if (path === undefined)
            this.partials.clear();
        else
            this.partials.add(path);
        this.write();
    }
    write() {
        const state = { ssh: this.ssh, partials: [...this.partials] };
        this.save?.(POST_STATE_KEY, JSON.stringify(state));
    }
}
async function cleanupPost(io) {
    const raw = io.getState(POST_STATE_KEY);
    if (!raw)
        return;
    const state = JSON.parse(raw);
    for (const path of state.partials) {
        if (!(0,external_node_fs_namespaceObject.existsSync)(path))
            continue;
        (0,external_node_fs_namespaceObject.rmSync)(path, { force: true });
        io.info(`Removed ${path}, a partial file the main step left.`);
    }
    if (state.ssh && (await SshConnection.closeLeftover(state.ssh, io.runner)))
        io.info(`Closed the SSH connection to ${state.ssh.host} and removed its key (the main step had left them).`);
}
const runCleanupPost = (io = { getState: getState, info: info, warning: warning, runner: runProcess }) => runPost(() => cleanupPost(io), io.warning);

;// CONCATENATED MODULE: ./actions/db-backup/post.ts

void runCleanupPost();

