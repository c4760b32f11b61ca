// Checks requests and responses of a GitHub API stand-in against GitHub's own OpenAPI description
// (@octokit/openapi, api.github.com). Schemas are compiled lazily, one per operation and status, so a test pays only
// for the operations it uses.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv';

const require = createRequire(import.meta.url);
const AjvClass = require('ajv').default as typeof import('ajv').default;
const addFormats = require('ajv-formats').default as typeof import('ajv-formats').default;

const ROOT_ID = 'https://api.github.com/openapi.json';

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: object;
}

interface Operation {
  operationId: string;
  parameters?: (Parameter | { $ref: string })[];
  requestBody?: { content: Record<string, { schema: object }> };
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: object }> }>;
}

interface Spec {
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, object>;
    parameters: Record<string, Parameter>;
    responses: Record<string, object>;
  };
}

let cached: { spec: Spec; ajv: InstanceType<typeof AjvClass> } | undefined;
const compiled = new Map<string, ValidateFunction>();

/** Loads the 13 MB description ahead of the first request, so that its cost lands in a hook, not in a test. */
export function preloadOpenApi(): void {
  load();
}

function load(): { spec: Spec; ajv: InstanceType<typeof AjvClass> } {
  if (cached) return cached;
  const path = require.resolve('@octokit/openapi/generated/api.github.com.json');
  const spec = JSON.parse(readFileSync(path, 'utf8')) as Spec;
  // The spec is OpenAPI 3.0: `nullable` and `example` are its keywords, and validating the 13 MB document against
  // the JSON Schema meta-schema would cost seconds for nothing.
  const ajv = new AjvClass({ strict: false, allErrors: true, validateSchema: false, validateFormats: true });
  addFormats(ajv);
  ajv.addSchema({ $id: ROOT_ID, components: { schemas: jsonSchema(spec.components.schemas) } });
  cached = { spec, ajv };
  return cached;
}

/**
 * OpenAPI 3.0 schema → JSON Schema: local refs rewritten so that a schema taken out of the document still
 * resolves against it, and `nullable: true` turned into an explicit null (Ajv's own `nullable` needs a `type`
 * beside it, which the description often lacks, and does not add null to an `enum`).
 */
function jsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(jsonSchema);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'nullable' || key === 'example' || key === 'examples') continue;
    out[key] =
      key === '$ref' && typeof value === 'string' && value.startsWith('#/') ? `${ROOT_ID}${value}` : jsonSchema(value);
  }
  if ((schema as { nullable?: unknown }).nullable !== true) return out;
  if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  if (typeof out.type === 'string') {
    out.type = [out.type, 'null'];
    return out;
  }
  return { anyOf: [out, { type: 'null' }] };
}

function compile(key: string, schema: object): ValidateFunction {
  let validate = compiled.get(key);
  if (!validate) {
    validate = load().ajv.compile(jsonSchema(schema) as object);
    compiled.set(key, validate);
  }
  return validate;
}

function describeErrors(validate: ValidateFunction): string[] {
  return (validate.errors ?? [])
    .slice(0, 8)
    .map((e) => `${e.instancePath || '/'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
}

export function operation(template: string, method: string): Operation {
  const op = load().spec.paths[template]?.[method.toLowerCase()];
  if (!op) throw new Error(`no ${method} ${template} in the OpenAPI description`);
  return op;
}

function resolveParameter(p: Parameter | { $ref: string }): Parameter {
  if ('$ref' in p) return load().spec.components.parameters[p.$ref.replace('#/components/parameters/', '')];
  return p;
}

/** Problems with a response body for `status`, or [] when it matches the operation's declared schema. */
export function validateResponse(template: string, method: string, status: number, body: unknown): string[] {
  const op = operation(template, method);
  let response = op.responses[String(status)];
  if (response?.$ref)
    response = load().spec.components.responses[
      response.$ref.replace('#/components/responses/', '')
    ] as typeof response;
  let schema = response?.content?.['application/json']?.schema;
  if (!schema) {
    if (status < 400) return [`${op.operationId}: the description declares no JSON body for status ${status}`];
    // GitHub answers errors it does not list per operation (403 for a missing permission) with a basic error.
    schema = { $ref: '#/components/schemas/basic-error' };
  }
  const validate = compile(`${op.operationId} ${status}`, schema);
  return validate(body) ? [] : describeErrors(validate).map((e) => `${op.operationId} response ${status}: ${e}`);
}

/** Problems with a request: unknown or ill-typed query parameters, missing path parameters, an invalid body. */
export function validateRequest(
  template: string,
  method: string,
  pathParams: Record<string, string>,
  query: URLSearchParams,
  body: unknown,
): string[] {
  const op = operation(template, method);
  const problems: string[] = [];
  const params = (op.parameters ?? []).map(resolveParameter);
  for (const p of params.filter((p) => p.in === 'path')) {
    if (!pathParams[p.name]) problems.push(`${op.operationId}: path parameter '${p.name}' is empty`);
  }
  const known = new Map(params.filter((p) => p.in === 'query').map((p) => [p.name, p]));
  for (const [name, raw] of query) {
    const p = known.get(name);
    if (!p) {
      problems.push(`${op.operationId}: unknown query parameter '${name}'`);
      continue;
    }
    const value = /"type":"integer"/.test(JSON.stringify(p.schema)) && /^-?\d+$/.test(raw) ? Number(raw) : raw;
    const validate = compile(`${op.operationId} query ${name}`, p.schema);
    if (!validate(value))
      problems.push(...describeErrors(validate).map((e) => `${op.operationId} query ${name}=${raw}: ${e}`));
  }
  for (const p of params.filter((p) => p.in === 'query' && p.required)) {
    if (!query.has(p.name)) problems.push(`${op.operationId}: required query parameter '${p.name}' is missing`);
  }
  const bodySchema = op.requestBody?.content['application/json']?.schema;
  if (bodySchema) {
    const validate = compile(`${op.operationId} body`, bodySchema);
    if (!validate(body)) problems.push(...describeErrors(validate).map((e) => `${op.operationId} request body: ${e}`));
  } else if (body !== undefined) {
    problems.push(`${op.operationId}: sent a body to an operation that takes none`);
  }
  return problems;
}
