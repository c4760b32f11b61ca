import { excerpt } from '../../shared/untrusted-text.js';
import { ReportError } from './report-error.js';
import { scanXml, XmlSyntaxError, type XmlHandler } from './xml-scanner.js';

/** Runs the scanner and turns its syntax errors into a report error naming the file and the line. */
export async function scanReport(file: string, chunks: AsyncIterable<string>, handler: XmlHandler): Promise<void> {
  try {
    await scanXml(chunks, handler);
  } catch (error) {
    if (error instanceof XmlSyntaxError) throw new ReportError(file, `malformed XML: ${error.message}`, error.line);
    throw error;
  }
}

/** A non-negative whole number from an attribute, or a report error at the tag's line. */
export function count(file: string, value: string | undefined, what: string, line: number): number {
  if (value === undefined) throw new ReportError(file, `missing ${what}`, line);
  // Some writers emit hits as 1.0 or in exponent form for very large counts.
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new ReportError(file, `${what} must be a non-negative number; got '${excerpt(value)}'`, line);
  }
  return Math.round(n);
}
