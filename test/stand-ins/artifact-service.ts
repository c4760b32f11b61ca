// A local stand-in for GitHub's artifact service as @actions/artifact v2+ talks to it (node:http on 127.0.0.1):
// the Twirp JSON endpoints under ACTIONS_RESULTS_URL (CreateArtifact → a signed upload URL, FinalizeArtifact with
// size and sha256 → the artifact id), authenticated by the ACTIONS_RUNTIME_TOKEN JWT whose `scp` claim names the
// run and job, and the Azure Blob requests the signed URL receives (Put Block + Put Block List, or one Put Blob).
// Downloads as @actions/artifact makes them: ListArtifacts (name or id filter) → GetSignedArtifactURL → GET of the blob
// (the zip as uploaded). One service is one repository's store: a later run finds what an earlier one uploaded.
// Every deviation from what the real service would accept is recorded in `violations`, which tests assert empty.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StoredArtifact {
  id: number;
  name: string;
  mimeType?: string;
  /** ISO time the client asked the artifact to expire at (retention-days), if any. */
  expiresAt?: string;
  /** The uploaded blob (a zip unless the client skipped archiving). */
  content: Buffer;
  finalized: boolean;
  createdAt: string;
}

export interface ArtifactService {
  /** ACTIONS_RESULTS_URL */
  resultsUrl: string;
  /** ACTIONS_RUNTIME_TOKEN: an (unsigned) JWT with `scp: Actions.Results:<runId>:<jobId>`. */
  runtimeToken: string;
  runBackendId: string;
  jobBackendId: string;
  artifacts: StoredArtifact[];
  /** Every Twirp method and blob operation, in order, e.g. 'CreateArtifact', 'PutBlock', 'PutBlockList'. */
  calls: string[];
  violations: string[];
  stop(): Promise<void>;
}

const TWIRP = '/twirp/github.actions.results.api.v1.ArtifactService/';
const b64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

export async function startArtifactService(): Promise<ArtifactService> {
  const runBackendId = randomUUID();
  const jobBackendId = randomUUID();
  const runtimeToken = [
    b64url({ typ: 'JWT', alg: 'RS256' }),
    b64url({ scp: `Actions.GenericRead:0 Actions.Results:${runBackendId}:${jobBackendId}`, exp: 4102444800 }),
    randomBytes(32).toString('base64url'),
  ].join('.');
  const signature = randomBytes(16).toString('hex');
  const artifacts: StoredArtifact[] = [];
  const blocks = new Map<string, Map<string, Buffer>>();
  const calls: string[] = [];
  const violations: string[] = [];
  let nextId = 1000;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      try {
        if (url.pathname.startsWith(TWIRP)) twirp(req, res, url.pathname.slice(TWIRP.length), body);
        else if (url.pathname.startsWith('/blob/')) blob(req, res, url, body);
        else reply(res, 404, 'text/plain', 'not found');
      } catch (error) {
        violations.push(`${req.method} ${url.pathname}: ${(error as Error).message}`);
        reply(res, 400, 'application/json', JSON.stringify({ code: 'malformed', msg: (error as Error).message }));
      }
    });
  });

  function reply(res: http.ServerResponse, status: number, type: string, text: string, headers = {}) {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  function twirp(req: http.IncomingMessage, res: http.ServerResponse, method: string, body: Buffer) {
    calls.push(method);
    if (req.method !== 'POST') throw new Error(`Twirp ${method} must be POST, got ${req.method}`);
    if (req.headers.authorization !== `Bearer ${runtimeToken}`) {
      violations.push(`${method}: missing or wrong bearer token`);
      return reply(res, 401, 'application/json', JSON.stringify({ code: 'unauthenticated', msg: 'bad token' }));
    }
    if (!String(req.headers['content-type']).startsWith('application/json'))
      throw new Error(`content-type ${req.headers['content-type']}`);
    const request = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    if (request.workflow_run_backend_id !== runBackendId || request.workflow_job_run_backend_id !== jobBackendId)
      throw new Error(`backend ids ${request.workflow_run_backend_id}/${request.workflow_job_run_backend_id}`);
    if (method === 'ListArtifacts') {
      // A later job (or run) finding what was uploaded: by name (name_filter) or id (id_filter), finalized only.
      const byName = request.name_filter;
      const byId = request.id_filter;
      const found = artifacts.filter(
        (a) =>
          a.finalized &&
          (byName === undefined || a.name === byName) &&
          (byId === undefined || String(a.id) === String(byId)),
      );
      const listed = found.map((a) => ({
        workflow_run_backend_id: runBackendId,
        workflow_job_run_backend_id: jobBackendId,
        database_id: String(a.id),
        name: a.name,
        size: String(a.content.length),
        created_at: a.createdAt,
      }));
      return reply(res, 200, 'application/json', JSON.stringify({ artifacts: listed }));
    }
    const name = request.name;
    if (typeof name !== 'string' || !name) throw new Error('no name');
    if (method === 'GetSignedArtifactURL') {
      const artifact = artifacts.find((a) => a.name === name && a.finalized);
      if (!artifact) return reply(res, 404, 'application/json', JSON.stringify({ code: 'not_found', msg: name }));
      const { port } = server.address() as AddressInfo;
      const signed = `http://127.0.0.1:${port}/blob/actions-results/${artifact.id}?sv=2023-11-03&sr=b&sp=r&sig=${signature}`;
      return reply(res, 200, 'application/json', JSON.stringify({ signed_url: signed }));
    }
    if (method === 'CreateArtifact') {
      if (request.version !== 7) throw new Error(`version ${request.version}`);
      if (artifacts.some((a) => a.name === name && a.finalized)) {
        return reply(res, 409, 'application/json', JSON.stringify({ code: 'already_exists', msg: 'exists' }));
      }
      const expiresAt = request.expires_at;
      if (expiresAt !== undefined && (typeof expiresAt !== 'string' || Number.isNaN(Date.parse(expiresAt))))
        throw new Error(`expires_at ${String(expiresAt)}`);
      const id = nextId++;
      artifacts.push({
        id,
        name,
        mimeType: typeof request.mime_type === 'string' ? request.mime_type : undefined,
        expiresAt: expiresAt as string | undefined,
        content: Buffer.alloc(0),
        finalized: false,
        createdAt: new Date().toISOString(),
      });
      const { port } = server.address() as AddressInfo;
      const signed = `http://127.0.0.1:${port}/blob/actions-results/${id}?sv=2023-11-03&sr=b&sp=cw&sig=${signature}`;
      return reply(res, 200, 'application/json', JSON.stringify({ ok: true, signed_upload_url: signed }));
    }
    if (method === 'FinalizeArtifact') {
      const artifact = artifacts.find((a) => a.name === name && !a.finalized);
      if (!artifact) throw new Error(`finalize of unknown artifact ${name}`);
      if (request.size !== String(artifact.content.length))
        throw new Error(`size ${String(request.size)} but ${artifact.content.length} bytes were uploaded`);
      const hash = `sha256:${createHash('sha256').update(artifact.content).digest('hex')}`;
      if (request.hash !== hash) throw new Error(`hash ${String(request.hash)}, uploaded ${hash}`);
      artifact.finalized = true;
      return reply(res, 200, 'application/json', JSON.stringify({ ok: true, artifact_id: String(artifact.id) }));
    }
    return reply(res, 404, 'application/json', JSON.stringify({ code: 'bad_route', msg: `no method ${method}` }));
  }

  function blob(req: http.IncomingMessage, res: http.ServerResponse, url: URL, body: Buffer) {
    if (url.searchParams.get('sig') !== signature) {
      violations.push(`blob ${req.method} without the signature`);
      return reply(res, 403, 'application/xml', '<Error><Code>AuthenticationFailed</Code></Error>');
    }
    const id = Number(url.pathname.split('/').pop());
    if (req.method === 'GET') {
      calls.push('GetBlob');
      const stored = artifacts.find((a) => a.id === id && a.finalized);
      if (!stored) return reply(res, 404, 'application/xml', '<Error><Code>BlobNotFound</Code></Error>');
      res.writeHead(200, {
        'content-type': stored.mimeType ?? 'application/zip',
        'content-length': stored.content.length,
      });
      return res.end(stored.content);
    }
    const artifact = artifacts.find((a) => a.id === id && !a.finalized);
    if (!artifact) throw new Error(`upload to unknown or finalized artifact ${id}`);
    if (req.method !== 'PUT') throw new Error(`blob ${req.method}`);
    const headers = { etag: `"0x${randomBytes(8).toString('hex')}"`, 'last-modified': new Date().toUTCString() };
    const comp = url.searchParams.get('comp');
    const staged = blocks.get(String(id)) ?? new Map<string, Buffer>();
    blocks.set(String(id), staged);
    if (comp === 'block') {
      calls.push('PutBlock');
      const blockId = url.searchParams.get('blockid');
      if (!blockId) throw new Error('Put Block without blockid');
      staged.set(blockId, body);
      return reply(res, 201, 'application/xml', '', headers);
    }
    if (comp === 'blocklist') {
      calls.push('PutBlockList');
      const ids = [...body.toString('utf8').matchAll(/<(Latest|Uncommitted|Committed)>([^<]*)<\/\1>/g)].map(
        (m) => m[2],
      );
      const missing = ids.filter((b) => !staged.has(b));
      if (missing.length) throw new Error(`Put Block List names unstaged blocks ${missing.join(',')}`);
      artifact.content = Buffer.concat(ids.map((b) => staged.get(b)!));
      return reply(res, 201, 'application/xml', '', headers);
    }
    if (comp === null) {
      calls.push('PutBlob');
      if (req.headers['x-ms-blob-type'] !== 'BlockBlob')
        throw new Error(`x-ms-blob-type ${req.headers['x-ms-blob-type']}`);
      artifact.content = body;
      return reply(res, 201, 'application/xml', '', headers);
    }
    throw new Error(`blob comp=${comp}`);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    resultsUrl: `http://127.0.0.1:${port}/`,
    runtimeToken,
    runBackendId,
    jobBackendId,
    artifacts,
    calls,
    violations,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
