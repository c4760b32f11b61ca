// What the coverage-gate benchmarks share: the counts every reader prints, and running one reader in a child
// process of its own so that its peak memory (max RSS) is its own.
import { spawnSync } from 'node:child_process';

/** Lines, covered lines, branches and covered branches, as every reader counts them. */
export interface Totals {
  lines: number;
  covered: number;
  branches: number;
  branchesCovered: number;
}

export const zeroTotals = (): Totals => ({ lines: 0, covered: 0, branches: 0, branchesCovered: 0 });

export function sameTotals(a: Totals, b: Totals): boolean {
  return (
    a.lines === b.lines &&
    a.covered === b.covered &&
    a.branches === b.branches &&
    a.branchesCovered === b.branchesCovered
  );
}

/**
 * Runs `script --child <args>` in a fresh Node with tsx and `--expose-gc` (plus `nodeArgs`); the child prints its
 * result as JSON on its last line. Returns that, or why the child did not finish (its exit and last error line).
 */
export function runBenchChild<T>(script: string, args: string[], nodeArgs: string[] = []): T | { error: string } {
  const result = spawnSync(
    process.execPath,
    ['--expose-gc', ...nodeArgs, '--import', 'tsx', script, '--child', ...args],
    {
      encoding: 'utf8',
      timeout: 10 * 60_000,
      maxBuffer: 1 << 24,
    },
  );
  const last = result.stdout?.trim().split('\n').pop() ?? '';
  if (result.status === 0 && last.startsWith('{')) return JSON.parse(last) as T;
  const why = result.error?.message ?? (result.signal ? `killed by ${result.signal}` : `exit ${result.status}`);
  const stderr = (result.stderr ?? '').trim().split('\n');
  const cause = stderr.find((line) => /Error:/.test(line)) ?? stderr.at(-1) ?? '';
  return { error: `${why}: ${cause.trim()}` };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

export const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
