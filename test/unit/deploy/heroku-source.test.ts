import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packSource } from '../../../actions/deploy/heroku/source.js';
import { runProcess } from '../../../actions/shared/process.js';
import { makeRepo, type TestRepo } from './heroku-world.js';

let repo: TestRepo;
let dir: string;
beforeAll(() => {
  repo = makeRepo();
  dir = mkdtempSync(join(tmpdir(), 'heroku-source-'));
});
afterAll(() => {
  repo.remove();
  rmSync(dir, { recursive: true, force: true });
});

describe('packSource', () => {
  test('a gzipped tarball of the commit (only the app directory), with its sha256', async () => {
    const packed = await packSource(runProcess, repo.dir, repo.v1, 'orders', dir);
    const listing = execFileSync('tar', ['-tzf', packed.file], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
    expect(listing).toEqual(['migrations/', 'migrations/0001_initial.py', 'views.py']);
    const sum = execFileSync('sha256sum', [packed.file], { encoding: 'utf8' }).split(' ')[0];
    expect(packed.sha256).toBe(sum);
  });

  test('an unknown commit fails naming git archive, and leaves no file behind', async () => {
    await expect(packSource(runProcess, repo.dir, 'f'.repeat(40), '', dir)).rejects.toThrow(/git archive f{40} failed/);
    expect(existsSync(join(dir, 'source.tar.gz'))).toBe(false);
  });
});
