// Runs jest the way every test command here needs it: the test files are ESM, which jest loads through Node's VM
// modules (--experimental-vm-modules; its ExperimentalWarning, printed once per worker, says nothing to act on).
//   node .ci/jest.mjs unit|e2e|all [jest arguments...]
// The project is chosen through RUNBOOK_JEST_PROJECT (read by jest.config.js), not --selectProjects: that flag takes
// every word after it (`--selectProjects unit test/unit/x.test.ts` selected a project named after the file and ran
// them all), and jest prints 'Running one project: unit' whenever it is given.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const [project, ...args] = process.argv.slice(2);
if (!['unit', 'e2e', 'all'].includes(project)) {
  console.error(`usage: node .ci/jest.mjs unit|e2e|all [jest arguments...] (got '${project ?? ''}')`);
  process.exit(2);
}
const flags = ['--experimental-vm-modules', '--disable-warning=ExperimentalWarning'];
const nodeOptions = [process.env.NODE_OPTIONS ?? '', ...flags.filter((f) => !process.env.NODE_OPTIONS?.includes(f))];
const result = spawnSync(join(root, 'node_modules', '.bin', 'jest'), args, {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    NODE_OPTIONS: nodeOptions.join(' ').trim(),
    RUNBOOK_JEST_PROJECT: project === 'all' ? '' : project,
  },
});
process.exit(result.status ?? 1);
