// The harness running a `using: composite` action as the runner does: expressions in if/env/with/outputs, the
// declared shell with the runner's flags, GITHUB_ACTION_PATH, no INPUT_* for run steps, a local `uses:` step, file
// and workflow commands per step, and the secrets guard over every step.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Job, SecretLeakError, runAction } from '../harness/index.js';

const ACTION = `name: composite fixture
inputs:
  greeting:
    default: hello
  fail:
    default: 'false'
  leak:
    default: ''
outputs:
  said:
    value: \${{ steps.say.outputs.said }}
  named:
    value: \${{ steps.node.outputs.name }}
  after:
    value: \${{ steps.after-failure.outputs.saw }}
runs:
  using: composite
  steps:
    - id: say
      shell: bash
      env:
        GREETING: \${{ inputs.greeting }}
        WHO: \${{ github.actor }}
      run: |
        echo "said=$GREETING $WHO" >> "$GITHUB_OUTPUT"
        echo "action path $GITHUB_ACTION_PATH"
        echo "input variable: \${INPUT_GREETING:-none}"
        echo "::notice::greeted"
        echo "## greeted $WHO" >> "$GITHUB_STEP_SUMMARY"
        echo "FROM_COMPOSITE=yes" >> "$GITHUB_ENV"
    - shell: sh
      working-directory: sub
      run: echo "sh in $(basename "$PWD") sees FROM_COMPOSITE=$FROM_COMPOSITE"
    - id: boom
      if: inputs.fail == 'true'
      shell: bash
      run: |
        false | true
        echo "pipefail did not stop the script"
    - id: after-boom
      shell: bash
      run: echo "after boom"
    - id: after-failure
      if: failure()
      shell: bash
      run: echo "saw=\${{ steps.boom.outcome }}" >> "$GITHUB_OUTPUT"
    - id: node
      uses: ./node-action
      with:
        name: \${{ steps.say.outputs.said }}
    - if: inputs.leak != ''
      shell: bash
      env:
        LEAK: \${{ inputs.leak }}
      run: echo "the value is $LEAK"
`;

const NODE_ACTION = `name: node fixture
inputs:
  name:
    required: true
runs:
  using: node24
  main: index.mjs
`;
const NODE_MAIN = `import { appendFileSync } from 'node:fs';
appendFileSync(process.env.GITHUB_OUTPUT, 'name=' + process.env.INPUT_NAME + '!\\n');
`;

let dir: string;
let actionDir: string;
let workspace: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runbook-composite-'));
  actionDir = path.join(dir, 'action');
  workspace = path.join(dir, 'workspace');
  fs.mkdirSync(actionDir);
  fs.mkdirSync(path.join(workspace, 'sub'), { recursive: true });
  fs.mkdirSync(path.join(workspace, 'node-action'));
  fs.writeFileSync(path.join(actionDir, 'action.yml'), ACTION);
  fs.writeFileSync(path.join(workspace, 'node-action', 'action.yml'), NODE_ACTION);
  fs.writeFileSync(path.join(workspace, 'node-action', 'index.mjs'), NODE_MAIN);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const run = (inputs: Record<string, string>, secrets: string[] = []) =>
  runAction({ action: 'composite', actionDir, inputs, secrets, github: { workspace, actor: 'ada' } });

test('steps run in order with their expressions, shells and file commands; outputs map from the steps', async () => {
  const result = await run({ greeting: 'bonjour' });
  expect(result.exitCode).toBe(0);
  expect(result.outcome).toBe('success');
  expect(result.steps?.map((s) => [s.id, s.outcome])).toEqual([
    ['say', 'success'],
    ['__run_2', 'success'],
    ['boom', 'skipped'],
    ['after-boom', 'success'],
    ['after-failure', 'skipped'],
    ['node', 'success'],
    ['__run_7', 'skipped'],
  ]);
  expect(result.outputs).toEqual({ said: 'bonjour ada', named: 'bonjour ada!', after: '' });
  expect(result.log).toContain(`action path ${actionDir}`);
  // The runner gives composite run steps no INPUT_* variables (actions/runner#665).
  expect(result.log).toContain('input variable: none');
  expect(result.log).toContain('sh in sub sees FROM_COMPOSITE=yes');
  expect(result.annotations).toEqual([{ level: 'notice', message: 'greeted', properties: {} }]);
  expect(result.summary).toContain('## greeted ada');
  expect(result.env).toEqual({ FROM_COMPOSITE: 'yes' });
});

test('a failing step (pipefail) skips the success() steps after it, runs failure() ones, and fails the step', async () => {
  const job = new Job({ github: { workspace, actor: 'ada' } });
  try {
    const result = await job.step('pipeline', { action: 'composite', actionDir, inputs: { fail: 'true' } });
    expect(result.exitCode).toBe(1);
    expect(result.outcome).toBe('failure');
    expect(result.log).not.toContain('pipefail did not stop the script');
    expect(Object.fromEntries((result.steps ?? []).map((s) => [s.id, s.outcome]))).toMatchObject({
      boom: 'failure',
      'after-boom': 'skipped',
      'after-failure': 'success',
      node: 'skipped',
    });
    expect(result.outputs.after).toBe('failure');
    expect(job.status).toBe('failure');
    expect(job.steps.pipeline.outputs.said).toBe('hello ada');
  } finally {
    job.dispose();
  }
});

test('a declared secret printed by a composite step is a leak', async () => {
  await expect(run({ leak: 'hunter2-composite-secret' }, ['hunter2-composite-secret'])).rejects.toThrow(
    SecretLeakError,
  );
});

// actions/runner ADR 1438: a composite's main steps judge success()/failure() on the action's own status, which
// starts as success whatever the job's is; only its own steps can fail it.
test('a composite run under always() after a failed step succeeds when its own steps pass', async () => {
  const job = new Job({ github: { workspace, actor: 'ada' } });
  try {
    const failed = await job.step('first', { action: 'composite', actionDir, inputs: { fail: 'true' } });
    expect(failed.outcome).toBe('failure');
    const result = await job.step('cleanup', { action: 'composite', actionDir, inputs: {}, if: 'always()' });
    expect(result.outcome).toBe('success');
    expect(result.exitCode).toBe(0);
    expect(Object.fromEntries((result.steps ?? []).map((s) => [s.id, s.outcome]))).toMatchObject({
      say: 'success',
      'after-boom': 'success',
      'after-failure': 'skipped',
      node: 'success',
    });
    expect(job.steps.cleanup.outcome).toBe('success');
    expect(job.status).toBe('failure');
  } finally {
    job.dispose();
  }
});
