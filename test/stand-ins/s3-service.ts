// A local stand-in for the S3 REST API (node:http on 127.0.0.1, path-style addressing), for the part of it db-backup
// and db-restore use: ListObjectsV2, PutObject, GetObject, HeadObject, DeleteObject and the multipart upload
// (CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload). Written against the Amazon S3
// API Reference because s3rver 3.7.1, the maintained npm stand-in, accepts a PutObject whose x-amz-checksum-sha256
// is wrong and keeps no checksums (tried), and Debian bookworm packages no S3 server.
//
// What it checks as S3 does: Signature Version 4 of every request (access key, secret, region in the scope, the
// session token, the payload hash when one is signed); Content-MD5 and the flexible checksums (x-amz-checksum-crc32,
// -sha1, -sha256, sent as headers or as aws-chunked trailers) against the bytes received (BadDigest); an upload
// created with a checksum algorithm needs that checksum on each part and in CompleteMultipartUpload; parts in
// ascending order, each but the last at least 5 MiB (EntityTooSmall), ETags and checksums matching what was
// uploaded (InvalidPart); user metadata at most 2 KB. A multipart object gets S3's composite checksum (the SHA-256
// of the parts' digests, '-<parts>') and ETag (MD5 of the parts' MD5s, '-<parts>').
//
// What it does not emulate: virtual-hosted addressing, the chunk signatures of STREAMING-AWS4-HMAC-SHA256-PAYLOAD
// (the framing is read, the signatures are not checked), CRC32C/CRC64NVME (refused with NotImplemented so a test
// would notice), versioning, object lock, lifecycle rules, ACLs/policies (any valid signature may do anything),
// presigned URLs, ranges, and the real encryption behind x-amz-server-side-encryption (recorded and echoed only).
import { createHash, createHmac } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

export interface StoredS3Object {
  key: string;
  size: number;
  etag: string;
  metadata: Record<string, string>;
  checksum?: { algorithm: string; value: string; type: 'FULL_OBJECT' | 'COMPOSITE' };
  serverSideEncryption?: string;
  storageClass?: string;
  lastModified: Date;
  file: string;
}

interface PendingUpload {
  bucket: string;
  key: string;
  metadata: Record<string, string>;
  algorithm?: string;
  serverSideEncryption?: string;
  storageClass?: string;
  parts: Map<number, { file: string; size: number; etag: string; md5: Buffer; checksum?: string }>;
}

export interface S3Service {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  createBucket(name: string): void;
  /** The objects of a bucket, by key. */
  objects(bucket: string): Map<string, StoredS3Object>;
  read(bucket: string, key: string): Buffer;
  /** Stores an object as PutObject would (for fixtures such as old backups). */
  put(bucket: string, key: string, body: Buffer, metadata?: Record<string, string>): void;
  /** Multipart uploads created and neither completed nor aborted. */
  pendingUploads(): { bucket: string; key: string; parts: number }[];
  /** Operation names in order, e.g. 'CreateMultipartUpload', 'UploadPart', 'AbortMultipartUpload'. */
  calls: string[];
  /** Answer UploadPart with a 500 InternalError when this returns true (every attempt). */
  failPart?: (partNumber: number) => boolean;
  /** Never answer the UploadParts for which this returns true (recorded as 'held:UploadPart'): an upload stuck mid-way. */
  holdPart?: (partNumber: number) => boolean;
  stop(): Promise<void>;
}

class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const MIN_PART = 5 * 1024 * 1024;
const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest();
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters. */
const uriEncode = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export async function startS3Service(
  options: { accessKeyId?: string; secretAccessKey?: string; region?: string } = {},
): Promise<S3Service> {
  const accessKeyId = options.accessKeyId ?? 'AKIARUNBOOKTEST0001';
  const secretAccessKey = options.secretAccessKey ?? createHash('sha256').update(String(Math.random())).digest('hex');
  const region = options.region ?? 'eu-west-3';
  const dir = mkdtempSync(join(tmpdir(), 'rb-s3-'));
  const buckets = new Map<string, Map<string, StoredS3Object>>();
  const uploads = new Map<string, PendingUpload>();
  const calls: string[] = [];
  let counter = 0;
  const newFile = (data: Buffer) => {
    const file = join(dir, `blob-${++counter}`);
    writeFileSync(file, data);
    return file;
  };

  const service: S3Service = {
    endpoint: '',
    region,
    accessKeyId,
    secretAccessKey,
    calls,
    createBucket: (name) => void buckets.set(name, buckets.get(name) ?? new Map()),
    objects: (bucket) => buckets.get(bucket) ?? new Map(),
    read: (bucket, key) => {
      const object = buckets.get(bucket)?.get(key);
      if (!object) throw new Error(`no object ${bucket}/${key}`);
      return readFileSync(object.file);
    },
    put: (bucket, key, body, metadata = {}) => {
      buckets.get(bucket)!.set(key, {
        key,
        size: body.length,
        etag: `"${createHash('md5').update(body).digest('hex')}"`,
        metadata,
        lastModified: new Date(),
        file: newFile(body),
      });
    },
    pendingUploads: () => [...uploads.values()].map((u) => ({ bucket: u.bucket, key: u.key, parts: u.parts.size })),
    stop: async () => {
      const closed = new Promise<void>((done) => server.close(() => done()));
      server.closeAllConnections();
      await closed;
      rmSync(dir, { recursive: true, force: true });
    },
  };

  function authenticate(req: http.IncomingMessage, url: URL, body: Buffer): void {
    const auth = req.headers.authorization ?? '';
    const m =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
        auth,
      );
    if (!m) throw new S3Error(403, 'AccessDenied', 'Only Signature Version 4 in the Authorization header is accepted.');
    const [, key, date, scopeRegion, signedHeaders, signature] = m;
    if (key !== accessKeyId)
      throw new S3Error(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
    if (scopeRegion !== region)
      throw new S3Error(
        400,
        'AuthorizationHeaderMalformed',
        `the region '${scopeRegion}' is wrong; expecting '${region}'`,
      );
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    const payloadHash = String(req.headers['x-amz-content-sha256'] ?? '');
    if (!payloadHash)
      throw new S3Error(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
    const query = [...url.searchParams.entries()]
      .map(([k, v]) => [uriEncode(k), uriEncode(v)])
      .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    const headers = signedHeaders
      .split(';')
      .map((name) => {
        const value = req.headers[name];
        return `${name}:${(Array.isArray(value) ? value.join(',') : (value ?? '')).trim().replace(/\s+/g, ' ')}\n`;
      })
      .join('');
    const canonical = [req.method, url.pathname, query, headers, signedHeaders, payloadHash].join('\n');
    const toSign = [
      'AWS4-HMAC-SHA256',
      amzDate,
      `${date}/${region}/s3/aws4_request`,
      sha256(canonical).toString('hex'),
    ].join('\n');
    const signingKey = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), 's3'), 'aws4_request');
    if (hmac(signingKey, toSign).toString('hex') !== signature)
      throw new S3Error(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided.',
      );
    if (/^[0-9a-f]{64}$/.test(payloadHash) && sha256(body).toString('hex') !== payloadHash)
      throw new S3Error(
        400,
        'XAmzContentSHA256Mismatch',
        'The provided x-amz-content-sha256 header does not match what was computed.',
      );
  }

  /** The object bytes and the checksum headers or trailers that came with them. */
  function payload(req: http.IncomingMessage, raw: Buffer): { data: Buffer; checksums: Record<string, string> } {
    const checksums: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers))
      if (
        name.startsWith('x-amz-checksum-') &&
        name !== 'x-amz-checksum-mode' &&
        name !== 'x-amz-checksum-algorithm' &&
        name !== 'x-amz-checksum-type'
      )
        checksums[name.slice('x-amz-checksum-'.length)] = String(value);
    const encoding = String(req.headers['content-encoding'] ?? '');
    if (
      !encoding
        .split(',')
        .map((s) => s.trim())
        .includes('aws-chunked')
    )
      return { data: raw, checksums };
    const parts: Buffer[] = [];
    let offset = 0;
    for (;;) {
      const lineEnd = raw.indexOf('\r\n', offset);
      if (lineEnd < 0) throw new S3Error(400, 'IncompleteBody', 'aws-chunked body ended early');
      const size = parseInt(raw.subarray(offset, lineEnd).toString('latin1').split(';')[0], 16);
      offset = lineEnd + 2;
      if (size === 0) break;
      parts.push(raw.subarray(offset, offset + size));
      offset += size + 2;
    }
    for (const line of raw.subarray(offset).toString('latin1').split('\r\n')) {
      const m = /^x-amz-checksum-([a-z0-9]+):(.*)$/.exec(line.trim());
      if (m) checksums[m[1]] = m[2];
    }
    const data = Buffer.concat(parts);
    const declared = req.headers['x-amz-decoded-content-length'];
    if (declared !== undefined && Number(declared) !== data.length)
      throw new S3Error(400, 'IncompleteBody', 'x-amz-decoded-content-length does not match the body');
    return { data, checksums };
  }

  function checkDigests(req: http.IncomingMessage, data: Buffer, checksums: Record<string, string>): void {
    const md5 = req.headers['content-md5'];
    if (md5 && createHash('md5').update(data).digest('base64') !== md5)
      throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
    for (const [algorithm, value] of Object.entries(checksums)) {
      if (computeChecksum(algorithm, data) !== value)
        throw new S3Error(
          400,
          'BadDigest',
          `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum.`,
        );
    }
  }

  function computeChecksum(algorithm: string, data: Buffer): string {
    if (algorithm === 'sha256') return sha256(data).toString('base64');
    if (algorithm === 'sha1') return createHash('sha1').update(data).digest('base64');
    if (algorithm === 'crc32') {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(crc32(data) >>> 0);
      return b.toString('base64');
    }
    throw new S3Error(501, 'NotImplemented', `The stand-in does not compute ${algorithm} checksums.`);
  }

  function metadataOf(req: http.IncomingMessage): Record<string, string> {
    const metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers))
      if (name.startsWith('x-amz-meta-')) metadata[name.slice('x-amz-meta-'.length)] = String(value);
    const size = Object.entries(metadata).reduce((n, [k, v]) => n + k.length + v.length, 0);
    if (size > 2048)
      throw new S3Error(400, 'MetadataTooLarge', 'Your metadata headers exceed the maximum allowed metadata size.');
    return metadata;
  }

  function objectHeaders(object: StoredS3Object, withChecksum: boolean): Record<string, string> {
    const headers: Record<string, string> = {
      'content-length': String(object.size),
      etag: object.etag,
      'last-modified': object.lastModified.toUTCString(),
      'content-type': 'application/octet-stream',
    };
    for (const [k, v] of Object.entries(object.metadata)) headers[`x-amz-meta-${k}`] = v;
    if (object.serverSideEncryption) headers['x-amz-server-side-encryption'] = object.serverSideEncryption;
    if (object.storageClass && object.storageClass !== 'STANDARD') headers['x-amz-storage-class'] = object.storageClass;
    if (withChecksum && object.checksum) {
      headers[`x-amz-checksum-${object.checksum.algorithm}`] = object.checksum.value;
      headers['x-amz-checksum-type'] = object.checksum.type;
    }
    return headers;
  }

  function handle(req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    authenticate(req, url, raw);
    const [, bucketName, ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const bucket = buckets.get(bucketName);
    if (!bucket) throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist');
    const q = url.searchParams;
    const send = (status: number, body = '', headers: Record<string, string> = {}) => {
      res.writeHead(status, body ? { 'content-type': 'application/xml', ...headers } : headers);
      res.end(body);
    };
    const op = (name: string) => calls.push(name);
    const sse = req.headers['x-amz-server-side-encryption'] as string | undefined;
    const storageClass = req.headers['x-amz-storage-class'] as string | undefined;
    if (
      storageClass &&
      ![
        'STANDARD',
        'STANDARD_IA',
        'ONEZONE_IA',
        'INTELLIGENT_TIERING',
        'GLACIER_IR',
        'GLACIER',
        'DEEP_ARCHIVE',
        'REDUCED_REDUNDANCY',
      ].includes(storageClass)
    )
      throw new S3Error(400, 'InvalidStorageClass', 'The storage class you specified is not valid');

    if (key === '' && req.method === 'GET' && q.get('list-type') === '2') {
      op('ListObjectsV2');
      const prefix = q.get('prefix') ?? '';
      const delimiter = q.get('delimiter') ?? '';
      const max = Math.min(Number(q.get('max-keys') ?? 1000), 1000);
      const after = q.get('continuation-token') ?? q.get('start-after') ?? '';
      const keys = [...bucket.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
      const contents: StoredS3Object[] = [];
      const common = new Set<string>();
      let truncated = false;
      let last = '';
      for (const k of keys) {
        if (contents.length + common.size >= max) {
          truncated = true;
          break;
        }
        const cut = delimiter ? k.indexOf(delimiter, prefix.length) : -1;
        if (cut >= 0) common.add(k.slice(0, cut + delimiter.length));
        else contents.push(bucket.get(k)!);
        last = k;
      }
      send(
        200,
        `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="${XMLNS}"><Name>${xml(bucketName)}</Name><Prefix>${xml(prefix)}</Prefix>` +
          `<KeyCount>${contents.length + common.size}</KeyCount><MaxKeys>${max}</MaxKeys>${delimiter ? `<Delimiter>${xml(delimiter)}</Delimiter>` : ''}<IsTruncated>${truncated}</IsTruncated>` +
          (truncated ? `<NextContinuationToken>${xml(last)}</NextContinuationToken>` : '') +
          contents
            .map(
              (o) =>
                `<Contents><Key>${xml(o.key)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified><ETag>${xml(o.etag)}</ETag><Size>${o.size}</Size><StorageClass>${o.storageClass ?? 'STANDARD'}</StorageClass></Contents>`,
            )
            .join('') +
          [...common].map((p) => `<CommonPrefixes><Prefix>${xml(p)}</Prefix></CommonPrefixes>`).join('') +
          '</ListBucketResult>',
      );
      return;
    }
    if (key === '')
      throw new S3Error(
        501,
        'NotImplemented',
        `The stand-in does not implement ${req.method} on a bucket with ${url.search}.`,
      );

    if (req.method === 'POST' && q.has('uploads')) {
      op('CreateMultipartUpload');
      const uploadId = createHash('sha256').update(`${key}${Math.random()}`).digest('base64url');
      const algorithm = (req.headers['x-amz-checksum-algorithm'] as string | undefined)?.toLowerCase();
      if (algorithm) computeChecksum(algorithm, Buffer.alloc(0));
      uploads.set(uploadId, {
        bucket: bucketName,
        key,
        metadata: metadataOf(req),
        algorithm,
        serverSideEncryption: sse,
        storageClass,
        parts: new Map(),
      });
      send(
        200,
        `<?xml version="1.0" encoding="UTF-8"?>\n<InitiateMultipartUploadResult xmlns="${XMLNS}"><Bucket>${xml(bucketName)}</Bucket><Key>${xml(key)}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`,
        algorithm ? { 'x-amz-checksum-algorithm': algorithm.toUpperCase(), 'x-amz-checksum-type': 'COMPOSITE' } : {},
      );
      return;
    }
    const uploadId = q.get('uploadId');
    if (uploadId !== null) {
      const upload = uploads.get(uploadId);
      if (!upload || upload.bucket !== bucketName || upload.key !== key)
        throw new S3Error(404, 'NoSuchUpload', 'The specified multipart upload does not exist.');
      if (req.method === 'PUT') {
        op('UploadPart');
        const partNumber = Number(q.get('partNumber'));
        if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10000)
          throw new S3Error(400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive');
        if (service.failPart?.(partNumber))
          throw new S3Error(500, 'InternalError', 'We encountered an internal error. Please try again.');
        if (service.holdPart?.(partNumber)) {
          calls.push('held:UploadPart');
          return;
        }
        const { data, checksums } = payload(req, raw);
        checkDigests(req, data, checksums);
        if (upload.algorithm && !checksums[upload.algorithm])
          throw new S3Error(
            400,
            'InvalidRequest',
            `The upload was created using the ${upload.algorithm.toUpperCase()} checksum algorithm; each part needs its checksum.`,
          );
        const md5 = createHash('md5').update(data).digest();
        const etag = `"${md5.toString('hex')}"`;
        const checksum = upload.algorithm ? computeChecksum(upload.algorithm, data) : undefined;
        upload.parts.set(partNumber, { file: newFile(data), size: data.length, etag, md5, checksum });
        send(200, '', { etag, ...(checksum ? { [`x-amz-checksum-${upload.algorithm}`]: checksum } : {}) });
        return;
      }
      if (req.method === 'DELETE') {
        op('AbortMultipartUpload');
        for (const part of upload.parts.values()) rmSync(part.file, { force: true });
        uploads.delete(uploadId);
        send(204);
        return;
      }
      if (req.method === 'POST') {
        op('CompleteMultipartUpload');
        const requested = [...raw.toString('utf8').matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((m) => {
          const field = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(m[1])?.[1];
          return {
            number: Number(field('PartNumber')),
            etag: (field('ETag') ?? '').replace(/&quot;/g, '"'),
            checksum: field(`Checksum${(upload.algorithm ?? '').toUpperCase()}`),
          };
        });
        if (requested.length === 0) throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed.');
        const chosen = requested.map((p, i) => {
          if (i > 0 && p.number <= requested[i - 1].number)
            throw new S3Error(400, 'InvalidPartOrder', 'The list of parts was not in ascending order.');
          const part = upload.parts.get(p.number);
          const quoted = p.etag.startsWith('"') ? p.etag : `"${p.etag}"`;
          if (!part || part.etag !== quoted)
            throw new S3Error(400, 'InvalidPart', `Part ${p.number} was not uploaded or its ETag does not match.`);
          if (upload.algorithm && p.checksum !== part.checksum)
            throw new S3Error(
              400,
              'InvalidPart',
              `Part ${p.number}'s ${upload.algorithm.toUpperCase()} is missing or does not match the uploaded part.`,
            );
          return part;
        });
        chosen.forEach((part, i) => {
          if (i < chosen.length - 1 && part.size < MIN_PART)
            throw new S3Error(
              400,
              'EntityTooSmall',
              'Your proposed upload is smaller than the minimum allowed object size.',
            );
        });
        const data = Buffer.concat(chosen.map((p) => readFileSync(p.file)));
        const n = chosen.length;
        const etag = `"${createHash('md5')
          .update(Buffer.concat(chosen.map((p) => p.md5)))
          .digest('hex')}-${n}"`;
        // CRC32 parts may be combined into a full-object CRC32 on S3; the stand-in only does the composite kind.
        if (upload.algorithm === 'crc32')
          throw new S3Error(501, 'NotImplemented', 'The stand-in does not combine CRC32 part checksums.');
        const checksum = upload.algorithm
          ? {
              algorithm: upload.algorithm,
              value: `${createHash(upload.algorithm)
                .update(Buffer.concat(chosen.map((p) => Buffer.from(p.checksum!, 'base64'))))
                .digest('base64')}-${n}`,
              type: 'COMPOSITE' as const,
            }
          : undefined;
        for (const part of upload.parts.values()) rmSync(part.file, { force: true });
        uploads.delete(uploadId);
        bucket.set(key, {
          key,
          size: data.length,
          etag,
          metadata: upload.metadata,
          checksum,
          serverSideEncryption: upload.serverSideEncryption,
          storageClass: upload.storageClass,
          lastModified: new Date(),
          file: newFile(data),
        });
        send(
          200,
          `<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUploadResult xmlns="${XMLNS}"><Location>${xml(`${service.endpoint}/${bucketName}/${key}`)}</Location><Bucket>${xml(bucketName)}</Bucket><Key>${xml(key)}</Key><ETag>${xml(etag)}</ETag>` +
            (checksum
              ? `<Checksum${checksum.algorithm.toUpperCase()}>${checksum.value}</Checksum${checksum.algorithm.toUpperCase()}><ChecksumType>COMPOSITE</ChecksumType>`
              : '') +
            '</CompleteMultipartUploadResult>',
        );
        return;
      }
    }
    if (req.method === 'PUT') {
      op('PutObject');
      if (req.headers['x-amz-copy-source'])
        throw new S3Error(501, 'NotImplemented', 'CopyObject is not implemented by the stand-in.');
      const { data, checksums } = payload(req, raw);
      checkDigests(req, data, checksums);
      const [algorithm, value] = Object.entries(checksums)[0] ?? [];
      const etag = `"${createHash('md5').update(data).digest('hex')}"`;
      bucket.set(key, {
        key,
        size: data.length,
        etag,
        metadata: metadataOf(req),
        checksum: algorithm ? { algorithm, value, type: 'FULL_OBJECT' } : undefined,
        serverSideEncryption: sse,
        storageClass,
        lastModified: new Date(),
        file: newFile(data),
      });
      send(200, '', { etag, ...(algorithm ? { [`x-amz-checksum-${algorithm}`]: value } : {}) });
      return;
    }
    if (req.method === 'DELETE') {
      op('DeleteObject');
      const object = bucket.get(key);
      if (object) rmSync(object.file, { force: true });
      bucket.delete(key);
      send(204);
      return;
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      op(req.method === 'GET' ? 'GetObject' : 'HeadObject');
      const object = bucket.get(key);
      if (!object) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.');
      res.writeHead(200, objectHeaders(object, req.headers['x-amz-checksum-mode'] === 'ENABLED'));
      if (req.method === 'HEAD') res.end();
      else createReadStream(object.file).pipe(res);
      return;
    }
    throw new S3Error(501, 'NotImplemented', `The stand-in does not implement ${req.method} ${url.search}.`);
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        handle(req, res, Buffer.concat(chunks));
      } catch (error) {
        const e = error instanceof S3Error ? error : new S3Error(500, 'InternalError', String(error));
        calls.push(`error:${e.code}`);
        res.writeHead(e.status, req.method === 'HEAD' ? {} : { 'content-type': 'application/xml' });
        res.end(
          req.method === 'HEAD'
            ? undefined
            : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${e.code}</Code><Message>${xml(e.message)}</Message><RequestId>stand-in</RequestId></Error>`,
        );
      }
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  service.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return service;
}
