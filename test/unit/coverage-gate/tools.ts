// Runs the real coverage tools for the tests: coverage.py from Debian (python3-coverage) and c8 from npm.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../../..');
export const PYTHON_FIXTURE = join(ROOT, 'test/fixtures/coverage-gate/python');
export const JS_FIXTURE = join(ROOT, 'test/fixtures/coverage-gate/js');

export function tempDir(prefix = 'coverage-gate-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Copies a fixture into a fresh directory so runs never write into the repository. */
export function copyFixture(fixture: string): string {
  const dir = tempDir();
  cpSync(fixture, dir, { recursive: true });
  return dir;
}

/** `python3 -m coverage <args>` in `cwd`, with the data file in `cwd`. */
export function coveragePy(cwd: string, args: string[], dataFile = '.coverage'): string {
  return execFileSync('/usr/bin/python3', ['-m', 'coverage', ...args], {
    cwd,
    env: { ...process.env, COVERAGE_FILE: join(cwd, dataFile), PYTHONDONTWRITEBYTECODE: '1' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export interface CoveragePyTotals {
  covered_lines: number;
  num_statements: number;
  covered_branches?: number;
  num_branches?: number;
  percent_covered: number;
}

export function coveragePyTotals(jsonReport: string): CoveragePyTotals {
  return (JSON.parse(readFileSync(jsonReport, 'utf8')) as { totals: CoveragePyTotals }).totals;
}

/** Runs `node <script>` under c8 in `cwd` writing every reporter we read into `reportsDir`. */
export function c8(cwd: string, script: string, reportsDir: string): void {
  execFileSync(
    join(ROOT, 'node_modules/.bin/c8'),
    [
      ...['lcov', 'json-summary', 'cobertura', 'json', 'clover'].flatMap((r) => ['--reporter', r]),
      '--reports-dir',
      reportsDir,
      '--temp-directory',
      join(reportsDir, 'tmp'),
      process.execPath,
      script,
    ],
    { cwd, stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

/**
 * A writer of report files into a temporary directory that lives as long as the test file: made before its tests,
 * removed after them. Each call writes a new file and returns its path.
 */
export function reportWriter(prefix = 'report'): (content: string) => string {
  let dir = '';
  let written = 0;
  beforeAll(() => {
    dir = tempDir();
  });
  afterAll(() => removeDir(dir));
  return (content) => {
    const file = join(dir, `${prefix}-${++written}`);
    writeFileSync(file, content);
    return file;
  };
}
