import { addLine, detach, setBranchCounts, type FileCoverage, type ParsedReport } from '../model.js';
import { count, scanReport } from './xml-report.js';
import { ReportFiles } from '../report-files.js';
import { ReportError } from './report-error.js';
import { attributesOf } from './xml-scanner.js';

/**
 * Clover XML (Istanbul's clover reporter, PHPUnit). `stmt` and `cond` lines are lines; a `cond` line's
 * truecount/falsecount are its covered and missed branches, as Istanbul writes them; `method` lines are functions.
 */
export async function parseClover(
  file: string,
  chunks: AsyncIterable<string>,
  files = new ReportFiles(),
): Promise<ParsedReport> {
  let root = '';
  let current: FileCoverage | undefined;
  await scanReport(file, chunks, {
    open(tag) {
      if (root === '') {
        root = tag.name;
        if (root !== 'coverage') throw new ReportError(file, `not a Clover report (root element <${root}>)`, tag.line);
        return;
      }
      if (tag.name === 'file') {
        const a = attributesOf(tag);
        const path = a.path || a.name;
        if (!path) throw new ReportError(file, '<file> without a path or name', tag.line);
        if (current) files.close(current);
        current = files.get(path);
      } else if (tag.name === 'line' && current) {
        const a = attributesOf(tag);
        const num = count(file, a.num, "line 'num'", tag.line);
        const hits = count(file, a.count ?? '0', "line 'count'", tag.line);
        if (a.type === 'method') {
          current.functions ??= new Map();
          current.functions.set(detach(`${a.name ?? ''}@${num}`), hits);
        } else {
          addLine(current, num, hits);
          if (a.type === 'cond') {
            const covered = count(file, a.truecount ?? '0', "line 'truecount'", tag.line);
            const missed = count(file, a.falsecount ?? '0', "line 'falsecount'", tag.line);
            setBranchCounts(current, num, covered, covered + missed);
          }
        }
      }
    },
    close(name) {
      if (name === 'file' && current) {
        files.close(current);
        current = undefined;
      }
    },
  });
  return { file, format: 'clover', files: files.finish() };
}
