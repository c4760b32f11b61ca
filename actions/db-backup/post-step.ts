// The post step of db-backup and db-restore (post-if: always()): what a killed main step could not clean up itself.
import * as core from '../shared/runner-commands.js';
import { existsSync, rmSync } from 'node:fs';
import { runProcess, type ProcessRunner } from '../shared/process.js';
import { runPost } from '../shared/run-action.js';
import { SshConnection, type SshLeftover } from '../shared/ssh.js';

export const POST_STATE_KEY = 'db-cleanup';

/** What the main step leaves for its post step: the SSH master and key, and partial files on the runner. */
export interface PostState {
  ssh?: SshLeftover;
  partials: string[];
}

/** Kept up to date by the main step as the connection opens and partial files come and go. */
export class PostCleanup {
  private ssh?: SshLeftover;
  private readonly partials = new Set<string>();
  constructor(private readonly save: ((name: string, value: string) => void) | undefined) {}

  sshOpened(leftover: SshLeftover): void {
    this.ssh = leftover;
    this.write();
  }

  /** A partial file on the runner exists (path), or none is left (undefined). */
  partial(path: string | undefined): void {
    if (path === undefined) this.partials.clear();
    else this.partials.add(path);
    this.write();
  }

  private write(): void {
    const state: PostState = { ssh: this.ssh, partials: [...this.partials] };
    this.save?.(POST_STATE_KEY, JSON.stringify(state));
  }
}

export interface PostIO {
  getState(name: string): string;
  info(message: string): void;
  warning(message: string): void;
  runner: ProcessRunner;
}

export async function cleanupPost(io: PostIO): Promise<void> {
  const raw = io.getState(POST_STATE_KEY);
  if (!raw) return;
  const state = JSON.parse(raw) as PostState;
  for (const path of state.partials) {
    if (!existsSync(path)) continue;
    rmSync(path, { force: true });
    io.info(`Removed ${path}, a partial file the main step left.`);
  }
  if (state.ssh && (await SshConnection.closeLeftover(state.ssh, io.runner)))
    io.info(`Closed the SSH connection to ${state.ssh.host} and removed its key (the main step had left them).`);
}

export const runCleanupPost = (
  io: PostIO = { getState: core.getState, info: core.info, warning: core.warning, runner: runProcess },
): Promise<void> => runPost(() => cleanupPost(io), io.warning);
