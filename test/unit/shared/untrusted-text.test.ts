import { untrustedLines, untrustedText } from '../../../actions/shared/untrusted-text.js';
import { INJECTIONS, injectedCommands } from '../../support/workflow-command-lines.js';

describe('untrustedText', () => {
  test.each(INJECTIONS)('%j cannot become a runner command, wherever it is printed', (hostile) => {
    const safe = untrustedText(hostile);
    for (const printed of [safe, `reason: ${safe}`, `${safe} (after)`, `  ${safe}`]) {
      expect(injectedCommands(printed)).toEqual([]);
      expect(printed).not.toMatch(/[\r\n\u0085\u2028\u2029]/);
    }
  });

  test('line breaks and controls are shown as escapes, plain text is left alone', () => {
    expect(untrustedText('abc1234 ok')).toBe('abc1234 ok');
    expect(untrustedText('a\nb\rc\td\u0000e\u202ef')).toBe('a\\nb\\rc\\td\\u0000e\\u202ef');
    expect(untrustedText('::error::x')).toBe('\\u003a:error::x');
    expect(untrustedText('x ##[error]y')).toBe('x #\\u0023[error]y');
  });

  test('the length is bounded, in characters, without splitting a surrogate pair', () => {
    expect(untrustedText('x'.repeat(10_000))).toBe(`${'x'.repeat(200)}… (9800 more characters)`);
    expect(untrustedText('🍕'.repeat(5), 3)).toBe('🍕🍕🍕… (2 more characters)');
  });

  test('is stable when applied twice', () => {
    for (const hostile of INJECTIONS) expect(untrustedText(untrustedText(hostile))).toBe(untrustedText(hostile));
  });
});

describe('untrustedLines', () => {
  test('keeps the lines of a body, each neutralised, within the bound', () => {
    const text = untrustedLines('<h1>Down</h1>\r\n::add-mask::Healthy\r##[error]x\n' + 'y'.repeat(50), 60);
    expect(text.split('\n')).toEqual([
      '<h1>Down</h1>',
      '\\u003a:add-mask::Healthy',
      '#\\u0023[error]x',
      `${'y'.repeat(18)}… (32 more characters)`,
    ]);
    expect(injectedCommands(text)).toEqual([]);
  });
});
