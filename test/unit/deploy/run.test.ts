import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deployMain } from '../../../actions/deploy/main.js';
import type { HostExecutor, ScriptOptions } from '../../../actions/deploy/server/executor.js';
import { localInputs, makeWorld, outputNames, worldIO, type World } from './world.js';

let world: World;
beforeEach(() => {
  world = makeWorld();
});
afterEach(() => world.cleanup());

describe('a local deploy, phase by phase', () => {
  test('a first deploy unpacks the commit, switches current, reloads, passes the health gate and logs success', async () => {
    const sha = world.commit(['0001_initial']);
    const { io, recorded } = worldIO(world, localInputs(world, sha));
    await deployMain(io);

    const id = recorded.outputs['release-id'];
    expect(id).toMatch(new RegExp(`^\\d{8}T\\d{6}Z-${sha.slice(0, 7)}$`));
    expect(world.current()).toBe(id);
    expect(world.read('current/REVISION')).toContain(`commit=${sha}`);
    expect(world.read('current/version.txt')).toBe('v1\n');
    // shared/.env is linked into the release, media/ created in shared and linked.
    expect(world.read('current/.env')).toContain('SECRET_KEY=abc');
    expect(world.exists('shared/media')).toBe(true);
    expect(world.read('shared/applied.txt')).toBe('0001_initial\n');
    expect(world.log().map((e) => e.outcome)).toEqual(['started', 'succeeded']);
    expect(world.exists('.deploy.lock.json')).toBe(false);
    expect(world.exists('shared/maintenance.on')).toBe(false);
    expect(readReloads()).toEqual([`${id} reloaded`]);
    expect(recorded.health).toEqual([{ url: 'http://127.0.0.1:8000/health', expect: sha }]);
    // The DATABASE_URL read from shared/.env for the backup: its password is masked before any use.
    expect(recorded.secrets).toContain('s3cret-pw');
    expect(recorded.backups).toBe(1);
    expect(Object.keys(recorded.outputs).sort()).toEqual([...outputNames].sort());
    expect(recorded.outputs['rolled-back']).toBe('false');
    expect(recorded.outputs['previous-release-id']).toBe('');
    expect(recorded.outputs.url).toBe('http://127.0.0.1:8000/');
    expect(recorded.summary).toContain('succeeded');
    expect(recorded.summary).toContain('```mermaid');
    expect(recorded.summary).not.toContain('- Migrations are not reversed');
    expect(recorded.summary).toMatch(/\| migrate \| local \| ✅ ok \|/);
  });

  test('a second deploy with a new migration backs up, migrates under maintenance, then serves the new version', async () => {
    const first = world.commit(['0001_initial']);
    const a = worldIO(world, localInputs(world, first));
    await deployMain(a.io);
    const second = world.commit(['0001_initial', '0002_note']);
    const { io, recorded } = worldIO(world, localInputs(world, second));
    await deployMain(io);

    expect(world.read('current/version.txt')).toBe('v2\n');
    expect(recorded.outputs['previous-release-id']).toBe(a.recorded.outputs['release-id']);
    expect(recorded.outputs['backup-path']).toContain(join(world.deployTo, 'shared/backups'));
    const names = recorded.groups.map((g) => g.split(' (')[0]);
    expect(names.indexOf('backup')).toBeLessThan(names.indexOf('migrate'));
    // Maintenance goes on in the migrate script and off in the switch script: no round trip of its own.
    expect(names.filter((n) => n.startsWith('maintenance'))).toEqual([]);
    expect(recorded.summary).toMatch(
      /\| migrate \| local \| ✅ ok \| \d+ ms \| maintenance turned on first, in the same script \|/,
    );
    expect(recorded.summary).toMatch(
      /\| switch \| local \| ✅ ok \| \d+ ms \| maintenance turned off after the reload, in the same script \|/,
    );
    expect(world.read('shared/migrate-log.txt')).toBe('maintenance was on\n');
    expect(world.exists('shared/maintenance.on')).toBe(false);
    // The post step is told maintenance was on, then that it is off again.
    expect(recorded.states.some((s) => s.maintenanceOn.length === 1)).toBe(true);
    expect(recorded.states.at(-1)?.maintenanceOn).toEqual([]);
  });

  test('maintenance auto: additive migrations run with the old release serving, after the backup, before the switch', async () => {
    const first = world.commit(['0001_initial']);
    await deployMain(worldIO(world, localInputs(world, first)).io);
    const second = world.commit(['0001_initial', '0002_safe_note']);
    const { io, recorded } = worldIO(world, localInputs(world, second));
    await deployMain(io);

    expect(world.read('shared/applied.txt')).toBe('0001_initial\n0002_safe_note\n');
    // Nothing migrated under maintenance: the first deploy had no old code serving, the second only a safe migration.
    expect(world.exists('shared/migrate-log.txt')).toBe(false);
    const names = recorded.groups.map((g) => g.split(' (')[0]);
    expect(names.filter((n) => n.startsWith('maintenance'))).toEqual([]);
    expect(names.indexOf('backup')).toBeLessThan(names.indexOf('migrate'));
    expect(names.indexOf('migrate')).toBeLessThan(names.indexOf('switch'));
    expect(recorded.states.every((s) => s.maintenanceOn.length === 0)).toBe(true);
    expect(recorded.summary).toContain(
      'Maintenance: off (every pending operation is safe while the serving code runs (1))',
    );
    expect(recorded.summary).toContain('| app.0002_safe_note | AddField: AddField | ✅ safe | a nullable column |');

    // One breaking operation among safe ones is enough; maintenance: false still means no maintenance.
    const third = world.commit(['0001_initial', '0002_safe_note', '0003_safe_more', '0004_backfill']);
    const breaking = worldIO(world, localInputs(world, third));
    await deployMain(breaking.io);
    expect(world.read('shared/migrate-log.txt')).toBe('maintenance was on\n');
    expect(breaking.recorded.summary).toContain(
      'Maintenance: on (breaking for the serving code: app.0004_backfill (RunSQL))',
    );
    const fourth = world.commit(['0001_initial', '0002_safe_note', '0003_safe_more', '0004_backfill', '0005_drop']);
    await deployMain(worldIO(world, localInputs(world, fourth, { maintenance: 'false' })).io);
    expect(world.read('shared/applied.txt')).toContain('0005_drop');
    expect(world.read('shared/migrate-log.txt')).toBe('maintenance was on\n');
  }, 120_000);

  test('maintenance auto: a first deploy, with nothing serving yet, migrates without maintenance and says why', async () => {
    // 0001_initial is breaking for the stand-in, as a first migration's CreateModel is not, but no code serves yet.
    const { io, recorded } = worldIO(world, localInputs(world, world.commit(['0001_initial', '0002_backfill'])));
    await deployMain(io);
    expect(world.read('shared/applied.txt')).toBe('0001_initial\n0002_backfill\n');
    expect(world.exists('shared/migrate-log.txt')).toBe(false);
    expect(recorded.states.every((s) => s.maintenanceOn.length === 0)).toBe(true);
    expect(recorded.summary).toContain(
      'Maintenance: off (first deploy: no release serves yet, so no serving code can break).',
    );
    // maintenance: true still means maintenance, first deploy or not.
    world.cleanup();
    world = makeWorld();
    const forced = worldIO(world, localInputs(world, world.commit(['0001_initial']), { maintenance: 'true' }));
    await deployMain(forced.io);
    expect(world.read('shared/migrate-log.txt')).toBe('maintenance was on\n');
    expect(world.exists('shared/maintenance.on')).toBe(false);
  });

  test('a reload that fails after a migration under maintenance: rolled back, and maintenance is not left on', async () => {
    await deployMain(worldIO(world, localInputs(world, world.commit(['0001_initial']))).io);
    const first = world.current();
    // The new release's reload fails; the old one's (the rollback) works.
    const reload = `grep -q 0002 "$RELEASE_DIR/migrations.txt" && exit 3; echo "$RELEASE_ID reloaded" >> '${world.reloads}'`;
    const { io, recorded } = worldIO(
      world,
      localInputs(world, world.commit(['0001_initial', '0002_note']), { 'reload-command': reload }),
    );
    await expect(deployMain(io)).rejects.toThrow(
      /Switching current and reloading \(command\) and turning maintenance off failed/,
    );
    expect(world.read('shared/migrate-log.txt')).toBe('maintenance was on\n');
    expect(world.current()).toBe(first);
    expect(world.exists('shared/maintenance.on')).toBe(false);
    expect(recorded.states.at(-1)?.maintenanceOn).toEqual([]);
    expect(recorded.outputs['rolled-back']).toBe('true');
  });

  test('an unchanged schema needs no backup and no maintenance', async () => {
    const sha = world.commit(['0001_initial']);
    await deployMain(worldIO(world, localInputs(world, sha)).io);
    world.commit(['0001_initial'], { 'page.txt': 'new text' });
    const { io, recorded } = worldIO(world, localInputs(world, 'HEAD'));
    await deployMain(io);
    expect(recorded.backups).toBe(0);
    expect(recorded.outputs['backup-path']).toBe('');
    expect(recorded.groups.some((g) => g.startsWith('maintenance'))).toBe(false);
    expect(recorded.summary).toMatch(/\| backup \| local \| ⏭️ skipped \| 0 ms \| no pending migration \|/);
  });

  test('a failing migration leaves the old release serving, maintenance off, the lock released and the backup reported', async () => {
    const first = world.commit(['0001_initial']);
    const a = worldIO(world, localInputs(world, first));
    await deployMain(a.io);
    const bad = world.commit(['0001_initial', '0002_fail']);
    const { io, recorded } = worldIO(world, localInputs(world, bad));

    await expect(deployMain(io)).rejects.toThrow(
      /migrate failed on local: django\.db\.utils\.ProgrammingError.*Pre-migration backup: /,
    );
    expect(world.current()).toBe(a.recorded.outputs['release-id']);
    expect(world.exists('shared/maintenance.on')).toBe(false);
    expect(world.exists('.deploy.lock.json')).toBe(false);
    expect(world.log().at(-1)).toMatchObject({ release: recorded.outputs['release-id'], outcome: 'failed' });
    expect(recorded.outputs['rolled-back']).toBe('false');
    expect(recorded.outputs['backup-path']).not.toBe('');
    expect(recorded.summary).toContain('Restore the pre-migration backup');
    expect(recorded.summary).toContain('Migrations are not reversed automatically: the pre-migration backup');
    expect(readReloads()).toHaveLength(1);
    // The lock is free: the next deploy goes through.
    const fixed = world.commit(['0001_initial']);
    await deployMain(worldIO(world, localInputs(world, fixed)).io);
    expect(world.read('current/REVISION')).toContain(fixed);
  });

  test('a failed backup stops before migrating', async () => {
    const sha = world.commit(['0001_initial']);
    const { io } = worldIO(world, localInputs(world, sha), { backupFails: true });
    await expect(deployMain(io)).rejects.toThrow(/connection refused/);
    expect(world.read('shared/applied.txt')).toBe('');
    expect(world.current()).toBeUndefined();
  });

  test('a failing health check switches back to the previous release, reloads and marks the new one rolled back', async () => {
    const first = world.commit(['0001_initial']);
    const a = worldIO(world, localInputs(world, first));
    await deployMain(a.io);
    const second = world.commit(['0001_initial']);
    const { io, recorded } = worldIO(world, localInputs(world, second), {
      health: (_w, expect) => (expect === first ? { ok: true, reason: 'healthy' } : { ok: false, reason: 'HTTP 500' }),
    });
    await expect(deployMain(io)).rejects.toThrow(
      /Health check of http:\/\/127\.0\.0\.1:8000\/health failed on local: HTTP 500\. The new release was rolled back/,
    );
    expect(world.current()).toBe(a.recorded.outputs['release-id']);
    expect(world.read('current/version.txt')).toBe('v1\n');
    expect(recorded.outputs['rolled-back']).toBe('true');
    expect(world.log().at(-1)).toMatchObject({ release: recorded.outputs['release-id'], outcome: 'rolled-back' });
    // Reloaded for the new release, then again for the old one.
    expect(readReloads()).toEqual([
      `${a.recorded.outputs['release-id']} reloaded`,
      `${recorded.outputs['release-id']} reloaded`,
      `${a.recorded.outputs['release-id']} reloaded`,
    ]);
    expect(recorded.summary).toContain('failed and was rolled back');
  });

  test('rollback-migrations migrates the listed apps back behind maintenance, the old code already in place', async () => {
    const first = world.commit(['0001_initial']);
    const a = worldIO(world, localInputs(world, first));
    await deployMain(a.io);
    const second = world.commit(['0001_initial', '0002_note']);
    const { io, recorded } = worldIO(world, localInputs(world, second, { 'rollback-migrations': 'app' }), {
      health: (_w, expect) => ({ ok: expect === first, reason: 'HTTP 500' }),
    });
    await expect(deployMain(io)).rejects.toThrow(/rolled back/);
    expect(world.read('shared/unmigrated.txt')).toBe(
      `back app 0001_initial serving releases/${a.recorded.outputs['release-id']} under maintenance\n`,
    );
    expect(recorded.summary).toContain('migrated back');
    expect(world.exists('shared/maintenance.on')).toBe(false);
  });

  test('a first deploy that fails its health check leaves no current link', async () => {
    const sha = world.commit([]);
    const { io } = worldIO(world, localInputs(world, sha), { health: () => ({ ok: false, reason: 'refused' }) });
    await expect(deployMain(io)).rejects.toThrow(/refused/);
    expect(world.current()).toBeUndefined();
  });

  test('keep-releases prunes the oldest releases, never current', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const sha = world.commit([]);
      const { io, recorded } = worldIO(world, localInputs(world, sha, { 'keep-releases': '2' }));
      await deployMain(io);
      ids.push(recorded.outputs['release-id']);
    }
    expect(world.exists(`releases/${ids[0]}`)).toBe(false);
    expect(world.exists(`releases/${ids[1]}`)).toBe(true);
    expect(world.current()).toBe(ids[2]);
  });

  test('mode rollback switches to the previous good release, skipping a failed one', async () => {
    const ids: string[] = [];
    const good = world.commit([]);
    const a = worldIO(world, localInputs(world, good));
    await deployMain(a.io);
    ids.push(a.recorded.outputs['release-id']);
    const broken = world.commit([]);
    await expect(
      deployMain(worldIO(world, localInputs(world, broken), { health: () => ({ ok: false, reason: 'down' }) }).io),
    ).rejects.toThrow();
    const latest = world.commit([]);
    const c = worldIO(world, localInputs(world, latest));
    await deployMain(c.io);

    const { io, recorded } = worldIO(world, localInputs(world, latest, { mode: 'rollback' }));
    await deployMain(io);
    expect(world.current()).toBe(ids[0]);
    expect(recorded.outputs['release-id']).toBe(ids[0]);
    expect(recorded.outputs['previous-release-id']).toBe(c.recorded.outputs['release-id']);
    expect(recorded.outputs['rolled-back']).toBe('true');
    expect(recorded.health.at(-1)?.expect).toBe(good);
    expect(
      world
        .log()
        .slice(-2)
        .map((e) => e.outcome),
    ).toEqual(['rolled-back', 'restored']);

    // Nothing older than the first release: a clear error, nothing changed.
    const again = worldIO(world, localInputs(world, latest, { mode: 'rollback' }));
    await expect(deployMain(again.io)).rejects.toThrow(/No release to roll back to on local: nothing older than/);
    expect(world.current()).toBe(ids[0]);
  });

  test('required-env names a variable missing from shared/.env before anything changes', async () => {
    const sha = world.commit([]);
    const { io } = worldIO(world, localInputs(world, sha, { 'required-env': 'SECRET_KEY, SENTRY_DSN' }));
    await expect(deployMain(io)).rejects.toThrow(/SENTRY_DSN is not set in .*shared\/\.env \(required-env\)/);
    expect(world.log()).toEqual([]);
    expect(world.current()).toBeUndefined();
  });

  test('a commit that is not in the repository fails before any release exists', async () => {
    world.commit([]);
    const { io } = worldIO(world, localInputs(world, 'deadbeefdeadbeef'));
    await expect(deployMain(io)).rejects.toThrow(/Commit 'deadbeefdeadbeef' is not in the repository/);
    expect(world.log()).toEqual([]);
  });
});

describe('the deploy lock', () => {
  test('a second deploy waits for lock-timeout, then fails naming the holder', async () => {
    const sha = world.commit([]);
    writeFileSync(join(world.deployTo, '.deploy.lock.json'), '{"pid":1,"host":"ci","deploy":{"who":"alice"}}\n');
    // Another deploy holds the flock for a few seconds.
    const holder = spawn('flock', [join(world.deployTo, '.deploy.lock'), 'sleep', '4'], { stdio: 'ignore' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    try {
      const { io } = worldIO(world, localInputs(world, sha, { 'lock-timeout': '1s' }));
      await expect(deployMain(io)).rejects.toThrow(
        /Another deploy is running on local: deploy lock still held after 1 s by: .*alice/,
      );
      expect(world.current()).toBeUndefined();
    } finally {
      holder.kill();
    }
  });

  test('a lock file left by a dead deploy is reported and taken over', async () => {
    const sha = world.commit([]);
    writeFileSync(join(world.deployTo, '.deploy.lock.json'), '{"pid":4242,"host":"runner-7","deploy":{"who":"bob"}}\n');
    const { io, recorded } = worldIO(world, localInputs(world, sha));
    await deployMain(io);
    expect(recorded.warnings.join('\n')).toMatch(/left by a deploy that died .*4242.*taken over/);
    expect(recorded.summary).toContain('taken over');
    expect(world.current()).toBe(recorded.outputs['release-id']);
  });
});

describe('round trips to the server', () => {
  /** Counts the scripts each phase runs on the host: every one is a round trip over SSH. */
  function counting(): {
    counts: Map<string, number>;
    wrap: (base: HostExecutor) => HostExecutor;
    phase: { name: string };
  } {
    const counts = new Map<string, number>();
    const phase = { name: '' };
    const wrap = (base: HostExecutor): HostExecutor =>
      Object.assign(Object.create(base) as HostExecutor, {
        run: (script: string, options?: ScriptOptions) => {
          counts.set(phase.name, (counts.get(phase.name) ?? 0) + 1);
          return base.run(script, options);
        },
      });
    return { counts, wrap, phase };
  }

  async function deployCounting(sha: string, extra: Record<string, string> = {}): Promise<Record<string, number>> {
    const { counts, wrap, phase } = counting();
    const { io } = worldIO(world, localInputs(world, sha, extra), { executor: wrap });
    const startGroup = io.startGroup;
    io.startGroup = (name) => {
      phase.name = name.split(' (')[0];
      startGroup(name);
    };
    await deployMain(io);
    return Object.fromEntries(counts);
  }

  test('a code-only release takes one round trip per phase that touches the server, six in all', async () => {
    await deployMain(worldIO(world, localInputs(world, world.commit(['0001_initial']))).io);
    const counts = await deployCounting(world.commit(['0001_initial'], { 'page.txt': 'new text' }));
    // preflight and the environment file come with the lock; the release log line with the upload; the probe
    // reads the database settings and the plan at once; switch and reload are one script; the log line and
    // pruning another.
    expect(counts).toEqual({ lock: 1, upload: 1, build: 1, plan: 1, switch: 1, prune: 1 });
  }, 120_000);

  test('a release with a breaking migration adds the backup and migrate (maintenance on and off ride along): one each', async () => {
    await deployMain(worldIO(world, localInputs(world, world.commit(['0001_initial']))).io);
    await deployMain(worldIO(world, localInputs(world, world.commit(['0001_initial'], { 'page.txt': 'v2' }))).io);
    const [oldest, previous] = readdirSync(join(world.deployTo, 'releases')).sort();
    const counts = await deployCounting(world.commit(['0001_initial', '0002_note']), { 'keep-releases': '1' });
    expect(counts).toEqual({
      lock: 1,
      upload: 1,
      build: 1,
      plan: 1,
      backup: 1,
      migrate: 1,
      switch: 1,
      prune: 1,
    });
    // keep-releases 1 pruned the oldest release in that same round trip (the one before current stays: the way back).
    expect(world.log().map((e) => e.outcome)).toEqual([
      'started',
      'succeeded',
      'started',
      'succeeded',
      'started',
      'succeeded',
    ]);
    expect(readdirSync(join(world.deployTo, 'releases')).sort()).toEqual([previous, world.current()]);
    expect(oldest).not.toBe(previous);
  }, 120_000);
});

function readReloads(): string[] {
  return existsSync(world.reloads) ? readFileSync(world.reloads, 'utf8').trim().split('\n').filter(Boolean) : [];
}
