/**
 * A job: steps run in sequence the way the runner runs them. Later steps see earlier GITHUB_ENV values and
 * GITHUB_PATH directories, `${{ steps.<id>.outputs.<name> }}` and the job status; a step's `if` defaults to
 * `success()`; post steps wait for the end of the job and run in reverse order, each gated by its `post-if`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import {
  type ActionMetadata,
  type CompositeStep,
  type ResolvedInputs,
  loadActionMetadata,
  resolveEntry,
  resolveInputs,
} from './action-metadata.js';
import { type ExpressionContext, type JobStatus, evaluateCondition, interpolate } from './expressions.js';
import { FileCommandError, parseKeyValueFile, parsePathFile, prependPath, toRecord } from './file-commands.js';
import { type Surface, SecretLeakError, findSecretLeaks } from './secrets-guard.js';
import { REPO_ROOT, type ProcessRun, killProcessGroup, runEntry } from './step-process.js';
import type {
  ActionRunOptions,
  CompositeStepResult,
  JobStepOptions,
  PostResult,
  StepOutcome,
  StepResult,
} from './types.js';
import { type Annotation, type CommandResults, processCommands } from './workflow-commands.js';

const DEFAULT_TIMEOUT_MS = 120_000;
// The runner refuses step summaries above 1 MiB (docs: "Step isolation and limits").
const SUMMARY_LIMIT_BYTES = 1024 * 1024;
// Variables of the machine running the tests that a step on GitHub would never inherit.
const RUNNER_OWNED = /^(INPUT_|GITHUB_|RUNNER_|STATE_|ACTIONS_)/;

interface StepsContextEntry {
  outputs: Record<string, string>;
  outcome: StepOutcome;
  conclusion: StepOutcome;
}

interface PendingPost {
  id: string;
  metadata: ActionMetadata;
  script: string;
  options: MergedOptions;
  stepEnv: Record<string, string>;
  inputs: ResolvedInputs;
  state: Record<string, string>;
  result: StepResult;
}

interface MergedOptions extends JobStepOptions {
  jobEnv: Record<string, string>;
  secretList: string[];
}

/** How one entry runs when it is not the action's Node entry under the step's own limits (a composite's step). */
interface EntryLaunch {
  command?: { file: string; args: string[] };
  cwd: string;
  timeoutMs: number;
  cancelAfterMs?: number;
}

interface CommandFiles {
  output: string;
  env: string;
  path: string;
  state: string;
  summary: string;
}

interface EntryOutcome {
  run: ProcessRun;
  commands: CommandResults;
  outputs: Record<string, string>;
  env: Record<string, string>;
  path: string[];
  state: Record<string, string>;
  summary: string;
  annotations: Annotation[];
  failed: boolean;
  surfaces: Surface[];
}

function defaultPayload(github: Record<string, string>) {
  const [owner, name] = github.repository.split('/');
  return {
    ref: github.ref,
    after: github.sha,
    repository: { full_name: github.repository, name, owner: { login: owner, name: owner } },
    sender: { login: github.actor },
  };
}

export class Job {
  readonly root: string;
  readonly workspace: string;
  readonly runnerTemp: string;
  readonly toolCache: string;
  /** Every step result in order, skipped ones included. */
  readonly results: StepResult[] = [];

  private readonly defaults: Partial<ActionRunOptions>;
  private readonly runId = String(1_000_000_000 + Math.floor(Math.random() * 1_000_000_000));
  private envFromSteps: Record<string, string> = {};
  private prepended: string[] = [];
  private readonly stepsContext: Record<string, StepsContextEntry> = {};
  private jobStatus: JobStatus = 'success';
  private pending: PendingPost[] = [];
  private readonly processGroups: number[] = [];
  private finished = false;

  constructor(defaults: Partial<ActionRunOptions> = {}) {
    this.defaults = defaults;
    this.root = mkdtempSync(join(tmpdir(), 'runbook-job-'));
    this.workspace = defaults.github?.workspace ?? join(this.root, 'workspace');
    this.runnerTemp = join(this.root, 'temp');
    this.toolCache = join(this.root, 'tool-cache');
    for (const dir of [this.workspace, this.runnerTemp, this.toolCache]) mkdirSync(dir, { recursive: true });
  }

  /** 'success', 'failure' or 'cancelled', as `success()`/`failure()`/`cancelled()` see it now. */
  get status(): JobStatus {
    return this.jobStatus;
  }

  /** Variables added through GITHUB_ENV so far. */
  get env(): Record<string, string> {
    return { ...this.envFromSteps };
  }

  /** Directories added through GITHUB_PATH, in front of PATH for later steps (latest first). */
  get path(): string[] {
    return [...this.prepended];
  }

  /** The `steps` context: outputs, outcome and conclusion by step id. */
  get steps(): Record<string, StepsContextEntry> {
    return structuredClone(this.stepsContext);
  }

  /** Runs one step; rejects with SecretLeakError when a declared secret shows in what the step printed. */
  async step(id: string, options: JobStepOptions): Promise<StepResult> {
    const { result, surfaces, secrets } = await this.runStep(id, options);
    const leaks = findSecretLeaks(secrets, surfaces);
    if (leaks.length > 0) throw new SecretLeakError(leaks);
    return result;
  }

  /**
   * Ends the job: pending post steps run in reverse order (post-if decides each), then the temporary folders and
   * any process a step left behind go away. Returns the results whose post was considered.
   */
  async finish(): Promise<StepResult[]> {
    try {
      const { results, leaks } = await this.runPosts();
      if (leaks.length > 0) throw new SecretLeakError(leaks);
      return results;
    } finally {
      this.dispose();
    }
  }

  /** Removes the job's temporary folders and kills leftovers without running posts. Safe to call twice. */
  dispose(): void {
    this.finished = true;
    for (const pgid of this.processGroups.splice(0)) killProcessGroup(pgid);
    rmSync(this.root, { recursive: true, force: true });
  }

  /** @internal runAction checks main and post together; tests use step(). */
  async runStep(
    id: string,
    stepOptions: JobStepOptions,
  ): Promise<{ result: StepResult; surfaces: Surface[]; secrets: string[] }> {
    if (this.finished) throw new Error('This job has finished; start a new Job');
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(id)) throw new Error(`Step id '${id}' must start with a letter or _`);
    if (id in this.stepsContext) throw new Error(`Step id '${id}' is already used in this job`);
    const options = this.merge(stepOptions);
    const context = this.expressionContext(options, id);
    const secrets = options.secretList;

    if (!evaluateCondition(stepOptions.if ?? 'success()', context)) {
      const skipped = emptyResult(id, 'skipped');
      this.stepsContext[id] = { outputs: {}, outcome: 'skipped', conclusion: 'skipped' };
      this.results.push(skipped);
      return { result: skipped, surfaces: [], secrets };
    }

    const metadata = loadActionMetadata(options.actionDir ?? join(REPO_ROOT, 'actions', options.action));
    // Our actions have no pre step; failing loudly beats silently skipping one.
    if (metadata.pre) throw new Error(`${metadata.file}: runs.pre is not supported by the harness`);
    const given: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.inputs ?? {})) given[name] = interpolate(String(value), context);
    const inputs = resolveInputs(metadata, given, (value) => interpolate(value, context));
    const stepEnv: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.env ?? {})) stepEnv[name] = interpolate(value, context);
    if (metadata.steps) return this.runComposite(id, options, metadata, metadata.steps, inputs, stepEnv);
    const script = this.entryScript(metadata, options.entry?.main ?? metadata.main, options.action);

    const entry = await this.runEntryFile(id, options, script, stepEnv, inputs, {}, 'main');
    const warnings = [...inputs.warnings];
    for (const name of Object.keys(entry.outputs)) {
      if (!(name in metadata.outputs)) warnings.push(`Output '${name}' is not declared in ${metadata.file}`);
    }
    const outcome: StepOutcome = entry.run.cancelled ? 'cancelled' : entry.failed ? 'failure' : 'success';
    const result: StepResult = {
      id,
      exitCode: entry.run.exitCode,
      outcome,
      outputs: entry.outputs,
      summary: entry.summary,
      annotations: entry.annotations,
      masks: entry.commands.masks,
      env: entry.env,
      path: entry.path,
      state: entry.state,
      log: entry.run.log,
      durationMs: entry.run.durationMs,
      timedOut: entry.run.timedOut,
      cancelled: entry.run.cancelled,
      signal: entry.run.signal,
      groups: entry.commands.groups,
      warnings,
      deprecations: entry.commands.deprecations,
      inputs: inputs.values,
    };

    this.stepsContext[id] = {
      outputs: { ...entry.outputs },
      outcome,
      conclusion: outcome === 'failure' && options.continueOnError ? 'success' : outcome,
    };
    if (outcome === 'cancelled') this.jobStatus = 'cancelled';
    else if (outcome === 'failure' && !options.continueOnError && this.jobStatus === 'success') {
      this.jobStatus = 'failure';
    }
    this.results.push(result);

    if (metadata.post) {
      if (options.runPost === false) {
        result.post = notRun();
      } else {
        const postScript = this.entryScript(metadata, options.entry?.post ?? metadata.post, options.action);
        this.pending.push({ id, metadata, script: postScript, options, stepEnv, inputs, state: entry.state, result });
      }
    }
    return { result, surfaces: entry.surfaces, secrets };
  }

  /**
   * A `using: composite` action the way the runner runs one: its steps in order, each `if` (default `success()`,
   * judged on the steps before it), `env`, `with` and `run` evaluated with the `inputs` context and the action's own
   * `steps` context, GITHUB_ACTION_PATH set to the action's folder, no INPUT_* variables (the runner sets none for
   * composite actions), run steps through their declared shell, file and workflow commands read per step as for a
   * Node action, then `outputs.<name>.value` evaluated. The step's timeout and cancellation span all its steps.
   */
  private async runComposite(
    id: string,
    options: MergedOptions,
    metadata: ActionMetadata,
    steps: CompositeStep[],
    inputs: ResolvedInputs,
    stepEnv: Record<string, string>,
  ): Promise<{ result: StepResult; surfaces: Surface[]; secrets: string[] }> {
    const started = Date.now();
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const local: Record<string, StepsContextEntry> = {};
    const children: CompositeStepResult[] = [];
    const surfaces: Surface[] = [];
    const result = emptyResult(id, 'success');
    result.inputs = inputs.values;
    result.warnings = [...inputs.warnings];
    result.steps = children;
    // The action's own status (github.action_status, actions/runner ADR 1438): main steps judge success() and
    // failure() on it, so a composite run under always() after a failed step is failed only by its own steps.
    let status: JobStatus = this.jobStatus === 'cancelled' ? 'cancelled' : 'success';
    const noInputs: ResolvedInputs = { values: {}, env: {}, warnings: [] };
    const context = () => {
      const c = this.expressionContext(options, id);
      c.status = status;
      c.contexts.github = { ...(c.contexts.github as Record<string, unknown>), action_status: status };
      c.contexts.steps = local;
      c.contexts.inputs = inputs.values;
      c.contexts.env = { ...(c.contexts.env as Record<string, string>), ...stepEnv };
      return c;
    };

    for (const [index, step] of steps.entries()) {
      // The runner names steps without an id __run, __run_2, … (ids of uses steps follow the same counter here).
      const stepId = step.id ?? (index === 0 ? '__run' : `__run_${index + 1}`);
      const elapsed = Date.now() - started;
      if (options.cancelAfterMs !== undefined && status !== 'cancelled' && elapsed >= options.cancelAfterMs) {
        status = 'cancelled';
        result.cancelled = true;
      }
      const remaining = timeoutMs - elapsed;
      const skip = result.timedOut || remaining <= 0 || !evaluateCondition(step.if ?? 'success()', context());
      if (skip) {
        if (remaining <= 0 && !result.timedOut) {
          result.timedOut = true;
          status = 'failure';
        }
        local[stepId] = { outputs: {}, outcome: 'skipped', conclusion: 'skipped' };
        children.push({ ...childResult(stepId, step), outcome: 'skipped' });
        continue;
      }
      const ctx = context();
      const childEnv: Record<string, string> = { ...stepEnv };
      for (const [name, value] of Object.entries(step.env)) childEnv[name] = interpolate(value, ctx);
      const launch: EntryLaunch = {
        cwd: resolve(
          this.workspace,
          step.workingDirectory ? interpolate(step.workingDirectory, ctx) : (options.cwd ?? '.'),
        ),
        timeoutMs: remaining,
        cancelAfterMs:
          options.cancelAfterMs === undefined || status === 'cancelled' ? undefined : options.cancelAfterMs - elapsed,
      };
      const actionPath = { GITHUB_ACTION_PATH: metadata.dir };
      let entry: EntryOutcome;
      if (step.run !== undefined) {
        const shell = shellCommand(
          step.shell as string,
          this.scriptFile(interpolate(step.run, ctx), step.shell as string),
        );
        entry = await this.runEntryFile(id, options, shell.script, childEnv, noInputs, actionPath, 'main', {
          ...launch,
          command: shell.command,
        });
      } else {
        const uses = step.uses as string;
        // Only local actions: a relative path is the caller's workspace, as on GitHub.
        if (!uses.startsWith('./') && !isAbsolute(uses))
          throw new Error(
            `${metadata.file}: the harness runs only local actions in composite steps; got uses: ${uses}`,
          );
        const nested = loadActionMetadata(resolve(this.workspace, uses));
        if (nested.steps || nested.post || nested.pre)
          throw new Error(`${nested.file}: the harness runs Node actions without pre or post steps inside a composite`);
        const given: Record<string, string> = {};
        for (const [name, value] of Object.entries(step.with)) given[name] = interpolate(value, ctx);
        const nestedInputs = resolveInputs(nested, given, (value) => interpolate(value, ctx));
        result.warnings.push(...nestedInputs.warnings);
        const script = this.entryScript(nested, nested.main, uses);
        entry = await this.runEntryFile(id, options, script, childEnv, nestedInputs, actionPath, 'main', launch);
      }
      const outcome: StepOutcome = entry.run.cancelled ? 'cancelled' : entry.failed ? 'failure' : 'success';
      local[stepId] = {
        outputs: { ...entry.outputs },
        outcome,
        conclusion: outcome === 'failure' && step.continueOnError ? 'success' : outcome,
      };
      children.push({
        ...childResult(stepId, step),
        exitCode: entry.run.exitCode,
        outcome,
        outputs: entry.outputs,
        log: entry.run.log,
        timedOut: entry.run.timedOut,
        cancelled: entry.run.cancelled,
      });
      result.log += entry.run.log;
      result.summary += entry.summary;
      result.annotations.push(...entry.annotations);
      result.masks.push(...entry.commands.masks);
      Object.assign(result.env, entry.env);
      result.path.push(...entry.path);
      Object.assign(result.state, entry.state);
      result.groups.push(...entry.commands.groups);
      result.deprecations.push(...entry.commands.deprecations);
      surfaces.push(...entry.surfaces);
      if (entry.run.timedOut) result.timedOut = true;
      if (outcome === 'cancelled') {
        status = 'cancelled';
        result.cancelled = true;
        result.signal ??= entry.run.signal;
      } else if (outcome === 'failure' && !step.continueOnError) {
        if (status === 'success') status = 'failure';
        if (result.exitCode === 0) {
          result.exitCode = entry.run.exitCode === 0 ? 1 : entry.run.exitCode;
          result.signal = entry.run.signal;
        }
      }
    }

    const final = context();
    for (const [name, spec] of Object.entries(metadata.outputs))
      result.outputs[name] = interpolate(spec.value ?? '', final);
    surfaces.push(...Object.entries(result.outputs).map(([name, text]) => ({ where: `outputs.${name}`, text })));
    result.durationMs = Date.now() - started;
    result.outcome = result.cancelled ? 'cancelled' : status === 'failure' || result.timedOut ? 'failure' : 'success';
    if (result.outcome === 'failure' && result.exitCode === 0) result.exitCode = 1;
    this.stepsContext[id] = {
      outputs: { ...result.outputs },
      outcome: result.outcome,
      conclusion: result.outcome === 'failure' && options.continueOnError ? 'success' : result.outcome,
    };
    if (result.outcome === 'cancelled') this.jobStatus = 'cancelled';
    else if (result.outcome === 'failure' && !options.continueOnError && this.jobStatus === 'success') {
      this.jobStatus = 'failure';
    }
    this.results.push(result);
    return { result, surfaces, secrets: options.secretList };
  }

  /** The script of a run step, written where the runner writes it (RUNNER_TEMP), with the extension its shell expects. */
  private scriptFile(script: string, shell: string): string {
    const extension = /^python/.test(shell) ? '.py' : /^pwsh|^powershell/.test(shell) ? '.ps1' : '.sh';
    const file = join(this.runnerTemp, `${randomUUID()}${extension}`);
    writeFileSync(file, script);
    return file;
  }

  /** @internal Runs the pending posts, newest first, and reports leaks without throwing. */
  async runPosts(): Promise<{ results: StepResult[]; leaks: ReturnType<typeof findSecretLeaks> }> {
    const results: StepResult[] = [];
    const leaks: ReturnType<typeof findSecretLeaks> = [];
    while (this.pending.length > 0) {
      const post = this.pending.pop() as PendingPost;
      results.push(post.result);
      const context = this.expressionContext(post.options, post.id);
      if (!evaluateCondition(post.metadata.postIf, context)) {
        post.result.post = notRun();
        continue;
      }
      const stateEnv: Record<string, string> = {};
      for (const [name, value] of Object.entries(post.state)) stateEnv[`STATE_${name}`] = value;
      const entry = await this.runEntryFile(
        post.id,
        post.options,
        post.script,
        post.stepEnv,
        post.inputs,
        stateEnv,
        'post',
      );
      const outcome: StepOutcome = entry.failed ? 'failure' : 'success';
      if (outcome === 'failure' && this.jobStatus === 'success') this.jobStatus = 'failure';
      const postResult: PostResult = {
        ran: true,
        exitCode: entry.run.exitCode,
        log: entry.run.log,
        annotations: entry.annotations,
        summary: entry.summary,
        masks: entry.commands.masks,
        timedOut: entry.run.timedOut,
        outcome,
        durationMs: entry.run.durationMs,
      };
      post.result.post = postResult;
      leaks.push(...findSecretLeaks(post.options.secretList, entry.surfaces));
    }
    return { results, leaks };
  }

  private merge(step: JobStepOptions): MergedOptions {
    const d = this.defaults;
    // An option given as undefined must not hide the job default.
    step = Object.fromEntries(Object.entries(step).filter(([, v]) => v !== undefined)) as JobStepOptions;
    const github = { ...d.github, ...step.github };
    const secretList = [...new Set([...(d.secrets ?? []), ...(step.secrets ?? []), github.token ?? ''])].filter(
      (s) => s !== '',
    );
    return {
      ...d,
      ...step,
      github,
      jobEnv: { ...d.env },
      env: step.env,
      inputs: step.inputs,
      secretList,
    };
  }

  private entryScript(metadata: ActionMetadata, entry: string, action: string): string {
    const script = resolveEntry(metadata, entry);
    if (!existsSync(script)) {
      throw new Error(
        `${script} does not exist (runs entry of ${metadata.file}); build it: node .ci/build.mjs ${action}`,
      );
    }
    return script;
  }

  private githubValues(options: MergedOptions, id: string): Record<string, string> {
    const g = options.github ?? {};
    const ref = g.ref ?? 'refs/heads/main';
    const repository = g.repository ?? 'octo-org/octo-app';
    return {
      token: g.token ?? '',
      ref,
      ref_name: ref.replace(/^refs\/(heads|tags)\//, '').replace(/^refs\/pull\/(\d+)\/merge$/, '$1/merge'),
      ref_type: ref.startsWith('refs/tags/') ? 'tag' : 'branch',
      sha: g.sha ?? createHash('sha1').update(`runbook:${ref}`).digest('hex'),
      repository,
      repository_owner: repository.split('/')[0],
      api_url: g.apiUrl ?? 'https://api.github.com',
      server_url: g.serverUrl ?? 'https://github.com',
      graphql_url: g.graphqlUrl ?? 'https://api.github.com/graphql',
      workspace: this.workspace,
      actor: g.actor ?? 'octocat',
      event_name: options.event?.name ?? 'push',
      run_id: g.runId ?? this.runId,
      run_number: g.runNumber ?? '1',
      run_attempt: g.runAttempt ?? '1',
      job: g.job ?? 'test',
      workflow: g.workflow ?? 'CI',
      action: id,
      head_ref: g.headRef ?? '',
      base_ref: g.baseRef ?? '',
    };
  }

  private expressionContext(options: MergedOptions, id: string): ExpressionContext {
    const github = this.githubValues(options, id);
    return {
      status: this.jobStatus,
      contexts: {
        github: { ...github, event: options.event?.payload ?? defaultPayload(github) },
        env: { ...options.jobEnv, ...this.envFromSteps, ...options.env },
        steps: this.stepsContext,
        job: { status: this.jobStatus },
        runner: {
          os: 'Linux',
          arch: runnerArch(),
          temp: this.runnerTemp,
          tool_cache: this.toolCache,
          name: 'runbook-harness',
          debug: options.debug ? '1' : '',
          environment: 'github-hosted',
        },
      },
    };
  }

  private createCommandFiles(): CommandFiles {
    const dir = join(this.runnerTemp, '_runner_file_commands');
    mkdirSync(dir, { recursive: true });
    const suffix = randomUUID();
    const files: CommandFiles = {
      output: join(dir, `set_output_${suffix}`),
      env: join(dir, `set_env_${suffix}`),
      path: join(dir, `add_path_${suffix}`),
      state: join(dir, `save_state_${suffix}`),
      summary: join(dir, `step_summary_${suffix}`),
    };
    for (const file of Object.values(files)) writeFileSync(file, '');
    return files;
  }

  private environment(
    options: MergedOptions,
    id: string,
    stepEnv: Record<string, string>,
    files: CommandFiles,
  ): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(process.env)) {
      // NODE_OPTIONS from jest (--experimental-vm-modules) is not something a runner step inherits.
      if (value !== undefined && !RUNNER_OWNED.test(name) && name !== 'NODE_OPTIONS' && name !== 'CI')
        env[name] = value;
    }
    // A hosted runner is a fresh machine: what steps cache (ncc's webpack cache, pip) is the job's own and goes with
    // it, rather than piling up in this machine's ~/.cache, one folder per job. A workflow's env can still set it.
    env.XDG_CACHE_HOME = join(this.root, 'cache');
    Object.assign(env, options.jobEnv, this.envFromSteps, stepEnv);
    const github = this.githubValues(options, id);
    const eventDir = join(this.runnerTemp, '_github_workflow');
    mkdirSync(eventDir, { recursive: true });
    const eventPath = join(eventDir, `event-${randomUUID()}.json`);
    writeFileSync(eventPath, JSON.stringify(options.event?.payload ?? defaultPayload(github), null, 2));
    // Default variables come last: a workflow cannot override GITHUB_* and RUNNER_* (docs: "Variables").
    Object.assign(env, {
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_ACTION: id,
      GITHUB_ACTOR: github.actor,
      GITHUB_API_URL: github.api_url,
      GITHUB_BASE_REF: github.base_ref,
      GITHUB_ENV: files.env,
      GITHUB_EVENT_NAME: github.event_name,
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_GRAPHQL_URL: github.graphql_url,
      GITHUB_HEAD_REF: github.head_ref,
      GITHUB_JOB: github.job,
      GITHUB_OUTPUT: files.output,
      GITHUB_PATH: files.path,
      GITHUB_REF: github.ref,
      GITHUB_REF_NAME: github.ref_name,
      GITHUB_REF_TYPE: github.ref_type,
      GITHUB_REPOSITORY: github.repository,
      GITHUB_REPOSITORY_OWNER: github.repository_owner,
      GITHUB_RUN_ATTEMPT: github.run_attempt,
      GITHUB_RUN_ID: github.run_id,
      GITHUB_RUN_NUMBER: github.run_number,
      GITHUB_SERVER_URL: github.server_url,
      GITHUB_SHA: github.sha,
      GITHUB_STATE: files.state,
      GITHUB_STEP_SUMMARY: files.summary,
      GITHUB_WORKFLOW: github.workflow,
      GITHUB_WORKSPACE: this.workspace,
      RUNNER_ARCH: runnerArch(),
      RUNNER_ENVIRONMENT: 'github-hosted',
      RUNNER_NAME: 'runbook-harness',
      RUNNER_OS: 'Linux',
      RUNNER_TEMP: this.runnerTemp,
      RUNNER_TOOL_CACHE: this.toolCache,
    });
    if (options.debug) env.RUNNER_DEBUG = '1';
    env.PATH = [...this.prepended, env.PATH ?? ''].filter((p) => p !== '').join(delimiter);
    return env;
  }

  private async runEntryFile(
    id: string,
    options: MergedOptions,
    script: string,
    stepEnv: Record<string, string>,
    inputs: ResolvedInputs,
    stateEnv: Record<string, string>,
    phase: 'main' | 'post',
    launch?: EntryLaunch,
  ): Promise<EntryOutcome> {
    const files = this.createCommandFiles();
    const env = { ...this.environment(options, id, stepEnv, files), ...stateEnv, ...inputs.env };
    const run = await runEntry({
      script,
      command: launch?.command,
      env,
      cwd: launch?.cwd ?? resolve(this.workspace, options.cwd ?? '.'),
      timeoutMs: launch?.timeoutMs ?? options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      cancelAfterMs: launch ? launch.cancelAfterMs : phase === 'main' ? options.cancelAfterMs : undefined,
      cancelOnLine: !launch && phase === 'main' ? options.cancelOnLine : undefined,
      cancelWhen: !launch && phase === 'main' ? options.cancelWhen : undefined,
      onLine: options.onLine,
      hostsFile: options.hostsFile,
    });
    if (run.pgid !== undefined) this.processGroups.push(run.pgid);

    const commands = processCommands(
      run.lines.map((l) => l.text),
      env,
    );
    const annotations = [...commands.annotations];
    const errors = [...commands.errors];
    const readEntries = (file: string, what: string) => {
      try {
        return parseKeyValueFile(readFileSync(file, 'utf8'), what);
      } catch (error) {
        if (!(error instanceof FileCommandError)) throw error;
        errors.push(`Unable to process file command '${what}' successfully. ${error.message}`);
        return [];
      }
    };
    const outputs = { ...commands.outputs, ...toRecord(readEntries(files.output, 'output')) };
    const state = { ...commands.state, ...toRecord(readEntries(files.state, 'state')) };
    const envAdded: Record<string, string> = {};
    for (const { name, value } of readEntries(files.env, 'env')) {
      // The runner refuses NODE_OPTIONS from GITHUB_ENV: it would let a step inject code into every later action.
      if (name === 'NODE_OPTIONS')
        annotations.push(errorAnnotation("Can't store NODE_OPTIONS output parameter using '$GITHUB_ENV' command."));
      else envAdded[name] = value;
    }
    const pathAdded = parsePathFile(readFileSync(files.path, 'utf8'));
    const summaryBytes = readFileSync(files.summary);
    const summary = summaryBytes.toString('utf8');
    if (summaryBytes.length > SUMMARY_LIMIT_BYTES) {
      annotations.push(
        errorAnnotation(
          `$GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of ${SUMMARY_LIMIT_BYTES / 1024}k, got ${Math.floor(summaryBytes.length / 1024)}k.`,
        ),
      );
    }
    for (const message of errors) annotations.push(errorAnnotation(message));

    Object.assign(this.envFromSteps, envAdded);
    this.prepended = prependPath(this.prepended, pathAdded);

    const surfaces: Surface[] = [
      { where: `the ${phase} step log`, text: visibleLog(run, commands) },
      { where: `the ${phase} step summary`, text: summary },
      ...Object.entries(outputs).map(([name, text]) => ({ where: `outputs.${name}`, text })),
      ...annotations.map((a) => ({
        where: `an ${a.level} annotation of the ${phase} step`,
        text: [a.message, ...Object.values(a.properties)].join('\n'),
      })),
      ...Object.entries(envAdded).map(([name, text]) => ({ where: `GITHUB_ENV ${name}`, text })),
      { where: 'GITHUB_PATH', text: pathAdded.join('\n') },
    ];
    return {
      run,
      commands,
      outputs,
      env: envAdded,
      path: pathAdded,
      state,
      summary,
      annotations,
      failed: run.exitCode !== 0 || run.timedOut || run.cancelled || errors.length > 0,
      surfaces,
    };
  }
}

/** What a user sees in the log: the runner swallows add-mask lines (their value is registered, not printed). */
function visibleLog(run: ProcessRun, commands: CommandResults): string {
  return run.lines
    .filter((_, index) => !commands.hiddenLines.has(index))
    .map((l) => l.text)
    .join('\n');
}

/**
 * The runner's command line for a `shell:` value (docs: "Workflow syntax", jobs.<id>.steps[*].shell): the known
 * names, or a custom template with `{0}` for the script file.
 */
export function shellCommand(
  shell: string,
  script: string,
): { script: string; command: { file: string; args: string[] } } {
  const known: Record<string, string> = {
    bash: 'bash --noprofile --norc -eo pipefail {0}',
    sh: 'sh -e {0}',
    python: 'python {0}',
    pwsh: "pwsh -command . '{0}'",
  };
  const template = known[shell.trim()] ?? shell.trim();
  if (!template.includes('{0}'))
    throw new Error(`shell '${shell}' is not one of bash, sh, python, pwsh and has no {0}`);
  const [file, ...args] = template.split(/\s+/).map((part) => part.replace('{0}', script));
  return { script, command: { file, args } };
}

function childResult(id: string, step: CompositeStep): CompositeStepResult {
  return {
    id,
    name: step.name,
    exitCode: 0,
    outcome: 'skipped',
    outputs: {},
    log: '',
    timedOut: false,
    cancelled: false,
  };
}

function errorAnnotation(message: string): Annotation {
  return { level: 'error', message, properties: {} };
}

function runnerArch(): string {
  return { x64: 'X64', arm64: 'ARM64', arm: 'ARM', ia32: 'X86' }[process.arch as string] ?? process.arch.toUpperCase();
}

function notRun(): PostResult {
  return {
    ran: false,
    exitCode: 0,
    log: '',
    annotations: [],
    summary: '',
    masks: [],
    timedOut: false,
    outcome: 'skipped',
    durationMs: 0,
  };
}

function emptyResult(id: string, outcome: StepOutcome): StepResult {
  return {
    id,
    exitCode: 0,
    outcome,
    outputs: {},
    summary: '',
    annotations: [],
    masks: [],
    env: {},
    path: [],
    state: {},
    log: '',
    durationMs: 0,
    timedOut: false,
    cancelled: false,
    groups: [],
    warnings: [],
    deprecations: [],
    inputs: {},
  };
}
