import { lineRanges, type GateResult } from './gate.js';
import { MAX_FILE_ROWS, type Count } from './model.js';
import { hasMisses } from './totals.js';

/** Rows beyond these are left out of the tables (the totals above them still count every file). */
export { MAX_FILE_ROWS };
const MAX_PACKAGE_ROWS = 100;

const fraction = (c: Count): string => (c.total === 0 ? '–' : `${c.covered}/${c.total}`);

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/</g, '&lt;');
}

function table(headers: string[], rows: string[][]): string {
  const head = `| ${headers.join(' | ')} |\n|${headers.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|\n`;
  return head + rows.map((r) => `| ${r.map(escapeCell).join(' | ')} |`).join('\n') + '\n';
}

function truncatedNote(shown: number, total: number, what: string): string {
  return total > shown ? `\n_${total - shown} more ${what} not shown._\n` : '';
}

/** The job summary (and pull request comment) in Markdown. */
export function renderSummary(result: GateResult, title = 'Coverage'): string {
  const parts: string[] = [];
  parts.push(`## ${result.passed ? '✅' : '❌'} ${title}: ${result.measured.shown} % ${result.metric}\n`);
  parts.push(`**${result.verdict}**\n`);
  if (result.failures.length > (result.measured.passed ? 0 : 1)) {
    parts.push(
      result.failures
        .filter((f) => !f.startsWith('Coverage ' + result.verdict))
        .map((f) => `- ${f}`)
        .join('\n') + '\n',
    );
  }
  const t = result.totals;
  const totalsRow = [
    'all files',
    fraction(t.lines),
    fraction(t.branches),
    ...(t.statements ? [fraction(t.statements)] : []),
    ...(t.functions ? [fraction(t.functions)] : []),
  ];
  parts.push(
    table(
      ['', 'lines', 'branches', ...(t.statements ? ['statements'] : []), ...(t.functions ? ['functions'] : [])],
      [totalsRow],
    ),
  );

  if (result.diff) {
    const d = result.diff;
    parts.push(`### Changed lines (${d.range})\n`);
    if (d.measured.count.total === 0) parts.push('No changed line is measured by the coverage reports.\n');
    else {
      const threshold = d.threshold ? `; threshold ${d.threshold.text} % → ${d.measured.passed ? 'pass' : 'fail'}` : '';
      parts.push(
        `**changed lines ${d.measured.shown} % = ${d.measured.count.covered} / ${d.measured.count.total}${threshold}**\n`,
      );
      const rows = d.rows
        .slice(0, MAX_FILE_ROWS)
        .map((r) => [r.path, `${r.covered}/${r.coverable}`, lineRanges(r.missingLines)]);
      parts.push(
        table(['file', 'covered', 'missing lines'], rows) + truncatedNote(rows.length, d.rows.length, 'changed files'),
      );
    }
  }

  if (result.paths.length > 0) {
    parts.push('### Path thresholds\n');
    parts.push(
      table(
        ['path', 'files', result.metric, 'threshold', 'result'],
        result.paths.map((p) => [
          p.glob,
          `${p.files}`,
          `${p.measured.shown} % (${fraction(p.measured.count)})`,
          `${p.threshold.text} %`,
          p.files === 0 ? 'no file' : p.measured.passed ? 'pass' : 'fail',
        ]),
      ),
    );
  }

  if (result.baseline) {
    const b = result.baseline;
    parts.push(
      `Baseline: ${b.shown} % → ${result.measured.shown} % (${b.decrease > 0 ? '-' : '+'}${Math.abs(b.decrease).toFixed(result.options.precision)} points; at most ${b.maxDecrease.text} decrease allowed → ${b.passed ? 'pass' : 'fail'})\n`,
    );
  }

  const packages = result.packages.slice(0, MAX_PACKAGE_ROWS);
  parts.push(`<details><summary>Packages (${result.packages.length})</summary>\n`);
  parts.push(
    table(
      ['package', 'lines', 'branches', result.metric],
      packages.map((p) => [p.name, fraction(p.totals.lines), fraction(p.totals.branches), `${p.measured.shown} %`]),
    ) + truncatedNote(packages.length, result.packages.length, 'packages'),
  );
  parts.push('</details>\n');

  const files = result.files.filter((f) => hasMisses(f.totals));
  const shownFiles = files.slice(0, MAX_FILE_ROWS);
  parts.push(
    `<details><summary>Files with missed lines, most first (${result.filesWithMisses} of ${result.fileCount})</summary>\n`,
  );
  parts.push(
    table(
      ['file', 'missed', 'lines', 'branches', result.metric, 'missing lines'],
      shownFiles.map((f) => [
        f.path,
        `${f.missed}`,
        fraction(f.totals.lines),
        fraction(f.totals.branches),
        `${f.measured.shown} %`,
        lineRanges(f.missingLines),
      ]),
    ) + truncatedNote(shownFiles.length, result.filesWithMisses, 'files'),
  );
  parts.push('</details>\n');

  parts.push(
    `Reports: ${result.reports.map((r) => `\`${r.file}\` (${r.format}, ${r.files} files)`).join(', ')}. ` +
      'Totals are sums of counts over files merged line by line; percentages are never averaged.\n',
  );
  if (result.notes.length > 0) parts.push(result.notes.map((n) => `> ⚠️ ${escapeCell(n)}`).join('\n>\n') + '\n');
  if (result.unmatchedCount > 0) {
    const shown = result.unmatched.slice(0, MAX_FILE_ROWS);
    parts.push(
      `<details><summary>${result.unmatchedCount} report paths not found in the repository</summary>\n\n${shown
        .map((p) => `- \`${p}\``)
        .join('\n')}\n${truncatedNote(shown.length, result.unmatchedCount, 'paths')}</details>\n`,
    );
  }
  return parts.join('\n');
}

/** GitHub rejects issue comments over 65 536 characters. */
export const COMMENT_LIMIT = 65_536;

/** The summary cut to fit a comment with room for the marker and a note, cut at a line boundary. */
export function fitComment(body: string, marker: string, limit = COMMENT_LIMIT): string {
  const full = `${marker}\n${body}`;
  if (full.length <= limit) return full;
  const note = '\n\n_The report was cut to fit GitHub’s comment size limit; the job summary has all of it._\n';
  const room = limit - marker.length - 1 - note.length;
  const cut = body.lastIndexOf('\n', room);
  // Close an open <details> block so the rest of the page renders.
  let kept = body.slice(0, cut > 0 ? cut : room);
  if (kept.lastIndexOf('<details>') > kept.lastIndexOf('</details>'))
    kept = kept.slice(0, Math.max(0, room - 12)) + '\n</details>';
  return `${marker}\n${kept}${note}`;
}
