// A local workflow runner: a workflow file is parsed and validated by GitHub's own parser (@actions/workflow-parser),
// its `on:` is matched against one event (workflow-triggers.ts), and its jobs run in `needs` order with `if:`, job
// `outputs`, `environment`, `env`, `strategy.matrix`, `services` (test bed clusters), jobs that call a reusable
// workflow (`uses: ./.github/workflows/x.yml` or `<repository>/.github/workflows/x.yml@<ref>`: typed inputs, secrets,
// outputs), and steps that are `run:` scripts (bash), local actions (`./`, `./actions/x`, `<repository>/actions/x@<ref>`;
// run by the harness's Job, posts included) or the local equivalents of checkout, setup-python, setup-node
// (workflow-setup-node.ts) and upload/download-artifact (workflow-adapters.ts). `${{ }}` is evaluated by @actions/expressions. Anything else a workflow may say
// (containers, other third-party actions, continue-on-error…) is refused with an UnsupportedWorkflowError naming it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { parse } from 'yaml';
import { Job } from './job.js';
import {
  artifactServiceOf,
  downloadArtifactFromService,
  uploadArtifactToService,
} from './artifact-service-adapters.js';
import type { GithubOptions, StepOutcome, StepResult } from './types.js';
import {
  checkout,
  downloadArtifact,
  setupPythonScript,
  startServices,
  uploadArtifact,
  type AdapterResult,
  type ServiceClusters,
} from './workflow-adapters.js';
import { setupNodeScript } from './workflow-setup-node.js';
import { evaluateIf, interpolateValue, type RunStatus, type WorkflowContext } from './workflow-expressions.js';
import {
  expandMatrix,
  triggeredBy,
  UnsupportedWorkflowError,
  WorkflowError,
  type MatrixCombination,
  type WorkflowEvent,
} from './workflow-triggers.js';

type Mapping = Record<string, unknown>;

const REPO_ROOT = new URL('../../', import.meta.url).pathname;

export { UnsupportedWorkflowError, WorkflowError, type WorkflowEvent };

export interface RunWorkflowOptions {
  /** Path of the workflow file, relative to the repository (or absolute). */
  workflow: string;
  event: WorkflowEvent;
  /** workflow_dispatch inputs, by name. */
  inputs?: Record<string, string | boolean | number>;
  /** The `secrets` context; every value is guarded against leaks by the harness. */
  secrets?: Record<string, string>;
  github?: GithubOptions;
  /** Variables the runner itself gives every step (e.g. ACTIONS_RESULTS_URL and ACTIONS_RUNTIME_TOKEN). */
  runnerEnv?: Record<string, string>;
  /**
   * The git repository `uses: <owner>/<repo>/…@<ref>` of the run's own repository (github.repository) resolves in:
   * the ref is archived from it into a temporary directory (default: this working tree's repository).
   */
  repositoryDir?: string;
  /** Local git directories of other repositories (owner/name → directory), for checkouts and `uses: …@<ref>`. */
  repositories?: Record<string, string>;
  /** The test bed clusters `services:` images map to (postgres for postgres:*, mysql for mysql:* and mariadb:*). */
  services?: ServiceClusters;
  /**
   * The directory upload-artifact/download-artifact keep artifacts in (default: a temporary one for the run); unused
   * when runnerEnv names an artifact service (ACTIONS_RESULTS_URL): the adapters then use that service.
   */
  artifacts?: string;
  /**
   * Names the runner machine resolves (name → address), as a runner whose /etc/hosts or DNS has them: every step
   * process sees the machine's /etc/hosts plus these lines, mounted over /etc/hosts in a mount namespace of its own
   * (root only). With a private CA in `runnerEnv` (NODE_EXTRA_CA_CERTS for Node, CURL_CA_BUNDLE for curl), a step
   * reaches `https://<name>/` served on that address with a certificate of that CA, as on a self-hosted runner.
   */
  hosts?: Record<string, string>;
}

/** The run's options with what runWorkflow made for it. */
interface RunState extends RunWorkflowOptions {
  hostsFile?: string;
}

/** Writes the machine's /etc/hosts plus `address name` lines for `hosts` into `dir`; returns the file. */
export function hostsFileWith(hosts: Record<string, string>, dir: string): string {
  const lines = Object.entries(hosts).map(([name, address]) => {
    if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(name) || isIP(address) === 0)
      throw new WorkflowError(`hosts: '${name}' → '${address}' is not a host name and an IP address`);
    return `${address} ${name}`;
  });
  const file = join(dir, 'hosts');
  writeFileSync(file, `${readFileSync('/etc/hosts', 'utf8').trimEnd()}\n${lines.join('\n')}\n`);
  return file;
}

/** Where a workflow's own repository is: this working tree, or a ref of it archived to a temporary directory. */
interface Source {
  root: string;
  /** owner/name of that repository. */
  repository: string;
  /** The commit job.workflow_sha names; undefined for the working tree (then github.sha, the commit under test). */
  sha?: string;
}

export interface JobRun {
  id: string;
  /** 'cancelled': a matrix combination fail-fast stopped before it ran. */
  result: 'success' | 'failure' | 'skipped' | 'cancelled';
  outputs: Record<string, string>;
  /** The combination of a matrix job's run; a matrix job's own JobRun lists them in `combinations`. */
  matrix?: MatrixCombination;
  combinations?: JobRun[];
  environment?: { name: string; url: string };
  /** `message`: what a local equivalent of a third-party action said (its failure, or a notice). */
  steps: { id: string; outcome: StepOutcome; result?: StepResult; message?: string }[];
  /** The jobs of the reusable workflow this job called. */
  called?: JobRun[];
}

export interface WorkflowRun {
  /** false when `on:` does not match the event: nothing ran. */
  triggered: boolean;
  /** Jobs in the order they ran (or were skipped). */
  jobs: JobRun[];
  conclusion: 'success' | 'failure';
}

const JOB_KEYS = new Set([
  'name',
  'needs',
  'if',
  'runs-on',
  'permissions',
  'environment',
  'outputs',
  'env',
  'steps',
  'strategy',
  'services',
]);
const STRATEGY_KEYS = new Set(['matrix', 'fail-fast', 'max-parallel']);
const CALL_KEYS = new Set(['name', 'needs', 'if', 'permissions', 'uses', 'with', 'secrets', 'strategy']);
// One run at a time: concurrency changes nothing in a local run. timeout-minutes bounds each step of the job (the
// harness's own 120 s otherwise): a step that outlives it is cancelled as the runner cancels it.
const JOB_KEYS_IGNORED_HERE = new Set(['timeout-minutes', 'concurrency']);
const STEP_KEYS = new Set(['id', 'name', 'if', 'run', 'uses', 'with', 'env', 'working-directory', 'shell']);

const mapping = (value: unknown): Mapping =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Mapping) : {};
const list = (value: unknown): string[] =>
  value === undefined || value === null ? [] : Array.isArray(value) ? value.map(String) : [String(value)];

/** Parses and validates with GitHub's parser; returns the plain YAML for the runner to walk. */
export async function loadWorkflow(path: string): Promise<Mapping> {
  const file = path.startsWith('/') ? path : join(REPO_ROOT, path);
  const content = readFileSync(file, 'utf8');
  const parsed = parseWorkflow({ name: path, content }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (parsed.value) {
    const template = await convertWorkflowTemplate(parsed.context, parsed.value);
    errors.push(...(template.errors ?? []).map((e) => e.Message));
  }
  if (errors.length > 0 || !parsed.value)
    throw new WorkflowError(`${path} is not a valid workflow:\n${errors.join('\n')}`);
  return mapping(parse(content));
}

/**
 * Inputs as a workflow_dispatch form or a workflow_call gives them: declared ones only, required ones present,
 * defaults applied, booleans and numbers typed, a choice one of its options.
 */
function typedInputs(declared: Mapping, given: Mapping, where: string, evaluate: (v: unknown) => unknown): Mapping {
  const inputs: Mapping = {};
  for (const name of Object.keys(given))
    if (!(name in declared)) throw new WorkflowError(`${where} gives input '${name}', which is not declared`);
  for (const [name, specValue] of Object.entries(declared)) {
    const spec = mapping(specValue);
    if (!(name in given) && spec.required === true && spec.default === undefined)
      throw new WorkflowError(`${where} does not give the required input '${name}'`);
    const raw = name in given ? evaluate(given[name]) : spec.default;
    const value =
      spec.type === 'boolean'
        ? raw === true || raw === 'true'
        : spec.type === 'number'
          ? Number(raw ?? 0)
          : raw === undefined || raw === null
            ? ''
            : String(raw);
    if (spec.type === 'number' && Number.isNaN(value))
      throw new WorkflowError(`${where}: input '${name}' is a number; got '${String(raw)}'`);
    if (spec.type === 'choice' && !list(spec.options).includes(String(value)))
      throw new WorkflowError(
        `${where}: input '${name}' is one of ${list(spec.options).join(', ')}; got '${String(value)}'`,
      );
    inputs[name] = value;
  }
  return inputs;
}

/** Jobs in an order where each comes after its needs; a cycle or an unknown need is an error. */
function jobOrder(jobs: Mapping): string[] {
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (id: string, from?: string) => {
    if (!(id in jobs)) throw new WorkflowError(`job '${from}' needs '${id}', which does not exist`);
    if (order.includes(id)) return;
    if (visiting.has(id)) throw new WorkflowError(`jobs '${id}' and '${from}' need each other`);
    visiting.add(id);
    for (const need of list(mapping(jobs[id]).needs)) visit(need, id);
    order.push(id);
  };
  for (const id of Object.keys(jobs)) visit(id);
  return order;
}

/** Runs the workflow for one event on this machine. */
export async function runWorkflow(options: RunWorkflowOptions): Promise<WorkflowRun> {
  const doc = await loadWorkflow(options.workflow);
  if (!triggeredBy(doc, options.event)) return { triggered: false, jobs: [], conclusion: 'success' };
  const dispatch = options.event.name === 'workflow_dispatch';
  if (!dispatch && options.inputs !== undefined)
    throw new WorkflowError(`inputs are given only to a workflow_dispatch run, not to ${options.event.name}`);
  const inputs = dispatch
    ? typedInputs(
        mapping(mapping(mapping(doc.on).workflow_dispatch).inputs),
        options.inputs ?? {},
        'the dispatch',
        (v) => v,
      )
    : {};
  // GitHub's payload of a dispatch carries the form's values as strings (github.event.inputs).
  const event = dispatch
    ? {
        ...options.event,
        payload: {
          ...options.event.payload,
          inputs: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, String(v)])),
        },
      }
    : options.event;
  const artifacts = options.artifacts ?? mkdtempSync(join(tmpdir(), 'runbook-artifacts-'));
  mkdirSync(artifacts, { recursive: true });
  const hostsDir = options.hosts === undefined ? undefined : mkdtempSync(join(tmpdir(), 'runbook-hosts-'));
  const hostsFile = hostsDir === undefined ? undefined : hostsFileWith(options.hosts!, hostsDir);
  const runOptions: RunState = { ...options, event, artifacts, hostsFile };
  const repository = githubContext(runOptions).repository as string;
  try {
    const jobs = await runJobs(doc, { inputs, secrets: options.secrets ?? {} }, runOptions, {
      root: REPO_ROOT,
      repository,
    });
    return {
      triggered: true,
      jobs,
      conclusion: jobs.some((j) => j.result === 'failure') ? 'failure' : 'success',
    };
  } finally {
    if (options.artifacts === undefined) rmSync(artifacts, { recursive: true, force: true });
    if (hostsDir !== undefined) rmSync(hostsDir, { recursive: true, force: true });
  }
}

/** The local git directory of a repository: repositoryDir for the run's own, else as `repositories` names it. */
function gitDirOf(repository: string, options: RunWorkflowOptions): string | undefined {
  if (options.repositories?.[repository] !== undefined) return options.repositories[repository];
  return repository === githubContext(options).repository ? (options.repositoryDir ?? REPO_ROOT) : undefined;
}

/** The jobs of one workflow in needs order; `scope` is what its expressions see as inputs and secrets. */
async function runJobs(
  doc: Mapping,
  scope: { inputs: Mapping; secrets: Record<string, string> },
  options: RunWorkflowOptions,
  source: Source,
): Promise<JobRun[]> {
  const jobs = mapping(doc.jobs);
  const runs: Record<string, JobRun> = {};
  const github = githubContext(options);
  for (const id of jobOrder(jobs)) {
    const job = mapping(jobs[id]);
    const allowed = job.uses === undefined ? JOB_KEYS : CALL_KEYS;
    for (const key of Object.keys(job)) {
      if (!allowed.has(key) && !JOB_KEYS_IGNORED_HERE.has(key))
        throw new UnsupportedWorkflowError(`jobs.${id}.${key} is not supported by the local runner yet`);
    }
    const needs = list(job.needs);
    const needsContext = Object.fromEntries(
      needs.map((n) => [n, { result: runs[n].result, outputs: runs[n].outputs }]),
    );
    const results: string[] = needs.map((n) => runs[n].result);
    const status: RunStatus = results.includes('failure')
      ? 'failure'
      : results.includes('skipped')
        ? 'skipped'
        : 'success';
    const context: WorkflowContext = {
      contexts: { github, inputs: scope.inputs, secrets: scope.secrets, needs: needsContext, vars: {} },
      status,
    };
    if (!evaluateIf(job.if as string | undefined, context)) {
      runs[id] = { id, result: 'skipped', outputs: {}, steps: [] };
      continue;
    }
    const once = (matrixContext: Mapping, strategy: Mapping) => {
      const withMatrix = { ...context, contexts: { ...context.contexts, matrix: matrixContext, strategy } };
      return job.uses === undefined
        ? runJob(id, job, doc, withMatrix, options, scope.secrets, source)
        : callWorkflow(id, job, withMatrix, options, source);
    };
    runs[id] = job.strategy === undefined ? await once({}, {}) : await runMatrix(id, job, context, once);
  }
  return Object.values(runs);
}

/**
 * A matrix job: each combination runs as its own job, one after the other here (max-parallel changes nothing); with
 * fail-fast (the default) a failure cancels the combinations not started yet. The job fails when one failed, and its
 * outputs are those of the last combination that set them, as GitHub documents for matrix outputs.
 */
async function runMatrix(
  id: string,
  job: Mapping,
  context: WorkflowContext,
  once: (matrix: Mapping, strategy: Mapping) => Promise<JobRun>,
): Promise<JobRun> {
  const strategy = mapping(job.strategy);
  for (const key of Object.keys(strategy))
    if (!STRATEGY_KEYS.has(key))
      throw new UnsupportedWorkflowError(`jobs.${id}.strategy.${key} is not supported by the local runner yet`);
  const combinations = expandMatrix(strategy.matrix, `jobs.${id}.strategy`);
  const failFast = strategy['fail-fast'] === undefined ? true : evaluateIf(String(strategy['fail-fast']), context);
  const maxParallel = strategy['max-parallel'] === undefined ? combinations.length : Number(strategy['max-parallel']);
  const runs: JobRun[] = [];
  let failed = false;
  for (const [index, matrix] of combinations.entries()) {
    if (failed && failFast) {
      runs.push({ id, result: 'cancelled', outputs: {}, steps: [], matrix });
      continue;
    }
    const run = await once(matrix, {
      'fail-fast': failFast,
      'job-index': index,
      'job-total': combinations.length,
      'max-parallel': maxParallel,
    });
    run.matrix = matrix;
    runs.push(run);
    if (run.result === 'failure') failed = true;
  }
  const outputs: Record<string, string> = {};
  for (const run of runs) for (const [k, v] of Object.entries(run.outputs)) if (v !== '') outputs[k] = v;
  return { id, result: failed ? 'failure' : 'success', outputs, steps: [], combinations: runs };
}

/**
 * A job that calls a reusable workflow of this repository: its declared inputs (defaults and types applied, an
 * undeclared or missing required one refused), the secrets it declares (or all with `inherit`), its jobs, then its
 * outputs from the `jobs` context.
 */
async function callWorkflow(
  id: string,
  job: Mapping,
  context: WorkflowContext,
  options: RunWorkflowOptions,
  source: Source,
) {
  const uses = String(job.uses);
  const local = /^\.\/(\.github\/workflows\/[\w.-]+\.ya?ml)$/.exec(uses);
  const remote = /^([\w.-]+\/[\w.-]+)\/(\.github\/workflows\/[\w.-]+\.ya?ml)@(.+)$/.exec(uses);
  if (!local && !remote)
    throw new UnsupportedWorkflowError(
      `jobs.${id} uses '${uses}': only ./.github/workflows/<file> and <this repository>/.github/workflows/<file>@<ref> run locally`,
    );
  // ./ is the caller's own repository; owner/repo@ref is that ref, archived (only this repository's refs exist here).
  const called = local ? source : resolveRef(remote![1], remote![3], `jobs.${id}`, options);
  const file = local ? local[1] : remote![2];
  const doc = await loadWorkflow(join(called.root, file));
  const on = mapping(doc.on);
  if (!('workflow_call' in on))
    throw new WorkflowError(`${file} has no 'on: workflow_call'; jobs.${id} cannot call it`);
  const call = mapping(on.workflow_call);
  const inputs = typedInputs(mapping(call.inputs), mapping(job.with), `jobs.${id} (calling ${file})`, (v) =>
    interpolateValue(v, context),
  );
  const declaredSecrets = mapping(call.secrets);
  const outer = mapping(context.contexts.secrets) as Record<string, string>;
  const secrets: Record<string, string> = {};
  if (job.secrets === 'inherit') Object.assign(secrets, outer);
  else {
    for (const [name, value] of Object.entries(mapping(job.secrets))) {
      if (!(name in declaredSecrets))
        throw new WorkflowError(`jobs.${id} passes secret '${name}', which ${file} does not declare`);
      secrets[name] = interpolateValue(value, context);
    }
  }
  const calledJobs = await runJobs(doc, { inputs, secrets }, options, called);
  const jobsContext = Object.fromEntries(calledJobs.map((j) => [j.id, { result: j.result, outputs: j.outputs }]));
  const outputs = Object.fromEntries(
    Object.entries(mapping(call.outputs)).map(([name, spec]) => [
      name,
      interpolateValue(mapping(spec).value, {
        contexts: { ...context.contexts, jobs: jobsContext },
        status: 'success',
      }),
    ]),
  );
  const run: JobRun = {
    id,
    result: calledJobs.some((j) => j.result === 'failure') ? 'failure' : 'success',
    outputs,
    steps: [],
    called: calledJobs,
  };
  return run;
}

/**
 * `<owner>/<repo>/…@<ref>` of the run's own repository: the ref (tag, branch or commit) of repositoryDir, archived
 * with `git archive` into a temporary directory, as GitHub fetches that ref's tree; any other repository is refused.
 */
const archives = new Map<string, Source>();
function resolveRef(repository: string, ref: string, where: string, options: RunWorkflowOptions) {
  const dir = gitDirOf(repository, options);
  if (dir === undefined)
    throw new UnsupportedWorkflowError(
      `${where} uses ${repository}@${ref}: no local git repository is known for it (repositoryDir, repositories)`,
    );
  let sha: string;
  try {
    sha = execFileSync('git', ['-C', dir, 'rev-parse', '--verify', '--quiet', `${ref}^{commit}`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    throw new WorkflowError(`${where}: ${repository} has no ref '${ref}'`);
  }
  const known = archives.get(`${repository}@${sha}`);
  if (known) return known;
  const root = mkdtempSync(join(tmpdir(), `runbook-ref-${ref.replace(/[^\w.-]/g, '_')}-`));
  const archive = execFileSync('git', ['-C', dir, 'archive', '--format=tar', sha], { maxBuffer: 1 << 30 });
  execFileSync('tar', ['-x', '-C', root], { input: archive });
  const source = { root: root + '/', sha, repository };
  if (archives.size === 0)
    process.on('exit', () => archives.forEach((a) => rmSync(a.root, { recursive: true, force: true })));
  archives.set(`${repository}@${sha}`, source);
  return source;
}

function githubContext(options: RunWorkflowOptions): Mapping {
  const g = options.github ?? {};
  const ref = g.ref ?? String(options.event.payload.ref ?? 'refs/heads/main');
  return {
    event_name: options.event.name,
    event: options.event.payload,
    ref,
    ref_name: ref.replace(/^refs\/(heads|tags)\//, ''),
    sha: g.sha ?? String(options.event.payload.after ?? '0'.repeat(40)),
    repository: g.repository ?? 'ocpizza/runbook',
    repository_owner: (g.repository ?? 'ocpizza/runbook').split('/')[0],
    actor: g.actor ?? 'runbook-tests',
    workflow: options.workflow,
    run_id: g.runId ?? '1',
    run_number: g.runNumber ?? '1',
    server_url: g.serverUrl ?? 'https://github.com',
    api_url: g.apiUrl ?? 'https://api.github.com',
    // The run's GITHUB_TOKEN, as `${{ github.token }}` gives it in `with:` (download-artifact's github-token, a
    // release step's curl); the harness guards it as a secret.
    token: g.token ?? '',
  };
}

async function runJob(
  id: string,
  job: Mapping,
  doc: Mapping,
  outer: WorkflowContext,
  options: RunWorkflowOptions,
  secretValues: Record<string, string>,
  source: Source,
): Promise<JobRun> {
  const secrets = [...Object.values(secretValues), ...Object.values(options.secrets ?? {})].filter((s) => s !== '');
  const minutes =
    job['timeout-minutes'] === undefined ? undefined : Number(interpolateValue(job['timeout-minutes'], outer));
  if (minutes !== undefined && !(minutes > 0))
    throw new WorkflowError(`jobs.${id}.timeout-minutes is a positive number; got '${String(job['timeout-minutes'])}'`);
  const harness = new Job({
    ...(minutes === undefined ? {} : { timeoutMs: minutes * 60_000 }),
    github: { ...options.github, job: id, workflow: options.workflow },
    env: { ...options.runnerEnv },
    event: { name: options.event.name, payload: options.event.payload },
    secrets,
    ...((options as RunState).hostsFile === undefined ? {} : { hostsFile: (options as RunState).hostsFile }),
  });
  const scripts = mkdtempSync(join(tmpdir(), 'runbook-workflow-'));
  const github = mapping(outer.contexts.github);
  const run: JobRun = { id, result: 'success', outputs: {}, steps: [] };
  const steps: Record<string, { outputs: Record<string, string>; outcome: StepOutcome; conclusion: StepOutcome }> = {};
  let status: RunStatus = 'success';
  let jobServices: Mapping = {};
  try {
    if (job.services !== undefined)
      jobServices = await startServices(
        `jobs.${id}`,
        mapping(job.services),
        (value) => interpolateValue(value, outer),
        options.services ?? {},
      );
    const workflowEnv = mapping(doc.env);
    const jobEnvSource = mapping(job.env);
    const context = (): WorkflowContext => ({
      contexts: {
        ...outer.contexts,
        steps,
        env: env(),
        // The workflow's own repository: the commit under test (this working tree), or the ref a caller pinned.
        job: {
          status,
          services: jobServices,
          workflow_repository: source.repository,
          workflow_sha: source.sha ?? github.sha,
        },
        runner: { os: 'Linux', temp: harness.runnerTemp },
      },
      status,
    });
    const env = (): Record<string, string> => {
      const base = { ...evaluateAll(workflowEnv, outer), ...harness.env };
      return { ...base, ...evaluateAll(jobEnvSource, { ...outer, contexts: { ...outer.contexts, env: base } }) };
    };
    const stepList = Array.isArray(job.steps) ? job.steps.map(mapping) : [];
    for (const [index, step] of stepList.entries()) {
      for (const key of Object.keys(step)) {
        if (!STEP_KEYS.has(key))
          throw new UnsupportedWorkflowError(
            `jobs.${id}.steps[${index}].${key} is not supported by the local runner yet`,
          );
      }
      const stepId = typeof step.id === 'string' ? step.id : index === 0 ? '__run' : `__run_${index + 1}`;
      if (!evaluateIf(step.if as string | undefined, context())) {
        steps[stepId] = { outputs: {}, outcome: 'skipped', conclusion: 'skipped' };
        run.steps.push({ id: stepId, outcome: 'skipped' });
        continue;
      }
      const stepEnv = { ...env(), ...evaluateAll(mapping(step.env), context()) };
      const where = `jobs.${id}.steps[${index}]`;
      const thirdParty = typeof step.uses === 'string' ? THIRD_PARTY.exec(step.uses)?.[1] : undefined;
      if (thirdParty !== undefined && !SCRIPTED.has(thirdParty)) {
        const given = evaluateAll(mapping(step.with), context());
        const adapted = await adapt(thirdParty, where, given, harness, context(), source, options);
        const outcome: StepOutcome = adapted.failure === undefined ? 'success' : 'failure';
        steps[stepId] = { outputs: adapted.outputs, outcome, conclusion: outcome };
        const message = adapted.failure ?? adapted.notice;
        run.steps.push({ id: stepId, outcome, ...(message === undefined ? {} : { message }) });
        if (outcome === 'failure') status = 'failure';
        continue;
      }
      // setup-python and setup-node run as scripts so that their PATH and outputs go through the file commands.
      const python = thirdParty && SCRIPTED.has(thirdParty) ? evaluateAll(mapping(step.with), context()) : undefined;
      const script =
        python === undefined
          ? undefined
          : { run: (thirdParty === 'setup-node' ? setupNodeScript : setupPythonScript)(where, python) };
      const result =
        step.run !== undefined || script !== undefined
          ? await runScript(
              harness,
              scripts,
              stepId,
              script ?? step,
              python === undefined
                ? stepEnv
                : { ...stepEnv, REQUESTED: python['python-version'] ?? python['node-version'] ?? '' },
              context(),
            )
          : await runLocalAction(harness, id, index, stepId, step, stepEnv, context(), options, source);
      // A run step is the one step of its composite: its outputs are that step's (the composite declares none).
      const outcome = result.outcome;
      const outputs =
        step.run !== undefined || script !== undefined ? (result.steps?.[0]?.outputs ?? {}) : result.outputs;
      steps[stepId] = { outputs, outcome, conclusion: outcome };
      run.steps.push({ id: stepId, outcome, result });
      if (outcome === 'failure') status = 'failure';
    }
    await harness.finish();
    run.result = status === 'success' ? 'success' : 'failure';
    run.outputs = evaluateAll(mapping(job.outputs), context());
    if (job.environment !== undefined) {
      const environment = typeof job.environment === 'string' ? { name: job.environment } : mapping(job.environment);
      run.environment = {
        name: interpolateValue(environment.name, context()),
        url: interpolateValue(environment.url, context()),
      };
    }
    return run;
  } finally {
    harness.dispose();
    rmSync(scripts, { recursive: true, force: true });
  }
}

const THIRD_PARTY = /^actions\/(checkout|setup-python|setup-node|upload-artifact|download-artifact)@[0-9a-f]{40}$/;
/** Third-party actions whose local equivalent is a bash script run as the step (see the adapters). */
const SCRIPTED = new Set(['setup-python', 'setup-node']);

/** The local equivalents of checkout, upload-artifact and download-artifact (see workflow-adapters.ts). */
function adapt(
  action: string,
  where: string,
  given: Record<string, string>,
  harness: Job,
  context: WorkflowContext,
  source: Source,
  options: RunWorkflowOptions,
): AdapterResult | Promise<AdapterResult> {
  // A run whose steps see an artifact service (db-backup uploads there) keeps the adapters' artifacts there too.
  const service = artifactServiceOf(options.runnerEnv);
  if (service !== undefined && action === 'upload-artifact')
    return uploadArtifactToService(where, given, harness.workspace, service);
  if (service !== undefined && action === 'download-artifact')
    return downloadArtifactFromService(where, given, harness.workspace, service);
  const artifacts = options.artifacts!;
  if (action === 'upload-artifact') return uploadArtifact(where, given, harness.workspace, artifacts);
  if (action === 'download-artifact') return downloadArtifact(where, given, harness.workspace, artifacts);
  const job = mapping(context.contexts.job);
  const github = mapping(context.contexts.github);
  // The workflow's own repository when it is this working tree (no commit of its own): linked, not cloned, as the
  // commit under test is the working tree itself.
  if (source.sha === undefined && given.repository === job.workflow_repository && given.ref === job.workflow_sha) {
    if (!given.path) throw new UnsupportedWorkflowError(`${where}: the working tree is checked out into a path only`);
    const target = join(harness.workspace, given.path);
    mkdirSync(dirname(target), { recursive: true });
    symlinkSync(source.root, target);
    return { outputs: {} };
  }
  return checkout({
    where,
    given,
    workspace: harness.workspace,
    repository: String(github.repository),
    sha: String(github.sha),
    gitDir: (repository) => gitDirOf(repository, options),
  });
}

function evaluateAll(values: Mapping, context: WorkflowContext): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, interpolateValue(v, context)]));
}

/**
 * A `run:` step goes through the harness as a one-step composite action (bash, as on GitHub's Linux runners), so
 * file and workflow commands, the secrets guard and GITHUB_ENV/GITHUB_PATH behave as for any other step.
 */
async function runScript(
  harness: Job,
  scripts: string,
  stepId: string,
  step: Mapping,
  env: Record<string, string>,
  context: WorkflowContext,
): Promise<StepResult> {
  const shell = step.shell === undefined ? 'bash' : String(step.shell);
  if (shell !== 'bash') throw new UnsupportedWorkflowError(`shell '${shell}' is not supported by the local runner yet`);
  const dir = join(scripts, stepId);
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'action.yml'),
    [
      `name: ${stepId}`,
      'inputs:',
      '  script: { required: true }',
      'runs:',
      '  using: composite',
      '  steps:',
      // The workflow step's own if: was judged already; the composite must not judge it again.
      '    - if: always()',
      '      run: ${{ inputs.script }}',
      '      shell: bash',
      '',
    ].join('\n'),
  );
  const workingDirectory = step['working-directory'];
  return harness.step(stepId, {
    action: stepId,
    actionDir: dir,
    inputs: { script: interpolateValue(step.run, context) },
    env,
    if: 'always()',
    ...(workingDirectory === undefined ? {} : { cwd: interpolateValue(workingDirectory, context) }),
  });
}

async function runLocalAction(
  harness: Job,
  jobId: string,
  index: number,
  stepId: string,
  step: Mapping,
  env: Record<string, string>,
  context: WorkflowContext,
  options: RunWorkflowOptions,
  source: Source,
): Promise<StepResult> {
  const uses = String(step.uses);
  if (uses === './') {
    // The root composite action of the workspace's checkout; without one, of the workflow's repository.
    const root = existsSync(join(harness.workspace, 'action.yml')) ? harness.workspace : source.root;
    return harness.step(stepId, {
      action: 'root',
      actionDir: root,
      inputs: evaluateAll(mapping(step.with), context),
      env,
      if: 'always()',
    });
  }
  const where = `jobs.${jobId}.steps[${index}]`;
  const match = /^\.\/(?:([\w.-]+)\/)?actions\/([\w-]+)$/.exec(uses);
  const remote = /^([\w.-]+\/[\w.-]+)\/actions\/([\w-]+)@(.+)$/.exec(uses);
  if (!match && !remote)
    throw new UnsupportedWorkflowError(
      `${where} uses '${uses}': only ./, ./actions/<name>, ./<checkout>/actions/<name>, <known repository>/actions/<name>@<ref> and the local equivalents of actions/checkout, setup-python, setup-node, upload-artifact and download-artifact run locally`,
    );
  // ./actions/x is this repository's (the workflow's own checkout); ./<path>/actions/x is in a checkout made by an
  // earlier step, in the job's workspace; owner/repo/actions/x@ref is that ref's tree.
  const actionDir = remote
    ? join(resolveRef(remote[1], remote[3], where, options).root, 'actions', remote[2])
    : match![1] === undefined
      ? undefined
      : join(harness.workspace, match![1], 'actions', match![2]);
  return harness.step(stepId, {
    action: remote ? remote[2] : match![2],
    ...(actionDir === undefined ? {} : { actionDir }),
    inputs: evaluateAll(mapping(step.with), context),
    env,
    if: 'always()',
  });
}
