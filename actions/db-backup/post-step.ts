// The post step of db-backup and db-restore (post-if: always()): what a killed main step could not clean up itself.
import * as core from '../shared/runner-commands.js';
import { existsSync, rmSync, statSync } from 'node:fs';
import { DEFAULT_PART_MB, objectUrl, openObjectStore, type BucketSettings } from '../shared/object-store.js';
import { untrustedText } from '../shared/untrusted-text.js';
import { describeExit, runProcess, type ProcessRunner } from '../shared/process.js';
import { runPost } from '../shared/run-action.js';
import { shellQuote, SshConnection, type SshLeftover } from '../shared/ssh.js';

export const POST_STATE_KEY = 'db-cleanup';

/** A multipart upload in progress: where, and how to reach the service (the credentials are read again from the inputs). */
export interface UploadLeftover {
  bucket: string;
  key: string;
  uploadId: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
}

/** What the main step leaves for its post step: the SSH master and key, partial files or folders on the runner or on the SSH server, and a multipart upload not yet completed. */
export interface PostState {
  ssh?: SshLeftover;
  partials: string[];
  /** Partial files on the SSH server (absent when there are none). */
  serverPartials?: string[];
  upload?: UploadLeftover;
}

/** The post step's record of a multipart upload into the bucket of `settings` (what it needs to abort it). */
export function uploadLeftover(
  settings: Pick<BucketSettings, 'bucket' | 'region' | 'endpoint' | 'forcePathStyle'>,
  upload: { key: string; uploadId: string },
): UploadLeftover {
  const { bucket, region, endpoint, forcePathStyle } = settings;
  return { ...upload, bucket, region, endpoint, forcePathStyle };
}

/** Kept up to date by the main step as the connection opens and partial files come and go. */
export class PostCleanup {
  private ssh?: SshLeftover;
  private upload?: UploadLeftover;
  private readonly partials = new Set<string>();
  private readonly folders = new Set<string>();
  private readonly serverPartials = new Set<string>();
  constructor(private readonly save: ((name: string, value: string) => void) | undefined) {}

  sshOpened(leftover: SshLeftover): void {
    this.ssh = leftover;
    this.write();
  }

  /** A partial file or folder on the runner exists (path), or none is left (undefined). */
  partial(path: string | undefined): void {
    if (path === undefined) this.partials.clear();
    else this.partials.add(path);
    this.write();
  }

  /**
   * A folder on the runner that lives for the whole step (db-restore's download), removed by the post step if the
   * step is killed; `partial(undefined)`, said when a dump's partial file is done, leaves it in place.
   */
  folder(path: string): void {
    this.folders.add(path);
    this.write();
  }

  /** A partial file on the SSH server exists (path), or none is left there (undefined). */
  serverPartial(path: string | undefined): void {
    if (path === undefined) this.serverPartials.clear();
    else this.serverPartials.add(path);
    this.write();
  }

  /** A multipart upload was created (until it is completed or aborted), or none is in progress (undefined). */
  uploading(upload: UploadLeftover | undefined): void {
    this.upload = upload;
    this.write();
  }

  private write(): void {
    const state: PostState = { ssh: this.ssh, partials: [...this.folders, ...this.partials], upload: this.upload };
    if (this.serverPartials.size > 0) state.serverPartials = [...this.serverPartials];
    this.save?.(POST_STATE_KEY, JSON.stringify(state));
  }
}

export interface PostIO {
  getState(name: string): string;
  info(message: string): void;
  warning(message: string): void;
  runner: ProcessRunner;
  /** The step's inputs (the post step sees the main step's): the s3-* credentials to abort an upload with. */
  getInput?(name: string): string;
  setSecret?(secret: string): void;
}

export async function cleanupPost(io: PostIO): Promise<void> {
  const raw = io.getState(POST_STATE_KEY);
  if (!raw) return;
  const state = JSON.parse(raw) as PostState;
  for (const path of state.partials) {
    if (!existsSync(path)) continue;
    const kind = statSync(path).isDirectory() ? 'folder' : 'file';
    rmSync(path, { recursive: true, force: true });
    io.info(`Removed ${path}, a partial ${kind} the main step left.`);
  }
  if (state.upload) await abortLeftoverUpload(state.upload, io);
  if (state.ssh && state.serverPartials?.length) await removeServerPartials(state.ssh, state.serverPartials, io);
  if (state.ssh && (await SshConnection.closeLeftover(state.ssh, io.runner)))
    io.info(`Closed the SSH connection to ${state.ssh.host} and removed its key (the main step had left them).`);
}

/**
 * Removes the partial files a killed main step left on the SSH server, through its master if it still answers, else
 * a new login with its key; the host key is checked against the known_hosts the main step verified, as always.
 */
async function removeServerPartials(ssh: SshLeftover, paths: string[], io: PostIO): Promise<void> {
  const connection = SshConnection.fromLeftover(ssh, io.runner);
  const where = `${ssh.user}@${ssh.host}`;
  if (!connection) {
    io.warning(
      `Could not remove ${paths.join(', ')} on ${where}, partial files the main step left: its SSH key is gone.`,
    );
    return;
  }
  // One word per path, in order: the server's answer names none of them, so nothing it prints reaches the log.
  const script = `for f in ${paths.map(shellQuote).join(' ')}; do if [ -e "$f" ]; then rm -f -- "$f"; echo removed; else echo absent; fi; done`;
  const result = await connection.exec({ script });
  if (result.code !== 0) {
    io.warning(
      `Could not remove ${paths.join(', ')} on ${where}, partial files the main step left: ${describeExit('the remote command', result)}`,
    );
    return;
  }
  const words = result.stdout.split('\n');
  paths.forEach((path, i) => {
    if (words[i] === 'removed') io.info(`Removed ${path} on ${where}, a partial file the main step left.`);
  });
}

/** AbortMultipartUpload for the upload the main step created and neither completed nor aborted: its parts go. */
async function abortLeftoverUpload(upload: UploadLeftover, io: PostIO): Promise<void> {
  const input = (name: string) => io.getInput?.(name) || undefined;
  const accessKeyId = input('s3-access-key-id');
  const secretAccessKey = input('s3-secret-access-key');
  const sessionToken = input('s3-session-token');
  for (const secret of [secretAccessKey, sessionToken]) if (secret) io.setSecret?.(secret);
  const settings: BucketSettings = {
    input: 'bucket',
    bucket: upload.bucket,
    prefix: '',
    region: upload.region,
    endpoint: upload.endpoint,
    forcePathStyle: upload.forcePathStyle,
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, sessionToken } : undefined,
    partSize: DEFAULT_PART_MB * 1024 * 1024,
  };
  const url = objectUrl(settings, upload.key);
  // The id is the server's text (CreateMultipartUpload's answer): printed only neutralised.
  const id = untrustedText(upload.uploadId);
  const store = await openObjectStore(settings);
  try {
    if (await store.abortUpload(upload.key, upload.uploadId))
      io.info(
        `Aborted the multipart upload to ${url} (id ${id}) that the main step left unfinished: its parts are deleted and no object was made.`,
      );
    else io.info(`The multipart upload to ${url} (id ${id}) was already completed or aborted.`);
  } catch (error) {
    io.warning(
      `Could not abort the multipart upload to ${url} (id ${id}), left unfinished by the main step: ${(error as Error).message} Its parts stay billed until it is aborted (aws s3api abort-multipart-upload) or a lifecycle rule removes incomplete uploads.`,
    );
  }
}

export const runCleanupPost = (
  io: PostIO = {
    getState: core.getState,
    info: core.info,
    warning: core.warning,
    runner: runProcess,
    getInput: (name) => core.getInput(name),
    setSecret: core.setSecret,
  },
): Promise<void> => runPost(() => cleanupPost(io), io.warning);
