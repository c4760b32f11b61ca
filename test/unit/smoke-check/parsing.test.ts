import { ConfigurationError } from '../../../actions/shared/errors.js';
import { versionSource } from '../../../actions/smoke-check/check-spec.js';
import {
  describeJsonValue,
  evaluateJsonPath,
  jsonValueEquals,
  parseJsonPath,
} from '../../../actions/smoke-check/json-path.js';
import { parseStatusSet, statusInSet } from '../../../actions/smoke-check/status-set.js';

describe('status sets', () => {
  test.each([
    ['200,204', [200, 204], [201, 299]],
    ['2xx', [200, 250, 299], [199, 300]],
    ['200-299, 304', [200, 299, 304], [300, 305]],
    ['2XX 3xx', [200, 399], [400]],
  ])('%s', (text, inside, outside) => {
    const set = parseStatusSet('expected-status', text);
    for (const status of inside) expect(statusInSet(set, status)).toBe(true);
    for (const status of outside) expect(statusInSet(set, status)).toBe(false);
  });

  test.each(['', 'ok', '2x', '6xx', '099', '300-200', '200-700', '200;204', '20x'])(
    'rejects %j naming the input',
    (text) => {
      expect(() => parseStatusSet('expected-status', text)).toThrow(ConfigurationError);
      expect(() => parseStatusSet('expected-status', text)).toThrow(/^Input 'expected-status' must list HTTP statuses/);
    },
  );
});

describe('JSON paths', () => {
  const doc = { commit: 'abc', data: { items: [{ id: 7 }, { id: 8 }] }, 'release id': 'r1', nothing: null };

  test.each([
    ['$.commit', 'abc'],
    ['commit', 'abc'],
    ['data.items[0].id', 7],
    ['$.data.items[-1].id', 8],
    ["$['release id']", 'r1'],
    ['$["data"]["items"][1]', { id: 8 }],
    ['$.nothing', null],
  ])('%s', (path, value) => {
    expect(evaluateJsonPath(parseJsonPath('json-path', path), doc)).toEqual({ found: true, value });
  });

  test.each(['$.missing', '$.data.items[5]', '$.commit.length', '$.data.items.id', '$.data[0]', 'data.items[-3]'])(
    '%s is not found',
    (path) => {
      expect(evaluateJsonPath(parseJsonPath('json-path', path), doc)).toEqual({ found: false });
    },
  );

  test.each(['$', '', '$.', '$..a', 'a[', 'a[x]', '$a', 'a b'])('rejects %j naming the input', (path) => {
    expect(() => parseJsonPath('json-path', path)).toThrow(/^Input 'json-path' must be a JSON path/);
  });

  test('values compare as JSON when the expected text parses, else as text', () => {
    expect(jsonValueEquals('ok', 'ok')).toBe(true);
    expect(jsonValueEquals('ok', '"ok"')).toBe(true);
    expect(jsonValueEquals(3, '3')).toBe(true);
    expect(jsonValueEquals('3', '3')).toBe(true);
    expect(jsonValueEquals(true, 'true')).toBe(true);
    expect(jsonValueEquals({ a: [1, 2] }, '{"a":[1,2]}')).toBe(true);
    expect(jsonValueEquals({ a: [1, 2] }, '{"a":[2,1]}')).toBe(false);
    expect(jsonValueEquals({ a: 1 }, '{"a":1,"b":2}')).toBe(false);
    expect(jsonValueEquals([1], '{"0":1}')).toBe(false);
    expect(jsonValueEquals(3, 'three')).toBe(false);
    expect(jsonValueEquals(null, 'null')).toBe(true);
  });

  test('long values are shortened in reasons', () => {
    expect(describeJsonValue('x'.repeat(100))).toHaveLength(80);
    expect(describeJsonValue({ a: 1 })).toBe('{"a":1}');
  });
});

describe('version-from', () => {
  test('body, header and json sources', () => {
    expect(versionSource('body')).toEqual({ kind: 'body' });
    expect(versionSource('header:X-Release')).toEqual({ kind: 'header', name: 'x-release' });
    expect(versionSource('json: $.commit')).toMatchObject({ kind: 'json', path: { segments: ['commit'] } });
  });

  test.each(['commit', 'header:', 'header:bad name', 'json:'])('rejects %j', (text) => {
    expect(() => versionSource(text)).toThrow(
      /^Input 'version-from' must be body, header:<Header-Name> or json:<path>/,
    );
  });
});
