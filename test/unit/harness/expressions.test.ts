import {
  type ExpressionContext,
  evaluateCondition,
  evaluateExpression,
  interpolate,
} from '../../harness/expressions.js';

const context = (status: ExpressionContext['status'] = 'success'): ExpressionContext => ({
  status,
  contexts: {
    github: { token: 'ghs_x', ref: 'refs/heads/staging', event_name: 'push', event: { pull_request: null } },
    steps: { 'build-app': { outputs: { 'release-id': '42', version: '1.2.0' }, outcome: 'success' } },
    env: { DEPLOY_ENV: 'Staging' },
  },
});

describe('post-if and if conditions', () => {
  const cases: [string, ExpressionContext['status'], boolean][] = [
    ['always()', 'failure', true],
    ['success()', 'success', true],
    ['success()', 'failure', false],
    ['failure()', 'failure', true],
    ['failure()', 'cancelled', false],
    ['cancelled()', 'cancelled', true],
    ['!cancelled()', 'failure', true],
    ['!cancelled()', 'cancelled', false],
    ['${{ !cancelled() }}', 'success', true],
    ['failure() || cancelled()', 'cancelled', true],
    ['failure() || cancelled()', 'success', false],
    ["always() && github.event_name == 'push'", 'failure', true],
    ["(success() || failure()) && env.DEPLOY_ENV == 'staging'", 'failure', true],
  ];
  test.each(cases)('%s when the job is %s → %s', (condition, status, expected) => {
    expect(evaluateCondition(condition, context(status))).toBe(expected);
  });

  test('a condition without a status function only runs while the job succeeds', () => {
    expect(evaluateCondition("github.ref == 'refs/heads/staging'", context('success'))).toBe(true);
    expect(evaluateCondition("github.ref == 'refs/heads/staging'", context('failure'))).toBe(false);
  });
});

describe('expression values', () => {
  test('&& and || return an operand, as in workflows', () => {
    expect(evaluateExpression("github.event.pull_request || 'none'", context())).toBe('none');
    expect(evaluateExpression("env.DEPLOY_ENV && 'yes'", context())).toBe('yes');
  });

  test('names with dashes, index access, case-insensitive properties and missing values', () => {
    expect(evaluateExpression("steps.build-app.outputs['release-id']", context())).toBe('42');
    expect(evaluateExpression('GITHUB.REF', context())).toBe('refs/heads/staging');
    expect(evaluateExpression('steps.nope.outputs.x', context())).toBeNull();
  });

  test('string comparison ignores case; mixed types compare as numbers', () => {
    expect(evaluateExpression("'ABC' == 'abc'", context())).toBe(true);
    expect(evaluateExpression('steps.build-app.outputs.release-id == 42', context())).toBe(true);
    expect(evaluateExpression("startsWith(github.ref, 'refs/heads/')", context())).toBe(true);
    expect(evaluateExpression('contains(fromJSON(\'["a","b"]\'), \'B\')', context())).toBe(true);
  });

  test('an unknown context or function is an error, not an empty string', () => {
    expect(() => evaluateExpression('secrets.TOKEN', context())).toThrow(/Unrecognized named-value: 'secrets'/);
    expect(() => evaluateExpression('hashFiles()', context())).toThrow(/Unsupported function 'hashfiles\(\)'/);
    expect(() => evaluateExpression("'open", context())).toThrow(/Unterminated string/);
  });
});

describe('interpolation into input values', () => {
  test('replaces each ${{ }} and keeps the text around it', () => {
    expect(interpolate('v${{ steps.build-app.outputs.version }}-${{ github.token }}', context())).toBe('v1.2.0-ghs_x');
    expect(interpolate("${{ '}}' }}", context())).toBe('}}');
    expect(interpolate('no expression', context())).toBe('no expression');
    expect(() => interpolate('${{ github.ref', context())).toThrow(/Unterminated/);
  });
});
