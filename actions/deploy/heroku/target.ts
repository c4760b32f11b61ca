import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDatabaseUrl, type DatabaseTarget } from '../../shared/database-url.js';
import { ActionFailure, errorMessage } from '../../shared/errors.js';
import type { ProcessRunner } from '../../shared/process.js';
import type { HerokuApi } from './api.js';
import { appPath, runBuild, type HerokuBuild, type Poll } from './build.js';
import { expandAppUrl, type HerokuInputs } from './inputs.js';
import {
  decideBackup,
  decideMaintenance,
  migrationChanges,
  setMaintenance,
  type MigrationDiff,
} from './maintenance.js';
import {
  recentReleases,
  releaseCommit,
  rollBack,
  rollbackTarget,
  servingRelease,
  waitForRelease,
  type HerokuRelease,
} from './release.js';
import { packSource, uploadSource, type SourceBlob } from './source.js';
import type { BackupOutcome, HealthResult } from '../release-checks.js';
import { PhaseRecorder, type DeployReport, type DeployTarget, type PhaseLog } from '../target.js';

/** The saved-state key of the Heroku target: which apps the post step must take out of maintenance. */
export const HEROKU_STATE_KEY = 'deploy-heroku';

export interface HerokuPostState {
  apiUrl: string;
  maintenanceOn: string[];
  /** Builds still running when the state was saved: a cancelled job cancels them, so nothing is released later. */
  pendingBuilds?: { app: string; id: string }[];
}

/** The edges of a Heroku deploy, injected so the whole flow runs in-process against a stand-in. */
export interface HerokuEdges {
  api: HerokuApi;
  /** git: rev-parse, archive, diff, fetch. */
  runner: ProcessRunner;
  checkHealth(url: string, expectCommit: string, timeoutMs: number, log: (line: string) => void): Promise<HealthResult>;
  /** The db-backup code on the runner, against the database in the app's config vars. */
  backup(
    database: DatabaseTarget,
    request: { directory: string; commit: string; now: Date },
    log: (line: string) => void,
  ): Promise<BackupOutcome>;
  now(): Date;
  clock(): number;
  sleep(ms: number): Promise<void>;
  log: PhaseLog & { warning(message: string): void };
  setSecret(secret: string): void;
  saveState(state: HerokuPostState): void;
  /** Polling cadence of builds and releases (Heroku: a few seconds; tests: tens of milliseconds). */
  pollIntervalMs: number;
  buildTimeoutMs: number;
}

/** The Heroku-only outputs, next to the shared ones (a list in app order when several apps are deployed). */
export interface HerokuReport extends DeployReport {
  releaseVersion?: string;
  buildId?: string;
  previousReleaseVersion?: string;
}

interface AppState {
  name: string;
  webUrl?: string;
  configVars: Record<string, string | null>;
  serving?: HerokuRelease;
  servingCommit?: string;
  build?: HerokuBuild;
  release?: HerokuRelease;
  /** In maintenance before the deploy (an operator's doing): the deploy leaves it on. */
  maintenanceBefore?: boolean;
}

interface AppInfo {
  name: string;
  web_url: string | null;
  maintenance: boolean;
}

/** Names that must be set (non-empty) in the config vars but are not. Pure. */
export function missingConfigVars(required: string[], configVars: Record<string, string | null>): string[] {
  return required.filter(
    (name) => configVars[name] === undefined || configVars[name] === null || configVars[name] === '',
  );
}

/**
 * The parts of a config var value to mask. Values shorter than 4 characters (DEBUG=0, WEB_CONCURRENCY=2) are not:
 * a mask replaces the text everywhere in the log, and masking '0' would blank every zero. A multi-line value (a PEM
 * key) is masked line by line too, since a tool may print one line of it. Pure.
 */
export function maskableValues(value: string | null): string[] {
  if (!value || value.length < 4) return [];
  const lines = value
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length >= 4 && l !== value);
  return [value, ...lines];
}

/** Outputs for several apps: one value per app, in app order, comma-separated. Pure. */
export function perApp(values: (string | number | undefined)[]): string | undefined {
  if (values.every((v) => v === undefined)) return undefined;
  return values.map((v) => (v === undefined ? '' : String(v))).join(',');
}

/**
 * `target: heroku`: the commit built through the Platform API (no CLI, no git push), its release phase checked,
 * a pre-migration backup from the app's own DATABASE_URL, maintenance when migrations change, a health gate
 * expecting the new commit, and a rollback to the previous release when it fails.
 */
export class HerokuTarget implements DeployTarget {
  readonly name = 'heroku';
  private readonly recorder: PhaseRecorder;
  private readonly apps: AppState[];
  private readonly maintenanceOn = new Set<string>();
  private readonly report: HerokuReport;
  private tempDir?: string;
  /** The build running now, for the post step if the job is cancelled meanwhile. */
  private pendingBuild?: { app: string; id: string };
  /** Migration files differ from the serving release (or that is unknown): a rollback leaves the schema migrated. */
  private migrationsChanged = false;

  constructor(
    private readonly inputs: HerokuInputs,
    private readonly edges: HerokuEdges,
  ) {
    this.recorder = new PhaseRecorder(edges.clock, edges.log);
    this.apps = inputs.apps.map((name) => ({ name, configVars: {} }));
    this.report = this.recorder.newReport('heroku', inputs.mode);
  }

  async run(): Promise<HerokuReport> {
    try {
      if (this.inputs.mode === 'rollback') await this.rollBackOnDemand();
      else await this.deploy();
      this.report.ok = true;
    } catch (error) {
      this.report.error = errorMessage(error);
    } finally {
      await this.cleanUp();
    }
    this.report.durationMs = this.recorder.elapsed();
    return this.report;
  }

  private poll(timeoutMs = this.edges.buildTimeoutMs): Poll {
    return { intervalMs: this.edges.pollIntervalMs, timeoutMs, clock: this.edges.clock, sleep: this.edges.sleep };
  }

  private get api(): HerokuApi {
    return this.edges.api;
  }

  private info(line: string): void {
    this.edges.log.info(line);
  }

  private async deploy(): Promise<void> {
    const { inputs } = this;
    const commit = await this.recorder.run('resolve commit', 'runner', () => this.resolveCommit());
    this.report.commit = commit;
    if (inputs.appUrl) this.report.url = expandAppUrl(inputs.appUrl, inputs.apps[0]);

    for (const app of this.apps) {
      await this.recorder.run(
        'preflight',
        app.name,
        () => this.preflight(app),
        () =>
          app.serving
            ? `serving v${app.serving.version}${app.servingCommit ? ` (${app.servingCommit.slice(0, 7)})` : ''}`
            : 'no release yet',
      );
    }
    const first = this.apps[0];
    this.report.previousReleaseId = perApp(this.apps.map((a) => a.serving?.id));
    this.report.previousReleaseVersion = perApp(this.apps.map((a) => a.serving?.version));
    this.report.url ??= first.webUrl ?? undefined;

    const diff: MigrationDiff = await this.recorder.run(
      'migration check',
      'runner',
      () => migrationChanges(this.edges.runner, inputs.repository, first.servingCommit, commit),
      (d) => (d.known ? `${d.files.length} migration file(s) changed` : d.why),
    );
    this.migrationsChanged = !diff.known || diff.files.length > 0;
    const maintenance = decideMaintenance(inputs.maintenance, diff);
    const backup = decideBackup(inputs.backup, diff);

    const blob = await this.recorder.run(
      'upload source',
      'runner',
      () => this.source(commit),
      (b) => `${b.sizeBytes} bytes, ${b.checksum.slice(0, 19)}…`,
    );

    if (backup.take) {
      const outcome = await this.recorder.run(
        'backup',
        first.name,
        () => this.backup(first, commit),
        (o) => o.path,
      );
      this.report.backupPath = outcome.path;
      this.report.restoreCommand = outcome.restoreCommand;
    } else {
      this.recorder.skip('backup', first.name, backup.why);
    }

    if (maintenance.on) {
      for (const app of this.apps) {
        await this.recorder.run(
          'maintenance on',
          app.name,
          async () => {
            if (app.maintenanceBefore) return;
            // Recorded before the request: if the job is cancelled while it is in flight, the post step still turns it off.
            this.maintenanceOn.add(app.name);
            this.saveState();
            await setMaintenance(this.api, app.name, true);
          },
          () => (app.maintenanceBefore ? 'already on before the deploy: left on' : maintenance.why),
        );
      }
    } else {
      this.recorder.skip('maintenance on', first.name, maintenance.why);
    }

    try {
      for (const app of this.apps) {
        app.build = await this.recorder.run(
          'build',
          app.name,
          () => this.build(app, blob),
          (b) => `build ${b.id}`,
        );
        app.release = await this.recorder.run(
          'release phase',
          app.name,
          () => this.releasePhase(app),
          (r) => `v${r.version} ${r.status}`,
        );
      }
    } catch (error) {
      // A later app failed: the apps already released go back, so all of them serve the same code again.
      await this.rollBackAll();
      throw error;
    }
    this.report.buildId = perApp(this.apps.map((a) => a.build?.id));
    this.report.releaseId = perApp(this.apps.map((a) => a.release?.id));
    this.report.releaseVersion = perApp(this.apps.map((a) => a.release?.version));
    for (const app of this.apps) this.report.serving[app.name] = `v${app.release!.version} (${commit.slice(0, 7)})`;

    // The site comes back before the health gate: the gate must see what users will see.
    await this.maintenanceOff();

    if (inputs.healthUrl) {
      try {
        for (const app of this.apps) {
          const url = expandAppUrl(inputs.healthUrl, app.name);
          await this.recorder.run('health', app.name, async () => {
            const result = await this.edges.checkHealth(
              url,
              inputs.expectCommit ?? commit,
              inputs.healthTimeoutMs,
              (line) => this.info(line),
            );
            if (!result.ok) throw new ActionFailure(`Health check of ${url} failed on ${app.name}: ${result.reason}`);
          });
        }
      } catch (error) {
        await this.rollBackAll();
        throw error;
      }
    } else {
      this.recorder.skip('health', first.name, 'no app-url or health-url: no health gate');
    }
  }

  /** mode: rollback: each app back to the succeeded release before the one serving, then the health gate. */
  private async rollBackOnDemand(): Promise<void> {
    for (const app of this.apps) {
      await this.recorder.run('preflight', app.name, () => this.preflight(app));
      const releases = await recentReleases(this.api, app.name);
      const target = app.serving && rollbackTarget(releases, app.serving.version);
      if (!app.serving || !target) {
        throw new ActionFailure(`${app.name} has no earlier succeeded release to roll back to.`);
      }
      app.release = await this.recorder.run(
        'rollback',
        app.name,
        () => rollBack(this.api, app.name, target, (line) => this.info(line), this.poll()),
        (r) => `v${r.version} runs v${target.version}'s code`,
      );
      this.report.rolledBack = true;
      this.report.serving[app.name] = `v${app.release.version} (rollback to v${target.version})`;
      const commit = await releaseCommit(this.api, app.name, app.release);
      this.report.commit ??= commit;
      if (this.inputs.healthUrl && commit) {
        const url = expandAppUrl(this.inputs.healthUrl, app.name);
        await this.recorder.run('health', app.name, async () => {
          const result = await this.edges.checkHealth(url, commit, this.inputs.healthTimeoutMs, (line) =>
            this.info(line),
          );
          if (!result.ok)
            throw new ActionFailure(
              `Health check of ${url} failed on ${app.name} after the rollback: ${result.reason}`,
            );
        });
      }
    }
    this.report.previousReleaseId = perApp(this.apps.map((a) => a.serving?.id));
    this.report.previousReleaseVersion = perApp(this.apps.map((a) => a.serving?.version));
    this.report.releaseId = perApp(this.apps.map((a) => a.release?.id));
    this.report.releaseVersion = perApp(this.apps.map((a) => a.release?.version));
  }

  private async resolveCommit(): Promise<string> {
    const { inputs } = this;
    const result = await this.edges.runner('git', ['rev-parse', '--verify', '--quiet', `${inputs.commit}^{commit}`], {
      cwd: inputs.repository,
    });
    const sha = result.stdout.trim();
    if (result.code !== 0 || !/^[0-9a-f]{40,64}$/.test(sha)) {
      throw new ActionFailure(
        `Commit '${inputs.commit}' is not in the repository at ${inputs.repository} (check out the commit to deploy first).`,
      );
    }
    return sha;
  }

  /** The app exists and the key can reach it; its config vars (every value masked) hold what is required. */
  private async preflight(app: AppState): Promise<void> {
    const { body: info } = await this.api.get<AppInfo>(appPath(app.name));
    app.webUrl = info.web_url ?? undefined;
    const { body: vars } = await this.api.get<Record<string, string | null>>(appPath(app.name, 'config-vars'));
    app.configVars = vars ?? {};
    for (const value of Object.values(app.configVars))
      for (const secret of maskableValues(value)) this.edges.setSecret(secret);
    this.info(`Config vars of ${app.name}: ${Object.keys(app.configVars).sort().join(', ') || '(none)'}`);
    const missing = missingConfigVars(this.inputs.requiredConfigVars, app.configVars);
    if (missing.length > 0) {
      throw new ActionFailure(
        `Config vars missing on ${app.name}: ${missing.join(', ')} (set them with heroku config:set before deploying; nothing was changed).`,
      );
    }
    app.maintenanceBefore = info.maintenance;
    if (info.maintenance)
      this.edges.log.warning(
        `${app.name} is already in maintenance mode (turned on before this deploy): the deploy leaves it on; turn it off with heroku maintenance:off when the app is ready.`,
      );
    app.serving = servingRelease(await recentReleases(this.api, app.name));
    if (app.serving) app.servingCommit = await releaseCommit(this.api, app.name, app.serving);
  }

  private async source(commit: string): Promise<SourceBlob> {
    this.tempDir = mkdtempSync(join(tmpdir(), 'runbook-heroku-'));
    const packed = await packSource(
      this.edges.runner,
      this.inputs.repository,
      commit,
      this.inputs.appDirectory,
      this.tempDir,
    );
    this.info(`Packed ${commit.slice(0, 12)}: ${packed.sizeBytes} bytes, sha256 ${packed.sha256}`);
    return uploadSource(this.api, packed, commit);
  }

  private async backup(app: AppState, commit: string): Promise<BackupOutcome> {
    const name = this.inputs.databaseConfigVar;
    const url = app.configVars[name];
    if (!url) {
      throw new ActionFailure(
        `No pre-migration backup can be taken: the config var ${name} of ${app.name} is not set (set database-config-var to the right name, or backup: never to deploy without one).`,
      );
    }
    const database = parseDatabaseUrl(url, `config var ${name} of ${app.name}`, this.edges.setSecret);
    return this.edges.backup(
      database,
      { directory: this.inputs.backupDirectory, commit, now: this.edges.now() },
      (line) => this.info(line),
    );
  }

  private async build(app: AppState, blob: SourceBlob): Promise<HerokuBuild> {
    const build = await runBuild(
      this.api,
      app.name,
      blob,
      this.inputs.buildpacks,
      (line) => this.info(line),
      this.poll(),
      (created) => {
        this.info(`Build ${created.id} started on ${app.name}.`);
        this.pendingBuild = { app: app.name, id: created.id };
        this.saveState();
      },
    ).finally(() => {
      this.pendingBuild = undefined;
      this.saveState();
    });
    if (build.status !== 'succeeded') {
      throw new ActionFailure(
        `The build of ${app.name} failed (build ${build.id}; its output is in the log above). ${app.name} was not released.`,
      );
    }
    return build;
  }

  private async releasePhase(app: AppState): Promise<HerokuRelease> {
    const release = await waitForRelease(
      this.api,
      app.name,
      app.build!.release!.id,
      (line) => this.info(line),
      this.poll(),
    );
    if (release.status !== 'succeeded') {
      this.report.serving[app.name] = app.serving ? `v${app.serving.version} (unchanged)` : 'nothing';
      throw new ActionFailure(
        `The release phase of ${app.name} v${release.version} ${release.status} (manage.py migrate; its output is in the log above). Heroku keeps ${app.serving ? `v${app.serving.version}` : 'the previous release'} serving.`,
      );
    }
    return release;
  }

  /** Every app already released goes back to the release that served before this deploy. */
  private async rollBackAll(): Promise<void> {
    for (const app of this.apps) {
      if (!app.release) continue;
      const releases = await recentReleases(this.api, app.name).catch(() => [] as HerokuRelease[]);
      const target = rollbackTarget(releases, app.release.version) ?? app.serving;
      if (!target) {
        this.report.notes.push(
          `${app.name} had no earlier release to roll back to; v${app.release.version} still serves.`,
        );
        continue;
      }
      try {
        const rolled = await this.recorder.run(
          'rollback',
          app.name,
          () => rollBack(this.api, app.name, target, (line) => this.info(line), this.poll()),
          (r) => `v${r.version} runs v${target.version}'s code`,
        );
        this.report.rolledBack = true;
        this.report.serving[app.name] = `v${rolled.version} (rollback to v${target.version})`;
      } catch (error) {
        this.report.notes.push(`Rolling ${app.name} back failed: ${errorMessage(error)}`);
      }
    }
    if (this.migrationsChanged) {
      this.report.notes.push(
        this.report.backupPath
          ? 'Migrations are not reversed by a rollback: the release phase already ran them. The pre-migration backup and its restore command are below.'
          : 'Migrations are not reversed by a rollback: the release phase already ran them.',
      );
    }
  }

  private async maintenanceOff(): Promise<void> {
    for (const name of [...this.maintenanceOn]) {
      await this.recorder.run('maintenance off', name, async () => {
        await setMaintenance(this.api, name, false);
        this.maintenanceOn.delete(name);
        this.saveState();
      });
    }
  }

  private saveState(): void {
    this.edges.saveState({
      apiUrl: this.inputs.apiUrl.href,
      maintenanceOn: [...this.maintenanceOn],
      pendingBuilds: this.pendingBuild ? [this.pendingBuild] : [],
    });
  }

  /** Whatever happened: maintenance off (retried once), the tarball removed. */
  private async cleanUp(): Promise<void> {
    for (let attempt = 0; attempt < 2 && this.maintenanceOn.size > 0; attempt++) {
      try {
        await this.maintenanceOff();
      } catch (error) {
        this.edges.log.warning(`Turning maintenance off failed: ${errorMessage(error)}`);
      }
    }
    if (this.maintenanceOn.size > 0) {
      this.report.notes.push(
        `Maintenance is still on for ${[...this.maintenanceOn].join(', ')}: the post step tries again.`,
      );
    }
    if (this.tempDir) rmSync(this.tempDir, { recursive: true, force: true });
  }
}
