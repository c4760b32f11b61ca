// The demo's terminal view: progress lines stamped with the seconds since the demo started, each step's live
// phases (from the action's own log as it arrives), and its job summary: the Markdown the actions write, with
// tables aligned and HTML details/summary tags turned into plain lines.
import type { OutputLine, StepResult } from '../harness/index.js';

const started = Date.now();

/** A progress line, e.g. `[  42 s] deploy: build (local)`. */
export function say(message: string): void {
  console.log(`[${String(Math.round((Date.now() - started) / 1000)).padStart(4)} s] ${message}`);
}

/** Replaces each secret (and each value the step masked with ::add-mask::) with ***, as the runner's log does. */
export class Masker {
  private readonly values: string[];
  constructor(secrets: readonly string[]) {
    this.values = secrets.filter((s) => s !== '');
  }
  add(value: string): void {
    if (value !== '') this.values.push(value);
  }
  mask(text: string): string {
    return this.values.reduce((out, value) => out.split(value).join('***'), text);
  }
}

/**
 * What a step shows while it runs: each group it opens (a deploy phase, the test command) as it starts, each deploy
 * phase's end with its status and time, and errors and warnings as they happen. Everything else waits for the
 * summary, which says it better.
 */
export function liveLines(masker: Masker): (line: OutputLine) => void {
  return ({ text }) => {
    const mask = /^::add-mask::(.*)$/.exec(text);
    if (mask) return masker.add(mask[1]);
    const shown = masker.mask(text);
    const group = /^::group::(.*)$/.exec(shown);
    if (group) return say(`  ▸ ${group[1]}`);
    const phase = /^(.+) on (\S+): (ok|failed) in (\d+) ms/.exec(shown);
    if (phase) return say(`    ${phase[3] === 'ok' ? '✓' : '✗'} ${phase[1]} ${phase[3]} in ${seconds(+phase[4])}`);
    const problem = /^::(error|warning)[^:]*::(.*)$/.exec(shown);
    if (problem) say(`  ${problem[1]}: ${problem[2].replace(/%0A/g, ' ').replace(/%0D/g, '').replace(/%25/g, '%')}`);
  };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function printSummary(title: string, result: StepResult): void {
  const status = result.exitCode === 0 ? 'ok' : `failed (exit ${result.exitCode})`;
  console.log(`\n${'━'.repeat(100)}\n${title}: ${status} in ${seconds(result.durationMs)}\n${'━'.repeat(100)}`);
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
  // GitHub draws a header row even when its cells are empty (the key/value tables the actions write): an empty
  // band above the rows. In a terminal that band and its rule are noise, so such a table is shown as its rows.
  const header = rows.length > 1 && !rows[0].every((c) => c === '') ? rows[0] : undefined;
  const body = rows.length > 1 && !header ? rows.slice(1) : rows;
  const widths: number[] = [];
  for (const row of body) row.forEach((c, j) => (widths[j] = Math.max(widths[j] ?? 0, [...c].length)));
  const line = (row: string[]) =>
    row
      .map((c, j) => c + ' '.repeat(widths[j] - [...c].length))
      .join('  ')
      .trimEnd();
  if (!header) return body.map(line);
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...body.slice(1).map(line)];
}
