import type { OutputLine } from './step-process.js';
import type { Annotation } from './workflow-commands.js';

export type { Annotation } from './workflow-commands.js';

export interface GithubOptions {
  ref?: string;
  sha?: string;
  repository?: string;
  apiUrl?: string;
  serverUrl?: string;
  graphqlUrl?: string;
  workspace?: string;
  actor?: string;
  /** What `${{ github.token }}` gives (empty when unset); treated as a declared secret. */
  token?: string;
  runId?: string;
  runNumber?: string;
  runAttempt?: string;
  job?: string;
  workflow?: string;
  headRef?: string;
  baseRef?: string;
}

export interface ActionRunOptions {
  /** Folder under actions/, e.g. 'smoke-check'; runs.main of its action.yml (dist/<action>/index.js) under Node 24. */
  action: string;
  /** By action.yml name; action.yml defaults apply for the rest. Strings may use `${{ steps.x.outputs.y }}`. */
  inputs?: Record<string, string | number | boolean>;
  /** Extra environment variables for the step (a step's `env:`). */
  env?: Record<string, string>;
  /** Values that must never appear in log, summary, outputs, annotations or env additions. */
  secrets?: string[];
  /** GITHUB_EVENT_NAME + GITHUB_EVENT_PATH; default a minimal push payload. */
  event?: { name: string; payload: unknown };
  github?: GithubOptions;
  /** Default: the workspace. */
  cwd?: string;
  /** Default 120000; the step is cancelled like the runner does on a timeout, and the result says timedOut. */
  timeoutMs?: number;
  /** SIGINT to the main step after this long; the job becomes cancelled, then post runs if post-if allows. */
  cancelAfterMs?: number;
  /** SIGINT to the main step as soon as a line of its output matches (e.g. a phase's ::group:: line). */
  cancelOnLine?: RegExp;
  /** SIGINT to the main step once this settles (e.g. when the test sees the step's work begin): a cancel tied to an event. */
  cancelWhen?: Promise<unknown>;
  /** Default true when action.yml has a post step (post-if still decides). */
  runPost?: boolean;
  /** RUNNER_DEBUG=1, as when a run is re-run with debug logging. */
  debug?: boolean;
  /** Folder holding action.yml instead of actions/<action> (harness fixtures). */
  actionDir?: string;
  /** Entry files instead of action.yml's runs.main/runs.post (absolute, or relative to the action folder). */
  entry?: { main?: string; post?: string };
  /** Each line of output as it arrives (raw, secrets unmasked): for a live view such as the demo's. */
  onLine?: (line: OutputLine) => void;
  /**
   * The runner machine's /etc/hosts for this step: the file is bind-mounted over /etc/hosts in a mount namespace of
   * the step's own (`unshare --mount`, root only), so the step resolves names as a runner whose hosts file or DNS
   * has them (see hostsFileWith() in workflow-runner.ts). Nothing outside the step sees it.
   */
  hostsFile?: string;
}

/** A Job step can also carry the step keys of a workflow. */
export interface JobStepOptions extends ActionRunOptions {
  /** Step condition; default `success()`. */
  if?: string;
  continueOnError?: boolean;
}

export type StepOutcome = 'success' | 'failure' | 'cancelled' | 'skipped';

export interface PostResult {
  ran: boolean;
  exitCode: number;
  log: string;
  annotations: Annotation[];
  summary: string;
  masks: string[];
  timedOut: boolean;
  outcome: StepOutcome;
  durationMs: number;
}

/** One step inside a composite action, as its log shows it. */
export interface CompositeStepResult {
  /** The step's id, or the runner's generated `__run`, `__run_2`, … */
  id: string;
  name?: string;
  exitCode: number;
  outcome: StepOutcome;
  outputs: Record<string, string>;
  log: string;
  timedOut: boolean;
  cancelled: boolean;
}

export interface StepResult {
  id: string;
  exitCode: number;
  /** 'failure' also when a file command was malformed or a refused command ran; 'skipped' when `if` was false. */
  outcome: StepOutcome;
  outputs: Record<string, string>;
  summary: string;
  annotations: Annotation[];
  masks: string[];
  /** GITHUB_ENV additions of this step. */
  env: Record<string, string>;
  /** GITHUB_PATH additions of this step, in the order written. */
  path: string[];
  state: Record<string, string>;
  /** Raw stdout+stderr of the main step, in arrival order. */
  log: string;
  post?: PostResult;
  durationMs: number;
  timedOut: boolean;
  cancelled: boolean;
  signal?: string;
  /** `::group::` titles in order. */
  groups: string[];
  /** What the runner would print as warnings around the step: missing required inputs, undeclared outputs, … */
  warnings: string[];
  /** Legacy commands the runner still honours but flags (set-output, save-state). */
  deprecations: string[];
  /** The INPUT_* values the step saw, by action.yml name. */
  inputs: Record<string, string>;
  /** A composite action's steps in order, skipped ones included (log, summary, annotations… above are their union). */
  steps?: CompositeStepResult[];
}
