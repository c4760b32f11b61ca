import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDeployInputs } from '../../../actions/deploy/inputs.js';
import {
  chooseRollbackTarget,
  parseAppliedMigrations,
  parseReleaseLog,
  planPrune,
  releaseId,
  type ReleaseLogEntry,
} from '../../../actions/deploy/server/release.js';
import { decideMaintenance, parsePlan } from '../../../actions/deploy/server/migration-safety.js';
import * as scripts from '../../../actions/deploy/server/scripts.js';
import { mermaidTimeline, renderSummary } from '../../../actions/deploy/summary.js';
import { deployOutputs, PhaseRecorder, type DeployReport } from '../../../actions/deploy/target.js';
import { ConfigurationError } from '../../../actions/shared/errors.js';
import { actionInputs } from './world.js';

const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n';
const SSH = {
  target: 'ssh',
  'ssh-host': 'web1.example.com, 10.0.0.2:2222',
  'ssh-user': 'deploy',
  'ssh-private-key': KEY,
  'ssh-known-hosts': 'web1.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA',
  'deploy-to': '/srv/ocpizza',
  commit: '0123456789abcdef0123456789abcdef01234567',
  'supervisor-program': 'ocpizza',
};

function read(values: Record<string, string>, secrets: string[] = []) {
  return readDeployInputs(actionInputs(values), (s) => secrets.push(s), {
    GITHUB_ACTOR: 'octocat',
    GITHUB_WORKSPACE: '/w',
  });
}

describe('inputs', () => {
  test('a full ssh configuration, with action.yml defaults for the rest', () => {
    const secrets: string[] = [];
    const inputs = read({ ...SSH, 'database-url': 'postgres://app:pw%21x@db:5432/shop' }, secrets);
    expect(inputs.ssh?.hosts).toEqual([
      { host: 'web1.example.com', port: 22 },
      { host: '10.0.0.2', port: 2222 },
    ]);
    expect(inputs).toMatchObject({
      keepReleases: 5,
      reload: 'hup',
      maintenance: 'auto',
      strategy: 'rolling',
      batchSize: 1,
      lockTimeoutMs: 120_000,
    });
    expect(inputs.sharedPaths).toEqual(['.env', 'media/']);
    expect(inputs.backupDirectory).toBe('/srv/ocpizza/shared/backups');
    expect(inputs.repository).toBe('/w');
    expect(secrets).toEqual(expect.arrayContaining([KEY.trim(), 'b3BlbnNzaC1rZXktdjEAAAAA', 'pw%21x', 'pw!x']));
  });

  test.each([
    [{ 'ssh-private-key': '' }, /Input 'ssh-private-key' is required with target ssh/],
    [{ 'ssh-private-key': 'hunter2' }, /Input 'ssh-private-key' must be an OpenSSH or PEM private key/],
    [{ 'deploy-to': 'srv/app' }, /Input 'deploy-to' must be an absolute path on the server .*got 'srv\/app'/],
    [{ 'deploy-to': '/srv/../etc' }, /Input 'deploy-to' must be an absolute path/],
    [{ 'deploy-to': '/' }, /cannot be the root directory/],
    [{ reload: 'kill' }, /Input 'reload' must be one of hup, restart, command; got 'kill'/],
    [{ 'keep-releases': '0' }, /Input 'keep-releases' must be a number from 1 to 100; got '0'/],
    [{ 'ssh-host': '' }, /Input 'ssh-host' is required with target ssh/],
    [{ 'ssh-host': 'web1;rm -rf /' }, /Input 'ssh-host' must list host names/],
    [{ 'ssh-host': 'web1:99999' }, /port of 'web1:99999' must be from 1 to 65535/],
    [{ 'ssh-port': 'ssh' }, /Input 'ssh-port' must be a whole number/],
    [{ 'ssh-user': 'de ploy' }, /Input 'ssh-user' must be a user name/],
    [{ 'ssh-known-hosts': 'garbage' }, /Input 'ssh-known-hosts' must be known_hosts lines/],
    [{ 'ssh-known-hosts': '', 'ssh-host-fingerprint': 'MD5:aa' }, /Input 'ssh-host-fingerprint' must look like SHA256/],
    [{ 'ssh-known-hosts': '' }, /Host keys are verified: set 'ssh-known-hosts'/],
    [{ reload: 'command' }, /Input 'reload-command' is required with reload: command/],
    [{ 'supervisor-program': '' }, /Input 'supervisor-program' is required with reload: hup/],
    [{ 'supervisor-program': 'a b' }, /Input 'supervisor-program' must be a supervisord program name/],
    [{ 'required-env': 'OK, NOT-OK' }, /Input 'required-env' must list variable names .*got 'NOT-OK'/],
    [{ 'rollback-migrations': 'orders, 1x' }, /Input 'rollback-migrations' must list Django app labels; got '1x'/],
    [{ 'health-url': 'localhost/health' }, /Input 'health-url' must be an http\(s\) URL/],
    [{ 'health-url': 'ftp://{host}/health' }, /Input 'health-url' must be an http\(s\) URL/],
    [{ 'app-directory': '../x' }, /Input 'app-directory' must be a path inside the repository/],
    [{ 'maintenance-file': '/tmp/flag' }, /Input 'maintenance-file' must be a path relative to deploy-to/],
    [{ 'shared-paths': '.env, ../secrets' }, /Input 'shared-paths' must list paths relative to shared\//],
    [{ maintenance: 'sometimes' }, /Input 'maintenance' must be one of true, false, auto/],
    [{ 'lock-timeout': 'soon' }, /Input 'lock-timeout' must be a duration/],
    [{ commit: '' }, /Input 'commit' is required/],
    [{ commit: 'a b' }, /Input 'commit' must be a commit sha or a ref/],
    [{ target: 'fly' }, /Input 'target' must be one of ssh, local, heroku; got 'fly'/],
  ])('bad input %o is one clear error', (change, message) => {
    expect(() => read({ ...SSH, ...change })).toThrow(ConfigurationError);
    expect(() => read({ ...SSH, ...change })).toThrow(message);
  });

  test('a pinned fingerprint or an explicit accept-new replaces known-hosts; local needs no SSH input', () => {
    const fp = `SHA256:${'A'.repeat(43)}`;
    expect(read({ ...SSH, 'ssh-known-hosts': '', 'ssh-host-fingerprint': fp }).ssh?.hostFingerprint).toBe(fp);
    expect(read({ ...SSH, 'ssh-known-hosts': '', 'ssh-accept-new-host-key': 'true' }).ssh?.acceptNewHostKey).toBe(true);
    const local = read({
      target: 'local',
      'deploy-to': '/tmp/app/',
      commit: 'HEAD',
      reload: 'command',
      'reload-command': 'true',
      'backup-directory': '/var/backups',
    });
    expect(local.ssh).toBeUndefined();
    expect(local.deployTo).toBe('/tmp/app');
    expect(local.backupDirectory).toBe('/var/backups');
  });
});

describe('releases', () => {
  const entry = (release: string, outcome: ReleaseLogEntry['outcome']): ReleaseLogEntry => ({
    release,
    outcome,
    commit: 'c',
    who: 'w',
    when: 't',
  });
  const r1 = '20261101T100000Z-aaaaaaa';
  const r2 = '20261102T100000Z-bbbbbbb';
  const r3 = '20261103T100000Z-ccccccc';
  const r4 = '20261104T100000Z-ddddddd';
  const r5 = '20261105T100000Z-eeeeeee';

  test('ids sort by time and carry the short sha', () => {
    expect(releaseId(new Date('2026-11-27T13:45:01.123Z'), 'ABCDEF0123456789')).toBe('20261127T134501Z-abcdef0');
    expect(() => releaseId(new Date(), 'main')).toThrow(/hexadecimal/);
  });

  test('the log survives a torn line and keeps the last outcome of each release', () => {
    const text = [
      JSON.stringify(entry(r1, 'started')),
      JSON.stringify(entry(r1, 'succeeded')),
      '{"release":"x',
      'null',
      '',
    ].join('\n');
    expect(parseReleaseLog(text).map((e) => e.outcome)).toEqual(['started', 'succeeded']);
  });

  test('the rollback target is the newest older release that succeeded, never a failed or rolled-back one', () => {
    const log = [
      entry(r1, 'succeeded'),
      entry(r2, 'succeeded'),
      entry(r2, 'rolled-back'),
      entry(r3, 'failed'),
      entry(r4, 'succeeded'),
    ];
    expect(chooseRollbackTarget(r4, [r1, r2, r3, r4], log)).toBe(r1);
    expect(chooseRollbackTarget(r4, [r2, r3, r4], log)).toBeUndefined();
    expect(chooseRollbackTarget(undefined, [r1], [entry(r1, 'restored')])).toBe(r1);
    expect(chooseRollbackTarget(r1, [r1, 'junk'], log)).toBeUndefined();
  });

  test('pruning keeps the newest, never current nor the new release', () => {
    expect(planPrune([r1, r2, r3, r4], 2, { current: r4, deploying: r4 }, [])).toEqual([r1, r2]);
    expect(planPrune([r1, r2, r3, r4], 1, { current: r4, deploying: r1 }, [])).toEqual([r2, r3]);
    expect(planPrune([r1, r2, 'lost+found'], 5, { current: r2 }, [])).toEqual([]);
    expect(planPrune([r1, r2, r3], 1, { current: r3 }, [])).toEqual([r1, r2]);
  });

  test('pruning removes failed and rolled-back releases first and keeps the rollback target', () => {
    // Two good deploys, two that failed (one before its switch, one rolled back), then a good one.
    const log = [
      entry(r1, 'succeeded'),
      entry(r2, 'succeeded'),
      entry(r3, 'failed'),
      entry(r4, 'rolled-back'),
      entry(r5, 'succeeded'),
    ];
    expect(planPrune([r1, r2, r3, r4, r5], 2, { current: r5, deploying: r5 }, log)).toEqual([r1, r3, r4]);
    expect(chooseRollbackTarget(r5, [r2, r5], log)).toBe(r2);
    // keep-releases 1 still keeps the way back.
    expect(planPrune([r1, r2, r3, r4, r5], 1, { current: r5, deploying: r5 }, log)).toEqual([r1, r3, r4]);
    // Only failed releases over the budget are removed, oldest first.
    expect(planPrune([r1, r2, r3, r4, r5], 4, { current: r5, deploying: r5 }, log)).toEqual([r3]);
  });

  test("the migration plan is read from the probe line, and its error line fails with Django's message", () => {
    const op = {
      migration: 'orders.0004_order_note',
      operation: 'AddField',
      description: 'Add field note to order',
      verdict: 'safe',
      reason: 'a nullable column',
    };
    const line = `runbook-plan ${JSON.stringify({ pending: ['orders.0004_order_note'], operations: [op], django: '3.2.25', vendor: 'postgresql' })}`;
    expect(parsePlan(`settings printed this\n${line}\n`)).toEqual({
      pending: ['orders.0004_order_note'],
      operations: [op],
      django: '3.2.25',
      vendor: 'postgresql',
    });
    expect(() => parsePlan('runbook-plan-error "OperationalError: could not connect to server"\n')).toThrow(
      'Reading the migration plan failed: OperationalError: could not connect to server',
    );
    expect(() => parsePlan('nothing\n')).toThrow('printed no plan');
  });

  test('maintenance auto is on only when a pending operation breaks the serving code; true and false keep their meaning', () => {
    const op = (verdict: 'safe' | 'breaking', operation: string) => ({
      migration: `orders.000${operation.length}_x`,
      operation,
      description: operation,
      verdict,
      reason: '',
    });
    const none = { pending: [], operations: [] };
    const additive = { pending: ['orders.0008_x'], operations: [op('safe', 'AddField'), op('safe', 'CreateModel')] };
    const mixed = {
      pending: ['orders.0008_x', 'orders.0011_x'],
      operations: [op('safe', 'AddField'), op('breaking', 'RemoveField')],
    };
    expect(decideMaintenance('auto', none)).toEqual({ on: false, why: 'no pending migration' });
    expect(decideMaintenance('auto', additive).on).toBe(false);
    expect(decideMaintenance('auto', mixed)).toEqual({
      on: true,
      why: 'breaking for the serving code: orders.00011_x (RemoveField)',
    });
    // A first deploy: no code serves yet, so nothing can break; maintenance: true still means maintenance.
    expect(decideMaintenance('auto', mixed, false)).toEqual({
      on: false,
      why: 'first deploy: no release serves yet, so no serving code can break',
    });
    expect(decideMaintenance('true', mixed, false).on).toBe(true);
    expect(decideMaintenance('true', none).on).toBe(true);
    expect(decideMaintenance('false', mixed).on).toBe(false);
  });

  test('applied states are read from showmigrations', () => {
    expect(
      parseAppliedMigrations('orders\n [X] 0001_initial\n [X] 0002_more\n [ ] 0003_new\nstores\n (no migrations)\n'),
    ).toEqual(
      new Map([
        ['orders', '0002_more'],
        ['stores', 'zero'],
      ]),
    );
  });
});

describe('scripts', () => {
  const layout = scripts.layoutOf("/srv/o'pizza");
  const sh = (script: string) => execFileSync('bash', ['-c', `set -eu\n${script}`], { encoding: 'utf8' });

  test('no user value reaches the shell unquoted', () => {
    const evil = `$(touch /tmp/pwned-deploy) 'quote' "dq" \`tick\``;
    const dir = mkdtempSync(join(tmpdir(), 'deploy-q-'));
    try {
      const l = scripts.layoutOf(join(dir, evil));
      sh(scripts.preflightScript(l, { supervisorProgram: evil, supervisorConfig: evil }));
      sh(scripts.envFileScript(join(dir, evil, 'shared/.env')));
      sh(scripts.maintenanceOnScript(l, 'shared/maintenance.on', evil));
      expect(readFileSync(join(dir, evil, 'shared/maintenance.on'), 'utf8')).toBe(`deploying ${evil}\n`);
      sh(scripts.appendLogScript(l, [{ release: 'r', commit: evil, who: evil, when: 't', outcome: 'started' }]));
      expect(JSON.parse(readFileSync(join(dir, evil, 'releases.jsonl'), 'utf8'))).toMatchObject({ who: evil });
      expect(sh(`printf '%s\\n' ${scripts.quoteArgs(`--a ${evil}`)}`).split('\n')[1]).toBe('$(touch');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the current switch is a rename of a temporary symlink, and reload methods map to supervisorctl', () => {
    expect(scripts.switchScript(layout, 'r1')).toContain(
      `mv -T '/srv/o'\\''pizza/.current.r1' '/srv/o'\\''pizza/current'`,
    );
    expect(scripts.switchScript(layout, undefined)).toBe(`rm -f '/srv/o'\\''pizza/current'`);
    const hup = scripts.reloadScript(
      { reload: 'hup', supervisorProgram: 'web', supervisorConfig: '/etc/s.conf' },
      layout,
      'r1',
    );
    expect(hup).toContain(`supervisorctl -c '/etc/s.conf' signal HUP 'web'`);
    expect(scripts.reloadScript({ reload: 'restart', supervisorProgram: 'web' }, layout, 'r1')).toContain(
      `supervisorctl restart 'web'`,
    );
    expect(scripts.pruneScript(layout, [])).toBe('true');
  });

  test('build runs the virtualenv, pip, the build command, collectstatic and check --deploy in the release', () => {
    const script = scripts.buildScript(layout, 'r1', {
      venv: true,
      python: 'python3.11',
      venvArgs: '--system-site-packages',
      requirements: 'requirements/prod.txt',
      pipArgs: '--no-index',
      buildCommand: 'npm ci && npm run build',
      managePy: 'manage.py',
      djangoSettings: 'ocpizza.settings',
      collectstatic: true,
      checkDeploy: true,
    });
    expect(script.split('\n')).toEqual([
      `cd '/srv/o'\\''pizza/releases/r1'`,
      `export RELEASE_DIR='/srv/o'\\''pizza/releases/r1' RELEASE_ID='r1'`,
      `RELEASE_COMMIT=$(sed -n 's/^commit=//p' '/srv/o'\\''pizza/releases/r1/REVISION' 2>/dev/null || true); export RELEASE_COMMIT`,
      `export DJANGO_SETTINGS_MODULE='ocpizza.settings'`,
      `'python3.11' -m venv '--system-site-packages' venv`,
      `./venv/bin/python -m pip install --disable-pip-version-check '--no-index' -r 'requirements/prod.txt'`,
      `sh -c 'npm ci && npm run build'`,
      `./venv/bin/python 'manage.py' collectstatic --noinput`,
      `./venv/bin/python 'manage.py' check --deploy`,
    ]);
  });

  test('preflight output is parsed into facts', () => {
    expect(
      scripts.parsePreflight(
        'program STOPPED\nfree_kb 2048\ncurrent r2\nrelease r1\nrelease r2\nlog {"a":1}\nlog {"b":2}\n',
      ),
    ).toEqual({
      programState: 'STOPPED',
      freeKb: 2048,
      current: 'r2',
      releases: ['r1', 'r2'],
      log: '{"a":1}\n{"b":2}',
    });
  });
});

describe('report', () => {
  const report: DeployReport = {
    target: 'ssh',
    mode: 'deploy',
    ok: false,
    releaseId: 'r2',
    previousReleaseId: 'r1',
    commit: '0123456789abcdef',
    rolledBack: true,
    backupPath: '/srv/b.dump',
    restoreCommand: '- uses: x',
    url: 'http://web1/',
    durationMs: 12_345,
    phases: [
      { name: 'build', host: 'web1', status: 'ok', startMs: 0, durationMs: 900, detail: 'a|b' },
      { name: 'health', host: 'web1', status: 'failed', startMs: 900, durationMs: 50 },
      { name: 'migrate', host: 'web1', status: 'skipped', startMs: 950, durationMs: 0 },
    ],
    notes: ['note one'],
    error: 'health failed',
    serving: { web1: 'r1' },
  };

  test('the summary has the phases table, the timeline, the notes and the restore command', () => {
    const md = renderSummary(report);
    expect(md).toContain('failed and was rolled back');
    expect(md).toContain('| build | web1 | ✅ ok | 900 ms | a\\|b |');
    expect(md).toContain('| health | web1 | ❌ failed | 50 ms |  |');
    expect(md).toContain('| Serving on web1 | `r1` |');
    expect(md).toContain('- note one');
    expect(md).toContain('Restore the pre-migration backup');
    expect(renderSummary({ ...report, ok: true, rolledBack: false })).toContain('✅ Deploy of `r2` succeeded');
    expect(renderSummary({ ...report, rolledBack: false, releaseId: undefined, mode: 'rollback' })).toContain(
      '❌ Rollback failed',
    );
  });

  test('the timeline is a Mermaid gantt by host, failed phases critical, skipped ones left out', () => {
    expect(mermaidTimeline(report.phases).split('\n')).toEqual([
      '```mermaid',
      'gantt',
      '  title Deploy timeline',
      '  dateFormat x',
      '  axisFormat %M:%S',
      '  section web1',
      '  build : 0, 900ms',
      '  health : crit, 900, 50ms',
      '```',
    ]);
  });

  test('outputs are strings for every target', () => {
    expect(deployOutputs(report)).toEqual({
      'release-id': 'r2',
      'previous-release-id': 'r1',
      'rolled-back': 'true',
      'backup-path': '/srv/b.dump',
      'backup-sha256': '',
      'backup-size-bytes': '',
      'restore-command': '- uses: x',
      url: 'http://web1/',
      'duration-ms': '12345',
      // Heroku's own outputs are empty for a server target.
      'release-version': '',
      'build-id': '',
      'previous-release-version': '',
      'rejected-release-id': '',
      'rejected-release-version': '',
    });
  });

  test('the recorder times phases, records failures and rethrows them', async () => {
    let now = 0;
    const groups: string[] = [];
    const recorder = new PhaseRecorder(() => now, {
      startGroup: (g) => groups.push(g),
      endGroup: () => undefined,
      info: () => undefined,
    });
    await recorder.run('a', 'h', async () => {
      now += 10;
    });
    await expect(
      recorder.run('b', 'h', async () => {
        now += 5;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(recorder.phases).toEqual([
      { name: 'a', host: 'h', status: 'ok', startMs: 0, durationMs: 10, detail: undefined },
      { name: 'b', host: 'h', status: 'failed', startMs: 10, durationMs: 5, detail: 'boom' },
    ]);
    expect(groups).toEqual(['a (h)', 'b (h)']);
  });
});

describe('failure reasons', () => {
  test('the exception line of a traceback, not the SQL caret psycopg2 prints after it', async () => {
    const { failureReason } = await import('../../../actions/deploy/server/target.js');
    const traceback =
      'Traceback (most recent call last):\n  File "x"\ndjango.db.utils.ProgrammingError: relation "t" does not exist\nLINE 1: SELECT a FROM t\n                      ^\n';
    expect(failureReason({ stderr: traceback, code: 1 })).toBe(
      'django.db.utils.ProgrammingError: relation "t" does not exist',
    );
    expect(failureReason({ stderr: 'one\ntwo\n', code: 1 })).toBe('two');
    expect(failureReason({ stderr: '', code: 3 })).toBe('exit code 3');
  });
});
