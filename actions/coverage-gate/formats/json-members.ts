import { excerpt } from '../../shared/untrusted-text.js';
import { ReportError } from './report-error.js';

/**
 * Streams the members of a JSON document's top-level object one at a time: each member's value is cut out of the
 * bytes and parsed on its own, so a coverage-final.json of several hundred MB (more than V8 can hold as one string)
 * takes the memory of its largest file entry. The members of the objects named in `nested` (coverage.py's `files`)
 * are streamed one at a time in the same way, with their parent's key in `parent`.
 *
 * The skeleton (braces, keys, colons, commas) is checked here; each value is checked by JSON.parse. Errors name the
 * line, as a report error of `file`.
 */
export async function forEachJsonMember(
  file: string,
  chunks: AsyncIterable<Buffer>,
  nested: (key: string) => boolean,
  onMember: (key: string, value: unknown, parent: string | undefined) => void,
): Promise<void> {
  const fail = (message: string, at: number): never => {
    throw new ReportError(file, `malformed JSON: ${message}`, at);
  };
  // Where the skeleton is: before the top-level object, expecting a key (or the end of an object), a colon, a
  // value, a comma (or the end), or after the top-level object.
  let phase: 'start' | 'key' | 'first-key' | 'colon' | 'value' | 'next' | 'done' = 'start';
  let line = 1;
  let bom = 0;
  /** The key of the top-level member whose members are being streamed, when inside it. */
  let parent: string | undefined;
  let key = '';
  // A string (key) or value being cut out: its bytes so far and the scanner's state inside it.
  let parts: Buffer[] = [];
  let reading: 'key' | 'value' | undefined;
  let startLine = 0;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let scalar = false;

  const finishValue = (): void => {
    const text = Buffer.concat(parts).toString('utf8');
    parts = [];
    reading = undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      // Node's messages differ between versions (a position, a line, or neither): the line is found here.
      const message = (error as Error).message.replace(/\s*\((line \d+ column \d+)\)|\s*in JSON at position \d+/g, '');
      const offset = syntaxErrorAt(text);
      const at = startLine + (text.slice(0, Math.max(0, offset)).match(/\n/g)?.length ?? 0);
      fail(`${message} (in the value of '${excerpt(key)}')`, at);
    }
    onMember(key, value, parent);
    phase = 'next';
  };

  for await (const chunk of chunks) {
    const n = chunk.length;
    let i = 0;
    // A UTF-8 byte order mark before the document.
    while (phase === 'start' && bom < 3 && i < n && chunk[i] === [0xef, 0xbb, 0xbf][bom]) {
      i++;
      bom++;
    }
    while (i < n) {
      if (reading !== undefined) {
        const from = i;
        let end = -1;
        if (scalar) {
          for (; i < n; i++) {
            const b = chunk[i];
            if (b === 44 || b === 125 || b === 93 || b === 32 || b === 10 || b === 13 || b === 9) {
              end = i;
              break;
            }
          }
        } else {
          for (; i < n; i++) {
            const b = chunk[i];
            if (inString) {
              if (escaped) escaped = false;
              else if (b === 92) escaped = true;
              else if (b === 34) {
                inString = false;
                if (depth === 0) {
                  end = i + 1;
                  break;
                }
              } else if (b === 10) line++;
              continue;
            }
            if (b === 34) inString = true;
            else if (b === 123 || b === 91) depth++;
            else if (b === 125 || b === 93) {
              if (--depth === 0) {
                end = i + 1;
                break;
              }
            } else if (b === 10) line++;
          }
        }
        if (end === -1) {
          parts.push(chunk.subarray(from));
          break;
        }
        parts.push(chunk.subarray(from, end));
        i = end;
        if (reading === 'key') {
          const text = Buffer.concat(parts).toString('utf8');
          parts = [];
          reading = undefined;
          try {
            key = JSON.parse(text) as string;
          } catch {
            fail(`the key ${text.slice(0, 40)} is not a valid string`, line);
          }
          phase = 'colon';
        } else finishValue();
        continue;
      }
      const b = chunk[i];
      if (b === 32 || b === 9 || b === 13) {
        i++;
        continue;
      }
      if (b === 10) {
        line++;
        i++;
        continue;
      }
      const c = String.fromCharCode(b);
      switch (phase) {
        case 'start':
          if (b !== 123) fail(`expected '{' at the start, found '${c}'`, line);
          phase = 'first-key';
          i++;
          break;
        case 'first-key':
        case 'key':
          if (b === 125 && phase === 'first-key') {
            // The end of an empty object.
            i++;
            if (parent !== undefined) {
              parent = undefined;
              phase = 'next';
            } else phase = 'done';
            break;
          }
          if (b !== 34) fail(`expected a key in double quotes, found '${c}'`, line);
          reading = 'key';
          inString = true;
          escaped = false;
          depth = 0;
          scalar = false;
          parts = [chunk.subarray(i, i + 1)];
          i++;
          break;
        case 'colon':
          if (b !== 58) fail(`expected ':' after the key '${excerpt(key)}', found '${c}'`, line);
          phase = 'value';
          i++;
          break;
        case 'value':
          if (parent === undefined && b === 123 && nested(key)) {
            parent = key;
            phase = 'first-key';
            i++;
            break;
          }
          reading = 'value';
          startLine = line;
          depth = 0;
          escaped = false;
          inString = false;
          scalar = b !== 123 && b !== 91 && b !== 34;
          if (scalar && b === 44) fail(`expected a value for '${excerpt(key)}', found ','`, line);
          if (scalar && (b === 125 || b === 93)) fail(`expected a value for '${excerpt(key)}', found '${c}'`, line);
          break;
        case 'next':
          if (b === 44) phase = 'key';
          else if (b === 125) {
            if (parent !== undefined) parent = undefined;
            else phase = 'done';
          } else fail(`expected ',' or '}' after the value of '${excerpt(key)}', found '${c}'`, line);
          i++;
          break;
        case 'done':
          fail(`unexpected '${c}' after the end of the document`, line);
      }
    }
  }
  if (phase !== 'done' || reading !== undefined) fail('unexpected end of the document (was it cut short?)', line);
}

/** Where a JSON text stops being valid JSON (-1 when it is valid); only used to name the line of an error. */
export function syntaxErrorAt(text: string): number {
  let i = 0;
  const space = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const string = (): boolean => {
    for (i++; i < text.length;) {
      const c = text[i];
      if (c === '"') {
        i++;
        return true;
      }
      if (c < ' ') return false;
      i += c === '\\' ? 2 : 1;
    }
    return false;
  };
  const members = (close: string, member: () => boolean): boolean => {
    i++;
    space();
    if (text[i] === close) {
      i++;
      return true;
    }
    for (;;) {
      if (!member()) return false;
      space();
      if (text[i] === close) {
        i++;
        return true;
      }
      if (text[i] !== ',') return false;
      i++;
    }
  };
  const value = (): boolean => {
    space();
    const c = text[i];
    if (c === '{') {
      return members('}', () => {
        space();
        if (text[i] !== '"' || !string()) return false;
        space();
        if (text[i] !== ':') return false;
        i++;
        return value();
      });
    }
    if (c === '[') return members(']', value);
    if (c === '"') return string();
    const literal = /^(-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 64));
    if (!literal) return false;
    i += literal[0].length;
    return true;
  };
  if (value()) {
    space();
    if (i === text.length) return -1;
  }
  return i;
}
