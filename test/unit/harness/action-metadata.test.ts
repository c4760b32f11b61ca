import { inputEnvName, parseActionMetadata, resolveInputs } from '../../harness/action-metadata.js';

const yml = `
name: t
inputs:
  database-url: { required: true }
  target name: { default: here }
  retries: { default: 3 }
  verbose: { default: false }
  old: { deprecationMessage: use new }
outputs:
  out: { description: o }
runs:
  using: node24
  main: ../../dist/t/index.js
  post: ../../dist/t/post.js
`;

describe('action.yml', () => {
  test('the runner names INPUT_ variables with spaces to underscores, upper-cased, dashes kept', () => {
    expect(inputEnvName('database-url')).toBe('INPUT_DATABASE-URL');
    expect(inputEnvName('target name')).toBe('INPUT_TARGET_NAME');
  });

  test('defaults become strings; post-if defaults to always()', () => {
    const meta = parseActionMetadata(yml, '/x/actions/t/action.yml');
    expect(meta.inputs.retries.default).toBe('3');
    expect(meta.inputs.verbose.default).toBe('false');
    expect(meta.postIf).toBe('always()');
    expect(meta.post).toBe('../../dist/t/post.js');
  });

  test('a non-Node action is refused', () => {
    expect(() => parseActionMetadata('runs: { using: docker, image: x }', 'a.yml')).toThrow(/node24/);
  });

  test('defaults fill in; a missing required input and a deprecated one warn', () => {
    const meta = parseActionMetadata(yml, 'a.yml');
    const resolved = resolveInputs(meta, { OLD: 'x' }, (v) => `<${v}>`);
    expect(resolved.env).toEqual({
      INPUT_OLD: 'x',
      INPUT_TARGET_NAME: '<here>',
      INPUT_RETRIES: '<3>',
      INPUT_VERBOSE: '<false>',
    });
    expect(resolved.warnings).toEqual([
      "Input 'old' has been deprecated with message: use new",
      'Input required and not supplied: database-url',
    ]);
  });

  test('an undeclared input is an error listing the valid ones', () => {
    const meta = parseActionMetadata(yml, 'a.yml');
    expect(() => resolveInputs(meta, { databse_url: 'x' }, (v) => v)).toThrow(
      "Unexpected input(s) 'databse_url', valid inputs are ['database-url', 'target name', 'retries', 'verbose', 'old']",
    );
  });

  test('a composite action keeps its steps and output expressions; a run step needs a shell', () => {
    const composite = `
outputs:
  said: { value: '\${{ steps.say.outputs.said }}' }
runs:
  using: composite
  steps:
    - id: say
      if: inputs.x != ''
      shell: bash
      run: echo hi
      env: { A: 1 }
      continue-on-error: true
    - uses: ./other
      with: { name: n }
`;
    const meta = parseActionMetadata(composite, 'a.yml');
    expect(meta.main).toBe('');
    expect(meta.outputs.said.value).toBe('${{ steps.say.outputs.said }}');
    expect(meta.steps).toEqual([
      expect.objectContaining({
        id: 'say',
        if: "inputs.x != ''",
        shell: 'bash',
        env: { A: '1' },
        continueOnError: true,
      }),
      expect.objectContaining({ uses: './other', with: { name: 'n' }, continueOnError: false }),
    ]);
    expect(() => parseActionMetadata('runs: { using: composite, steps: [{ run: echo }] }', 'b.yml')).toThrow(
      'b.yml: runs.steps[0]: a run step in a composite action needs shell',
    );
    expect(() => parseActionMetadata('runs: { using: composite }', 'c.yml')).toThrow(/runs.steps/);
  });
});
