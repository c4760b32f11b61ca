import { addLine, detach, setBranchCounts, type FileCoverage, type ParsedReport } from '../model.js';
import { count, scanReport } from './xml-report.js';
import { ReportFiles } from '../report-files.js';
import { excerpt, ReportError } from './report-error.js';
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
  // Istanbul repeats each method's lines under <methods>; the class-level <lines> already has them.
  let methodDepth = 0;
  let root = '';
  await scanReport(file, chunks, {
    open(tag) {
      if (root === '') {
        root = tag.name;
        if (root !== 'coverage')
          throw new ReportError(file, `not a Cobertura report (root element <${excerpt(root)}>)`, tag.line);
        return;
      }
      switch (tag.name) {
        case 'line': {
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
        case 'method':
          if (!tag.selfClosing) methodDepth++;
          return;
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
      } else if (name === 'method' && methodDepth > 0) methodDepth--;
      else if (name === 'source' && inSource) {
        inSource = false;
        if (sourceText.trim() !== '') sourceRoots.push(detach(sourceText.trim()));
      }
    },
    textElements: new Set(['source']),
    text(text) {
      if (inSource) sourceText += text;
    },
  });
  return { file, format: 'cobertura', files: files.finish(), sourceRoots };
}
