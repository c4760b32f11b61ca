// One vocabulary across actions: the renamed inputs keep their old names as deprecated aliases, read through one
// shared wrapper, and each action.yml declares both sides the way the wrapper assumes.
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { DEPLOY_RENAMED_INPUTS } from '../../../actions/deploy/inputs.js';
import { ConfigurationError } from '../../../actions/shared/errors.js';
import { InputReader } from '../../../actions/shared/inputs.js';
import { withRenamedInputs, type RenamedInput } from '../../../actions/shared/renamed-inputs.js';

const RENAMES: RenamedInput[] = [
  { name: 'ssh-host', deprecated: 'hosts' },
  { name: 'ssh-port', deprecated: 'port', default: '22' },
];

function reader(values: Record<string, string>) {
  const warnings: string[] = [];
  const source = withRenamedInputs(
    (name) => values[name] ?? '',
    RENAMES,
    (m) => warnings.push(m),
  );
  return { read: new InputReader(source), warnings };
}

describe('withRenamedInputs', () => {
  test('the old name alone works, with one warning naming the new input', () => {
    const { read, warnings } = reader({ hosts: 'web1, web2', 'ssh-port': '22' });
    expect(read.list('ssh-host')).toEqual(['web1', 'web2']);
    expect(read.list('ssh-host')).toEqual(['web1', 'web2']);
    expect(warnings).toEqual([
      "Input 'hosts' is deprecated: use 'ssh-host' (same meaning; the old name will be removed in the next major version).",
    ]);
  });

  test("the new name's action.yml default does not hide the old name", () => {
    const { read, warnings } = reader({ port: '2222', 'ssh-port': '22' });
    expect(read.integer('ssh-port')).toBe(2222);
    expect(warnings).toEqual([expect.stringContaining("Input 'port' is deprecated: use 'ssh-port'")]);
  });

  test('both names with the same value are fine (and still warn)', () => {
    const { read, warnings } = reader({ hosts: 'web1', 'ssh-host': ' web1 ' });
    expect(read.string('ssh-host')).toBe('web1');
    expect(warnings).toHaveLength(1);
  });

  test('both names with different values are one error naming both, without the values', () => {
    const { read } = reader({ hosts: 'web1', 'ssh-host': 'secret-web2' });
    expect(() => read.string('ssh-host')).toThrow(ConfigurationError);
    expect(() => read.string('ssh-host')).toThrow(
      "Inputs 'hosts' and 'ssh-host' are both set, to different values; 'hosts' is the deprecated name of 'ssh-host': keep only 'ssh-host'.",
    );
    try {
      read.string('ssh-host');
    } catch (error) {
      expect(String(error)).not.toContain('secret-web2');
    }
  });

  test('the new name alone works without a warning, and other inputs pass through', () => {
    const { read, warnings } = reader({ 'ssh-host': 'web1', 'ssh-port': '2200', target: ' ssh ' });
    expect(read.string('ssh-host')).toBe('web1');
    expect(read.integer('ssh-port')).toBe(2200);
    expect(read.string('target')).toBe('ssh');
    expect(warnings).toEqual([]);
  });
});

const actionsDir = new URL('../../../actions/', import.meta.url);
type Inputs = Record<string, { default?: unknown; deprecationMessage?: string }>;
const metadata = (name: string) =>
  (parse(readFileSync(new URL(`${name}/action.yml`, actionsDir), 'utf8')) as { inputs: Inputs }).inputs;
const TABLES: Record<string, readonly RenamedInput[]> = { deploy: DEPLOY_RENAMED_INPUTS };

describe.each(Object.entries(TABLES))('%s action.yml', (action, table) => {
  const inputs = metadata(action);

  test.each(table.map((r) => [r.deprecated, r.name, r] as const))(
    '%s stays declared, deprecated and without a default; %s carries the default the wrapper knows',
    (deprecated, name, rename) => {
      expect(inputs[deprecated]?.deprecationMessage).toContain(`now ${name}`);
      expect(inputs[deprecated]).not.toHaveProperty('default');
      expect(inputs[name]).toBeDefined();
      expect(inputs[name].default === undefined ? undefined : String(inputs[name].default)).toBe(rename.default);
    },
  );
});

test('every deprecated input of every action is in its rename table', () => {
  const actions = readdirSync(actionsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'shared')
    .map((d) => d.name);
  const deprecated = actions.flatMap((action) =>
    Object.entries(metadata(action))
      .filter(([, spec]) => spec.deprecationMessage)
      .map(([input]) => `${action} ${input}`),
  );
  const tabled = Object.entries(TABLES).flatMap(([action, table]) => table.map((r) => `${action} ${r.deprecated}`));
  expect(deprecated.sort()).toEqual(tabled.sort());
});
