// Checks the traffic of the Heroku stand-in against Heroku's own Platform API hyper-schema (draft-04, the public
// heroku/platform-api schema.json): `links[].schema` describes request bodies, `links[].targetSchema` answers.
// ajv 8 speaks draft-07: the draft-04 bits the document uses (string `id`, the draft-04 `$schema` URIs) are
// dropped at load time; its refs are plain JSON pointers (#/definitions/app/definitions/id) that resolve as they are.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ValidateFunction } from 'ajv';

const require = createRequire(import.meta.url);
const AjvClass = require('ajv').default as typeof import('ajv').default;
const addFormats = require('ajv-formats').default as typeof import('ajv-formats').default;

export const HEROKU_SCHEMA_PATH = fileURLToPath(
  new URL('../fixtures/heroku/platform-api.schema.json', import.meta.url),
);
const ROOT_ID = 'https://api.heroku.com/schema';

interface Link {
  href: string;
  method: string;
  title: string;
  schema?: object;
  targetSchema?: object;
}

export interface LinkMatch {
  resource: string;
  title: string;
  /** Path parameters in href order. */
  params: string[];
  request?: ValidateFunction;
  response?: ValidateFunction;
}

interface Route {
  method: string;
  pattern: RegExp;
  resource: string;
  link: Link;
}

/** draft-04 → what ajv 8 reads: no string `id` (a base-URI change in draft-04), no per-definition `$schema`. */
function toDraft07(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toDraft07);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if ((key === 'id' && typeof value === 'string') || key === '$schema') continue;
    if (key === '$ref' && typeof value === 'string' && value.startsWith('#/')) out[key] = `${ROOT_ID}${value}`;
    else out[key] = toDraft07(value);
  }
  return out;
}

let loaded: { ajv: InstanceType<typeof AjvClass>; routes: Route[] } | undefined;
const compiled = new Map<object, ValidateFunction>();

function load(): { ajv: InstanceType<typeof AjvClass>; routes: Route[] } {
  if (loaded) return loaded;
  const document = JSON.parse(readFileSync(HEROKU_SCHEMA_PATH, 'utf8')) as {
    definitions: Record<string, { links?: Link[] }>;
  };
  const ajv = new AjvClass({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  // Heroku's `strictProperties: true` (prmd): an object carries no property its schema does not list.
  ajv.addKeyword({
    keyword: 'strictProperties',
    schemaType: 'boolean',
    validate: function strict(enabled: boolean, data: unknown, parent?: { properties?: object }) {
      if (!enabled || !data || typeof data !== 'object' || Array.isArray(data) || !parent?.properties) return true;
      const known = new Set(Object.keys(parent.properties));
      const extra = Object.keys(data).filter((key) => !known.has(key));
      (strict as unknown as { errors: object[] }).errors = extra.map((key) => ({
        keyword: 'strictProperties',
        message: `has property '${key}' the schema does not list`,
        params: { key },
      }));
      return extra.length === 0;
    },
    errors: true,
  });
  ajv.addSchema({ $id: ROOT_ID, definitions: toDraft07(document.definitions) });
  const routes: Route[] = [];
  for (const [resource, definition] of Object.entries(document.definitions)) {
    for (const link of definition.links ?? []) {
      const source = link.href
        .split(/\{\([^)]*\)\}/)
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('([^/]+)');
      routes.push({ method: link.method, pattern: new RegExp(`^${source}$`), resource, link });
    }
  }
  loaded = { ajv, routes };
  return loaded;
}

function compile(schema: object | undefined): ValidateFunction | undefined {
  if (!schema) return undefined;
  let validate = compiled.get(schema);
  if (!validate) {
    validate = load().ajv.compile(toDraft07(schema) as object);
    compiled.set(schema, validate);
  }
  return validate;
}

/** Every documented link matching the method and path (POST /apps/{app}/releases is both Create and Rollback). */
export function matchLinks(method: string, path: string): LinkMatch[] {
  return load()
    .routes.filter((route) => route.method === method && route.pattern.test(path))
    .map((route) => ({
      resource: route.resource,
      title: route.link.title,
      params: (route.pattern.exec(path) ?? []).slice(1).map(decodeURIComponent),
      request: compile(route.link.schema),
      response: compile(route.link.targetSchema),
    }));
}

function explain(validate: ValidateFunction): string {
  return (validate.errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`)
    .join('; ');
}

/** Problems of a request body against the documented request schema; [] when it conforms (to any matching link). */
export function checkRequest(method: string, path: string, body: unknown): string[] {
  const links = matchLinks(method, path);
  if (links.length === 0) return [`${method} ${path} is not a documented Platform API link`];
  const withSchema = links.filter((l) => l.request);
  if (withSchema.length === 0) {
    return body === undefined ? [] : [`${method} ${path} (${links[0].title}) takes no request body`];
  }
  const failures: string[] = [];
  for (const link of withSchema) {
    if (link.request!(body ?? {})) return [];
    failures.push(`${link.resource} ${link.title}: ${explain(link.request!)}`);
  }
  return [`request ${method} ${path}: ${failures.join(' | ')}`];
}

/** Problems of a response body against the documented targetSchema; [] when it conforms. */
export function checkResponse(method: string, path: string, body: unknown): string[] {
  const links = matchLinks(method, path).filter((l) => l.response);
  if (links.length === 0) return [];
  const failures: string[] = [];
  for (const link of links) {
    if (link.response!(body)) return [];
    failures.push(`${link.resource} ${link.title}: ${explain(link.response!)}`);
  }
  return [`response to ${method} ${path}: ${failures.join(' | ')}`];
}
