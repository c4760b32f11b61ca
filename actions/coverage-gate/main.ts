import { isAbsolute, join, relative, resolve } from 'node:path';
import { ActionFailure, ConfigurationError, errorMessage } from '../shared/errors.js';
import { runAction } from '../shared/run-action.js';
import { checkStillInside, outputPath } from '../shared/workspace-path.js';
import { planAnnotations } from './annotations.js';
import { badgeColor, renderBadge } from './badge.js';
import { commentMarker, upsertStickyComment } from './comment.js';
import { changedLinesSince } from './diff.js';
import { defaultEdges, type Edges } from './edges.js';
import { evaluateGate, summaryOverlapNotes, type GateResult } from './gate.js';
import { readInputs } from './inputs.js';
import { summariseReport, type ParsedReport, type ReportFormat, type ReportSummary } from './model.js';
import { normalisePath, toPosix, type PathContext } from './paths.js';
import { readReport } from './formats/read-report.js';
import { ReportError } from './formats/report-error.js';
import { ReportCollector } from './report-files.js';
import { MAX_FILE_ROWS, renderSummary } from './summary.js';
import { mergeReports, modelTotals, type CoverageModel } from './totals.js';
import { excerpt } from '../shared/untrusted-text.js';

const GLOB_CHARS = /[*?[\]{}]/;

async function resolveReports(patterns: string[], cwd: string, edges: Edges, input: string): Promise<string[]> {
  const found: string[] = [];
  for (const pattern of patterns) {
    const matches = await edges.findFiles(pattern, cwd);
    if (matches.length === 0) {
      throw new ConfigurationError(
        GLOB_CHARS.test(pattern)
          ? `Input '${input}': '${pattern}' matches no file in ${cwd}.`
          : `Input '${input}': no such file '${excerpt(pattern)}' (looked in ${cwd}).`,
      );
    }
    for (const file of matches.sort()) if (!found.includes(file)) found.push(file);
  }
  return found;
}

function pullRequest(event: unknown): { number: number; baseRef?: string } | undefined {
  const pr = (event as { pull_request?: { number?: unknown; base?: { ref?: unknown } } } | undefined)?.pull_request;
  if (!pr || typeof pr.number !== 'number') return undefined;
  return { number: pr.number, baseRef: typeof pr.base?.ref === 'string' ? pr.base.ref : undefined };
}

interface Loaded {
  reports: ReportSummary[];
  model: CoverageModel;
  /** The first paths not found in the repository, in order, and how many there are. */
  unmatched: string[];
  unmatchedCount: number;
}

/**
 * Reads the reports keeping per-line counts only for the files in `keep` (the changed files); every other file is
 * folded into sums (in all, by package, by path threshold) as soon as its parser is done with it, and forgotten.
 * A file found twice (in two reports, or twice in one) can then no longer be merged line by line, so the reports
 * are read a second time keeping those files' lines too: memory follows the files that need lines, not the size
 * of the reports.
 */
export async function loadReports(
  files: string[],
  format: ReportFormat | undefined,
  context: PathContext,
  workspace: string,
  keep: ReadonlySet<string>,
  globs: readonly string[],
  note: (message: string) => void,
): Promise<Loaded> {
  const reading = (kept: ReadonlySet<string>): ReportCollector =>
    new ReportCollector((path, roots) => normalisePath(path, [...roots], context), kept, globs, MAX_FILE_ROWS);
  let collector = reading(keep);
  let reports = await readReports(files, format, workspace, collector);
  if (collector.duplicates.size > 0) {
    const twice = [...collector.duplicates].sort();
    note(
      `${twice.length} file(s) are listed more than once (${twice.slice(0, 3).join(', ')}${twice.length > 3 ? ', …' : ''}): reading the reports again to merge them line by line.`,
    );
    collector = reading(new Set([...keep, ...twice]));
    reports = await readReports(files, format, workspace, collector);
  }
  const model = mergeReports(
    reports,
    (path, report) => collector.key(path, report.sourceRoots ?? []),
    (key) => collector.wasFolded(key),
  );
  model.folded = collector.sums.result();
  // Only the model is kept: the copies of files that were merged into another report's copy go with the reports.
  return {
    reports: reports.map(summariseReport),
    model,
    unmatched: collector.unmatched.rows(),
    unmatchedCount: collector.unmatchedCount,
  };
}

async function readReports(
  files: string[],
  format: ReportFormat | undefined,
  workspace: string,
  collector: ReportCollector,
): Promise<ParsedReport[]> {
  const reports: ParsedReport[] = [];
  for (const file of files) {
    const shown = toPosix(relative(workspace, file)) || file;
    let report: ParsedReport;
    try {
      report = await readReport(file, format, collector);
    } catch (error) {
      // The parsers name the absolute path; users know the report by its repository path.
      if (error instanceof ReportError) throw new ReportError(shown, error.detail, error.line);
      throw error;
    }
    report.file = shown;
    if (summariseReport(report).files === 0) {
      throw new ReportError(
        shown,
        'lists no source files: the tests measured nothing (check the coverage source settings)',
      );
    }
    reports.push(report);
  }
  return reports;
}

function reportJson(result: GateResult): string {
  const t = result.totals;
  return JSON.stringify({
    metric: result.metric,
    coverage: result.measured.shown,
    covered: result.measured.count.covered,
    total: result.measured.count.total,
    passed: result.passed,
    threshold: result.options.threshold.text,
    rounding: result.options.rounding,
    lines: t.lines,
    branches: t.branches,
    ...(t.statements ? { statements: t.statements } : {}),
    ...(t.functions ? { functions: t.functions } : {}),
    ...(result.diff
      ? {
          diff: {
            coverage: result.diff.measured.count.total > 0 ? result.diff.measured.shown : null,
            ...result.diff.measured.count,
          },
        }
      : {}),
    ...(result.baseline ? { baseline: result.baseline.shown } : {}),
    failures: result.failures,
  });
}

export async function gate(edges: Edges): Promise<GateResult> {
  const { runner } = edges;
  const inputs = readInputs(runner.input);
  const workspace = resolve(runner.env.GITHUB_WORKSPACE || process.cwd());
  const cwd = resolve(workspace, inputs.workingDirectory);
  // Refused before the tests run: a bad output path is bad input, found before anything is done.
  const badge = inputs.badgePath === undefined ? undefined : outputPath('badge-path', inputs.badgePath, workspace);

  if (inputs.command) {
    runner.startGroup(`Running ${inputs.command}`);
    let code: number;
    try {
      code = await edges.runCommand(inputs.command, cwd);
    } finally {
      runner.endGroup();
    }
    if (code !== 0) throw new ActionFailure(`The test command exited with code ${code}; coverage was not read.`);
  }

  const context: PathContext = {
    workspace: toPosix(workspace),
    workingDirectory: toPosix(relative(workspace, cwd)).replace(/^\.$/, ''),
    sourceRoots: inputs.sourceRoots.map((r) =>
      isAbsolute(r) ? toPosix(r) : toPosix(relative(workspace, resolve(cwd, r))),
    ),
    stripPrefixes: inputs.stripPrefix,
    exists: (path) => edges.fileExists(join(workspace, path)),
  };
  const files = await resolveReports(inputs.reports, cwd, edges, 'reports');

  // The changed lines come first: the changed files are the ones whose lines the reading keeps.
  const event = edges.readEvent();
  const pr = pullRequest(event);
  const base =
    inputs.diffBase ??
    ((pr?.baseRef ?? runner.env.GITHUB_BASE_REF) ? `origin/${pr?.baseRef ?? runner.env.GITHUB_BASE_REF}` : undefined);
  let changed: { range: string; lines: Map<string, number[]> } | undefined;
  if (base) {
    try {
      const diff = await changedLinesSince(edges.git, base);
      diff.notes.forEach((note) => runner.info(note));
      changed = { range: diff.range, lines: diff.changed };
    } catch (error) {
      if (inputs.diffThreshold) throw new ActionFailure(`Changed-line coverage needs the diff: ${errorMessage(error)}`);
      runner.warning(`No changed-line coverage: ${errorMessage(error)}`);
    }
  } else if (inputs.diffThreshold) {
    runner.notice(
      "Input 'diff-threshold' applies to pull requests (or with 'diff-base'); this run has no base to compare with.",
    );
  }

  const note = (message: string): void => runner.info(message);
  const format = inputs.format === 'auto' ? undefined : inputs.format;
  const globs = inputs.pathThresholds.map((p) => p.glob);
  const loaded = await loadReports(files, format, context, workspace, new Set(changed?.lines.keys()), globs, note);
  if (loaded.unmatchedCount > 0) {
    runner.warning(
      `${loaded.unmatchedCount} file(s) named in the reports are not in the repository, so they cannot be annotated: ${loaded.unmatched.slice(0, 5).join(', ')}${loaded.unmatchedCount > 5 ? ', …' : ''}. Set 'source-roots' or 'strip-prefix'.`,
    );
  }

  let baseline;
  if (inputs.baseline.length > 0) {
    const baselineFiles = await resolveReports(inputs.baseline, cwd, edges, 'baseline');
    baseline = modelTotals(
      (await loadReports(baselineFiles, undefined, context, workspace, new Set(), [], note)).model,
    );
  }

  const result = evaluateGate(
    {
      model: loaded.model,
      reports: loaded.reports,
      unmatched: loaded.unmatched,
      unmatchedCount: loaded.unmatchedCount,
      changed,
      baseline,
    },
    {
      metric: inputs.metric,
      threshold: inputs.threshold,
      rounding: inputs.rounding,
      precision: inputs.precision,
      pathThresholds: inputs.pathThresholds,
      diffThreshold: inputs.diffThreshold,
      maxDecrease: inputs.baseline.length > 0 ? inputs.maxDecrease : undefined,
    },
  );

  runner.info(result.verdict);
  // A total that can only be a bound is worth a warning; a header the detail overrides is said in the summary.
  for (const note of summaryOverlapNotes(loaded.model)) runner.warning(note);
  runner.setOutput('coverage', result.measured.shown);
  runner.setOutput('covered', String(result.measured.count.covered));
  runner.setOutput('total', String(result.measured.count.total));
  runner.setOutput('metric', result.metric);
  runner.setOutput('passed', String(result.passed));
  runner.setOutput(
    'diff-coverage',
    result.diff && result.diff.measured.count.total > 0 ? result.diff.measured.shown : '',
  );
  runner.setOutput('report-json', reportJson(result));

  const markdown = renderSummary(result, inputs.commentTitle);
  await runner.appendSummary(markdown);

  if (inputs.annotate && result.diff) {
    const planned = planAnnotations(result, inputs.maxAnnotations);
    for (const a of planned.annotations) {
      runner.warning(a.message, {
        title: 'Uncovered change',
        file: a.file,
        startLine: a.startLine,
        endLine: a.endLine,
      });
    }
    if (planned.rest > 0) {
      runner.notice(
        `${planned.rest} more uncovered changed line range(s) were not annotated (GitHub shows 10 per step); the job summary lists them all.`,
      );
    }
  }

  if (badge) {
    const percent = Number(result.measured.shown);
    const svg = renderBadge(
      'coverage',
      `${result.measured.shown}%`,
      badgeColor(percent, Number(inputs.threshold.text), result.measured.passed),
    );
    if (badge.confined) checkStillInside('badge-path', badge.path, workspace);
    await edges.writeFile(badge.path, svg);
  }

  if (inputs.comment) {
    const repository = runner.env.GITHUB_REPOSITORY ?? '';
    const [owner, repo] = repository.split('/');
    if (!pr || !owner || !repo) runner.info('comment: not a pull request event, so no pull request comment.');
    else if (!inputs.githubToken)
      runner.notice("comment: no 'github-token', so the report is in the job summary only.");
    else {
      const marker = commentMarker(runner.env.GITHUB_WORKFLOW ?? 'workflow', inputs.commentTitle);
      const outcome = await upsertStickyComment(
        edges.comments(inputs.githubToken, owner, repo, pr.number),
        marker,
        markdown,
      );
      if (outcome.kind === 'forbidden') {
        runner.notice(
          `The token may not comment on pull request #${pr.number} (${outcome.message}); pull requests from forks get a read-only token. The report is in the job summary.`,
        );
      } else runner.info(`comment: ${outcome.kind} on pull request #${pr.number}`);
    }
  }

  if (!result.passed) {
    if (inputs.failOnError) throw new ActionFailure(result.failures.join(' '));
    runner.warning(`${result.failures.join(' ')} (fail-on-error is false, so the step passes)`);
  }
  return result;
}

export async function run(edges?: Edges): Promise<void> {
  await runAction(async () => {
    await gate(edges ?? defaultEdges());
  });
}
