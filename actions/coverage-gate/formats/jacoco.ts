import { addLine, detach, setBranchCounts, type FileCoverage, type ParsedReport } from '../model.js';
import { count, scanReport } from './xml-report.js';
import { ReportFiles } from '../report-files.js';
import { ReportError } from './report-error.js';
import { attributesOf } from './xml-scanner.js';

/**
 * JaCoCo XML. A source line counts as a line when it has instructions (mi + ci > 0), covered when one ran,
 * exactly as JaCoCo's LINE counter; its branches are mb + cb. Methods come from the classes' METHOD counters.
 */
export async function parseJacoco(
  file: string,
  chunks: AsyncIterable<string>,
  files = new ReportFiles(),
): Promise<ParsedReport> {
  let root = '';
  let packageName = '';
  let current: FileCoverage | undefined;
  let classSource: string | undefined;
  let method: string | undefined;
  // A package lists its classes (with their methods) before its source files: a file stays open from its first
  // method to the end of its <sourcefile>.
  const fileFor = (path: string): FileCoverage => files.get(path);
  await scanReport(file, chunks, {
    open(tag) {
      if (root === '') {
        root = tag.name;
        if (root !== 'report') throw new ReportError(file, `not a JaCoCo report (root element <${root}>)`, tag.line);
        return;
      }
      switch (tag.name) {
        case 'line': {
          if (!current) return;
          const a = attributesOf(tag);
          const nr = count(file, a.nr, "line 'nr'", tag.line);
          const mi = count(file, a.mi ?? '0', "line 'mi'", tag.line);
          const ci = count(file, a.ci ?? '0', "line 'ci'", tag.line);
          const mb = count(file, a.mb ?? '0', "line 'mb'", tag.line);
          const cb = count(file, a.cb ?? '0', "line 'cb'", tag.line);
          if (mi + ci > 0) addLine(current, nr, ci);
          if (mb + cb > 0) setBranchCounts(current, nr, cb, mb + cb);
          return;
        }
        case 'package':
          packageName = attributesOf(tag).name ?? '';
          return;
        case 'sourcefile': {
          const name = attributesOf(tag).name;
          if (!name) throw new ReportError(file, '<sourcefile> without a name', tag.line);
          current = fileFor(packageName ? `${packageName}/${name}` : name);
          return;
        }
        case 'class': {
          const a = attributesOf(tag);
          classSource = a.sourcefilename
            ? packageName
              ? `${packageName}/${a.sourcefilename}`
              : a.sourcefilename
            : undefined;
          return;
        }
        case 'method': {
          const a = attributesOf(tag);
          method = detach(`${a.name}${a.desc ?? ''}@${a.line ?? ''}`);
          return;
        }
        case 'counter': {
          if (!method || !classSource) return;
          const a = attributesOf(tag);
          if (a.type !== 'METHOD') return;
          const target = fileFor(classSource);
          target.functions ??= new Map();
          target.functions.set(method, count(file, a.covered, "counter 'covered'", tag.line));
          return;
        }
      }
    },
    close(name) {
      if (name === 'sourcefile' && current) {
        files.close(current);
        current = undefined;
      } else if (name === 'method') method = undefined;
      else if (name === 'class') classSource = undefined;
      else if (name === 'package') packageName = '';
    },
  });
  return { file, format: 'jacoco', files: files.finish() };
}
