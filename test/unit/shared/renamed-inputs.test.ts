// One vocabulary across actions: the renamed inputs keep their old names as deprecated aliases, read through one
// shared wrapper, and each action.yml declares both sides the way the wrapper assumes.
import { jest } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { DEPLOY_RENAMED_INPUTS } from '../../../actions/deploy/inputs.js';
import { ConfigurationError } from '../../../actions/shared/errors.js';
import { InputReader } from '../../../actions/shared/inputs.js';
import {
  actionInputDefaults,
  withRenamedInputs,
  type InputDefaults,
  type RenamedInput,
} from '../../../actions/shared/renamed-inputs.js';

const RENAMES: RenamedInput[] = [
  { name: 'ssh-host', deprecated: 'hosts' },
  { name: 'ssh-port', deprecated: 'port' },
];

/** The wrapper over `values`, reading deploy's real action.yml unless `load` stands in for it. */
async function reader(values: Record<string, string>, load?: (action: string) => Promise<InputDefaults>) {
  const warnings: string[] = [];
  const source = await withRenamedInputs(
    (name) => values[name] ?? '',
    RENAMES,
    (m) => warnings.push(m),
    'deploy',
    load,
  );
  return { read: new InputReader(source), warnings };
}

describe('withRenamedInputs', () => {
  test('the old name alone works, with one warning naming the new input', async () => {
    const { read, warnings } = await reader({ hosts: 'web1, web2', 'ssh-port': '22' });
    expect(read.list('ssh-host')).toEqual(['web1', 'web2']);
    expect(read.list('ssh-host')).toEqual(['web1', 'web2']);
    expect(warnings).toEqual([
      "Input 'hosts' is deprecated: use 'ssh-host' (same meaning; the old name will be removed in the next major version).",
    ]);
  });

  test("the new name's action.yml default does not hide the old name", async () => {
    const { read, warnings } = await reader({ port: '2222', 'ssh-port': '22' });
    expect(read.integer('ssh-port')).toBe(2222);
    expect(warnings).toEqual([expect.stringContaining("Input 'port' is deprecated: use 'ssh-port'")]);
  });

  test('both names with the same value are fine (and still warn)', async () => {
    const { read, warnings } = await reader({ hosts: 'web1', 'ssh-host': ' web1 ' });
    expect(read.string('ssh-host')).toBe('web1');
    expect(warnings).toHaveLength(1);
  });

  test('both names with different values are one error naming both, without the values', async () => {
    const { read } = await reader({ hosts: 'web1', 'ssh-host': 'secret-web2' });
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

  test("the new name's default is read from the action's action.yml, not from the rename table", async () => {
    // RENAMES holds no default: ssh-port's 22 can only come from actions/deploy/action.yml.
    const { read } = await reader({ port: '2222', 'ssh-port': '22' });
    expect(read.integer('ssh-port')).toBe(2222);
    const { read: conflicting } = await reader({ port: '2222', 'ssh-port': '2200' });
    expect(() => conflicting.integer('ssh-port')).toThrow("Inputs 'port' and 'ssh-port' are both set");
  });

  test('action.yml is read only when a deprecated name is given, and then once', async () => {
    const load = jest.fn(async () => new Map([['ssh-port', '22']]) as InputDefaults);
    const current = await reader({ 'ssh-host': 'web1', 'ssh-port': '22' }, load);
    expect(current.read.string('ssh-host')).toBe('web1');
    expect(load).not.toHaveBeenCalled();
    const old = await reader({ hosts: 'web1', port: '2222', 'ssh-port': '22' }, load);
    expect([old.read.string('ssh-host'), old.read.integer('ssh-port')]).toEqual(['web1', 2222]);
    expect(load.mock.calls).toEqual([['deploy']]);
  });

  test('an action.yml that cannot be read is one error naming the deprecated input and the new one', async () => {
    const missing = async () => {
      throw new Error("ENOENT: no such file or directory, open '/x/actions/deploy/action.yml'");
    };
    const attempt = reader({ port: '2222', 'ssh-port': '22' }, missing);
    await expect(attempt).rejects.toThrow(ConfigurationError);
    await expect(attempt).rejects.toThrow(/^Input 'port' is deprecated, .*: use 'ssh-port' instead\.$/);
  });

  test('the new name alone works without a warning, and other inputs pass through', async () => {
    const { read, warnings } = await reader({ 'ssh-host': 'web1', 'ssh-port': '2200', target: ' ssh ' });
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
    '%s stays declared, deprecated and without a default; %s is declared; the table holds the names only',
    (deprecated, name, rename) => {
      expect(inputs[deprecated]?.deprecationMessage).toContain(`now ${name}`);
      expect(inputs[deprecated]).not.toHaveProperty('default');
      expect(inputs[name]).toBeDefined();
      // The default has one home, action.yml: the table repeating it is what drifted apart before.
      expect(Object.keys(rename).sort()).toEqual(['deprecated', 'name']);
    },
  );

  test('actionInputDefaults reads every default the runner fills in, as text', async () => {
    const expected = Object.entries(inputs)
      .filter(([, spec]) => spec.default !== undefined)
      .map(([name, spec]) => [name, String(spec.default)]);
    expect([...(await actionInputDefaults(action))]).toEqual(expected);
    expect(expected.length).toBeGreaterThan(0);
  });
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
