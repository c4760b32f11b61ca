import { jest } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { errorMessages as errors, runAction, type StepResult } from '../harness/index.js';
import { addMigration } from '../testbed/django-app.js';
import { startSshd, type SshServer } from '../testbed/sshd.js';
import { git, releaseTree, sshTargetInputs, e2eInputs, startStage, type DeployStage } from './deploy-world.js';

jest.setTimeout(180_000);

let stage: DeployStage;
let sshd: SshServer;
beforeAll(async () => {
  [stage, sshd] = await Promise.all([startStage(), startSshd()]);
}, 120_000);
afterAll(async () => {
  await Promise.all([stage?.stop(), sshd?.stop()]);
});

function deploy(
  sha: string,
  extra: Record<string, string> = {},
  options: { cancelOnLine?: RegExp } = {},
): Promise<StepResult> {
  return runAction({
    action: 'deploy',
    inputs: {
      ...sshTargetInputs(sshd),
      ...e2eInputs(stage),
      ...extra,
    },
    github: { sha, workspace: stage.repo, actor: 'octocat' },
    secrets: [new URL(stage.databaseUrl).password, sshd.privateKey.trim()],
    timeoutMs: 150_000,
    ...options,
  });
}

const listing = (): string[] => releaseTree(stage);

/** The private SSH directory of a run, from the post step's state: it must be gone once the job is over. */
function sshDirectories(result: StepResult): string[] {
  const state = result.state.deploy
    ? (JSON.parse(result.state.deploy) as { hosts: { sshDirectory?: string }[] })
    : { hosts: [] };
  return state.hosts.map((h) => h.sshDirectory).filter((d): d is string => d !== undefined);
}

describe('deploy with target ssh to a real sshd', () => {
  let first: StepResult;

  test('a host key that does not match known-hosts is refused before anything changes on the server', async () => {
    const before = listing();
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(stage.dir, 'other'), '-C', '']);
    const otherKey = fs.readFileSync(path.join(stage.dir, 'other.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
    const result = await deploy(git(stage.repo, 'rev-parse', 'HEAD'), {
      'ssh-known-hosts': `[${sshd.host}]:${sshd.port} ${otherKey}`,
    });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([
      expect.stringMatching(/SSH to .* refused: the server's host key is not the one in ssh-known-hosts/),
    ]);
    expect(listing()).toEqual(before);
    expect(result.summary).toMatch(/\| connect \| 127\.0\.0\.1 \| ❌ failed \|/);
  });

  test('a first deploy over one multiplexed connection serves the commit; the post step removes the key', async () => {
    const v1 = git(stage.repo, 'rev-parse', 'HEAD');
    first = await deploy(v1);
    expect(first.exitCode).toBe(0);
    expect((await stage.health()).body).toMatchObject({
      commit: v1,
      release: first.outputs['release-id'],
      database: 'ok',
    });
    expect(first.summary).toMatch(
      /\| connect \| 127\.0\.0\.1 \| ✅ ok \| \d+ ms \| verified against ssh-known-hosts \|/,
    );
    // The pre-migration backup ran on the server, over SSH, and stays there.
    expect(first.outputs['backup-path']).toMatch(
      new RegExp(`^${stage.deployTo}/shared/backups/ocpizza_\\d{12}_${v1.slice(0, 7)}\\.dump$`),
    );
    expect(fs.statSync(first.outputs['backup-path']).size).toBeGreaterThan(0);
    // The restore step in the outputs and the summary reaches that server with db-restore's own input names.
    expect(first.outputs['restore-command']).toContain(
      `    storage: server\n    ssh-host: ${sshd.host}\n    ssh-port: ${sshd.port}\n    ssh-user: ${sshd.user}\n`,
    );
    expect(first.post?.exitCode).toBe(0);
    const dirs = sshDirectories(first);
    expect(dirs).toHaveLength(1);
    expect(fs.existsSync(dirs[0])).toBe(false);
  });

  test('a deploy killed midway leaves the old release serving, and a re-run recovers', async () => {
    addMigration(stage.repo, 'add-field');
    const v2 = stage.commit('orders: a note');
    // Cancelled during the build on the server: the job is cancelled, the post step cleans up.
    const killed = await deploy(v2, {}, { cancelOnLine: /^::group::build \(/ });
    expect(killed.exitCode).not.toBe(0);
    expect(killed.post?.ran).toBe(true);
    expect(stage.current()).toBe(first.outputs['release-id']);
    expect(fs.existsSync(path.join(stage.deployTo, 'shared', 'maintenance.on'))).toBe(false);

    const rerun = await deploy(v2, {
      'ssh-host-fingerprint': sshd.hostKeyFingerprint,
      'ssh-known-hosts': '',
      'lock-timeout': '30s',
    });
    expect(rerun.exitCode).toBe(0);
    expect((await stage.health()).body).toMatchObject({ commit: v2, release: rerun.outputs['release-id'] });
    expect(rerun.summary).toContain(`pinned fingerprint ${sshd.hostKeyFingerprint}`);
    // The killed release never finished: the only release of v2 logged as succeeded is the re-run's, so the killed
    // one can never be chosen as a rollback target.
    const succeeded = stage
      .log()
      .filter((e) => e.commit === v2 && e.outcome === 'succeeded')
      .map((e) => e.release);
    expect([...new Set(succeeded)]).toEqual([rerun.outputs['release-id']]);
  });

  test('mode rollback switches back to the previous good release on demand', async () => {
    const result = await deploy(git(stage.repo, 'rev-parse', 'HEAD'), { mode: 'rollback' });
    expect(result.exitCode).toBe(0);
    expect(result.outputs['release-id']).toBe(first.outputs['release-id']);
    expect(result.outputs['rolled-back']).toBe('true');
    expect(stage.current()).toBe(first.outputs['release-id']);
    expect((await stage.health()).body?.release).toBe(first.outputs['release-id']);
  });

  test('the old input names still deploy, each with one warning naming its new name', async () => {
    const head = git(stage.repo, 'rev-parse', 'HEAD');
    const old = {
      target: 'ssh',
      hosts: `${sshd.host}:${sshd.port}`,
      user: sshd.user,
      'private-key': sshd.privateKey,
      'known-hosts': sshd.knownHosts,
      'expect-commit': head,
    };
    const result = await runAction({
      action: 'deploy',
      inputs: { ...old, ...e2eInputs(stage) },
      github: { sha: head, workspace: stage.repo, actor: 'octocat' },
      secrets: [new URL(stage.databaseUrl).password, sshd.privateKey.trim()],
      timeoutMs: 150_000,
    });
    expect(result.exitCode).toBe(0);
    expect((await stage.health()).body).toMatchObject({ commit: head, release: result.outputs['release-id'] });
    const warnings = result.annotations.filter((a) => a.level === 'warning').map((a) => a.message);
    for (const [from, to] of [
      ['hosts', 'ssh-host'],
      ['user', 'ssh-user'],
      ['private-key', 'ssh-private-key'],
      ['known-hosts', 'ssh-known-hosts'],
      ['expect-commit', 'expect-version'],
    ]) {
      expect(warnings.filter((w) => w.startsWith(`Input '${from}' is deprecated: use '${to}'`))).toHaveLength(1);
      expect(result.warnings).toContainEqual(expect.stringContaining(`Input '${from}' has been deprecated`));
    }
  });

  test('an old and a new name with different values is one error naming both, before anything changes', async () => {
    const before = listing();
    const result = await deploy(git(stage.repo, 'rev-parse', 'HEAD'), { hosts: 'web9.example.com' });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([
      "Inputs 'hosts' and 'ssh-host' are both set, to different values; 'hosts' is the deprecated name of 'ssh-host': keep only 'ssh-host'.",
    ]);
    expect(listing()).toEqual(before);
  });
});
