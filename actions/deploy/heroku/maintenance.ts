import type { ProcessRunner } from '../../shared/process.js';
import type { HerokuApi } from './api.js';
import { appPath } from './build.js';
import type { MaintenanceMode } from '../inputs.js';

/** Which migration files changed between the commit serving now and the one being deployed. */
export type MigrationDiff = { known: true; files: string[] } | { known: false; why: string };

/** Django keeps migrations in <app>/migrations/*.py; any change there may alter the schema. */
export const MIGRATION_PATHSPEC = '*/migrations/*.py';

export async function setMaintenance(api: HerokuApi, app: string, on: boolean): Promise<void> {
  await api.patch(appPath(app), { maintenance: on });
}

/**
 * `git diff --name-only <old>..<new> -- '*\/migrations/*.py'`. The old commit is fetched when the checkout is
 * shallow and lacks it; when it still cannot be compared, the answer says why (and the caller plays safe).
 */
export async function migrationChanges(
  runner: ProcessRunner,
  repository: string,
  oldCommit: string | undefined,
  newCommit: string,
): Promise<MigrationDiff> {
  if (!oldCommit) return { known: false, why: 'the release serving now has no known commit' };
  if (!/^[0-9a-f]{7,64}$/i.test(oldCommit)) return { known: false, why: `'${oldCommit}' is not a commit sha` };
  const has = async () =>
    (await runner('git', ['cat-file', '-e', `${oldCommit}^{commit}`], { cwd: repository })).code === 0;
  if (!(await has())) {
    await runner('git', ['fetch', '--no-tags', '--quiet', '--depth=1', 'origin', oldCommit], { cwd: repository });
    if (!(await has())) {
      return {
        known: false,
        why: `commit ${oldCommit.slice(0, 12)} (serving now) is not in the checkout and could not be fetched`,
      };
    }
  }
  const diff = await runner('git', ['diff', '--name-only', `${oldCommit}..${newCommit}`, '--', MIGRATION_PATHSPEC], {
    cwd: repository,
  });
  if (diff.code !== 0)
    return { known: false, why: `git diff failed: ${diff.stderrTail.trim() || `exit code ${diff.code}`}` };
  return {
    known: true,
    files: diff.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== ''),
  };
}

/** Maintenance on or off, and the sentence the summary shows. Pure. */
export function decideMaintenance(mode: MaintenanceMode, diff: MigrationDiff): { on: boolean; why: string } {
  if (mode === 'true') return { on: true, why: 'maintenance: true' };
  if (mode === 'false') return { on: false, why: 'maintenance: false' };
  if (!diff.known) return { on: true, why: `migrations may differ (${diff.why}), so maintenance is on to be safe` };
  return diff.files.length > 0
    ? {
        on: true,
        why: `${diff.files.length} migration file(s) changed: ${diff.files.slice(0, 5).join(', ')}${diff.files.length > 5 ? ', …' : ''}`,
      }
    : { on: false, why: 'no migration file changed since the release serving now' };
}

/** Whether to back up before the release phase migrates: auto follows the same migration diff. Pure. */
export function decideBackup(mode: 'auto' | 'always' | 'never', diff: MigrationDiff): { take: boolean; why: string } {
  if (mode === 'always') return { take: true, why: 'backup: always' };
  if (mode === 'never') return { take: false, why: 'backup: never' };
  if (!diff.known) return { take: true, why: `migrations may differ (${diff.why})` };
  return diff.files.length > 0
    ? { take: true, why: `${diff.files.length} migration file(s) changed` }
    : { take: false, why: 'no migration file changed' };
}
