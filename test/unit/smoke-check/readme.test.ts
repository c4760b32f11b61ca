import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { PER_CHECK_INPUTS } from '../../../actions/smoke-check/inputs.js';

const folder = new URL('../../../actions/smoke-check/', import.meta.url);
const metadata = parse(readFileSync(new URL('action.yml', folder), 'utf8')) as {
  inputs: Record<string, { description: string; default?: string }>;
  outputs: Record<string, { description: string }>;
};
const readme = readFileSync(new URL('README.md', folder), 'utf8');
const oneLine = (text: string) => text.trim().replace(/\s*\n\s*/g, ' ');

function table(heading: string): string[][] {
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

describe('smoke-check README', () => {
  test('the inputs table matches action.yml: names, order, defaults, descriptions', () => {
    const expected = Object.entries(metadata.inputs).map(([name, input]) => [
      `\`${name}\``,
      input.default ? `\`${input.default}\`` : '',
      oneLine(input.description),
    ]);
    expect(table('Inputs')).toEqual(expected);
  });

  test('the outputs table matches action.yml', () => {
    const expected = Object.entries(metadata.outputs).map(([name, output]) => [
      `\`${name}\``,
      oneLine(output.description),
    ]);
    expect(table('Outputs')).toEqual(expected);
  });

  test('every per-check key is a step input too, so it has a shared default', () => {
    for (const key of PER_CHECK_INPUTS.filter((k) => k !== 'name' && k !== 'url'))
      expect(metadata.inputs).toHaveProperty([key]);
  });
});
