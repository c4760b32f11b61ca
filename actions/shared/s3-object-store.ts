// The bucket through the AWS SDK for JavaScript v3. Imported only by openObjectStore (object-store.ts), so the SDK
// is bundled in a chunk of its own that only bucket runs load.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ActionFailure, ConfigurationError } from './errors.js';
import {
  objectUrl,
  type BucketSettings,
  type ObjectHead,
  type ObjectStore,
  type StoredObject,
  type UploadReport,
} from './object-store.js';

export class S3ObjectStore implements ObjectStore {
  readonly where: string;
  private readonly client: S3Client;
  /** Told the id of each multipart upload the SDK's uploader creates, by key. */
  private readonly uploadStarted = new Map<string, (uploadId: string) => void>();

  constructor(readonly settings: BucketSettings) {
    this.where = objectUrl(settings);
    this.client = new S3Client({
      region: settings.region,
      endpoint: settings.endpoint,
      forcePathStyle: settings.forcePathStyle,
      credentials: settings.credentials,
      maxAttempts: 3,
      // A wrong endpoint fails in seconds, not after the operating system's TCP timeout.
      requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
    });
    // lib-storage's Upload keeps the multipart upload's id to itself; its CreateMultipartUpload answer is read here.
    this.client.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (context.commandName === 'CreateMultipartUploadCommand') {
          const key = (args.input as { Key?: string }).Key ?? '';
          const uploadId = (out.output as { UploadId?: string }).UploadId;
          if (uploadId) this.uploadStarted.get(key)?.(uploadId);
        }
        return out;
      },
      { step: 'initialize', name: 'runbookUploadStarted' },
    );
  }

  private fail(error: unknown, operation: string): Error {
    return explainS3Error(error, operation, this.settings, this.where);
  }

  async list(): Promise<StoredObject[]> {
    const prefix = this.settings.prefix ? `${this.settings.prefix}/` : '';
    const found: StoredObject[] = [];
    let token: string | undefined;
    // Bounded: 10,000 pages of 1,000 keys is far more backups than any retention keeps.
    for (let page = 0; page < 10_000; page++) {
      let out: ListObjectsV2CommandOutput;
      try {
        out = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.settings.bucket,
            Prefix: prefix,
            Delimiter: '/',
            ContinuationToken: token,
          }),
        );
      } catch (error) {
        throw this.fail(error, 'listing');
      }
      for (const item of out.Contents ?? []) {
        if (item.Key && item.Key.length > prefix.length) found.push({ key: item.Key, size: item.Size ?? 0 });
      }
      if (!out.IsTruncated || !out.NextContinuationToken) break;
      token = out.NextContinuationToken;
    }
    return found;
  }

  async upload(
    key: string,
    body: Readable,
    metadata: Record<string, string>,
    signal?: AbortSignal,
    started?: (uploadId: string) => void,
  ): Promise<UploadReport> {
    if (started) this.uploadStarted.set(key, started);
    const hasher = new PartHasher(this.settings.partSize);
    body.on('error', (error) => hasher.destroy(error));
    body.pipe(hasher);
    // Destroying the source (not Upload.abort(), which returns before the abort request is sent) makes the
    // uploader fail, abort the multipart upload and only then reject.
    const onAbort = () => body.destroy(new ActionFailure('The upload was cancelled.'));
    signal?.addEventListener('abort', onAbort, { once: true });
    const upload = new Upload({
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
        StorageClass: this.settings.storageClass as never,
      },
      partSize: this.settings.partSize,
      queueSize: 2,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      if (error instanceof ActionFailure) throw error;
      throw this.fail(error, 'upload');
    } finally {
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
  private async verifyStored(key: string, sent: SentSummary): Promise<string> {
    let head;
    try {
      head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.settings.bucket, Key: key, ChecksumMode: 'ENABLED' }),
      );
    } catch (error) {
      throw this.fail(error, 'reading back the uploaded object');
    }
    const problem = (what: string) =>
      new ActionFailure(`The object ${objectUrl({ bucket: this.settings.bucket, prefix: key })} ${what}.`);
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
    const hash = createHash('sha256');
    for await (const chunk of await this.download(key)) hash.update(chunk as Buffer);
    const readBack = hash.digest('hex');
    if (readBack !== sent.sha256) {
      await this.remove(key).catch(() => undefined);
      throw problem(`reads back with SHA-256 ${readBack} where ${sent.sha256} was sent; it was deleted`);
    }
    return 'the server keeps no SHA-256 checksum, so the object was read back: its SHA-256 equals the dump';
  }

  async putText(key: string, text: string): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.settings.bucket,
          Key: key,
          Body: text,
          ContentType: 'text/plain; charset=utf-8',
          ChecksumAlgorithm: 'SHA256',
          ServerSideEncryption: this.settings.serverSideEncryption,
          SSEKMSKeyId: this.settings.kmsKeyId,
        }),
      );
    } catch (error) {
      throw this.fail(error, 'writing the checksum file');
    }
  }

  async getText(key: string): Promise<string | undefined> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: key }));
      return await out.Body?.transformToString('utf8');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw this.fail(error, 'reading');
    }
  }

  async head(key: string): Promise<ObjectHead | undefined> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key: key }));
      return { size: out.ContentLength ?? 0, metadata: out.Metadata ?? {} };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw this.fail(error, 'reading');
    }
  }

  async download(key: string, signal?: AbortSignal): Promise<Readable> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: key }), {
        abortSignal: signal,
      });
      return out.Body as Readable;
    } catch (error) {
      throw this.fail(error, 'downloading');
    }
  }

  async abortUpload(key: string, uploadId: string): Promise<boolean> {
    try {
      await this.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.settings.bucket, Key: key, UploadId: uploadId }),
      );
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchUpload') return false;
      throw this.fail(error, 'aborting the multipart upload of');
    }
  }

  async remove(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: key }));
    } catch (error) {
      throw this.fail(error, 'deleting');
    }
  }
}

function isMissing(error: unknown): boolean {
  const name = (error as { name?: string }).name;
  return name === 'NoSuchKey' || name === 'NotFound';
}

interface SentSummary {
  bytes: number;
  sha256: string;
  parts: number;
  wholeBase64: string;
  compositeBase64: string;
}

/**
 * Hashes the stream as it passes: the whole (SHA-256 hex, the backup's checksum) and each part at the upload's
 * part boundaries, whose composite (SHA-256 of the parts' binary digests) is what S3 reports for a multipart object.
 */
class PartHasher extends Transform {
  private readonly whole = createHash('sha256');
  private part: Hash = createHash('sha256');
  private inPart = 0;
  private bytes = 0;
  private readonly digests: Buffer[] = [];

  constructor(private readonly partSize: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
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
        this.part = createHash('sha256');
        this.inPart = 0;
      }
    }
    callback(null, chunk);
  }

  summary(): SentSummary {
    // The last part is whatever is left; a stream ending on a boundary has its last full part as the last one.
    const digests = this.inPart > 0 || this.digests.length === 0 ? [...this.digests, this.part.digest()] : this.digests;
    const whole = this.whole.digest();
    return {
      bytes: this.bytes,
      sha256: whole.toString('hex'),
      parts: digests.length,
      wholeBase64: whole.toString('base64'),
      compositeBase64: createHash('sha256').update(Buffer.concat(digests)).digest('base64'),
    };
  }
}

const NETWORK_CODES = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH|TimeoutError/;

/** One sentence naming the input to fix, for every way the bucket can say no. Never echoes a secret. */
export function explainS3Error(
  error: unknown,
  operation: string,
  settings: Pick<BucketSettings, 'endpoint' | 'bucket' | 'region' | 'input'>,
  where: string,
): Error {
  const e = error as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const fromEnvironment = `(or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in the environment)`;
  if (name === 'InvalidAccessKeyId')
    return new ConfigurationError(
      `Input 's3-access-key-id' ${fromEnvironment}: the storage service does not know this access key (${operation} ${where}).`,
    );
  if (name === 'SignatureDoesNotMatch')
    return new ConfigurationError(
      `Input 's3-secret-access-key' ${fromEnvironment}: the storage service rejected the request signature, so the secret key is wrong (${operation} ${where}).`,
    );
  if (name === 'CredentialsProviderError' || /Could not load credentials/.test(e.message ?? ''))
    return new ConfigurationError(
      `No credentials for ${where}: set inputs 's3-access-key-id' and 's3-secret-access-key', or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment (aws-actions/configure-aws-credentials sets them).`,
    );
  if (name === 'NoSuchBucket')
    return new ConfigurationError(
      `Input '${settings.input}': the bucket '${settings.bucket}' does not exist${settings.endpoint ? ` at ${settings.endpoint}` : ''}.`,
    );
  if (name === 'AuthorizationHeaderMalformed' || name === 'PermanentRedirect' || status === 301)
    return new ConfigurationError(
      `Input 's3-region': the bucket '${settings.bucket}' is not in region '${settings.region}' (${operation} ${where}: ${name}).`,
    );
  if (name === 'AccessDenied' || status === 403)
    return new ActionFailure(
      `Access denied while ${operation} ${where}: the credentials lack the permission for it (${name}).`,
    );
  if (NETWORK_CODES.test(`${name} ${e.code ?? ''} ${e.message ?? ''}`))
    return new ConfigurationError(
      `Input 's3-endpoint': cannot reach ${settings.endpoint ?? `AWS S3 in ${settings.region}`} (${(e.code ?? name).replace(/^Error$/, e.message ?? 'network error')}).`,
    );
  const message = (e.message ?? '').split('\n')[0].slice(0, 300);
  return new ActionFailure(`S3 ${operation} ${where} failed: ${name}${message ? `: ${message}` : ''}.`);
}
