import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { ConfigurationError } from '../shared/errors.js';
import type { InputReader } from '../shared/inputs.js';

/** What the user asked for with upload-artifact, artifact-name and retention-days. */
export interface ArtifactRequest {
  /** Undefined: named after the backup file. */
  name?: string;
  /** Undefined: the repository's default retention. */
  retentionDays?: number;
}

export interface UploadedArtifact {
  name: string;
  id: number;
  retentionDays?: number;
}

/** The artifact service edge: the official client on a runner, a recorder in unit tests. */
export interface ArtifactUploader {
  upload(name: string, file: string, options: { retentionDays?: number; compressionLevel: number }): Promise<number>;
}

export type RepositoryVisibility = 'public' | 'private' | 'internal' | 'unknown';

// GitHub refuses these in artifact names (the upload client checks the same list before any request).
const FORBIDDEN_NAME_CHARACTERS = ['"', ':', '<', '>', '|', '*', '?', '\r', '\n', '\\', '/'];

export function readArtifactRequest(read: InputReader): ArtifactRequest | undefined {
  const upload = read.boolean('upload-artifact', false);
  const name = read.optionalString('artifact-name');
  const retention = read.optionalString('retention-days');
  if (!upload) return undefined;
  const bad = name ? FORBIDDEN_NAME_CHARACTERS.filter((c) => name.includes(c)) : [];
  if (bad.length) {
    throw new ConfigurationError(
      `Input 'artifact-name' is ${JSON.stringify(name)}, which contains ${bad.map((c) => JSON.stringify(c)).join(', ')}; an artifact name cannot contain any of ${FORBIDDEN_NAME_CHARACTERS.map((c) => JSON.stringify(c)).join(' ')}.`,
    );
  }
  return {
    name,
    retentionDays: retention === undefined ? undefined : read.integer('retention-days', { min: 1, max: 90 }),
  };
}

/** Reads the repository's visibility from the event payload the runner wrote; anything unreadable is 'unknown'. */
export function repositoryVisibility(
  eventPath: string | undefined,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): RepositoryVisibility {
  if (!eventPath) return 'unknown';
  let repository: { private?: unknown; visibility?: unknown } | undefined;
  try {
    repository = (JSON.parse(readFile(eventPath)) as { repository?: typeof repository }).repository;
  } catch {
    return 'unknown';
  }
  const visibility = repository?.visibility;
  if (visibility === 'public' || visibility === 'private' || visibility === 'internal') return visibility;
  if (repository?.private === true) return 'private';
  if (repository?.private === false) return 'public';
  return 'unknown';
}

/**
 * Anyone who can read a public repository can download its artifacts, so a database dump goes there only
 * encrypted. Checked before any dump so nothing is half-done.
 */
export function checkArtifactAllowed(
  request: ArtifactRequest | undefined,
  context: {
    visibility: RepositoryVisibility;
    encrypted: boolean;
    storage: 'runner' | 'server';
    env: Record<string, string | undefined>;
    /** The input that asked for the upload (db-restore's is safety-upload-artifact). */
    input?: string;
  },
): void {
  if (!request) return;
  const input = context.input ?? 'upload-artifact';
  if (context.storage === 'server') {
    throw new ConfigurationError(
      `Input '${input}' needs the backup on the runner, but 'storage' is server; use storage: runner (the dump is streamed back over SSH).`,
    );
  }
  if ((context.visibility === 'public' || context.visibility === 'unknown') && !context.encrypted) {
    const why =
      context.visibility === 'public'
        ? 'this repository is public, so anyone could download the artifact'
        : 'the event payload does not say this repository is private, so it is treated as public';
    throw new ConfigurationError(
      `Input '${input}' is true but ${why}; set 'encryption-passphrase' (the artifact is then the encrypted file) or keep the backup out of artifacts.`,
    );
  }
  const missing = ['ACTIONS_RUNTIME_TOKEN', 'ACTIONS_RESULTS_URL'].filter((name) => !context.env[name]);
  if (missing.length) {
    throw new ConfigurationError(
      `Input '${input}' is true but ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set; the runner gives these to JavaScript actions (not to run: scripts), so call this action with uses:.`,
    );
  }
}

/** Uploads the verified backup (already complete on disk: takeBackup renames only after verification). */
export async function uploadBackup(
  request: ArtifactRequest,
  backup: { path: string; format: string; encrypted: boolean },
  uploader: ArtifactUploader,
): Promise<UploadedArtifact> {
  const name = request.name ?? basename(backup.path);
  // Custom archives are compressed by pg_dump and ciphertext does not compress: zipping them again only costs CPU.
  const compressionLevel = backup.encrypted || backup.format === 'custom' ? 0 : 6;
  const id = await uploader.upload(name, backup.path, { retentionDays: request.retentionDays, compressionLevel });
  return { name, id, retentionDays: request.retentionDays };
}

export function artifactSummaryRow(
  artifact: UploadedArtifact,
  env: Record<string, string | undefined>,
): [string, string] {
  const retention = artifact.retentionDays ? `kept ${artifact.retentionDays} days` : "the repository's retention";
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: runId } = env;
  const name = `\`${artifact.name}\``;
  const link =
    server && repo && runId ? `[${name}](${server}/${repo}/actions/runs/${runId}/artifacts/${artifact.id})` : name;
  return ['Artifact', `${link} (id ${artifact.id}, ${retention})`];
}
