// Real git histories for tests: a repository in a private temp dir where tests make commits on master and staging,
// merges and forks' branches, so that "ahead", "behind" and "diverged" come from git itself.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const IDENTITY = {
  GIT_AUTHOR_NAME: 'Ada Baker',
  GIT_AUTHOR_EMAIL: 'ada@ocpizza.example',
  GIT_COMMITTER_NAME: 'Ada Baker',
  GIT_COMMITTER_EMAIL: 'ada@ocpizza.example',
  // Keep the user's and the machine's git configuration (signing, hooks, default branch) out of the tests.
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
};

export interface CommitInfo {
  sha: string;
  tree: string;
  parents: string[];
  authorName: string;
  authorEmail: string;
  authorDate: string;
  committerName: string;
  committerEmail: string;
  committerDate: string;
  message: string;
}

export class GitHistory {
  private counter = 0;

  private constructor(readonly dir: string) {}

  /** A new repository whose default branch is master, with one initial commit. */
  static create(): GitHistory {
    const dir = mkdtempSync(join(tmpdir(), 'runbook-git-'));
    const history = new GitHistory(dir);
    history.git('init', '--quiet', '--initial-branch=master');
    history.commit('master', 'Initial commit: OC Pizza Django project');
    return history;
  }

  /**
   * An independent copy of this repository (commits, branches, working tree) in a new temp dir: what create() and
   * the same commits would give, without a git process per step (a test file copies one history per test).
   */
  copy(): GitHistory {
    const dir = mkdtempSync(join(tmpdir(), 'runbook-git-'));
    cpSync(this.dir, dir, { recursive: true });
    const history = new GitHistory(dir);
    history.counter = this.counter;
    return history;
  }

  /** An existing repository (for example the demo's copy of the Django fixture), left in place by remove(). */
  static open(dir: string): GitHistory {
    const history = new GitHistory(dir);
    history.owned = false;
    return history;
  }

  private owned = true;

  git(...args: string[]): string {
    return execFileSync('git', args, { cwd: this.dir, env: { ...process.env, ...IDENTITY }, encoding: 'utf8' }).trim();
  }

  /** Resolves a branch, tag or sha to a full commit sha; undefined when it does not exist. */
  resolve(ref: string): string | undefined {
    try {
      return this.git('rev-parse', '--verify', '--quiet', `${ref}^{commit}`);
    } catch {
      return undefined;
    }
  }

  /** Creates `branch` at `from` (a branch or sha). */
  branch(branch: string, from: string): void {
    this.git('branch', '--force', branch, from);
  }

  /** Commits a change on `branch` (which must exist, except for the first commit) and returns the new sha. */
  commit(branch: string, message: string): string {
    if (this.resolve(branch)) this.git('switch', '--quiet', branch);
    this.counter += 1;
    const file = `change-${this.counter}.txt`;
    writeFileSync(join(this.dir, file), `${message}\n`);
    this.git('add', file);
    this.git('commit', '--quiet', '--no-verify', '-m', message);
    return this.git('rev-parse', 'HEAD');
  }

  /** A merge commit of `from` into `into` (never a fast-forward), as GitHub's merge button makes; returns its sha. */
  merge(into: string, from: string, message = `Merge ${from} into ${into}`): string {
    this.git('switch', '--quiet', into);
    this.git('merge', '--quiet', '--no-ff', '--no-edit', '-m', message, from);
    return this.git('rev-parse', 'HEAD');
  }

  /** Moves `into` forward to `from` (a fast-forward push of staging's commits to master). */
  fastForward(into: string, from: string): string {
    this.git('switch', '--quiet', into);
    this.git('merge', '--quiet', '--ff-only', from);
    return this.git('rev-parse', 'HEAD');
  }

  info(sha: string): CommitInfo {
    const fields = this.git(
      'show',
      '-s',
      '--format=%H%x00%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B',
      sha,
    ).split('\0');
    return {
      sha: fields[0],
      tree: fields[1],
      parents: fields[2] === '' ? [] : fields[2].split(' '),
      authorName: fields[3],
      authorEmail: fields[4],
      authorDate: fields[5],
      committerName: fields[6],
      committerEmail: fields[7],
      committerDate: fields[8],
      message: fields.slice(9).join('\0').trim(),
    };
  }

  remove(): void {
    if (!this.owned) return;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
