import { passwordForms, redactDatabaseUrl, splitDatabaseUrl } from './database-url.js';
import { ConfigurationError } from './errors.js';
import { excerpt } from './untrusted-text.js';

/** Reads one raw input by its action.yml name; '' when it is not set. */
export type InputSource = (name: string) => string;

/** Reads inputs the way @actions/core does (INPUT_<NAME>, spaces to underscores, upper-case, trimmed). */
export const environmentInputs: InputSource = (name) =>
  (process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();

/** One validated read of an action's inputs. Every parse error names the input and what it accepts. */
export class InputReader {
  constructor(private readonly source: InputSource = environmentInputs) {}

  /** The raw trimmed value, '' when unset. */
  raw(name: string): string {
    return this.source(name).trim();
  }

  string(name: string, options: { required?: boolean } = {}): string {
    const value = this.raw(name);
    if (options.required && value === '') throw new ConfigurationError(`Input '${name}' is required.`);
    return value;
  }

  optionalString(name: string): string | undefined {
    const value = this.raw(name);
    return value === '' ? undefined : value;
  }

  /** YAML 1.2 core schema booleans, as the runner's getBooleanInput accepts. */
  boolean(name: string, fallback?: boolean): boolean {
    const value = this.raw(name);
    if (value === '' && fallback !== undefined) return fallback;
    if (['true', 'True', 'TRUE'].includes(value)) return true;
    if (['false', 'False', 'FALSE'].includes(value)) return false;
    throw new ConfigurationError(`Input '${name}' must be true or false; got '${excerpt(value)}'.`);
  }

  integer(name: string, range: { min?: number; max?: number; fallback?: number } = {}): number {
    const value = this.raw(name);
    if (value === '' && range.fallback !== undefined) return range.fallback;
    if (!/^[+-]?\d+$/.test(value))
      throw new ConfigurationError(
        `Input '${name}' must be a whole number${describeRange(range)}; got '${excerpt(value)}'.`,
      );
    const n = Number(value);
    checkRange(name, n, range);
    return n;
  }

  number(name: string, range: { min?: number; max?: number; fallback?: number } = {}): number {
    const value = this.raw(name);
    if (value === '' && range.fallback !== undefined) return range.fallback;
    const n = Number(value);
    if (value === '' || !Number.isFinite(n)) {
      throw new ConfigurationError(`Input '${name}' must be a number${describeRange(range)}; got '${excerpt(value)}'.`);
    }
    checkRange(name, n, range);
    return n;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback?: T): T {
    const value = this.raw(name);
    if (value === '' && fallback !== undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      throw new ConfigurationError(`Input '${name}' must be one of ${allowed.join(', ')}; got '${excerpt(value)}'.`);
    }
    return value as T;
  }

  /** A duration with a unit (ms, s, m, h), or a bare number of seconds; returned in milliseconds, above zero. */
  duration(name: string, fallback?: number): number {
    const value = this.raw(name);
    if (value === '' && fallback !== undefined) return fallback;
    const ms = parseDuration(value);
    if (ms === undefined || ms <= 0) {
      throw new ConfigurationError(
        `Input '${name}' must be a duration above zero such as 500ms, 30s, 5m or 1h (a bare number is seconds); got '${excerpt(value)}'.`,
      );
    }
    return ms;
  }

  /** Items separated by commas or new lines, trimmed, empty ones dropped. */
  list(name: string): string[] {
    return splitList(this.raw(name));
  }

  /** An absolute http(s) URL. */
  url(name: string, options: { required?: boolean; protocols?: string[] } = {}): URL | undefined {
    const value = this.raw(name);
    if (value === '') {
      if (options.required) throw new ConfigurationError(`Input '${name}' is required.`);
      return undefined;
    }
    return parseUrl(name, value, options.protocols ?? ['http:', 'https:']);
  }
}

export function splitList(value: string): string[] {
  return value
    .split(/[\n,]/)
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/** '30s' → 30000; '1m30s' → 90000; '2.5' → 2500 (bare numbers are seconds); undefined when unparsable. */
export function parseDuration(value: string): number | undefined {
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)\s*(ms|sec|min|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text.replace(/\s+/g, '')) return undefined;
  return Math.round(parts.reduce((sum, [, n, unit]) => sum + Number(n) * UNIT_MS[unit], 0));
}

/** Parses a URL for input `name`, naming the input (and never echoing a password) when it does not parse. */
export function parseUrl(name: string, value: string, protocols: string[]): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigurationError(
      `Input '${name}' must be an absolute URL with a scheme (${protocols.map((p) => p.replace(':', '://')).join(' or ')}); got '${excerpt(redactUrlText(value))}'.`,
    );
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigurationError(
      `Input '${name}' must use ${protocols.map((p) => p.replace(':', '')).join(' or ')}; got '${excerpt(url.protocol.replace(':', ''))}' in '${excerpt(redactUrl(url))}'.`,
    );
  }
  return url;
}

/** The URL as text with its password and secret-looking query values replaced by ***. */
export function redactUrl(url: URL): string {
  const copy = new URL(url.href);
  for (const key of [...copy.searchParams.keys()]) {
    if (SECRET_QUERY_KEY.test(key)) copy.searchParams.set(key, '***');
  }
  // The user info is cut where the database URLs' parser cuts it (the last '@' before a host), so a password
  // holding a raw '@' or '/' is hidden whole, not only up to where the WHATWG parser ends it.
  return url.password ? redactDatabaseUrl(copy.href) : copy.href;
}

/** Hides the password of every URL in `text`: a value that does not parse as a URL, or a message quoting one. */
export function redactUrlText(text: string): string {
  // What precedes '//' (a scheme, or a mistyped one such as 'https//') stays as written.
  return text.replace(/(\S*?\/\/)(\S*)/g, (_url, head: string, rest: string) =>
    rest.includes('@') ? head + redactDatabaseUrl(`x://${rest}`).slice('x://'.length) : head + rest,
  );
}

/** Query keys whose values are credentials in practice (tokens, signatures, API keys, passwords). */
export const SECRET_QUERY_KEY = /token|secret|password|passwd|pwd|key|signature|sig|auth|credential|session/i;

/** The secrets a URL carries: its password in every spelling and its secret-looking query values. */
export function secretsInUrl(url: URL): string[] {
  const secrets: string[] = [];
  const rawPassword = url.password ? splitDatabaseUrl(url.href)?.rawPassword : undefined;
  if (rawPassword) secrets.push(...passwordForms(rawPassword));
  for (const [key, value] of url.searchParams) {
    if (SECRET_QUERY_KEY.test(key) && value !== '') {
      secrets.push(value);
      const encoded = encodeURIComponent(value);
      if (encoded !== value) secrets.push(encoded);
    }
  }
  return secrets;
}

function describeRange(range: { min?: number; max?: number }): string {
  if (range.min !== undefined && range.max !== undefined) return ` from ${range.min} to ${range.max}`;
  if (range.min !== undefined) return ` of at least ${range.min}`;
  if (range.max !== undefined) return ` of at most ${range.max}`;
  return '';
}

function checkRange(name: string, n: number, range: { min?: number; max?: number }): void {
  if ((range.min !== undefined && n < range.min) || (range.max !== undefined && n > range.max)) {
    throw new ConfigurationError(`Input '${name}' must be a number${describeRange(range)}; got '${n}'.`);
  }
}
