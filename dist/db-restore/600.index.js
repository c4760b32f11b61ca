export const id = 600;
export const ids = [600];
export const modules = {

/***/ 99600:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   sdkUploader: () => (/* binding */ sdkUploader)
/* harmony export */ });
/* harmony import */ var _actions_artifact__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(7291);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(76760);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_1___default = /*#__PURE__*/__webpack_require__.n(node_path__WEBPACK_IMPORTED_MODULE_1__);


// Kept apart from artifact.ts so db-restore, which shares inputs.ts, does not bundle the artifact client.
const sdkUploader = () => ({
    async upload(name, file, options) {
        const client = new _actions_artifact__WEBPACK_IMPORTED_MODULE_0__/* .DefaultArtifactClient */ .t9();
        const { id } = await client.uploadArtifact(name, [file], (0,node_path__WEBPACK_IMPORTED_MODULE_1__.dirname)(file), {
            retentionDays: options.retentionDays,
            compressionLevel: options.compressionLevel,
        });
        if (id === undefined)
            throw new Error(`The artifact service did not return an id for ${name}.`);
        return id;
    },
});


/***/ })

};
