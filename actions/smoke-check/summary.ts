import type { RunOptions } from './check-spec.js';
import type { CheckResult, RunReport } from './engine.js';
import { formatMs } from './engine.js';
import { untrustedLines } from '../shared/untrusted-text.js';
import { maskSecrets } from './secret-mask.js';

const EXCERPT_CHARS = 1000;

/** The job summary as Markdown: a verdict line, one table row per check, the last body of each failure. */
export function renderSummary(
  report: RunReport,
  options: Pick<RunOptions, 'deadlineMs' | 'stableFor' | 'tls'>,
  secrets: readonly string[],
): string {
  const lines: string[] = [];
  const passed = report.results.length - report.failedCount;
  lines.push(`## Smoke check: ${report.healthy ? 'healthy ✅' : 'unhealthy ❌'}`, '');
  lines.push(
    `${passed} of ${report.results.length} checks passed in ${formatMs(report.durationMs)} ` +
      `(deadline ${formatMs(options.deadlineMs)}, ${options.stableFor} passing answer${options.stableFor > 1 ? 's' : ''} in a row required).`,
    '',
  );
  if (options.tls.insecure) {
    lines.push('> [!WARNING]', '> TLS certificates were **not verified** (`insecure: true`).', '');
  } else if (options.tls.ca) {
    lines.push('TLS certificates verified against the system roots and the given `ca-bundle`.', '');
  }
  lines.push('| Check | Result | Status | Latency | Attempts | Reason |', '| --- | --- | --- | --- | --- | --- |');
  for (const result of report.results) {
    lines.push(
      `| ${cell(result.name)} | ${result.ok ? '✅ pass' : '❌ fail'} | ${result.status ?? '–'} | ` +
        `${result.latencyMs === undefined ? '–' : `${result.latencyMs} ms`} | ${result.attempts} | ${cell(result.reason)} |`,
    );
  }
  for (const result of report.results.filter((r) => !r.ok)) lines.push('', ...failureDetails(result));
  return maskSecrets(lines.join('\n') + '\n', secrets);
}

function failureDetails(result: CheckResult): string[] {
  const heading = `Last answer of ${escapeHtml(result.name)}${result.status ? ` (HTTP ${result.status})` : ''}`;
  const redirects = result.redirects.length
    ? [`<p>Redirected through: ${result.redirects.map((url) => `<code>${escapeHtml(url)}</code>`).join(' → ')}</p>`]
    : [];
  if (result.lastBody === undefined) {
    return [
      '<details><summary>' + heading + '</summary>',
      '',
      ...redirects,
      `<p>No answer: ${escapeHtml(result.reason)}</p>`,
      '</details>',
    ];
  }
  // The server's own text: its lines stay (a <pre> block), each without controls, and bounded as a whole.
  const excerpt = untrustedLines(result.lastBody, EXCERPT_CHARS);
  return [
    '<details><summary>' + heading + '</summary>',
    '',
    ...redirects,
    `<pre>${escapeHtml(excerpt) || '(empty body)'}</pre>`,
    '</details>',
  ];
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
