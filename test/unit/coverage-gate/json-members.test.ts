// The streamed JSON reader: the members it hands out must be exactly JSON.parse's, however the bytes are cut,
// and a broken document must be one error naming its line.
import { forEachJsonMember, syntaxErrorAt } from '../../../actions/coverage-gate/formats/json-members.js';
import { seededRandom } from '../../support/random.js';

/** The document's bytes in pieces of the given sizes (the last piece takes the rest). */
async function* pieces(bytes: Buffer, sizes: () => number): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length;) {
    const size = Math.max(1, sizes());
    yield bytes.subarray(i, i + size);
    i += size;
  }
}

async function members(text: string, sizes: () => number, nested: (key: string) => boolean = (key) => key === 'files') {
  const seen: [string | undefined, string, unknown][] = [];
  await forEachJsonMember('r.json', pieces(Buffer.from(text, 'utf8'), sizes), nested, (key, value, parent) =>
    seen.push([parent, key, value]),
  );
  return seen;
}

// Escaped quotes and backslashes, a backslash before a quote, multi-byte characters (split by 1-byte pieces),
// numbers, literals, nested arrays, an empty object, and the coverage.py shape with `files` streamed.
const DOCUMENT = {
  meta: { version: '7.4.0', show_contexts: false, weird: 'a "quoted" \\ back\\\\slash \\" and ünïcödé 🍕' },
  files: {
    'shop/pricing.py': { executed_lines: [1, 2, 3], missing_lines: [], summary: { num_statements: 3 } },
    'C:\\src\\app "x".py': { executed_lines: [], excluded_lines: [-1, 0.5, 1e3], flags: [true, false, null] },
    'empty.py': {},
  },
  totals: { percent_covered: 88.5, nested: [[[]], [{}], ['}', '{', ']', '[']] },
  'last scalar': -12.5e-3,
};

function expected(document: typeof DOCUMENT) {
  const out: [string | undefined, string, unknown][] = [];
  for (const [key, value] of Object.entries(document)) {
    if (key === 'files') for (const [k, v] of Object.entries(value)) out.push(['files', k, v]);
    else out.push([undefined, key, value]);
  }
  return out;
}

test('syntaxErrorAt finds where a value stops being JSON', () => {
  expect(syntaxErrorAt('{"a": [1, {"b": "x\\"y"}], "c": -0.5e+3, "d": [true, false, null]}')).toBe(-1);
  expect(syntaxErrorAt('{"a": [1,\n 2,,]}')).toBe(13);
  expect(syntaxErrorAt('{"a" 1}')).toBe(5);
  expect(syntaxErrorAt('[1, 2} ')).toBe(5);
  expect(syntaxErrorAt('"open')).toBe(5);
  expect(syntaxErrorAt('{"a": 1} x')).toBe(9);
  expect(syntaxErrorAt('01')).toBe(1);
});

describe('forEachJsonMember', () => {
  const text = JSON.stringify(DOCUMENT, null, 2);

  test('hands out exactly what JSON.parse reads, in one piece, byte by byte and in random pieces', async () => {
    expect(await members(text, () => 1 << 16)).toEqual(expected(DOCUMENT));
    expect(await members(text, () => 1)).toEqual(expected(DOCUMENT));
    for (let seed = 1; seed <= 40; seed++) {
      const rand = seededRandom(seed);
      expect(await members(text, () => 1 + Math.floor(rand() * 12))).toEqual(expected(DOCUMENT));
    }
    // Compact JSON, a byte order mark, and no nesting asked for.
    const compact = `\uFEFF${JSON.stringify(DOCUMENT)}`;
    const whole = Object.entries(DOCUMENT).map(([k, v]) => [undefined, k, v]);
    expect(
      await members(
        compact,
        () => 3,
        () => false,
      ),
    ).toEqual(whole);
  });

  test('an empty document and empty nested objects', async () => {
    expect(await members('{}', () => 1)).toEqual([]);
    expect(await members(' { "files" : { } , "a" : 1 } \n', () => 2)).toEqual([[undefined, 'a', 1]]);
  });

  test.each([
    ['{"a": 1,}', 1, /expected a key in double quotes, found '}'/],
    ['{\n"a" 1}', 2, /expected ':' after the key 'a'/],
    ['{\n  "a": 1\n  "b": 2}', 3, /expected ',' or '}' after the value of 'a'/],
    ['{\n "files": {,\n}', 2, /expected a key in double quotes, found ','/],
    ['{"a": [1, 2}', 1, /in the value of 'a'/],
    ['{"a": {"b": tru}}', 1, /in the value of 'a'/],
    ['{"a":\n  {\n"b": [1,\n 2,,]}}', 4, /in the value of 'a'/],
    ['{"a": 1} x', 1, /unexpected 'x' after the end of the document/],
    ['["a"]', 1, /expected '\{' at the start, found '\['/],
    ['{"a": 1', 1, /unexpected end of the document/],
    ['{"a": ,}', 1, /expected a value for 'a', found ','/],
  ])('%j is one error naming line %d', async (broken, line, message) => {
    for (const size of [1, 4, 1 << 16]) {
      const error = await members(broken, () => size).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).toMatch(message);
      expect(error?.message).toMatch(new RegExp(`line ${line}\\b`));
    }
  });
});
