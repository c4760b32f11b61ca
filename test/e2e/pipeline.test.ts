// The one-line pipeline (`uses: <owner>/runbook@v1`, the composite action.yml at the repository root) run the way the
// runner runs a composite action, on a server as the seeds run it: tests under the coverage gate, deploy with target
// local, smoke check. A red coverage gate must stop the pipeline before anything on the server changes.
import { jest } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { runAction, type StepResult } from '../harness/index.js';
import { addMigration } from '../testbed/django-app.js';
import { git, e2eInputs, useStage, type DeployStage } from './deploy-world.js';

jest.setTimeout(240_000);

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Step {
  id: string;
  if: string;
  run: string;
  shell: string;
  env: Record<string, string>;
}
const rootAction = parse(fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { default?: string }>;
  outputs: Record<string, { value: string }>;
  runs: { using: string; steps: Step[] };
};

let stage: DeployStage;
useStage((started) => (stage = started));

function pipelineInputs(threshold: string): Record<string, string> {
  const server = e2eInputs(stage);
  const tests = `sqlite:///${path.join(stage.dir, 'tests.sqlite3')}`;
  return {
    'test-command': `DATABASE_URL=${tests} PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -m coverage run --branch manage.py test --noinput -v 0 && /usr/bin/python3 -m coverage xml -q -o coverage.xml`,
    'coverage-threshold': threshold,
    'deploy-target': 'local',
    'deploy-to': server['deploy-to'],
    // No PyPI here: the release virtualenv sees Debian's Django.
    python: server.python,
    'venv-args': server['venv-args'],
    'pip-args': server['pip-args'],
    'required-env': server['required-env'],
    'supervisor-program': server['supervisor-program'],
    'supervisor-config': server['supervisor-config'],
    'health-url': server['health-url'],
    'health-timeout': '30s',
    'database-url': stage.databaseUrl,
    'smoke-urls': `${stage.nginx.url}/health`,
    'smoke-version-from': 'json:$.commit',
    'smoke-deadline': '30s',
  };
}

function pipeline(sha: string, inputs: Record<string, string>): Promise<StepResult> {
  return runAction({
    action: 'runbook',
    actionDir: ROOT,
    inputs,
    github: { sha, ref: 'refs/heads/master', workspace: stage.repo, actor: 'octocat' },
    secrets: [new URL(stage.databaseUrl).password],
    timeoutMs: 220_000,
  });
}

const errors = (result: StepResult): string[] =>
  result.annotations.filter((a) => a.level === 'error').map((a) => a.message);
const outcomes = (result: StepResult): Record<string, string> =>
  Object.fromEntries((result.steps ?? []).map((s) => [s.id, s.outcome]));

function listing(dir: string): string[] {
  const walk = (d: string): string[] =>
    fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => {
      const p = path.join(d, e.name);
      return e.isDirectory() && !e.isSymbolicLink() ? [p, ...walk(p)] : [p];
    });
  return walk(dir).sort();
}

describe('the root action.yml', () => {
  const subAction = (name: string) =>
    parse(fs.readFileSync(path.join(ROOT, 'actions', name, 'action.yml'), 'utf8')) as {
      inputs: Record<string, { default?: unknown }>;
    };
  const bundles: Record<string, string> = { coverage: 'coverage-gate', deploy: 'deploy', smoke: 'smoke-check' };

  test.each(Object.entries(bundles))(
    'step %s gives %s every input that has a default there, and only inputs it declares',
    (id, name) => {
      const step = rootAction.runs.steps.find((s) => s.id === id) as Step;
      expect(step.run).toBe(`node "$GITHUB_ACTION_PATH/dist/${name}/index.js"`);
      const declared = subAction(name).inputs;
      const given = Object.keys(step.env).map((key) => key.replace(/^INPUT_/, '').toLowerCase());
      expect(given.filter((input) => !(input in declared))).toEqual([]);
      // Running the bundle directly skips the sub-action's defaults: a default missing here would reach it as ''.
      const withDefault = Object.entries(declared)
        .filter(([, spec]) => spec.default !== undefined && String(spec.default) !== '')
        .map(([input]) => input);
      expect(withDefault.filter((input) => !given.includes(input))).toEqual([]);
    },
  );

  test('values from expressions reach the scripts only through env, and each stage is gated by its key input', () => {
    expect(rootAction.runs.using).toBe('composite');
    for (const step of rootAction.runs.steps) {
      expect(step.run).not.toContain('${{');
      expect(step.shell).toBe('bash');
    }
    expect(rootAction.runs.steps.map((s) => s.if)).toEqual([
      "inputs.test-command != ''",
      "inputs.deploy-target != ''",
      "inputs.smoke-urls != ''",
    ]);
    for (const spec of Object.values(rootAction.outputs))
      expect(spec.value).toMatch(/^\$\{\{ steps\.(coverage|deploy|smoke)\.outputs\.[a-z-]+ \}\}$/);
    expect(Object.keys(rootAction.outputs).sort()).toEqual(
      ['backup-path', 'coverage', 'healthy', 'passed', 'release-id', 'rolled-back'].sort(),
    );
  });
});

describe('uses: <owner>/runbook@v1 on a server with PostgreSQL, gunicorn under supervisord and nginx', () => {
  let v1: string;
  let green: StepResult;

  test('green: the tests pass the gate, the commit is deployed and serves, the smoke check is healthy', async () => {
    v1 = git(stage.repo, 'rev-parse', 'HEAD');
    green = await pipeline(v1, pipelineInputs('90'));
    expect(errors(green)).toEqual([]);
    expect(green.exitCode).toBe(0);
    expect(outcomes(green)).toEqual({ coverage: 'success', deploy: 'success', smoke: 'success' });

    expect(green.outputs.passed).toBe('true');
    expect(Number(green.outputs.coverage)).toBeGreaterThanOrEqual(90);
    const release = green.outputs['release-id'];
    expect(release).toMatch(new RegExp(`^\\d{8}T\\d{6}Z-${v1.slice(0, 7)}$`));
    expect(green.outputs['rolled-back']).toBe('false');
    // The first deploy had every migration pending: the database was backed up before migrate.
    expect(fs.existsSync(green.outputs['backup-path'])).toBe(true);
    expect(green.outputs.healthy).toBe('true');

    expect(stage.current()).toBe(release);
    expect(await stage.health()).toMatchObject({ status: 200, body: { commit: v1, release, migrations: 'applied' } });
    expect(stage.log().map((e) => e.outcome)).toEqual(['started', 'succeeded']);
    // Each stage wrote its own job summary.
    expect(green.summary).toContain(green.outputs.coverage);
    expect(green.summary).toContain(release);
    expect(fs.existsSync(path.join(stage.deployTo, 'shared', 'maintenance.on'))).toBe(false);
  });

  test('red: coverage below the threshold fails the pipeline before the deploy, and nothing changes on the server', async () => {
    expect(green?.exitCode).toBe(0);
    const before = { current: stage.current(), files: listing(stage.deployTo), log: stage.log() };
    const added = addMigration(stage.repo, 'add-field');
    const v2 = stage.commit('orders: a note on each order');

    const red = await pipeline(v2, pipelineInputs('100'));
    expect(red.exitCode).not.toBe(0);
    expect(red.outcome).toBe('failure');
    expect(outcomes(red)).toEqual({ coverage: 'failure', deploy: 'skipped', smoke: 'skipped' });
    expect(red.outputs.passed).toBe('false');
    expect(Number(red.outputs.coverage)).toBeLessThan(100);
    expect(errors(red)).toHaveLength(1);
    expect(errors(red)[0]).toContain(red.outputs.coverage);
    expect(red.outputs['release-id']).toBe('');
    expect(red.outputs.healthy).toBe('');

    expect(stage.current()).toBe(before.current);
    expect(listing(stage.deployTo)).toEqual(before.files);
    expect(stage.log()).toEqual(before.log);
    expect(await stage.health()).toMatchObject({ status: 200, body: { commit: v1 } });
    const columns = await stage.pg.sql(
      "SELECT string_agg(column_name, ',') FROM information_schema.columns WHERE table_name = 'orders_order'",
      'ocpizza',
    );
    expect(columns).not.toContain(added.field!);
  });
});
