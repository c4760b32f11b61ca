/**
 * Text that came from a server (a body, a header, a JSON value, an API's check name or error message), made safe
 * to print. The runner reads workflow commands from every line a step prints: `::name::` at the start of a line
 * (after spaces) and the legacy `##[name]` anywhere in it, where a line ends at LF, CR or CRLF (actions/runner
 * ActionCommand.TryParseV2 / TryParse, .NET ReadLine). So a server value must never carry a line break, must not
 * start with `::`, and must not contain `##[`; the log viewer and summaries also get no control or bidi
 * characters, and no value is longer than `maxChars` characters.
 */
export function untrustedText(value: string, maxChars = UNTRUSTED_TEXT_LIMIT): string {
  const chars = Array.from(value);
  const kept = chars.length > maxChars ? chars.slice(0, maxChars) : chars;
  let text = kept.map(escapeChar).join('');
  // `##[` anywhere, and `::` where it could start a line: one character of each becomes an escape.
  text = text.replace(/##\[/g, '#\\u0023[').replace(/^(\s*):/, '$1\\u003a');
  if (kept.length < chars.length) text += `… (${chars.length - kept.length} more characters)`;
  return text;
}

/** The default bound: long enough for a sha, a version string or a URL, short enough for one log line. */
export const UNTRUSTED_TEXT_LIMIT = 200;

/** Characters of a user's value (an input, a report's content) an error message quotes: enough to recognise it. */
export const EXCERPT_CHARS = 100;

/** `value` as an error message quotes it: one line, at most EXCERPT_CHARS characters, then how many more. */
export function excerpt(value: string): string {
  return untrustedText(value, EXCERPT_CHARS);
}

/**
 * Several lines of server text (a body excerpt shown in a `<pre>` block), each line neutralised and bounded on
 * its own; the line breaks between them stay, as plain LF.
 */
export function untrustedLines(value: string, maxChars: number): string {
  const lines = value.split(/\r\n|[\r\n\u0085\u2028\u2029]/);
  const out: string[] = [];
  let used = 0;
  for (const line of lines) {
    if (used >= maxChars) {
      out.push(`… (${lines.length - out.length} more lines)`);
      break;
    }
    out.push(untrustedText(line, maxChars - used));
    used += Math.max(line.length, 1);
  }
  return out.join('\n');
}

// C0 and C1 controls, DEL, line and paragraph separators, bidi overrides and isolates, zero-width and BOM.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeChar(char: string): string {
  if (!UNSAFE.test(char)) return char;
  return NAMED[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}
