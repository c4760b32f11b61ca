// The `uses:` line of the restore snippet in db-backup's and deploy's summaries.
import { actionRef } from '../../../actions/db-backup/action-io.js';

test('names the repository and ref the action was used from', () => {
  expect(actionRef({ GITHUB_ACTION_REPOSITORY: 'ocpizza/runbook', GITHUB_ACTION_REF: 'v1.2.0' }, 'db-restore')).toBe(
    'ocpizza/runbook/actions/db-restore@v1.2.0',
  );
});

test('from a local path (no action repository), says <owner>/runbook as the README does', () => {
  expect(actionRef({}, 'db-restore')).toBe('<owner>/runbook/actions/db-restore@v1');
});
