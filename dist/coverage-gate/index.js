import { createRequire as __WEBPACK_EXTERNAL_createRequire } from "module";
/******/ var __webpack_modules__ = ({

/***/ 8351:
/***/ ((module, __unused_webpack___webpack_exports__, __nccwpck_require__) => {

__nccwpck_require__.a(module, async (__webpack_handle_async_dependencies__, __webpack_async_result__) => { try {
/* harmony import */ var _main_js__WEBPACK_IMPORTED_MODULE_0__ = __nccwpck_require__(1523);

await (0,_main_js__WEBPACK_IMPORTED_MODULE_0__/* .run */ .eF)();

__webpack_async_result__();
} catch(e) { __webpack_async_result__(e); } }, 1);

/***/ }),

/***/ 1523:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {


// EXPORTS
__nccwpck_require__.d(__webpack_exports__, {
  eF: () => (/* binding */ run)
});

// UNUSED EXPORTS: gate, loadReports

// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __nccwpck_require__(6760);
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

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __nccwpck_require__(7598);
;// CONCATENATED MODULE: external "node:fs"
const external_node_fs_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs");
// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __nccwpck_require__(1455);
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

;// CONCATENATED MODULE: ./actions/shared/workspace-path.ts



function inside(path, root) {
    const rel = (0,external_node_path_.relative)(root, path);
    return rel !== '' && rel !== '..' && !rel.startsWith(`..${external_node_path_.sep}`) && !(0,external_node_path_.isAbsolute)(rel);
}
/**
 * Where an input's output file goes. A relative path stays inside the workspace (a `../` that climbs out is
 * refused before anything runs); an absolute path is taken as given, since writing elsewhere is then a choice.
 */
function outputPath(input, value, workspace) {
    if (value.includes('\0'))
        throw new errors_ConfigurationError(`Input '${input}' must be a file path; it contains a NUL.`);
    // Linux's limits (NAME_MAX, PATH_MAX): past them the write fails late with ENAMETOOLONG, after the work is done.
    if (value.split(/[\\/]/).some((part) => Buffer.byteLength(part) > 255) || Buffer.byteLength(value) > 4095) {
        throw new errors_ConfigurationError(`Input '${input}' must be a file path with names of at most 255 bytes; got '${value.slice(0, 100)}…'.`);
    }
    if ((0,external_node_path_.isAbsolute)(value))
        return { path: value, confined: false };
    const path = (0,external_node_path_.resolve)(workspace, value);
    if (!inside(path, workspace)) {
        throw new errors_ConfigurationError(`Input '${input}' must be a file path inside the workspace (or an absolute path to write elsewhere on purpose); '${value.slice(0, 100)}' is outside it.`);
    }
    return { path, confined: true };
}
/**
 * Checked just before writing a confined path: a symbolic link in the checkout (a pull request can add one) must
 * not carry the write out of the workspace, and an existing link is never written through.
 */
function checkStillInside(input, path, workspace) {
    const root = (0,external_node_fs_namespaceObject.realpathSync)(workspace);
    let existing = (0,external_node_path_.dirname)(path);
    for (let i = 0; i < 4096 && !exists(existing); i++)
        existing = (0,external_node_path_.dirname)(existing);
    let real;
    try {
        real = (0,external_node_fs_namespaceObject.realpathSync)(existing);
    }
    catch {
        // A dangling link on the way: where it would lead is unknown, so it does not count as inside.
    }
    const link = exists(path) && (0,external_node_fs_namespaceObject.lstatSync)(path).isSymbolicLink();
    if (real === undefined || (real !== root && !inside(real, root)) || link) {
        throw new errors_ConfigurationError(`Input '${input}': '${(0,external_node_path_.relative)(workspace, path)}' leads outside the workspace through a symbolic link; refusing to write it.`);
    }
}
function exists(path) {
    try {
        (0,external_node_fs_namespaceObject.lstatSync)(path);
        return true;
    }
    catch {
        return false;
    }
}

;// CONCATENATED MODULE: ./actions/coverage-gate/lines/array-pages.ts
const PAGE_BYTES = 1 << 20;
/**
 * Typed arrays cut from shared 1 MiB pages. One typed array per source file costs a buffer object and a malloc
 * each, and every small array kept on the JS heap makes V8 grow its young generation (which it sizes by what
 * survives): for 50 000 files of 100 lines that weighed more than the counts themselves. A parser fills one file
 * at a time, so the array being filled is the page's last cut and grows in place.
 */
class ArrayPages {
    create;
    page;
    tail = 0;
    constructor(create) {
        this.create = create;
        this.page = create(0);
    }
    /** A zero-filled array; a large one gets its own buffer. */
    cut(length) {
        const perPage = PAGE_BYTES / this.page.BYTES_PER_ELEMENT;
        if (length > perPage / 8)
            return this.create(length);
        if (this.tail + length > this.page.length) {
            this.page = this.create(perPage);
            this.tail = 0;
        }
        this.tail += length;
        return this.page.subarray(this.tail - length, this.tail);
    }
    /** A longer array with the same contents, extended in place when it is the page's last cut. */
    grow(view, length) {
        const start = view.byteOffset / view.BYTES_PER_ELEMENT;
        if (this.isLastCut(view) && start + length <= this.page.length) {
            this.tail = start + length;
            return this.page.subarray(start, this.tail);
        }
        const grown = this.cut(length);
        grown.set(view);
        return grown;
    }
    /** Gives back what lies past `length`; the caller never wrote there, so a page keeps its zeros. */
    shrink(view, length) {
        if (view.length === length)
            return view;
        if (this.isLastCut(view)) {
            const start = view.byteOffset / view.BYTES_PER_ELEMENT;
            this.tail = start + length;
            return this.page.subarray(start, this.tail);
        }
        const own = view.byteOffset === 0 && view.byteLength === view.buffer.byteLength;
        return own ? view.slice(0, length) : view;
    }
    /**
     * The array is no longer used: zeroed, and given back when it is the page's last cut, so that the next file
     * of a report is written where the previous one was.
     */
    release(view) {
        if (!this.isLastCut(view))
            return;
        view.fill(0);
        this.tail = view.byteOffset / view.BYTES_PER_ELEMENT;
    }
    isLastCut(view) {
        return (view.length > 0 &&
            view.buffer === this.page.buffer &&
            view.byteOffset / view.BYTES_PER_ELEMENT + view.length === this.tail);
    }
}

;// CONCATENATED MODULE: ./actions/coverage-gate/lines/line-branches.ts

const EMPTY = new Uint32Array(0);
// Whole numbers below 2^32 (all real line numbers and hits) take 4 bytes; an array that meets any other number
// a report may hold becomes a Float64Array, so every value stays exact.
const tablePages = new ArrayPages((length) => new Uint32Array(length));
const hitPages = new ArrayPages((length) => new Uint32Array(length));
const wideTablePages = new ArrayPages((length) => new Float64Array(length));
const wideHitPages = new ArrayPages((length) => new Float64Array(length));
const fitsUint32 = (value) => Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
function resize(view, length, narrow, wide) {
    if (view instanceof Float64Array)
        return length > view.length ? wide.grow(view, length) : wide.shrink(view, length);
    return length > view.length ? narrow.grow(view, length) : narrow.shrink(view, length);
}
function giveBack(view, narrow, wide) {
    if (view instanceof Float64Array)
        wide.release(view);
    else
        narrow.release(view);
}
function widen(view, wide) {
    if (view instanceof Float64Array)
        return view;
    const copy = wide.cut(Math.max(view.length, 16));
    copy.set(view);
    return copy;
}
/**
 * Line number → the hits of each branch leaving that line, and optionally an identity per branch (an LCOV block
 * and branch, a coverage.py destination). Stored in two flat typed arrays per file instead of two arrays per line:
 * a 2-million-line report has some 200 000 branch lines, which took ~200 bytes each as a Map of small arrays.
 */
class LineBranches {
    /** Per line with branches, 4 numbers: line, start in `hits`, branch count, 1 when the branches have ids. */
    table = EMPTY;
    rows = 0;
    /** The hits of every branch, each line's branches next to each other. */
    hits = EMPTY;
    used = 0;
    /** Parallel to `hits` once any branch has an id ('' for none); the strings are shared, not copied. */
    ids;
    /** Row by line, built only once lines arrive out of ascending order; until then rows are binary-searched. */
    index;
    get size() {
        return this.rows;
    }
    /** The row of `line`, or -1. */
    row(line) {
        const rows = this.rows;
        if (rows === 0)
            return -1;
        // Reports list a line's branches together, so the last row is the usual answer.
        if (this.table[(rows - 1) * 4] === line)
            return rows - 1;
        if (this.index)
            return this.index.get(line) ?? -1;
        let low = 0;
        let high = rows - 1;
        while (low <= high) {
            const mid = (low + high) >>> 1;
            const at = this.table[mid * 4];
            if (at === line)
                return mid;
            if (at < line)
                low = mid + 1;
            else
                high = mid - 1;
        }
        return -1;
    }
    length(row) {
        return this.table[row * 4 + 2];
    }
    hasIds(row) {
        return this.table[row * 4 + 3] === 1;
    }
    hit(row, i) {
        return this.hits[this.table[row * 4 + 1] + i];
    }
    /** The first branch of the row with this id, or -1. */
    findId(row, id) {
        if (!this.ids || !this.hasIds(row))
            return -1;
        const start = this.table[row * 4 + 1];
        const end = start + this.table[row * 4 + 2];
        for (let i = start; i < end; i++)
            if (this.ids[i] === id)
                return i - start;
        return -1;
    }
    addHits(row, i, hits) {
        const at = this.table[row * 4 + 1] + i;
        const sum = this.hits[at] + hits;
        if (!fitsUint32(sum))
            this.hits = widen(this.hits, wideHitPages);
        this.hits[at] = sum;
    }
    /** Replaces (or creates) the branches of a line; with `ids` they keep one id each. */
    set(line, hits, ids) {
        let row = this.row(line);
        if (row === -1)
            row = this.addRow(line);
        const start = this.used;
        for (let i = 0; i < hits.length; i++)
            this.pushBranch(hits[i], ids ? ids[i] : '');
        // The old branches stay as dead slots: replacing a line is rare (a Cobertura line listed twice).
        this.table[row * 4 + 1] = start;
        this.table[row * 4 + 2] = hits.length;
        this.table[row * 4 + 3] = ids ? 1 : 0;
    }
    /** Adds one branch to the end of a line's branches. */
    append(row, hits, id) {
        const start = this.table[row * 4 + 1];
        const count = this.table[row * 4 + 2];
        if (start + count !== this.used) {
            // Not the last line written: move its branches to the end so they stay next to each other.
            this.table[row * 4 + 1] = this.used;
            for (let i = start; i < start + count; i++)
                this.pushBranch(this.hits[i], this.ids ? this.ids[i] : '');
        }
        this.pushBranch(hits, id ?? '');
        this.table[row * 4 + 2] = count + 1;
    }
    /** The line's branches are counts only from now on (merged with a report that has no ids). */
    dropIds(row) {
        this.table[row * 4 + 3] = 0;
    }
    /** A new line with no branches yet. */
    addRow(line) {
        const rows = this.rows;
        if (!this.index && rows > 0 && this.table[(rows - 1) * 4] > line) {
            this.index = new Map();
            for (let r = 0; r < rows; r++)
                this.index.set(this.table[r * 4], r);
        }
        this.index?.set(line, rows);
        if ((rows + 1) * 4 > this.table.length)
            this.table = resize(this.table, Math.max(32, this.table.length * 2), tablePages, wideTablePages);
        if (!fitsUint32(line))
            this.table = widen(this.table, wideTablePages);
        this.table[rows * 4] = line;
        this.table[rows * 4 + 1] = this.used;
        this.table[rows * 4 + 2] = 0;
        this.table[rows * 4 + 3] = 0;
        this.rows = rows + 1;
        return rows;
    }
    /** Gives back the room the arrays reserved for growth once a file is complete. */
    trim() {
        this.table = resize(this.table, this.rows * 4, tablePages, wideTablePages);
        this.hits = resize(this.hits, this.used, hitPages, wideHitPages);
        if (this.ids)
            this.ids = this.ids.slice();
    }
    /** Empties the branches and gives their arrays back to their pages. */
    release() {
        giveBack(this.table, tablePages, wideTablePages);
        giveBack(this.hits, hitPages, wideHitPages);
        this.table = EMPTY;
        this.hits = EMPTY;
        this.rows = 0;
        this.used = 0;
        this.ids = undefined;
        this.index = undefined;
    }
    /** Covered (hits above zero) and all branches. */
    coverage() {
        let covered = 0;
        let total = 0;
        for (let row = 0; row < this.size; row++) {
            const start = this.table[row * 4 + 1];
            const end = start + this.table[row * 4 + 2];
            for (let i = start; i < end; i++)
                if (this.hits[i] > 0)
                    covered++;
            total += end - start;
        }
        return { covered, total };
    }
    /** Each line with its branches' hits and, for lines with ids, their ids (fresh arrays). */
    *entries() {
        for (let row = 0; row < this.size; row++) {
            const start = this.table[row * 4 + 1];
            const end = start + this.table[row * 4 + 2];
            yield [
                this.table[row * 4],
                Array.from(this.hits.subarray(start, end)),
                this.hasIds(row) ? (this.ids ?? []).slice(start, end) : undefined,
            ];
        }
    }
    /** Each line's branch hits (fresh arrays), the Map-like view the gate's callers use. */
    get(line) {
        const row = this.row(line);
        if (row === -1)
            return undefined;
        const start = this.table[row * 4 + 1];
        return Array.from(this.hits.subarray(start, start + this.table[row * 4 + 2]));
    }
    pushBranch(hits, id) {
        if (id !== '' && !this.ids)
            this.ids = new Array(this.used).fill('');
        if (this.used === this.hits.length)
            this.hits = resize(this.hits, Math.max(16, this.hits.length * 2), hitPages, wideHitPages);
        if (!fitsUint32(hits))
            this.hits = widen(this.hits, wideHitPages);
        this.hits[this.used++] = hits;
        this.ids?.push(id);
    }
}

;// CONCATENATED MODULE: ./actions/coverage-gate/lines/line-hits.ts

/** Beyond this a line number is stored sparsely: a dense array would be mostly holes. */
const DENSE_LIMIT = 1 << 24;
/** Hits are stored plus one, so that 0 marks a line that is not a statement; larger counts go to the Map. */
const DENSE_MAX_HITS = 0xfffffffe;
const line_hits_EMPTY = new Uint32Array(0);
const pages = new ArrayPages((length) => new Uint32Array(length));
/**
 * Line number → hits, with the Map methods the gate uses, stored as one Uint32Array per file (hits + 1, 0 for a
 * line that is not a statement), trimmed to its last line when the parser leaves the file. Two million lines
 * take 8 MB instead of the ~150 MB of Map entries. Falls back to a Map for very sparse line numbers and for hit
 * counts that are not whole numbers below 2^32 - 1.
 */
class LineHits {
    dense = line_hits_EMPTY;
    sparse;
    count = 0;
    /** One past the highest line stored densely. */
    end = 0;
    constructor(entries) {
        if (entries)
            for (const [line, hits] of entries)
                this.set(line, hits);
    }
    get size() {
        return this.sparse ? this.sparse.size : this.count;
    }
    get(line) {
        if (this.sparse)
            return this.sparse.get(line);
        const stored = line >= 0 && line < this.end ? this.dense[line] : 0;
        return stored === 0 ? undefined : stored - 1;
    }
    has(line) {
        return this.get(line) !== undefined;
    }
    set(line, hits) {
        if (this.sparse) {
            this.sparse.set(line, hits);
            return this;
        }
        if (!Number.isInteger(line) ||
            line < 0 ||
            line >= DENSE_LIMIT ||
            line > 8 * (this.count + 1024) ||
            !Number.isInteger(hits) ||
            hits < 0 ||
            hits > DENSE_MAX_HITS) {
            this.sparse = new Map(this.entries());
            this.dense = line_hits_EMPTY;
            this.sparse.set(line, hits);
            return this;
        }
        if (line >= this.dense.length) {
            this.dense = pages.grow(this.dense, Math.max(line + 1, this.dense.length * 2, 64));
        }
        if (this.dense[line] === 0)
            this.count++;
        this.dense[line] = hits + 1;
        if (line >= this.end)
            this.end = line + 1;
        return this;
    }
    /** Gives back the room reserved for growth once a file is complete (it can still grow again). */
    trim() {
        if (!this.sparse)
            this.dense = pages.shrink(this.dense, this.end);
    }
    /** Lines with hits above zero and all lines, in one pass over the array. */
    coverage() {
        if (this.sparse) {
            let covered = 0;
            for (const hits of this.sparse.values())
                if (hits > 0)
                    covered++;
            return { covered, total: this.sparse.size };
        }
        let covered = 0;
        const dense = this.dense;
        for (let line = 0; line < this.end; line++)
            if (dense[line] > 1)
                covered++;
        return { covered, total: this.count };
    }
    /** Lines with no hits, ascending. */
    missing() {
        if (this.sparse)
            return [...this.sparse]
                .filter(([, hits]) => hits === 0)
                .map(([line]) => line)
                .sort((a, b) => a - b);
        const lines = [];
        for (let line = 0; line < this.end; line++)
            if (this.dense[line] === 1)
                lines.push(line);
        return lines;
    }
    /** Empties the counts and gives their array back to its page. */
    release() {
        pages.release(this.dense);
        this.dense = line_hits_EMPTY;
        this.sparse = undefined;
        this.count = 0;
        this.end = 0;
    }
    *entries() {
        if (this.sparse) {
            yield* this.sparse.entries();
            return;
        }
        for (let line = 0; line < this.end; line++) {
            const stored = this.dense[line];
            if (stored !== 0)
                yield [line, stored - 1];
        }
    }
    *keys() {
        for (const [line] of this.entries())
            yield line;
    }
    *values() {
        for (const [, hits] of this.entries())
            yield hits;
    }
    [Symbol.iterator]() {
        return this.entries();
    }
}

;// CONCATENATED MODULE: ./actions/coverage-gate/model.ts


/** Rows of the summary's file tables; the files beyond are in the counts and totals, not in the rows. */
const MAX_FILE_ROWS = 100;
/**
 * The order of the summary's file table: most missed lines first, then by path. Shared by the table and by
 * the selection of the files whose missing lines are kept, so that both agree on which files come first.
 */
function byMissedThenPath(a, b) {
    return b.missed - a.missed || a.path.localeCompare(b.path);
}
const REPORT_FORMATS = [
    'cobertura',
    'coveragepy-json',
    'lcov',
    'istanbul-json',
    'istanbul-summary',
    'go',
    'jacoco',
    'clover',
];
function summariseReport(report) {
    return {
        file: report.file,
        format: report.format,
        files: report.files.size + (report.folded ?? 0) + (report.summaries?.size ?? 0),
        ...(report.notes?.length ? { notes: report.notes } : {}),
    };
}
/**
 * A copy of `text` that does not keep alive the string it was sliced from. V8 keeps a substring as a view of its
 * parent, so a path sliced from a chunk would pin the whole chunk for as long as the model lives.
 */
function detach(text) {
    return text.length === 0 ? text : Buffer.from(text, 'utf8').toString('utf8');
}
function newFile(path) {
    return { path, lines: new LineHits(), branches: new LineBranches() };
}
/** Called when a parser leaves a file: its arrays shrink to what they hold. */
function trimFile(file) {
    file.lines.trim();
    file.branches.trim();
}
/** Adds a line's hits within one report: a line listed twice (two Cobertura classes of one file) counts once. */
function addLine(file, line, hits) {
    const previous = file.lines.get(line);
    file.lines.set(line, previous === undefined ? hits : Math.max(previous, hits));
}
/**
 * Adds branches of a line within one report (several conditions on one line add up). With `ids`, a branch
 * already known by the same id adds its hits instead of counting twice.
 */
function addBranches(file, line, hits, ids) {
    const branches = file.branches;
    const row = branches.row(line);
    if (row === -1) {
        branches.set(line, hits, ids);
        return;
    }
    if (ids && branches.hasIds(row)) {
        ids.forEach((id, i) => {
            const at = branches.findId(row, id);
            if (at === -1)
                branches.append(row, hits[i], id);
            else
                branches.addHits(row, at, hits[i]);
        });
        return;
    }
    for (const h of hits)
        branches.append(row, h);
    branches.dropIds(row);
}
/** One identified branch of a line (an LCOV BRDA record): the hot path of addBranches. */
function addBranchHit(file, line, hits, id) {
    const branches = file.branches;
    const row = branches.row(line);
    if (row === -1)
        branches.set(line, [hits], [id]);
    else if (!branches.hasIds(row))
        branches.append(row, hits);
    else {
        const at = branches.findId(row, id);
        if (at !== -1)
            branches.addHits(row, at, hits);
        else
            branches.append(row, hits, id);
    }
}
/** Branches above zero hits in a row. */
function coveredIn(branches, row) {
    let covered = 0;
    for (let i = 0; i < branches.length(row); i++)
        if (branches.hit(row, i) > 0)
            covered++;
    return covered;
}
/** A line's branches given as counts (Cobertura, JaCoCo, Clover); a line listed twice keeps the larger count. */
function setBranchCounts(file, line, covered, total) {
    const row = file.branches.row(line);
    if (row !== -1 && coveredIn(file.branches, row) >= covered && file.branches.length(row) >= total)
        return;
    file.branches.set(line, branchCounts(covered, total));
}
/** A branch total known only as counts (Cobertura's condition-coverage "50% (1/2)"): covered ones first. */
function branchCounts(covered, total) {
    const hits = new Array(total).fill(0);
    for (let i = 0; i < covered && i < total; i++)
        hits[i] = 1;
    return hits;
}
function mergeCounter(target, source) {
    for (const [key, hits] of source)
        target.set(key, (target.get(key) ?? 0) + hits);
}
/**
 * Merges `source` into `target` for the same file seen in another report: hits add up, so a line covered in
 * either report is covered and the line itself is counted once. Branches with identities merge by identity;
 * branches known only as counts cannot be matched, so the line keeps the larger count of each report — never
 * more covered branches than one report proves.
 */
function mergeFile(target, source) {
    for (const [line, hits] of source.lines)
        target.lines.set(line, (target.lines.get(line) ?? 0) + hits);
    for (const [line, hits, ids] of source.branches.entries()) {
        const row = target.branches.row(line);
        if (row === -1) {
            target.branches.set(line, hits, ids);
        }
        else if (ids && target.branches.hasIds(row)) {
            addBranches(target, line, hits, ids);
        }
        else {
            const covered = Math.max(coveredIn(target.branches, row), hits.filter((h) => h > 0).length);
            target.branches.set(line, branchCounts(covered, Math.max(target.branches.length(row), hits.length)));
        }
    }
    if (source.statements)
        mergeCounter((target.statements ??= new Map()), source.statements);
    if (source.functions)
        mergeCounter((target.functions ??= new Map()), source.functions);
}

;// CONCATENATED MODULE: ./actions/coverage-gate/paths.ts

/** Forward slashes, no './', no trailing slash; Windows drive letters kept so they can be recognised. */
function toPosix(path) {
    let p = path
        .trim()
        .replace(/^file:\/\//, '')
        .replace(/\\/g, '/');
    if (/^\/[A-Za-z]:\//.test(p))
        p = p.slice(1);
    p = p.replace(/\/{2,}/g, '/');
    const drive = /^[A-Za-z]:\//.exec(p)?.[0] ?? '';
    const rest = external_node_path_.posix.normalize(p.slice(drive.length));
    return (drive + rest).replace(/^\.\//, '').replace(/\/$/, '');
}
function isAbsolute(p) {
    return p.startsWith('/') || /^[A-Za-z]:\//.test(p);
}
function relativeTo(base, p) {
    const b = toPosix(base);
    if (p === b)
        return '';
    const prefix = b.endsWith('/') ? b : `${b}/`;
    const sameCase = /^[A-Za-z]:\//.test(b) ? p.toLowerCase().startsWith(prefix.toLowerCase()) : p.startsWith(prefix);
    return sameCase ? p.slice(prefix.length) : undefined;
}
/**
 * Maps a path as a report names it to a path in the repository so annotations land on the right file. Tries,
 * in order: the workspace, the stripped prefixes, the report's and the configured source roots, the working
 * directory; then the longest path suffix that exists (a report written on another machine or OS).
 */
function normalisePath(reportPath, reportRoots, context) {
    const p = toPosix(reportPath);
    const candidates = [];
    const push = (candidate) => {
        if (candidate === undefined || candidate === '' || candidate.startsWith('../'))
            return;
        const clean = toPosix(candidate);
        if (!candidates.includes(clean))
            candidates.push(clean);
    };
    for (const prefix of context.stripPrefixes) {
        const stripped = relativeTo(prefix, p);
        if (stripped !== undefined) {
            push(stripped);
            if (context.workingDirectory)
                push(external_node_path_.posix.join(context.workingDirectory, stripped));
        }
    }
    if (isAbsolute(p)) {
        push(relativeTo(context.workspace, p));
        for (const root of [...reportRoots, ...context.sourceRoots]) {
            const inside = relativeTo(root, p);
            if (inside !== undefined)
                push(inside);
        }
    }
    else {
        for (const root of [...reportRoots, ...context.sourceRoots]) {
            const r = toPosix(root);
            const joined = isAbsolute(r) ? relativeTo(context.workspace, external_node_path_.posix.join(r, p)) : external_node_path_.posix.join(r, p);
            push(joined);
        }
        if (context.workingDirectory)
            push(external_node_path_.posix.join(context.workingDirectory, p));
        push(p);
    }
    for (const candidate of candidates)
        if (context.exists(candidate))
            return { path: candidate, matched: true };
    // A path from another machine: drop leading directories until what remains is a file of the checkout.
    const parts = p
        .replace(/^[A-Za-z]:\//, '')
        .replace(/^\//, '')
        .split('/');
    for (let i = 1; i < parts.length; i++) {
        const suffix = parts.slice(i).join('/');
        if (context.exists(suffix))
            return { path: suffix, matched: true };
        if (context.workingDirectory && context.exists(external_node_path_.posix.join(context.workingDirectory, suffix))) {
            return { path: external_node_path_.posix.join(context.workingDirectory, suffix), matched: true };
        }
    }
    return { path: candidates[0] ?? p, matched: false };
}
/** A glob ('**', '*', '?', '{a,b}') as a regular expression over POSIX paths. */
function globToRegExp(glob) {
    let source = '';
    const g = toPosix(glob);
    for (let i = 0; i < g.length; i++) {
        const c = g[i];
        if (c === '*') {
            if (g[i + 1] === '*') {
                i++;
                if (g[i + 1] === '/') {
                    i++;
                    source += '(?:.*/)?';
                }
                else
                    source += '.*';
            }
            else
                source += '[^/]*';
        }
        else if (c === '?')
            source += '[^/]';
        else if (c === '{') {
            const close = g.indexOf('}', i);
            if (close === -1)
                source += '\\{';
            else {
                source += `(?:${g
                    .slice(i + 1, close)
                    .split(',')
                    .map((alt) => alt.replace(/[.+^$()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*'))
                    .join('|')})`;
                i = close;
            }
        }
        else
            source += c.replace(/[.+^$()|[\]\\]/g, '\\$&');
    }
    // A directory pattern covers everything below it.
    return new RegExp(`^${source}(?:/.*)?$`);
}

;// CONCATENATED MODULE: ./actions/coverage-gate/rounding.ts
const ROUNDINGS = ['none', 'coveragepy', 'istanbul', 'floor'];
function parseDecimal(text) {
    const match = /^\+?(\d+)(?:\.(\d+))?$/.exec(text.trim());
    if (!match)
        return undefined;
    const fraction = match[2] ?? '';
    return { units: BigInt(match[1] + fraction), scale: fraction.length, text: text.trim() };
}
const TEN = 10n;
const pow10 = (n) => TEN ** BigInt(n);
/** The floating-point percentage coverage.py computes: (100.0 * covered) / total, or 100 when nothing counts. */
function coveragePyPercent(covered, total) {
    return total > 0 ? (100.0 * covered) / total : 100.0;
}
/** Istanbul's percent(): truncated to two decimals through its own float steps. */
function istanbulPercent(covered, total) {
    return total > 0 ? Math.floor((1000 * 100 * covered) / total / 10) / 100 : 100.0;
}
/**
 * Python's round(x, n): the exact binary value of x rounded to n decimals, ties to even. JavaScript's toFixed
 * rounds ties away from zero and Math.round(x * 10^n) adds its own error, so neither matches coverage.py.
 */
function pythonRound(x, digits) {
    if (!Number.isFinite(x) || x === 0)
        return x;
    const negative = x < 0;
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, Math.abs(x));
    const bits = view.getBigUint64(0);
    const exponentBits = Number((bits >> 52n) & 0x7ffn);
    let mantissa = bits & ((1n << 52n) - 1n);
    let exponent;
    if (exponentBits === 0)
        exponent = -1074;
    else {
        mantissa |= 1n << 52n;
        exponent = exponentBits - 1075;
    }
    if (exponent >= 0)
        return x;
    // x = mantissa / 2^k = mantissa * 5^k / 10^k exactly.
    const k = -exponent;
    const digitsValue = mantissa * 5n ** BigInt(k);
    if (k <= digits)
        return x;
    const divisor = pow10(k - digits);
    let quotient = digitsValue / divisor;
    const remainder = digitsValue % divisor;
    const twice = remainder * 2n;
    if (twice > divisor || (twice === divisor && quotient % 2n === 1n))
        quotient += 1n;
    const result = Number(`${quotient}e-${digits}`);
    return negative ? -result : result;
}
/** coverage.py's display_covered: never shows 0 or 100 unless the value is exactly that. */
function coveragePyDisplay(percent, precision) {
    const near0 = 1.0 / 10 ** precision;
    let shown;
    if (percent > 0 && percent < near0)
        shown = near0;
    else if (percent > 100.0 - near0 && percent < 100)
        shown = 100.0 - near0;
    else
        shown = pythonRound(percent, precision);
    return shown.toFixed(precision);
}
/** covered/total as a percentage truncated (not rounded) to `precision` decimals, computed exactly. */
function floorPercent(covered, total, precision) {
    if (total === 0)
        return (100).toFixed(precision);
    const scaled = (BigInt(covered) * 100n * pow10(precision)) / BigInt(total);
    const text = scaled.toString().padStart(precision + 1, '0');
    return precision === 0 ? text : `${text.slice(0, -precision)}.${text.slice(-precision)}`;
}
/** Decides covered/total against the threshold under a rounding mode. Zero total counts as 100 %, as in coverage.py and Istanbul. */
function judge(covered, total, threshold, rounding, precision) {
    switch (rounding) {
        case 'coveragepy': {
            const percent = coveragePyPercent(covered, total);
            const limit = Number(threshold.text);
            // coverage.py: "Special case for fail_under=100, it must really be 100."
            const failed = (limit === 100 && percent !== 100) || pythonRound(percent, precision) < limit;
            return { shown: coveragePyDisplay(percent, precision), passed: !failed };
        }
        case 'istanbul': {
            const percent = istanbulPercent(covered, total);
            return { shown: percent.toFixed(2), passed: !(percent < Number(threshold.text)) };
        }
        case 'floor': {
            const shown = floorPercent(covered, total, precision);
            const value = parseDecimal(shown);
            return { shown, passed: compareDecimals(value, threshold) >= 0 };
        }
        default: {
            // The exact ratio decides: covered * 100 >= threshold * total, in integers.
            const passed = total === 0 || BigInt(covered) * 100n * pow10(threshold.scale) >= threshold.units * BigInt(total);
            return { shown: floorPercent(covered, total, precision), passed };
        }
    }
}
function compareDecimals(a, b) {
    const scale = Math.max(a.scale, b.scale);
    const left = a.units * pow10(scale - a.scale);
    const right = b.units * pow10(scale - b.scale);
    return left === right ? 0 : left > right ? 1 : -1;
}

;// CONCATENATED MODULE: ./actions/coverage-gate/totals.ts



const METRICS = ['line', 'branch', 'combined', 'statements', 'functions'];
/**
 * Merges reports whose paths were normalised by `normalise`. The same file in two reports is merged line by
 * line; a file known only from a summary cannot be, so it is counted once, from its detailed report if any.
 */
function mergeReports(reports, normalise, 
/** Files of a detailed report that were folded while being read (they are not in `report.files`). */
folded = () => false) {
    const files = new Map();
    const summaries = new Map();
    const overlaps = { paths: [], count: 0 };
    for (const report of reports) {
        for (const [path, coverage] of report.files) {
            const key = coverage.key ?? normalise(path, report);
            const target = files.get(key);
            // The first report to list a file lends its counts; later ones are merged into them.
            if (!target)
                files.set(key, coverage);
            else
                mergeFile(target, coverage);
        }
    }
    for (const report of reports) {
        for (const [path, counts] of report.summaries ?? []) {
            const key = normalise(path, report);
            if (files.has(key) || folded(key))
                continue;
            const previous = summaries.get(key);
            if (previous) {
                overlaps.count++;
                if (overlaps.paths.length < 5)
                    overlaps.paths.push(key);
            }
            // Two summaries of one file cannot be merged line by line; the better-covered one is the closer bound.
            if (!previous || previous.lines.covered < counts.lines.covered)
                summaries.set(key, counts);
        }
    }
    return { files, summaries, ...(overlaps.count > 0 ? { summaryOverlaps: overlaps } : {}) };
}
function hitCount(values) {
    let covered = 0;
    let total = 0;
    for (const hits of values) {
        total++;
        if (hits > 0)
            covered++;
    }
    return { covered, total };
}
function fileTotals(file) {
    const lines = file.lines.coverage();
    return {
        lines,
        branches: file.branches.coverage(),
        // Without separate statements (coverage.py, Cobertura, LCOV), a statement is a line.
        statements: file.statements ? hitCount(file.statements.values()) : undefined,
        functions: file.functions ? hitCount(file.functions.values()) : undefined,
    };
}
function add(target, source) {
    target.covered += source.covered;
    target.total += source.total;
}
/**
 * A running sum of counts, never of percentages. Statements fall back to lines for parts without them (a statement
 * is a line in coverage.py, Cobertura and LCOV); statements and functions appear once any part has them.
 */
class TotalsSum {
    lines = { covered: 0, total: 0 };
    branches = { covered: 0, total: 0 };
    statements = { covered: 0, total: 0 };
    functions = { covered: 0, total: 0 };
    statementsSeen = false;
    functionsSeen = false;
    add(part) {
        add(this.lines, part.lines);
        if (part.branches)
            add(this.branches, part.branches);
        add(this.statements, part.statements ?? part.lines);
        if (part.statements)
            this.statementsSeen = true;
        if (part.functions) {
            add(this.functions, part.functions);
            this.functionsSeen = true;
        }
        return this;
    }
    /** A copy of the sum so far. */
    result() {
        const copy = (c) => ({ covered: c.covered, total: c.total });
        const result = { lines: copy(this.lines), branches: copy(this.branches) };
        if (this.statementsSeen)
            result.statements = copy(this.statements);
        if (this.functionsSeen)
            result.functions = copy(this.functions);
        return result;
    }
}
/** Sums counts, never percentages. */
function sumTotals(parts) {
    const sum = new TotalsSum();
    for (const part of parts)
        sum.add(part);
    return sum.result();
}
function modelTotals(model) {
    const sum = new TotalsSum();
    for (const file of model.files.values())
        sum.add(fileTotals(file));
    for (const counts of model.summaries.values())
        sum.add(counts);
    if (model.folded)
        sum.add(model.folded.totals);
    return sum.result();
}
/** Whether a file belongs in the summary's file table: it missed lines or some of its branches. */
function hasMisses(totals) {
    return totals.lines.covered < totals.lines.total || totals.branches.covered < totals.branches.total;
}
/** The package a file's row is grouped under in the summary: its directory. */
function packageOf(path) {
    const dir = external_node_path_.posix.dirname(path);
    return dir === '.' ? '(root)' : dir;
}
/** The count a metric compares. `combined` is coverage.py's total: (lines + branches) / (statements + branches). */
function metricCount(totals, metric) {
    switch (metric) {
        case 'line':
            return totals.lines;
        case 'branch':
            return totals.branches;
        case 'combined':
            return {
                covered: totals.lines.covered + totals.branches.covered,
                total: totals.lines.total + totals.branches.total,
            };
        case 'statements':
            return totals.statements ?? totals.lines;
        case 'functions':
            return totals.functions ?? { covered: 0, total: 0 };
    }
}
const METRIC_WORDS = {
    line: 'lines',
    branch: 'branches',
    combined: 'lines and branches',
    statements: 'statements',
    functions: 'functions',
};
/** The metrics the totals have something measured for: the choices `metric` can have. */
function measuredMetrics(totals) {
    const metrics = [];
    if (totals.lines.total > 0)
        metrics.push('line');
    if (totals.branches.total > 0)
        metrics.push('branch', 'combined');
    if (totals.statements && totals.statements.total > 0)
        metrics.push('statements');
    if (totals.functions && totals.functions.total > 0)
        metrics.push('functions');
    return metrics;
}
/**
 * A metric the user chose must have been measured: 0 of 0 would pass at 100 %, and statements taken from lines
 * would gate something other than what was asked. Throws a configuration error naming what the reports have.
 */
function checkMetricMeasured(totals, metric, formats) {
    const measured = measuredMetrics(totals);
    if (measured.includes(metric))
        return;
    const have = measured.length === 0 ? 'nothing measured at all' : measured.join(', ');
    throw new errors_ConfigurationError(`Input 'metric' is ${metric}, but the reports (${[...new Set(formats)].join(', ')}) measure no ${METRIC_WORDS[metric]}; they have: ${have}. Set 'metric' to one of those (or auto).`);
}
/** The formula in words with its counts, e.g. "1812 / 2014 (lines 1700/1850 + branches 112/164)". */
function describeCount(totals, metric) {
    const count = metricCount(totals, metric);
    const base = `${count.covered} / ${count.total}`;
    if (metric === 'combined') {
        return `${base} (lines ${totals.lines.covered}/${totals.lines.total} + branches ${totals.branches.covered}/${totals.branches.total})`;
    }
    return base;
}
/** What `metric: auto` resolves to: coverage.py's combined total where branches were measured, else lines. */
function defaultMetric(totals, reports) {
    if (totals.branches.total > 0)
        return 'combined';
    if (reports.length > 0 && reports.every((r) => r.format === 'go'))
        return 'statements';
    return 'line';
}

;// CONCATENATED MODULE: ./actions/coverage-gate/gate.ts




/** Collapses sorted line numbers into ranges: [3,4,5,9] → '3-5, 9'. */
function lineRanges(lines) {
    return lineRuns(lines)
        .map(([start, end]) => (start === end ? `${start}` : `${start}-${end}`))
        .join(', ');
}
/** Runs of consecutive line numbers, in order: [3,4,5,9] → [[3,5],[9,9]]. */
function lineRuns(lines) {
    const sorted = [...lines].sort((a, b) => a - b);
    const runs = [];
    for (let i = 0; i < sorted.length; i++) {
        const start = sorted[i];
        while (i + 1 < sorted.length && sorted[i + 1] === sorted[i] + 1)
            i++;
        runs.push([start, sorted[i]]);
    }
    return runs;
}
function verdictSentence(metric, totals, measured, threshold, rounding) {
    return `${metric} ${measured.shown} % = ${describeCount(totals, metric)}; threshold ${threshold.text} %, rounding ${rounding} → ${measured.passed ? 'pass' : 'fail'}`;
}
/** Everything the gate decides, from counts only. Pure: the summary, outputs and exit code are views of it. */
function evaluateGate(input, options) {
    const { model } = input;
    const totals = modelTotals(model);
    const metric = options.metric === 'auto' ? defaultMetric(totals, input.reports) : options.metric;
    if (options.metric !== 'auto') {
        checkMetricMeasured(totals, metric, input.reports.map((r) => r.format));
    }
    const measure = (count, threshold) => ({
        count,
        ...judge(count.covered, count.total, threshold, options.rounding, options.precision),
    });
    const measured = measure(metricCount(totals, metric), options.threshold);
    const failures = [];
    const verdict = verdictSentence(metric, totals, measured, options.threshold, options.rounding);
    if (!measured.passed)
        failures.push(`Coverage ${verdict}.`);
    const row = (path, t, missingLines) => ({
        path,
        totals: t,
        measured: measure(metricCount(t, metric), options.threshold),
        missed: t.lines.total - t.lines.covered,
        missingLines,
    });
    const listable = (r) => hasMisses(r.totals);
    // Files read with their lines, and summary-only entries: every one has its row and is counted below.
    const own = [...model.files.entries()].map(([path, file]) => row(path, fileTotals(file), []));
    for (const [path, counts] of model.summaries)
        own.push(row(path, sumTotals([counts]), []));
    const folded = model.folded;
    const files = [...own, ...(folded?.listed ?? []).map((r) => row(r.path, r.totals, r.missingLines))];
    files.sort(byMissedThenPath);
    // The missing lines of the rows the summary lists (folded files' rows came with theirs).
    let listed = 0;
    for (const r of files) {
        if (listed === MAX_FILE_ROWS)
            break;
        if (!listable(r))
            continue;
        listed++;
        const file = model.files.get(r.path);
        if (file)
            r.missingLines = file.lines.missing();
    }
    const byPackage = new Map();
    for (const [name, t] of folded?.packages ?? [])
        byPackage.set(name, new TotalsSum().add(t));
    for (const r of own) {
        const name = packageOf(r.path);
        let sum = byPackage.get(name);
        if (!sum)
            byPackage.set(name, (sum = new TotalsSum()));
        sum.add(r.totals);
    }
    const packages = [...byPackage.entries()]
        .map(([name, sum]) => {
        const t = sum.result();
        return { name, totals: t, measured: measure(metricCount(t, metric), options.threshold) };
    })
        .sort((a, b) => a.name.localeCompare(b.name));
    const paths = options.pathThresholds.map(({ glob, threshold }) => {
        const pattern = globToRegExp(glob);
        const matching = own.filter((r) => pattern.test(r.path));
        const sum = new TotalsSum();
        for (const r of matching)
            sum.add(r.totals);
        let count = matching.length;
        const foldedPart = folded?.paths.get(glob);
        if (foldedPart) {
            sum.add(foldedPart.totals);
            count += foldedPart.files;
        }
        const t = sum.result();
        const m = measure(metricCount(t, metric), threshold);
        const description = `${glob}: ${metric} ${m.shown} % = ${describeCount(t, metric)}; threshold ${threshold.text} % → ${m.passed ? 'pass' : 'fail'}`;
        if (count === 0)
            failures.push(`Path threshold '${glob}' matches no file of the coverage reports.`);
        else if (!m.passed)
            failures.push(`Coverage of ${description}.`);
        return { glob, threshold, files: count, measured: m, description };
    });
    let diff;
    if (input.changed) {
        const rows = [];
        for (const [path, lines] of input.changed.lines) {
            const file = model.files.get(path);
            if (!file)
                continue;
            const coverable = [...new Set(lines)].filter((l) => file.lines.has(l));
            if (coverable.length === 0)
                continue;
            const missingLines = coverable.filter((l) => (file.lines.get(l) ?? 0) === 0);
            rows.push({ path, coverable: coverable.length, covered: coverable.length - missingLines.length, missingLines });
        }
        rows.sort((a, b) => b.missingLines.length - a.missingLines.length || a.path.localeCompare(b.path));
        const count = rows.reduce((sum, r) => ({ covered: sum.covered + r.covered, total: sum.total + r.coverable }), {
            covered: 0,
            total: 0,
        });
        const threshold = options.diffThreshold ?? parseDecimal('0');
        const m = measure(count, threshold);
        diff = { range: input.changed.range, rows, measured: m, threshold: options.diffThreshold };
        if (options.diffThreshold && count.total > 0 && !m.passed) {
            failures.push(`Coverage of changed lines ${m.shown} % = ${count.covered} / ${count.total}; threshold ${options.diffThreshold.text} % → fail.`);
        }
    }
    let baseline;
    if (input.baseline && options.maxDecrease) {
        const base = measure(metricCount(input.baseline, metric), options.threshold);
        const now = metricCount(totals, metric);
        const ratio = (c) => (c.total === 0 ? 100 : (100 * c.covered) / c.total);
        const decrease = ratio(base.count) - ratio(now);
        // A float tolerance: both sides come from integer counts, so only representation noise is forgiven.
        const passed = decrease <= Number(options.maxDecrease.text) + 1e-9;
        baseline = { measured: base, shown: base.shown, decrease, maxDecrease: options.maxDecrease, passed };
        if (!passed) {
            failures.push(`Coverage dropped by ${decrease.toFixed(options.precision)} points from the baseline ${base.shown} % to ${measured.shown} %; at most ${options.maxDecrease.text} allowed.`);
        }
    }
    return {
        metric,
        totals,
        measured,
        verdict,
        options,
        files,
        fileCount: own.length + (folded?.count ?? 0),
        filesWithMisses: own.filter(listable).length + (folded?.listable ?? 0),
        packages,
        paths,
        diff,
        baseline,
        reports: input.reports.map((r) => ({ ...r })),
        unmatched: input.unmatched,
        unmatchedCount: input.unmatchedCount ?? input.unmatched.length,
        failures,
        notes: [...input.reports.flatMap((r) => r.notes ?? []), ...summaryOverlapNotes(model)],
        passed: failures.length === 0,
    };
}
/** Files in two coverage-summary.json files: only one copy's counts can be kept, so the total is a bound. */
function summaryOverlapNotes(model) {
    const overlaps = model.summaryOverlaps;
    if (!overlaps)
        return [];
    const more = overlaps.count > overlaps.paths.length ? ', …' : '';
    return [
        `${overlaps.count} file(s) are in more than one coverage-summary.json (${overlaps.paths.join(', ')}${more}): summaries cannot be merged line by line, so each keeps the copy with more covered lines and the total may be lower than the real one. Give coverage-final.json (Istanbul's json reporter) to merge exactly.`,
    ];
}

;// CONCATENATED MODULE: ./actions/coverage-gate/annotations.ts

/** GitHub shows at most 10 annotations of each type per step; more are dropped silently. */
const GITHUB_ANNOTATIONS_PER_TYPE = 10;
/**
 * Warnings on uncovered changed lines, one per run of consecutive lines, biggest runs first so the cap keeps
 * the ones that matter; `rest` counts what did not fit.
 */
function planAnnotations(result, max) {
    const runs = [];
    for (const row of result.diff?.rows ?? []) {
        for (const [start, end] of lineRuns(row.missingLines)) {
            runs.push({
                file: row.path,
                startLine: start,
                endLine: end,
                message: start === end
                    ? `Line ${start} is changed but not covered by tests.`
                    : `Lines ${start}-${end} are changed but not covered by tests.`,
            });
        }
    }
    runs.sort((a, b) => b.endLine - b.startLine - (a.endLine - a.startLine) || a.file.localeCompare(b.file) || a.startLine - b.startLine);
    const limit = Math.min(max, GITHUB_ANNOTATIONS_PER_TYPE);
    return { annotations: runs.slice(0, limit), rest: Math.max(0, runs.length - limit) };
}

;// CONCATENATED MODULE: ./actions/coverage-gate/badge.ts
/** A flat shields-style SVG badge; widths from a per-character estimate of Verdana 11px, as shields does. */
function renderBadge(label, value, color) {
    const width = (text) => Math.round([...text].reduce((sum, c) => sum + charWidth(c), 0) + 10);
    const lw = width(label);
    const vw = width(value);
    const total = lw + vw;
    const esc = (t) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${total}" height="20" role="img" aria-label="${esc(label)}: ${esc(value)}">
<title>${esc(label)}: ${esc(value)}</title>
<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>
<clipPath id="r"><rect width="${total}" height="20" rx="3" fill="#fff"/></clipPath>
<g clip-path="url(#r)"><rect width="${lw}" height="20" fill="#555"/><rect x="${lw}" width="${vw}" height="20" fill="${color}"/><rect width="${total}" height="20" fill="url(#s)"/></g>
<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">
<text x="${lw / 2}" y="15" fill="#010101" fill-opacity=".3">${esc(label)}</text><text x="${lw / 2}" y="14">${esc(label)}</text>
<text x="${lw + vw / 2}" y="15" fill="#010101" fill-opacity=".3">${esc(value)}</text><text x="${lw + vw / 2}" y="14">${esc(value)}</text>
</g>
</svg>
`;
}
function charWidth(c) {
    if ("il.,:;|!'".includes(c))
        return 3.5;
    if ('mwMW%'.includes(c))
        return 10;
    if (c === ' ')
        return 3.5;
    return 7;
}
/** Green at or above the threshold, orange within 10 points below it, red further down. */
function badgeColor(percent, threshold, passed) {
    if (passed)
        return '#4c1';
    return percent >= threshold - 10 ? '#fe7d37' : '#e05d44';
}

;// CONCATENATED MODULE: ./actions/coverage-gate/summary.ts



/** Rows beyond these are left out of the tables (the totals above them still count every file). */

const MAX_PACKAGE_ROWS = 100;
const fraction = (c) => (c.total === 0 ? '–' : `${c.covered}/${c.total}`);
function escapeCell(text) {
    return text.replace(/\|/g, '\\|').replace(/</g, '&lt;');
}
function table(headers, rows) {
    const head = `| ${headers.join(' | ')} |\n|${headers.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|\n`;
    return head + rows.map((r) => `| ${r.map(escapeCell).join(' | ')} |`).join('\n') + '\n';
}
function truncatedNote(shown, total, what) {
    return total > shown ? `\n_${total - shown} more ${what} not shown._\n` : '';
}
/** The job summary (and pull request comment) in Markdown. */
function renderSummary(result, title = 'Coverage') {
    const parts = [];
    parts.push(`## ${result.passed ? '✅' : '❌'} ${title}: ${result.measured.shown} % ${result.metric}\n`);
    parts.push(`**${result.verdict}**\n`);
    if (result.failures.length > (result.measured.passed ? 0 : 1)) {
        parts.push(result.failures
            .filter((f) => !f.startsWith('Coverage ' + result.verdict))
            .map((f) => `- ${f}`)
            .join('\n') + '\n');
    }
    const t = result.totals;
    const totalsRow = [
        'all files',
        fraction(t.lines),
        fraction(t.branches),
        ...(t.statements ? [fraction(t.statements)] : []),
        ...(t.functions ? [fraction(t.functions)] : []),
    ];
    parts.push(table(['', 'lines', 'branches', ...(t.statements ? ['statements'] : []), ...(t.functions ? ['functions'] : [])], [totalsRow]));
    if (result.diff) {
        const d = result.diff;
        parts.push(`### Changed lines (${d.range})\n`);
        if (d.measured.count.total === 0)
            parts.push('No changed line is measured by the coverage reports.\n');
        else {
            const threshold = d.threshold ? `; threshold ${d.threshold.text} % → ${d.measured.passed ? 'pass' : 'fail'}` : '';
            parts.push(`**changed lines ${d.measured.shown} % = ${d.measured.count.covered} / ${d.measured.count.total}${threshold}**\n`);
            const rows = d.rows
                .slice(0, MAX_FILE_ROWS)
                .map((r) => [r.path, `${r.covered}/${r.coverable}`, lineRanges(r.missingLines)]);
            parts.push(table(['file', 'covered', 'missing lines'], rows) + truncatedNote(rows.length, d.rows.length, 'changed files'));
        }
    }
    if (result.paths.length > 0) {
        parts.push('### Path thresholds\n');
        parts.push(table(['path', 'files', result.metric, 'threshold', 'result'], result.paths.map((p) => [
            p.glob,
            `${p.files}`,
            `${p.measured.shown} % (${fraction(p.measured.count)})`,
            `${p.threshold.text} %`,
            p.files === 0 ? 'no file' : p.measured.passed ? 'pass' : 'fail',
        ])));
    }
    if (result.baseline) {
        const b = result.baseline;
        parts.push(`Baseline: ${b.shown} % → ${result.measured.shown} % (${b.decrease > 0 ? '-' : '+'}${Math.abs(b.decrease).toFixed(result.options.precision)} points; at most ${b.maxDecrease.text} decrease allowed → ${b.passed ? 'pass' : 'fail'})\n`);
    }
    const packages = result.packages.slice(0, MAX_PACKAGE_ROWS);
    parts.push(`<details><summary>Packages (${result.packages.length})</summary>\n`);
    parts.push(table(['package', 'lines', 'branches', result.metric], packages.map((p) => [p.name, fraction(p.totals.lines), fraction(p.totals.branches), `${p.measured.shown} %`])) + truncatedNote(packages.length, result.packages.length, 'packages'));
    parts.push('</details>\n');
    const files = result.files.filter((f) => hasMisses(f.totals));
    const shownFiles = files.slice(0, MAX_FILE_ROWS);
    parts.push(`<details><summary>Files with missed lines, most first (${result.filesWithMisses} of ${result.fileCount})</summary>\n`);
    parts.push(table(['file', 'missed', 'lines', 'branches', result.metric, 'missing lines'], shownFiles.map((f) => [
        f.path,
        `${f.missed}`,
        fraction(f.totals.lines),
        fraction(f.totals.branches),
        `${f.measured.shown} %`,
        lineRanges(f.missingLines),
    ])) + truncatedNote(shownFiles.length, result.filesWithMisses, 'files'));
    parts.push('</details>\n');
    parts.push(`Reports: ${result.reports.map((r) => `\`${r.file}\` (${r.format}, ${r.files} files)`).join(', ')}. ` +
        'Totals are sums of counts over files merged line by line; percentages are never averaged.\n');
    if (result.notes.length > 0)
        parts.push(result.notes.map((n) => `> ⚠️ ${escapeCell(n)}`).join('\n>\n') + '\n');
    if (result.unmatchedCount > 0) {
        const shown = result.unmatched.slice(0, MAX_FILE_ROWS);
        parts.push(`<details><summary>${result.unmatchedCount} report paths not found in the repository</summary>\n\n${shown
            .map((p) => `- \`${p}\``)
            .join('\n')}\n${truncatedNote(shown.length, result.unmatchedCount, 'paths')}</details>\n`);
    }
    return parts.join('\n');
}
/** GitHub rejects issue comments over 65 536 characters. */
const COMMENT_LIMIT = 65_536;
/** The summary cut to fit a comment with room for the marker and a note, cut at a line boundary. */
function fitComment(body, marker, limit = COMMENT_LIMIT) {
    const full = `${marker}\n${body}`;
    if (full.length <= limit)
        return full;
    const note = '\n\n_The report was cut to fit GitHub’s comment size limit; the job summary has all of it._\n';
    const room = limit - marker.length - 1 - note.length;
    const cut = body.lastIndexOf('\n', room);
    // Close an open <details> block so the rest of the page renders.
    let kept = body.slice(0, cut > 0 ? cut : room);
    if (kept.lastIndexOf('<details>') > kept.lastIndexOf('</details>'))
        kept = kept.slice(0, Math.max(0, room - 12)) + '\n</details>';
    return `${marker}\n${kept}${note}`;
}

;// CONCATENATED MODULE: ./actions/coverage-gate/comment.ts

/** The hidden line that finds our comment again: one per workflow and report name. */
function commentMarker(workflow, name) {
    const clean = (t) => t.replace(/--+/g, '-').replace(/[<>]/g, '');
    return `<!-- runbook/coverage-gate: ${clean(workflow)} / ${clean(name)} -->`;
}
function comment_status(error) {
    const s = error?.status;
    return typeof s === 'number' ? s : undefined;
}
/**
 * Updates our previous comment in place or creates it. A token that may not comment (a pull request from a
 * fork gets a read-only GITHUB_TOKEN) answers 403 or 404: that is an outcome to report, not a failure.
 */
async function upsertStickyComment(client, marker, body) {
    const text = fitComment(body, marker);
    try {
        const previous = (await client.list()).find((c) => c.body?.startsWith(marker));
        if (previous) {
            await client.update(previous.id, text);
            return { kind: 'updated' };
        }
        await client.create(text);
        return { kind: 'created' };
    }
    catch (error) {
        const code = comment_status(error);
        if (code === 403 || code === 404) {
            return { kind: 'forbidden', message: error.message || `HTTP ${code}` };
        }
        throw error;
    }
}

;// CONCATENATED MODULE: ./actions/coverage-gate/diff.ts
/** What git accepts as a revision here: no leading '-', no spaces or control characters, no '..'. */
function isRevision(value) {
    return /^[\w./^~@{}-]+$/.test(value) && !value.startsWith('-') && !value.includes('..');
}
/** The new-side line numbers of every hunk, per file; deleted files have none. */
function parseUnifiedDiff(text) {
    const changed = new Map();
    let current;
    for (const line of text.split('\n')) {
        if (line.startsWith('+++ ')) {
            let path = line.slice(4).replace(/\t.*$/, '');
            if (path.startsWith('"') && path.endsWith('"'))
                path = JSON.parse(path);
            if (path === '/dev/null') {
                current = undefined;
                continue;
            }
            path = path.replace(/^b\//, '');
            current = changed.get(path) ?? [];
            changed.set(path, current);
        }
        else if (line.startsWith('@@ ') && current) {
            const match = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@/.exec(line);
            if (!match)
                continue;
            const start = Number(match[1]);
            const length = match[2] === undefined ? 1 : Number(match[2]);
            for (let l = start; l < start + length; l++)
                current.push(l);
        }
    }
    return changed;
}
/** How many commits each deepening fetch asks for, and how often, before giving up on a merge base. */
const DEEPEN_BY = 100;
const DEEPEN_ATTEMPTS = 5;
/**
 * The lines HEAD changes relative to its merge base with `base`. A shallow checkout (actions/checkout's
 * default fetch-depth 1) has neither the base branch nor the merge base, so they are fetched, deepening in
 * bounded steps; without a merge base the two trees are compared directly, and the notes say so.
 */
async function changedLinesSince(git, base) {
    // The base also comes from the event (the pull request's base branch): it must never reach git as an option.
    if (!isRevision(base))
        throw new Error(`'${base}' is not a branch or commit git can compare with`);
    const notes = [];
    const shallow = (await git(['rev-parse', '--is-shallow-repository'])).stdout.trim() === 'true';
    const hasBase = async () => (await git(['rev-parse', '--verify', '--quiet', `${base}^{commit}`])).code === 0;
    const remoteBranch = /^([\w.-]+)\/(.+)$/.exec(base);
    const fetchBase = async (extra) => {
        const refspec = remoteBranch && !/^[0-9a-f]{40}$/.test(base)
            ? [remoteBranch[1], `+refs/heads/${remoteBranch[2]}:refs/remotes/${remoteBranch[1]}/${remoteBranch[2]}`]
            : ['origin', base];
        return git(['fetch', '--no-tags', '--no-recurse-submodules', ...extra, ...refspec]);
    };
    if (!(await hasBase())) {
        const fetched = await fetchBase([`--depth=${DEEPEN_BY}`]);
        if (fetched.code !== 0 || !(await hasBase())) {
            throw new Error(`cannot find or fetch the diff base '${base}': ${fetched.stderr.trim() || 'unknown revision'}`);
        }
        notes.push(`fetched ${base} (depth ${DEEPEN_BY})`);
    }
    const mergeBase = async () => (await git(['merge-base', base, 'HEAD'])).code === 0;
    let haveMergeBase = await mergeBase();
    for (let attempt = 0; !haveMergeBase && shallow && attempt < DEEPEN_ATTEMPTS; attempt++) {
        await git(['fetch', '--no-tags', '--no-recurse-submodules', `--deepen=${DEEPEN_BY}`, 'origin', 'HEAD']);
        await fetchBase([`--deepen=${DEEPEN_BY}`]);
        haveMergeBase = await mergeBase();
    }
    const range = haveMergeBase ? `${base}...HEAD` : base;
    if (!haveMergeBase)
        notes.push(`no merge base with ${base} in the history: compared the trees of ${base} and HEAD`);
    const diff = await git([
        'diff',
        '--unified=0',
        '--no-color',
        '--no-ext-diff',
        '--diff-filter=AMRC',
        '-M',
        range,
        ...(haveMergeBase ? [] : ['HEAD']),
    ]);
    if (diff.code !== 0)
        throw new Error(`git diff ${range} failed: ${diff.stderr.trim()}`);
    return { changed: parseUnifiedDiff(diff.stdout), range: haveMergeBase ? range : `${base}..HEAD`, notes };
}

// EXTERNAL MODULE: external "string_decoder"
var external_string_decoder_ = __nccwpck_require__(3193);
// EXTERNAL MODULE: external "os"
var external_os_ = __nccwpck_require__(857);
// EXTERNAL MODULE: external "events"
var external_events_ = __nccwpck_require__(4434);
;// CONCATENATED MODULE: external "child_process"
const external_child_process_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("child_process");
;// CONCATENATED MODULE: external "path"
const external_path_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("path");
// EXTERNAL MODULE: external "assert"
var external_assert_ = __nccwpck_require__(2613);
// EXTERNAL MODULE: external "fs"
var external_fs_ = __nccwpck_require__(9896);
;// CONCATENATED MODULE: ./node_modules/@actions/io/lib/io-util.js
var __awaiter = (undefined && undefined.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};


const { chmod, copyFile, lstat, mkdir, open: io_util_open, readdir, rename, rm, rmdir, stat, symlink, unlink } = external_fs_.promises;
// export const {open} = 'fs'
const IS_WINDOWS = process.platform === 'win32';
/**
 * Custom implementation of readlink to ensure Windows junctions
 * maintain trailing backslash for backward compatibility with Node.js < 24
 *
 * In Node.js 20, Windows junctions (directory symlinks) always returned paths
 * with trailing backslashes. Node.js 24 removed this behavior, which breaks
 * code that relied on this format for path operations.
 *
 * This implementation restores the Node 20 behavior by adding a trailing
 * backslash to all junction results on Windows.
 */
function readlink(fsPath) {
    return __awaiter(this, void 0, void 0, function* () {
        const result = yield fs.promises.readlink(fsPath);
        // On Windows, restore Node 20 behavior: add trailing backslash to all results
        // since junctions on Windows are always directory links
        if (IS_WINDOWS && !result.endsWith('\\')) {
            return `${result}\\`;
        }
        return result;
    });
}
// See https://github.com/nodejs/node/blob/d0153aee367422d0858105abec186da4dff0a0c5/deps/uv/include/uv/win.h#L691
const UV_FS_O_EXLOCK = 0x10000000;
const READONLY = external_fs_.constants.O_RDONLY;
function io_util_exists(fsPath) {
    return __awaiter(this, void 0, void 0, function* () {
        try {
            yield stat(fsPath);
        }
        catch (err) {
            if (err.code === 'ENOENT') {
                return false;
            }
            throw err;
        }
        return true;
    });
}
function isDirectory(fsPath_1) {
    return __awaiter(this, arguments, void 0, function* (fsPath, useStat = false) {
        const stats = useStat ? yield stat(fsPath) : yield lstat(fsPath);
        return stats.isDirectory();
    });
}
/**
 * On OSX/Linux, true if path starts with '/'. On Windows, true for paths like:
 * \, \hello, \\hello\share, C:, and C:\hello (and corresponding alternate separator cases).
 */
function isRooted(p) {
    p = normalizeSeparators(p);
    if (!p) {
        throw new Error('isRooted() parameter "p" cannot be empty');
    }
    if (IS_WINDOWS) {
        return (p.startsWith('\\') || /^[A-Z]:/i.test(p) // e.g. \ or \hello or \\hello
        ); // e.g. C: or C:\hello
    }
    return p.startsWith('/');
}
/**
 * Best effort attempt to determine whether a file exists and is executable.
 * @param filePath    file path to check
 * @param extensions  additional file extensions to try
 * @return if file exists and is executable, returns the file path. otherwise empty string.
 */
function tryGetExecutablePath(filePath, extensions) {
    return __awaiter(this, void 0, void 0, function* () {
        let stats = undefined;
        try {
            // test file exists
            stats = yield stat(filePath);
        }
        catch (err) {
            if (err.code !== 'ENOENT') {
                // eslint-disable-next-line no-console
                console.log(`Unexpected error attempting to determine if executable file exists '${filePath}': ${err}`);
            }
        }
        if (stats && stats.isFile()) {
            if (IS_WINDOWS) {
                // on Windows, test for valid extension
                const upperExt = external_path_namespaceObject.extname(filePath).toUpperCase();
                if (extensions.some(validExt => validExt.toUpperCase() === upperExt)) {
                    return filePath;
                }
            }
            else {
                if (isUnixExecutable(stats)) {
                    return filePath;
                }
            }
        }
        // try each extension
        const originalFilePath = filePath;
        for (const extension of extensions) {
            filePath = originalFilePath + extension;
            stats = undefined;
            try {
                stats = yield stat(filePath);
            }
            catch (err) {
                if (err.code !== 'ENOENT') {
                    // eslint-disable-next-line no-console
                    console.log(`Unexpected error attempting to determine if executable file exists '${filePath}': ${err}`);
                }
            }
            if (stats && stats.isFile()) {
                if (IS_WINDOWS) {
                    // preserve the case of the actual file (since an extension was appended)
                    try {
                        const directory = external_path_namespaceObject.dirname(filePath);
                        const upperName = external_path_namespaceObject.basename(filePath).toUpperCase();
                        for (const actualName of yield readdir(directory)) {
                            if (upperName === actualName.toUpperCase()) {
                                filePath = external_path_namespaceObject.join(directory, actualName);
                                break;
                            }
                        }
                    }
                    catch (err) {
                        // eslint-disable-next-line no-console
                        console.log(`Unexpected error attempting to determine the actual case of the file '${filePath}': ${err}`);
                    }
                    return filePath;
                }
                else {
                    if (isUnixExecutable(stats)) {
                        return filePath;
                    }
                }
            }
        }
        return '';
    });
}
function normalizeSeparators(p) {
    p = p || '';
    if (IS_WINDOWS) {
        // convert slashes on Windows
        p = p.replace(/\//g, '\\');
        // remove redundant slashes
        return p.replace(/\\\\+/g, '\\');
    }
    // remove redundant slashes
    return p.replace(/\/\/+/g, '/');
}
// on Mac/Linux, test the execute bit
//     R   W  X  R  W X R W X
//   256 128 64 32 16 8 4 2 1
function isUnixExecutable(stats) {
    return ((stats.mode & 1) > 0 ||
        ((stats.mode & 8) > 0 &&
            process.getgid !== undefined &&
            stats.gid === process.getgid()) ||
        ((stats.mode & 64) > 0 &&
            process.getuid !== undefined &&
            stats.uid === process.getuid()));
}
// Get the path of cmd.exe in windows
function getCmdPath() {
    var _a;
    return (_a = process.env['COMSPEC']) !== null && _a !== void 0 ? _a : `cmd.exe`;
}
//# sourceMappingURL=io-util.js.map
;// CONCATENATED MODULE: ./node_modules/@actions/io/lib/io.js
var io_awaiter = (undefined && undefined.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};



/**
 * Copies a file or folder.
 * Based off of shelljs - https://github.com/shelljs/shelljs/blob/9237f66c52e5daa40458f94f9565e18e8132f5a6/src/cp.js
 *
 * @param     source    source path
 * @param     dest      destination path
 * @param     options   optional. See CopyOptions.
 */
function cp(source_1, dest_1) {
    return io_awaiter(this, arguments, void 0, function* (source, dest, options = {}) {
        const { force, recursive, copySourceDirectory } = readCopyOptions(options);
        const destStat = (yield ioUtil.exists(dest)) ? yield ioUtil.stat(dest) : null;
        // Dest is an existing file, but not forcing
        if (destStat && destStat.isFile() && !force) {
            return;
        }
        // If dest is an existing directory, should copy inside.
        const newDest = destStat && destStat.isDirectory() && copySourceDirectory
            ? path.join(dest, path.basename(source))
            : dest;
        if (!(yield ioUtil.exists(source))) {
            throw new Error(`no such file or directory: ${source}`);
        }
        const sourceStat = yield ioUtil.stat(source);
        if (sourceStat.isDirectory()) {
            if (!recursive) {
                throw new Error(`Failed to copy. ${source} is a directory, but tried to copy without recursive flag.`);
            }
            else {
                yield cpDirRecursive(source, newDest, 0, force);
            }
        }
        else {
            if (path.relative(source, newDest) === '') {
                // a file cannot be copied to itself
                throw new Error(`'${newDest}' and '${source}' are the same file`);
            }
            yield io_copyFile(source, newDest, force);
        }
    });
}
/**
 * Moves a path.
 *
 * @param     source    source path
 * @param     dest      destination path
 * @param     options   optional. See MoveOptions.
 */
function mv(source_1, dest_1) {
    return io_awaiter(this, arguments, void 0, function* (source, dest, options = {}) {
        if (yield ioUtil.exists(dest)) {
            let destExists = true;
            if (yield ioUtil.isDirectory(dest)) {
                // If dest is directory copy src into dest
                dest = path.join(dest, path.basename(source));
                destExists = yield ioUtil.exists(dest);
            }
            if (destExists) {
                if (options.force == null || options.force) {
                    yield rmRF(dest);
                }
                else {
                    throw new Error('Destination already exists');
                }
            }
        }
        yield mkdirP(path.dirname(dest));
        yield ioUtil.rename(source, dest);
    });
}
/**
 * Remove a path recursively with force
 *
 * @param inputPath path to remove
 */
function rmRF(inputPath) {
    return io_awaiter(this, void 0, void 0, function* () {
        if (ioUtil.IS_WINDOWS) {
            // Check for invalid characters
            // https://docs.microsoft.com/en-us/windows/win32/fileio/naming-a-file
            if (/[*"<>|]/.test(inputPath)) {
                throw new Error('File path must not contain `*`, `"`, `<`, `>` or `|` on Windows');
            }
        }
        try {
            // note if path does not exist, error is silent
            yield ioUtil.rm(inputPath, {
                force: true,
                maxRetries: 3,
                recursive: true,
                retryDelay: 300
            });
        }
        catch (err) {
            throw new Error(`File was unable to be removed ${err}`);
        }
    });
}
/**
 * Make a directory.  Creates the full path with folders in between
 * Will throw if it fails
 *
 * @param   fsPath        path to create
 * @returns Promise<void>
 */
function mkdirP(fsPath) {
    return io_awaiter(this, void 0, void 0, function* () {
        ok(fsPath, 'a path argument must be provided');
        yield ioUtil.mkdir(fsPath, { recursive: true });
    });
}
/**
 * Returns path of a tool had the tool actually been invoked.  Resolves via paths.
 * If you check and the tool does not exist, it will throw.
 *
 * @param     tool              name of the tool
 * @param     check             whether to check if tool exists
 * @returns   Promise<string>   path to tool
 */
function which(tool, check) {
    return io_awaiter(this, void 0, void 0, function* () {
        if (!tool) {
            throw new Error("parameter 'tool' is required");
        }
        // recursive when check=true
        if (check) {
            const result = yield which(tool, false);
            if (!result) {
                if (IS_WINDOWS) {
                    throw new Error(`Unable to locate executable file: ${tool}. Please verify either the file path exists or the file can be found within a directory specified by the PATH environment variable. Also verify the file has a valid extension for an executable file.`);
                }
                else {
                    throw new Error(`Unable to locate executable file: ${tool}. Please verify either the file path exists or the file can be found within a directory specified by the PATH environment variable. Also check the file mode to verify the file is executable.`);
                }
            }
            return result;
        }
        const matches = yield findInPath(tool);
        if (matches && matches.length > 0) {
            return matches[0];
        }
        return '';
    });
}
/**
 * Returns a list of all occurrences of the given tool on the system path.
 *
 * @returns   Promise<string[]>  the paths of the tool
 */
function findInPath(tool) {
    return io_awaiter(this, void 0, void 0, function* () {
        if (!tool) {
            throw new Error("parameter 'tool' is required");
        }
        // build the list of extensions to try
        const extensions = [];
        if (IS_WINDOWS && process.env['PATHEXT']) {
            for (const extension of process.env['PATHEXT'].split(external_path_namespaceObject.delimiter)) {
                if (extension) {
                    extensions.push(extension);
                }
            }
        }
        // if it's rooted, return it if exists. otherwise return empty.
        if (isRooted(tool)) {
            const filePath = yield tryGetExecutablePath(tool, extensions);
            if (filePath) {
                return [filePath];
            }
            return [];
        }
        // if any path separators, return empty
        if (tool.includes(external_path_namespaceObject.sep)) {
            return [];
        }
        // build the list of directories
        //
        // Note, technically "where" checks the current directory on Windows. From a toolkit perspective,
        // it feels like we should not do this. Checking the current directory seems like more of a use
        // case of a shell, and the which() function exposed by the toolkit should strive for consistency
        // across platforms.
        const directories = [];
        if (process.env.PATH) {
            for (const p of process.env.PATH.split(external_path_namespaceObject.delimiter)) {
                if (p) {
                    directories.push(p);
                }
            }
        }
        // find all matches
        const matches = [];
        for (const directory of directories) {
            const filePath = yield tryGetExecutablePath(external_path_namespaceObject.join(directory, tool), extensions);
            if (filePath) {
                matches.push(filePath);
            }
        }
        return matches;
    });
}
function readCopyOptions(options) {
    const force = options.force == null ? true : options.force;
    const recursive = Boolean(options.recursive);
    const copySourceDirectory = options.copySourceDirectory == null
        ? true
        : Boolean(options.copySourceDirectory);
    return { force, recursive, copySourceDirectory };
}
function cpDirRecursive(sourceDir, destDir, currentDepth, force) {
    return io_awaiter(this, void 0, void 0, function* () {
        // Ensure there is not a run away recursive copy
        if (currentDepth >= 255)
            return;
        currentDepth++;
        yield mkdirP(destDir);
        const files = yield ioUtil.readdir(sourceDir);
        for (const fileName of files) {
            const srcFile = `${sourceDir}/${fileName}`;
            const destFile = `${destDir}/${fileName}`;
            const srcFileStat = yield ioUtil.lstat(srcFile);
            if (srcFileStat.isDirectory()) {
                // Recurse
                yield cpDirRecursive(srcFile, destFile, currentDepth, force);
            }
            else {
                yield io_copyFile(srcFile, destFile, force);
            }
        }
        // Change the mode for the newly created directory
        yield ioUtil.chmod(destDir, (yield ioUtil.stat(sourceDir)).mode);
    });
}
// Buffered file copy
function io_copyFile(srcFile, destFile, force) {
    return io_awaiter(this, void 0, void 0, function* () {
        if ((yield ioUtil.lstat(srcFile)).isSymbolicLink()) {
            // unlink/re-link it
            try {
                yield ioUtil.lstat(destFile);
                yield ioUtil.unlink(destFile);
            }
            catch (e) {
                // Try to override file permission
                if (e.code === 'EPERM') {
                    yield ioUtil.chmod(destFile, '0666');
                    yield ioUtil.unlink(destFile);
                }
                // other errors = it doesn't exist, no work to do
            }
            // Copy over symlink
            const symlinkFull = yield ioUtil.readlink(srcFile);
            yield ioUtil.symlink(symlinkFull, destFile, ioUtil.IS_WINDOWS ? 'junction' : null);
        }
        else if (!(yield ioUtil.exists(destFile)) || force) {
            yield ioUtil.copyFile(srcFile, destFile);
        }
    });
}
//# sourceMappingURL=io.js.map
;// CONCATENATED MODULE: external "timers"
const external_timers_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("timers");
;// CONCATENATED MODULE: ./node_modules/@actions/exec/lib/toolrunner.js
var toolrunner_awaiter = (undefined && undefined.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};







/* eslint-disable @typescript-eslint/unbound-method */
const toolrunner_IS_WINDOWS = process.platform === 'win32';
/*
 * Class for running command line tools. Handles quoting and arg parsing in a platform agnostic way.
 */
class ToolRunner extends external_events_.EventEmitter {
    constructor(toolPath, args, options) {
        super();
        if (!toolPath) {
            throw new Error("Parameter 'toolPath' cannot be null or empty.");
        }
        this.toolPath = toolPath;
        this.args = args || [];
        this.options = options || {};
    }
    _debug(message) {
        if (this.options.listeners && this.options.listeners.debug) {
            this.options.listeners.debug(message);
        }
    }
    _getCommandString(options, noPrefix) {
        const toolPath = this._getSpawnFileName();
        const args = this._getSpawnArgs(options);
        let cmd = noPrefix ? '' : '[command]'; // omit prefix when piped to a second tool
        if (toolrunner_IS_WINDOWS) {
            // Windows + cmd file
            if (this._isCmdFile()) {
                cmd += toolPath;
                for (const a of args) {
                    cmd += ` ${a}`;
                }
            }
            // Windows + verbatim
            else if (options.windowsVerbatimArguments) {
                cmd += `"${toolPath}"`;
                for (const a of args) {
                    cmd += ` ${a}`;
                }
            }
            // Windows (regular)
            else {
                cmd += this._windowsQuoteCmdArg(toolPath);
                for (const a of args) {
                    cmd += ` ${this._windowsQuoteCmdArg(a)}`;
                }
            }
        }
        else {
            // OSX/Linux - this can likely be improved with some form of quoting.
            // creating processes on Unix is fundamentally different than Windows.
            // on Unix, execvp() takes an arg array.
            cmd += toolPath;
            for (const a of args) {
                cmd += ` ${a}`;
            }
        }
        return cmd;
    }
    _processLineBuffer(data, strBuffer, onLine) {
        try {
            let s = strBuffer + data.toString();
            let n = s.indexOf(external_os_.EOL);
            while (n > -1) {
                const line = s.substring(0, n);
                onLine(line);
                // the rest of the string ...
                s = s.substring(n + external_os_.EOL.length);
                n = s.indexOf(external_os_.EOL);
            }
            return s;
        }
        catch (err) {
            // streaming lines to console is best effort.  Don't fail a build.
            this._debug(`error processing line. Failed with error ${err}`);
            return '';
        }
    }
    _getSpawnFileName() {
        if (toolrunner_IS_WINDOWS) {
            if (this._isCmdFile()) {
                return process.env['COMSPEC'] || 'cmd.exe';
            }
        }
        return this.toolPath;
    }
    _getSpawnArgs(options) {
        if (toolrunner_IS_WINDOWS) {
            if (this._isCmdFile()) {
                let argline = `/D /S /C "${this._windowsQuoteCmdArg(this.toolPath)}`;
                for (const a of this.args) {
                    argline += ' ';
                    argline += options.windowsVerbatimArguments
                        ? a
                        : this._windowsQuoteCmdArg(a);
                }
                argline += '"';
                return [argline];
            }
        }
        return this.args;
    }
    _endsWith(str, end) {
        return str.endsWith(end);
    }
    _isCmdFile() {
        const upperToolPath = this.toolPath.toUpperCase();
        return (this._endsWith(upperToolPath, '.CMD') ||
            this._endsWith(upperToolPath, '.BAT'));
    }
    _windowsQuoteCmdArg(arg) {
        // for .exe, apply the normal quoting rules that libuv applies
        if (!this._isCmdFile()) {
            return this._uvQuoteCmdArg(arg);
        }
        // otherwise apply quoting rules specific to the cmd.exe command line parser.
        // the libuv rules are generic and are not designed specifically for cmd.exe
        // command line parser.
        //
        // for a detailed description of the cmd.exe command line parser, refer to
        // http://stackoverflow.com/questions/4094699/how-does-the-windows-command-interpreter-cmd-exe-parse-scripts/7970912#7970912
        // need quotes for empty arg
        if (!arg) {
            return '""';
        }
        // determine whether the arg needs to be quoted
        const cmdSpecialChars = [
            ' ',
            '\t',
            '&',
            '(',
            ')',
            '[',
            ']',
            '{',
            '}',
            '^',
            '=',
            ';',
            '!',
            "'",
            '+',
            ',',
            '`',
            '~',
            '|',
            '<',
            '>',
            '"'
        ];
        let needsQuotes = false;
        for (const char of arg) {
            if (cmdSpecialChars.some(x => x === char)) {
                needsQuotes = true;
                break;
            }
        }
        // short-circuit if quotes not needed
        if (!needsQuotes) {
            return arg;
        }
        // the following quoting rules are very similar to the rules that by libuv applies.
        //
        // 1) wrap the string in quotes
        //
        // 2) double-up quotes - i.e. " => ""
        //
        //    this is different from the libuv quoting rules. libuv replaces " with \", which unfortunately
        //    doesn't work well with a cmd.exe command line.
        //
        //    note, replacing " with "" also works well if the arg is passed to a downstream .NET console app.
        //    for example, the command line:
        //          foo.exe "myarg:""my val"""
        //    is parsed by a .NET console app into an arg array:
        //          [ "myarg:\"my val\"" ]
        //    which is the same end result when applying libuv quoting rules. although the actual
        //    command line from libuv quoting rules would look like:
        //          foo.exe "myarg:\"my val\""
        //
        // 3) double-up slashes that precede a quote,
        //    e.g.  hello \world    => "hello \world"
        //          hello\"world    => "hello\\""world"
        //          hello\\"world   => "hello\\\\""world"
        //          hello world\    => "hello world\\"
        //
        //    technically this is not required for a cmd.exe command line, or the batch argument parser.
        //    the reasons for including this as a .cmd quoting rule are:
        //
        //    a) this is optimized for the scenario where the argument is passed from the .cmd file to an
        //       external program. many programs (e.g. .NET console apps) rely on the slash-doubling rule.
        //
        //    b) it's what we've been doing previously (by deferring to node default behavior) and we
        //       haven't heard any complaints about that aspect.
        //
        // note, a weakness of the quoting rules chosen here, is that % is not escaped. in fact, % cannot be
        // escaped when used on the command line directly - even though within a .cmd file % can be escaped
        // by using %%.
        //
        // the saving grace is, on the command line, %var% is left as-is if var is not defined. this contrasts
        // the line parsing rules within a .cmd file, where if var is not defined it is replaced with nothing.
        //
        // one option that was explored was replacing % with ^% - i.e. %var% => ^%var^%. this hack would
        // often work, since it is unlikely that var^ would exist, and the ^ character is removed when the
        // variable is used. the problem, however, is that ^ is not removed when %* is used to pass the args
        // to an external program.
        //
        // an unexplored potential solution for the % escaping problem, is to create a wrapper .cmd file.
        // % can be escaped within a .cmd file.
        let reverse = '"';
        let quoteHit = true;
        for (let i = arg.length; i > 0; i--) {
            // walk the string in reverse
            reverse += arg[i - 1];
            if (quoteHit && arg[i - 1] === '\\') {
                reverse += '\\'; // double the slash
            }
            else if (arg[i - 1] === '"') {
                quoteHit = true;
                reverse += '"'; // double the quote
            }
            else {
                quoteHit = false;
            }
        }
        reverse += '"';
        return reverse.split('').reverse().join('');
    }
    _uvQuoteCmdArg(arg) {
        // Tool runner wraps child_process.spawn() and needs to apply the same quoting as
        // Node in certain cases where the undocumented spawn option windowsVerbatimArguments
        // is used.
        //
        // Since this function is a port of quote_cmd_arg from Node 4.x (technically, lib UV,
        // see https://github.com/nodejs/node/blob/v4.x/deps/uv/src/win/process.c for details),
        // pasting copyright notice from Node within this function:
        //
        //      Copyright Joyent, Inc. and other Node contributors. All rights reserved.
        //
        //      Permission is hereby granted, free of charge, to any person obtaining a copy
        //      of this software and associated documentation files (the "Software"), to
        //      deal in the Software without restriction, including without limitation the
        //      rights to use, copy, modify, merge, publish, distribute, sublicense, and/or
        //      sell copies of the Software, and to permit persons to whom the Software is
        //      furnished to do so, subject to the following conditions:
        //
        //      The above copyright notice and this permission notice shall be included in
        //      all copies or substantial portions of the Software.
        //
        //      THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
        //      IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
        //      FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
        //      AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
        //      LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING
        //      FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS
        //      IN THE SOFTWARE.
        if (!arg) {
            // Need double quotation for empty argument
            return '""';
        }
        if (!arg.includes(' ') && !arg.includes('\t') && !arg.includes('"')) {
            // No quotation needed
            return arg;
        }
        if (!arg.includes('"') && !arg.includes('\\')) {
            // No embedded double quotes or backslashes, so I can just wrap
            // quote marks around the whole thing.
            return `"${arg}"`;
        }
        // Expected input/output:
        //   input : hello"world
        //   output: "hello\"world"
        //   input : hello""world
        //   output: "hello\"\"world"
        //   input : hello\world
        //   output: hello\world
        //   input : hello\\world
        //   output: hello\\world
        //   input : hello\"world
        //   output: "hello\\\"world"
        //   input : hello\\"world
        //   output: "hello\\\\\"world"
        //   input : hello world\
        //   output: "hello world\\" - note the comment in libuv actually reads "hello world\"
        //                             but it appears the comment is wrong, it should be "hello world\\"
        let reverse = '"';
        let quoteHit = true;
        for (let i = arg.length; i > 0; i--) {
            // walk the string in reverse
            reverse += arg[i - 1];
            if (quoteHit && arg[i - 1] === '\\') {
                reverse += '\\';
            }
            else if (arg[i - 1] === '"') {
                quoteHit = true;
                reverse += '\\';
            }
            else {
                quoteHit = false;
            }
        }
        reverse += '"';
        return reverse.split('').reverse().join('');
    }
    _cloneExecOptions(options) {
        options = options || {};
        const result = {
            cwd: options.cwd || process.cwd(),
            env: options.env || process.env,
            silent: options.silent || false,
            windowsVerbatimArguments: options.windowsVerbatimArguments || false,
            failOnStdErr: options.failOnStdErr || false,
            ignoreReturnCode: options.ignoreReturnCode || false,
            delay: options.delay || 10000
        };
        result.outStream = options.outStream || process.stdout;
        result.errStream = options.errStream || process.stderr;
        return result;
    }
    _getSpawnOptions(options, toolPath) {
        options = options || {};
        const result = {};
        result.cwd = options.cwd;
        result.env = options.env;
        result['windowsVerbatimArguments'] =
            options.windowsVerbatimArguments || this._isCmdFile();
        if (options.windowsVerbatimArguments) {
            result.argv0 = `"${toolPath}"`;
        }
        return result;
    }
    /**
     * Exec a tool.
     * Output will be streamed to the live console.
     * Returns promise with return code
     *
     * @param     tool     path to tool to exec
     * @param     options  optional exec options.  See ExecOptions
     * @returns   number
     */
    exec() {
        return toolrunner_awaiter(this, void 0, void 0, function* () {
            // root the tool path if it is unrooted and contains relative pathing
            if (!isRooted(this.toolPath) &&
                (this.toolPath.includes('/') ||
                    (toolrunner_IS_WINDOWS && this.toolPath.includes('\\')))) {
                // prefer options.cwd if it is specified, however options.cwd may also need to be rooted
                this.toolPath = external_path_namespaceObject.resolve(process.cwd(), this.options.cwd || process.cwd(), this.toolPath);
            }
            // if the tool is only a file name, then resolve it from the PATH
            // otherwise verify it exists (add extension on Windows if necessary)
            this.toolPath = yield which(this.toolPath, true);
            return new Promise((resolve, reject) => toolrunner_awaiter(this, void 0, void 0, function* () {
                this._debug(`exec tool: ${this.toolPath}`);
                this._debug('arguments:');
                for (const arg of this.args) {
                    this._debug(`   ${arg}`);
                }
                const optionsNonNull = this._cloneExecOptions(this.options);
                if (!optionsNonNull.silent && optionsNonNull.outStream) {
                    optionsNonNull.outStream.write(this._getCommandString(optionsNonNull) + external_os_.EOL);
                }
                const state = new ExecState(optionsNonNull, this.toolPath);
                state.on('debug', (message) => {
                    this._debug(message);
                });
                if (this.options.cwd && !(yield io_util_exists(this.options.cwd))) {
                    return reject(new Error(`The cwd: ${this.options.cwd} does not exist!`));
                }
                const fileName = this._getSpawnFileName();
                const cp = external_child_process_namespaceObject.spawn(fileName, this._getSpawnArgs(optionsNonNull), this._getSpawnOptions(this.options, fileName));
                let stdbuffer = '';
                if (cp.stdout) {
                    cp.stdout.on('data', (data) => {
                        if (this.options.listeners && this.options.listeners.stdout) {
                            this.options.listeners.stdout(data);
                        }
                        if (!optionsNonNull.silent && optionsNonNull.outStream) {
                            optionsNonNull.outStream.write(data);
                        }
                        stdbuffer = this._processLineBuffer(data, stdbuffer, (line) => {
                            if (this.options.listeners && this.options.listeners.stdline) {
                                this.options.listeners.stdline(line);
                            }
                        });
                    });
                }
                let errbuffer = '';
                if (cp.stderr) {
                    cp.stderr.on('data', (data) => {
                        state.processStderr = true;
                        if (this.options.listeners && this.options.listeners.stderr) {
                            this.options.listeners.stderr(data);
                        }
                        if (!optionsNonNull.silent &&
                            optionsNonNull.errStream &&
                            optionsNonNull.outStream) {
                            const s = optionsNonNull.failOnStdErr
                                ? optionsNonNull.errStream
                                : optionsNonNull.outStream;
                            s.write(data);
                        }
                        errbuffer = this._processLineBuffer(data, errbuffer, (line) => {
                            if (this.options.listeners && this.options.listeners.errline) {
                                this.options.listeners.errline(line);
                            }
                        });
                    });
                }
                cp.on('error', (err) => {
                    state.processError = err.message;
                    state.processExited = true;
                    state.processClosed = true;
                    state.CheckComplete();
                });
                cp.on('exit', (code) => {
                    state.processExitCode = code;
                    state.processExited = true;
                    this._debug(`Exit code ${code} received from tool '${this.toolPath}'`);
                    state.CheckComplete();
                });
                cp.on('close', (code) => {
                    state.processExitCode = code;
                    state.processExited = true;
                    state.processClosed = true;
                    this._debug(`STDIO streams have closed for tool '${this.toolPath}'`);
                    state.CheckComplete();
                });
                state.on('done', (error, exitCode) => {
                    if (stdbuffer.length > 0) {
                        this.emit('stdline', stdbuffer);
                    }
                    if (errbuffer.length > 0) {
                        this.emit('errline', errbuffer);
                    }
                    cp.removeAllListeners();
                    if (error) {
                        reject(error);
                    }
                    else {
                        resolve(exitCode);
                    }
                });
                if (this.options.input) {
                    if (!cp.stdin) {
                        throw new Error('child process missing stdin');
                    }
                    cp.stdin.end(this.options.input);
                }
            }));
        });
    }
}
/**
 * Convert an arg string to an array of args. Handles escaping
 *
 * @param    argString   string of arguments
 * @returns  string[]    array of arguments
 */
function argStringToArray(argString) {
    const args = [];
    let inQuotes = false;
    let escaped = false;
    let arg = '';
    function append(c) {
        // we only escape double quotes.
        if (escaped && c !== '"') {
            arg += '\\';
        }
        arg += c;
        escaped = false;
    }
    for (let i = 0; i < argString.length; i++) {
        const c = argString.charAt(i);
        if (c === '"') {
            if (!escaped) {
                inQuotes = !inQuotes;
            }
            else {
                append(c);
            }
            continue;
        }
        if (c === '\\' && escaped) {
            append(c);
            continue;
        }
        if (c === '\\' && inQuotes) {
            escaped = true;
            continue;
        }
        if (c === ' ' && !inQuotes) {
            if (arg.length > 0) {
                args.push(arg);
                arg = '';
            }
            continue;
        }
        append(c);
    }
    if (arg.length > 0) {
        args.push(arg.trim());
    }
    return args;
}
class ExecState extends external_events_.EventEmitter {
    constructor(options, toolPath) {
        super();
        this.processClosed = false; // tracks whether the process has exited and stdio is closed
        this.processError = '';
        this.processExitCode = 0;
        this.processExited = false; // tracks whether the process has exited
        this.processStderr = false; // tracks whether stderr was written to
        this.delay = 10000; // 10 seconds
        this.done = false;
        this.timeout = null;
        if (!toolPath) {
            throw new Error('toolPath must not be empty');
        }
        this.options = options;
        this.toolPath = toolPath;
        if (options.delay) {
            this.delay = options.delay;
        }
    }
    CheckComplete() {
        if (this.done) {
            return;
        }
        if (this.processClosed) {
            this._setResult();
        }
        else if (this.processExited) {
            this.timeout = (0,external_timers_namespaceObject.setTimeout)(ExecState.HandleTimeout, this.delay, this);
        }
    }
    _debug(message) {
        this.emit('debug', message);
    }
    _setResult() {
        // determine whether there is an error
        let error;
        if (this.processExited) {
            if (this.processError) {
                error = new Error(`There was an error when attempting to execute the process '${this.toolPath}'. This may indicate the process failed to start. Error: ${this.processError}`);
            }
            else if (this.processExitCode !== 0 && !this.options.ignoreReturnCode) {
                error = new Error(`The process '${this.toolPath}' failed with exit code ${this.processExitCode}`);
            }
            else if (this.processStderr && this.options.failOnStdErr) {
                error = new Error(`The process '${this.toolPath}' failed because one or more lines were written to the STDERR stream`);
            }
        }
        // clear the timeout
        if (this.timeout) {
            clearTimeout(this.timeout);
            this.timeout = null;
        }
        this.done = true;
        this.emit('done', error, this.processExitCode);
    }
    static HandleTimeout(state) {
        if (state.done) {
            return;
        }
        if (!state.processClosed && state.processExited) {
            const message = `The STDIO streams did not close within ${state.delay / 1000} seconds of the exit event from process '${state.toolPath}'. This may indicate a child process inherited the STDIO streams and has not yet exited.`;
            state._debug(message);
        }
        state._setResult();
    }
}
//# sourceMappingURL=toolrunner.js.map
;// CONCATENATED MODULE: ./node_modules/@actions/exec/lib/exec.js
var exec_awaiter = (undefined && undefined.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};


/**
 * Exec a command.
 * Output will be streamed to the live console.
 * Returns promise with return code
 *
 * @param     commandLine        command to execute (can include additional args). Must be correctly escaped.
 * @param     args               optional arguments for tool. Escaping is handled by the lib.
 * @param     options            optional exec options.  See ExecOptions
 * @returns   Promise<number>    exit code
 */
function exec(commandLine, args, options) {
    return exec_awaiter(this, void 0, void 0, function* () {
        const commandArgs = argStringToArray(commandLine);
        if (commandArgs.length === 0) {
            throw new Error(`Parameter 'commandLine' cannot be null or empty.`);
        }
        // Path to tool to execute should be first arg
        const toolPath = commandArgs[0];
        args = commandArgs.slice(1).concat(args || []);
        const runner = new ToolRunner(toolPath, args, options);
        return runner.exec();
    });
}
/**
 * Exec a command and get the output.
 * Output will be streamed to the live console.
 * Returns promise with the exit code and collected stdout and stderr
 *
 * @param     commandLine           command to execute (can include additional args). Must be correctly escaped.
 * @param     args                  optional arguments for tool. Escaping is handled by the lib.
 * @param     options               optional exec options.  See ExecOptions
 * @returns   Promise<ExecOutput>   exit code, stdout, and stderr
 */
function getExecOutput(commandLine, args, options) {
    return exec_awaiter(this, void 0, void 0, function* () {
        var _a, _b;
        let stdout = '';
        let stderr = '';
        //Using string decoder covers the case where a mult-byte character is split
        const stdoutDecoder = new external_string_decoder_.StringDecoder('utf8');
        const stderrDecoder = new external_string_decoder_.StringDecoder('utf8');
        const originalStdoutListener = (_a = options === null || options === void 0 ? void 0 : options.listeners) === null || _a === void 0 ? void 0 : _a.stdout;
        const originalStdErrListener = (_b = options === null || options === void 0 ? void 0 : options.listeners) === null || _b === void 0 ? void 0 : _b.stderr;
        const stdErrListener = (data) => {
            stderr += stderrDecoder.write(data);
            if (originalStdErrListener) {
                originalStdErrListener(data);
            }
        };
        const stdOutListener = (data) => {
            stdout += stdoutDecoder.write(data);
            if (originalStdoutListener) {
                originalStdoutListener(data);
            }
        };
        const listeners = Object.assign(Object.assign({}, options === null || options === void 0 ? void 0 : options.listeners), { stdout: stdOutListener, stderr: stdErrListener });
        const exitCode = yield exec(commandLine, args, Object.assign(Object.assign({}, options), { listeners }));
        //flush any remaining characters
        stdout += stdoutDecoder.end();
        stderr += stderrDecoder.end();
        return {
            exitCode,
            stdout,
            stderr
        };
    });
}
//# sourceMappingURL=exec.js.map
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

;// CONCATENATED MODULE: ./actions/coverage-gate/edges.ts






/** The production edges: the runner's workflow commands, processes through @actions/exec, the REST API through Octokit. */
function defaultEdges() {
    const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
    return {
        runner: {
            input: environmentInputs,
            env: process.env,
            info: (m) => info(m),
            warning: (m, p) => warning(m, p),
            notice: (m, p) => notice(m, p),
            startGroup: (n) => startGroup(n),
            endGroup: () => endGroup(),
            setOutput: (n, v) => setOutput(n, v),
            appendSummary: async (markdown) => {
                if (process.env.GITHUB_STEP_SUMMARY)
                    await summary.addRaw(markdown, true).write();
            },
        },
        runCommand: (command, cwd) => process.platform === 'win32'
            ? exec('pwsh', ['-NoLogo', '-NoProfile', '-Command', command], { cwd, ignoreReturnCode: true })
            : exec('bash', ['-e', '-o', 'pipefail', '-c', command], { cwd, ignoreReturnCode: true }),
        findFiles: async (pattern, cwd) => {
            const absolute = (0,external_node_path_.isAbsolute)(pattern) ? pattern : (0,external_node_path_.join)(cwd, pattern);
            if (!/[*?[\]{}]/.test(pattern))
                return (0,external_node_fs_namespaceObject.existsSync)(absolute) ? [absolute] : [];
            // Not @actions/glob: it imports @actions/core, and with it undici (find-files.ts says how it matches alike);
            // minimatch is loaded only on this path.
            const { globFiles } = await Promise.all(/* import() */[__nccwpck_require__.e(581), __nccwpck_require__.e(454)]).then(__nccwpck_require__.bind(__nccwpck_require__, 5454));
            return globFiles(absolute, cwd);
        },
        fileExists: (path) => (0,external_node_fs_namespaceObject.existsSync)(path) && (0,external_node_fs_namespaceObject.statSync)(path).isFile(),
        git: async (args) => {
            const result = await getExecOutput('git', args, { cwd: workspace, ignoreReturnCode: true, silent: true });
            return { code: result.exitCode, stdout: result.stdout, stderr: result.stderr };
        },
        writeFile: async (path, content) => {
            await (0,promises_.mkdir)((0,external_node_path_.dirname)(path), { recursive: true });
            await (0,promises_.writeFile)(path, content);
        },
        readEvent: () => {
            const path = process.env.GITHUB_EVENT_PATH;
            if (!path || !(0,external_node_fs_namespaceObject.existsSync)(path))
                return undefined;
            return JSON.parse((0,external_node_fs_namespaceObject.readFileSync)(path, 'utf8'));
        },
        comments: (token, owner, repo, issue) => {
            // Octokit is loaded on the pull-request path only: a push run never pays for it.
            let octokit;
            const client = () => (octokit ??= __nccwpck_require__.e(/* import() */ 413).then(__nccwpck_require__.bind(__nccwpck_require__, 2413)).then((m) => m.getOctokit(token)));
            return {
                list: async () => {
                    const octokit = await client();
                    return octokit.paginate(octokit.rest.issues.listComments, {
                        owner,
                        repo,
                        issue_number: issue,
                        per_page: 100,
                    });
                },
                create: async (body) => {
                    await (await client()).rest.issues.createComment({ owner, repo, issue_number: issue, body });
                },
                update: async (id, body) => {
                    await (await client()).rest.issues.updateComment({ owner, repo, comment_id: id, body });
                },
            };
        },
    };
}

;// CONCATENATED MODULE: ./actions/coverage-gate/inputs.ts







/** A percentage from 0 to 100, kept exact; 0.9 is refused as a ratio someone meant as 90 %. */
function parsePercent(name, value) {
    const decimal = parseDecimal(value.replace(/\s*%$/, ''));
    const n = Number(value.replace(/\s*%$/, ''));
    if (!decimal || n > 100) {
        throw new errors_ConfigurationError(`Input '${name}' must be a percentage from 0 to 100 such as 90 or 87.5; got '${untrusted_text_excerpt(value)}'.`);
    }
    if (n > 0 && n < 1) {
        throw new errors_ConfigurationError(`Input '${name}' is a percentage from 0 to 100; '${untrusted_text_excerpt(value)}' looks like a ratio (write ${n * 100} for ${n * 100} %).`);
    }
    return decimal;
}
/** 'glob: percent' or 'glob=percent' per line. */
function parsePathThresholds(name, value) {
    return value
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '' && !line.startsWith('#'))
        .map((line) => {
        const match = /^(.+?)\s*[:=]\s*([^:=]+)$/.exec(line);
        if (!match) {
            throw new errors_ConfigurationError(`Input '${name}' takes one 'glob: percent' per line, such as 'web/**: 85'; got '${untrusted_text_excerpt(line)}'.`);
        }
        return { glob: match[1].trim(), threshold: parsePercent(name, match[2].trim()) };
    });
}
function readInputs(source) {
    const read = new InputReader(source);
    const reports = read.list('reports');
    if (reports.length === 0)
        throw new errors_ConfigurationError("Input 'reports' is required: one or more report paths or globs.");
    const diffThreshold = read.optionalString('diff-threshold');
    const maxDecrease = read.optionalString('max-decrease');
    return {
        command: read.optionalString('command'),
        workingDirectory: read.string('working-directory') || '.',
        reports,
        format: read.oneOf('format', ['auto', ...REPORT_FORMATS], 'auto'),
        metric: read.oneOf('metric', ['auto', ...METRICS], 'auto'),
        threshold: parsePercent('threshold', read.string('threshold', { required: true })),
        rounding: read.oneOf('rounding', ROUNDINGS, 'none'),
        precision: read.integer('precision', { min: 0, max: 10, fallback: 2 }),
        pathThresholds: parsePathThresholds('path-thresholds', read.raw('path-thresholds')),
        diffThreshold: diffThreshold === undefined ? undefined : parsePercent('diff-threshold', diffThreshold),
        diffBase: readDiffBase(read.optionalString('diff-base')),
        baseline: read.list('baseline'),
        maxDecrease: maxDecrease === undefined ? parseDecimal('0') : parseMaxDecrease(maxDecrease),
        sourceRoots: read.list('source-roots'),
        stripPrefix: splitList(read.raw('strip-prefix')),
        annotate: read.boolean('annotate', true),
        maxAnnotations: read.integer('max-annotations', { min: 0, max: 10, fallback: 10 }),
        comment: read.boolean('comment', false),
        commentTitle: read.string('comment-title') || 'Coverage',
        githubToken: read.string('github-token'),
        badgePath: read.optionalString('badge-path'),
        failOnError: read.boolean('fail-on-error', true),
    };
}
/** A branch, remote branch or commit; never something git would take for an option. */
function readDiffBase(value) {
    if (value !== undefined && !isRevision(value)) {
        throw new errors_ConfigurationError(`Input 'diff-base' takes a branch, remote branch or commit such as origin/main or a sha; got '${untrusted_text_excerpt(value)}'.`);
    }
    return value;
}
function parseMaxDecrease(value) {
    const decimal = parseDecimal(value);
    if (!decimal || Number(value) > 100) {
        throw new errors_ConfigurationError(`Input 'max-decrease' must be percentage points from 0 to 100 such as 0.5; got '${untrusted_text_excerpt(value)}'.`);
    }
    return decimal;
}

;// CONCATENATED MODULE: ./actions/coverage-gate/formats/report-error.ts

/** A report that cannot be read or understood: names the file, and the line when the content is at fault. */
class ReportError extends errors_ConfigurationError {
    file;
    detail;
    line;
    constructor(file, detail, line) {
        super(`Report '${file}'${line === undefined ? '' : ` line ${line}`}: ${detail}`);
        this.file = file;
        this.detail = detail;
        this.line = line;
        this.name = 'ReportError';
    }
}

;// CONCATENATED MODULE: external "node:string_decoder"
const external_node_string_decoder_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:string_decoder");
;// CONCATENATED MODULE: ./actions/coverage-gate/formats/read-chunks.ts



/**
 * 64 KiB reads: each chunk and the strings cut from it stay below V8's large-object size, so they die young and
 * are collected cheaply; 1 MiB chunks measured 20-30 % more peak memory and no gain in speed.
 */
const CHUNK_BYTES = 1 << 16;
/** The file's bytes in chunks of up to 64 KiB. */
async function* readChunks(file) {
    const stream = (0,external_node_fs_namespaceObject.createReadStream)(file, { highWaterMark: CHUNK_BYTES });
    try {
        for await (const chunk of stream)
            yield chunk;
    }
    catch (error) {
        throw new ReportError(file, describeReadError(error));
    }
    finally {
        stream.destroy();
    }
}
/** Byte chunks as UTF-8 text; a character split across two reads is joined by the decoder. */
async function* decodeChunks(chunks) {
    const decoder = new external_node_string_decoder_namespaceObject.StringDecoder('utf8');
    for await (const chunk of chunks) {
        const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
        if (text !== '')
            yield text;
    }
    const rest = decoder.end();
    if (rest !== '')
        yield rest;
}
function describeReadError(error) {
    const code = error?.code;
    if (code === 'ENOENT')
        return 'no such file';
    if (code === 'EACCES' || code === 'EPERM')
        return 'permission denied';
    if (code === 'EISDIR')
        return 'is a directory, not a report file';
    return `cannot be read (${error?.message ?? String(error)})`;
}
/**
 * The longest line or token a report may hold. Real reports have short lines (a path, a DA record); a longer
 * one is a broken or hostile file, refused before it costs memory and time.
 */
const MAX_TOKEN_BYTES = 1 << 20;
/**
 * Calls `onLine` for each line, with its 1-based number, holding no more than one chunk and one partial line.
 * Lines are found in the bytes, so a line that `fast` understands is never decoded into a string at all.
 * Handles \n and \r\n endings. A line longer than MAX_TOKEN_BYTES is a report error of `file`.
 */
async function forEachLine(file, chunks, onLine, fast, work = { bytes: 0 }) {
    // The pieces of a line that spans reads: only the new piece is searched for its end, and the pieces are
    // joined once, so a long line costs its length and not its length times the number of reads.
    let pending = [];
    let pendingBytes = 0;
    let lineNumber = 0;
    const emit = (bytes, start, end) => {
        lineNumber++;
        if (end > start && bytes[end - 1] === 13)
            end--;
        if (fast && fast(bytes, start, end))
            return;
        onLine(bytes.toString('utf8', start, end), lineNumber);
    };
    const tooLong = () => {
        throw new ReportError(file, `line ${lineNumber + 1} is longer than ${MAX_TOKEN_BYTES / 1024 / 1024} MiB`);
    };
    const joined = (tail) => {
        const line = Buffer.concat([...pending, tail]);
        work.bytes += line.length;
        pending = [];
        pendingBytes = 0;
        return line;
    };
    for await (const chunk of chunks) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
        work.bytes += bytes.length;
        let start = 0;
        let newline = bytes.indexOf(10);
        if (pendingBytes > 0 && newline !== -1) {
            if (pendingBytes + newline > MAX_TOKEN_BYTES)
                tooLong();
            const line = joined(bytes.subarray(0, newline));
            emit(line, 0, line.length);
            start = newline + 1;
            newline = bytes.indexOf(10, start);
        }
        while (newline !== -1) {
            if (newline - start > MAX_TOKEN_BYTES)
                tooLong();
            emit(bytes, start, newline);
            start = newline + 1;
            newline = bytes.indexOf(10, start);
        }
        if (start < bytes.length) {
            pendingBytes += bytes.length - start;
            if (pendingBytes > MAX_TOKEN_BYTES)
                tooLong();
            // A copy, so the partial line does not keep the whole chunk alive.
            pending.push(Buffer.from(bytes.subarray(start)));
            work.bytes += bytes.length - start;
        }
    }
    if (pendingBytes > 0) {
        const line = joined(Buffer.alloc(0));
        emit(line, 0, line.length);
    }
}

;// CONCATENATED MODULE: ./actions/coverage-gate/formats/xml-scanner.ts


class XmlSyntaxError extends Error {
    line;
    constructor(message, line) {
        super(message);
        this.line = line;
        this.name = 'XmlSyntaxError';
    }
}
const LT = 60; // <
const GT = 62; // >
const QUOT = 34;
const APOS = 39;
const SLASH = 47;
const BANG = 33;
const QUESTION = 63;
async function scanXml(chunks, handler, work = { bytes: 0 }) {
    const stack = [];
    const textElements = handler.textElements ?? new Set();
    const wantsText = () => stack.length > 0 && textElements.has(stack[stack.length - 1]);
    let sawRoot = false;
    let line = 1;
    // An unfinished tag, comment or text at the end of what was scanned, and the reads that came after it.
    let carry = '';
    const pieces = [];
    let pieceChars = 0;
    // The unfinished part is scanned again only once the text has doubled (and once more past the bound), so a
    // long token costs a few times its length, never its length times the number of reads.
    let retryAt = 0;
    const attempt = () => {
        const text = carry + pieces.join('');
        pieces.length = 0;
        pieceChars = 0;
        work.bytes += text.length;
        carry = text.slice(scan(text));
        if (carry.length > MAX_TOKEN_BYTES) {
            throw new XmlSyntaxError(`a tag, comment or text longer than ${MAX_TOKEN_BYTES / 1024 / 1024} MiB ('${untrusted_text_excerpt(carry)}')`, line);
        }
        retryAt = Math.min(2 * carry.length, MAX_TOKEN_BYTES + 1);
    };
    /** Handles the complete tags of `text`; returns where the unfinished rest starts. */
    const scan = (text) => {
        let pos = 0;
        // Lines are counted up to `counted` lazily, so whitespace between tags costs one indexOf per newline.
        let counted = 0;
        const lineAt = (index) => {
            let nl = text.indexOf('\n', counted);
            while (nl !== -1 && nl < index) {
                line++;
                nl = text.indexOf('\n', nl + 1);
            }
            counted = index;
            return line;
        };
        for (;;) {
            const lt = text.indexOf('<', pos);
            if (lt === -1) {
                checkText(text, pos, text.length, stack, lineAt);
                // Text content may continue in the next chunk; without a text handler it is only counted and dropped.
                if (!wantsText())
                    pos = text.length;
                break;
            }
            if (lt > pos) {
                checkText(text, pos, lt, stack, lineAt);
                if (wantsText())
                    emitText(handler, text.slice(pos, lt), lineAt(pos));
                pos = lt;
            }
            const next = text.charCodeAt(lt + 1);
            let end;
            if (next === BANG) {
                end = endOfMarkup(text, lt);
                if (end === -1)
                    break;
                if (text.startsWith('<![CDATA[', lt) && wantsText()) {
                    handler.text?.(text.slice(lt + 9, end - 2), lineAt(lt));
                }
            }
            else if (next === QUESTION) {
                const close = text.indexOf('?>', lt + 2);
                if (close === -1)
                    break;
                end = close + 1;
            }
            else if (next === SLASH) {
                end = text.indexOf('>', lt);
                if (end === -1)
                    break;
                const name = text.slice(lt + 2, end).trim();
                const at = lineAt(lt);
                const open = stack.pop();
                if (open === undefined)
                    throw new XmlSyntaxError(`unexpected closing tag </${untrusted_text_excerpt(name)}>`, at);
                if (open !== name)
                    throw new XmlSyntaxError(`expected </${open}> but found </${untrusted_text_excerpt(name)}>`, at);
                handler.close(name, at);
            }
            else {
                const at = lineAt(lt);
                end = endOfStartTag(text, lt, at);
                if (end === -1)
                    break;
                let nameEnd = lt + 1;
                while (nameEnd < end && !isSpaceOrEnd(text.charCodeAt(nameEnd)))
                    nameEnd++;
                const name = text.slice(lt + 1, nameEnd);
                const selfClosing = text.charCodeAt(end - 1) === SLASH;
                if (!isNameStart(name.charCodeAt(0)))
                    throw new XmlSyntaxError(`invalid tag name '<${untrusted_text_excerpt(name)}'`, at);
                if (stack.length === 0 && sawRoot)
                    throw new XmlSyntaxError(`a second root element <${untrusted_text_excerpt(name)}>`, at);
                sawRoot = true;
                handler.open({ name, rawAttributes: text.slice(nameEnd, selfClosing ? end - 1 : end), selfClosing, line: at });
                if (selfClosing)
                    handler.close(name, at);
                else
                    stack.push(name);
            }
            pos = end + 1;
        }
        // Count the lines of what was consumed; the unconsumed tail is rescanned with the next chunk.
        lineAt(pos);
        return pos;
    };
    for await (const chunk of chunks) {
        pieces.push(chunk);
        pieceChars += chunk.length;
        if (carry.length + pieceChars >= retryAt)
            attempt();
    }
    if (pieces.length > 0)
        attempt();
    if (carry.trim() !== '' && carry.includes('<'))
        throw new XmlSyntaxError('unexpected end of file inside a tag', line);
    if (!sawRoot)
        throw new XmlSyntaxError('no XML element found', line);
    if (stack.length > 0)
        throw new XmlSyntaxError(`unexpected end of file: <${stack[stack.length - 1]}> is not closed`, line);
}
/** A letter, '_' or ':' (the ASCII part of XML's NameStartChar; non-ASCII letters are accepted too). */
function isNameStart(code) {
    return (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95 || code === 58 || code > 127;
}
function isSpaceOrEnd(code) {
    return code === 32 || code === 10 || code === 13 || code === 9 || code === SLASH || code === GT;
}
/** The index of the '>' closing a start tag, skipping quoted attribute values; -1 when the chunk ends first. */
function endOfStartTag(text, lt, line) {
    let quote = 0;
    for (let i = lt + 1; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (quote !== 0) {
            if (c === quote)
                quote = 0;
        }
        else if (c === QUOT || c === APOS)
            quote = c;
        else if (c === GT)
            return i;
        else if (c === LT)
            throw new XmlSyntaxError("'<' inside a tag", line + lineOf(text, lt, i));
    }
    return -1;
}
/** Newlines between `from` and `index`. */
function lineOf(text, from, index) {
    let count = 0;
    for (let nl = text.indexOf('\n', from); nl !== -1 && nl < index; nl = text.indexOf('\n', nl + 1))
        count++;
    return count;
}
/** Comments, CDATA and DOCTYPE (with an internal subset in brackets). */
function endOfMarkup(text, lt) {
    if (text.startsWith('<!--', lt)) {
        const close = text.indexOf('-->', lt + 4);
        return close === -1 ? -1 : close + 2;
    }
    if (text.startsWith('<![CDATA[', lt)) {
        const close = text.indexOf(']]>', lt + 9);
        return close === -1 ? -1 : close + 2;
    }
    const gt = text.indexOf('>', lt);
    const bracket = text.indexOf('[', lt);
    if (bracket !== -1 && (gt === -1 || bracket < gt)) {
        const close = text.indexOf(']>', bracket);
        return close === -1 ? -1 : close + 1;
    }
    return gt;
}
function checkText(text, from, to, stack, lineAt) {
    if (stack.length > 0)
        return;
    for (let i = from; i < to; i++) {
        const c = text.charCodeAt(i);
        if (c !== 32 && c !== 10 && c !== 13 && c !== 9 && c !== 0xfeff) {
            throw new XmlSyntaxError(`text outside the root element ('${text.slice(i, Math.min(to, i + 20))}')`, lineAt(i));
        }
    }
}
function emitText(handler, raw, line) {
    handler.text?.(decodeEntities(raw), line);
}
const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
function decodeEntities(value) {
    if (!value.includes('&'))
        return value;
    return value.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (whole, entity) => {
        if (entity.startsWith('#x'))
            return String.fromCodePoint(parseInt(entity.slice(2), 16));
        if (entity.startsWith('#'))
            return String.fromCodePoint(parseInt(entity.slice(1), 10));
        return ENTITIES[entity] ?? whole;
    });
}
/**
 * One attribute's raw value without parsing the others: the hot path for the millions of <line> elements of a
 * large report. Undefined when absent; an unquoted value is a syntax error, as in attributesOf.
 */
function attributeValue(tag, name) {
    const raw = tag.rawAttributes;
    let at = raw.indexOf(name);
    while (at !== -1) {
        const before = at === 0 ? 32 : raw.charCodeAt(at - 1);
        let eq = at + name.length;
        while (raw.charCodeAt(eq) === 32)
            eq++;
        if ((before === 32 || before === 9 || before === 10 || before === 13) && raw.charCodeAt(eq) === 61) {
            let start = eq + 1;
            while (raw.charCodeAt(start) === 32)
                start++;
            const quote = raw.charCodeAt(start);
            const end = quote === QUOT || quote === APOS ? raw.indexOf(quote === QUOT ? '"' : "'", start + 1) : -1;
            if (end === -1)
                throw new XmlSyntaxError(`malformed attributes in <${untrusted_text_excerpt(tag.name + raw)}>`, tag.line);
            const value = raw.slice(start + 1, end);
            return value.includes('&') ? decodeEntities(value) : value;
        }
        at = raw.indexOf(name, at + 1);
    }
    return undefined;
}
// Sticky: each match starts where the last ended, so a long run of garbage is tried once, not from every position.
const ATTRIBUTE = /\s*([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/y;
/** Parses a tag's attributes; anything that is not `name="value"` is a syntax error at the tag's line. */
function attributesOf(tag) {
    const result = {};
    const raw = tag.rawAttributes;
    let last = 0;
    ATTRIBUTE.lastIndex = 0;
    for (let match = ATTRIBUTE.exec(raw); match !== null; match = ATTRIBUTE.exec(raw)) {
        result[match[1]] = decodeEntities(match[2] ?? match[3]);
        last = ATTRIBUTE.lastIndex;
    }
    if (raw.slice(last).trim() !== '') {
        throw new XmlSyntaxError(`malformed attributes in <${untrusted_text_excerpt(tag.name + raw)}>`, tag.line);
    }
    return result;
}

;// CONCATENATED MODULE: ./actions/coverage-gate/formats/xml-report.ts



/** Runs the scanner and turns its syntax errors into a report error naming the file and the line. */
async function scanReport(file, chunks, handler) {
    try {
        await scanXml(chunks, handler);
    }
    catch (error) {
        if (error instanceof XmlSyntaxError)
            throw new ReportError(file, `malformed XML: ${error.message}`, error.line);
        throw error;
    }
}
/** A non-negative whole number from an attribute, or a report error at the tag's line. */
function count(file, value, what, line) {
    if (value === undefined)
        throw new ReportError(file, `missing ${what}`, line);
    // Some writers emit hits as 1.0 or in exponent form for very large counts.
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
        throw new ReportError(file, `${what} must be a non-negative number; got '${untrusted_text_excerpt(value)}'`, line);
    }
    return Math.round(n);
}

;// CONCATENATED MODULE: ./actions/coverage-gate/report-files.ts



/**
 * The files of one report while a parser reads it. Parsers `get` a file by the path the report gives (the same
 * path again returns the same file while it is open or kept) and `close` it when its element or record ends.
 * Without a `Folding` (the parsers' tests, the reference model) every file keeps its lines.
 */
class ReportFiles {
    folding;
    /** The files kept with their lines, by the path the report gives. */
    files = new Map();
    /** Directories the report's relative paths are relative to (Cobertura's <source>), as the parser meets them. */
    sourceRoots = [];
    /** Files folded (a file listed twice and folded twice counts twice: the reading is then done again). */
    folded = 0;
    /** The report's own totals, recounted from its detail; complete once `finish` has run. */
    counted = new TotalsSum();
    open = new Set();
    /**
     * The file closed last, settled (trimmed or folded) only when another file is opened: a report that lists one
     * file in several elements one after the other (a Cobertura class per C# class, as coverlet writes) adds them
     * all to one file instead of folding it twice and having to be read again.
     */
    pending;
    constructor(folding) {
        this.folding = folding;
    }
    /** The file to add to under this report path. */
    get(path) {
        if (this.pending && this.pending.path !== path)
            this.settle();
        let file = this.files.get(path);
        if (file === undefined) {
            const own = detach(path);
            this.files.set(own, (file = newFile(own)));
        }
        this.open.add(file);
        return file;
    }
    /** The parser is done with the file for now; it is trimmed, or folded into its counts and dropped. */
    close(file) {
        if (!this.open.delete(file))
            return;
        if (!this.folding) {
            trimFile(file);
            return;
        }
        if (this.pending !== file)
            this.settle();
        this.pending = file;
    }
    settle() {
        const file = this.pending;
        this.pending = undefined;
        if (!file || !this.folding || this.open.has(file))
            return;
        const key = file.key ?? this.folding.key(file.path, this.sourceRoots);
        file.key = key;
        if (this.folding.keepsLines(key)) {
            trimFile(file);
            return;
        }
        const totals = fileTotals(file);
        this.counted.add(totals);
        this.folding.fold(key, totals, () => file.lines.missing());
        this.folded++;
        // The arrays go back to their pages, so the next file is written where this one was.
        file.lines.release();
        file.branches.release();
        this.files.delete(file.path);
    }
    /** Closes what the parser left open (a record without end_of_record, the last Go file). */
    finish() {
        for (const file of [...this.open])
            this.close(file);
        this.settle();
        for (const file of this.files.values())
            this.counted.add(fileTotals(file));
        return this.files;
    }
}
/** The first `size` rows in `compare` order among all offered, holding at most twice `size` rows at a time. */
class TopRows {
    size;
    compare;
    list = [];
    /** The last row kept by the latest pruning: a row that sorts after it cannot make the list. */
    floor;
    constructor(size, compare) {
        this.size = size;
        this.compare = compare;
    }
    /** Offers a row; `complete` fills in what is costly to compute, only for a row that may make the list. */
    offer(row, complete) {
        if (this.size === 0 || (this.floor !== undefined && this.compare(row, this.floor) >= 0))
            return;
        complete?.(row);
        this.list.push(row);
        if (this.list.length >= 2 * this.size)
            this.prune();
    }
    rows() {
        this.prune();
        return [...this.list];
    }
    prune() {
        this.list.sort(this.compare);
        if (this.list.length >= this.size) {
            this.list.length = this.size;
            this.floor = this.list[this.size - 1];
        }
    }
}
/** Sums of folded files: in all, by package, by path-threshold glob; and the rows the file table lists first. */
class FoldedSums {
    count = 0;
    listable = 0;
    totals = new TotalsSum();
    packages = new Map();
    paths;
    listed;
    constructor(globs, listed) {
        this.paths = globs.map((glob) => ({ glob, pattern: globToRegExp(glob), files: 0, totals: new TotalsSum() }));
        this.listed = new TopRows(listed, byMissedThenPath);
    }
    add(path, totals, missing) {
        this.count++;
        this.totals.add(totals);
        const name = packageOf(path);
        let sum = this.packages.get(name);
        if (!sum)
            this.packages.set(name, (sum = new TotalsSum()));
        sum.add(totals);
        for (const p of this.paths) {
            if (!p.pattern.test(path))
                continue;
            p.files++;
            p.totals.add(totals);
        }
        const missed = totals.lines.total - totals.lines.covered;
        if (hasMisses(totals)) {
            this.listable++;
            this.listed.offer({ path, totals, missed, missingLines: [] }, (row) => (row.missingLines = missing()));
        }
    }
    result() {
        return {
            count: this.count,
            listable: this.listable,
            totals: this.totals.result(),
            packages: new Map([...this.packages].map(([name, sum]) => [name, sum.result()])),
            paths: new Map(this.paths.map((p) => [p.glob, { files: p.files, totals: p.totals.result() }])),
            listed: this.listed.rows(),
        };
    }
}
/**
 * A set of strings kept as 53-bit hashes in one typed array (8 bytes a slot) instead of the strings themselves.
 * Two different strings share a hash with a chance of about n / 2^53: `add` may then call a new string known.
 */
class StringHashes {
    table = new Float64Array(1024);
    used = 0;
    /** Adds the string; true when it was not in the set. */
    add(text) {
        if (this.add53(StringHashes.hash(text))) {
            if (++this.used * 2 > this.table.length)
                this.grow();
            return true;
        }
        return false;
    }
    has(text) {
        const value = StringHashes.hash(text);
        const mask = this.table.length - 1;
        for (let slot = value % (mask + 1); this.table[slot] !== 0; slot = (slot + 1) & mask) {
            if (this.table[slot] === value)
                return true;
        }
        return false;
    }
    static hash(text) {
        let h1 = 0x811c9dc5;
        let h2 = 0x1b873593;
        for (let i = 0; i < text.length; i++) {
            const c = text.charCodeAt(i);
            h1 = Math.imul(h1 ^ c, 0x01000193);
            h2 = Math.imul(h2 ^ c, 0x5bd1e995);
            h2 ^= h2 >>> 15;
        }
        // 32 bits of one hash and 21 of the other: a whole number below 2^53, plus one so that 0 marks a free slot.
        return (h1 >>> 0) * 0x200000 + (h2 & 0x1fffff) + 1;
    }
    add53(value) {
        const mask = this.table.length - 1;
        for (let slot = value % (mask + 1);; slot = (slot + 1) & mask) {
            const at = this.table[slot];
            if (at === value)
                return false;
            if (at === 0) {
                this.table[slot] = value;
                return true;
            }
        }
    }
    grow() {
        const old = this.table;
        this.table = new Float64Array(old.length * 2);
        for (const value of old)
            if (value !== 0)
                this.add53(value);
    }
}
/**
 * Folding for one reading of a set of reports: which keys keep their lines, which files were folded twice (so
 * that the reading must be done again keeping them), the sums of the folded files, and the paths that are not
 * in the repository (counted once each, the first `listed` of them in order kept).
 */
class ReportCollector {
    normalise;
    keep;
    duplicates = new Set();
    sums;
    unmatched;
    unmatchedCount = 0;
    foldedKeys = new StringHashes();
    knownKeys = new StringHashes();
    constructor(normalise, keep, globs, listed) {
        this.normalise = normalise;
        this.keep = keep;
        this.sums = new FoldedSums(globs, listed);
        this.unmatched = new TopRows(listed, (a, b) => (a < b ? -1 : a > b ? 1 : 0));
    }
    key(path, sourceRoots) {
        const normalised = this.normalise(path, sourceRoots);
        if (this.knownKeys.add(normalised.path) && !normalised.matched) {
            this.unmatchedCount++;
            this.unmatched.offer(normalised.path);
        }
        return normalised.path;
    }
    keepsLines(key) {
        return this.keep.has(key);
    }
    /** Whether a file of this key was folded (a summary-only entry of it must not count it again). */
    wasFolded(key) {
        return this.foldedKeys.has(key);
    }
    fold(key, totals, missing) {
        if (!this.foldedKeys.add(key))
            this.duplicates.add(key);
        this.sums.add(key, totals, missing);
    }
}

;// CONCATENATED MODULE: ./actions/coverage-gate/formats/clover.ts





/**
 * Clover XML (Istanbul's clover reporter, PHPUnit). `stmt` and `cond` lines are lines; a `cond` line's
 * truecount/falsecount are its covered and missed branches, as Istanbul writes them; `method` lines are functions.
 */
async function parseClover(file, chunks, files = new ReportFiles()) {
    let root = '';
    let current;
    await scanReport(file, chunks, {
        open(tag) {
            if (root === '') {
                root = tag.name;
                if (root !== 'coverage')
                    throw new ReportError(file, `not a Clover report (root element <${root}>)`, tag.line);
                return;
            }
            if (tag.name === 'file') {
                const a = attributesOf(tag);
                const path = a.path || a.name;
                if (!path)
                    throw new ReportError(file, '<file> without a path or name', tag.line);
                if (current)
                    files.close(current);
                current = files.get(path);
            }
            else if (tag.name === 'line' && current) {
                const a = attributesOf(tag);
                const num = count(file, a.num, "line 'num'", tag.line);
                const hits = count(file, a.count ?? '0', "line 'count'", tag.line);
                if (a.type === 'method') {
                    current.functions ??= new Map();
                    current.functions.set(detach(`${a.name ?? ''}@${num}`), hits);
                }
                else {
                    addLine(current, num, hits);
                    if (a.type === 'cond') {
                        const covered = count(file, a.truecount ?? '0', "line 'truecount'", tag.line);
                        const missed = count(file, a.falsecount ?? '0', "line 'falsecount'", tag.line);
                        setBranchCounts(current, num, covered, covered + missed);
                    }
                }
            }
        },
        close(name) {
            if (name === 'file' && current) {
                files.close(current);
                current = undefined;
            }
        },
    });
    return { file, format: 'clover', files: files.finish() };
}

;// CONCATENATED MODULE: ./actions/coverage-gate/formats/cobertura.ts






/**
 * Cobertura XML as written by coverage.py, Istanbul, gcovr and others. Only the per-line elements are used:
 * the `line-rate` attributes carry 4 significant digits and would not give exact totals.
 */
async function parseCobertura(file, chunks, files = new ReportFiles()) {
    const sourceRoots = files.sourceRoots;
    let current;
    let inSource = false;
    let sourceText = '';
    // Istanbul repeats each method's lines under <methods>; the class-level <lines> already has them, so a method's
    // lines only decide whether the method ran (when it has no hits attribute of its own).
    let methodDepth = 0;
    let method;
    let root = '';
    let header = {};
    const endMethod = () => {
        if (method && current) {
            current.functions ??= new Map();
            // Two methods of one name and signature (overloads in two classes of one file) count once, as lines do.
            current.functions.set(method.key, Math.max(current.functions.get(method.key) ?? 0, method.hits));
        }
        method = undefined;
    };
    await scanReport(file, chunks, {
        open(tag) {
            if (root === '') {
                root = tag.name;
                if (root !== 'coverage')
                    throw new ReportError(file, `not a Cobertura report (root element <${untrusted_text_excerpt(root)}>)`, tag.line);
                header = attributesOf(tag);
                return;
            }
            switch (tag.name) {
                case 'line': {
                    if (method && !method.own) {
                        method.hits = Math.max(method.hits, count(file, attributeValue(tag, 'hits'), "line 'hits'", tag.line));
                    }
                    if (!current || methodDepth > 0)
                        return;
                    // The millions of <line> elements take the fast path: only the attributes used, found by position.
                    const number = count(file, attributeValue(tag, 'number'), "line 'number'", tag.line);
                    addLine(current, number, count(file, attributeValue(tag, 'hits'), "line 'hits'", tag.line));
                    const conditions = attributeValue(tag, 'condition-coverage');
                    if (conditions && attributeValue(tag, 'branch') === 'true') {
                        const match = /\((\d+)\/(\d+)\)/.exec(conditions);
                        if (!match)
                            throw new ReportError(file, `condition-coverage '${untrusted_text_excerpt(conditions)}' is not like '50% (1/2)'`, tag.line);
                        setBranchCounts(current, number, Number(match[1]), Number(match[2]));
                    }
                    return;
                }
                case 'class': {
                    const a = attributesOf(tag);
                    if (!a.filename)
                        throw new ReportError(file, '<class> without a filename attribute', tag.line);
                    if (current)
                        files.close(current);
                    current = files.get(a.filename);
                    return;
                }
                case 'method': {
                    if (!current)
                        return;
                    const a = attributesOf(tag);
                    const hits = a.hits === undefined ? 0 : count(file, a.hits, "method 'hits'", tag.line);
                    method = { key: detach(`${a.name ?? ''}${a.signature ?? ''}`), hits, own: a.hits !== undefined };
                    if (tag.selfClosing)
                        endMethod();
                    else
                        methodDepth++;
                    return;
                }
                case 'source':
                    inSource = !tag.selfClosing;
                    sourceText = '';
                    return;
            }
        },
        close(name) {
            if (name === 'class') {
                if (current)
                    files.close(current);
                current = undefined;
            }
            else if (name === 'method' && methodDepth > 0) {
                methodDepth--;
                endMethod();
            }
            else if (name === 'source' && inSource) {
                inSource = false;
                if (sourceText.trim() !== '')
                    sourceRoots.push(detach(sourceText.trim()));
            }
        },
        textElements: new Set(['source']),
        text(text) {
            if (inSource)
                sourceText += text;
        },
    });
    const parsed = files.finish();
    const note = headerDisagreement(header, files.counted.result());
    return { file, format: 'cobertura', files: parsed, sourceRoots, ...(note ? { notes: [note] } : {}) };
}
/**
 * The root element's lines-valid/lines-covered and branches-valid/branches-covered against the counts of the
 * per-line detail. Writers disagree with themselves (Istanbul's header counts statements, its lines one per line),
 * and the gate uses the detail: a reader comparing with the header must be told why the numbers differ.
 */
function headerDisagreement(header, detail) {
    const differs = [];
    const compare = (what, valid, covered, count) => {
        const total = Number(header[valid]);
        const hit = Number(header[covered]);
        if (header[valid] === undefined || header[covered] === undefined || !Number.isFinite(total + hit))
            return;
        if (total !== count.total || hit !== count.covered) {
            differs.push(`${what} ${hit}/${total} in the header, ${count.covered}/${count.total} in the detail`);
        }
    };
    compare('lines', 'lines-valid', 'lines-covered', detail.lines);
    compare('branches', 'branches-valid', 'branches-covered', detail.branches);
    if (differs.length === 0)
        return undefined;
    return `The Cobertura header disagrees with the per-line detail (${differs.join('; ')}); the gate counts the detail.`;
}

;// CONCATENATED MODULE: ./actions/coverage-gate/formats/go.ts





const BLOCK = /^(.+):(\d+)\.(\d+),(\d+)\.(\d+) (\d+) (\d+)$/;
/**
 * Go cover profiles (`go test -coverprofile`). `go tool cover -func` weighs each block by its statement count,
 * so every statement of a block becomes one statement here; a block repeated by several test binaries
 * (-coverpkg) adds its hits, as `go tool cover` does.
 */
async function parseGoProfile(file, chunks, files = new ReportFiles()) {
    let sawMode = false;
    // A profile lists a file's blocks together; the file closes when the next file's blocks start.
    let target;
    await forEachLine(file, chunks, (text, line) => {
        if (text.trim() === '')
            return;
        if (!sawMode) {
            if (!/^mode: (set|count|atomic)$/.test(text.trim())) {
                throw new ReportError(file, `malformed Go cover profile: expected 'mode: set|count|atomic'`, line);
            }
            sawMode = true;
            return;
        }
        // Profiles concatenated from several packages repeat the mode line.
        if (text.startsWith('mode: '))
            return;
        const match = BLOCK.exec(text.trim());
        if (!match)
            throw new ReportError(file, `malformed Go cover profile block '${untrusted_text_excerpt(text)}'`, line);
        const [, path, startLine, startCol, endLine, endCol, statements, hits] = match;
        if (target?.path !== path) {
            if (target)
                files.close(target);
            target = files.get(path);
        }
        target.statements ??= new Map();
        const block = detach(`${startLine}.${startCol},${endLine}.${endCol}`);
        const n = Number(hits);
        for (let i = 0; i < Number(statements); i++) {
            const key = `${block}#${i}`;
            target.statements.set(key, (target.statements.get(key) ?? 0) + n);
        }
        if (Number(statements) > 0) {
            for (let l = Number(startLine); l <= Number(endLine); l++)
                addLine(target, l, n);
        }
    });
    if (!sawMode)
        throw new ReportError(file, 'empty Go cover profile (no mode line)');
    return { file, format: 'go', files: files.finish() };
}

;// CONCATENATED MODULE: ./actions/coverage-gate/formats/jacoco.ts





/**
 * JaCoCo XML. A source line counts as a line when it has instructions (mi + ci > 0), covered when one ran,
 * exactly as JaCoCo's LINE counter; its branches are mb + cb. Methods come from the classes' METHOD counters.
 */
async function parseJacoco(file, chunks, files = new ReportFiles()) {
    let root = '';
    let packageName = '';
    let current;
    let classSource;
    let method;
    // A package lists its classes (with their methods) before its source files: a file stays open from its first
    // method to the end of its <sourcefile>.
    const fileFor = (path) => files.get(path);
    await scanReport(file, chunks, {
        open(tag) {
            if (root === '') {
                root = tag.name;
                if (root !== 'report')
                    throw new ReportError(file, `not a JaCoCo report (root element <${root}>)`, tag.line);
                return;
            }
            switch (tag.name) {
                case 'line': {
                    if (!current)
                        return;
                    const a = attributesOf(tag);
                    const nr = count(file, a.nr, "line 'nr'", tag.line);
                    const mi = count(file, a.mi ?? '0', "line 'mi'", tag.line);
                    const ci = count(file, a.ci ?? '0', "line 'ci'", tag.line);
                    const mb = count(file, a.mb ?? '0', "line 'mb'", tag.line);
                    const cb = count(file, a.cb ?? '0', "line 'cb'", tag.line);
                    if (mi + ci > 0)
                        addLine(current, nr, ci);
                    if (mb + cb > 0)
                        setBranchCounts(current, nr, cb, mb + cb);
                    return;
                }
                case 'package':
                    packageName = attributesOf(tag).name ?? '';
                    return;
                case 'sourcefile': {
                    const name = attributesOf(tag).name;
                    if (!name)
                        throw new ReportError(file, '<sourcefile> without a name', tag.line);
                    current = fileFor(packageName ? `${packageName}/${name}` : name);
                    return;
                }
                case 'class': {
                    const a = attributesOf(tag);
                    classSource = a.sourcefilename
                        ? packageName
                            ? `${packageName}/${a.sourcefilename}`
                            : a.sourcefilename
                        : undefined;
                    return;
                }
                case 'method': {
                    const a = attributesOf(tag);
                    method = detach(`${a.name}${a.desc ?? ''}@${a.line ?? ''}`);
                    return;
                }
                case 'counter': {
                    if (!method || !classSource)
                        return;
                    const a = attributesOf(tag);
                    if (a.type !== 'METHOD')
                        return;
                    const target = fileFor(classSource);
                    target.functions ??= new Map();
                    target.functions.set(method, count(file, a.covered, "counter 'covered'", tag.line));
                    return;
                }
            }
        },
        close(name) {
            if (name === 'sourcefile' && current) {
                files.close(current);
                current = undefined;
            }
            else if (name === 'method')
                method = undefined;
            else if (name === 'class')
                classSource = undefined;
            else if (name === 'package')
                packageName = '';
        },
    });
    return { file, format: 'jacoco', files: files.finish() };
}

;// CONCATENATED MODULE: ./actions/coverage-gate/formats/json-members.ts


/**
 * Streams the members of a JSON document's top-level object one at a time: each member's value is cut out of the
 * bytes and parsed on its own, so a coverage-final.json of several hundred MB (more than V8 can hold as one string)
 * takes the memory of its largest file entry. The members of the objects named in `nested` (coverage.py's `files`)
 * are streamed one at a time in the same way, with their parent's key in `parent`.
 *
 * The skeleton (braces, keys, colons, commas) is checked here; each value is checked by JSON.parse. Errors name the
 * line, as a report error of `file`.
 */
async function forEachJsonMember(file, chunks, nested, onMember) {
    const fail = (message, at) => {
        throw new ReportError(file, `malformed JSON: ${message}`, at);
    };
    // Where the skeleton is: before the top-level object, expecting a key (or the end of an object), a colon, a
    // value, a comma (or the end), or after the top-level object.
    let phase = 'start';
    let line = 1;
    let bom = 0;
    /** The key of the top-level member whose members are being streamed, when inside it. */
    let parent;
    let key = '';
    // A string (key) or value being cut out: its bytes so far and the scanner's state inside it.
    let parts = [];
    let reading;
    let startLine = 0;
    let depth = 0;
    let inString = false;
    let escaped = false;
    let scalar = false;
    const finishValue = () => {
        const text = Buffer.concat(parts).toString('utf8');
        parts = [];
        reading = undefined;
        let value;
        try {
            value = JSON.parse(text);
        }
        catch (error) {
            // Node's messages differ between versions (a position, a line, or neither): the line is found here.
            const message = error.message.replace(/\s*\((line \d+ column \d+)\)|\s*in JSON at position \d+/g, '');
            const offset = syntaxErrorAt(text);
            const at = startLine + (text.slice(0, Math.max(0, offset)).match(/\n/g)?.length ?? 0);
            fail(`${message} (in the value of '${untrusted_text_excerpt(key)}')`, at);
        }
        onMember(key, value, parent);
        phase = 'next';
    };
    for await (const chunk of chunks) {
        const n = chunk.length;
        let i = 0;
        // A UTF-8 byte order mark before the document.
        while (phase === 'start' && bom < 3 && i < n && chunk[i] === [0xef, 0xbb, 0xbf][bom]) {
            i++;
            bom++;
        }
        while (i < n) {
            if (reading !== undefined) {
                const from = i;
                let end = -1;
                if (scalar) {
                    for (; i < n; i++) {
                        const b = chunk[i];
                        if (b === 44 || b === 125 || b === 93 || b === 32 || b === 10 || b === 13 || b === 9) {
                            end = i;
                            break;
                        }
                    }
                }
                else {
                    for (; i < n; i++) {
                        const b = chunk[i];
                        if (inString) {
                            if (escaped)
                                escaped = false;
                            else if (b === 92)
                                escaped = true;
                            else if (b === 34) {
                                inString = false;
                                if (depth === 0) {
                                    end = i + 1;
                                    break;
                                }
                            }
                            else if (b === 10)
                                line++;
                            continue;
                        }
                        if (b === 34)
                            inString = true;
                        else if (b === 123 || b === 91)
                            depth++;
                        else if (b === 125 || b === 93) {
                            if (--depth === 0) {
                                end = i + 1;
                                break;
                            }
                        }
                        else if (b === 10)
                            line++;
                    }
                }
                if (end === -1) {
                    parts.push(chunk.subarray(from));
                    break;
                }
                parts.push(chunk.subarray(from, end));
                i = end;
                if (reading === 'key') {
                    const text = Buffer.concat(parts).toString('utf8');
                    parts = [];
                    reading = undefined;
                    try {
                        key = JSON.parse(text);
                    }
                    catch {
                        fail(`the key ${text.slice(0, 40)} is not a valid string`, line);
                    }
                    phase = 'colon';
                }
                else
                    finishValue();
                continue;
            }
            const b = chunk[i];
            if (b === 32 || b === 9 || b === 13) {
                i++;
                continue;
            }
            if (b === 10) {
                line++;
                i++;
                continue;
            }
            const c = String.fromCharCode(b);
            switch (phase) {
                case 'start':
                    if (b !== 123)
                        fail(`expected '{' at the start, found '${c}'`, line);
                    phase = 'first-key';
                    i++;
                    break;
                case 'first-key':
                case 'key':
                    if (b === 125 && phase === 'first-key') {
                        // The end of an empty object.
                        i++;
                        if (parent !== undefined) {
                            parent = undefined;
                            phase = 'next';
                        }
                        else
                            phase = 'done';
                        break;
                    }
                    if (b !== 34)
                        fail(`expected a key in double quotes, found '${c}'`, line);
                    reading = 'key';
                    inString = true;
                    escaped = false;
                    depth = 0;
                    scalar = false;
                    parts = [chunk.subarray(i, i + 1)];
                    i++;
                    break;
                case 'colon':
                    if (b !== 58)
                        fail(`expected ':' after the key '${untrusted_text_excerpt(key)}', found '${c}'`, line);
                    phase = 'value';
                    i++;
                    break;
                case 'value':
                    if (parent === undefined && b === 123 && nested(key)) {
                        parent = key;
                        phase = 'first-key';
                        i++;
                        break;
                    }
                    reading = 'value';
                    startLine = line;
                    depth = 0;
                    escaped = false;
                    inString = false;
                    scalar = b !== 123 && b !== 91 && b !== 34;
                    if (scalar && b === 44)
                        fail(`expected a value for '${untrusted_text_excerpt(key)}', found ','`, line);
                    if (scalar && (b === 125 || b === 93))
                        fail(`expected a value for '${untrusted_text_excerpt(key)}', found '${c}'`, line);
                    break;
                case 'next':
                    if (b === 44)
                        phase = 'key';
                    else if (b === 125) {
                        if (parent !== undefined)
                            parent = undefined;
                        else
                            phase = 'done';
                    }
                    else
                        fail(`expected ',' or '}' after the value of '${untrusted_text_excerpt(key)}', found '${c}'`, line);
                    i++;
                    break;
                case 'done':
                    fail(`unexpected '${c}' after the end of the document`, line);
            }
        }
    }
    if (phase !== 'done' || reading !== undefined)
        fail('unexpected end of the document (was it cut short?)', line);
}
/** Where a JSON text stops being valid JSON (-1 when it is valid); only used to name the line of an error. */
function syntaxErrorAt(text) {
    let i = 0;
    const space = () => {
        while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r'))
            i++;
    };
    const string = () => {
        for (i++; i < text.length;) {
            const c = text[i];
            if (c === '"') {
                i++;
                return true;
            }
            if (c < ' ')
                return false;
            i += c === '\\' ? 2 : 1;
        }
        return false;
    };
    const members = (close, member) => {
        i++;
        space();
        if (text[i] === close) {
            i++;
            return true;
        }
        for (;;) {
            if (!member())
                return false;
            space();
            if (text[i] === close) {
                i++;
                return true;
            }
            if (text[i] !== ',')
                return false;
            i++;
        }
    };
    const value = () => {
        space();
        const c = text[i];
        if (c === '{') {
            return members('}', () => {
                space();
                if (text[i] !== '"' || !string())
                    return false;
                space();
                if (text[i] !== ':')
                    return false;
                i++;
                return value();
            });
        }
        if (c === '[')
            return members(']', value);
        if (c === '"')
            return string();
        const literal = /^(-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 64));
        if (!literal)
            return false;
        i += literal[0].length;
        return true;
    };
    if (value()) {
        space();
        if (i === text.length)
            return -1;
    }
    return i;
}

;// CONCATENATED MODULE: ./actions/coverage-gate/formats/json-reports.ts




function isObject(value) {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}
function numberList(file, where, value) {
    if (value === undefined)
        return [];
    if (!Array.isArray(value) || !value.every((n) => Number.isInteger(n))) {
        throw new ReportError(file, `${where} must be a list of line numbers`);
    }
    return value;
}
/**
 * coverage.py's JSON report. Executed and missing lines are the statements; with --branch, each line's arcs
 * (executed and missing) are its branches, ordered by destination so that two reports merge arc by arc.
 */
function parseCoveragePyJson(file, data, files = new ReportFiles()) {
    if (!isObject(data) || !isObject(data.files))
        throw new ReportError(file, "coverage.py JSON without a 'files' object");
    for (const [path, entry] of Object.entries(data.files))
        addCoveragePyFile(file, files, path, entry);
    return { file, format: 'coveragepy-json', files: files.finish() };
}
/** One entry of coverage.py JSON's `files`: its lines and, with --branch, its arcs. */
function addCoveragePyFile(file, files, path, entry) {
    if (!isObject(entry))
        throw new ReportError(file, `files['${untrusted_text_excerpt(path)}'] is not an object`);
    const target = files.get(path);
    let executed = numberList(file, `files['${untrusted_text_excerpt(path)}'].executed_lines`, entry.executed_lines);
    const missing = numberList(file, `files['${untrusted_text_excerpt(path)}'].missing_lines`, entry.missing_lines);
    // executed_lines can hold lines that ran but are not statements (docstrings); the summary's counts are
    // coverage.py's own, so surplus executed lines are dropped, lowest first (a module docstring is line 1).
    const summary = isObject(entry.summary) ? entry.summary : undefined;
    const statements = Number(summary?.num_statements);
    if (Number.isInteger(statements) && executed.length + missing.length > statements) {
        const surplus = executed.length + missing.length - statements;
        const sources = new Set();
        for (const key of ['executed_branches', 'missing_branches']) {
            const arcs = entry[key];
            if (Array.isArray(arcs))
                for (const arc of arcs)
                    if (Array.isArray(arc))
                        sources.add(Number(arc[0]));
        }
        const droppable = executed.filter((l) => !sources.has(l)).slice(0, surplus);
        executed = executed.filter((l) => !droppable.includes(l));
    }
    for (const line of executed)
        target.lines.set(line, 1);
    for (const line of missing)
        target.lines.set(line, 0);
    const arcs = new Map();
    const addArcs = (key, hit) => {
        const list = entry[key];
        if (list === undefined)
            return;
        if (!Array.isArray(list))
            throw new ReportError(file, `files['${untrusted_text_excerpt(path)}'].${key} must be a list of [from, to] arcs`);
        for (const arc of list) {
            if (!Array.isArray(arc) || arc.length !== 2 || !arc.every((n) => Number.isInteger(n))) {
                throw new ReportError(file, `files['${untrusted_text_excerpt(path)}'].${key} must be a list of [from, to] arcs`);
            }
            const [from, to] = arc;
            let lineArcs = arcs.get(from);
            if (!lineArcs)
                arcs.set(from, (lineArcs = new Map()));
            // coverage.py 6 can list an executed arc several times; an arc is one branch.
            lineArcs.set(to, Math.max(lineArcs.get(to) ?? 0, hit));
        }
    };
    addArcs('executed_branches', 1);
    addArcs('missing_branches', 0);
    trimToSummary(arcs, summary);
    for (const [line, lineArcs] of [...arcs.entries()].sort((a, b) => a[0] - b[0])) {
        const sorted = [...lineArcs.entries()].sort((a, b) => a[0] - b[0]);
        addBranches(target, line, sorted.map(([, hit]) => hit), sorted.map(([to]) => `${to}`));
    }
    files.close(target);
}
/**
 * On Python 3.11 coverage.py 6 lists executed arcs its static analysis does not count as branches (a
 * comprehension's own exit, a loop back to itself), so the arcs add up to more than the file's summary. The
 * summary is coverage.py's number: surplus executed arcs are dropped from the lines with the most arcs,
 * self-references first, until the counts agree.
 */
function trimToSummary(arcs, summary) {
    const total = Number(summary?.num_branches);
    const covered = Number(summary?.covered_branches);
    if (!Number.isInteger(total) || !Number.isInteger(covered))
        return;
    let count = 0;
    for (const lineArcs of arcs.values())
        count += lineArcs.size;
    for (let surplus = count - total; surplus > 0; surplus--) {
        let best;
        for (const [line, lineArcs] of arcs) {
            const executed = [...lineArcs.values()].filter((h) => h > 0).length;
            if (executed > 0 && (!best || lineArcs.size > best[1].size))
                best = [line, lineArcs];
        }
        if (!best)
            return;
        const [line, lineArcs] = best;
        const executedTargets = [...lineArcs.entries()].filter(([, h]) => h > 0).map(([to]) => to);
        const victim = executedTargets.find((to) => to === line || to === -line) ??
            executedTargets.find((to) => to < 0) ??
            executedTargets[executedTargets.length - 1];
        lineArcs.delete(victim);
    }
}
function locationKey(loc) {
    if (!loc?.start || !loc.end)
        return '?';
    return `${loc.start.line}:${loc.start.column}-${loc.end.line}:${loc.end.column}`;
}
/**
 * Istanbul's coverage-final.json (nyc, jest, c8, vitest). Lines are derived as Istanbul does: the hits of a line
 * are the highest hits of the statements starting on it. Statements and functions are keyed by location so the
 * same file from two runs merges as istanbul-lib-coverage merges it.
 */
function parseIstanbulJson(file, data, files = new ReportFiles()) {
    if (!isObject(data))
        throw new ReportError(file, 'Istanbul coverage JSON must be an object keyed by file');
    for (const [key, raw] of Object.entries(data))
        addIstanbulFile(file, files, key, raw);
    return { file, format: 'istanbul-json', files: files.finish() };
}
/** Whether a member of a JSON object is one file of Istanbul's coverage-final.json. */
function isIstanbulEntry(value) {
    return (isObject(value) && (isObject(value.statementMap) || (isObject(value.data) && isObject(value.data.statementMap))));
}
/** One file of coverage-final.json: statements, functions and branches, and lines derived as Istanbul does. */
function addIstanbulFile(file, files, key, raw) {
    // jest < 24 wrapped each file's coverage in { data: … }.
    const entry = isObject(raw) && isObject(raw.data) && !raw.statementMap ? raw.data : raw;
    if (!isObject(entry) || !isObject(entry.statementMap) || !isObject(entry.s)) {
        throw new ReportError(file, `'${untrusted_text_excerpt(key)}' has no statementMap/s: not Istanbul coverage-final.json`);
    }
    const path = typeof entry.path === 'string' ? entry.path : key;
    const target = files.get(path);
    target.statements = new Map();
    target.functions = new Map();
    const statementMap = entry.statementMap;
    for (const [id, hits] of Object.entries(entry.s)) {
        const loc = statementMap[id];
        if (!loc)
            continue;
        target.statements.set(locationKey(loc), Number(hits));
        const line = loc.start.line;
        const previous = target.lines.get(line);
        if (previous === undefined || previous < Number(hits))
            target.lines.set(line, Number(hits));
    }
    const fnMap = (isObject(entry.fnMap) ? entry.fnMap : {});
    for (const [id, hits] of Object.entries((isObject(entry.f) ? entry.f : {}))) {
        const fn = fnMap[id];
        target.functions.set(`${fn?.name ?? id}@${locationKey(fn?.decl ?? fn?.loc)}`, Number(hits));
    }
    const branchMap = (isObject(entry.branchMap) ? entry.branchMap : {});
    for (const [id, hits] of Object.entries((isObject(entry.b) ? entry.b : {}))) {
        const branch = branchMap[id];
        if (!Array.isArray(hits))
            throw new ReportError(file, `'${untrusted_text_excerpt(key)}'.b['${id}'] must be a list of hit counts`);
        const line = branch?.line || branch?.loc?.start.line || branch?.locations?.[0]?.start.line || 0;
        const where = locationKey(branch?.loc ?? branch?.locations?.[0]);
        addBranches(target, line, hits.map(Number), hits.map((_, i) => `${where}#${i}`));
    }
    files.close(target);
}
function readCount(file, where, value) {
    if (value === undefined)
        return undefined;
    if (!isObject(value) || !Number.isInteger(value.total) || !Number.isInteger(value.covered)) {
        throw new ReportError(file, `${where} must have whole-number 'total' and 'covered'`);
    }
    return { covered: value.covered, total: value.total };
}
/**
 * Istanbul's coverage-summary.json: counts only, per file and in 'total'. Per-file entries are used (so that a
 * file also present in another report can be recognised); a summary with only 'total' is taken as one entry.
 */
function parseIstanbulSummary(file, data) {
    if (!isObject(data) || !isObject(data.total))
        throw new ReportError(file, "coverage-summary.json without a 'total' entry");
    const summaries = new Map();
    const entries = Object.entries(data).filter(([key]) => key !== 'total');
    for (const [key, value] of entries.length > 0 ? entries : [['(total)', data.total]]) {
        if (!isObject(value))
            throw new ReportError(file, `'${untrusted_text_excerpt(key)}' is not an object`);
        const lines = readCount(file, `'${untrusted_text_excerpt(key)}'.lines`, value.lines);
        if (!lines)
            throw new ReportError(file, `'${untrusted_text_excerpt(key)}' has no 'lines' counts`);
        summaries.set(key, {
            lines,
            statements: readCount(file, `'${untrusted_text_excerpt(key)}'.statements`, value.statements),
            functions: readCount(file, `'${untrusted_text_excerpt(key)}'.functions`, value.functions),
            branches: readCount(file, `'${untrusted_text_excerpt(key)}'.branches`, value.branches),
        });
    }
    return { file, format: 'istanbul-summary', files: new Map(), summaries };
}

;// CONCATENATED MODULE: ./actions/coverage-gate/formats/lcov.ts





const digits = { value: 0, next: 0 };
/** The digits at `i`, or undefined when there are none or too many to be exact. */
function readDigits(bytes, i, end) {
    let value = 0;
    const from = i;
    for (; i < end && bytes[i] >= 48 && bytes[i] <= 57; i++)
        value = value * 10 + (bytes[i] - 48);
    if (i === from || i - from > 15)
        return undefined;
    digits.value = value;
    digits.next = i;
    return digits;
}
/**
 * LCOV tracefiles (geninfo, Istanbul, c8, grcov…). Totals are recounted from DA, BRDA and FN/FNDA records;
 * the LF/LH, BRF/BRH and FNF/FNH summary records are not trusted over the detail they summarise.
 */
async function parseLcov(file, chunks, files = new ReportFiles()) {
    let current;
    // Block and branch numbers repeat on every line: one shared string per pair instead of millions.
    const ids = new Map();
    const branchId = (block, branch) => {
        const id = `${block},${branch}`;
        let shared = ids.get(id);
        if (shared === undefined) {
            shared = detach(id);
            if (ids.size < 10_000)
                ids.set(shared, shared);
        }
        return shared;
    };
    const fail = (message, line) => {
        throw new ReportError(file, `malformed LCOV: ${message}`, line);
    };
    const number = (text, what, line) => {
        const n = Number(text);
        if (text === '' || !Number.isFinite(n) || n < 0)
            fail(`${what} must be a non-negative number; got '${untrusted_text_excerpt(text)}'`, line);
        return Math.round(n);
    };
    const inRecord = (key, line) => {
        if (!current)
            return fail(`${key} outside a record (no SF: before it)`, line);
        return current;
    };
    // Istanbul (jest, c8) names a function after what it is assigned to, so two default parameters `setSecret = () =>`
    // in one file are two FN records with one name, each with its FNDA, in the same order. Counting the k-th of a name
    // as its own function keeps both, as Istanbul's own totals do; geninfo's names are unique and read as before.
    const declared = new Map();
    const counted = new Map();
    const nth = (seen, name) => {
        const k = (seen.get(name) ?? 0) + 1;
        seen.set(name, k);
        return k === 1 ? name : `${name}\u0000${k}`;
    };
    // Block/branch pairs by number, for the byte path.
    const numericIds = new Map();
    /**
     * DA:<line>,<hits> and BRDA:<line>,<block>,<branch>,<taken> are nearly every line of a tracefile: they are read
     * from the bytes in place. Anything unusual (a checksum, a sign, a decimal) goes to the careful text path.
     */
    const fast = (bytes, start, end) => {
        if (!current)
            return false;
        if (bytes[start] === 68 && bytes[start + 1] === 65 && bytes[start + 2] === 58) {
            const line = readDigits(bytes, start + 3, end);
            if (!line || bytes[line.next] !== 44)
                return false;
            const lineNumber = line.value;
            const hits = readDigits(bytes, line.next + 1, end);
            if (!hits || hits.next !== end)
                return false;
            addLine(current, lineNumber, hits.value);
            return true;
        }
        if (bytes[start] === 66 &&
            bytes[start + 1] === 82 &&
            bytes[start + 2] === 68 &&
            bytes[start + 3] === 65 &&
            bytes[start + 4] === 58) {
            const values = [];
            let i = start + 5;
            for (let n = 0; n < 3; n++) {
                const d = readDigits(bytes, i, end);
                if (!d || bytes[d.next] !== 44)
                    return false;
                values.push(d.value);
                i = d.next + 1;
            }
            // '-': the block was never reached, so the branch was not taken.
            let taken = 0;
            if (!(bytes[i] === 45 && i + 1 === end)) {
                const d = readDigits(bytes, i, end);
                if (!d || d.next !== end)
                    return false;
                taken = d.value;
            }
            const key = values[1] * 1_000_003 + values[2];
            let id = numericIds.get(key);
            if (id === undefined) {
                id = branchId(String(values[1]), String(values[2]));
                if (numericIds.size < 10_000)
                    numericIds.set(key, id);
            }
            addBranchHit(current, values[0], taken, id);
            return true;
        }
        return false;
    };
    await forEachLine(file, chunks, (text, line) => {
        if (text === '' || text.trim() === '')
            return;
        const colon = text.indexOf(':');
        const key = colon === -1 ? text.trim() : text.slice(0, colon);
        const value = colon === -1 ? '' : text.slice(colon + 1);
        switch (key) {
            case 'DA': {
                const target = inRecord(key, line);
                // DA:<line>,<hits>[,<checksum>], read without split(): there is one per line of code.
                const comma = value.indexOf(',');
                if (comma === -1)
                    fail(`DA needs line,hits; got '${untrusted_text_excerpt(text)}'`, line);
                const end = value.indexOf(',', comma + 1);
                addLine(target, number(value.slice(0, comma), 'DA line', line), number(value.slice(comma + 1, end === -1 ? undefined : end), 'DA hits', line));
                return;
            }
            case 'BRDA': {
                const target = inRecord(key, line);
                const parts = value.split(',');
                if (parts.length < 4)
                    fail(`BRDA needs line,block,branch,taken; got '${untrusted_text_excerpt(text)}'`, line);
                // '-' means the block was never reached: the branch exists and was not taken.
                const taken = parts[3] === '-' ? 0 : number(parts[3], 'BRDA taken', line);
                addBranches(target, number(parts[0], 'BRDA line', line), [taken], [branchId(parts[1], parts[2])]);
                return;
            }
            case 'SF': {
                if (value.trim() === '')
                    fail('SF without a path', line);
                declared.clear();
                counted.clear();
                if (current)
                    files.close(current);
                current = files.get(value.trim());
                return;
            }
            case 'FN': {
                const target = inRecord(key, line);
                // FN:<line>,<name> or, since lcov 2.0, FN:<line>,<end line>,<name>.
                const name = nth(declared, value.slice(value.lastIndexOf(',') + 1));
                target.functions ??= new Map();
                if (!target.functions.has(name))
                    target.functions.set(detach(name), 0);
                return;
            }
            case 'FNDA': {
                const target = inRecord(key, line);
                const comma = value.indexOf(',');
                if (comma === -1)
                    fail(`FNDA needs hits,name; got '${untrusted_text_excerpt(text)}'`, line);
                const name = nth(counted, value.slice(comma + 1));
                target.functions ??= new Map();
                const hits = number(value.slice(0, comma), 'FNDA hits', line);
                const previous = target.functions.get(name);
                target.functions.set(previous === undefined ? detach(name) : name, Math.max(previous ?? 0, hits));
                return;
            }
            case 'end_of_record':
                if (current)
                    files.close(current);
                current = undefined;
                return;
            case 'TN':
            case 'VER':
            case 'LF':
            case 'LH':
            case 'BRF':
            case 'BRH':
            case 'FNF':
            case 'FNH':
            case 'FNL':
            case 'FNA':
            case 'MCDC':
                return;
            default:
                fail(`unknown record '${text.slice(0, 40)}'`, line);
        }
    }, fast);
    return { file, format: 'lcov', files: files.finish() };
}

;// CONCATENATED MODULE: ./actions/coverage-gate/formats/read-report.ts











/** What the first bytes say; 'json' still needs the parsed value to tell its kind apart. */
function sniffFormat(head) {
    const text = head.replace(/^\uFEFF/, '').trimStart();
    if (text.startsWith('{'))
        return 'json';
    if (text.startsWith('<')) {
        const root = /<([A-Za-z_][\w.:-]*)([^>]*)>/.exec(text.replace(/<!--[\s\S]*?-->/g, '').replace(/<[?!][^>]*>/g, ''));
        if (!root)
            return undefined;
        if (root[1] === 'report')
            return 'jacoco';
        if (root[1] !== 'coverage')
            return undefined;
        return /\bclover\s*=/.test(root[2]) || /<project[\s>]/.test(text) ? 'clover' : 'cobertura';
    }
    const firstLine = text.split('\n', 1)[0].trim();
    if (/^mode: (set|count|atomic)$/.test(firstLine))
        return 'go';
    if (/^(TN|SF|VER):/.test(firstLine))
        return 'lcov';
    return undefined;
}
function jsonFormat(data) {
    if (!isObject(data))
        return undefined;
    if (isObject(data.meta) && isObject(data.files))
        return 'coveragepy-json';
    if (isObject(data.total) && isObject(data.total.lines))
        return 'istanbul-summary';
    return Object.values(data).every(isIstanbulEntry) ? 'istanbul-json' : undefined;
}
const JSON_FORMATS = ['coveragepy-json', 'istanbul-json', 'istanbul-summary'];
/**
 * Reads one report, detecting its format from its content unless `format` is given. With `folding`, files whose
 * lines are not needed are folded into their counts as soon as the parser is done with them.
 */
async function readReport(file, format, folding) {
    const files = new ReportFiles(folding);
    const report = await parseReport(file, format, files);
    report.folded = files.folded;
    return report;
}
async function parseReport(file, format, files) {
    const chunks = readChunks(file);
    const first = await chunks.next();
    // Enough to sniff: a character cut at the end of the first read does not matter here.
    const head = first.done ? '' : first.value.toString('utf8', 0, Math.min(first.value.length, 65536));
    if (first.done || head.trim() === '') {
        throw new ReportError(file, 'the file is empty (did the tests run and write their coverage?)');
    }
    const sniffed = sniffFormat(head);
    if (format === undefined && sniffed === undefined) {
        throw new ReportError(file, `unknown format: not Cobertura, JaCoCo or Clover XML, LCOV, a Go cover profile or coverage JSON; set 'format' to one of ${REPORT_FORMATS.join(', ')}`);
    }
    const all = (async function* () {
        yield first.value;
        yield* chunks;
    })();
    if (sniffed === 'json' || (format && JSON_FORMATS.includes(format)))
        return readJsonReport(file, all, format, files);
    switch (format ?? sniffed) {
        case 'cobertura':
            return parseCobertura(file, decodeChunks(all), files);
        case 'jacoco':
            return parseJacoco(file, decodeChunks(all), files);
        case 'clover':
            return parseClover(file, decodeChunks(all), files);
        case 'lcov':
            return parseLcov(file, all, files);
        default:
            return parseGoProfile(file, all, files);
    }
}
/**
 * JSON reports, streamed member by member (see forEachJsonMember): coverage.py's `files` entries (once `meta` has
 * shown it is coverage.py JSON) and coverage-final.json's file entries are handed to the files one at a time.
 * Anything else (coverage-summary.json, a `files` before `meta`, a document of another kind) is small or unusual:
 * it is gathered and judged whole, as before.
 */
async function readJsonReport(file, chunks, format, files) {
    if (format && !JSON_FORMATS.includes(format)) {
        throw new ReportError(file, `format '${format}' was given but the file is JSON`);
    }
    const rest = {};
    let streamedFiles = false;
    let istanbulFiles = 0;
    const mayBe = (kind) => format === undefined || format === kind;
    await forEachJsonMember(file, chunks, (key) => {
        const stream = key === 'files' && mayBe('coveragepy-json') && (rest.meta !== undefined || format !== undefined);
        if (stream)
            streamedFiles = true;
        return stream;
    }, (key, value, parent) => {
        if (parent !== undefined)
            addCoveragePyFile(file, files, key, value);
        else if (!streamedFiles && mayBe('istanbul-json') && rest.meta === undefined && isIstanbulEntry(value)) {
            addIstanbulFile(file, files, key, value);
            istanbulFiles++;
        }
        else
            rest[key] = value;
    });
    if (streamedFiles && istanbulFiles === 0)
        return { file, format: 'coveragepy-json', files: files.finish() };
    // parseIstanbulJson names the first member that is not a file entry, if any.
    if (istanbulFiles > 0 && !streamedFiles)
        return parseIstanbulJson(file, rest, files);
    if (istanbulFiles > 0)
        throw new ReportError(file, 'JSON that mixes Istanbul file entries with coverage.py files');
    const kind = format ?? jsonFormat(rest);
    if (kind === 'coveragepy-json')
        return parseCoveragePyJson(file, rest, files);
    if (kind === 'istanbul-json')
        return parseIstanbulJson(file, rest, files);
    if (kind === 'istanbul-summary')
        return parseIstanbulSummary(file, rest);
    throw new ReportError(file, 'JSON that is neither coverage.py JSON, Istanbul coverage-final.json nor coverage-summary.json');
}

;// CONCATENATED MODULE: ./actions/coverage-gate/main.ts



















const GLOB_CHARS = /[*?[\]{}]/;
async function resolveReports(patterns, cwd, edges, input) {
    const found = [];
    for (const pattern of patterns) {
        const matches = await edges.findFiles(pattern, cwd);
        if (matches.length === 0) {
            throw new errors_ConfigurationError(GLOB_CHARS.test(pattern)
                ? `Input '${input}': '${pattern}' matches no file in ${cwd}.`
                : `Input '${input}': no such file '${untrusted_text_excerpt(pattern)}' (looked in ${cwd}).`);
        }
        for (const file of matches.sort())
            if (!found.includes(file))
                found.push(file);
    }
    return found;
}
function pullRequest(event) {
    const pr = event?.pull_request;
    if (!pr || typeof pr.number !== 'number')
        return undefined;
    return { number: pr.number, baseRef: typeof pr.base?.ref === 'string' ? pr.base.ref : undefined };
}
/**
 * Reads the reports keeping per-line counts only for the files in `keep` (the changed files); every other file is
 * folded into sums (in all, by package, by path threshold) as soon as its parser is done with it, and forgotten.
 * A file found twice (in two reports, or twice in one) can then no longer be merged line by line, so the reports
 * are read a second time keeping those files' lines too: memory follows the files that need lines, not the size
 * of the reports.
 */
async function loadReports(files, format, context, workspace, keep, globs, note) {
    const reading = (kept) => new ReportCollector((path, roots) => normalisePath(path, [...roots], context), kept, globs, MAX_FILE_ROWS);
    let collector = reading(keep);
    let reports = await readReports(files, format, workspace, collector);
    if (collector.duplicates.size > 0) {
        const twice = [...collector.duplicates].sort();
        note(`${twice.length} file(s) are listed more than once (${twice.slice(0, 3).join(', ')}${twice.length > 3 ? ', …' : ''}): reading the reports again to merge them line by line.`);
        collector = reading(new Set([...keep, ...twice]));
        reports = await readReports(files, format, workspace, collector);
    }
    const model = mergeReports(reports, (path, report) => collector.key(path, report.sourceRoots ?? []), (key) => collector.wasFolded(key));
    model.folded = collector.sums.result();
    // Only the model is kept: the copies of files that were merged into another report's copy go with the reports.
    return {
        reports: reports.map(summariseReport),
        model,
        unmatched: collector.unmatched.rows(),
        unmatchedCount: collector.unmatchedCount,
    };
}
async function readReports(files, format, workspace, collector) {
    const reports = [];
    for (const file of files) {
        const shown = toPosix((0,external_node_path_.relative)(workspace, file)) || file;
        let report;
        try {
            report = await readReport(file, format, collector);
        }
        catch (error) {
            // The parsers name the absolute path; users know the report by its repository path.
            if (error instanceof ReportError)
                throw new ReportError(shown, error.detail, error.line);
            throw error;
        }
        report.file = shown;
        if (summariseReport(report).files === 0) {
            throw new ReportError(shown, 'lists no source files: the tests measured nothing (check the coverage source settings)');
        }
        reports.push(report);
    }
    return reports;
}
function reportJson(result) {
    const t = result.totals;
    return JSON.stringify({
        metric: result.metric,
        coverage: result.measured.shown,
        covered: result.measured.count.covered,
        total: result.measured.count.total,
        passed: result.passed,
        threshold: result.options.threshold.text,
        rounding: result.options.rounding,
        lines: t.lines,
        branches: t.branches,
        ...(t.statements ? { statements: t.statements } : {}),
        ...(t.functions ? { functions: t.functions } : {}),
        ...(result.diff
            ? {
                diff: {
                    coverage: result.diff.measured.count.total > 0 ? result.diff.measured.shown : null,
                    ...result.diff.measured.count,
                },
            }
            : {}),
        ...(result.baseline ? { baseline: result.baseline.shown } : {}),
        failures: result.failures,
    });
}
async function gate(edges) {
    const { runner } = edges;
    const inputs = readInputs(runner.input);
    const workspace = (0,external_node_path_.resolve)(runner.env.GITHUB_WORKSPACE || process.cwd());
    const cwd = (0,external_node_path_.resolve)(workspace, inputs.workingDirectory);
    // Refused before the tests run: a bad output path is bad input, found before anything is done.
    const badge = inputs.badgePath === undefined ? undefined : outputPath('badge-path', inputs.badgePath, workspace);
    if (inputs.command) {
        runner.startGroup(`Running ${inputs.command}`);
        let code;
        try {
            code = await edges.runCommand(inputs.command, cwd);
        }
        finally {
            runner.endGroup();
        }
        if (code !== 0)
            throw new ActionFailure(`The test command exited with code ${code}; coverage was not read.`);
    }
    const context = {
        workspace: toPosix(workspace),
        workingDirectory: toPosix((0,external_node_path_.relative)(workspace, cwd)).replace(/^\.$/, ''),
        sourceRoots: inputs.sourceRoots.map((r) => (0,external_node_path_.isAbsolute)(r) ? toPosix(r) : toPosix((0,external_node_path_.relative)(workspace, (0,external_node_path_.resolve)(cwd, r)))),
        stripPrefixes: inputs.stripPrefix,
        exists: (path) => edges.fileExists((0,external_node_path_.join)(workspace, path)),
    };
    const files = await resolveReports(inputs.reports, cwd, edges, 'reports');
    // The changed lines come first: the changed files are the ones whose lines the reading keeps.
    const event = edges.readEvent();
    const pr = pullRequest(event);
    const base = inputs.diffBase ??
        ((pr?.baseRef ?? runner.env.GITHUB_BASE_REF) ? `origin/${pr?.baseRef ?? runner.env.GITHUB_BASE_REF}` : undefined);
    let changed;
    if (base) {
        try {
            const diff = await changedLinesSince(edges.git, base);
            diff.notes.forEach((note) => runner.info(note));
            changed = { range: diff.range, lines: diff.changed };
        }
        catch (error) {
            if (inputs.diffThreshold)
                throw new ActionFailure(`Changed-line coverage needs the diff: ${errors_errorMessage(error)}`);
            runner.warning(`No changed-line coverage: ${errors_errorMessage(error)}`);
        }
    }
    else if (inputs.diffThreshold) {
        runner.notice("Input 'diff-threshold' applies to pull requests (or with 'diff-base'); this run has no base to compare with.");
    }
    const note = (message) => runner.info(message);
    const format = inputs.format === 'auto' ? undefined : inputs.format;
    const globs = inputs.pathThresholds.map((p) => p.glob);
    const loaded = await loadReports(files, format, context, workspace, new Set(changed?.lines.keys()), globs, note);
    if (loaded.unmatchedCount > 0) {
        runner.warning(`${loaded.unmatchedCount} file(s) named in the reports are not in the repository, so they cannot be annotated: ${loaded.unmatched.slice(0, 5).join(', ')}${loaded.unmatchedCount > 5 ? ', …' : ''}. Set 'source-roots' or 'strip-prefix'.`);
    }
    let baseline;
    if (inputs.baseline.length > 0) {
        const baselineFiles = await resolveReports(inputs.baseline, cwd, edges, 'baseline');
        baseline = modelTotals((await loadReports(baselineFiles, undefined, context, workspace, new Set(), [], note)).model);
    }
    const result = evaluateGate({
        model: loaded.model,
        reports: loaded.reports,
        unmatched: loaded.unmatched,
        unmatchedCount: loaded.unmatchedCount,
        changed,
        baseline,
    }, {
        metric: inputs.metric,
        threshold: inputs.threshold,
        rounding: inputs.rounding,
        precision: inputs.precision,
        pathThresholds: inputs.pathThresholds,
        diffThreshold: inputs.diffThreshold,
        maxDecrease: inputs.baseline.length > 0 ? inputs.maxDecrease : undefined,
    });
    runner.info(result.verdict);
    // A total that can only be a bound is worth a warning; a header the detail overrides is said in the summary.
    for (const note of summaryOverlapNotes(loaded.model))
        runner.warning(note);
    runner.setOutput('coverage', result.measured.shown);
    runner.setOutput('covered', String(result.measured.count.covered));
    runner.setOutput('total', String(result.measured.count.total));
    runner.setOutput('metric', result.metric);
    runner.setOutput('passed', String(result.passed));
    runner.setOutput('diff-coverage', result.diff && result.diff.measured.count.total > 0 ? result.diff.measured.shown : '');
    runner.setOutput('report-json', reportJson(result));
    const markdown = renderSummary(result, inputs.commentTitle);
    await runner.appendSummary(markdown);
    if (inputs.annotate && result.diff) {
        const planned = planAnnotations(result, inputs.maxAnnotations);
        for (const a of planned.annotations) {
            runner.warning(a.message, {
                title: 'Uncovered change',
                file: a.file,
                startLine: a.startLine,
                endLine: a.endLine,
            });
        }
        if (planned.rest > 0) {
            runner.notice(`${planned.rest} more uncovered changed line range(s) were not annotated (GitHub shows 10 per step); the job summary lists them all.`);
        }
    }
    if (badge) {
        const percent = Number(result.measured.shown);
        const svg = renderBadge('coverage', `${result.measured.shown}%`, badgeColor(percent, Number(inputs.threshold.text), result.measured.passed));
        if (badge.confined)
            checkStillInside('badge-path', badge.path, workspace);
        await edges.writeFile(badge.path, svg);
    }
    if (inputs.comment) {
        const repository = runner.env.GITHUB_REPOSITORY ?? '';
        const [owner, repo] = repository.split('/');
        if (!pr || !owner || !repo)
            runner.info('comment: not a pull request event, so no pull request comment.');
        else if (!inputs.githubToken)
            runner.notice("comment: no 'github-token', so the report is in the job summary only.");
        else {
            const marker = commentMarker(runner.env.GITHUB_WORKFLOW ?? 'workflow', inputs.commentTitle);
            const outcome = await upsertStickyComment(edges.comments(inputs.githubToken, owner, repo, pr.number), marker, markdown);
            if (outcome.kind === 'forbidden') {
                runner.notice(`The token may not comment on pull request #${pr.number} (${outcome.message}); pull requests from forks get a read-only token. The report is in the job summary.`);
            }
            else
                runner.info(`comment: ${outcome.kind} on pull request #${pr.number}`);
        }
    }
    if (!result.passed) {
        if (inputs.failOnError)
            throw new ActionFailure(result.failures.join(' '));
        runner.warning(`${result.failures.join(' ')} (fail-on-error is false, so the step passes)`);
    }
    return result;
}
async function run(edges) {
    await runAction(async () => {
        await gate(edges ?? defaultEdges());
    });
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

/***/ 7030:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:net");

/***/ }),

/***/ 6760:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:path");

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
/******/ var __webpack_exports__ = __nccwpck_require__(8351);
/******/ __webpack_exports__ = await __webpack_exports__;
/******/ 
