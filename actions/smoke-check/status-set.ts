import { ConfigurationError } from '../shared/errors.js';
import { excerpt } from '../shared/untrusted-text.js';

/** A set of HTTP statuses written as codes, classes and ranges: `200,204`, `2xx`, `200-299`, `2xx,304`. */
export interface StatusSet {
  readonly text: string;
  readonly ranges: ReadonlyArray<readonly [number, number]>;
}

const ACCEPTS = 'HTTP statuses from 100 to 599 separated by commas, as codes (200), classes (2xx) or ranges (200-299)';

/** Parses a status set for input `name`; throws a ConfigurationError naming the input when it is malformed. */
export function parseStatusSet(name: string, text: string): StatusSet {
  const tokens = text
    .split(/[\s,]+/)
    .map((token) => token.trim())
    .filter((token) => token !== '');
  if (tokens.length === 0)
    throw new ConfigurationError(`Input '${name}' must list ${ACCEPTS}; got '${excerpt(text)}'.`);
  const ranges = tokens.map((token): [number, number] => {
    let range: [number, number] | undefined;
    const single = /^(\d{3})$/.exec(token);
    const klass = /^([1-5])xx$/i.exec(token);
    const span = /^(\d{3})\s*-\s*(\d{3})$/.exec(token);
    if (single) range = [Number(single[1]), Number(single[1])];
    else if (klass) range = [Number(klass[1]) * 100, Number(klass[1]) * 100 + 99];
    else if (span) range = [Number(span[1]), Number(span[2])];
    if (!range || range[0] < 100 || range[1] > 599 || range[0] > range[1]) {
      throw new ConfigurationError(
        `Input '${name}' must list ${ACCEPTS}; got '${excerpt(token)}' in '${excerpt(text)}'.`,
      );
    }
    return range;
  });
  return { text: tokens.join(','), ranges };
}

export function statusInSet(set: StatusSet, status: number): boolean {
  return set.ranges.some(([low, high]) => status >= low && status <= high);
}
