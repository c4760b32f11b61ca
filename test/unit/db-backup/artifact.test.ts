// Workflow artifact upload: the inputs, the public-repository refusal (before any dump), and the run with an
// injected artifact service over the fake database tools.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  artifactSummaryRow,
  readArtifactRequest,
  repositoryVisibility,
  uploadBackup,
  type ArtifactUploader,
} from '../../../actions/db-backup/artifact.js';
import { backupMain } from '../../../actions/db-backup/main.js';
import { ConfigurationError } from '../../../actions/shared/errors.js';
import { InputReader } from '../../../actions/shared/inputs.js';
import { makeFakeTools, recordedIO, type FakeTools } from './fake-tools.js';

const reader = (inputs: Record<string, string>) => new InputReader((name) => inputs[name] ?? '');

describe('artifact inputs', () => {
  test('off unless asked; the other two inputs are then ignored', () => {
    expect(readArtifactRequest(reader({}))).toBeUndefined();
    expect(readArtifactRequest(reader({ 'upload-artifact': 'false', 'retention-days': '500' }))).toBeUndefined();
  });

  test('name and retention are read; empty means the defaults', () => {
    expect(readArtifactRequest(reader({ 'upload-artifact': 'true' }))).toEqual({
      name: undefined,
      retentionDays: undefined,
    });
    expect(
      readArtifactRequest(reader({ 'upload-artifact': 'true', 'artifact-name': 'nightly db', 'retention-days': '90' })),
    ).toEqual({ name: 'nightly db', retentionDays: 90 });
  });

  test.each(['0', '91', '7d', '-1'])('retention-days %s is refused, naming the input and the range', (value) => {
    const read = () => readArtifactRequest(reader({ 'upload-artifact': 'true', 'retention-days': value }));
    expect(read).toThrow(ConfigurationError);
    expect(read).toThrow(/retention-days/);
  });

  test.each(['backups/shop', 'a:b', 'why?', 'x\\y'])('artifact-name %j is refused', (name) => {
    expect(() => readArtifactRequest(reader({ 'upload-artifact': 'true', 'artifact-name': name }))).toThrow(
      /Input 'artifact-name' .* cannot contain/,
    );
  });

  test('upload-artifact must be a boolean', () => {
    expect(() => readArtifactRequest(reader({ 'upload-artifact': 'yes please' }))).toThrow(/upload-artifact/);
  });
});

describe('repository visibility from the event payload', () => {
  const from = (payload: unknown) => repositoryVisibility('/event.json', () => JSON.stringify(payload));
  test.each([
    [{ repository: { visibility: 'public', private: false } }, 'public'],
    [{ repository: { visibility: 'private', private: true } }, 'private'],
    [{ repository: { visibility: 'internal', private: true } }, 'internal'],
    [{ repository: { private: true } }, 'private'],
    [{ repository: { private: false } }, 'public'],
    [{ repository: {} }, 'unknown'],
    [{}, 'unknown'],
  ])('%j → %s', (payload, expected) => {
    expect(from(payload)).toBe(expected);
  });

  test('no event file, or an unreadable one, is unknown', () => {
    expect(repositoryVisibility(undefined)).toBe('unknown');
    expect(repositoryVisibility('/nonexistent/event.json')).toBe('unknown');
    expect(repositoryVisibility('/event.json', () => '{not json')).toBe('unknown');
  });
});

describe('upload and summary', () => {
  test('custom archives and encrypted files are stored, plain SQL deflated; the name defaults to the file', async () => {
    const seen: { name: string; file: string; level: number; days?: number }[] = [];
    const uploader: ArtifactUploader = {
      upload: async (name, file, o) => {
        seen.push({ name, file, level: o.compressionLevel, days: o.retentionDays });
        return 7;
      },
    };
    await uploadBackup({}, { path: '/b/shop_1.dump', format: 'custom', encrypted: false }, uploader);
    await uploadBackup(
      { name: 'n', retentionDays: 3 },
      { path: '/b/s.sql', format: 'plain', encrypted: false },
      uploader,
    );
    await uploadBackup({}, { path: '/b/s.sql.enc', format: 'plain', encrypted: true }, uploader);
    expect(seen).toEqual([
      { name: 'shop_1.dump', file: '/b/shop_1.dump', level: 0, days: undefined },
      { name: 'n', file: '/b/s.sql', level: 6, days: 3 },
      { name: 's.sql.enc', file: '/b/s.sql.enc', level: 0, days: undefined },
    ]);
  });

  test('the summary row links to the artifact when the run is known', () => {
    expect(
      artifactSummaryRow(
        { name: 'x.dump', id: 42, retentionDays: 5 },
        { GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'acme/shop', GITHUB_RUN_ID: '99' },
      ),
    ).toEqual([
      'Artifact',
      '[`x.dump`](https://github.com/acme/shop/actions/runs/99/artifacts/42) (id 42, kept 5 days)',
    ]);
    expect(artifactSummaryRow({ name: 'x.dump', id: 42 }, {})).toEqual([
      'Artifact',
      "`x.dump` (id 42, the repository's retention)",
    ]);
  });
});

describe('db-backup run with upload-artifact (fake tools, injected artifact service)', () => {
  let tools: FakeTools;
  beforeEach(() => {
    tools = makeFakeTools([15]);
  });
  afterEach(() => tools.cleanup());

  const url = 'postgres://app:s3cret@db.internal:5432/shop';
  const runtime = { ACTIONS_RUNTIME_TOKEN: 'header.payload.sig', ACTIONS_RESULTS_URL: 'http://127.0.0.1:9/' };

  function setup(repository: unknown, inputs: Record<string, string> = {}, env: Record<string, string> = runtime) {
    const dir = join(tools.dir, 'out');
    const event = join(tools.dir, 'event.json');
    writeFileSync(event, JSON.stringify({ repository }));
    const uploads: { name: string; sha256: string; days?: number }[] = [];
    const io = recordedIO(
      {
        'database-url': url,
        directory: dir,
        sha: 'abcdef1234567890',
        'postgres-client-root': tools.clientRoot,
        'upload-artifact': 'true',
        ...inputs,
      },
      tools.runner,
      {
        GITHUB_EVENT_PATH: event,
        GITHUB_SERVER_URL: 'https://github.com',
        GITHUB_REPOSITORY: 'acme/shop',
        GITHUB_RUN_ID: '5',
        ...env,
      },
    );
    io.artifacts = {
      upload: async (name, file, options) => {
        uploads.push({
          name,
          sha256: createHash('sha256').update(readFileSync(file)).digest('hex'),
          days: options.retentionDays,
        });
        return 314;
      },
    };
    return { io, dir, uploads };
  }
  const ranTools = () => existsSync(tools.log) && readFileSync(tools.log, 'utf8').trim() !== '';

  test('a private repository: the verified file is uploaded, artifact-id output, summary row', async () => {
    const { io, dir, uploads } = setup({ private: true, visibility: 'private' }, { 'retention-days': '7' });
    await backupMain(io);
    expect(readdirSync(dir)).toEqual(['shop_202611271405_abcdef1.dump']);
    expect(uploads).toEqual([{ name: 'shop_202611271405_abcdef1.dump', sha256: io.outputs.sha256, days: 7 }]);
    expect(io.outputs['artifact-id']).toBe('314');
    expect(io.summaries[0]).toMatch(
      /\| Artifact \| \[`shop_202611271405_abcdef1\.dump`\]\(https:\/\/github\.com\/acme\/shop\/actions\/runs\/5\/artifacts\/314\) \(id 314, kept 7 days\) \|/,
    );
    expect(io.secrets).toContain(runtime.ACTIONS_RUNTIME_TOKEN);
  });

  test.each([
    ['public', { private: false, visibility: 'public' }, /this repository is public/],
    ['unknown', undefined, /does not say this repository is private/],
  ])('a %s repository without a passphrase is refused before any dump', async (_, repository, why) => {
    const { io, dir, uploads } = setup(repository);
    await expect(backupMain(io)).rejects.toThrow(ConfigurationError);
    await expect(backupMain(io)).rejects.toThrow(why);
    await expect(backupMain(io)).rejects.toThrow(/'encryption-passphrase'/);
    expect(ranTools()).toBe(false);
    expect(existsSync(dir)).toBe(false);
    expect(uploads).toEqual([]);
    expect(io.outputs).toEqual({});
  });

  test('a public repository with a passphrase uploads the encrypted file', async () => {
    const { io, uploads } = setup(
      { private: false, visibility: 'public' },
      { 'encryption-passphrase': 'correct horse battery', 'artifact-name': 'shop-db' },
    );
    await backupMain(io);
    expect(io.outputs.path).toMatch(/\.dump\.enc$/);
    expect(uploads).toEqual([{ name: 'shop-db', sha256: io.outputs.sha256, days: undefined }]);
    expect(io.outputs['artifact-id']).toBe('314');
  });

  test('without the runner variables the artifact service cannot be reached: refused before any dump', async () => {
    const { io, uploads } = setup({ private: true }, {}, {});
    await expect(backupMain(io)).rejects.toThrow(/ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL are not set/);
    expect(ranTools()).toBe(false);
    expect(uploads).toEqual([]);
  });

  test('storage: server cannot upload (the file is not on the runner)', async () => {
    const { io } = setup(
      { private: true },
      { storage: 'server', 'ssh-host': 'db.example', 'ssh-user': 'deploy', 'ssh-known-hosts': 'x' },
    );
    await expect(backupMain(io)).rejects.toThrow(/needs the backup on the runner, but 'storage' is server/);
    expect(ranTools()).toBe(false);
  });
});
