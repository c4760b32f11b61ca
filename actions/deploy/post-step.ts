import * as core from '../shared/runner-commands.js';
import { runProcess, type ProcessRunner } from '../shared/process.js';
import { runPost } from '../shared/run-action.js';
import { SshConnection } from '../shared/ssh.js';
import { herokuPostStep, runnerHerokuPostIO, type HerokuPostIO } from './heroku/post.js';
import { STATE_KEY, type PostState } from './server/target.js';

export interface PostIO {
  getState(name: string): string;
  info(message: string): void;
  warning(message: string): void;
  runner: ProcessRunner;
}

/**
 * After the main step, whatever happened (post-if: always()): turns off a maintenance flag the main step left
 * on (a cancelled or killed job), closes the SSH masters and removes the key and known_hosts. Only warns.
 */
export async function postStep(io: PostIO): Promise<void> {
  const raw = io.getState(STATE_KEY);
  if (!raw) return;
  const state = JSON.parse(raw) as PostState;
  for (const host of state.hosts) {
    const leftover = host.ssh && host.sshDirectory ? { directory: host.sshDirectory, ...host.ssh } : undefined;
    try {
      if (state.maintenanceOn.includes(host.label)) {
        const connection = leftover && SshConnection.fromLeftover(leftover, io.runner);
        const result = connection
          ? await connection.exec({ script: state.maintenanceOffScript })
          : leftover === undefined
            ? await io.runner('bash', ['-c', state.maintenanceOffScript])
            : { code: 1, stderrTail: 'its SSH key was already removed' };
        if (result.code === 0) io.info(`Maintenance turned off on ${host.label} (the main step had left it on).`);
        else
          io.warning(
            `Could not turn maintenance off on ${host.label}: ${result.stderrTail.trim() || `exit code ${result.code}`}`,
          );
      }
    } finally {
      if (leftover) await SshConnection.closeLeftover(leftover, io.runner);
    }
  }
}

export const runPostStep = async (
  io: PostIO = { getState: core.getState, info: core.info, warning: core.warning, runner: runProcess },
  heroku: HerokuPostIO = runnerHerokuPostIO(),
): Promise<void> => {
  await runPost(() => postStep(io), io.warning);
  await runPost(() => herokuPostStep(heroku), heroku.warning);
};
