import { ConfigurationError, errorMessage } from '../shared/errors.js';
import type { InputSource } from '../shared/inputs.js';
import { passwordForms, safeDecode, splitDatabaseUrl } from '../shared/database-url.js';
import { InputReader, parseUrl, secretsInUrl } from '../shared/inputs.js';
import type { CheckSpec, HeaderExpectation, HttpMethod, RunOptions, VersionSource } from './check-spec.js';
import { DEFAULT_RUN_OPTIONS, HTTP_METHODS, versionSource } from './check-spec.js';
import { parseJsonPath } from './json-path.js';
import { SECRET_HEADER } from './secret-mask.js';
import { parseStatusSet } from './status-set.js';
import { excerpt } from '../shared/untrusted-text.js';

/** Everything the action was asked, parsed and checked before any request is sent. */
export interface SmokeCheckInputs {
  readonly checks: readonly CheckSpec[];
  readonly options: RunOptions;
  readonly failOnUnhealthy: boolean;
  /** Every credential found in URLs, auth inputs and secret-looking headers: to be masked at once. */
  readonly secrets: readonly string[];
}

/** Inputs a check object in `checks` may set for itself; the step's input of the same name is its default. */
export const PER_CHECK_INPUTS = [
  'name',
  'url',
  'method',
  'expected-status',
  'body-contains',
  'body-regex',
  'json-path',
  'json-equals',
  'header',
  'header-contains',
  'expect-version',
  'version-from',
  'max-latency',
  'follow-redirects',
  'keep-headers-on-redirect',
  'reject-redirect',
  'reject-body',
  'headers',
  'basic-auth',
  'bearer-token',
  'timeout',
] as const;

class FoundSecrets {
  readonly values: string[] = [];
  constructor(private readonly onSecret: (secret: string) => void) {}

  push(...found: string[]): void {
    for (const secret of found) {
      if (this.values.includes(secret)) continue;
      this.values.push(secret);
      this.onSecret(secret);
    }
  }
}

/** A check as written: one line of `urls` or one item of `checks`. */
interface CheckObject {
  readonly fields: Record<string, unknown>;
  readonly label: 'urls' | 'checks';
  readonly index: number;
}

/** Parses YAML text (the `yaml` package's parse); only `checks` needs it. */
export type YamlParser = (text: string) => unknown;

/**
 * readInputs with the YAML parser loaded only when `checks` is given: `yaml` is most of what the bundle would parse
 * at start, and a step with `urls` alone never needs it.
 */
export async function loadInputs(
  source: InputSource,
  readFile: (path: string) => string,
  onSecret: (secret: string) => void = () => undefined,
): Promise<SmokeCheckInputs> {
  const parseYaml = source('checks').trim() === '' ? undefined : (await import('yaml')).parse;
  return readInputs(source, readFile, onSecret, parseYaml);
}

/**
 * Reads and checks every input. `onSecret` is called the moment a credential is found, before any later input
 * can fail, so the runner masks it even when the step stops on a mistake further down. `parseYaml` is needed when
 * `checks` is given (loadInputs loads it then).
 */
export function readInputs(
  source: InputSource,
  readFile: (path: string) => string,
  onSecret: (secret: string) => void = () => undefined,
  parseYaml?: YamlParser,
): SmokeCheckInputs {
  const step = new InputReader(source);
  const secrets = new FoundSecrets(onSecret);
  // Secrets first: even an error about another input must not be able to print one.
  for (const name of ['basic-auth', 'bearer-token']) {
    const value = step.raw(name);
    if (value) secrets.push(...authSecrets(name, value));
  }

  const objects: CheckObject[] = [
    ...step.list('urls').map((url, index) => ({ fields: { url }, label: 'urls' as const, index })),
    ...parseCheckList(step.raw('checks'), parseYaml).map((fields, index) => ({
      fields,
      label: 'checks' as const,
      index,
    })),
  ];
  if (objects.length === 0) {
    throw new ConfigurationError("Input 'urls' or 'checks' is required: give at least one URL to check.");
  }
  const checks = objects.map((object) => parseCheck(object, source, secrets));

  const insecure = step.boolean('insecure');
  const caBundle = step.optionalString('ca-bundle');
  const options: RunOptions = {
    ...DEFAULT_RUN_OPTIONS,
    deadlineMs: step.duration('deadline'),
    stableFor: step.integer('stable-for', { min: 1, max: 100 }),
    // Empty means no status is definitive: every failure is retried until the deadline.
    failFastStatuses: step.raw('fail-fast-statuses')
      ? parseStatusSet('fail-fast-statuses', step.raw('fail-fast-statuses'))
      : { text: '', ranges: [] },
    failFastAfter: step.integer('fail-fast-after', { min: 1, max: 100 }),
    initialIntervalMs: step.duration('initial-interval'),
    maxIntervalMs: step.duration('max-interval'),
    tls: { insecure, ...(caBundle ? { ca: readCaBundle(caBundle, readFile) } : {}) },
  };
  if (options.maxIntervalMs < options.initialIntervalMs) {
    throw new ConfigurationError(
      `Input 'max-interval' must be at least 'initial-interval' (${step.raw('initial-interval')}); got '${step.raw('max-interval')}'.`,
    );
  }
  return { checks, options, failOnUnhealthy: step.boolean('fail-on-unhealthy'), secrets: secrets.values };
}

function parseCheckList(text: string, parseYaml: YamlParser | undefined): Record<string, unknown>[] {
  if (text === '') return [];
  if (!parseYaml) throw new Error("readInputs was given 'checks' without a YAML parser: call loadInputs.");
  const accepts =
    "Input 'checks' must be a YAML list whose items are URLs or objects with a url and any of " +
    PER_CHECK_INPUTS.filter((key) => key !== 'url').join(', ');
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new ConfigurationError(`${accepts}; it does not parse: ${errorMessage(error).split('\n')[0]}`);
  }
  if (!Array.isArray(document)) throw new ConfigurationError(`${accepts}; got a ${describeYaml(document)}.`);
  return document.map((item, index) => {
    if (typeof item === 'string') return { url: item };
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new ConfigurationError(`${accepts}; item ${index + 1} is a ${describeYaml(item)}.`);
    }
    const unknown = Object.keys(item).filter((key) => !(PER_CHECK_INPUTS as readonly string[]).includes(key));
    if (unknown.length > 0)
      throw new ConfigurationError(`${accepts}; item ${index + 1} has unknown key '${unknown[0]}'.`);
    if (!('url' in item)) throw new ConfigurationError(`${accepts}; item ${index + 1} has no url.`);
    return item as Record<string, unknown>;
  });
}

function describeYaml(value: unknown): string {
  if (value === null || value === undefined) return 'empty value';
  if (Array.isArray(value)) return 'list';
  return typeof value === 'object' ? 'mapping' : `${typeof value} (${String(value)})`;
}

/**
 * Reads one check. A key set on the check object wins over the step input of the same name, and errors
 * name it as `checks[2].method`, so the user finds the line.
 */
function parseCheck(check: CheckObject, source: InputSource, secrets: FoundSecrets): CheckSpec {
  const object = check.label === 'checks' ? check.fields : {};
  const label = (name: string) =>
    name in object && object[name] !== null ? `checks[${check.index + 1}].${name}` : name;
  const reader = new InputReader((name) => {
    const match = /^checks\[\d+\]\.(.+)$/.exec(name);
    return match ? yamlText(object[match[1]]) : source(name);
  });
  const read = (name: string) => reader.raw(label(name));

  // Credentials are collected before anything that could fail and print part of the check.
  for (const name of ['basic-auth', 'bearer-token'] as const) {
    if (name in object && read(name)) secrets.push(...authSecrets(label(name), read(name)));
  }
  const rawUrl = yamlText(check.fields.url);
  secrets.push(...secretsInRawUrl(rawUrl));
  const urlInput = check.label === 'urls' ? 'urls' : label('url');
  rejectRawDelimitersInCredentials(urlInput, rawUrl);
  const url = parseUrl(urlInput, rawUrl, ['http:', 'https:']);
  secrets.push(...secretsInUrl(url));
  if (url.password) {
    // Credentials in a URL travel as a Basic header; a debug page echoing it must not show them either.
    const pair = `${safeDecode(url.username)}:${safeDecode(url.password)}`;
    secrets.push(pair, Buffer.from(pair).toString('base64'));
  }

  const headers = parseRequestHeaders(label('headers'), read('headers'), secrets);
  // A check that sets its own auth replaces the step's, whichever kind each uses.
  const ownAuth = 'basic-auth' in object || 'bearer-token' in object;
  const basicAuth = ownAuth ? yamlText(object['basic-auth']) : read('basic-auth');
  const bearer = ownAuth ? yamlText(object['bearer-token']) : read('bearer-token');
  if (basicAuth && bearer) {
    throw new ConfigurationError(
      `Input '${label('bearer-token')}' cannot be used together with 'basic-auth': give one of them.`,
    );
  }
  if (basicAuth) headers.authorization = `Basic ${Buffer.from(basicAuth).toString('base64')}`;
  if (bearer) headers.authorization = `Bearer ${bearer}`;

  const jsonPathText = read('json-path');
  const jsonEquals = reader.optionalString(label('json-equals'));
  if (jsonEquals !== undefined && jsonPathText === '') {
    throw new ConfigurationError(
      `Input '${label('json-equals')}' needs 'json-path' to say which JSON field to compare.`,
    );
  }
  const expectVersion = reader.optionalString(label('expect-version'));
  const versionFrom: VersionSource = versionSource(read('version-from'), label('version-from'));
  const maxLatency = read('max-latency');
  return {
    url,
    ...(read('name') ? { name: read('name') } : {}),
    method: parseMethod(label('method'), read('method')),
    expectedStatus: parseStatusSet(label('expected-status'), read('expected-status')),
    bodyContains: splitLines(read('body-contains')),
    bodyRegex: optionalRegex(label('body-regex'), read('body-regex')),
    ...(jsonPathText ? { json: { path: parseJsonPath(label('json-path'), jsonPathText), equals: jsonEquals } } : {}),
    headerExpectations: [
      ...parseHeaderExpectations(label('header'), read('header'), 'equals'),
      ...parseHeaderExpectations(label('header-contains'), read('header-contains'), 'contains'),
    ],
    ...(expectVersion !== undefined ? { expectVersion } : {}),
    versionFrom,
    ...(maxLatency ? { maxLatencyMs: reader.duration(label('max-latency')) } : {}),
    followRedirects: reader.boolean(label('follow-redirects')),
    keepHeadersOnRedirect: reader.boolean(label('keep-headers-on-redirect')),
    rejectRedirect: optionalRegex(label('reject-redirect'), read('reject-redirect')),
    rejectBody: optionalRegex(label('reject-body'), read('reject-body')),
    headers,
    timeoutMs: reader.duration(label('timeout')),
  };
}

/** GET or HEAD, in any case: `method: get` is what people write in YAML. */
function parseMethod(name: string, value: string): HttpMethod {
  const method = value.toUpperCase() as HttpMethod;
  if (!HTTP_METHODS.includes(method)) {
    throw new ConfigurationError(`Input '${name}' must be one of ${HTTP_METHODS.join(', ')}; got '${excerpt(value)}'.`);
  }
  return method;
}

/** A YAML value as the text an input would have: lists become lines, scalars their plain text. */
function yamlText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map((item) => yamlText(item)).join('\n');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value).trim();
}

function splitLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/** `/pattern/flags` or a bare pattern; compiled once here so a bad one stops the step before any request. */
export function optionalRegex(name: string, text: string): RegExp | undefined {
  if (text === '') return undefined;
  const literal = /^\/(.*)\/([dgimsuvy]*)$/s.exec(text);
  try {
    // No 'g' or 'y': RegExp.test with them keeps state between calls and would skip matches on retries.
    return literal ? new RegExp(literal[1], literal[2].replace(/[gy]/g, '')) : new RegExp(text);
  } catch (error) {
    throw new ConfigurationError(
      `Input '${name}' must be a regular expression (JavaScript syntax, optionally /pattern/flags); got '${excerpt(text)}': ${errorMessage(error)}.`,
    );
  }
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function parseRequestHeaders(name: string, text: string, secrets: FoundSecrets): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of splitLines(text)) {
    const colon = line.indexOf(':');
    const header = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!HEADER_NAME.test(header)) {
      throw new ConfigurationError(
        `Input '${name}' must hold one 'Name: value' request header per line; got a line without a valid header name.`,
      );
    }
    const value = line.slice(colon + 1).trim();
    if (SECRET_HEADER.test(header) && value) secrets.push(...credentialParts(value));
    headers[header.toLowerCase()] = value;
  }
  return headers;
}

function parseHeaderExpectations(name: string, text: string, mode: 'equals' | 'contains'): HeaderExpectation[] {
  return splitLines(text).map((line) => {
    const colon = line.indexOf(':');
    const header = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!HEADER_NAME.test(header)) {
      throw new ConfigurationError(
        `Input '${name}' must hold one 'Header-Name: expected value' per line; got '${excerpt(line)}'.`,
      );
    }
    return { name: header.toLowerCase(), [mode]: line.slice(colon + 1).trim() };
  });
}

/** A credential and the forms it travels in: `Bearer x` and `x`, `user:pass`, `pass` and their base64. */
function authSecrets(name: string, value: string): string[] {
  if (name.endsWith('basic-auth')) {
    const colon = value.indexOf(':');
    if (colon < 1) {
      throw new ConfigurationError(`Input '${name}' must be 'user:password'; got a value without a user and a colon.`);
    }
    return [value, value.slice(colon + 1), Buffer.from(value).toString('base64')].filter((s) => s.length >= 3);
  }
  return credentialParts(value);
}

function credentialParts(value: string): string[] {
  const parts = [value];
  const scheme = /^(Bearer|Basic|Token|Digest)\s+(.+)$/i.exec(value);
  if (scheme) {
    parts.push(scheme[2]);
    if (scheme[1].toLowerCase() === 'basic') {
      const decoded = Buffer.from(scheme[2], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0 && decoded.length - colon > 3) parts.push(decoded.slice(colon + 1));
    }
  }
  return parts.filter((part) => part.length >= 3);
}

/**
 * `user:pass@` in text that may not even parse as a URL: masked before the parse error can echo it. Both readings
 * are kept: the password ending at the first '@' (as a URL parser reads it) and at the last '@' before a host (what
 * was meant when the password holds a raw '@' or '/').
 */
function secretsInRawUrl(text: string): string[] {
  const match = /\/\/[^/@\s:]*:([^@/\s]+)@/.exec(text);
  const lastAt = splitDatabaseUrl(text)?.rawPassword;
  return [...(match ? [match[1]] : []), ...(lastAt ? passwordForms(lastAt) : [])];
}

/**
 * A user name or password must have its '/', '?', '#' and '@' percent-encoded (RFC 3986 3.2.1). Unencoded, the
 * first '/' ends the host for curl and for browsers (WHATWG): `https://u:p@ss/w:rd@host` is a request to host `ss`
 * with the path `/w:rd@host`. Guessing the other reading (the last '@' before the path, as database URLs are read)
 * would check a different server than curl would for the same text, so such a URL is refused: an '@' in the path
 * after credentials, or an '@' after a user:password that does not parse. The message never quotes the URL.
 */
function rejectRawDelimitersInCredentials(name: string, text: string): void {
  const parts = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)([\s\S]*)$/.exec(text);
  if (!parts) return;
  const [, authority, after] = parts;
  const path = after.replace(/[?#][\s\S]*$/, '');
  const cutAfterCredentials = authority.includes('@') && path.includes('@');
  const cutInsideCredentials =
    !authority.includes('@') && authority.includes(':') && after.includes('@') && !URL.canParse(text);
  if (cutAfterCredentials || cutInsideCredentials) {
    throw new ConfigurationError(
      `Input '${name}' has a user name or password with a raw '/', '?', '#' or '@' in it, which ends the host early (curl and browsers would send this request to another host): percent-encode them in the credentials ('/' as %2F, '?' as %3F, '#' as %23, '@' as %40); an '@' in the path is written %40 too.`,
    );
  }
}

function readCaBundle(value: string, readFile: (path: string) => string): string {
  if (value.includes('-----BEGIN CERTIFICATE-----')) return value;
  let pem: string;
  try {
    pem = readFile(value);
  } catch (error) {
    throw new ConfigurationError(
      `Input 'ca-bundle' must be a readable PEM file or the PEM text itself; cannot read '${value}': ${errorMessage(error)}.`,
    );
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ConfigurationError(
      `Input 'ca-bundle' must be a PEM file with at least one certificate; '${value}' holds none.`,
    );
  }
  return pem;
}
