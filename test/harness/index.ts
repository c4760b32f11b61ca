/**
 * The runner harness: runs a built action the way the GitHub runner does and returns what a user would see.
 * See test/harness/README.md.
 */
import { Job } from './job.js';
import { SecretLeakError, findSecretLeaks } from './secrets-guard.js';
import type { ActionRunOptions, StepResult } from './types.js';

export { Job } from './job.js';
export { SecretLeakError } from './secrets-guard.js';
export type { OutputLine } from './step-process.js';
export type {
  ActionRunOptions,
  Annotation,
  CompositeStepResult,
  GithubOptions,
  JobStepOptions,
  PostResult,
  StepOutcome,
  StepResult,
} from './types.js';

/**
 * One step in a job of its own: main, then post (when action.yml has one and post-if allows).
 * Rejects when a declared secret shows in the main or post step's log, summary, outputs, annotations or env.
 */
export async function runAction(options: ActionRunOptions): Promise<StepResult> {
  const job = new Job({ github: options.github });
  try {
    const id = options.action.replace(/[^A-Za-z0-9_-]/g, '_').replace(/^(?=[0-9-])/, '_');
    const { result, surfaces, secrets } = await job.runStep(id, options);
    const { leaks } = await job.runPosts();
    const all = [...findSecretLeaks(secrets, surfaces), ...leaks];
    if (all.length > 0) throw new SecretLeakError(all);
    return result;
  } finally {
    job.dispose();
  }
}

/** The messages of a step's error annotations (what `core.setFailed` and `::error::` produced). */
export function errorMessages(result: StepResult): string[] {
  return result.annotations.filter((a) => a.level === 'error').map((a) => a.message);
}
