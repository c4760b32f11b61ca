import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDatabaseUrl, type DatabaseTarget } from '../../shared/database-url.js';
import { ActionFailure, errorMessage } from '../../shared/errors.js';
import type { ProcessRunner } from '../../shared/process.js';
import type { HerokuApi } from './api.js';
import { appPath, runBuild, type HerokuBuild, type Poll } from './build.js';
import { secretParts } from './config-vars.js';
import { checkDynos } from './dynos.js';
import { expandAppUrl, healthUrlOf, type HerokuInputs } from './inputs.js';
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
  codeVersion,
  rollBack,
  rollbackTarget,
  servingRelease,
  waitForRelease,
  type HerokuRelease,
} from './release.js';
import { packSource, uploadSource, type SourceBlob } from './source.js';
import type { BackupOutcome, CheckHealth } from '../release-checks.js';
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
  checkHealth: CheckHealth;
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
  /** Known as soon as the build is created (the buildId output is filled even when the build fails). */
  buildId?: string;
  /** The release this run created (the build's, or a rollback's). */
  release?: HerokuRelease;
  /** The release phase of this run's release started: migrations may have run. */
  releasePhaseRan?: boolean;
  /** The release this run created and then refused: a failed release phase or a failed health gate. */
  rejected?: HerokuRelease;
  /** What serves at the end, when this run changed it. */
  servingNow?: { release: HerokuRelease; codeVersion: number };
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
    this.describeOutcome();
    this.report.durationMs = this.recorder.elapsed();
    return this.report;
  }

  /**
   * Outputs and headline say what serves at the end (the rollback release after a rejection, the old release after
   * a failed build), with the refused release apart, so a later step never takes the rejected one for the live one.
   */
  private describeOutcome(): void {
    const { report, apps } = this;
    const serving = (a: AppState) => a.servingNow?.release ?? (a.rejected ? a.serving : (a.release ?? a.serving));
    report.releaseId = perApp(apps.map((a) => serving(a)?.id));
    report.releaseVersion = perApp(apps.map((a) => serving(a)?.version));
    report.previousReleaseId = perApp(apps.map((a) => a.serving?.id));
    report.previousReleaseVersion = perApp(apps.map((a) => a.serving?.version));
    report.rejectedReleaseId = perApp(apps.map((a) => a.rejected?.id));
    report.rejectedReleaseVersion = perApp(apps.map((a) => a.rejected?.version));
    report.buildId = perApp(apps.map((a) => a.buildId));
    const many = apps.length > 1;
    const named = (pick: (a: AppState) => string | undefined) => {
      const parts = apps.flatMap((a) => {
        const text = pick(a);
        return text ? [many ? `${a.name} ${text}` : text] : [];
      });
      return parts.length > 0 ? `\`${parts.join(', ')}\`` : undefined;
    };
    const live = named((a) => {
      const release = serving(a);
      if (!release) return 'no release';
      const code =
        a.servingNow && a.servingNow.codeVersion !== release.version ? ` (v${a.servingNow.codeVersion}'s code)` : '';
      return `v${release.version}${code}`;
    });
    const rejected = named((a) => a.rejected && `v${a.rejected.version}`);
    if (report.mode === 'rollback') {
      report.headline = report.ok ? `Rollback succeeded: ${live} serves` : `Rollback failed: ${live} serves`;
    } else if (report.ok) {
      report.headline = `Deploy of ${live} succeeded`;
    } else if (rejected) {
      report.headline = report.rolledBack
        ? `Deploy of ${rejected} failed and was rolled back: ${live} serves`
        : `Deploy of ${rejected} failed: ${live} still serves`;
    } else {
      report.headline = `Deploy failed before any release: ${live} still serves`;
    }
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
      this.report.backupSha256 = outcome.sha256;
      this.report.backupSizeBytes = outcome.sizeBytes;
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
    for (const app of this.apps) this.report.serving[app.name] = `v${app.release!.version} (${commit.slice(0, 7)})`;

    // The site comes back before the health gate: the gate must see what users will see.
    await this.maintenanceOff();

    let gating: AppState | undefined;
    try {
      for (const app of this.apps) {
        gating = app;
        await this.healthGate(app, app.release!, inputs.expectCommit ?? commit, '');
      }
    } catch (error) {
      if (gating?.release) gating.rejected = gating.release;
      await this.rollBackAll();
      throw error;
    }
  }

  /**
   * The health gate of one app: through the router (the smoke-check engine on the health URL), or, while the app
   * is in maintenance, through the API, since Heroku's router then answers every request with its maintenance page
   * and a 503 says nothing about the release. A maintenance page never causes a rollback.
   */
  private async healthGate(app: AppState, release: HerokuRelease, commit: string, after: string): Promise<void> {
    const url = healthUrlOf(this.inputs, app.name, app.webUrl);
    if (!url) {
      this.recorder.skip(
        'health',
        app.name,
        'no health URL (health-path is empty and so is health-url): no health gate',
      );
      return;
    }
    if (app.maintenanceBefore) {
      await this.apiGate(app, release, 'the app was in maintenance before the deploy and stays in it');
      return;
    }
    let refused: string | undefined;
    await this.recorder.run(
      'health',
      app.name,
      async () => {
        const result = await this.edges.checkHealth(
          url,
          commit,
          this.inputs.healthTimeoutMs,
          (line) => this.info(line),
          this.inputs.healthGate,
        );
        if (result.ok) return;
        // The gate saw the maintenance page if someone (or a maintenance-off that failed) put the app back in it.
        if (await this.inMaintenance(app)) {
          refused = result.reason;
          return;
        }
        throw new ActionFailure(`Health check of ${url} failed on ${app.name}${after}: ${result.reason}`);
      },
      () => (refused ? `not judged: ${app.name} is in maintenance (${refused})` : url),
    );
    if (refused) await this.apiGate(app, release, 'the app is in maintenance mode');
  }

  private async inMaintenance(app: AppState): Promise<boolean> {
    try {
      return (await this.api.get<AppInfo>(appPath(app.name))).body.maintenance === true;
    } catch {
      return false;
    }
  }

  /** What the API can tell without the router: the release succeeded and the web dynos are up on it. */
  private async apiGate(app: AppState, release: HerokuRelease, why: string): Promise<void> {
    this.edges.log.warning(
      `${app.name}: ${why}, so the health gate cannot ask the site (Heroku's router serves the maintenance page to every request). Checked instead: the release status and the web dynos. Check the site when maintenance is turned off.`,
    );
    await this.recorder.run(
      'health (API)',
      app.name,
      async () => {
        if (release.status !== 'succeeded') {
          throw new ActionFailure(`Release v${release.version} of ${app.name} is ${release.status}.`);
        }
        return checkDynos(this.api, app.name, release.version, this.poll(this.inputs.healthTimeoutMs));
      },
      (detail) => `v${release.version} succeeded; ${detail}; the site itself was not checked (maintenance)`,
    );
    this.report.notes.push(
      `${app.name} is in maintenance mode: the health gate checked the release and its dynos through the API, not the site. Check the site when maintenance is turned off.`,
    );
  }

  /**
   * mode: rollback: each app back to the release before the code serving (never one a rollback replaced, never a
   * failed one), then the health gate on the commit that release runs.
   */
  private async rollBackOnDemand(): Promise<void> {
    for (const app of this.apps) {
      await this.recorder.run('preflight', app.name, () => this.preflight(app));
      this.report.url ??= this.publicUrl(app);
      const releases = await recentReleases(this.api, app.name);
      const target = app.serving && rollbackTarget(releases, app.serving);
      if (!app.serving || !target) {
        throw new ActionFailure(
          `${app.name} has no earlier release to roll back to (releases that failed or that a rollback replaced are never chosen; v${app.serving?.version ?? '?'} serves).`,
        );
      }
      const to = codeVersion(target, releases);
      app.release = await this.recorder.run(
        'rollback',
        app.name,
        () => rollBack(this.api, app.name, target, (line) => this.info(line), this.poll()),
        (r) => `v${r.version} runs v${to}'s code`,
      );
      app.servingNow = { release: app.release, codeVersion: to };
      this.report.rolledBack = true;
      this.report.serving[app.name] = `v${app.release.version} (rollback to v${target.version})`;
      const commit = await releaseCommit(this.api, app.name, app.release);
      this.report.commit ??= commit;
      if (commit) await this.healthGate(app, app.release, commit, ' after the rollback');
    }
  }

  /** The site's address for the `url` output: app-url, else the web_url Heroku gives the app. */
  private publicUrl(app: AppState): string | undefined {
    return this.inputs.appUrl ? expandAppUrl(this.inputs.appUrl, app.name) : app.webUrl;
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

  /** The app exists and the key can reach it; its config vars (the secret ones masked) hold what is required. */
  private async preflight(app: AppState): Promise<void> {
    const { body: info } = await this.api.get<AppInfo>(appPath(app.name));
    app.webUrl = info.web_url ?? undefined;
    const { body: vars } = await this.api.get<Record<string, string | null>>(appPath(app.name, 'config-vars'));
    app.configVars = vars ?? {};
    const secret = Object.keys(app.configVars).filter((name) => {
      const parts = secretParts(name, app.configVars[name]);
      for (const part of parts) this.edges.setSecret(part);
      return parts.length > 0;
    });
    this.info(`Config vars of ${app.name}: ${Object.keys(app.configVars).sort().join(', ') || '(none)'}`);
    if (secret.length > 0) this.info(`Masked as secrets: ${secret.sort().join(', ')}`);
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
    if (this.inputs.mode === 'deploy') this.report.url ??= this.publicUrl(app);
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
      {
        onCreated: (created) => {
          this.info(`Build ${created.id} started on ${app.name}.`);
          app.buildId = created.id;
          this.pendingBuild = { app: app.name, id: created.id };
          this.saveState();
        },
        onLost: (lost) => {
          const what = lost.found
            ? 'the build this run created was found by its source and followed: its release phase and health gate below are the ones that count'
            : 'Heroku lists no build of this source: none was created';
          this.edges.log.warning(`POST /apps/${app.name}/builds: the answer was lost (${lost.error}); ${what}.`);
          this.report.notes.push(`The answer to the build request for ${app.name} was lost (${lost.error}); ${what}.`);
        },
        now: this.edges.now,
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
    app.releasePhaseRan = true;
    const release = await waitForRelease(
      this.api,
      app.name,
      app.build!.release!.id,
      (line) => this.info(line),
      this.poll(),
    );
    if (release.status !== 'succeeded') {
      app.rejected = release;
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
      app.rejected ??= app.release;
      const releases = await recentReleases(this.api, app.name).catch(() => [] as HerokuRelease[]);
      const target = app.serving ?? rollbackTarget(releases, app.release);
      if (!target) {
        this.report.notes.push(
          `${app.name} had no earlier release to roll back to; v${app.release.version} still serves.`,
        );
        app.servingNow = { release: app.release, codeVersion: app.release.version };
        continue;
      }
      try {
        const rolled = await this.recorder.run(
          'rollback',
          app.name,
          () => rollBack(this.api, app.name, target, (line) => this.info(line), this.poll()),
          (r) => `v${r.version} runs v${target.version}'s code`,
        );
        app.servingNow = { release: rolled, codeVersion: codeVersion(target, releases) };
        this.report.rolledBack = true;
        this.report.serving[app.name] = `v${rolled.version} (rollback to v${target.version})`;
      } catch (error) {
        app.servingNow = { release: app.release, codeVersion: app.release.version };
        this.report.notes.push(`Rolling ${app.name} back failed: ${errorMessage(error)}`);
      }
    }
    this.noteMigrations();
  }

  /** Only what happened: migrations ran only where a release phase ran, and nothing reverses them. */
  private noteMigrations(): void {
    const ran = this.apps.filter((a) => a.releasePhaseRan);
    if (!this.migrationsChanged || ran.length === 0) return;
    const restore = this.report.backupPath ? ' The pre-migration backup and its restore command are below.' : '';
    const rolledBack = this.report.rolledBack
      ? ' Heroku runs the release command on a rollback too, with the older code: its migrate applies nothing new and reverses nothing.'
      : '';
    this.report.notes.push(
      `The release phase ran on ${ran.map((a) => a.name).join(', ')}: migrations it applied stay applied.${rolledBack}${restore}`,
    );
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
