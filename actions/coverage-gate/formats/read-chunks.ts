import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { ReportError } from './report-error.js';

/**
 * 64 KiB reads: each chunk and the strings cut from it stay below V8's large-object size, so they die young and
 * are collected cheaply; 1 MiB chunks measured 20-30 % more peak memory and no gain in speed.
 */
const CHUNK_BYTES = 1 << 16;

/** The file's bytes in chunks of up to 64 KiB. */
export async function* readChunks(file: string): AsyncGenerator<Buffer> {
  const stream = createReadStream(file, { highWaterMark: CHUNK_BYTES });
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (error) {
    throw new ReportError(file, describeReadError(error));
  } finally {
    stream.destroy();
  }
}

/** Byte chunks as UTF-8 text; a character split across two reads is joined by the decoder. */
export async function* decodeChunks(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  for await (const chunk of chunks) {
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    if (text !== '') yield text;
  }
  const rest = decoder.end();
  if (rest !== '') yield rest;
}

export function describeReadError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory, not a report file';
  return `cannot be read (${(error as Error)?.message ?? String(error)})`;
}

/** Reads a line in place from the chunk's bytes; false leaves it to `onLine` as text. */
export type FastLine = (bytes: Buffer, start: number, end: number) => boolean;

/**
 * The longest line or token a report may hold. Real reports have short lines (a path, a DA record); a longer
 * one is a broken or hostile file, refused before it costs memory and time.
 */
export const MAX_TOKEN_BYTES = 1 << 20;

/** Bytes a reader copied or scanned, counted by tests that check the work grows linearly with the input. */
export interface ReadWork {
  bytes: number;
}

/**
 * Calls `onLine` for each line, with its 1-based number, holding no more than one chunk and one partial line.
 * Lines are found in the bytes, so a line that `fast` understands is never decoded into a string at all.
 * Handles \n and \r\n endings. A line longer than MAX_TOKEN_BYTES is a report error of `file`.
 */
export async function forEachLine(
  file: string,
  chunks: AsyncIterable<Buffer | string>,
  onLine: (line: string, lineNumber: number) => void,
  fast?: FastLine,
  work: ReadWork = { bytes: 0 },
): Promise<void> {
  // The pieces of a line that spans reads: only the new piece is searched for its end, and the pieces are
  // joined once, so a long line costs its length and not its length times the number of reads.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let lineNumber = 0;
  const emit = (bytes: Buffer, start: number, end: number): void => {
    lineNumber++;
    if (end > start && bytes[end - 1] === 13) end--;
    if (fast && fast(bytes, start, end)) return;
    onLine(bytes.toString('utf8', start, end), lineNumber);
  };
  const tooLong = (): never => {
    throw new ReportError(file, `line ${lineNumber + 1} is longer than ${MAX_TOKEN_BYTES / 1024 / 1024} MiB`);
  };
  const joined = (tail: Buffer): Buffer => {
    const line = Buffer.concat([...pending, tail]);
    work.bytes += line.length;
    pending = [];
    pendingBytes = 0;
    return line;
  };
  for await (const chunk of chunks) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    work.bytes += bytes.length;
    let start = 0;
    let newline = bytes.indexOf(10);
    if (pendingBytes > 0 && newline !== -1) {
      if (pendingBytes + newline > MAX_TOKEN_BYTES) tooLong();
      const line = joined(bytes.subarray(0, newline));
      emit(line, 0, line.length);
      start = newline + 1;
      newline = bytes.indexOf(10, start);
    }
    while (newline !== -1) {
      if (newline - start > MAX_TOKEN_BYTES) tooLong();
      emit(bytes, start, newline);
      start = newline + 1;
      newline = bytes.indexOf(10, start);
    }
    if (start < bytes.length) {
      pendingBytes += bytes.length - start;
      if (pendingBytes > MAX_TOKEN_BYTES) tooLong();
      // A copy, so the partial line does not keep the whole chunk alive.
      pending.push(Buffer.from(bytes.subarray(start)));
      work.bytes += bytes.length - start;
    }
  }
  if (pendingBytes > 0) {
    const line = joined(Buffer.alloc(0));
    emit(line, 0, line.length);
  }
}
