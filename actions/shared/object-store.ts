// S3-compatible object storage as db-backup and db-restore see it: where (an s3:// location), how to reach it, and
// the few operations they need. The AWS SDK lives in s3-object-store.ts, loaded only when a bucket is used, so
// the other paths keep their cold start.
import type { Readable } from 'node:stream';
import { ConfigurationError } from './errors.js';
import { redactUrlText, type InputReader } from './inputs.js';
import { excerpt } from './untrusted-text.js';

export interface BucketSettings {
  /** The input that named the location (bucket on db-backup, backup on db-restore), for messages. */
  input: string;
  bucket: string;
  /** Key prefix without a trailing slash ('' for the bucket's top level). */
  prefix: string;
  region: string;
  /** An S3-compatible service (Spaces, B2, R2, MinIO…); undefined for AWS. */
  endpoint?: string;
  forcePathStyle: boolean;
  /** From the inputs; undefined means the SDK's default chain (AWS_* variables, web identity, profile, instance). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  serverSideEncryption?: 'AES256' | 'aws:kms' | 'aws:kms:dsse';
  kmsKeyId?: string;
  storageClass?: string;
  /** Multipart part size in bytes (memory used is about four parts: queueSize 2 in flight, the next part and its copy). */
  partSize: number;
}

export interface StoredObject {
  key: string;
  size: number;
}

export interface UploadReport {
  bytes: number;
  sha256: string;
  parts: number;
  /** How the stored object was shown to equal what was sent, in words for the summary. */
  verification: string;
}

export interface ObjectHead {
  size: number;
  metadata: Record<string, string>;
}

/** What the actions do with a bucket. Every failure is an ActionFailure or ConfigurationError naming the input. */
export interface ObjectStore {
  /** 's3://bucket/prefix', for messages. */
  readonly where: string;
  readonly settings: BucketSettings;
  /** The objects directly under `prefix` (no deeper "folders"); also proves the bucket is reachable and readable. */
  list(): Promise<StoredObject[]>;
  /**
   * Streams `body` into `key` (multipart), verifies the stored object against what went through, and returns its
   * size and SHA-256. `body` must end only when what it carries is known to be good: an error (or abort) on it
   * aborts the multipart upload, so no complete-looking object is left. `started` is told the multipart upload's id
   * as soon as the service has created it (a killed run's post step aborts it with that id).
   */
  upload(
    key: string,
    body: Readable,
    metadata: Record<string, string>,
    signal?: AbortSignal,
    started?: (uploadId: string) => void,
  ): Promise<UploadReport>;
  /** AbortMultipartUpload: the parts go; false when the service no longer knows the upload (completed or aborted). */
  abortUpload(key: string, uploadId: string): Promise<boolean>;
  putText(key: string, text: string): Promise<void>;
  getText(key: string): Promise<string | undefined>;
  head(key: string): Promise<ObjectHead | undefined>;
  download(key: string, signal?: AbortSignal): Promise<Readable>;
  remove(key: string): Promise<void>;
}

export const S3_SCHEME = 's3://';
/** The sidecar written beside each verified backup: `sha256sum` format, so `sha256sum -c` checks a download. */
export const CHECKSUM_SUFFIX = '.sha256';
export const DEFAULT_PART_MB = 16;

/** `s3://bucket/some/prefix/` → bucket and prefix (no trailing slash). Bucket names follow S3's rules. */
export function parseS3Location(text: string, input: string): { bucket: string; path: string } {
  if (!text.startsWith(S3_SCHEME)) {
    throw new ConfigurationError(
      `Input '${input}' must be an s3://bucket/prefix location; got '${excerpt(redactUrlText(text))}'.`,
    );
  }
  const rest = text.slice(S3_SCHEME.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const path = (slash === -1 ? '' : rest.slice(slash + 1)).replace(/\/+$/, '');
  // s3://key:secret@bucket would be a secret in the location, which is logged and summarised: never quote it.
  if (bucket.includes('@')) {
    throw new ConfigurationError(
      `Input '${input}' must not hold credentials (s3://<key>@<bucket>); give them as s3-access-key-id and s3-secret-access-key.`,
    );
  }
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || bucket.includes('..')) {
    throw new ConfigurationError(
      `Input '${input}': '${excerpt(bucket)}' is not a bucket name (3 to 63 lower-case letters, digits, dots and hyphens).`,
    );
  }
  if (path !== '' && path.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new ConfigurationError(`Input '${input}': the key prefix '${excerpt(path)}' has an empty, '.' or '..' part.`);
  }
  return { bucket, path };
}

/** The bucket inputs shared by db-backup and db-restore (`s3-*`); secrets are masked as soon as they are read. */
export function readBucketSettings(
  read: InputReader,
  location: { bucket: string; path: string; input: string },
  setSecret: (secret: string) => void,
  env: Record<string, string | undefined>,
): BucketSettings {
  const accessKeyId = read.optionalString('s3-access-key-id');
  const secretAccessKey = read.optionalString('s3-secret-access-key');
  const sessionToken = read.optionalString('s3-session-token');
  for (const secret of [secretAccessKey, sessionToken]) if (secret) setSecret(secret);
  // Credentials from configure-aws-credentials (OIDC) arrive as variables; mask them in case a tool echoes them.
  for (const name of ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) if (env[name]) setSecret(env[name]!);
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) {
    throw new ConfigurationError(
      `Inputs 's3-access-key-id' and 's3-secret-access-key' go together; set both, or neither to use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the environment.`,
    );
  }
  if (sessionToken && !accessKeyId) {
    throw new ConfigurationError(`Input 's3-session-token' needs 's3-access-key-id' and 's3-secret-access-key'.`);
  }
  const endpoint = read.optionalString('s3-endpoint');
  if (endpoint) {
    let url: URL | undefined;
    try {
      url = new URL(endpoint);
    } catch {
      url = undefined;
    }
    if (!url || !/^https?:$/.test(url.protocol) || url.username || url.password) {
      throw new ConfigurationError(
        `Input 's3-endpoint' must be an http(s) URL without credentials, such as https://fra1.digitaloceanspaces.com; got '${endpoint}'.`,
      );
    }
  }
  const region = read.optionalString('s3-region') ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  if (!/^[a-z0-9-]+$/.test(region)) {
    throw new ConfigurationError(`Input 's3-region' must be a region name such as eu-west-3 or auto; got '${region}'.`);
  }
  const sse = read.optionalString('s3-server-side-encryption');
  if (sse !== undefined && !['AES256', 'aws:kms', 'aws:kms:dsse'].includes(sse)) {
    throw new ConfigurationError(
      `Input 's3-server-side-encryption' must be one of AES256, aws:kms, aws:kms:dsse; got '${sse}'.`,
    );
  }
  const kmsKeyId = read.optionalString('s3-kms-key-id');
  if (kmsKeyId && !sse?.startsWith('aws:kms')) {
    throw new ConfigurationError(`Input 's3-kms-key-id' needs 's3-server-side-encryption' aws:kms or aws:kms:dsse.`);
  }
  const storageClass = read.optionalString('s3-storage-class');
  if (storageClass !== undefined && !/^[A-Z_]+$/.test(storageClass)) {
    throw new ConfigurationError(
      `Input 's3-storage-class' must be a storage class such as STANDARD, STANDARD_IA or GLACIER_IR; got '${storageClass}'.`,
    );
  }
  return {
    input: location.input,
    bucket: location.bucket,
    prefix: location.path,
    region,
    endpoint,
    forcePathStyle: read.boolean('s3-force-path-style', false),
    credentials: accessKeyId ? { accessKeyId, secretAccessKey: secretAccessKey!, sessionToken } : undefined,
    serverSideEncryption: sse as BucketSettings['serverSideEncryption'],
    kmsKeyId,
    storageClass,
    // S3 allows 10,000 parts of at least 5 MiB: 16 MiB parts carry a stream of up to about 160 GB.
    partSize: read.integer('s3-part-size-mb', { min: 5, max: 5120, fallback: DEFAULT_PART_MB }) * 1024 * 1024,
  };
}

/** The key of a file under the settings' prefix. */
export function objectKey(settings: Pick<BucketSettings, 'prefix'>, name: string): string {
  return settings.prefix ? `${settings.prefix}/${name}` : name;
}

export function objectUrl(settings: Pick<BucketSettings, 'bucket' | 'prefix'>, name?: string): string {
  const path = name === undefined ? settings.prefix : objectKey(settings, name);
  return `${S3_SCHEME}${settings.bucket}${path ? `/${path}` : ''}`;
}

/** Opens the bucket with the AWS SDK, loaded here on first use (ncc puts it in a chunk of its own). */
export async function openObjectStore(settings: BucketSettings): Promise<ObjectStore> {
  const { S3ObjectStore } = await import('./s3-object-store.js');
  return new S3ObjectStore(settings);
}
