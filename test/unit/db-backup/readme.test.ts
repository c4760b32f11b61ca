import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

interface Metadata {
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description: string }>;
  runs: { using: string; main: string };
}

function table(readme: string, heading: string): string[][] {
  const section = readme.split(`\n## ${heading}\n`)[1].split('\n## ')[0];
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) =>
      line
        .slice(2, -2)
        .split(/ \| /)
        .map((cell) => cell.trim().replace(/\\\|/g, '|')),
    );
}

describe.each(['db-backup', 'db-restore'])('%s README and action.yml', (name) => {
  const folder = new URL(`../../../actions/${name}/`, import.meta.url);
  const metadata = parse(readFileSync(new URL('action.yml', folder), 'utf8')) as Metadata;
  const readme = readFileSync(new URL('README.md', folder), 'utf8');

  test('runs on node24 from the bundle', () => {
    expect(metadata.runs).toEqual({ using: 'node24', main: `../../dist/${name}/index.js` });
  });

  test('the inputs table matches action.yml: names, order, required, defaults, descriptions', () => {
    const expected = Object.entries(metadata.inputs).map(([input, meta]) => [
      `\`${input}\``,
      meta.required ? 'yes' : 'no',
      meta.default !== undefined ? `\`${meta.default}\`` : '',
      meta.description.trim(),
    ]);
    expect(table(readme, 'Inputs')).toEqual(expected);
  });

  test('the outputs table matches action.yml', () => {
    expect(table(readme, 'Outputs')).toEqual(
      Object.entries(metadata.outputs).map(([o, meta]) => [`\`${o}\``, meta.description.trim()]),
    );
  });
});
