import { ConfigurationError } from '../../shared/errors.js';

/** A report that cannot be read or understood: names the file, and the line when the content is at fault. */
export class ReportError extends ConfigurationError {
  constructor(
    readonly file: string,
    readonly detail: string,
    readonly line?: number,
  ) {
    super(`Report '${file}'${line === undefined ? '' : ` line ${line}`}: ${detail}`);
    this.name = 'ReportError';
  }
}

/** Characters of a report's content an error message quotes: enough to recognise it, never a whole hostile line. */
const EXCERPT_CHARS = 100;

/** `text` as an error message quotes it: cut to EXCERPT_CHARS, control characters escaped so it stays one line. */
export function excerpt(text: string): string {
  const cut = text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}…` : text;
  // eslint-disable-next-line no-control-regex
  return cut.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
