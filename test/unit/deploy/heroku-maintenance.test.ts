import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decideBackup, decideMaintenance, migrationChanges } from '../../../actions/deploy/heroku/maintenance.js';
import { runProcess } from '../../../actions/shared/process.js';
import { git, makeRepo, type TestRepo } from './heroku-world.js';

let repo: TestRepo;
let dir: string;
beforeAll(() => {
  repo = makeRepo();
  dir = mkdtempSync(join(tmpdir(), 'heroku-shallow-'));
});
afterAll(() => {
  repo.remove();
  rmSync(dir, { recursive: true, force: true });
});

describe('the migration diff', () => {
  test('lists the migration files changed between the serving commit and the new one', async () => {
    expect(await migrationChanges(runProcess, repo.dir, repo.v1, repo.v3)).toEqual({
      known: true,
      files: ['orders/migrations/0002_note.py'],
    });
    expect(await migrationChanges(runProcess, repo.dir, repo.v2, repo.v3)).toEqual({ known: true, files: [] });
  });

  test('a shallow checkout (actions/checkout depth 1) fetches the serving commit first', async () => {
    const shallow = join(dir, 'shallow');
    git(dir, 'clone', '-q', '--depth=1', `file://${repo.dir}`, shallow);
    expect(() => git(shallow, 'cat-file', '-e', `${repo.v1}^{commit}`)).toThrow();
    expect(await migrationChanges(runProcess, shallow, repo.v1, repo.v3)).toEqual({
      known: true,
      files: ['orders/migrations/0002_note.py'],
    });
  });

  test('an unknown or malformed serving commit is reported, not guessed', async () => {
    expect(await migrationChanges(runProcess, repo.dir, undefined, repo.v3)).toEqual({
      known: false,
      why: 'the release serving now has no known commit',
    });
    expect(await migrationChanges(runProcess, repo.dir, 'v1.2.3', repo.v3)).toEqual({
      known: false,
      why: "'v1.2.3' is not a commit sha",
    });
    const broken = await migrationChanges(runProcess, repo.dir, repo.v1, 'not-a-commit');
    expect(broken).toMatchObject({ known: false, why: expect.stringMatching(/^git diff failed/) });
  });

  test('maintenance and backup follow the mode, then the diff; unknown means on', () => {
    const changed = { known: true as const, files: Array.from({ length: 7 }, (_, i) => `a/migrations/000${i}.py`) };
    const none = { known: true as const, files: [] };
    const unknown = { known: false as const, why: 'no commit' };
    expect(decideMaintenance('true', none).on).toBe(true);
    expect(decideMaintenance('false', changed).on).toBe(false);
    expect(decideMaintenance('auto', changed)).toEqual({
      on: true,
      why: '7 migration file(s) changed: a/migrations/0000.py, a/migrations/0001.py, a/migrations/0002.py, a/migrations/0003.py, a/migrations/0004.py, …',
    });
    expect(decideMaintenance('auto', none).on).toBe(false);
    expect(decideMaintenance('auto', unknown).why).toMatch(/no commit.*to be safe/);
    expect(decideBackup('always', none).take).toBe(true);
    expect(decideBackup('never', changed).take).toBe(false);
    expect(decideBackup('auto', unknown).take).toBe(true);
    expect(decideBackup('auto', changed).take).toBe(true);
    expect(decideBackup('auto', none).take).toBe(false);
  });
});
