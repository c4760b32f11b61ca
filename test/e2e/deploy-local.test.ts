import { jest } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { errorMessages as errors, type StepResult } from '../harness/index.js';
import { addMigration } from '../testbed/django-app.js';
import { deployLocally, git, releaseTree, useStage, type DeployStage } from './deploy-world.js';

jest.setTimeout(180_000);

let stage: DeployStage;
useStage((started) => (stage = started));

const deploy = (sha: string, extra: Record<string, string> = {}): Promise<StepResult> =>
  deployLocally(stage, sha, extra);

const listing = (): string[] => releaseTree(stage);

const orderColumns = (): Promise<string> =>
  stage.pg.sql(
    "SELECT string_agg(column_name, ',' ORDER BY column_name) FROM information_schema.columns WHERE table_name = 'orders_order'",
    'ocpizza',
  );

describe('deploy with target local against PostgreSQL, gunicorn under supervisord and nginx', () => {
  let first: StepResult;
  let second: StepResult;
  let v2: string;

  test('a first deploy builds the release, migrates and serves the commit through nginx', async () => {
    const v1 = git(stage.repo, 'rev-parse', 'HEAD');
    first = await deploy(v1);
    expect(first.exitCode).toBe(0);
    const id = first.outputs['release-id'];
    expect(id).toMatch(new RegExp(`^\\d{8}T\\d{6}Z-${v1.slice(0, 7)}$`));
    expect(stage.current()).toBe(id);
    const health = await stage.health();
    expect(health).toMatchObject({
      status: 200,
      body: { commit: v1, release: id, database: 'ok', migrations: 'applied' },
    });
    expect(await stage.pg.sql('SELECT count(*) FROM pizzas_pizza', 'ocpizza')).not.toBe('0');
    expect(stage.log().map((e) => e.outcome)).toEqual(['started', 'succeeded']);
    expect(first.summary).toContain('```mermaid');
    expect(first.summary).toMatch(/\| health \| local \| ✅ ok \|/);
    // The first deploy had every migration pending: the (empty) database was backed up first.
    expect(fs.existsSync(first.outputs['backup-path'])).toBe(true);
    expect(first.post?.ran).toBe(true);
  });

  test('a second deploy with a new migration backs up before migrating and serves the new version', async () => {
    const added = addMigration(stage.repo, 'add-field');
    v2 = stage.commit('orders: a note on each order');
    second = await deploy(v2);
    expect(second.exitCode).toBe(0);
    expect(second.outputs['previous-release-id']).toBe(first.outputs['release-id']);
    expect((await stage.health()).body).toMatchObject({
      commit: v2,
      release: second.outputs['release-id'],
      migrations: 'applied',
    });
    expect(await orderColumns()).toContain(added.field!);
    // The backup was taken before the migration: the dump does not know the new column.
    const backup = second.outputs['backup-path'];
    expect(path.basename(backup)).toContain(v2.slice(0, 7));
    const restore = path.join(stage.pg.binDir, 'pg_restore');
    const schema = execFileSync(restore, ['--schema-only', '-f', '-', backup], { encoding: 'utf8' });
    expect(schema).toContain('CREATE TABLE public.orders_order');
    expect(schema).not.toContain(added.field!);
    // A nullable column: the serving code survives it, so maintenance: auto keeps the site up (issue 17).
    expect(second.summary).not.toMatch(/\| maintenance on \|/);
    expect(second.summary).toMatch(/\| ✅ safe \| a nullable column/);
    expect(fs.existsSync(path.join(stage.deployTo, 'shared', 'maintenance.on'))).toBe(false);
  });

  test('a failing migration leaves the old release serving, maintenance off, the lock released, the backup reported', async () => {
    const migration = addMigration(stage.repo, 'failing');
    const bad = stage.commit('a migration that fails');
    let result: StepResult;
    try {
      result = await deploy(bad);
    } finally {
      fs.rmSync(migration.path);
      stage.commit('drop the failing migration');
    }
    expect(result.exitCode).not.toBe(0);
    expect(errors(result)).toHaveLength(1);
    expect(errors(result)[0]).toMatch(
      /migrate failed on local: .*runbook_table_that_does_not_exist.*Pre-migration backup: /,
    );
    expect(fs.existsSync(result.outputs['backup-path'])).toBe(true);
    expect(result.summary).toContain('Restore the pre-migration backup');
    expect(stage.current()).toBe(second.outputs['release-id']);
    const health = await stage.health();
    expect(health).toMatchObject({ status: 200, body: { commit: v2 } });
    expect(fs.existsSync(path.join(stage.deployTo, 'shared', 'maintenance.on'))).toBe(false);
    expect(fs.existsSync(path.join(stage.deployTo, '.deploy.lock.json'))).toBe(false);
    expect(stage.log().at(-1)).toMatchObject({ release: result.outputs['release-id'], outcome: 'failed' });
  });

  test('a failing health check rolls back to the release that served, which serves again', async () => {
    const v4 = git(stage.repo, 'rev-parse', 'HEAD');
    const result = await deploy(v4, { 'expect-version': '0000000', 'health-timeout': '15s' });
    expect(result.exitCode).not.toBe(0);
    expect(errors(result)[0]).toMatch(/Health check of .*\/health failed on local: .*expected 0000000.*rolled back/);
    expect(result.outputs['rolled-back']).toBe('true');
    expect(stage.current()).toBe(second.outputs['release-id']);
    // Supervisor reloaded the old release again: it answers with its own commit.
    const deadline = Date.now() + 20_000;
    let health = await stage.health();
    while (health.body?.commit !== v2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      health = await stage.health();
    }
    expect(health).toMatchObject({ status: 200, body: { commit: v2 } });
    expect(stage.log().at(-1)).toMatchObject({ release: result.outputs['release-id'], outcome: 'rolled-back' });
  });

  test('two deploys at once: one takes the lock, the other fails clearly without touching anything', async () => {
    const sha = git(stage.repo, 'rev-parse', 'HEAD');
    const [a, b] = await Promise.all([deploy(sha, { 'lock-timeout': '1s' }), deploy(sha, { 'lock-timeout': '1s' })]);
    const results = [a, b].sort((x, y) => x.exitCode - y.exitCode);
    expect(results.map((r) => r.exitCode === 0)).toEqual([true, false]);
    expect(errors(results[1])).toEqual([
      expect.stringMatching(
        /Another deploy is running on local: deploy lock still held after 1 s by: .*"who":"octocat"/,
      ),
    ]);
    expect((await stage.health()).body?.commit).toBe(sha);
    expect(stage.current()).toBe(results[0].outputs['release-id']);
  });

  test.each([
    [
      { target: 'ssh', 'ssh-host': '127.0.0.1', 'ssh-user': 'deploy', 'ssh-known-hosts': 'x ssh-ed25519 AAAA' },
      /Input 'ssh-private-key' is required with target ssh/,
    ],
    [{ 'deploy-to': 'srv/ocpizza' }, /Input 'deploy-to' must be an absolute path on the server/],
    [{ reload: 'graceful' }, /Input 'reload' must be one of hup, restart, command; got 'graceful'/],
    [{ 'keep-releases': '0' }, /Input 'keep-releases' must be a number from 1 to 100; got '0'/],
  ])('bad input %o: one clear error, nothing changed', async (change, message) => {
    const before = listing();
    const result = await deploy(git(stage.repo, 'rev-parse', 'HEAD'), change);
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringMatching(message)]);
    expect(result.log).not.toMatch(/\n\s+at /);
    expect(listing()).toEqual(before);
  });
});
