// runbook's release.yml, run by the local workflow runner on a push to master (a merged pull request from staging),
// in a clone of this repository whose commits are the working tree, against the GitHub API stand-in (every request
// and answer checked against @octokit/openapi). The stand-in writes tags into the clone, so what a caller pinned to
// `@v1` runs afterwards is what the release moved v1 to. The world is test/support/release-world.ts.
//
// - 1.1.0 (smoke-check's verdict line now counts the checks, dist rebuilt) merged: v1.1.0 tagged at the merge, a
//   release with CHANGELOG.md's 1.1.0 section, v1 moved; a caller `uses: ocpizza/runbook/actions/smoke-check@v1` saw
//   1.0.0's verdict line before the run and sees 1.1.0's after.
// - The same merge's run again: no second release, nothing moves; a release deleted meanwhile is written again.
// - A merge that keeps 1.1.0 (a README fix): succeeds, releases nothing, says so.
// - A new version whose dist/ was not rebuilt: workflows-release-stale.test.ts (its own file, so that its `npm ci`
//   and whole build run beside this file's in jest's other worker).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  changeVerdictSource,
  NOTES_110,
  releaseStep,
  setVersion,
  TOKEN,
  useReleaseWorld,
  type ReleaseWorld,
} from '../support/release-world.js';

const ROOT = new URL('../../', import.meta.url).pathname;

let world: ReleaseWorld;
useReleaseWorld((w) => (world = w));
/** dist/smoke-check built once from 1.1.0's source, copied into every commit that carries 1.1.0. */
let built110: string;

/** 1.1.0 as its pull request holds it: the version, its changelog section, the source change and its built dist. */
function release110(tree: string) {
  setVersion(tree, '1.1.0', NOTES_110);
  changeVerdictSource(tree);
  if (!built110) {
    // Built in the clone's tree with a hard-linked copy of this checkout's node_modules (a symlink would make ncc
    // name modules by their real path, which a build in the release's checkout does not), removed before the commit.
    execFileSync('cp', ['-al', path.join(ROOT, 'node_modules'), path.join(tree, 'node_modules')]);
    try {
      execFileSync(process.execPath, [path.join(tree, '.ci', 'build.mjs'), 'smoke-check'], {
        cwd: tree,
        stdio: 'pipe',
      });
    } finally {
      fs.rmSync(path.join(tree, 'node_modules'), { recursive: true, force: true });
    }
    built110 = path.join(world.dir, 'dist-smoke-check-1.1.0');
    fs.cpSync(path.join(tree, 'dist', 'smoke-check'), built110, { recursive: true });
  } else {
    fs.rmSync(path.join(tree, 'dist', 'smoke-check'), { recursive: true });
    fs.cpSync(built110, path.join(tree, 'dist', 'smoke-check'), { recursive: true });
  }
}

let merge110: { before: string; merge: string };

test('a merge of 1.1.0 tags v1.1.0, writes its release from CHANGELOG.md and moves v1: @v1 callers run 1.1.0', async () => {
  const { api, callerAtV1, mergeFromStaging, release, released100, tagged, writes } = world;
  // Before the release, a caller pinned to @v1 runs 1.0.0: the verdict line without the count.
  expect(await callerAtV1()).toMatch(/^## Smoke check: healthy ✅\n/m);

  merge110 = mergeFromStaging('smoke-check: the verdict counts the checks', release110);
  const run = await release(merge110, 'success');
  expect(run.jobs.map((j) => [j.id, j.result])).toEqual([
    ['guard', 'success'],
    ['release', 'success'],
  ]);
  expect(releaseStep(run).steps.map((s) => s.outcome)).toEqual(Array(6).fill('success'));
  expect(tagged('v1.1.0')).toBe(merge110.merge);
  expect(tagged('v1')).toBe(merge110.merge);
  expect(tagged('v1.0.0')).toBe(released100);
  expect(api.releases).toEqual([
    expect.objectContaining({ tagName: 'v1.1.0', name: 'v1.1.0', targetCommitish: merge110.merge, body: NOTES_110 }),
  ]);
  // The version tag, the release, then the major tag: @v1 reaches 1.1.0 only once it is released.
  expect(writes().map((r) => `${r.method} ${r.path}`)).toEqual([
    'POST /repos/ocpizza/runbook/git/refs',
    'POST /repos/ocpizza/runbook/releases',
    'PATCH /repos/ocpizza/runbook/git/refs/tags/v1',
  ]);
  expect(writes().every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
  expect(releaseStep(run).steps.at(-1)!.result!.summary).toContain('`v1` now points at ' + merge110.merge);
  api.assertValid();

  // The same caller, unchanged, now runs what v1 holds: 1.1.0's verdict line.
  expect(await callerAtV1()).toMatch(/^## Smoke check: healthy ✅ \(1\/1\)\n/m);
}, 900_000);

test('the same merge released again writes no second release; a deleted release is written again', async () => {
  const { api, release, tagged } = world;
  const before = api.releases.length;
  const again = await release(merge110, 'success');
  expect(again.conclusion).toBe('success');
  // Tagged at this very merge: nothing installed or built, the release found, v1 set where it already is.
  expect(releaseStep(again).steps.map((s) => s.outcome)).toEqual([
    'success',
    'success',
    'skipped',
    'skipped',
    'skipped',
    'success',
  ]);
  expect(api.releases).toHaveLength(before);
  expect(releaseStep(again).steps.at(-1)!.result!.log).toContain('The release v1.1.0 exists already.');
  expect(tagged('v1')).toBe(merge110.merge);

  // A run that tagged but failed before the release (here: the release deleted) is completed by a re-run.
  api.deleteRelease('v1.1.0');
  const rerun = await release(merge110, 'success');
  expect(rerun.conclusion).toBe('success');
  expect(api.releases).toEqual([expect.objectContaining({ tagName: 'v1.1.0', body: NOTES_110 })]);
  api.assertValid();
}, 300_000);

test('a merge that keeps a released version releases nothing and says so', async () => {
  const { api, mergeFromStaging, release, tagged, writes } = world;
  const writesBefore = writes().length;
  const docs = mergeFromStaging('README: a typo', (tree) => {
    release110(tree);
    fs.appendFileSync(path.join(tree, 'README.md'), '\n');
  });
  const run = await release(docs, 'success');
  expect(run.conclusion).toBe('success');
  const version = releaseStep(run).steps[1];
  expect(version.result!.annotations).toEqual([
    expect.objectContaining({
      level: 'notice',
      message: expect.stringContaining(
        `v1.1.0 is already released (on ${merge110.merge}): this merge releases nothing`,
      ),
    }),
  ]);
  expect(
    releaseStep(run)
      .steps.slice(2)
      .map((s) => s.outcome),
  ).toEqual(Array(4).fill('skipped'));
  expect(writes()).toHaveLength(writesBefore);
  expect(tagged('v1')).toBe(merge110.merge);
  api.assertValid();
}, 300_000);
