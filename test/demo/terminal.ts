// Shows a step's job summary in a terminal: the Markdown the actions write, with tables aligned and HTML
// details/summary tags turned into plain lines.
import type { StepResult } from '../harness/index.js';

export function printSummary(title: string, result: StepResult): void {
  const status = result.exitCode === 0 ? 'ok' : `failed (exit ${result.exitCode})`;
  console.log(`\n${'━'.repeat(100)}\n${title}: ${status}\n${'━'.repeat(100)}`);
  console.log(renderMarkdown(result.summary || '(no summary)'));
  const errors = result.annotations.filter((a) => a.level === 'error');
  for (const e of errors) console.log(`error: ${e.message}`);
}

export function renderMarkdown(markdown: string): string {
  const lines = markdown
    .replace(/<\/?details>/g, '')
    .replace(/<summary>(.*?)<\/summary>/g, '▸ $1')
    .replace(/<br\s*\/?>/g, '\n')
    .split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length;) {
    if (/^\s*\|.*\|\s*$/.test(lines[i])) {
      const table: string[][] = [];
      while (i < lines.length && /^\s*\|.*\|\s*$/.test(lines[i])) {
        const cells = splitRow(lines[i]);
        if (!cells.every((c) => /^:?-+:?$/.test(c))) table.push(cells);
        i += 1;
      }
      out.push(...alignTable(table));
    } else {
      out.push(lines[i]);
      i += 1;
    }
  }
  return out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function splitRow(line: string): string[] {
  // Cells are separated by unescaped pipes; \| inside a cell is a literal pipe.
  return line
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim().replace(/\\\|/g, '|'));
}

function alignTable(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((c, j) => (widths[j] = Math.max(widths[j] ?? 0, [...c].length)));
  return rows.map((row, r) => {
    const line = row.map((c, j) => c + ' '.repeat(widths[j] - [...c].length)).join('  ');
    return r === 0 && rows.length > 1 ? `${line}\n${widths.map((w) => '─'.repeat(w)).join('  ')}` : line;
  });
}
