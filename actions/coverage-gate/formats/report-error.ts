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
