import { addLine, detach, setBranchCounts, type FileCoverage, type ParsedReport } from '../model.js';
import { count, scanReport } from './xml-report.js';
import { ReportFiles } from '../report-files.js';
import type { CoverageTotals } from '../totals.js';
import { excerpt } from '../../shared/untrusted-text.js';
import { ReportError } from './report-error.js';
import { attributesOf, attributeValue } from './xml-scanner.js';

/**
 * Cobertura XML as written by coverage.py, Istanbul, gcovr and others. Only the per-line elements are used:
 * the `line-rate` attributes carry 4 significant digits and would not give exact totals.
 */
export async function parseCobertura(
  file: string,
  chunks: AsyncIterable<string>,
  files = new ReportFiles(),
): Promise<ParsedReport> {
  const sourceRoots = files.sourceRoots;
  let current: FileCoverage | undefined;
  let inSource = false;
  let sourceText = '';
  // Istanbul repeats each method's lines under <methods>; the class-level <lines> already has them, so a method's
  // lines only decide whether the method ran (when it has no hits attribute of its own).
  let methodDepth = 0;
  let method: { key: string; hits: number; own: boolean } | undefined;
  let root = '';
  let header: Record<string, string> = {};
  const endMethod = (): void => {
    if (method && current) {
      current.functions ??= new Map();
      // Two methods of one name and signature (overloads in two classes of one file) count once, as lines do.
      current.functions.set(method.key, Math.max(current.functions.get(method.key) ?? 0, method.hits));
    }
    method = undefined;
  };
  await scanReport(file, chunks, {
    open(tag) {
      if (root === '') {
        root = tag.name;
        if (root !== 'coverage')
          throw new ReportError(file, `not a Cobertura report (root element <${excerpt(root)}>)`, tag.line);
        header = attributesOf(tag);
        return;
      }
      switch (tag.name) {
        case 'line': {
          if (method && !method.own) {
            method.hits = Math.max(method.hits, count(file, attributeValue(tag, 'hits'), "line 'hits'", tag.line));
          }
          if (!current || methodDepth > 0) return;
          // The millions of <line> elements take the fast path: only the attributes used, found by position.
          const number = count(file, attributeValue(tag, 'number'), "line 'number'", tag.line);
          addLine(current, number, count(file, attributeValue(tag, 'hits'), "line 'hits'", tag.line));
          const conditions = attributeValue(tag, 'condition-coverage');
          if (conditions && attributeValue(tag, 'branch') === 'true') {
            const match = /\((\d+)\/(\d+)\)/.exec(conditions);
            if (!match)
              throw new ReportError(
                file,
                `condition-coverage '${excerpt(conditions)}' is not like '50% (1/2)'`,
                tag.line,
              );
            setBranchCounts(current, number, Number(match[1]), Number(match[2]));
          }
          return;
        }
        case 'class': {
          const a = attributesOf(tag);
          if (!a.filename) throw new ReportError(file, '<class> without a filename attribute', tag.line);
          if (current) files.close(current);
          current = files.get(a.filename);
          return;
        }
        case 'method': {
          if (!current) return;
          const a = attributesOf(tag);
          const hits = a.hits === undefined ? 0 : count(file, a.hits, "method 'hits'", tag.line);
          method = { key: detach(`${a.name ?? ''}${a.signature ?? ''}`), hits, own: a.hits !== undefined };
          if (tag.selfClosing) endMethod();
          else methodDepth++;
          return;
        }
        case 'source':
          inSource = !tag.selfClosing;
          sourceText = '';
          return;
      }
    },
    close(name) {
      if (name === 'class') {
        if (current) files.close(current);
        current = undefined;
      } else if (name === 'method' && methodDepth > 0) {
        methodDepth--;
        endMethod();
      } else if (name === 'source' && inSource) {
        inSource = false;
        if (sourceText.trim() !== '') sourceRoots.push(detach(sourceText.trim()));
      }
    },
    textElements: new Set(['source']),
    text(text) {
      if (inSource) sourceText += text;
    },
  });
  const parsed = files.finish();
  const note = headerDisagreement(header, files.counted.result());
  return { file, format: 'cobertura', files: parsed, sourceRoots, ...(note ? { notes: [note] } : {}) };
}

/**
 * The root element's lines-valid/lines-covered and branches-valid/branches-covered against the counts of the
 * per-line detail. Writers disagree with themselves (Istanbul's header counts statements, its lines one per line),
 * and the gate uses the detail: a reader comparing with the header must be told why the numbers differ.
 */
function headerDisagreement(header: Record<string, string>, detail: CoverageTotals): string | undefined {
  const differs: string[] = [];
  const compare = (what: string, valid: string, covered: string, count: { covered: number; total: number }): void => {
    const total = Number(header[valid]);
    const hit = Number(header[covered]);
    if (header[valid] === undefined || header[covered] === undefined || !Number.isFinite(total + hit)) return;
    if (total !== count.total || hit !== count.covered) {
      differs.push(`${what} ${hit}/${total} in the header, ${count.covered}/${count.total} in the detail`);
    }
  };
  compare('lines', 'lines-valid', 'lines-covered', detail.lines);
  compare('branches', 'branches-valid', 'branches-covered', detail.branches);
  if (differs.length === 0) return undefined;
  return `The Cobertura header disagrees with the per-line detail (${differs.join('; ')}); the gate counts the detail.`;
}
