import { DefaultArtifactClient } from '@actions/artifact';
import { dirname } from 'node:path';
import type { ArtifactUploader } from './artifact.js';

// Kept apart from artifact.ts so db-restore, which shares inputs.ts, does not bundle the artifact client.
export const sdkUploader = (): ArtifactUploader => ({
  async upload(name, file, options) {
    const client = new DefaultArtifactClient();
    const { id } = await client.uploadArtifact(name, [file], dirname(file), {
      retentionDays: options.retentionDays,
      compressionLevel: options.compressionLevel,
    });
    if (id === undefined) throw new Error(`The artifact service did not return an id for ${name}.`);
    return id;
  },
});
