import * as core from './runner-commands.js';
import { ActionFailure, ConfigurationError, errorMessage } from './errors.js';

/**
 * The one place an action's entry talks to the runner about failure: any thrown value becomes a single
 * `::error::` line and a non-zero exit. Known failures show their message only; an unexpected error also
 * shows its stack in the debug log, where it helps a maintainer without scaring a user.
 */
export async function runAction(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    if (!(error instanceof ConfigurationError || error instanceof ActionFailure) && error instanceof Error) {
      core.debug(error.stack ?? error.message);
    }
    core.setFailed(errorMessage(error));
  }
}

/**
 * Post steps clean up and only warn: a cleanup problem must never turn a green job red.
 */
export async function runPost(
  post: () => Promise<void>,
  warn: (message: string) => void = core.warning,
): Promise<void> {
  try {
    await post();
  } catch (error) {
    warn(`cleanup: ${errorMessage(error)}`);
  }
}
