// runbook's release.yml on a merge whose new version changed a source file but not dist/: the run installs and builds
// as on GitHub (an offline `npm ci`, `npm run build` in its checkout), finds dist/ differs from the fresh build, fails
// and tags nothing. The world (runbook 1.0.0 released, the GitHub API stand-in, the local workflow runner) is
// test/support/release-world.ts, shared with workflows-release.test.ts; this scenario has its own file so that its
// install and whole build run beside that file's in jest's other worker.
import fs from 'node:fs';
import path from 'node:path';
import { releaseStep, setVersion, useReleaseWorld, type ReleaseWorld } from '../support/release-world.js';

let world: ReleaseWorld;
useReleaseWorld((w) => (world = w));

test('a new version whose dist/ was not rebuilt fails the freshness check and tags nothing', async () => {
  const { api, mergeFromStaging, release, released100, tagged, writes } = world;
  const writesBefore = writes().length;
  const releasesBefore = api.releases.length;
  const stale = mergeFromStaging('smoke-check: a wording, dist not rebuilt', (tree) => {
    setVersion(tree, '1.1.0', '- `smoke-check`: a wording.');
    const summary = path.join(tree, 'actions', 'smoke-check', 'summary.ts');
    const source = fs.readFileSync(summary, 'utf8');
    expect(source).toContain('checks passed in');
    fs.writeFileSync(summary, source.replace('checks passed in', 'checks passed within'));
  });
  const run = await release(stale, 'failure');
  expect(run.conclusion).toBe('failure');
  const steps = releaseStep(run).steps;
  expect(steps.map((s) => s.outcome)).toEqual(['success', 'success', 'success', 'success', 'failure', 'skipped']);
  expect(steps[4].result!.annotations).toEqual([
    expect.objectContaining({
      level: 'error',
      message: expect.stringContaining('dist/ differs from a fresh build of this commit: nothing is tagged'),
    }),
  ]);
  expect(steps[4].result!.log).toContain('dist/smoke-check/index.js');
  // The only file the fresh build changed is the bundle of the changed source: the committed dist/ of every other
  // action equals a build in a fresh checkout, so the failure is this commit's staleness, nothing else.
  expect(steps[4].result!.log.match(/^.. dist\/.*$/gm)).toEqual([' M dist/smoke-check/index.js']);
  expect(tagged('v1.1.0')).toBeUndefined();
  expect(tagged('v1')).toBe(released100);
  expect(tagged('v1.0.0')).toBe(released100);
  expect(writes()).toHaveLength(writesBefore);
  expect(api.releases).toHaveLength(releasesBefore);
  api.assertValid();
}, 900_000);
