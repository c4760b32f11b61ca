export const id = 454;
export const ids = [454];
export const modules = {

/***/ 5454:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   globFiles: () => (/* binding */ globFiles)
/* harmony export */ });
/* harmony import */ var node_fs_promises__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(1455);
/* harmony import */ var node_fs_promises__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_fs_promises__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(6760);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_1___default = /*#__PURE__*/__webpack_require__.n(node_path__WEBPACK_IMPORTED_MODULE_1__);
/* harmony import */ var minimatch__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(3581);
// The files a report pattern names, matched the way @actions/glob matched them here before (one pattern,
// matchDirectories: false, implicitDescendants: false, then files only): with the same minimatch and the same
// options (dot, nobrace, noext, nonegate, nocomment; nocase on Windows), walking node:fs itself, because
// @actions/glob imports @actions/core, whose OIDC client brings undici into every run with a glob in `reports`.
// node:fs's own glob is not used: it came in Node 22 and reads braces and dot files differently.
// Symbolic links are followed; a link back into its own chain, or a broken one, is skipped.



const WINDOWS = process.platform === 'win32';
/** Absolute paths of the files matching `pattern` (relative to `cwd` unless absolute), in no particular order. */
async function globFiles(pattern, cwd) {
    const absolute = (0,node_path__WEBPACK_IMPORTED_MODULE_1__.isAbsolute)(pattern) ? pattern : (0,node_path__WEBPACK_IMPORTED_MODULE_1__.join)(cwd, pattern);
    const { root } = (0,node_path__WEBPACK_IMPORTED_MODULE_1__.parse)(absolute);
    const glob = new minimatch__WEBPACK_IMPORTED_MODULE_2__/* .Minimatch */ .VR(WINDOWS ? absolute.replace(/\\/g, '/') : absolute, {
        dot: true,
        nobrace: true,
        nocase: WINDOWS,
        nocomment: true,
        noext: true,
        nonegate: true,
    });
    // One pattern without braces: one list of parts, the root's first (a '' on POSIX, the drive on Windows).
    const parts = (glob.set[0] ?? []).slice(1).filter((part) => part !== '');
    let start = root;
    let first = 0;
    while (first < parts.length && typeof parts[first] === 'string')
        start = (0,node_path__WEBPACK_IMPORTED_MODULE_1__.join)(start, parts[first++]);
    const matchers = parts
        .slice(first)
        .map((part) => (part === minimatch__WEBPACK_IMPORTED_MODULE_2__/* .GLOBSTAR */ .ZN ? 'globstar' : part));
    const found = new Set();
    await visit(start, 0, matchers, found, []);
    return [...found];
}
/** Walks `path` against matchers[index…]; `chain` holds the real paths of the directories walked into. */
async function visit(path, index, matchers, found, chain) {
    const stats = await statOrUndefined(path);
    if (!stats)
        return;
    if (index === matchers.length) {
        if (stats.isFile())
            found.add(path);
        return;
    }
    const matcher = matchers[index];
    if (matcher === 'globstar')
        await visit(path, index + 1, matchers, found, chain);
    if (!stats.isDirectory())
        return;
    const real = await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_0__.realpath)(path);
    if (chain.includes(real))
        return;
    const inner = [...chain, real];
    for (const name of await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_0__.readdir)(path)) {
        if (matcher === 'globstar')
            await visit((0,node_path__WEBPACK_IMPORTED_MODULE_1__.join)(path, name), index, matchers, found, inner);
        else if (typeof matcher === 'string' ? matcher === name : matcher.test(name))
            await visit((0,node_path__WEBPACK_IMPORTED_MODULE_1__.join)(path, name), index + 1, matchers, found, inner);
    }
}
/** stat through symbolic links; undefined for a broken link or a path gone meanwhile. */
async function statOrUndefined(path) {
    try {
        return await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_0__.stat)(path);
    }
    catch (error) {
        if (error.code === 'ENOENT')
            return undefined;
        throw error;
    }
}


/***/ })

};
