import { readFile } from 'node:fs/promises';
import { ConfigurationError, errorMessage } from './errors.js';
import type { InputSource } from './inputs.js';

/**
 * An input renamed so that every runbook action says one thing one way (README "Input names"). The old name stays
 * declared in action.yml, with a deprecationMessage and without a default, and keeps working.
 */
export interface RenamedInput {
  /** The name every action uses now. */
  name: string;
  /** The former name. */
  deprecated: string;
}

/** The defaults an action.yml gives its inputs, by input name (as the runner passes them: text). */
export type InputDefaults = ReadonlyMap<string, string>;

/**
 * The defaults of `actions/<action>/action.yml`, the one place they are written. The file is found from the running
 * module: dist/<action>/index.js in a bundle (a `uses:` checkout holds the whole repository) and
 * actions/shared/renamed-inputs.ts in the tests are both two levels below the repository root. `yaml` is loaded
 * here, on the deprecated-name path only, so that no action's cold start parses it for this.
 */
export async function actionInputDefaults(action: string): Promise<InputDefaults> {
  const file = new URL(`actions/${action}/action.yml`, twoLevelsUp(import.meta.url));
  const [{ parse }, text] = await Promise.all([import('yaml'), readFile(file, 'utf8')]);
  const inputs = (parse(text) as { inputs?: Record<string, { default?: unknown } | null> }).inputs ?? {};
  return new Map(
    Object.entries(inputs).flatMap(([name, spec]) =>
      spec?.default === undefined || spec.default === null ? [] : [[name, String(spec.default)] as const],
    ),
  );
}

/**
 * The directory two levels above a module. A function of its own, not `new URL('../../…', import.meta.url)`: ncc
 * takes that form for an asset to copy, and copied every action.yml into dist/<action>/actions/ (reading the copy).
 */
function twoLevelsUp(moduleUrl: string): URL {
  return new URL('../..', moduleUrl);
}

/**
 * Wraps an input source so that reading a new name also reads its deprecated one: the old name alone works, with
 * one warning naming the new input; both with different values is one error naming both. Values never appear in
 * a message, since several of these inputs are secrets.
 *
 * The runner fills in a new name's action.yml default whenever it is not given, so a value equal to that default
 * does not count as given next to the old name. The defaults are read from `action`'s action.yml, and only when a
 * deprecated name is given (`loadDefaults` is replaced in tests).
 */
export async function withRenamedInputs(
  source: InputSource,
  renames: readonly RenamedInput[],
  warn: (message: string) => void,
  action: string,
  loadDefaults: (action: string) => Promise<InputDefaults> = actionInputDefaults,
): Promise<InputSource> {
  const byName = new Map(renames.map((rename) => [rename.name, rename]));
  const given = renames.filter((rename) => source(rename.deprecated).trim() !== '');
  let defaults: InputDefaults = new Map();
  if (given.length > 0) {
    try {
      defaults = await loadDefaults(action);
    } catch (error) {
      throw new ConfigurationError(
        `Input '${given[0].deprecated}' is deprecated, and actions/${action}/action.yml, which tells whether '${given[0].name}' was given too, cannot be read (${errorMessage(error).split('\n')[0]}): use '${given[0].name}' instead.`,
      );
    }
  }
  const warned = new Set<string>();
  return (name) => {
    const value = source(name).trim();
    const rename = byName.get(name);
    if (!rename) return value;
    const old = source(rename.deprecated).trim();
    if (old === '') return value;
    if (value !== '' && value !== defaults.get(rename.name) && value !== old) {
      throw new ConfigurationError(
        `Inputs '${rename.deprecated}' and '${rename.name}' are both set, to different values; '${rename.deprecated}' is the deprecated name of '${rename.name}': keep only '${rename.name}'.`,
      );
    }
    if (!warned.has(rename.deprecated)) {
      warned.add(rename.deprecated);
      warn(
        `Input '${rename.deprecated}' is deprecated: use '${rename.name}' (same meaning; the old name will be removed in the next major version).`,
      );
    }
    return old;
  };
}
