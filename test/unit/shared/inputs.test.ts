import { ConfigurationError } from '../../../actions/shared/errors.js';
import { InputReader, parseDuration, redactUrl, secretsInUrl } from '../../../actions/shared/inputs.js';

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
});
