import { ConfigurationError } from './errors.js';
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
  /**
   * The new name's default in action.yml. The runner fills it in whenever the new name is not given, so a value
   * equal to it does not count as given next to the old name (a unit test keeps it equal to action.yml's).
   */
  default?: string;
}

/**
 * Wraps an input source so that reading a new name also reads its deprecated one: the old name alone works, with
 * one warning naming the new input; both with different values is one error naming both. Values never appear in
 * a message, since several of these inputs are secrets.
 */
export function withRenamedInputs(
  source: InputSource,
  renames: readonly RenamedInput[],
  warn: (message: string) => void,
): InputSource {
  const byName = new Map(renames.map((rename) => [rename.name, rename]));
  const warned = new Set<string>();
  return (name) => {
    const value = source(name).trim();
    const rename = byName.get(name);
    if (!rename) return value;
    const old = source(rename.deprecated).trim();
    if (old === '') return value;
    if (value !== '' && value !== rename.default && value !== old) {
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
