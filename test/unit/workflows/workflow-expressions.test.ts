// The runner's expressions go through GitHub's own evaluator: its semantics (loose equality, case-insensitive
// strings, `&&`/`||` returning operands, functions such as format and fromJSON) come with it; the status functions
// and the implicit `success() &&` of an `if:` are ours.
import { evaluateIf, interpolateValue, type WorkflowContext } from '../../harness/workflow-expressions.js';

const context = (status: WorkflowContext['status'] = 'success'): WorkflowContext => ({
  contexts: {
    github: { ref_name: 'staging', event_name: 'push' },
    inputs: { database: 'postgresql', threshold: 90, comment: true },
    needs: { build: { result: 'success', outputs: { branch: 'Staging' } } },
    env: { PORT: '8000' },
  },
  status,
});

test('interpolation gives the string forms GitHub gives', () => {
  expect(interpolateValue('http://127.0.0.1:${{ env.PORT }}/health', context())).toBe('http://127.0.0.1:8000/health');
  expect(interpolateValue('${{ inputs.threshold }}', context())).toBe('90');
  expect(interpolateValue("${{ inputs.comment && github.event_name == 'pull_request' }}", context())).toBe('false');
  expect(interpolateValue("${{ inputs.database == 'postgresql' && 'postgres:16' || '' }}", context())).toBe(
    'postgres:16',
  );
  expect(interpolateValue("${{ format('{0}-{1}', github.ref_name, inputs.threshold) }}", context())).toBe('staging-90');
  expect(interpolateValue('${{ fromJSON(\'{"a":[1,2]}\').a[1] }}', context())).toBe('2');
  expect(interpolateValue('${{ inputs.missing }}', context())).toBe('');
  expect(interpolateValue(42, context())).toBe('42');
});

test('an if: without a status function needs success; always() and failure() do not', () => {
  expect(evaluateIf("needs.build.outputs.branch == 'staging'", context())).toBe(true); // case-insensitive
  expect(evaluateIf("needs.build.outputs.branch == 'staging'", context('failure'))).toBe(false);
  expect(evaluateIf('${{ always() }}', context('failure'))).toBe(true);
  expect(evaluateIf('failure()', context('failure'))).toBe(true);
  expect(evaluateIf('failure()', context('skipped'))).toBe(false);
  expect(evaluateIf(undefined, context('skipped'))).toBe(false);
  expect(evaluateIf(undefined, context())).toBe(true);
  expect(evaluateIf("inputs.database != 'mysql' && inputs.threshold >= 90", context())).toBe(true);
  expect(evaluateIf("''", context())).toBe(false);
});

test('an unknown context or function is an error, not an empty string', () => {
  expect(() => interpolateValue('${{ vars.X }}', context())).toThrow();
  expect(() => evaluateIf('hashFiles()', context())).toThrow();
});
