// The demo's terminal view of job summaries and of a step's live log.
import { jest } from '@jest/globals';
import { Masker, liveLines, renderMarkdown } from '../../demo/terminal.js';

test('a key/value table (blank header, as the actions write it) shows as its rows, without an empty band', () => {
  const markdown = ['| | |', '| --- | --- |', '| Target | local |', '| Commit | `44252f6` |', ''].join('\n');
  expect(renderMarkdown(markdown)).toBe(['Target  local', 'Commit  `44252f6`'].join('\n'));
});

test('a table with a header keeps it, underlined, and no line ends in spaces', () => {
  const markdown = ['| Phase | Detail |', '| --- | --- |', '| lock | |', '| plan | 1 pending |'].join('\n');
  expect(renderMarkdown(markdown)).toBe(['Phase  Detail', '─────  ─────────', 'lock', 'plan   1 pending'].join('\n'));
});

test('the live view shows phases as they start and end, masks secrets, and keeps the rest for the summary', () => {
  const printed: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
  try {
    const show = liveLines(new Masker(['s3cret']));
    for (const text of [
      '::add-mask::derived-token',
      '::group::build (local)',
      'pip output nobody needs here',
      'build on local: ok in 13749 ms',
      '::endgroup::',
      '::error::login failed for s3cret with derived-token',
    ])
      show({ stream: 'stdout', text });
  } finally {
    log.mockRestore();
  }
  expect(printed.map((l) => l.replace(/^\[ *\d+ s\] /, ''))).toEqual([
    '  ▸ build (local)',
    '    ✓ build ok in 13.7 s',
    '  error: login failed for *** with ***',
  ]);
});
