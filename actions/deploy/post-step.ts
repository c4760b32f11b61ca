import * as core from '../shared/runner-commands.js';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runProcess, type ProcessRunner } from '../shared/process.js';
import { runPost } from '../shared/run-action.js';
import { shellQuote } from '../shared/ssh.js';
import { herokuPostStep, runnerHerokuPostIO, type HerokuPostIO } from './heroku/post.js';
import { STATE_KEY, type PostState } from './server/target.js';

export interface PostIO {
  getState(name: string): string;
  info(message: string): void;
  warning(message: string): void;
  runner: ProcessRunner;
}

/** ssh through the master the main step left (if it still runs), with the same key and known_hosts. */
function sshArgs(dir: string, ssh: { host: string; port: number; user: string }): string[] {
  return [
    '-F',
    '/dev/null',
    '-p',
    String(ssh.port),
    '-i',
    join(dir, 'key'),
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    `UserKnownHostsFile=${join(dir, 'known_hosts')}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'ConnectTimeout=15',
    '-o',
    'LogLevel=ERROR',
    '-o',
    `ControlPath=${join(dir, 'ctl')}`,
    `${ssh.user}@${ssh.host}`,
  ];
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
    const maintenance = state.maintenanceOn.includes(host.label);
    try {
      if (maintenance) {
        const result =
          host.ssh && host.sshDirectory
            ? await io.runner('ssh', [
                ...sshArgs(host.sshDirectory, host.ssh),
                `sh -c ${shellQuote(state.maintenanceOffScript)}`,
              ])
            : await io.runner('bash', ['-c', state.maintenanceOffScript]);
        if (result.code === 0) io.info(`Maintenance turned off on ${host.label} (the main step had left it on).`);
        else
          io.warning(
            `Could not turn maintenance off on ${host.label}: ${result.stderrTail.trim() || `exit code ${result.code}`}`,
          );
      }
    } finally {
      if (host.sshDirectory && host.ssh && existsSync(host.sshDirectory)) {
        await io.runner('ssh', [
          ...sshArgs(host.sshDirectory, host.ssh).slice(0, -1),
          '-O',
          'exit',
          `${host.ssh.user}@${host.ssh.host}`,
        ]);
        rmSync(host.sshDirectory, { recursive: true, force: true });
      }
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
