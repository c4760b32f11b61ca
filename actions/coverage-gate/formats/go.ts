import { addLine, detach, type FileCoverage, type ParsedReport } from '../model.js';
import { forEachLine } from './read-chunks.js';
import { ReportFiles } from '../report-files.js';
import { excerpt } from '../../shared/untrusted-text.js';
import { ReportError } from './report-error.js';

const BLOCK = /^(.+):(\d+)\.(\d+),(\d+)\.(\d+) (\d+) (\d+)$/;

/**
 * Go cover profiles (`go test -coverprofile`). `go tool cover -func` weighs each block by its statement count,
 * so every statement of a block becomes one statement here; a block repeated by several test binaries
 * (-coverpkg) adds its hits, as `go tool cover` does.
 */
export async function parseGoProfile(
  file: string,
  chunks: AsyncIterable<Buffer | string>,
  files = new ReportFiles(),
): Promise<ParsedReport> {
  let sawMode = false;
  // A profile lists a file's blocks together; the file closes when the next file's blocks start.
  let target: FileCoverage | undefined;
  await forEachLine(file, chunks, (text, line) => {
    if (text.trim() === '') return;
    if (!sawMode) {
      if (!/^mode: (set|count|atomic)$/.test(text.trim())) {
        throw new ReportError(file, `malformed Go cover profile: expected 'mode: set|count|atomic'`, line);
      }
      sawMode = true;
      return;
    }
    // Profiles concatenated from several packages repeat the mode line.
    if (text.startsWith('mode: ')) return;
    const match = BLOCK.exec(text.trim());
    if (!match) throw new ReportError(file, `malformed Go cover profile block '${excerpt(text)}'`, line);
    const [, path, startLine, startCol, endLine, endCol, statements, hits] = match;
    if (target?.path !== path) {
      if (target) files.close(target);
      target = files.get(path);
    }
    target.statements ??= new Map();
    const block = detach(`${startLine}.${startCol},${endLine}.${endCol}`);
    const n = Number(hits);
    for (let i = 0; i < Number(statements); i++) {
      const key = `${block}#${i}`;
      target.statements.set(key, (target.statements.get(key) ?? 0) + n);
    }
    if (Number(statements) > 0) {
      for (let l = Number(startLine); l <= Number(endLine); l++) addLine(target, l, n);
    }
  });
  if (!sawMode) throw new ReportError(file, 'empty Go cover profile (no mode line)');
  return { file, format: 'go', files: files.finish() };
}
