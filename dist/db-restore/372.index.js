export const id = 372;
export const ids = [372];
export const modules = {

/***/ 56372:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   S3ObjectStore: () => (/* binding */ S3ObjectStore)
/* harmony export */ });
/* unused harmony export explainS3Error */
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(77598);
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_crypto__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var node_stream__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(57075);
/* harmony import */ var node_stream__WEBPACK_IMPORTED_MODULE_1___default = /*#__PURE__*/__webpack_require__.n(node_stream__WEBPACK_IMPORTED_MODULE_1__);
/* harmony import */ var _aws_sdk_client_s3__WEBPACK_IMPORTED_MODULE_5__ = __webpack_require__(53711);
/* harmony import */ var _aws_sdk_lib_storage__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(22358);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(79223);
/* harmony import */ var _object_store_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(27055);
// The bucket through the AWS SDK for JavaScript v3. Imported only by openObjectStore (object-store.ts), so the SDK
// is bundled in a chunk of its own that only bucket runs load.






class S3ObjectStore {
    settings;
    where;
    client;
    /** Told the id of each multipart upload the SDK's uploader creates, by key. */
    uploadStarted = new Map();
    constructor(settings) {
        this.settings = settings;
        this.where = (0,_object_store_js__WEBPACK_IMPORTED_MODULE_4__/* .objectUrl */ .bC)(settings);
        this.client = new _aws_sdk_client_s3__WEBPACK_IMPORTED_MODULE_5__.S3Client({
            region: settings.region,
            endpoint: settings.endpoint,
            forcePathStyle: settings.forcePathStyle,
            credentials: settings.credentials,
            maxAttempts: 3,
            // A wrong endpoint fails in seconds, not after the operating system's TCP timeout.
            requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
        });
        // lib-storage's Upload keeps the multipart upload's id to itself; its CreateMultipartUpload answer is read here.
        this.client.middlewareStack.add((next, context) => async (args) => {
            const out = await next(args);
            if (context.commandName === 'CreateMultipartUploadCommand') {
                const key = args.input.Key ?? '';
                const uploadId = out.output.UploadId;
                if (uploadId)
                    this.uploadStarted.get(key)?.(uploadId);
            }
            return out;
        }, { step: 'initialize', name: 'runbookUploadStarted' });
    }
    fail(error, operation) {
        return explainS3Error(error, operation, this.settings, this.where);
    }
    async list() {
        const prefix = this.settings.prefix ? `${this.settings.prefix}/` : '';
        const found = [];
        let token;
        // Bounded: 10,000 pages of 1,000 keys is far more backups than any retention keeps.
        for (let page = 0; page < 10_000; page++) {
            let out;
            try {
                out = await this.client.send(new _aws_sdk_client_s3__WEBPACK_IMPORTED_MODULE_5__.ListObjectsV2Command({
                    Bucket: this.settings.bucket,
                    Prefix: prefix,
                    Delimiter: '/',
                    ContinuationToken: token,
                }));
            }
            catch (error) {
                throw this.fail(error, 'listing');
            }
            for (const item of out.Contents ?? []) {
                if (item.Key && item.Key.length > prefix.length)
                    found.push({ key: item.Key, size: item.Size ?? 0 });
            }
            if (!out.IsTruncated || !out.NextContinuationToken)
                break;
            token = out.NextContinuationToken;
        }
        return found;
    }
    async upload(key, body, metadata, signal, started) {
        if (started)
            this.uploadStarted.set(key, started);
        const hasher = new PartHasher(this.settings.partSize);
        body.on('error', (error) => hasher.destroy(error));
        body.pipe(hasher);
        // Destroying the source (not Upload.abort(), which returns before the abort request is sent) makes the
        // uploader fail, abort the multipart upload and only then reject.
        const onAbort = () => body.destroy(new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .ActionFailure */ .dR('The upload was cancelled.'));
        signal?.addEventListener('abort', onAbort, { once: true });
        const upload = new _aws_sdk_lib_storage__WEBPACK_IMPORTED_MODULE_2__/* .Upload */ ._({
            client: this.client,
            params: {
                Bucket: this.settings.bucket,
                Key: key,
                Body: hasher,
                Metadata: metadata,
                ContentType: 'application/octet-stream',
                // Each part's SHA-256 is sent and checked by the server; the object then carries their composite.
                ChecksumAlgorithm: 'SHA256',
                ServerSideEncryption: this.settings.serverSideEncryption,
                SSEKMSKeyId: this.settings.kmsKeyId,
                StorageClass: this.settings.storageClass,
            },
            partSize: this.settings.partSize,
            queueSize: 2,
            leavePartsOnError: false,
        });
        try {
            await upload.done();
        }
        catch (error) {
            if (error instanceof _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .ActionFailure */ .dR)
                throw error;
            throw this.fail(error, 'upload');
        }
        finally {
            signal?.removeEventListener('abort', onAbort);
            this.uploadStarted.delete(key);
        }
        const sent = hasher.summary();
        const verification = await this.verifyStored(key, sent);
        return { ...sent, verification };
    }
    /**
     * Proves the stored object is what went through: its size, and the SHA-256 checksum the server computed on
     * receipt (whole-object for one part, the composite of the parts' for a multipart upload) against the same
     * value computed here from the bytes. A server that keeps no checksum gets the object read back and hashed.
     */
    async verifyStored(key, sent) {
        let head;
        try {
            head = await this.client.send(new _aws_sdk_client_s3__WEBPACK_IMPORTED_MODULE_5__.HeadObjectCommand({ Bucket: this.settings.bucket, Key: key, ChecksumMode: 'ENABLED' }));
        }
        catch (error) {
            throw this.fail(error, 'reading back the uploaded object');
        }
        const problem = (what) => new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .ActionFailure */ .dR(`The object ${(0,_object_store_js__WEBPACK_IMPORTED_MODULE_4__/* .objectUrl */ .bC)({ bucket: this.settings.bucket, prefix: key })} ${what}.`);
        if (head.ContentLength !== sent.bytes) {
            await this.remove(key).catch(() => undefined);
            throw problem(`holds ${head.ContentLength} bytes where ${sent.bytes} were sent; it was deleted`);
        }
        const stored = head.ChecksumSHA256;
        if (stored) {
            const [digest, count] = stored.split('-');
            const expected = sent.parts === 1 && count === undefined ? sent.wholeBase64 : sent.compositeBase64;
            if (digest !== expected || (count !== undefined && Number(count) !== sent.parts)) {
                await this.remove(key).catch(() => undefined);
                throw problem(`has SHA-256 checksum ${stored} where ${expected} was sent; it was deleted`);
            }
            return sent.parts === 1
                ? `the server's SHA-256 of the object equals the one computed while sending`
                : `the server checked each part's SHA-256 and its composite of the ${sent.parts} parts equals the one computed while sending`;
        }
        const hash = (0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.createHash)('sha256');
        for await (const chunk of await this.download(key))
            hash.update(chunk);
        const readBack = hash.digest('hex');
        if (readBack !== sent.sha256) {
            await this.remove(key).catch(() => undefined);
            throw problem(`reads back with SHA-256 ${readBack} where ${sent.sha256} was sent; it was deleted`);
        }
        return 'the server keeps no SHA-256 checksum, so the object was read back: its SHA-256 equals the dump';
    }
    async putText(key, text) {
        try {
            await this.client.send(new _aws_sdk_client_s3__WEBPACK_IMPORTED_MODULE_5__.PutObjectCommand({
                Bucket: this.settings.bucket,
                Key: key,
                Body: text,
                ContentType: 'text/plain; charset=utf-8',
                ChecksumAlgorithm: 'SHA256',
                ServerSideEncryption: this.settings.serverSideEncryption,
                SSEKMSKeyId: this.settings.kmsKeyId,
            }));
        }
        catch (error) {
            throw this.fail(error, 'writing the checksum file');
        }
    }
    async getText(key) {
        try {
            const out = await this.client.send(new _aws_sdk_client_s3__WEBPACK_IMPORTED_MODULE_5__.GetObjectCommand({ Bucket: this.settings.bucket, Key: key }));
            return await out.Body?.transformToString('utf8');
        }
        catch (error) {
            if (isMissing(error))
                return undefined;
            throw this.fail(error, 'reading');
        }
    }
    async head(key) {
        try {
            const out = await this.client.send(new _aws_sdk_client_s3__WEBPACK_IMPORTED_MODULE_5__.HeadObjectCommand({ Bucket: this.settings.bucket, Key: key }));
            return { size: out.ContentLength ?? 0, metadata: out.Metadata ?? {} };
        }
        catch (error) {
            if (isMissing(error))
                return undefined;
            throw this.fail(error, 'reading');
        }
    }
    async download(key, signal) {
        try {
            const out = await this.client.send(new _aws_sdk_client_s3__WEBPACK_IMPORTED_MODULE_5__.GetObjectCommand({ Bucket: this.settings.bucket, Key: key }), {
                abortSignal: signal,
            });
            return out.Body;
        }
        catch (error) {
            throw this.fail(error, 'downloading');
        }
    }
    async abortUpload(key, uploadId) {
        try {
            await this.client.send(new _aws_sdk_client_s3__WEBPACK_IMPORTED_MODULE_5__.AbortMultipartUploadCommand({ Bucket: this.settings.bucket, Key: key, UploadId: uploadId }));
            return true;
        }
        catch (error) {
            if (error.name === 'NoSuchUpload')
                return false;
            throw this.fail(error, 'aborting the multipart upload of');
        }
    }
    async remove(key) {
        try {
            await this.client.send(new _aws_sdk_client_s3__WEBPACK_IMPORTED_MODULE_5__.DeleteObjectCommand({ Bucket: this.settings.bucket, Key: key }));
        }
        catch (error) {
            throw this.fail(error, 'deleting');
        }
    }
}
function isMissing(error) {
    const name = error.name;
    return name === 'NoSuchKey' || name === 'NotFound';
}
/**
 * Hashes the stream as it passes: the whole (SHA-256 hex, the backup's checksum) and each part at the upload's
 * part boundaries, whose composite (SHA-256 of the parts' binary digests) is what S3 reports for a multipart object.
 */
class PartHasher extends node_stream__WEBPACK_IMPORTED_MODULE_1__.Transform {
    partSize;
    whole = (0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.createHash)('sha256');
    part = (0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.createHash)('sha256');
    inPart = 0;
    bytes = 0;
    digests = [];
    constructor(partSize) {
        super();
        this.partSize = partSize;
    }
    _transform(chunk, _encoding, callback) {
        this.whole.update(chunk);
        this.bytes += chunk.length;
        let offset = 0;
        while (offset < chunk.length) {
            const take = Math.min(this.partSize - this.inPart, chunk.length - offset);
            this.part.update(chunk.subarray(offset, offset + take));
            this.inPart += take;
            offset += take;
            if (this.inPart === this.partSize) {
                this.digests.push(this.part.digest());
                this.part = (0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.createHash)('sha256');
                this.inPart = 0;
            }
        }
        callback(null, chunk);
    }
    summary() {
        // The last part is whatever is left; a stream ending on a boundary has its last full part as the last one.
        const digests = this.inPart > 0 || this.digests.length === 0 ? [...this.digests, this.part.digest()] : this.digests;
        const whole = this.whole.digest();
        return {
            bytes: this.bytes,
            sha256: whole.toString('hex'),
            parts: digests.length,
            wholeBase64: whole.toString('base64'),
            compositeBase64: (0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.createHash)('sha256').update(Buffer.concat(digests)).digest('base64'),
        };
    }
}
const NETWORK_CODES = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH|TimeoutError/;
/** One sentence naming the input to fix, for every way the bucket can say no. Never echoes a secret. */
function explainS3Error(error, operation, settings, where) {
    const e = error;
    const name = e.name ?? 'Error';
    const status = e.$metadata?.httpStatusCode;
    const fromEnvironment = `(or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in the environment)`;
    if (name === 'InvalidAccessKeyId')
        return new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .ConfigurationError */ .j1(`Input 's3-access-key-id' ${fromEnvironment}: the storage service does not know this access key (${operation} ${where}).`);
    if (name === 'SignatureDoesNotMatch')
        return new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .ConfigurationError */ .j1(`Input 's3-secret-access-key' ${fromEnvironment}: the storage service rejected the request signature, so the secret key is wrong (${operation} ${where}).`);
    if (name === 'CredentialsProviderError' || /Could not load credentials/.test(e.message ?? ''))
        return new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .ConfigurationError */ .j1(`No credentials for ${where}: set inputs 's3-access-key-id' and 's3-secret-access-key', or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment (aws-actions/configure-aws-credentials sets them).`);
    if (name === 'NoSuchBucket')
        return new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .ConfigurationError */ .j1(`Input '${settings.input}': the bucket '${settings.bucket}' does not exist${settings.endpoint ? ` at ${settings.endpoint}` : ''}.`);
    if (name === 'AuthorizationHeaderMalformed' || name === 'PermanentRedirect' || status === 301)
        return new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .ConfigurationError */ .j1(`Input 's3-region': the bucket '${settings.bucket}' is not in region '${settings.region}' (${operation} ${where}: ${name}).`);
    if (name === 'AccessDenied' || status === 403)
        return new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .ActionFailure */ .dR(`Access denied while ${operation} ${where}: the credentials lack the permission for it (${name}).`);
    if (NETWORK_CODES.test(`${name} ${e.code ?? ''} ${e.message ?? ''}`))
        return new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .ConfigurationError */ .j1(`Input 's3-endpoint': cannot reach ${settings.endpoint ?? `AWS S3 in ${settings.region}`} (${(e.code ?? name).replace(/^Error$/, e.message ?? 'network error')}).`);
    const message = (e.message ?? '').split('\n')[0].slice(0, 300);
    return new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .ActionFailure */ .dR(`S3 ${operation} ${where} failed: ${name}${message ? `: ${message}` : ''}.`);
}


/***/ })

};
