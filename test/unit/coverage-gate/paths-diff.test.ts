import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { changedLinesSince, parseUnifiedDiff, type Git } from '../../../actions/coverage-gate/diff.js';
import { globToRegExp, normalisePath, toPosix, type PathContext } from '../../../actions/coverage-gate/paths.js';
import { removeDir, tempDir } from './tools.js';

const repoFiles = new Set(['core/models.py', 'web/shop/views.py', 'web/admin/views.py', 'src/app.js', 'pkg/a.go']);
const context = (over: Partial<PathContext> = {}): PathContext => ({
  workspace: '/home/runner/work/app/app',
  workingDirectory: '',
  sourceRoots: [],
  stripPrefixes: [],
  exists: (p) => repoFiles.has(p),
  ...over,
});

describe('path normalisation', () => {
  test('absolute runner paths become repository paths', () => {
    expect(normalisePath('/home/runner/work/app/app/core/models.py', [], context())).toEqual({
      path: 'core/models.py',
      matched: true,
    });
  });

  test('relative to a Cobertura <source> or a configured source root', () => {
    expect(normalisePath('shop/views.py', ['/home/runner/work/app/app/web'], context())).toEqual({
      path: 'web/shop/views.py',
      matched: true,
    });
    expect(normalisePath('admin/views.py', [], context({ sourceRoots: ['web'] }))).toEqual({
      path: 'web/admin/views.py',
      matched: true,
    });
    expect(normalisePath('shop/views.py', [], context({ workingDirectory: 'web' }))).toEqual({
      path: 'web/shop/views.py',
      matched: true,
    });
  });

  test('Windows paths, backslashes and other machines’ checkouts', () => {
    expect(normalisePath('D:\\a\\app\\app\\src\\app.js', [], context())).toEqual({ path: 'src/app.js', matched: true });
    expect(normalisePath('src\\app.js', [], context())).toEqual({ path: 'src/app.js', matched: true });
    expect(normalisePath('/builds/x/core/models.py', [], context({ stripPrefixes: ['/builds/x'] }))).toEqual({
      path: 'core/models.py',
      matched: true,
    });
    expect(normalisePath('example.com/app/pkg/a.go', [], context())).toEqual({ path: 'pkg/a.go', matched: true });
    expect(normalisePath('C:/work/app/core/models.py', [], context({ stripPrefixes: ['c:\\work\\app'] }))).toEqual({
      path: 'core/models.py',
      matched: true,
    });
    expect(toPosix('file:///C:/x/./y//z.py')).toBe('C:/x/y/z.py');
  });

  test('a path that is nowhere in the repository is reported unmatched', () => {
    expect(normalisePath('/usr/lib/python3/dist-packages/django/x.py', [], context())).toEqual({
      path: '/usr/lib/python3/dist-packages/django/x.py',
      matched: false,
    });
    expect(normalisePath('./gone/file.py', [], context())).toEqual({ path: 'gone/file.py', matched: false });
  });

  test('globs', () => {
    expect(globToRegExp('web/**').test('web/shop/views.py')).toBe(true);
    expect(globToRegExp('web/**/views.py').test('web/views.py')).toBe(true);
    expect(globToRegExp('web/*.py').test('web/shop/views.py')).toBe(false);
    expect(globToRegExp('core').test('core/models.py')).toBe(true);
    expect(globToRegExp('{core,web}/**/*.py').test('web/a/b.py')).toBe(true);
    expect(globToRegExp('src/?.js').test('src/a.js')).toBe(true);
    expect(globToRegExp('a+b(c)/x.py').test('a+b(c)/x.py')).toBe(true);
  });
});

describe('changed lines from git', () => {
  test('unified diff hunks give the new side’s lines; deletions give none', () => {
    const diff = `diff --git a/a.py b/a.py
--- a/a.py
+++ b/a.py
@@ -3,0 +4,2 @@ def f():
+    x = 1
+    y = 2
@@ -10 +12 @@
-old
+new
@@ -20,3 +22,0 @@
diff --git a/gone.py b/gone.py
--- a/gone.py
+++ /dev/null
@@ -1,2 +0,0 @@
+++ "b/sp ace.py"
@@ -0,0 +1 @@
+x
`;
    expect(parseUnifiedDiff(diff)).toEqual(
      new Map([
        ['a.py', [4, 5, 12]],
        ['sp ace.py', [1]],
      ]),
    );
  });

  let dir: string;
  const git =
    (cwd: string): Git =>
    async (args) => {
      try {
        const stdout = execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        return { code: 0, stdout, stderr: '' };
      } catch (error) {
        const e = error as { status: number; stdout: string; stderr: string };
        return { code: e.status ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
      }
    };
  const sh = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, stdio: 'pipe', encoding: 'utf8' });

  beforeAll(() => {
    dir = tempDir();
    const origin = join(dir, 'origin');
    mkdirSync(origin);
    sh(origin, 'init', '-q', '-b', 'main');
    sh(origin, 'config', 'user.email', 'ci@example.com');
    sh(origin, 'config', 'user.name', 'CI');
    writeFileSync(join(origin, 'app.py'), 'a = 1\nb = 2\nc = 3\n');
    sh(origin, 'add', '.');
    sh(origin, 'commit', '-q', '-m', 'base');
    for (let i = 0; i < 3; i++) {
      writeFileSync(join(origin, `f${i}.txt`), `${i}\n`);
      sh(origin, 'add', '.');
      sh(origin, 'commit', '-q', '-m', `main ${i}`);
    }
    sh(origin, 'checkout', '-q', '-b', 'feature', 'HEAD~3');
    writeFileSync(join(origin, 'app.py'), 'a = 1\nb = 20\nc = 3\nd = 4\n');
    sh(origin, 'commit', '-q', '-am', 'change');
    writeFileSync(join(origin, 'new.py'), 'x = 1\n');
    sh(origin, 'add', '.');
    sh(origin, 'commit', '-q', '-m', 'add');
    // What actions/checkout does for a pull request: a depth-1 clone of the head only.
    sh(dir, 'clone', '-q', '--depth=1', '--branch', 'feature', `file://${origin}`, 'checkout');
  });
  afterAll(() => removeDir(dir));

  test('a shallow checkout fetches the base and deepens to the merge base', async () => {
    const result = await changedLinesSince(git(join(dir, 'checkout')), 'origin/main');
    expect(result.range).toBe('origin/main...HEAD');
    // Only the pull request's own changes, not the three commits main gained since.
    expect(result.changed).toEqual(
      new Map([
        ['app.py', [2, 4]],
        ['new.py', [1]],
      ]),
    );
    expect(result.notes[0]).toMatch(/fetched origin\/main/);
  });

  test('a base that does not exist is a clear error', async () => {
    await expect(changedLinesSince(git(join(dir, 'checkout')), 'origin/nope')).rejects.toThrow(
      /cannot find or fetch the diff base 'origin\/nope'/,
    );
  });

  test('a base that git would read as an option never reaches git', async () => {
    const calls: string[][] = [];
    const spy: Git = async (args) => {
      calls.push(args);
      return { code: 0, stdout: '', stderr: '' };
    };
    for (const base of ['--upload-pack=touch /tmp/pwned', '-o', 'a b', 'main..x']) {
      await expect(changedLinesSince(spy, base)).rejects.toThrow(/is not a branch or commit git can compare with/);
    }
    expect(calls).toEqual([]);
  });
});
