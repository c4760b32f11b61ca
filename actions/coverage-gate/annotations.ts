import { lineRuns, type GateResult } from './gate.js';

export interface PlannedAnnotation {
  file: string;
  startLine: number;
  endLine: number;
  message: string;
}

/** GitHub shows at most 10 annotations of each type per step; more are dropped silently. */
export const GITHUB_ANNOTATIONS_PER_TYPE = 10;

/**
 * Warnings on uncovered changed lines, one per run of consecutive lines, biggest runs first so the cap keeps
 * the ones that matter; `rest` counts what did not fit.
 */
export function planAnnotations(result: GateResult, max: number): { annotations: PlannedAnnotation[]; rest: number } {
  const runs: PlannedAnnotation[] = [];
  for (const row of result.diff?.rows ?? []) {
    for (const [start, end] of lineRuns(row.missingLines)) {
      runs.push({
        file: row.path,
        startLine: start,
        endLine: end,
        message:
          start === end
            ? `Line ${start} is changed but not covered by tests.`
            : `Lines ${start}-${end} are changed but not covered by tests.`,
      });
    }
  }
  runs.sort(
    (a, b) =>
      b.endLine - b.startLine - (a.endLine - a.startLine) || a.file.localeCompare(b.file) || a.startLine - b.startLine,
  );
  const limit = Math.min(max, GITHUB_ANNOTATIONS_PER_TYPE);
  return { annotations: runs.slice(0, limit), rest: Math.max(0, runs.length - limit) };
}
