// `npm test`: provision what the end-to-end tests start, build the bundles they run, then run every test
// (unit and end-to-end) with coverage, and close with a plain 'N passed, N failed' line.
// Extra arguments go to jest (for example `npm test -- test/e2e/smoke-check.test.ts`). Two workers unless they say.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const run = (cmd, args, env = {}) =>
  spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } }).status ?? 1;

if (run('bash', ['.ci/provision.sh']) !== 0) process.exit(1);
if (process.env.RUNBOOK_SKIP_BUILD !== '1' && run('node', ['.ci/build.mjs']) !== 0) process.exit(1);

mkdirSync(join(root, 'coverage'), { recursive: true });
const results = join(root, 'coverage', 'jest-results.json');
const extra = process.argv.slice(2);
// Two workers on the two cores: most of a test's time is one process at a time (Node, Python, PostgreSQL), so one
// worker left a core idle (jest's default on two cores is one). The e2e files share nothing but the machine (ports,
// temp dirs, network namespace names, clusters and sshd are per file; test/README.md "Where the time goes").
// `npm test -- -w 1` (or --runInBand) runs one file at a time again.
const workers = extra.some((a) => /^(-w\d*|--maxWorkers|-i|--runInBand)(=|$)/.test(a)) ? [] : ['--maxWorkers=2'];
const status = run('node', [
  '.ci/jest.mjs',
  'all',
  '--coverage',
  '--json',
  `--outputFile=${results}`,
  ...workers,
  ...extra,
]);
if (existsSync(results)) {
  const r = JSON.parse(readFileSync(results, 'utf8'));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`\n${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
}
process.exit(status);
