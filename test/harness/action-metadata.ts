/**
 * An action's action.yml as the runner reads it for a JavaScript action, and the runner's input rules:
 * INPUT_<NAME> is the name with spaces turned into underscores and upper-cased (dashes kept); defaults from
 * action.yml fill what the workflow did not give; an undeclared input is a warning on GitHub and a thrown error here
 * (a test that passes one has a typo); a missing required input only warns, because the runner does not enforce it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';

export interface InputMetadata {
  description?: string;
  required?: boolean;
  default?: string;
  deprecationMessage?: string;
}

/** One step of a `using: composite` action: a `run:` script with its shell, or a `uses:` of a local action. */
export interface CompositeStep {
  id?: string;
  name?: string;
  if?: string;
  run?: string;
  shell?: string;
  uses?: string;
  with: Record<string, string>;
  env: Record<string, string>;
  workingDirectory?: string;
  continueOnError: boolean;
}

export interface ActionMetadata {
  name: string;
  file: string;
  dir: string;
  inputs: Record<string, InputMetadata>;
  /** `value` is the expression a composite action maps each output from. */
  outputs: Record<string, { description?: string; value?: string }>;
  using: string;
  /** '' for a composite action. */
  main: string;
  post?: string;
  postIf: string;
  pre?: string;
  /** The steps of a composite action. */
  steps?: CompositeStep[];
}

export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

const record = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

export function parseActionMetadata(text: string, file: string): ActionMetadata {
  const doc = record(parse(text));
  const runs = record(doc.runs);
  const using = String(runs.using ?? '');
  const composite = using === 'composite';
  if (!/^node\d+$/.test(using) && !composite)
    throw new Error(`${file}: runs.using must be a Node runtime (node24) or composite; got '${using}'`);
  if (!composite && (typeof runs.main !== 'string' || runs.main === ''))
    throw new Error(`${file}: runs.main is missing`);
  const inputs: Record<string, InputMetadata> = {};
  for (const [name, raw] of Object.entries(record(doc.inputs))) {
    const spec = record(raw);
    inputs[name] = {
      description: spec.description === undefined ? undefined : String(spec.description),
      // YAML may give a number or boolean; the runner turns every default into a string.
      default: spec.default === undefined || spec.default === null ? undefined : String(spec.default),
      required: spec.required === true || spec.required === 'true',
      deprecationMessage: spec.deprecationMessage === undefined ? undefined : String(spec.deprecationMessage),
    };
  }
  const outputs: Record<string, { description?: string; value?: string }> = {};
  for (const [name, raw] of Object.entries(record(doc.outputs))) {
    const spec = record(raw);
    outputs[name] = { description: spec.description === undefined ? undefined : String(spec.description) };
    if (composite) outputs[name].value = spec.value === undefined || spec.value === null ? '' : String(spec.value);
  }
  return {
    name: String(doc.name ?? ''),
    file,
    dir: dirname(file),
    inputs,
    outputs,
    using,
    main: composite ? '' : String(runs.main),
    steps: composite ? parseCompositeSteps(runs.steps, file) : undefined,
    post: typeof runs.post === 'string' && runs.post !== '' ? runs.post : undefined,
    postIf: typeof runs['post-if'] === 'string' && runs['post-if'] !== '' ? runs['post-if'] : 'always()',
    pre: typeof runs.pre === 'string' && runs.pre !== '' ? runs.pre : undefined,
  };
}

const strings = (value: unknown): Record<string, string> =>
  Object.fromEntries(
    Object.entries(record(value)).map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)]),
  );

/** The runner's own checks on composite steps: each runs a script with an explicit shell, or uses an action. */
function parseCompositeSteps(raw: unknown, file: string): CompositeStep[] {
  if (!Array.isArray(raw) || raw.length === 0) throw new Error(`${file}: runs.steps of a composite action is missing`);
  return raw.map((entry: unknown, index) => {
    const step = record(entry);
    const where = `${file}: runs.steps[${index}]`;
    const run = typeof step.run === 'string' ? step.run : undefined;
    const uses = typeof step.uses === 'string' ? step.uses : undefined;
    if ((run === undefined) === (uses === undefined)) throw new Error(`${where} needs exactly one of run and uses`);
    // Unlike a workflow, a composite action has no default shell: the runner refuses a run step without one.
    if (run !== undefined && (typeof step.shell !== 'string' || step.shell === ''))
      throw new Error(`${where}: a run step in a composite action needs shell`);
    if (step.id !== undefined && !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(String(step.id)))
      throw new Error(`${where}: id '${String(step.id)}' must start with a letter or _`);
    return {
      id: step.id === undefined ? undefined : String(step.id),
      name: step.name === undefined ? undefined : String(step.name),
      if: step.if === undefined ? undefined : String(step.if),
      run,
      shell: run === undefined ? undefined : String(step.shell),
      uses,
      with: strings(step.with),
      env: strings(step.env),
      workingDirectory: step['working-directory'] === undefined ? undefined : String(step['working-directory']),
      continueOnError: step['continue-on-error'] === true || step['continue-on-error'] === 'true',
    };
  });
}

export function loadActionMetadata(actionDir: string): ActionMetadata {
  const file = ['action.yml', 'action.yaml'].map((f) => join(actionDir, f)).find((f) => existsSync(f));
  if (!file) throw new Error(`No action.yml in ${actionDir}`);
  return parseActionMetadata(readFileSync(file, 'utf8'), file);
}

/** An entry file as the runner finds it: relative to the action's folder. */
export function resolveEntry(metadata: ActionMetadata, entry: string): string {
  return isAbsolute(entry) ? entry : resolve(metadata.dir, entry);
}

export interface ResolvedInputs {
  /** Name → value for every input that is set (given or defaulted). */
  values: Record<string, string>;
  /** INPUT_* variables for the step. */
  env: Record<string, string>;
  warnings: string[];
}

/**
 * @param given inputs the test passes (already interpolated)
 * @param evaluateDefault turns an action.yml default (maybe `${{ github.token }}`) into its value
 */
export function resolveInputs(
  metadata: ActionMetadata,
  given: Record<string, string>,
  evaluateDefault: (value: string) => string,
): ResolvedInputs {
  const declared = Object.keys(metadata.inputs);
  // The runner matches input names case-insensitively, as it does every key in `with:`.
  const lookup = new Map(declared.map((name) => [name.toLowerCase(), name]));
  const unexpected = Object.keys(given).filter((name) => !lookup.has(name.toLowerCase()));
  if (unexpected.length > 0) {
    throw new Error(
      `Unexpected input(s) ${unexpected.map((n) => `'${n}'`).join(', ')}, valid inputs are [${declared
        .map((n) => `'${n}'`)
        .join(', ')}]`,
    );
  }
  const values: Record<string, string> = {};
  const warnings: string[] = [];
  for (const [name, value] of Object.entries(given)) {
    const canonical = lookup.get(name.toLowerCase()) as string;
    values[canonical] = value;
    const deprecation = metadata.inputs[canonical].deprecationMessage;
    if (deprecation) warnings.push(`Input '${canonical}' has been deprecated with message: ${deprecation}`);
  }
  for (const [name, spec] of Object.entries(metadata.inputs)) {
    if (name in values) continue;
    if (spec.default !== undefined) values[name] = evaluateDefault(spec.default);
    else if (spec.required) warnings.push(`Input required and not supplied: ${name}`);
  }
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) env[inputEnvName(name)] = value;
  return { values, env, warnings };
}
