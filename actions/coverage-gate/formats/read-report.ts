import { REPORT_FORMATS, type ParsedReport, type ReportFormat } from '../model.js';
import { parseClover } from './clover.js';
import { parseCobertura } from './cobertura.js';
import { parseGoProfile } from './go.js';
import { parseJacoco } from './jacoco.js';
import { forEachJsonMember } from './json-members.js';
import {
  addCoveragePyFile,
  addIstanbulFile,
  isIstanbulEntry,
  isObject,
  parseCoveragePyJson,
  parseIstanbulJson,
  parseIstanbulSummary,
} from './json-reports.js';
import { parseLcov } from './lcov.js';
import { decodeChunks, readChunks } from './read-chunks.js';
import { ReportError } from './report-error.js';
import { ReportFiles, type Folding } from '../report-files.js';

/** What the first bytes say; 'json' still needs the parsed value to tell its kind apart. */
export function sniffFormat(head: string): ReportFormat | 'json' | undefined {
  const text = head.replace(/^\uFEFF/, '').trimStart();
  if (text.startsWith('{')) return 'json';
  if (text.startsWith('<')) {
    const root = /<([A-Za-z_][\w.:-]*)([^>]*)>/.exec(text.replace(/<!--[\s\S]*?-->/g, '').replace(/<[?!][^>]*>/g, ''));
    if (!root) return undefined;
    if (root[1] === 'report') return 'jacoco';
    if (root[1] !== 'coverage') return undefined;
    return /\bclover\s*=/.test(root[2]) || /<project[\s>]/.test(text) ? 'clover' : 'cobertura';
  }
  const firstLine = text.split('\n', 1)[0].trim();
  if (/^mode: (set|count|atomic)$/.test(firstLine)) return 'go';
  if (/^(TN|SF|VER):/.test(firstLine)) return 'lcov';
  return undefined;
}

export function jsonFormat(data: unknown): ReportFormat | undefined {
  if (!isObject(data)) return undefined;
  if (isObject(data.meta) && isObject(data.files)) return 'coveragepy-json';
  if (isObject(data.total) && isObject(data.total.lines)) return 'istanbul-summary';
  return Object.values(data).every(isIstanbulEntry) ? 'istanbul-json' : undefined;
}

const JSON_FORMATS: readonly ReportFormat[] = ['coveragepy-json', 'istanbul-json', 'istanbul-summary'];

/**
 * Reads one report, detecting its format from its content unless `format` is given. With `folding`, files whose
 * lines are not needed are folded into their counts as soon as the parser is done with them.
 */
export async function readReport(file: string, format?: ReportFormat, folding?: Folding): Promise<ParsedReport> {
  const files = new ReportFiles(folding);
  const report = await parseReport(file, format, files);
  report.folded = files.folded;
  return report;
}

async function parseReport(file: string, format: ReportFormat | undefined, files: ReportFiles): Promise<ParsedReport> {
  const chunks = readChunks(file);
  const first = await chunks.next();
  // Enough to sniff: a character cut at the end of the first read does not matter here.
  const head = first.done ? '' : first.value.toString('utf8', 0, Math.min(first.value.length, 65536));
  if (first.done || head.trim() === '') {
    throw new ReportError(file, 'the file is empty (did the tests run and write their coverage?)');
  }
  const sniffed = sniffFormat(head);
  if (format === undefined && sniffed === undefined) {
    throw new ReportError(
      file,
      `unknown format: not Cobertura, JaCoCo or Clover XML, LCOV, a Go cover profile or coverage JSON; set 'format' to one of ${REPORT_FORMATS.join(', ')}`,
    );
  }
  const all = (async function* () {
    yield first.value;
    yield* chunks;
  })();
  if (sniffed === 'json' || (format && JSON_FORMATS.includes(format))) return readJsonReport(file, all, format, files);
  switch (format ?? sniffed) {
    case 'cobertura':
      return parseCobertura(file, decodeChunks(all), files);
    case 'jacoco':
      return parseJacoco(file, decodeChunks(all), files);
    case 'clover':
      return parseClover(file, decodeChunks(all), files);
    case 'lcov':
      return parseLcov(file, all, files);
    default:
      return parseGoProfile(file, all, files);
  }
}

/**
 * JSON reports, streamed member by member (see forEachJsonMember): coverage.py's `files` entries (once `meta` has
 * shown it is coverage.py JSON) and coverage-final.json's file entries are handed to the files one at a time.
 * Anything else (coverage-summary.json, a `files` before `meta`, a document of another kind) is small or unusual:
 * it is gathered and judged whole, as before.
 */
async function readJsonReport(
  file: string,
  chunks: AsyncIterable<Buffer>,
  format: ReportFormat | undefined,
  files: ReportFiles,
): Promise<ParsedReport> {
  if (format && !JSON_FORMATS.includes(format)) {
    throw new ReportError(file, `format '${format}' was given but the file is JSON`);
  }
  const rest: Record<string, unknown> = {};
  let streamedFiles = false;
  let istanbulFiles = 0;
  const mayBe = (kind: ReportFormat): boolean => format === undefined || format === kind;
  await forEachJsonMember(
    file,
    chunks,
    (key) => {
      const stream = key === 'files' && mayBe('coveragepy-json') && (rest.meta !== undefined || format !== undefined);
      if (stream) streamedFiles = true;
      return stream;
    },
    (key, value, parent) => {
      if (parent !== undefined) addCoveragePyFile(file, files, key, value);
      else if (!streamedFiles && mayBe('istanbul-json') && rest.meta === undefined && isIstanbulEntry(value)) {
        addIstanbulFile(file, files, key, value);
        istanbulFiles++;
      } else rest[key] = value;
    },
  );
  if (streamedFiles && istanbulFiles === 0) return { file, format: 'coveragepy-json', files: files.finish() };
  // parseIstanbulJson names the first member that is not a file entry, if any.
  if (istanbulFiles > 0 && !streamedFiles) return parseIstanbulJson(file, rest, files);
  if (istanbulFiles > 0) throw new ReportError(file, 'JSON that mixes Istanbul file entries with coverage.py files');
  const kind = format ?? jsonFormat(rest);
  if (kind === 'coveragepy-json') return parseCoveragePyJson(file, rest, files);
  if (kind === 'istanbul-json') return parseIstanbulJson(file, rest, files);
  if (kind === 'istanbul-summary') return parseIstanbulSummary(file, rest);
  throw new ReportError(
    file,
    'JSON that is neither coverage.py JSON, Istanbul coverage-final.json nor coverage-summary.json',
  );
}
