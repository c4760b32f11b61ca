// CI gates runbook's own coverage with runbook's coverage gate: the built dist/coverage-gate, run through the
// runner harness exactly as a workflow step, on the LCOV report `npm test` wrote. Its summary is printed here.
import { runAction } from '../test/harness/index.js';
import { printSummary } from '../test/demo/terminal.js';

const workspace = new URL('..', import.meta.url).pathname;
const result = await runAction({
  action: 'coverage-gate',
  inputs: { reports: 'coverage/lcov.info', threshold: '90', metric: 'line', annotate: 'false' },
  github: { workspace },
});
printSummary('coverage gate on runbook itself', result);
process.exit(result.exitCode);
