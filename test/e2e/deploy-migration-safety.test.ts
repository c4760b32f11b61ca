import { jest } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import type { StepResult } from '../harness/index.js';
import { addMigration, httpGet } from '../testbed/django-app.js';
import { deployLocally, git, useStage, type DeployStage } from './deploy-world.js';

/**
 * Issue 17, part 1: with `maintenance: auto`, a release whose migrations the serving code survives (a nullable
 * column) deploys without maintenance and without one failed answer; a release with a breaking one (NOT NULL with a
 * default, which Django 3.2 does not keep in the database) still gets the maintenance page, and only around its
 * migration: the old commit answers before the 503s, the new one after them.
 */

jest.setTimeout(300_000);

let stage: DeployStage;
useStage((started) => (stage = started));

interface Answer {
  /** When the request was sent (performance.now()), to order the answers of the concurrent clients. */
  at: number;
  path: string;
  status: number | 'error';
  commit?: string;
}

/** Four clients asking /health and the kitchen screen (which reads every column of orders) while `during` runs. */
async function underLoad(during: () => Promise<StepResult>): Promise<{ answers: Answer[]; result: StepResult }> {
  const answers: Answer[] = [];
  let running = true;
  const capAt = Date.now() + 240_000;
  const client = async (n: number) => {
    for (let i = n; running && Date.now() < capAt; i += 1) {
      const url = i % 2 ? '/orders/' : '/health';
      const at = performance.now();
      try {
        const answer = await httpGet(`${stage.nginx.url}${url}`, 10_000);
        const commit =
          url === '/health' && answer.status === 200
            ? (JSON.parse(answer.body) as { commit: string }).commit
            : undefined;
        answers.push({ at, path: url, status: answer.status, commit });
      } catch {
        answers.push({ at, path: url, status: 'error' });
      }
    }
  };
  const clients = [0, 1, 2, 3].map(client);
  try {
    return { answers, result: await during() };
  } finally {
    running = false;
    await Promise.all(clients);
    answers.sort((a, b) => a.at - b.at);
  }
}

const phaseNames = (summary: string) =>
  summary
    .split('\n')
    .filter((l) => /^\| [a-z ]+ \| local \|/.test(l) && !l.includes('skipped'))
    .map((l) => l.split('|')[1].trim());

const columns = async () =>
  (
    await stage.pg.sql(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'orders_order'",
      'ocpizza',
    )
  )
    .split('\n')
    .map((c) => c.trim());

test('an additive migration deploys under load with every answer a 200, without maintenance', async () => {
  const v1 = git(stage.repo, 'rev-parse', 'HEAD');
  expect((await deployLocally(stage, v1)).exitCode).toBe(0);
  await stage.pg.sql(
    "INSERT INTO stores_store (name, address, phone, opened_at) VALUES ('Lyon', '1 rue', '', '2020-01-01'); " +
      "INSERT INTO orders_order (store_id, customer_name, created_at, status, total) SELECT id, 'Ana', now(), 'pending', 12 FROM stores_store",
    'ocpizza',
  );
  expect((await httpGet(`${stage.nginx.url}/orders/`)).body).toContain('Ana');

  const added = addMigration(stage.repo, 'add-field');
  const v2 = stage.commit('orders: a note on each order (nullable)');
  const { answers, result } = await underLoad(() => deployLocally(stage, v2));
  expect(result.exitCode).toBe(0);
  expect(await columns()).toContain(added.field!);
  // Not one answer but 200, and both commits answered while the deploy ran.
  expect(answers.filter((a) => a.status !== 200)).toEqual([]);
  expect(answers.length).toBeGreaterThan(20);
  expect(new Set(answers.flatMap((a) => (a.commit ? [a.commit] : [])))).toEqual(new Set([v1, v2]));
  // The backup still came before the migration; no maintenance at all; the summary says why.
  const phases = phaseNames(result.summary);
  expect(phases.indexOf('backup')).toBeGreaterThan(-1);
  expect(phases.indexOf('backup')).toBeLessThan(phases.indexOf('migrate'));
  expect(phases).not.toContain('maintenance on');
  expect(result.summary).toContain('### Pending migrations');
  expect(result.summary).toMatch(
    /Maintenance: off \(every pending operation is safe while the serving code runs \(1\)\)/,
  );
  expect(result.summary).toMatch(
    new RegExp(
      `\\| orders\\.${added.name} \\| AddField: Add field ${added.field} to order \\| ✅ safe \\| a nullable column`,
    ),
  );
});

test('a breaking migration gets the maintenance page only around backup and migrate: the old commit before, the new after', async () => {
  const v2 = git(stage.repo, 'rev-parse', 'HEAD');
  const migrations = path.join(stage.repo, 'orders', 'migrations');
  const latest = fs
    .readdirSync(migrations)
    .filter((f) => /^\d{4}_.*\.py$/.test(f))
    .sort()
    .at(-1)!
    .replace(/\.py$/, '');
  const name = `${String(Number(latest.slice(0, 4)) + 1).padStart(4, '0')}_order_priority`;
  // What makemigrations writes for `priority = models.IntegerField(default=0)`: NOT NULL, and on Django 3.2 the
  // default is dropped from the column once it is added, so the old code's INSERTs would fail.
  fs.writeFileSync(
    path.join(migrations, `${name}.py`),
    `from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n\n    dependencies = [('orders', '${latest}')]\n\n    operations = [\n        migrations.AddField(model_name='order', name='priority', field=models.IntegerField(default=0)),\n    ]\n`,
  );
  const modelsFile = path.join(stage.repo, 'orders', 'models.py');
  fs.writeFileSync(
    modelsFile,
    fs
      .readFileSync(modelsFile, 'utf8')
      .replace(
        /^( {4})total = models\.DecimalField\(.*\)\n/m,
        (line, indent: string) => `${line}${indent}priority = models.IntegerField(default=0)\n`,
      ),
  );
  const v3 = stage.commit('orders: a priority on each order');
  const { answers, result } = await underLoad(() => deployLocally(stage, v3));
  expect(result.exitCode).toBe(0);
  expect(await columns()).toContain('priority');

  expect(answers.filter((a) => a.status !== 200 && a.status !== 503)).toEqual([]);
  const first = answers.findIndex((a) => a.status === 503);
  const last = answers.findLastIndex((a) => a.status === 503);
  expect(first).toBeGreaterThan(0);
  // Before the maintenance page only the old commit answered, after it only the new one: the flag covered the
  // migration and the switch, and nothing else.
  const commits = (from: number, to: number) =>
    new Set(answers.slice(from, to).flatMap((a) => (a.commit ? [a.commit] : [])));
  expect(commits(0, first)).toEqual(new Set([v2]));
  expect(commits(last + 1, answers.length)).toEqual(new Set([v3]));
  expect(answers.slice(first, last + 1).filter((a) => a.status === 200 && a.commit)).toEqual([]);
  const phases = phaseNames(result.summary);
  // Maintenance goes on in the migrate script, right after the backup, and off in the switch script, after the reload.
  expect(phases.slice(phases.indexOf('backup'))).toEqual(['backup', 'migrate', 'switch', 'health', 'prune']);
  expect(result.summary).toMatch(
    /\| migrate \| local \| ✅ ok \| \d+ ms \| maintenance turned on first, in the same script \|/,
  );
  expect(result.summary).toMatch(
    /\| switch \| local \| ✅ ok \| \d+ ms \| maintenance turned off after the reload, in the same script \|/,
  );
  expect(result.summary).toMatch(
    /Maintenance: on \(breaking for the serving code: orders\.\d{4}_order_priority \(AddField\)\)/,
  );
  expect(result.summary).toMatch(
    /⚠️ breaking \| NOT NULL, and Django 3\.2\.\d+ applies the default only while adding the column/,
  );
});
