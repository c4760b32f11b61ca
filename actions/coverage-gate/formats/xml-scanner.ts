import { excerpt } from '../../shared/untrusted-text.js';
import { MAX_TOKEN_BYTES, type ReadWork } from './read-chunks.js';
/**
 * A small streaming XML scanner for coverage reports: it walks start and end tags chunk by chunk, checks that
 * they nest, and leaves attribute parsing to the caller for the few tags it cares about. It never builds a
 * tree, so a 200 MB Cobertura file is read with the memory of one chunk.
 */
export interface XmlTag {
  name: string;
  /** The raw text after the name, attributes still unparsed. */
  rawAttributes: string;
  selfClosing: boolean;
  line: number;
}

export interface XmlHandler {
  open(tag: XmlTag): void;
  close(name: string, line: number): void;
  /** Text content (entities decoded) of the elements named in `textElements`, in one or more pieces. */
  text?(text: string, line: number): void;
  textElements?: ReadonlySet<string>;
}

export class XmlSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
    this.name = 'XmlSyntaxError';
  }
}

const LT = 60; // <
const GT = 62; // >
const QUOT = 34;
const APOS = 39;
const SLASH = 47;
const BANG = 33;
const QUESTION = 63;

export async function scanXml(
  chunks: AsyncIterable<string>,
  handler: XmlHandler,
  work: ReadWork = { bytes: 0 },
): Promise<void> {
  const stack: string[] = [];
  const textElements = handler.textElements ?? new Set<string>();
  const wantsText = (): boolean => stack.length > 0 && textElements.has(stack[stack.length - 1]);
  let sawRoot = false;
  let line = 1;
  // An unfinished tag, comment or text at the end of what was scanned, and the reads that came after it.
  let carry = '';
  const pieces: string[] = [];
  let pieceChars = 0;
  // The unfinished part is scanned again only once the text has doubled (and once more past the bound), so a
  // long token costs a few times its length, never its length times the number of reads.
  let retryAt = 0;
  const attempt = (): void => {
    const text = carry + pieces.join('');
    pieces.length = 0;
    pieceChars = 0;
    work.bytes += text.length;
    carry = text.slice(scan(text));
    if (carry.length > MAX_TOKEN_BYTES) {
      throw new XmlSyntaxError(
        `a tag, comment or text longer than ${MAX_TOKEN_BYTES / 1024 / 1024} MiB ('${excerpt(carry)}')`,
        line,
      );
    }
    retryAt = Math.min(2 * carry.length, MAX_TOKEN_BYTES + 1);
  };
  /** Handles the complete tags of `text`; returns where the unfinished rest starts. */
  const scan = (text: string): number => {
    let pos = 0;
    // Lines are counted up to `counted` lazily, so whitespace between tags costs one indexOf per newline.
    let counted = 0;
    const lineAt = (index: number): number => {
      let nl = text.indexOf('\n', counted);
      while (nl !== -1 && nl < index) {
        line++;
        nl = text.indexOf('\n', nl + 1);
      }
      counted = index;
      return line;
    };
    for (;;) {
      const lt = text.indexOf('<', pos);
      if (lt === -1) {
        checkText(text, pos, text.length, stack, lineAt);
        // Text content may continue in the next chunk; without a text handler it is only counted and dropped.
        if (!wantsText()) pos = text.length;
        break;
      }
      if (lt > pos) {
        checkText(text, pos, lt, stack, lineAt);
        if (wantsText()) emitText(handler, text.slice(pos, lt), lineAt(pos));
        pos = lt;
      }
      const next = text.charCodeAt(lt + 1);
      let end: number;
      if (next === BANG) {
        end = endOfMarkup(text, lt);
        if (end === -1) break;
        if (text.startsWith('<![CDATA[', lt) && wantsText()) {
          handler.text?.(text.slice(lt + 9, end - 2), lineAt(lt));
        }
      } else if (next === QUESTION) {
        const close = text.indexOf('?>', lt + 2);
        if (close === -1) break;
        end = close + 1;
      } else if (next === SLASH) {
        end = text.indexOf('>', lt);
        if (end === -1) break;
        const name = text.slice(lt + 2, end).trim();
        const at = lineAt(lt);
        const open = stack.pop();
        if (open === undefined) throw new XmlSyntaxError(`unexpected closing tag </${excerpt(name)}>`, at);
        if (open !== name) throw new XmlSyntaxError(`expected </${open}> but found </${excerpt(name)}>`, at);
        handler.close(name, at);
      } else {
        const at = lineAt(lt);
        end = endOfStartTag(text, lt, at);
        if (end === -1) break;
        let nameEnd = lt + 1;
        while (nameEnd < end && !isSpaceOrEnd(text.charCodeAt(nameEnd))) nameEnd++;
        const name = text.slice(lt + 1, nameEnd);
        const selfClosing = text.charCodeAt(end - 1) === SLASH;
        if (!isNameStart(name.charCodeAt(0))) throw new XmlSyntaxError(`invalid tag name '<${excerpt(name)}'`, at);
        if (stack.length === 0 && sawRoot) throw new XmlSyntaxError(`a second root element <${excerpt(name)}>`, at);
        sawRoot = true;
        handler.open({ name, rawAttributes: text.slice(nameEnd, selfClosing ? end - 1 : end), selfClosing, line: at });
        if (selfClosing) handler.close(name, at);
        else stack.push(name);
      }
      pos = end + 1;
    }
    // Count the lines of what was consumed; the unconsumed tail is rescanned with the next chunk.
    lineAt(pos);
    return pos;
  };
  for await (const chunk of chunks) {
    pieces.push(chunk);
    pieceChars += chunk.length;
    if (carry.length + pieceChars >= retryAt) attempt();
  }
  if (pieces.length > 0) attempt();
  if (carry.trim() !== '' && carry.includes('<')) throw new XmlSyntaxError('unexpected end of file inside a tag', line);
  if (!sawRoot) throw new XmlSyntaxError('no XML element found', line);
  if (stack.length > 0)
    throw new XmlSyntaxError(`unexpected end of file: <${stack[stack.length - 1]}> is not closed`, line);
}

/** A letter, '_' or ':' (the ASCII part of XML's NameStartChar; non-ASCII letters are accepted too). */
function isNameStart(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95 || code === 58 || code > 127;
}

function isSpaceOrEnd(code: number): boolean {
  return code === 32 || code === 10 || code === 13 || code === 9 || code === SLASH || code === GT;
}

/** The index of the '>' closing a start tag, skipping quoted attribute values; -1 when the chunk ends first. */
function endOfStartTag(text: string, lt: number, line: number): number {
  let quote = 0;
  for (let i = lt + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (quote !== 0) {
      if (c === quote) quote = 0;
    } else if (c === QUOT || c === APOS) quote = c;
    else if (c === GT) return i;
    else if (c === LT) throw new XmlSyntaxError("'<' inside a tag", line + lineOf(text, lt, i));
  }
  return -1;
}

/** Newlines between `from` and `index`. */
function lineOf(text: string, from: number, index: number): number {
  let count = 0;
  for (let nl = text.indexOf('\n', from); nl !== -1 && nl < index; nl = text.indexOf('\n', nl + 1)) count++;
  return count;
}

/** Comments, CDATA and DOCTYPE (with an internal subset in brackets). */
function endOfMarkup(text: string, lt: number): number {
  if (text.startsWith('<!--', lt)) {
    const close = text.indexOf('-->', lt + 4);
    return close === -1 ? -1 : close + 2;
  }
  if (text.startsWith('<![CDATA[', lt)) {
    const close = text.indexOf(']]>', lt + 9);
    return close === -1 ? -1 : close + 2;
  }
  const gt = text.indexOf('>', lt);
  const bracket = text.indexOf('[', lt);
  if (bracket !== -1 && (gt === -1 || bracket < gt)) {
    const close = text.indexOf(']>', bracket);
    return close === -1 ? -1 : close + 1;
  }
  return gt;
}

function checkText(text: string, from: number, to: number, stack: string[], lineAt: (i: number) => number): void {
  if (stack.length > 0) return;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9 && c !== 0xfeff) {
      throw new XmlSyntaxError(`text outside the root element ('${text.slice(i, Math.min(to, i + 20))}')`, lineAt(i));
    }
  }
}

function emitText(handler: XmlHandler, raw: string, line: number): void {
  handler.text?.(decodeEntities(raw), line);
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function decodeEntities(value: string): string {
  if (!value.includes('&')) return value;
  return value.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (whole, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(parseInt(entity.slice(1), 10));
    return ENTITIES[entity] ?? whole;
  });
}

/**
 * One attribute's raw value without parsing the others: the hot path for the millions of <line> elements of a
 * large report. Undefined when absent; an unquoted value is a syntax error, as in attributesOf.
 */
export function attributeValue(tag: XmlTag, name: string): string | undefined {
  const raw = tag.rawAttributes;
  let at = raw.indexOf(name);
  while (at !== -1) {
    const before = at === 0 ? 32 : raw.charCodeAt(at - 1);
    let eq = at + name.length;
    while (raw.charCodeAt(eq) === 32) eq++;
    if ((before === 32 || before === 9 || before === 10 || before === 13) && raw.charCodeAt(eq) === 61) {
      let start = eq + 1;
      while (raw.charCodeAt(start) === 32) start++;
      const quote = raw.charCodeAt(start);
      const end = quote === QUOT || quote === APOS ? raw.indexOf(quote === QUOT ? '"' : "'", start + 1) : -1;
      if (end === -1) throw new XmlSyntaxError(`malformed attributes in <${excerpt(tag.name + raw)}>`, tag.line);
      const value = raw.slice(start + 1, end);
      return value.includes('&') ? decodeEntities(value) : value;
    }
    at = raw.indexOf(name, at + 1);
  }
  return undefined;
}

// Sticky: each match starts where the last ended, so a long run of garbage is tried once, not from every position.
const ATTRIBUTE = /\s*([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/y;

/** Parses a tag's attributes; anything that is not `name="value"` is a syntax error at the tag's line. */
export function attributesOf(tag: XmlTag): Record<string, string> {
  const result: Record<string, string> = {};
  const raw = tag.rawAttributes;
  let last = 0;
  ATTRIBUTE.lastIndex = 0;
  for (let match = ATTRIBUTE.exec(raw); match !== null; match = ATTRIBUTE.exec(raw)) {
    result[match[1]] = decodeEntities(match[2] ?? match[3]);
    last = ATTRIBUTE.lastIndex;
  }
  if (raw.slice(last).trim() !== '') {
    throw new XmlSyntaxError(`malformed attributes in <${excerpt(tag.name + raw)}>`, tag.line);
  }
  return result;
}
