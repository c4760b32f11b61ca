import { ConfigurationError } from '../shared/errors.js';
import { excerpt } from '../shared/untrusted-text.js';

/**
 * The subset of JSONPath a health endpoint needs: `$.commit`, `data.items[0].id`, `$['release id']`,
 * `items[-1]` (from the end). No wildcards or filters: a health assertion names one value.
 */
export interface JsonPath {
  readonly text: string;
  readonly segments: ReadonlyArray<string | number>;
}

export function parseJsonPath(name: string, text: string): JsonPath {
  const fail = (why: string): never => {
    throw new ConfigurationError(
      `Input '${name}' must be a JSON path such as $.commit or data.items[0].id (${why}); got '${excerpt(text)}'.`,
    );
  };
  const source = text.trim();
  const segments: Array<string | number> = [];
  let i = source.startsWith('$') ? 1 : 0;
  let needsSeparator = i === 1;
  while (i < source.length) {
    const char = source[i];
    if (char === '.') {
      const match = /^[^.[\]\s]+/.exec(source.slice(i + 1));
      if (!match) fail(`a name must follow the dot at position ${i + 1}`);
      segments.push(match![0]);
      i += 1 + match![0].length;
    } else if (char === '[') {
      const rest = source.slice(i);
      const index = /^\[\s*(-?\d+)\s*\]/.exec(rest);
      const quoted = /^\[\s*(['"])(.*?)\1\s*\]/.exec(rest);
      if (index) {
        segments.push(Number(index[1]));
        i += index[0].length;
      } else if (quoted) {
        segments.push(quoted[2]);
        i += quoted[0].length;
      } else fail(`unclosed or unsupported [] at position ${i + 1}`);
    } else if (!needsSeparator) {
      const match = /^[^.[\]\s]+/.exec(source.slice(i));
      if (!match) fail(`unexpected '${char}' at position ${i + 1}`);
      segments.push(match![0]);
      i += match![0].length;
    } else fail(`unexpected '${char}' at position ${i + 1}`);
    needsSeparator = true;
  }
  if (segments.length === 0) fail('it names no field');
  return { text: source, segments };
}

export type JsonLookup = { found: true; value: unknown } | { found: false };

export function evaluateJsonPath(path: JsonPath, document: unknown): JsonLookup {
  let current: unknown = document;
  for (const segment of path.segments) {
    if (typeof segment === 'number') {
      if (!Array.isArray(current)) return { found: false };
      const index = segment < 0 ? current.length + segment : segment;
      if (index < 0 || index >= current.length) return { found: false };
      current = current[index];
    } else {
      if (current === null || typeof current !== 'object' || Array.isArray(current)) return { found: false };
      if (!Object.prototype.hasOwnProperty.call(current, segment)) return { found: false };
      current = (current as Record<string, unknown>)[segment];
    }
  }
  return { found: true, value: current };
}

/**
 * Whether a JSON value equals what the user wrote. The text is read as JSON when it parses (`true`, `3`,
 * `{"a":1}`), so `json-equals: 3` matches the number 3; a string value also matches its plain text, so
 * `json-equals: ok` matches "ok" without quotes.
 */
export function jsonValueEquals(actual: unknown, expected: string): boolean {
  if (typeof actual === 'string' && actual === expected) return true;
  let parsed: unknown;
  try {
    parsed = JSON.parse(expected);
  } catch {
    return false;
  }
  return deepEqual(actual, parsed);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((key) => deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}

/** A JSON value as a short text for a reason line. */
export function describeJsonValue(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
