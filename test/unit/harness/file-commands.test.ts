import {
  FileCommandError,
  parseKeyValueFile,
  parsePathFile,
  prependPath,
  toRecord,
} from '../../harness/file-commands.js';

describe('environment files (GITHUB_OUTPUT, GITHUB_ENV, GITHUB_STATE)', () => {
  test('name=value keeps everything after the first =, including later = and <<', () => {
    expect(parseKeyValueFile('url=postgres://h/db?a=b\nshift=a<<b\n')).toEqual([
      { name: 'url', value: 'postgres://h/db?a=b' },
      { name: 'shift', value: 'a<<b' },
    ]);
  });

  test('a heredoc value spans lines up to the line that is exactly the delimiter', () => {
    const text = 'report<<EOF\nline 1\n  EOF not alone\n\nline 4\nEOF\nnext=1\n';
    expect(toRecord(parseKeyValueFile(text))).toEqual({
      report: 'line 1\n  EOF not alone\n\nline 4',
      next: '1',
    });
  });

  test('an empty heredoc value and a missing trailing newline are fine', () => {
    expect(parseKeyValueFile('empty<<X\nX')).toEqual([{ name: 'empty', value: '' }]);
    expect(parseKeyValueFile('last=no newline')).toEqual([{ name: 'last', value: 'no newline' }]);
  });

  test('a CR before LF stays in the value, as on the Linux runner', () => {
    expect(parseKeyValueFile('a=1\r\n')).toEqual([{ name: 'a', value: '1\r' }]);
  });

  test('a value cannot contain its delimiter on a line of its own: the value ends there', () => {
    const entries = parseKeyValueFile('v<<END\nbefore\nEND\nafter\n'.replace('after', 'after=x'));
    expect(entries).toEqual([
      { name: 'v', value: 'before' },
      { name: 'after', value: 'x' },
    ]);
  });

  test('an unclosed heredoc, an empty name or delimiter and a line without = or << are errors', () => {
    expect(() => parseKeyValueFile('v<<END\nbody\n', 'output')).toThrow(
      "Invalid output value. Matching delimiter not found 'END'",
    );
    expect(() => parseKeyValueFile('=value')).toThrow(FileCommandError);
    expect(() => parseKeyValueFile('<<END\nx\nEND\n')).toThrow(/Name must not be empty/);
    expect(() => parseKeyValueFile('name<<\n')).toThrow(/delimiter must not be empty/);
    expect(() => parseKeyValueFile('just words')).toThrow("Invalid file command format 'just words'");
  });

  test('the later of two entries with one name wins', () => {
    expect(toRecord(parseKeyValueFile('a=1\na=2\n'))).toEqual({ a: '2' });
  });
});

describe('GITHUB_PATH', () => {
  test('one directory per non-empty line', () => {
    expect(parsePathFile('/opt/a/bin\n\n/opt/b/bin\n')).toEqual(['/opt/a/bin', '/opt/b/bin']);
  });

  test('the latest directory goes first and a repeated one moves to the front', () => {
    let path = prependPath([], ['/a', '/b']);
    expect(path).toEqual(['/b', '/a']);
    path = prependPath(path, ['/a']);
    expect(path).toEqual(['/a', '/b']);
  });
});
