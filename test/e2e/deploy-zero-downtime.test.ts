import { jest } from '@jest/globals';
import type { StepResult } from '../harness/index.js';
import { httpGet } from '../testbed/django-app.js';
import { deployLocally, git, useStage, type DeployStage } from './deploy-world.js';

jest.setTimeout(240_000);

let stage: DeployStage;
useStage((started) => (stage = started));

const deploy = (sha: string, extra: Record<string, string> = {}): Promise<StepResult> =>
  deployLocally(stage, sha, extra);

interface Load {
  ok: number;
  failed: number;
  commits: Set<string>;
}

/**
 * Requests through nginx from a few concurrent clients while `during` runs: every answer that is not a 200 (a 502
 * from nginx while nothing listens, a reset, a timeout) counts as failed. Bounded by `during` and a hard cap.
 */
async function underLoad(during: () => Promise<StepResult>): Promise<{ load: Load; result: StepResult }> {
  const load: Load = { ok: 0, failed: 0, commits: new Set() };
  let running = true;
  const capAt = Date.now() + 180_000;
  const client = async () => {
    while (running && Date.now() < capAt) {
      try {
        const answer = await httpGet(`${stage.nginx.url}/health`, 10_000);
        if (answer.status === 200) {
          load.ok += 1;
          load.commits.add((JSON.parse(answer.body) as { commit: string }).commit);
        } else load.failed += 1;
      } catch {
        load.failed += 1;
      }
    }
  };
  const clients = Array.from({ length: 4 }, client);
  try {
    const result = await during();
    return { load, result };
  } finally {
    running = false;
    await Promise.all(clients);
  }
}

test('a HUP reload after the switch drops no request; the seeds’ supervisorctl restart does', async () => {
  const v1 = git(stage.repo, 'rev-parse', 'HEAD');
  expect((await deploy(v1)).exitCode).toBe(0);

  const v2 = git(stage.repo, 'commit-tree', '-m', 'v2', '-p', v1, `${v1}^{tree}`);
  const hup = await underLoad(() => deploy(v2, { reload: 'hup' }));
  expect(hup.result.exitCode).toBe(0);
  expect(hup.load.ok).toBeGreaterThan(20);
  // Both versions answered during the deploy, and not one request failed.
  expect([...hup.load.commits].sort()).toEqual([v1, v2].sort());
  expect(hup.load.failed).toBe(0);

  const v3 = git(stage.repo, 'commit-tree', '-m', 'v3', '-p', v2, `${v1}^{tree}`);
  const restart = await underLoad(() => deploy(v3, { reload: 'restart' }));
  expect(restart.result.exitCode).toBe(0);
  expect((await stage.health()).body?.commit).toBe(v3);
  // The same load across a restart: the socket closes while the new master boots, and requests fail.
  expect(restart.load.failed).toBeGreaterThan(0);
});
