import * as core from '../../shared/runner-commands.js';
import { errorMessage } from '../../shared/errors.js';
import { HerokuApi } from './api.js';
import { appPath } from './build.js';
import { setMaintenance } from './maintenance.js';
import { HEROKU_STATE_KEY, type HerokuPostState } from './target.js';

export interface HerokuPostIO {
  getState(name: string): string;
  /** The step's inputs again (the runner gives the post step the same ones): the key is never saved in state. */
  input(name: string): string;
  setSecret(secret: string): void;
  info(message: string): void;
  warning(message: string): void;
  sleep(ms: number): Promise<void>;
}

/**
 * After a cancelled or killed main step: cancels the build it left running (DELETE /apps/{app}/builds/{id}), then
 * takes every app it left in maintenance out of it. Only warns.
 */
export async function herokuPostStep(io: HerokuPostIO): Promise<void> {
  const raw = io.getState(HEROKU_STATE_KEY);
  if (!raw) return;
  const state = JSON.parse(raw) as HerokuPostState;
  const builds = state.pendingBuilds ?? [];
  if (state.maintenanceOn.length === 0 && builds.length === 0) return;
  const apiKey = io.input('heroku-api-key');
  if (!apiKey) {
    io.warning(
      `Maintenance may still be on for ${state.maintenanceOn.join(', ')}, and no API key is available to turn it off.`,
    );
    return;
  }
  const api = new HerokuApi({
    baseUrl: new URL(state.apiUrl),
    apiKey,
    setSecret: io.setSecret,
    sleep: io.sleep,
    random: Math.random,
    warning: io.warning,
    maxAttempts: 3,
  });
  // First the build: once cancelled, it cannot release after maintenance is off.
  for (const build of builds) {
    try {
      await api.request('DELETE', appPath(build.app, 'builds', build.id));
      io.info(`Build ${build.id} of ${build.app} cancelled (the job was cancelled while it ran).`);
    } catch (error) {
      io.warning(`Could not cancel build ${build.id} of ${build.app}: ${errorMessage(error)}`);
    }
  }
  for (const app of state.maintenanceOn) {
    try {
      await setMaintenance(api, app, false);
      io.info(`Maintenance turned off on ${app} (the main step had left it on).`);
    } catch (error) {
      io.warning(`Could not turn maintenance off on ${app}: ${errorMessage(error)}`);
    }
  }
}

/** The runner's side of the post step: its saved state, the step's inputs, the log. */
export function runnerHerokuPostIO(): HerokuPostIO {
  return {
    getState: core.getState,
    input: (name) => core.getInput(name),
    setSecret: core.setSecret,
    info: core.info,
    warning: core.warning,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}
