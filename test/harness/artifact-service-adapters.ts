// upload-artifact and download-artifact against the artifact service the run's steps see (ACTIONS_RESULTS_URL and
// ACTIONS_RUNTIME_TOKEN in the runner's environment, e.g. test/stand-ins/artifact-service.ts), so that what a
// JavaScript action uploads with @actions/artifact (db-backup's copy) and what the adapters upload or download are one
// store, as on GitHub. Both run @actions/artifact itself, the client actions/upload-artifact@v4 and
// download-artifact@v4 are built on, in a node process with the runner's variables.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { uploadArtifact, type AdapterResult } from './workflow-adapters.js';
import { UnsupportedWorkflowError, WorkflowError } from './workflow-triggers.js';

const REPO_ROOT = new URL('../../', import.meta.url).pathname;

/** The service a run's steps talk to, when its runner variables name one. */
export interface ArtifactServiceEnv {
  ACTIONS_RESULTS_URL: string;
  ACTIONS_RUNTIME_TOKEN: string;
}

export function artifactServiceOf(runnerEnv: Record<string, string> | undefined): ArtifactServiceEnv | undefined {
  const url = runnerEnv?.ACTIONS_RESULTS_URL;
  const token = runnerEnv?.ACTIONS_RUNTIME_TOKEN;
  if (!url && !token) return undefined;
  if (!url || !token)
    throw new WorkflowError(
      'runnerEnv: ACTIONS_RESULTS_URL and ACTIONS_RUNTIME_TOKEN name the artifact service together',
    );
  return { ACTIONS_RESULTS_URL: url, ACTIONS_RUNTIME_TOKEN: token };
}

// The client's calls, run as a module in the repository (where @actions/artifact resolves). The request comes as JSON
// in RUNBOOK_ARTIFACT_REQUEST; the answer is one JSON line on stdout; a failure is its message on stderr, exit 1.
const CLIENT = `
import { DefaultArtifactClient } from '@actions/artifact';
import { join } from 'node:path';
const request = JSON.parse(process.env.RUNBOOK_ARTIFACT_REQUEST);
const client = new DefaultArtifactClient();
try {
  if (request.op === 'upload') {
    const { id } = await client.uploadArtifact(request.name, request.files, request.root, request.options);
    process.stdout.write(JSON.stringify({ id }) + '\\n');
  } else {
    const found = request.name
      ? [(await client.getArtifact(request.name)).artifact]
      : (await client.listArtifacts({ latest: true })).artifacts;
    for (const artifact of found)
      await client.downloadArtifact(artifact.id, { path: request.name ? request.path : join(request.path, artifact.name) });
    process.stdout.write(JSON.stringify({ ids: found.map((a) => a.id) }) + '\\n');
  }
} catch (error) {
  process.stderr.write(String(error && error.message ? error.message : error).split('\\n')[0] + '\\n');
  process.exit(1);
}
`;

function client(
  service: ArtifactServiceEnv,
  request: Record<string, unknown>,
): Promise<{ ok: true; answer: Record<string, unknown> } | { ok: false; message: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', CLIENT],
      {
        cwd: REPO_ROOT,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: process.env.HOME ?? '/tmp',
          ...service,
          RUNBOOK_ARTIFACT_REQUEST: JSON.stringify(request),
        },
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error) done({ ok: false, message: stderr.trim() || error.message });
        else done({ ok: true, answer: JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown> });
      },
    );
  });
}

/**
 * actions/upload-artifact into the service: the files chosen and named exactly as the directory adapter does (the
 * same inputs, errors and notices), then uploaded by the client under the artifact's name.
 */
export async function uploadArtifactToService(
  where: string,
  given: Record<string, string>,
  workspace: string,
  service: ArtifactServiceEnv,
): Promise<AdapterResult> {
  const staging = mkdtempSync(join(tmpdir(), 'runbook-upload-'));
  try {
    // overwrite is the service's to judge (409 for a name already uploaded), not the empty staging folder's.
    const staged = uploadArtifact(where, { ...given, overwrite: 'true' }, workspace, staging);
    if (staged.failure !== undefined || staged.notice !== undefined) return staged;
    const name = given.name || 'artifact';
    const root = join(staging, name);
    const files = readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));
    const retention = given['retention-days'] ? Number(given['retention-days']) : undefined;
    if (retention !== undefined && (!Number.isInteger(retention) || retention < 1 || retention > 90))
      throw new WorkflowError(
        `${where}: retention-days is a whole number of days from 1 to 90; got '${given['retention-days']}'`,
      );
    const answer = await client(service, {
      op: 'upload',
      name,
      files,
      root,
      options: retention === undefined ? {} : { retentionDays: retention },
    });
    if (!answer.ok) return { outputs: {}, failure: answer.message };
    const id = String(answer.answer.id);
    return { outputs: { 'artifact-id': id, 'artifact-url': `${service.ACTIONS_RESULTS_URL}artifacts/${id}` } };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * actions/download-artifact from the service: one artifact by name into `path` (default the workspace), or every
 * artifact in a folder of its name. `run-id` with `github-token` (another run's artifact) is accepted: the service
 * holds one repository's artifacts, every run's.
 */
export async function downloadArtifactFromService(
  where: string,
  given: Record<string, string>,
  workspace: string,
  service: ArtifactServiceEnv,
): Promise<AdapterResult> {
  for (const input of Object.keys(given))
    if (!['name', 'path', 'run-id', 'github-token'].includes(input))
      throw new UnsupportedWorkflowError(
        `${where}: actions/download-artifact input '${input}' is not supported by the local runner`,
      );
  if (given['run-id'] && !given['github-token'])
    return { outputs: {}, failure: `${where}: run-id needs a github-token with actions:read (download-artifact)` };
  const destination = resolve(workspace, given.path || '.');
  const answer = await client(service, { op: 'download', name: given.name || '', path: destination });
  if (!answer.ok) return { outputs: {}, failure: answer.message };
  return { outputs: { 'download-path': destination } };
}
