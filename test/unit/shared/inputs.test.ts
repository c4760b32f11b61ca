import { ConfigurationError } from '../../../actions/shared/errors.js';
import { InputReader, parseDuration, redactUrl, redactUrlText, secretsInUrl } from '../../../actions/shared/inputs.js';
import { injectedCommands } from '../../support/workflow-command-lines.js';

const reader = (values: Record<string, string>) => new InputReader((name) => values[name] ?? '');

describe('InputReader', () => {
  test('durations take units and bare seconds', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('2.5')).toBe(2500);
    expect(parseDuration('soon')).toBeUndefined();
    expect(parseDuration('5 parsecs')).toBeUndefined();
  });

  test('a zero or negative duration names the input', () => {
    expect(() => reader({ timeout: '0s' }).duration('timeout')).toThrow(
      /Input 'timeout' must be a duration above zero/,
    );
    expect(() => reader({ timeout: '-5s' }).duration('timeout')).toThrow(ConfigurationError);
  });

  test('integers and numbers are range-checked', () => {
    expect(reader({ n: '3' }).integer('n', { min: 1 })).toBe(3);
    expect(() => reader({ n: '0' }).integer('n', { min: 1 })).toThrow(
      "Input 'n' must be a number of at least 1; got '0'.",
    );
    expect(() => reader({ n: '1.5' }).integer('n')).toThrow(/whole number/);
    expect(reader({}).number('t', { min: 0, max: 100, fallback: 90 })).toBe(90);
    expect(() => reader({ t: 'ninety' }).number('t', { min: 0, max: 100 })).toThrow(/from 0 to 100/);
  });

  test('booleans follow the YAML core schema', () => {
    expect(reader({ b: 'True' }).boolean('b')).toBe(true);
    expect(reader({ b: 'false' }).boolean('b')).toBe(false);
    expect(() => reader({ b: 'yes' }).boolean('b')).toThrow("Input 'b' must be true or false; got 'yes'.");
  });

  test('enums list what they accept', () => {
    expect(() => reader({ m: 'PATCH' }).oneOf('m', ['GET', 'HEAD'])).toThrow(
      "Input 'm' must be one of GET, HEAD; got 'PATCH'.",
    );
  });

  test('lists split on commas and new lines', () => {
    expect(reader({ l: 'a, b\n\nc,' }).list('l')).toEqual(['a', 'b', 'c']);
  });

  test('a URL error never echoes the password', () => {
    expect(() => reader({ u: 'ftp://me:hunter2@example.test/' }).url('u')).toThrow(/ftp/);
    try {
      reader({ u: 'notaurl://me:hunter2@ bad' }).url('u');
    } catch (e) {
      expect(String(e)).not.toContain('hunter2');
    }
    expect(() => reader({ u: 'example.test/health' }).url('u')).toThrow(/absolute URL with a scheme/);
  });

  test('URL secrets are found and redacted', () => {
    const url = new URL('https://deploy:p%40ss@example.test/health?token=abc&page=2');
    expect(secretsInUrl(url)).toEqual(expect.arrayContaining(['p%40ss', 'p@ss', 'abc']));
    expect(redactUrl(url)).toBe('https://deploy:***@example.test/health?token=***&page=2');
  });

  // Every way the reader refuses a value: each quotes it, and a quote must stay one short line.
  const refusals: [string, (r: InputReader) => unknown][] = [
    ['boolean', (r) => r.boolean('v')],
    ['integer', (r) => r.integer('v')],
    ['number', (r) => r.number('v')],
    ['oneOf', (r) => r.oneOf('v', ['a', 'b'])],
    ['duration', (r) => r.duration('v')],
    ['url', (r) => r.url('v')],
  ];

  test.each(refusals)('%s: a 10 KB value is quoted as at most ~100 characters, with how many more', (_kind, read) => {
    const message = errorOf(() => read(reader({ v: 'x'.repeat(10 * 1024) })));
    expect(message).toMatch(/^Input 'v' /);
    expect(message).toMatch(/x… \(\d+ more characters\)'/);
    expect(message.length).toBeLessThan(400);
  });

  test.each(refusals)('%s: a value with line breaks cannot start a workflow command', (_kind, read) => {
    const message = errorOf(() => read(reader({ v: 'no\n::add-mask::x\r::error::forged\n##[error]old' })));
    expect(message).not.toMatch(/[\r\n]/);
    expect(injectedCommands(message)).toEqual([]);
    expect(injectedCommands(`::error::${message}`)).toHaveLength(1);
  });
});

describe('URL passwords holding raw @, / and :', () => {
  const password = 'p@ss/w:rd';
  const forms = [password, encodeURIComponent(password), 'ss/w:rd', 'ss%2Fw'];
  const leaked = (text: string) => forms.filter((f) => text.includes(f));

  test.each([
    ['raw', `postgres://shop:${password}@db.example.test:5432/shop`],
    ['raw, no port', `https://deploy:${password}@example.test/health`],
    ['percent-encoded', `https://deploy:${encodeURIComponent(password)}@example.test/health`],
    ['only the @ encoded', 'https://deploy:p%40ss/w:rd@example.test/health'],
  ])('%s: redactUrlText hides the whole password', (_form, url) => {
    const text = `could not connect to ${url}: connection refused (after 3 tries)`;
    const redacted = redactUrlText(text);
    expect(leaked(redacted)).toEqual([]);
    expect(redacted).toMatch(/^could not connect to \w+:\/\/\w+:\*\*\*@(db\.)?example\.test[:/]/);
    expect(redacted).toMatch(/: connection refused \(after 3 tries\)$/);
  });

  test('two URLs in one text are both hidden; a URL without a password is left alone', () => {
    const text = `from https://a:${password}@one.test/x to https://b:s3cr%2Ft@two.test/y via https://three.test/z?q=1`;
    expect(redactUrlText(text)).toBe(
      'from https://a:***@one.test/x to https://b:***@two.test/y via https://three.test/z?q=1',
    );
  });

  test('a URL input that does not parse is refused without any form of the password', () => {
    const message = errorOf(() => reader({ u: `health at https://deploy:${password}@example.test/health` }).url('u'));
    expect(message).toMatch(/^Input 'u' must be an absolute URL/);
    expect(leaked(message)).toEqual([]);
  });

  test('a parsed URL with a raw @ and / in its password: redacted and masked whole', () => {
    const url = new URL(`ftp://deploy:${password}@example.test/health?token=abc`);
    expect(leaked(redactUrl(url))).toEqual([]);
    expect(redactUrl(url)).toBe('ftp://deploy:***@example.test/health?token=***');
    expect(secretsInUrl(url)).toEqual(expect.arrayContaining([password, encodeURIComponent(password)]));
    const message = errorOf(() => reader({ u: url.href }).url('u'));
    expect(message).toMatch(/^Input 'u' must use http or https; got 'ftp'/);
    expect(leaked(message)).toEqual([]);
  });
});

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}
