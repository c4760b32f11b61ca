// db-backup's workflow artifact upload end to end: the built action, through the runner harness, dumps a real
// PostgreSQL from the test bed and uploads with the official @actions/artifact client to a local stand-in of
// GitHub's artifact service (Twirp + Azure Blob). The stored zip is unpacked and compared with the backup.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { runAction } from '../harness/index.js';
import { startArtifactService, type ArtifactService } from '../stand-ins/artifact-service.js';
import { startPostgres, type PostgresServer } from '../testbed/postgres.js';
import { decryptAsDocumented } from '../support/openssl.js';

jest.setTimeout(180_000);

const SHA = 'fedcba9876543210fedcba9876543210fedcba98';
const PASSPHRASE = 'artifact passphrase 0123';
let pg: PostgresServer;
let service: ArtifactService;
let work: string;

beforeAll(async () => {
  [pg, service] = await Promise.all([startPostgres(), startArtifactService()]);
  work = mkdtempSync(join(tmpdir(), 'rb-artifact-e2e-'));
  await pg.createDatabase('shop');
  await pg.sql(
    `CREATE TABLE orders (id serial PRIMARY KEY, item text, paid bytea);
     INSERT INTO orders (item, paid) SELECT 'pizza ' || g || ' — crème', decode(md5(g::text), 'hex') FROM generate_series(1, 2000) g;`,
    'shop',
  );
});

afterAll(async () => {
  await Promise.all([pg?.stop(), service?.stop()]);
  if (work) rmSync(work, { recursive: true, force: true });
});

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const filesIn = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);

/** Unpacks a stored artifact with Python's standard zipfile module; returns file name → content. */
function unzip(zip: Buffer, name: string): Record<string, Buffer> {
  const dir = mkdtempSync(join(work, `unzip-${name}-`));
  writeFileSync(join(dir, 'artifact.zip'), zip);
  execFileSync('/usr/bin/python3', ['-m', 'zipfile', '-e', join(dir, 'artifact.zip'), join(dir, 'out')]);
  return Object.fromEntries(filesIn(join(dir, 'out')).map((f) => [f, readFileSync(join(dir, 'out', f))]));
}

const backup = (directory: string, visibility: 'public' | 'private', inputs: Record<string, string> = {}) =>
  runAction({
    action: 'db-backup',
    inputs: { 'database-url': pg.url('shop'), directory, 'upload-artifact': 'true', ...inputs },
    env: { ACTIONS_RESULTS_URL: service.resultsUrl, ACTIONS_RUNTIME_TOKEN: service.runtimeToken },
    secrets: [pg.password, service.runtimeToken, PASSPHRASE],
    event: {
      name: 'workflow_dispatch',
      payload: { repository: { full_name: 'acme/shop', private: visibility === 'private', visibility } },
    },
    github: { sha: SHA, repository: 'acme/shop' },
  });

test('private repository: the verified backup is uploaded and the artifact holds exactly that file', async () => {
  const dir = join(work, 'private');
  const before = service.artifacts.length;
  const result = await backup(dir, 'private', { 'retention-days': '5' });
  expect(result.annotations.filter((a) => a.level === 'error' || a.level === 'warning')).toEqual([]);
  expect(result.exitCode).toBe(0);
  expect(service.violations).toEqual([]);

  const file = result.outputs.path.split('/').pop()!;
  expect(filesIn(dir)).toEqual([file]);
  const stored = service.artifacts.slice(before);
  expect(stored.map((a) => [a.name, a.finalized, String(a.id)])).toEqual([[file, true, result.outputs['artifact-id']]]);
  const unpacked = unzip(stored[0].content, 'private');
  expect(Object.keys(unpacked)).toEqual([file]);
  expect(sha256(unpacked[file])).toBe(result.outputs.sha256);
  expect(sha256(unpacked[file])).toBe(sha256(readFileSync(result.outputs.path)));
  // retention-days reached the service as an expiry about five days out.
  const days = (Date.parse(stored[0].expiresAt!) - Date.now()) / 86_400_000;
  expect(days).toBeGreaterThan(4);
  expect(days).toBeLessThanOrEqual(5);
  expect(result.summary).toContain(`/acme/shop/actions/runs/`);
  expect(result.summary).toContain(
    `/artifacts/${result.outputs['artifact-id']}) (id ${result.outputs['artifact-id']}, kept 5 days)`,
  );
});

test('public repository without a passphrase: refused before any dump, nothing uploaded', async () => {
  const dir = join(work, 'public-plain');
  const calls = service.calls.length;
  const result = await backup(dir, 'public');
  expect(result.exitCode).not.toBe(0);
  const errors = result.annotations.filter((a) => a.level === 'error').map((a) => a.message);
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(/'upload-artifact' is true but this repository is public.*'encryption-passphrase'/);
  expect(result.log).not.toMatch(/\n\s+at /); // no stack trace
  expect(filesIn(dir)).toEqual([]);
  expect(service.calls.slice(calls)).toEqual([]);
  expect(result.outputs).toEqual({});
});

test('public repository with a passphrase: the encrypted file is the artifact, and it decrypts to the dump', async () => {
  const dir = join(work, 'public-encrypted');
  const before = service.artifacts.length;
  const result = await backup(dir, 'public', { 'encryption-passphrase': PASSPHRASE, 'artifact-name': 'shop-db' });
  expect(result.annotations.filter((a) => a.level === 'error')).toEqual([]);
  expect(result.exitCode).toBe(0);
  expect(service.violations).toEqual([]);
  expect(result.outputs.path).toMatch(/\.dump\.enc$/);

  const file = result.outputs.path.split('/').pop()!;
  const stored = service.artifacts.slice(before);
  expect(stored.map((a) => [a.name, String(a.id), a.expiresAt])).toEqual([
    ['shop-db', result.outputs['artifact-id'], undefined],
  ]);
  const unpacked = unzip(stored[0].content, 'encrypted');
  expect(Object.keys(unpacked)).toEqual([file]);
  expect(sha256(unpacked[file])).toBe(result.outputs.sha256);
  expect(unpacked[file].subarray(0, 8).toString('latin1')).toBe('Salted__');
  const plain = decryptAsDocumented({ bytes: unpacked[file] }, PASSPHRASE);
  expect(plain.subarray(0, 5).toString('latin1')).toBe('PGDMP');
  expect(result.summary).toContain('shop-db');
});
