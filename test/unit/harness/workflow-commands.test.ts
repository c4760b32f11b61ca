import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runEntry } from '../../harness/step-process.js';
import {
  createLineReader,
  parseCommandLine,
  processCommands,
  runnerLines,
  unescapeData,
  unescapeProperty,
} from '../../harness/workflow-commands.js';

describe('workflow command parsing', () => {
  test('an error with every annotation property, escaped as @actions/core escapes them', () => {
    const line =
      '::error file=app/views.py,line=10,col=4,endLine=12,endColumn=8,title=Bad%3A x%2C y::two%0Alines 100%25';
    expect(parseCommandLine(line)).toEqual({
      command: 'error',
      properties: {
        file: 'app/views.py',
        line: '10',
        col: '4',
        endLine: '12',
        endColumn: '8',
        title: 'Bad: x, y',
      },
      data: 'two\nlines 100%',
    });
  });

  test('%25 is unescaped last, so an escaped percent before 0A stays literal', () => {
    expect(unescapeData('%250A')).toBe('%0A');
    expect(unescapeData('a%0D%0Ab')).toBe('a\r\nb');
    expect(unescapeProperty('%253A')).toBe('%3A');
    expect(unescapeData('x%3Ay')).toBe('x%3Ay');
  });

  test('leading spaces are allowed; unknown names, a missing closing :: and plain text are not commands', () => {
    expect(parseCommandLine('   ::notice::indented')?.data).toBe('indented');
    expect(parseCommandLine('::frobnicate::x')).toBeUndefined();
    expect(parseCommandLine('::error no closing')).toBeUndefined();
    expect(parseCommandLine('error::x')).toBeUndefined();
  });

  test('property pairs with an empty side are dropped; a value may contain =', () => {
    expect(parseCommandLine('::warning title=,=x,file=a=b.py,,line=3::m')?.properties).toEqual({
      file: 'a=b.py',
      line: '3',
    });
  });

  test('data after the second :: keeps its own :: separators', () => {
    expect(parseCommandLine('::notice::a::b')?.data).toBe('a::b');
  });
});

describe('processing a step log', () => {
  test('annotations, masks and groups in order', () => {
    const results = processCommands([
      '::group::Install',
      '::debug::detail',
      '::add-mask::hunter2',
      '::warning file=a.py::careful',
      '::endgroup::',
      '::notice::done',
    ]);
    expect(results.annotations.map((a) => [a.level, a.message])).toEqual([
      ['debug', 'detail'],
      ['warning', 'careful'],
      ['notice', 'done'],
    ]);
    expect(results.masks).toEqual(['hunter2']);
    expect(results.groups).toEqual(['Install']);
    expect([...results.hiddenLines]).toEqual([2]);
  });

  test('stop-commands ignores everything until the token line, then resumes', () => {
    const results = processCommands([
      '::stop-commands::pause-1234',
      '::error::not an error',
      '::add-mask::printed as is',
      '::pause-1234::',
      '::error::a real error',
    ]);
    expect(results.annotations).toEqual([{ level: 'error', message: 'a real error', properties: {} }]);
    expect(results.masks).toEqual([]);
    expect(results.hiddenLines.size).toBe(0);
  });

  test('legacy set-output and save-state still work and are flagged as deprecated', () => {
    const results = processCommands(['::set-output name=url::https://x%0Ay', '::save-state name=pid::42']);
    expect(results.outputs).toEqual({ url: 'https://x\ny' });
    expect(results.state).toEqual({ pid: '42' });
    expect(results.deprecations).toHaveLength(2);
    expect(results.deprecations[0]).toMatch(/`set-output` command is deprecated/);
  });

  test('set-env and add-path are refused unless ACTIONS_ALLOW_UNSECURE_COMMANDS is true', () => {
    expect(processCommands(['::set-env name=A::1', '::add-path::/x']).errors).toHaveLength(2);
    expect(processCommands(['::set-env name=A::1'], { ACTIONS_ALLOW_UNSECURE_COMMANDS: 'true' }).errors).toEqual([]);
  });

  test('the legacy ##[name]data form counts anywhere in a line, with ;-separated properties and its own escapes', () => {
    expect(parseCommandLine('v1 ##[error]legacy form in the middle')).toEqual({
      command: 'error',
      properties: {},
      data: 'legacy form in the middle',
    });
    expect(parseCommandLine('##[warning file=a%3Bb.py;line=3;=x;y=]x%5Dy%250A')).toEqual({
      command: 'warning',
      properties: { file: 'a;b.py', line: '3' },
      data: 'x]y%0A',
    });
    // Only the first ##[ is looked at, and it needs its ].
    expect(parseCommandLine('see ##[frobnicate] then ##[error]x')).toBeUndefined();
    expect(parseCommandLine('##[error no bracket')).toBeUndefined();
    expect(processCommands(['tail ##[add-mask]hunter2']).masks).toEqual(['hunter2']);
  });

  test('while commands are stopped, only the token resumes them, in either form', () => {
    const stopped = processCommands(['::stop-commands::tok', '::error::##[tok]', '##[error]still off', 'x ##[tok]']);
    expect(stopped.annotations).toEqual([]);
    expect(processCommands(['::stop-commands::tok', 'x ##[tok]', '##[error]on']).annotations).toHaveLength(1);
  });

  test('lines end at LF, CR or CRLF, also when a CRLF is split between two chunks', () => {
    expect(runnerLines('v1\r::add-mask::Healthy\r\nnext\nlast')).toEqual(['v1', '::add-mask::Healthy', 'next', 'last']);
    expect(runnerLines('x\n\r')).toEqual(['x', '']);
    const reader = createLineReader();
    expect(reader.push('a\r')).toEqual([]);
    expect(reader.push('\nb\r')).toEqual(['a']);
    expect(reader.push('c')).toEqual(['b']);
    expect(reader.end()).toEqual(['c']);
  });

  test("a step's bare CR starts a new line, so a command after it takes effect", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'harness-cr-'));
    try {
      const script = join(dir, 'step.mjs');
      writeFileSync(
        script,
        "process.stdout.write('progress 50%\\r::add-mask::hunter2\\r');\n" +
          "setTimeout(() => process.stdout.write('\\nv1 ##[error]legacy\\n'), 50);\n",
      );
      const run = await runEntry({ script, env: { PATH: process.env.PATH ?? '' }, cwd: dir, timeoutMs: 30_000 });
      const lines = run.lines.map((l) => l.text);
      expect(lines).toEqual(['progress 50%', '::add-mask::hunter2', 'v1 ##[error]legacy']);
      const commands = processCommands(lines);
      expect(commands.masks).toEqual(['hunter2']);
      expect(commands.annotations).toEqual([{ level: 'error', message: 'legacy', properties: {} }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
