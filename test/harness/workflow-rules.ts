// The house rules for workflow files, as checks over a workflow's text: third-party actions pinned to a commit,
// no `${{ }}` pasted into scripts, permissions declared, and every reference to runbook's own actions and reusable
// workflows naming inputs, secrets and outputs that exist. Each check returns problems (empty when the file obeys).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

type Mapping = Record<string, unknown>;

export interface WorkflowFile {
  /** Path shown in problems. */
  path: string;
  text: string;
}

interface CallSpec {
  inputs: Mapping;
  secrets: Mapping;
  outputs: Mapping;
}

const isMapping = (value: unknown): value is Mapping =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const mapping = (value: unknown): Mapping => (isMapping(value) ? value : {});

/** A `uses:` of runbook itself: `./actions/x`, the `.runbook` checkout of a called workflow, or `<owner>/runbook/…@ref`. */
const OWN_ACTION = /^(?:\.\/(?:\.runbook\/)?|[^/\s]+\/runbook\/)actions\/([\w-]+)(?:@\S+)?$/;
const OWN_WORKFLOW = /^(?:\.\/|[^/\s]+\/runbook\/)\.github\/workflows\/([\w.-]+\.ya?ml)(?:@\S+)?$/;
const PINNED = /^[\w.-]+\/[\w.-]+(?:\/[\w./-]+)?@[0-9a-f]{40}$/;

function parsed(file: WorkflowFile): Mapping {
  return mapping(parse(file.text));
}

function jobsOf(doc: Mapping): [string, Mapping][] {
  return Object.entries(mapping(doc.jobs)).map(([id, job]) => [id, mapping(job)]);
}

function stepsOf(job: Mapping): Mapping[] {
  return Array.isArray(job.steps) ? job.steps.map(mapping) : [];
}

/** `on:` as a mapping whatever its spelling (`on: push`, `on: [push]`, `on: { push: … }`). */
function triggers(doc: Mapping): Mapping {
  const on = doc.on;
  if (typeof on === 'string') return { [on]: null };
  if (Array.isArray(on)) return Object.fromEntries(on.map((name) => [String(name), null]));
  return mapping(on);
}

function callSpec(doc: Mapping): CallSpec | undefined {
  const on = triggers(doc);
  if (!('workflow_call' in on)) return undefined;
  const call = mapping(on.workflow_call);
  return { inputs: mapping(call.inputs), secrets: mapping(call.secrets), outputs: mapping(call.outputs) };
}

/** Every third-party `uses:` is `owner/repo[/path]@<40 hex>` followed by a `# vX.Y.Z` comment. */
export function unpinnedUses(file: WorkflowFile): string[] {
  const problems: string[] = [];
  file.text.split('\n').forEach((line, index) => {
    const match = /^\s*(?:-\s+)?uses:\s*['"]?([^\s'"#]+)['"]?\s*(#.*)?$/.exec(line);
    if (!match) return;
    const [, uses, comment] = match;
    if (uses.startsWith('./') || uses.startsWith('docker://') || OWN_ACTION.test(uses) || OWN_WORKFLOW.test(uses))
      return;
    const where = `${file.path}:${index + 1}`;
    if (!PINNED.test(uses)) problems.push(`${where}: '${uses}' is not pinned to a full commit SHA`);
    else if (!/^#\s*v\d+\.\d+\.\d+\b/.test(comment ?? ''))
      problems.push(`${where}: '${uses}' has no '# vX.Y.Z' comment naming the version`);
  });
  return problems;
}

/** `${{ }}` never inside a `run:` script: values reach scripts through `env:`. */
export function expressionsInRun(file: WorkflowFile): string[] {
  const problems: string[] = [];
  for (const [id, job] of jobsOf(parsed(file))) {
    stepsOf(job).forEach((step, index) => {
      if (typeof step.run === 'string' && step.run.includes('${{'))
        problems.push(`${file.path}: job '${id}' step ${index + 1} pastes \${{ }} into run: (use env:)`);
    });
  }
  return problems;
}

/**
 * `permissions:` declared at the top, and neither read-all nor write-all anywhere. A reusable workflow gives no
 * permission at the top (`{}`) and each of its jobs says what it needs.
 */
export function permissionProblems(file: WorkflowFile): string[] {
  const doc = parsed(file);
  const problems: string[] = [];
  if (!('permissions' in doc)) problems.push(`${file.path}: no top-level permissions:`);
  const broad = (value: unknown) => value === 'write-all' || value === 'read-all';
  if (broad(doc.permissions)) problems.push(`${file.path}: permissions: ${String(doc.permissions)}`);
  const reusable = callSpec(doc) !== undefined;
  for (const [id, job] of jobsOf(doc)) {
    if (broad(job.permissions)) problems.push(`${file.path}: job '${id}' has permissions: ${String(job.permissions)}`);
    if (reusable && !('permissions' in job)) problems.push(`${file.path}: job '${id}' declares no permissions:`);
  }
  return problems;
}

/** Every string of a node with its key, so `if:` values (expressions without `${{ }}`) can be told apart. */
function* strings(node: unknown, key = ''): Generator<[string, string]> {
  if (typeof node === 'string') yield [key, node];
  else if (Array.isArray(node)) for (const item of node) yield* strings(item, key);
  else if (isMapping(node)) for (const [k, v] of Object.entries(node)) yield* strings(v, k);
}

/** The expressions of a workflow's jobs: the whole of each `if:`, and each `${{ … }}` elsewhere. */
function expressions(node: unknown): string[] {
  const found: string[] = [];
  for (const [key, value] of strings(node)) {
    if (key === 'if') found.push(value);
    for (const m of value.matchAll(/\$\{\{([\s\S]*?)\}\}/g)) found.push(m[1]);
  }
  return found;
}

function contextNames(expressionList: string[], context: string): Set<string> {
  const names = new Set<string>();
  const pattern = new RegExp(`(?<![\\w.-])${context}\\.([\\w-]+)`, 'g');
  for (const e of expressionList) for (const m of e.matchAll(pattern)) names.add(m[1]);
  return names;
}

/**
 * In a reusable workflow every `inputs.x` and `secrets.X` the jobs use is declared under `workflow_call`, and each
 * output's value names a job that exists; in a workflow_dispatch workflow every `inputs.x` is a form field.
 */
export function undeclaredReferences(file: WorkflowFile): string[] {
  const doc = parsed(file);
  const spec = callSpec(doc);
  const dispatch = mapping(triggers(doc).workflow_dispatch);
  const used = expressions(doc.jobs);
  const problems: string[] = [];
  const declaredInputs = new Set([...Object.keys(spec?.inputs ?? {}), ...Object.keys(mapping(dispatch.inputs))]);
  for (const name of contextNames(used, 'inputs'))
    if (!declaredInputs.has(name)) problems.push(`${file.path}: inputs.${name} is used but not declared`);
  if (spec) {
    for (const name of contextNames(used, 'secrets'))
      if (name !== 'GITHUB_TOKEN' && !(name in spec.secrets))
        problems.push(`${file.path}: secrets.${name} is used but not declared under workflow_call.secrets`);
    const jobIds = new Set(jobsOf(doc).map(([id]) => id));
    for (const [name, output] of Object.entries(spec.outputs)) {
      for (const job of contextNames(expressions(mapping(output).value), 'jobs'))
        if (!jobIds.has(job)) problems.push(`${file.path}: output '${name}' reads jobs.${job}, which does not exist`);
    }
  }
  return problems;
}

/**
 * Every step that uses one of runbook's actions names an action that exists, gives only inputs its action.yml
 * declares and every input it requires; every job that calls one of runbook's reusable workflows names a workflow
 * that exists and is callable, with only declared inputs and secrets, every required one, and only outputs it has.
 */
export function ownReferenceProblems(file: WorkflowFile, root: string): string[] {
  const doc = parsed(file);
  const problems: string[] = [];
  for (const [id, job] of jobsOf(doc)) {
    stepsOf(job).forEach((step, index) => {
      const match = typeof step.uses === 'string' ? OWN_ACTION.exec(step.uses) : null;
      if (!match) return;
      const where = `${file.path}: job '${id}' step ${index + 1}`;
      const metadata = join(root, 'actions', match[1], 'action.yml');
      if (!existsSync(metadata)) {
        problems.push(`${where} uses '${step.uses}', but actions/${match[1]}/action.yml does not exist`);
        return;
      }
      const inputs = mapping(mapping(parse(readFileSync(metadata, 'utf8'))).inputs);
      problems.push(...argumentProblems(where, `actions/${match[1]}`, mapping(step.with), inputs));
    });
    const match = typeof job.uses === 'string' ? OWN_WORKFLOW.exec(job.uses) : null;
    if (!match) continue;
    const where = `${file.path}: job '${id}'`;
    const called = join(root, '.github', 'workflows', match[1]);
    const spec = existsSync(called) ? callSpec(mapping(parse(readFileSync(called, 'utf8')))) : undefined;
    if (!spec) {
      problems.push(`${where} calls '${job.uses}', which is not a workflow_call workflow of this repository`);
      continue;
    }
    problems.push(...argumentProblems(where, match[1], mapping(job.with), spec.inputs));
    if (job.secrets !== 'inherit') {
      for (const name of Object.keys(mapping(job.secrets)))
        if (!(name in spec.secrets))
          problems.push(`${where} passes secret '${name}', which ${match[1]} does not declare`);
      for (const [name, secret] of Object.entries(spec.secrets))
        if (mapping(secret).required === true && !(name in mapping(job.secrets)))
          problems.push(`${where} does not pass the required secret '${name}' of ${match[1]}`);
    }
    // Later jobs may only read outputs the called workflow declares.
    for (const [other, otherJob] of jobsOf(doc)) {
      for (const e of expressions(otherJob)) {
        for (const m of e.matchAll(new RegExp(`needs\\.${id}\\.outputs\\.([\\w-]+)`, 'g')))
          if (!(m[1] in spec.outputs))
            problems.push(`${file.path}: job '${other}' reads needs.${id}.outputs.${m[1]}, which ${match[1]} lacks`);
      }
    }
  }
  return problems;
}

function argumentProblems(where: string, target: string, given: Mapping, declared: Mapping): string[] {
  const problems: string[] = [];
  for (const name of Object.keys(given))
    if (!(name in declared)) problems.push(`${where} gives '${name}', which ${target} does not declare`);
  for (const [name, spec] of Object.entries(declared)) {
    const required = mapping(spec).required === true && !('default' in mapping(spec));
    if (required && !(name in given)) problems.push(`${where} does not give the required input '${name}' of ${target}`);
  }
  return problems;
}

/** Every rule at once. */
export function workflowProblems(file: WorkflowFile, root: string): string[] {
  return [
    ...unpinnedUses(file),
    ...expressionsInRun(file),
    ...permissionProblems(file),
    ...undeclaredReferences(file),
    ...ownReferenceProblems(file, root),
  ];
}
