// The version story the release workflow relies on: package.json's version is what gets tagged, its major is the
// tag callers pin, so the README and the examples must name that major, and CHANGELOG.md must hold the notes.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../../../', import.meta.url).pathname;
const read = (file: string) => readFileSync(join(root, file), 'utf8');
const { version } = JSON.parse(read('package.json')) as { version: string };

/** The `@vN…` refs of runbook a text tells callers to use. */
const pinnedMajors = (text: string) =>
  [...text.matchAll(/runbook(?:\/[\w./-]+)?@(v\d+)(?:\.\d+\.\d+)?\b/g)].map((m) => m[1]);

test('package.json is a release version, and the lock file says the same', () => {
  expect(version).toMatch(/^\d+\.\d+\.\d+$/);
  expect((JSON.parse(read('package-lock.json')) as { version: string }).version).toBe(version);
});

test('the README and every example pin the major tag the release workflow moves', () => {
  const major = `v${version.split('.')[0]}`;
  const texts = [read('README.md')];
  for (const example of readdirSync(join(root, 'examples'), { withFileTypes: true })) {
    if (!example.isDirectory()) continue;
    const workflows = join('examples', example.name, '.github', 'workflows');
    for (const file of readdirSync(join(root, workflows))) texts.push(read(join(workflows, file)));
  }
  const majors = texts.flatMap(pinnedMajors);
  expect(majors.length).toBeGreaterThan(10);
  expect(new Set(majors)).toEqual(new Set([major]));
});

test('CHANGELOG.md has the notes of this version, as the release workflow extracts them', () => {
  const changelog = read('CHANGELOG.md');
  const section = new RegExp(`^## \\[?${version.replace(/\./g, '\\.')}\\]?\\s*$([\\s\\S]*?)(?=^## |(?![\\s\\S]))`, 'm');
  const notes = section.exec(changelog)?.[1].trim() ?? '';
  expect(notes.length).toBeGreaterThan(40);
});
