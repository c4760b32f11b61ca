import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ActionFailure } from '../../shared/errors.js';
import { lastErrorLine, type ProcessRunner } from '../../shared/process.js';
import type { HerokuApi } from './api.js';

/** What a build is created from: where Heroku downloads the tarball, which commit it is, and its checksum. */
export interface SourceBlob {
  url: string;
  version: string;
  /** `SHA256:<hex>`, the form the Build API verifies before building. */
  checksum: string;
  sizeBytes: number;
}

interface SourceAnswer {
  source_blob: { get_url: string; put_url: string };
}

/**
 * `git archive` of the commit as a gzipped tarball in a private temporary directory, hashed on the way through.
 * No history is needed: shallow checkouts work, unlike `git push heroku`.
 */
export async function packSource(
  runner: ProcessRunner,
  repository: string,
  commit: string,
  appDirectory: string,
  tempDir: string,
): Promise<{ file: string; sha256: string; sizeBytes: number }> {
  const file = join(tempDir, 'source.tar.gz');
  const treeish = appDirectory ? `${commit}:${appDirectory}` : commit;
  try {
    const result = await runner('git', ['archive', '--format=tar.gz', treeish], {
      cwd: repository,
      stdoutFile: file,
      sha256: true,
    });
    if (result.code !== 0 || !result.sha256) {
      throw new ActionFailure(
        `git archive ${treeish} failed in ${repository}: ${lastErrorLine(result.stderrTail) || `exit code ${result.code}`}`,
      );
    }
    return { file, sha256: result.sha256, sizeBytes: result.bytes };
  } catch (error) {
    // Whichever way it failed (git's exit, a full disk, git not found), no partial tarball stays behind.
    await rm(file, { force: true });
    throw error;
  }
}

/** POST /sources for a pair of signed URLs, then the tarball PUT to put_url; the build reads get_url. */
export async function uploadSource(
  api: HerokuApi,
  packed: { file: string; sha256: string; sizeBytes: number },
  commit: string,
): Promise<SourceBlob> {
  const { body } = await api.post<SourceAnswer>('/sources', undefined);
  const blob = body?.source_blob;
  if (!blob?.put_url || !blob.get_url) throw new ActionFailure('Heroku API POST /sources returned no upload URL.');
  await api.upload(blob.put_url, packed.file, packed.sizeBytes);
  return { url: blob.get_url, version: commit, checksum: `SHA256:${packed.sha256}`, sizeBytes: packed.sizeBytes };
}
