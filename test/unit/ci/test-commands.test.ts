// The test commands the README and test/README.md give: a file named after `--` is the file that runs, and a
// green run prints the test list and jest's closing lines, nothing the runner or git meant for someone else.
import { spawnSync } from 'node:child_process';

const ROOT = new URL('../../..', import.meta.url).pathname;

function npm(...args: string[]) {
  const run = spawnSync('npm', ['run', '--silent', ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

test.each([
  ['test:e2e', 'test/e2e/testbed.test.ts'],
  ['test:unit', 'test/unit/demo/terminal.test.ts'],
])('`npm run %s -- <file>` lists only that file', (script, file) => {
  const listed = npm(script, '--', file, '--listTests').output.split('\n');
  expect(listed.filter((l) => l.startsWith('/'))).toEqual([`${ROOT}${file}`]);
});

// These two ran the production edges in-process (::debug:: and [command] lines) and let git's `fatal:` through.
test('a green run of unit files prints only the test list and the closing lines', () => {
  const run = npm(
    'test:unit',
    '--',
    'test/unit/coverage-gate/main.test.ts',
    'test/unit/deploy/heroku-maintenance.test.ts',
  );
  expect(run.status).toBe(0);
  const unexpected = run.output
    .split('\n')
    .filter((l) => l.trim() !== '')
    .filter((l) => !/^(Running one project: unit|PASS unit test\/unit\/\S+\.test\.ts( \([\d.]+ m?s\))?)$/.test(l))
    .filter((l) => !/^(Test Suites|Tests|Snapshots|Time):\s|^Ran all test suites matching /.test(l));
  expect(unexpected).toEqual([]);
  expect(run.output).toMatch(/^Test Suites: 2 passed, 2 total$/m);
}, 600_000);
