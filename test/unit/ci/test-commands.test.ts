// The test commands the README and test/README.md give: a file named after `--` is the file that runs, and a
// green run prints the test list and jest's closing lines, nothing the runner or git meant for someone else.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

/** The lines of a jest run that are neither the test list nor jest's closing lines. */
function beyondListAndClosing(output: string): string[] {
  return (
    output
      .split('\n')
      .filter((l) => l.trim() !== '')
      // With one file jest lists its tests too.
      .filter((l) => !/^PASS unit test\/unit\/\S+\.test\.ts( \([\d.]+ m?s\))?$|^ {2}✓ /.test(l))
      .filter((l) => !/^(Test Suites|Tests|Snapshots|Time):\s|^Ran all test suites matching /.test(l))
  );
}

// These two ran the production edges in-process (::debug:: and [command] lines) and let git's `fatal:` through;
// jest said 'Running one project: unit' before the list.
test('a green run of unit files prints only the test list and the closing lines', () => {
  const run = npm(
    'test:unit',
    '--',
    'test/unit/coverage-gate/main.test.ts',
    'test/unit/deploy/heroku-maintenance.test.ts',
  );
  expect(run.status).toBe(0);
  expect(beyondListAndClosing(run.output)).toEqual([]);
  expect(run.output).toMatch(/^Test Suites: 2 passed, 2 total$/m);
}, 600_000);

// `npm test` runs with --coverage: jest's text-summary reporter added a 'Coverage summary' block to every green run.
test('with coverage, a green run still prints only the list and the closing lines, and writes the reports', () => {
  const dir = mkdtempSync(join(tmpdir(), 'runbook-coverage-'));
  try {
    const run = npm('test:unit', '--', 'test/unit/demo/terminal.test.ts', '--coverage', `--coverageDirectory=${dir}`);
    expect(run.status).toBe(0);
    expect(beyondListAndClosing(run.output)).toEqual([]);
    expect(readdirSync(dir).sort()).toEqual([
      'cobertura-coverage.xml',
      'coverage-summary.json',
      'lcov-report',
      'lcov.info',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 600_000);
