// The workflows the README tells users to copy must be the safe set-up: a guard that runs on `pull_request` runs
// the workflow file as the pull request changed it, so the pull request could edit its own guard.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

const readme = readFileSync(new URL('../../../actions/staging-guard/README.md', import.meta.url), 'utf8');
const workflows = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)]
  .map((m) => parse(m[1]) as { on?: Record<string, unknown>; jobs?: Record<string, unknown> })
  .filter((w) => w.on !== undefined && JSON.stringify(w.jobs ?? {}).includes('actions/staging-guard@'));

test('the README has workflows that run the guard', () => {
  expect(workflows.length).toBeGreaterThanOrEqual(2);
});

test('no README workflow runs the guard on pull_request; the ones that judge pull requests use pull_request_target', () => {
  for (const workflow of workflows) {
    expect(Object.keys(workflow.on ?? {})).not.toContain('pull_request');
  }
  expect(workflows.filter((w) => 'pull_request_target' in (w.on ?? {})).length).toBeGreaterThanOrEqual(2);
});
