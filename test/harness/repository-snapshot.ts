// A throwaway git repository holding this working tree as commits, for runs of callers pinned to a ref
// (`uses: <owner>/runbook/…@v1`): the runner archives the ref from it as GitHub fetches a tag's tree.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO_ROOT = new URL('../../', import.meta.url).pathname;

export interface RepositorySnapshot {
  dir: string;
  /** Commits the working tree as it is now (after `change`, applied to that commit only); returns the commit. */
  commit(message: string, change?: (workTree: string) => void): string;
  /** Points (or moves) a tag at a commit. */
  tag(name: string, commit: string): void;
  dispose(): void;
}

/** A clone of this repository's HEAD; commits add the working tree's current files (ignored ones stay out). */
export function snapshotRepository(): RepositorySnapshot {
  const dir = mkdtempSync(join(tmpdir(), 'runbook-clone-'));
  const git = (args: string[], cwd = dir) =>
    execFileSync('git', ['-c', 'user.name=runbook tests', '-c', 'user.email=tests@runbook.invalid', ...args], {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  git(['clone', '--quiet', '--no-hardlinks', REPO_ROOT, dir], tmpdir());
  return {
    dir,
    commit(message, change) {
      // The working tree's tracked and new files, through this clone's index, as `git add -A` there would.
      git(['--work-tree', REPO_ROOT, 'add', '-A']);
      if (change) {
        git(['checkout', '--quiet', '--', '.']);
        change(dir);
        git(['add', '-A']);
      }
      git(['commit', '--quiet', '--allow-empty', '-m', message]);
      // The next commit's `add` makes the index the working tree again, without this one's change.
      return git(['rev-parse', 'HEAD']);
    },
    tag(name, commit) {
      git(['tag', '--force', name, commit]);
    },
    dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
