import { ConfigurationError } from '../shared/errors.js';
import { isRevision } from './diff.js';
import { InputReader, splitList, type InputSource } from '../shared/inputs.js';
import { REPORT_FORMATS, type ReportFormat } from './model.js';
import { parseDecimal, ROUNDINGS, type Decimal, type Rounding } from './rounding.js';
import { METRICS, type Metric } from './totals.js';
import { excerpt } from '../shared/untrusted-text.js';

export interface PathThreshold {
  glob: string;
  threshold: Decimal;
}

export interface Inputs {
  command?: string;
  workingDirectory: string;
  reports: string[];
  format: ReportFormat | 'auto';
  metric: Metric | 'auto';
  threshold: Decimal;
  rounding: Rounding;
  precision: number;
  pathThresholds: PathThreshold[];
  diffThreshold?: Decimal;
  diffBase?: string;
  baseline: string[];
  maxDecrease: Decimal;
  sourceRoots: string[];
  stripPrefix: string[];
  annotate: boolean;
  maxAnnotations: number;
  comment: boolean;
  commentTitle: string;
  githubToken: string;
  badgePath?: string;
  failOnError: boolean;
}

/** A percentage from 0 to 100, kept exact; 0.9 is refused as a ratio someone meant as 90 %. */
export function parsePercent(name: string, value: string): Decimal {
  const decimal = parseDecimal(value.replace(/\s*%$/, ''));
  const n = Number(value.replace(/\s*%$/, ''));
  if (!decimal || n > 100) {
    throw new ConfigurationError(
      `Input '${name}' must be a percentage from 0 to 100 such as 90 or 87.5; got '${excerpt(value)}'.`,
    );
  }
  if (n > 0 && n < 1) {
    throw new ConfigurationError(
      `Input '${name}' is a percentage from 0 to 100; '${excerpt(value)}' looks like a ratio (write ${n * 100} for ${n * 100} %).`,
    );
  }
  return decimal;
}

/** 'glob: percent' or 'glob=percent' per line. */
export function parsePathThresholds(name: string, value: string): PathThreshold[] {
  return value
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^(.+?)\s*[:=]\s*([^:=]+)$/.exec(line);
      if (!match) {
        throw new ConfigurationError(
          `Input '${name}' takes one 'glob: percent' per line, such as 'web/**: 85'; got '${excerpt(line)}'.`,
        );
      }
      return { glob: match[1].trim(), threshold: parsePercent(name, match[2].trim()) };
    });
}

export function readInputs(source?: InputSource): Inputs {
  const read = new InputReader(source);
  const reports = read.list('reports');
  if (reports.length === 0)
    throw new ConfigurationError("Input 'reports' is required: one or more report paths or globs.");
  const diffThreshold = read.optionalString('diff-threshold');
  const maxDecrease = read.optionalString('max-decrease');
  return {
    command: read.optionalString('command'),
    workingDirectory: read.string('working-directory') || '.',
    reports,
    format: read.oneOf('format', ['auto', ...REPORT_FORMATS], 'auto'),
    metric: read.oneOf('metric', ['auto', ...METRICS], 'auto'),
    threshold: parsePercent('threshold', read.string('threshold', { required: true })),
    rounding: read.oneOf('rounding', ROUNDINGS, 'none'),
    precision: read.integer('precision', { min: 0, max: 10, fallback: 2 }),
    pathThresholds: parsePathThresholds('path-thresholds', read.raw('path-thresholds')),
    diffThreshold: diffThreshold === undefined ? undefined : parsePercent('diff-threshold', diffThreshold),
    diffBase: readDiffBase(read.optionalString('diff-base')),
    baseline: read.list('baseline'),
    maxDecrease: maxDecrease === undefined ? parseDecimal('0')! : parseMaxDecrease(maxDecrease),
    sourceRoots: read.list('source-roots'),
    stripPrefix: splitList(read.raw('strip-prefix')),
    annotate: read.boolean('annotate', true),
    maxAnnotations: read.integer('max-annotations', { min: 0, max: 10, fallback: 10 }),
    comment: read.boolean('comment', false),
    commentTitle: read.string('comment-title') || 'Coverage',
    githubToken: read.string('github-token'),
    badgePath: read.optionalString('badge-path'),
    failOnError: read.boolean('fail-on-error', true),
  };
}

/** A branch, remote branch or commit; never something git would take for an option. */
function readDiffBase(value: string | undefined): string | undefined {
  if (value !== undefined && !isRevision(value)) {
    throw new ConfigurationError(
      `Input 'diff-base' takes a branch, remote branch or commit such as origin/main or a sha; got '${excerpt(value)}'.`,
    );
  }
  return value;
}

function parseMaxDecrease(value: string): Decimal {
  const decimal = parseDecimal(value);
  if (!decimal || Number(value) > 100) {
    throw new ConfigurationError(
      `Input 'max-decrease' must be percentage points from 0 to 100 such as 0.5; got '${excerpt(value)}'.`,
    );
  }
  return decimal;
}
