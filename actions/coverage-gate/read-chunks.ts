import { createReadStream } from 'node:fs';
import { ReportError } from './report-error.js';

/** 1 MiB reads keep memory flat for reports of any size while amortising the per-chunk overhead. */
const CHUNK_BYTES = 1 << 20;

/** The file as UTF-8 text chunks; a multi-byte character split across reads is joined by the decoder. */
export async function* readChunks(file: string): AsyncGenerator<string> {
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: CHUNK_BYTES });
  try {
    for await (const chunk of stream) yield chunk as string;
  } catch (error) {
    throw new ReportError(file, describeReadError(error));
  } finally {
    stream.destroy();
  }
}

export function describeReadError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory, not a report file';
  return `cannot be read (${(error as Error)?.message ?? String(error)})`;
}

/**
 * Calls `onLine` for each line of the text, with its 1-based number, without holding more than one chunk
 * and one partial line. Handles \n and \r\n endings.
 */
export async function forEachLine(
  chunks: AsyncIterable<string>,
  onLine: (line: string, lineNumber: number) => void,
): Promise<void> {
  let carry = '';
  let lineNumber = 0;
  for await (const chunk of chunks) {
    const text = carry === '' ? chunk : carry + chunk;
    let start = 0;
    let newline = text.indexOf('\n');
    while (newline !== -1) {
      const end = newline > start && text.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
      onLine(text.slice(start, end), ++lineNumber);
      start = newline + 1;
      newline = text.indexOf('\n', start);
    }
    carry = text.slice(start);
  }
  if (carry !== '') onLine(carry.endsWith('\r') ? carry.slice(0, -1) : carry, lineNumber + 1);
}
