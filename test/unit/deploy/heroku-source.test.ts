import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packSource } from '../../../actions/deploy/heroku/source.js';
import { runProcess, writeFailure, type ProcessRunner } from '../../../actions/shared/process.js';
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

  test.each([
    ['the disk fills up while writing', () => writeFailure(Object.assign(new Error('write'), { code: 'ENOSPC' }), 'x')],
    ['git cannot be started', () => Object.assign(new Error('spawn git ENOENT'), { code: 'ENOENT' })],
  ])('%s: the error is kept, and the partial tarball removed', async (_case, failure) => {
    const file = join(dir, 'source.tar.gz');
    // Fails as runProcess does: after part of the tarball was written, with a rejected promise instead of an exit.
    const failing: ProcessRunner = async (_command, _args, options) => {
      writeFileSync(options!.stdoutFile!, 'partial tarball');
      throw failure();
    };
    await expect(packSource(failing, repo.dir, repo.v1, '', dir)).rejects.toThrow(failure().message);
    expect(existsSync(file)).toBe(false);
  });
});
