import { PassThrough, Writable, type Readable } from 'node:stream';
import { parseDatabaseUrl, type DatabaseTarget } from '../../shared/database-url.js';
import { ActionFailure, errorMessage } from '../../shared/errors.js';
import { lastErrorLine } from '../../shared/process.js';
import { checkAppDatabase, describeAppDatabase, parseProbe, type AppDatabase } from './app-database.js';
import { maskEnvFile, parseEnvFile, type EnvironmentFile } from './env-file.js';
import type { HostExecutor, ScriptResult } from './executor.js';
import type { DeployInputs, HostAddress } from '../inputs.js';
import {
  chooseRollbackTarget,
  isReleaseId,
  parseAppliedMigrations,
  parseReleaseLog,
  planPrune,
  releaseId,
  type ReleaseLogEntry,
  type ReleaseOutcome,
} from './release.js';
import { decideMaintenance, parsePlan, type MigrationPlan } from './migration-safety.js';
import * as scripts from './scripts.js';
import type { BackupOutcome, CheckHealth } from '../release-checks.js';
import { PhaseRecorder, type DeployReport, type DeployTarget, type PhaseLog } from '../target.js';

export interface BackupRequest {
  database: DatabaseTarget;
  directory: string;
  commit: string;
  releaseId: string;
  now: Date;
}

/** The saved-state key shared by the main and post steps. */
export const STATE_KEY = 'deploy';

/** What the post step needs if the main step dies: the SSH directories, and where maintenance may be left on. */
export interface PostState {
  hosts: { label: string; sshDirectory?: string; ssh?: { host: string; port: number; user: string } }[];
  /** Labels of hosts whose maintenance flag is on right now, and the script that turns it off. */
  maintenanceOn: string[];
  maintenanceOffScript: string;
}

/** The edges of a server deploy, injected so the whole flow runs in-process in tests with fakes. */
export interface ServerEdges {
  /** Opens a host (verifying its key for ssh); `undefined` is the runner itself (target local). */
  openHost(address: HostAddress | undefined): Promise<HostExecutor>;
  resolveCommit(repository: string, commit: string): Promise<string>;
  /** `git archive` of the commit (the app directory only), as a tar stream. */
  archive(repository: string, commit: string, appDirectory: string): Readable;
  checkHealth: CheckHealth;
  backup(executor: HostExecutor, request: BackupRequest, log: (line: string) => void): Promise<BackupOutcome>;
  now(): Date;
  clock(): number;
  sleep(ms: number): Promise<void>;
  log: PhaseLog & { warning(message: string): void };
  setSecret(secret: string): void;
  saveState(state: PostState): void;
  token(): string;
  /** How long a HUP reload waits at least for gunicorn's old workers (scripts.RELOAD_WAIT_SECONDS by default). */
  reloadWaitSeconds?: number;
}

interface Host {
  address?: HostAddress;
  /** For the summary: 'local' or the host name. */
  name: string;
  executor: HostExecutor;
  facts: scripts.PreflightFacts;
  /** The app's environment file, given to every manage.py command (empty when there is none). */
  env: EnvironmentFile;
  releaseLock?: () => Promise<void>;
  /** `current` before this deploy changed it. */
  previous?: string;
  switched: boolean;
}

/** Runs a script and throws an ActionFailure naming the phase, the host and the tool's last error line. */
async function must(
  host: Host,
  script: string,
  what: string,
  log: PhaseLog,
  options: { stdin?: Readable; env?: boolean } = {},
): Promise<ScriptResult> {
  const result = await host.executor.run(script, {
    stdin: options.stdin,
    secrets: options.env && Object.keys(host.env).length > 0 ? host.env : undefined,
  });
  if (result.stdout.trim()) log.info(result.stdout.trimEnd());
  if (result.code !== 0) {
    if (result.stderr.trim()) log.info(result.stderr.trimEnd());
    throw new ActionFailure(`${what} failed on ${host.name}: ${failureReason(result)}`);
  }
  return result;
}

/**
 * The line that says what went wrong: a Python traceback ends with the exception (but psycopg2 adds the SQL and a
 * caret after it), tools print `error:`; otherwise the last line.
 */
export function failureReason(result: Pick<ScriptResult, 'stderr' | 'code'>): string {
  const lines = result.stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const named = lines.findLast((l) => /^[A-Za-z_][\w.]*(Error|Exception|Failure)\b|\berror:|^ERROR\b|^fatal:/i.test(l));
  return named ?? lines.at(-1) ?? `exit code ${result.code}`;
}

const SILENT: PhaseLog = { info: () => undefined, startGroup: () => undefined, endGroup: () => undefined };

function chunk<T>(items: T[], size: number): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  return batches;
}

/** The deploy to one or more servers over SSH, or to this machine (target local): the same release logic. */
export class ServerTarget implements DeployTarget {
  readonly name: string;
  private readonly layout: scripts.Layout;
  private readonly recorder: PhaseRecorder;
  private readonly hosts: Host[] = [];
  private readonly report: DeployReport;
  private maintenanceOn = new Set<Host>();
  /** Set once migrate starts: a failure after it leaves the schema migrated (or partly), which the report says. */
  private migrationsStarted = false;
  private startedAt: Date;

  constructor(
    private readonly inputs: DeployInputs,
    private readonly edges: ServerEdges,
  ) {
    this.name = inputs.target;
    this.layout = scripts.layoutOf(inputs.deployTo);
    this.recorder = new PhaseRecorder(edges.clock, edges.log);
    this.startedAt = edges.now();
    this.report = this.recorder.newReport(inputs.target, inputs.mode);
  }

  private get log(): PhaseLog & { warning(message: string): void } {
    return this.edges.log;
  }

  private phase<T>(
    name: string,
    host: Host,
    body: () => Promise<T>,
    detail?: (value: T) => string | undefined,
  ): Promise<T> {
    return this.recorder.run(name, host.name, body, detail);
  }

  /** Runs `body` on each host: one after the other, or all at once; the first failure is rethrown after all settle. */
  private async each(hosts: Host[], parallel: boolean, body: (host: Host) => Promise<void>): Promise<void> {
    if (!parallel) {
      for (const host of hosts) await body(host);
      return;
    }
    const results = await Promise.allSettled(hosts.map(body));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async run(): Promise<DeployReport> {
    try {
      await this.connect();
      if (this.inputs.mode === 'rollback') await this.rollbackOnDemand();
      else await this.deploy();
      this.report.ok = true;
    } catch (error) {
      this.report.error = errorMessage(error);
      if (this.migrationsStarted && this.inputs.rollbackMigrations.length === 0) {
        this.report.notes.push(
          this.report.restoreCommand
            ? 'Migrations are not reversed automatically: the pre-migration backup and its restore command are below.'
            : 'Migrations are not reversed automatically, and no pre-migration backup was taken (backup: never).',
        );
      }
    } finally {
      await this.finish();
    }
    this.report.durationMs = this.recorder.elapsed();
    return this.report;
  }

  private saveState(): void {
    this.edges.saveState({
      hosts: this.hosts.map((h) => h.executor.postState()),
      maintenanceOn: this.hosts.filter((h) => this.maintenanceOn.has(h)).map((h) => h.executor.label),
      maintenanceOffScript: scripts.maintenanceOffScript(this.layout, this.inputs.maintenanceFile),
    });
  }

  /** Connects every host (host keys verified) and takes every lock before anything changes anywhere. */
  private async connect(): Promise<void> {
    const addresses: (HostAddress | undefined)[] = this.inputs.ssh?.hosts ?? [undefined];
    for (const address of addresses) {
      const name = address ? address.host : 'local';
      const placeholder = { name } as Host;
      const executor = await this.phase(
        'connect',
        placeholder,
        () => this.edges.openHost(address),
        (e) => e.hostKeyPolicy,
      );
      this.hosts.push({ address, name, executor, facts: { releases: [], log: '' }, env: {}, switched: false });
      this.saveState();
    }
    const policies = new Set(this.hosts.map((h) => h.executor.hostKeyPolicy).filter((p) => p !== undefined));
    for (const policy of policies) {
      if (policy.startsWith('accept-new')) this.report.notes.push(`SSH host keys: ${policy}.`);
    }
    const underLock = new Map<Host, string>();
    for (const host of this.hosts)
      await this.phase(
        'lock',
        host,
        async () => {
          const { stale, output } = await this.lock(host);
          underLock.set(host, output);
          return stale;
        },
        (stale) => stale ?? 'preflight read under the lock',
      );
    for (const host of this.hosts) {
      host.facts = await this.phase(
        'preflight',
        host,
        () => this.preflight(host, underLock.get(host) ?? ''),
        (f) => (f.current ? `serving ${f.current}` : 'nothing deployed yet'),
      );
      host.previous = host.facts.current;
      if (host.previous) this.report.serving[host.name] = host.previous;
    }
  }

  /** Takes the lock; the holder also runs preflight and reads the environment file (its output, not logged). */
  private async lock(host: Host): Promise<{ stale?: string; output: string }> {
    const token = this.edges.token();
    const info = { token, who: this.inputs.actor, since: this.startedAt.toISOString(), commit: this.inputs.commit };
    const stdin = new PassThrough();
    let output = '';
    let acquired: () => void = () => undefined;
    const seen = new Promise<'acquired'>((resolve) => (acquired = () => resolve('acquired')));
    // The holder says itself when it holds the lock: no status command polled over the connection.
    const stdout = new Writable({
      write(chunk: Buffer, _encoding, done) {
        output += chunk.toString('utf8');
        if (output.split('\n').includes(scripts.LOCK_ACQUIRED)) acquired();
        done();
      },
    });
    const program = this.inputs.reload === 'command' ? undefined : this.inputs;
    const underLock = scripts.underLockScript(this.layout, program, this.envFilePath());
    const holder = host.executor.run(
      scripts.lockHolderScript(this.layout, this.inputs.lockTimeoutMs / 1000, info, underLock),
      {
        stdin,
        stdoutStream: stdout,
      },
    );
    // Bounded: the holder itself gives up after lock-timeout; this allows for a slow connection on top.
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.inputs.lockTimeoutMs + 30_000);
    });
    let first: 'acquired' | 'timeout' | ScriptResult;
    try {
      first = await Promise.race([seen, holder, deadline]);
    } finally {
      clearTimeout(timer);
    }
    if (first === 'timeout') {
      stdin.end();
      throw new ActionFailure(`Timed out taking the deploy lock on ${host.name}.`);
    }
    if (first !== 'acquired') {
      stdin.end();
      const why = lastErrorLine(first.stderr) || `exit code ${first.code}`;
      throw new ActionFailure(
        first.code === 75
          ? `Another deploy is running on ${host.name}: ${why}`
          : `Could not take the deploy lock on ${host.name}: ${why}`,
      );
    }
    host.releaseLock = async () => {
      stdin.end();
      await holder;
    };
    const stale = scripts.parseLockStale(output);
    if (stale) {
      const note = `A deploy lock left by a deploy that died was found on ${host.name} (${stale}): reported, taken over.`;
      this.report.notes.push(note);
      this.log.warning(note);
      return { stale: 'stale lock taken over', output };
    }
    return { output };
  }

  private async preflight(host: Host, underLock: string): Promise<scripts.PreflightFacts> {
    const read = scripts.parseUnderLock(underLock);
    if (read.failed) throw new ActionFailure(`Preflight failed on ${host.name}: ${read.failed}`);
    if (read.preflight.trim()) this.log.info(read.preflight.trimEnd());
    const facts = scripts.parsePreflight(read.preflight);
    host.env = this.readEnvFile(host, read.env);
    const missing = this.inputs.requiredEnv.filter((name) => !host.env[name]);
    if (missing.length > 0) {
      throw new ActionFailure(
        `Preflight failed on ${host.name}: ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not set in ${this.envFilePath()} (required-env).`,
      );
    }
    // A release needs room for its code, its virtualenv and its static files.
    if (facts.freeKb !== undefined && facts.freeKb < 100 * 1024) {
      throw new ActionFailure(
        `Preflight failed on ${host.name}: only ${Math.round(facts.freeKb / 1024)} MB free under ${this.inputs.deployTo}.`,
      );
    }
    return facts;
  }

  private envFilePath(): string {
    return this.inputs.envFile ?? `${this.layout.shared}/.env`;
  }

  /** Parses the environment file the lock holder printed (never logged: it holds the app's secrets), masking them. */
  private readEnvFile(host: Host, output: string): EnvironmentFile {
    const path = this.envFilePath();
    const [presence, ...content] = output.split('\n');
    if (presence !== 'present') {
      if (this.inputs.envFile === undefined) return {};
      throw new ActionFailure(`Input 'env-file': ${path} does not exist on ${host.name} (a file of NAME=value lines).`);
    }
    const text = content.join('\n');
    const env = parseEnvFile(text, `${path} on ${host.name}`);
    maskEnvFile(env, (secret) => this.edges.setSecret(secret));
    // Over SSH each variable travels as one stdin line: a multi-line value would only fail later, at the first
    // manage.py command, after the build. Said here, before anything changes.
    const multiLine =
      this.inputs.target === 'ssh' ? Object.keys(env).find((name) => env[name].includes('\n')) : undefined;
    if (multiLine) {
      throw new ActionFailure(
        `The environment file ${path} on ${host.name}: ${multiLine} holds a new line, which cannot be passed over SSH to the manage.py commands (input 'env-file': keep each value on one line).`,
      );
    }
    return env;
  }

  private async appendLog(
    host: Host,
    release: string,
    outcome: ReleaseOutcome,
    commit: string,
    note?: string,
  ): Promise<void> {
    await must(
      host,
      scripts.appendLogScript(this.layout, [this.logEntry(release, outcome, commit, note)]),
      'Writing the release log',
      this.log,
    );
  }

  private logEntry(release: string, outcome: ReleaseOutcome, commit: string, note?: string): ReleaseLogEntry {
    const entry: ReleaseLogEntry = {
      release,
      commit,
      who: this.inputs.actor,
      when: this.edges.now().toISOString(),
      outcome,
    };
    if (note) entry.note = note;
    return entry;
  }

  private async deploy(): Promise<void> {
    const inputs = this.inputs;
    const commit = await this.edges.resolveCommit(inputs.repository, inputs.commit);
    this.report.commit = commit;
    const existing = new Set(
      this.hosts.flatMap((h) => [...h.facts.releases, ...(h.facts.current ? [h.facts.current] : [])]),
    );
    let now = this.edges.now();
    let id = releaseId(now, commit);
    // Two deploys in the same second (after one another, under the lock) must not overwrite each other's release.
    while (existing.has(id)) {
      now = new Date(now.getTime() + 1000);
      id = releaseId(now, commit);
    }
    this.report.releaseId = id;
    this.report.previousReleaseId = this.hosts[0].previous;
    try {
      await this.deployRelease(id, commit, now);
    } catch (error) {
      // A release that failed before its switch is marked so it is never a rollback target; prune removes it later.
      for (const host of this.hosts) {
        if (!host.switched)
          await this.appendLog(host, id, 'failed', commit, errorMessage(error)).catch(() => undefined);
      }
      throw error;
    }
  }

  private async deployRelease(id: string, commit: string, now: Date): Promise<void> {
    const inputs = this.inputs;
    const parallel = inputs.strategy === 'parallel';
    const build = { ...inputs };

    await this.each(this.hosts, parallel, async (host) => {
      await this.phase('upload', host, async () => {
        const stream = this.edges.archive(inputs.repository, commit, inputs.appDirectory);
        await must(
          host,
          scripts.unpackScript(this.layout, id, commit, inputs.sharedPaths, this.logEntry(id, 'started', commit)),
          'Unpacking the release',
          this.log,
          { stdin: stream },
        );
      });
      await this.phase('build', host, () =>
        must(host, scripts.buildScript(this.layout, id, build), 'Build', this.log, { env: true }),
      );
    });

    const first = this.hosts[0];
    const backupDatabase = this.backupDatabase(first);
    const probe = await this.phase(
      'plan',
      first,
      () => this.probeRelease(first, id, backupDatabase),
      (p) =>
        `${describeAppDatabase(p.database)}; ${
          p.plan.pending.length
            ? `${p.plan.pending.length} pending: ${p.plan.pending.join(', ')}`
            : 'no pending migration'
        }`,
    );
    const appDatabase = probe.database;
    const planned = { pending: probe.plan.pending, applied: probe.applied };
    const pending = planned.pending.length > 0;
    this.report.migrations = probe.plan.operations;

    if (inputs.backup === 'always' || (inputs.backup === 'auto' && pending)) {
      const outcome = await this.phase(
        'backup',
        first,
        () => this.backup(first, backupDatabase?.target, commit, id, now),
        (b) => b.path,
      );
      this.report.backupPath = outcome.path;
      this.report.restoreCommand = outcome.restoreCommand;
      this.report.backupSha256 = outcome.sha256;
      this.report.backupSizeBytes = outcome.sizeBytes;
    } else {
      this.recorder.skip('backup', first.name, inputs.backup === 'never' ? 'backup: never' : 'no pending migration');
    }

    const serving = this.hosts.some((h) => h.previous !== undefined);
    const decision = decideMaintenance(inputs.maintenance, probe.plan, serving);
    this.report.maintenance = decision;
    const maintenance = decision.on;
    // The flag goes up on the other hosts first (a round trip each); on the first host it goes up in the migrate
    // script itself, right before the migration, or in a round trip of its own when nothing is to migrate.
    if (maintenance) await this.maintenanceOnAll(id, pending ? first : undefined);

    let migrated = false;
    if (pending) {
      this.migrationsStarted = true;
      const behind = maintenance && this.recordMaintenanceOn(first);
      const script = scripts.migrateScript(this.layout, id, build);
      await this.phase(
        'migrate',
        first,
        () =>
          must(
            first,
            behind ? `${scripts.maintenanceOnScript(this.layout, inputs.maintenanceFile, id)}\n${script}` : script,
            'migrate',
            this.log,
            { env: true },
          ),
        () => (behind ? 'maintenance turned on first, in the same script' : undefined),
      );
      migrated = true;
      this.report.database = `${describeAppDatabase(appDatabase)}: migrated`;
    } else {
      this.report.database = `${describeAppDatabase(appDatabase)}: no migration pending`;
      this.recorder.skip('migrate', first.name, 'no pending migration');
    }

    // Under maintenance the site is down anyway: every host switches at once, then the flag comes off.
    const batches = maintenance || parallel ? [this.hosts] : chunk(this.hosts, inputs.batchSize);
    try {
      for (const batch of batches) {
        await this.each(batch, true, async (host) => {
          const off = this.maintenanceOn.has(host);
          await this.phase(
            'switch',
            host,
            async () => {
              host.switched = true;
              // The flag comes off in the same script, once the reload is done and the new code serves.
              await this.switchAndReload(
                host,
                id,
                `Switching current and reloading (${inputs.reload})${off ? ' and turning maintenance off' : ''}`,
                off ? scripts.maintenanceOffScript(this.layout, inputs.maintenanceFile) : undefined,
              );
              this.report.serving[host.name] = id;
              if (off) {
                this.maintenanceOn.delete(host);
                this.saveState();
              }
            },
            () => (off ? 'maintenance turned off after the reload, in the same script' : undefined),
          );
        });
        await this.maintenanceOff();
        await this.each(batch, true, (host) => this.healthGate(host, commit));
      }
    } catch (error) {
      await this.rollBack(id, commit, migrated ? planned.applied : undefined, errorMessage(error));
      throw error;
    }

    for (const host of this.hosts) {
      await this.phase(
        'prune',
        host,
        () => this.prune(host, id, commit),
        (removed) => (removed.length ? `removed ${removed.join(', ')}` : 'nothing to remove'),
      );
    }
  }

  /** The database the pre-migration backup protects: the database-url input, else the env file's DATABASE_URL. */
  private backupDatabase(host: Host): { target: DatabaseTarget; from: string } | undefined {
    if (this.inputs.database) return { target: this.inputs.database, from: "input 'database-url'" };
    // With backup: never nothing is protected, so the app's own URL (sqlite:// too) is not ours to parse.
    if (this.inputs.backup === 'never') return undefined;
    const url = host.env.DATABASE_URL;
    if (!url) return undefined;
    const from = `DATABASE_URL in ${this.envFilePath()}`;
    return { target: parseDatabaseUrl(url, from, this.edges.setSecret), from };
  }

  /**
   * One Django process on the release: which database it migrates (refused when the backup does not protect it),
   * then the pending migrations with a verdict per operation, and the apps' state for rollback-migrations.
   */
  private async probeRelease(
    host: Host,
    id: string,
    backup: { target: DatabaseTarget; from: string } | undefined,
  ): Promise<{ database: AppDatabase; plan: MigrationPlan; applied: Map<string, string> }> {
    const result = await must(
      host,
      scripts.releaseProbeScript(this.layout, id, this.inputs, this.inputs.rollbackMigrations),
      "Reading Django's database settings and migration plan",
      SILENT,
      { env: true },
    );
    const [probe, applied = ''] = result.stdout.split('--- applied');
    const database = parseProbe(probe);
    if (!database)
      throw new ActionFailure(`Reading Django's database settings on ${host.name}: manage.py shell printed nothing.`);
    checkAppDatabase(database, backup, scripts.releaseDir(this.layout, id));
    const plan = parsePlan(probe);
    for (const op of plan.operations)
      this.log.info(`${op.migration} ${op.operation} (${op.description}): ${op.verdict}, ${op.reason}`);
    return { database, plan, applied: parseAppliedMigrations(applied) };
  }

  private async backup(
    host: Host,
    database: DatabaseTarget | undefined,
    commit: string,
    id: string,
    now: Date,
  ): Promise<BackupOutcome> {
    if (!database) {
      throw new ActionFailure(
        `Migrations are pending and no pre-migration backup can be taken: no 'database-url' input and no DATABASE_URL in ${this.envFilePath()} (set backup: never to deploy without one).`,
      );
    }
    return this.edges.backup(
      host.executor,
      { database, directory: this.inputs.backupDirectory, commit, releaseId: id, now },
      (line) => this.log.info(line),
    );
  }

  private async healthGate(host: Host, commit: string): Promise<void> {
    if (!this.inputs.healthUrl) {
      this.recorder.skip('health', host.name, 'no health-url');
      return;
    }
    const url = this.healthUrl(host);
    const expect = this.inputs.expectCommit || commit;
    await this.phase(
      'health',
      host,
      () => this.askHealth(host, url, expect, ''),
      (reason) => reason,
    );
  }

  /** The gate's answer in words; throws when the release is not healthy within health-timeout. */
  private async askHealth(host: Host, url: string, expect: string, when: string): Promise<string> {
    const result = await this.edges.checkHealth(
      url,
      expect,
      this.inputs.healthTimeoutMs,
      (line) => this.log.info(line),
      this.inputs.healthGate,
    );
    if (!result.ok) throw new ActionFailure(`Health check of ${url} failed on ${host.name}${when}: ${result.reason}`);
    return result.reason;
  }

  private healthUrl(host: Host): string {
    return (this.inputs.healthUrl ?? '').replace(/\{host\}/g, host.address?.host ?? '127.0.0.1');
  }

  /**
   * Puts every switched host back on its previous release and marks the release bad. Migrations to reverse
   * (rollback-migrations) are reversed behind maintenance, after the old code is back: no request reaches code
   * that does not match the schema (the new code on the old schema, or the old code mid-reversal).
   */
  private async rollBack(
    id: string,
    commit: string,
    applied: Map<string, string> | undefined,
    why: string,
  ): Promise<void> {
    const first = this.hosts[0];
    const unmigrate = applied !== undefined && applied.size > 0 && this.inputs.rollbackMigrations.length > 0;
    if (unmigrate) await this.maintenanceOnAll(id).catch((error: unknown) => this.noteFailure('Maintenance', error));
    for (const host of this.hosts) {
      if (host.switched) {
        try {
          await this.phase('rollback', host, () => this.switchBack(host));
          if (host.previous) this.report.serving[host.name] = host.previous;
          else delete this.report.serving[host.name];
          this.report.rolledBack = true;
        } catch (error) {
          this.noteFailure(`Rolling back ${host.name}`, error);
        }
      }
      if (host.switched) await this.appendLog(host, id, 'rolled-back', commit, why).catch(() => undefined);
    }
    if (unmigrate) {
      // The new release's code, since only it knows the migrations to reverse; it serves nothing any more.
      await this.phase('unmigrate', first, () =>
        must(first, scripts.unmigrateScript(this.layout, id, this.inputs, applied), 'Migrating back', this.log, {
          env: true,
        }),
      )
        .then(() =>
          this.report.notes.push(
            `Migrations of ${[...applied.keys()].join(', ')} were migrated back (rollback-migrations), behind maintenance.`,
          ),
        )
        .catch((error: unknown) => this.noteFailure('Migrating back', error));
    }
    this.report.notes.push(
      this.report.rolledBack
        ? `The new release was rolled back: ${
            Object.entries(this.report.serving)
              .map(([h, r]) => `${h} serves ${r}`)
              .join(', ') || 'nothing was deployed before it'
          }.`
        : 'Nothing was switched.',
    );
  }

  private noteFailure(what: string, error: unknown): void {
    this.report.notes.push(`${what} failed: ${errorMessage(error)}. Check the server by hand.`);
  }

  /**
   * `current` back to the previous release and a reload; after a first deploy, `current` is removed and a program
   * the deploy started is stopped again, as it was found.
   */
  private async switchBack(host: Host): Promise<void> {
    if (host.previous) {
      await this.switchAndReload(host, host.previous, `Switching current back and reloading (${this.inputs.reload})`);
      return;
    }
    await must(host, scripts.switchScript(this.layout, undefined), 'Removing current', this.log);
    if (this.inputs.reload !== 'command' && host.facts.programState && host.facts.programState !== 'RUNNING') {
      await must(host, scripts.stopProgramScript(this.inputs), 'Stopping the program', this.log);
      this.report.notes.push(
        `${host.name}: ${this.inputs.supervisorProgram} was ${host.facts.programState} before this first deploy; it was stopped again.`,
      );
    }
  }

  /**
   * `current` to a release and the reload, with `after` (maintenance off) in the same script. A HUP reload that
   * gave up waiting for gunicorn's old workers is said as a warning and a note: they may still answer.
   */
  private async switchAndReload(host: Host, release: string, what: string, after?: string): Promise<void> {
    const result = await must(
      host,
      [
        scripts.switchScript(this.layout, release),
        scripts.reloadScript(this.inputs, this.layout, release, this.edges.reloadWaitSeconds),
        ...(after ? [after] : []),
      ].join('\n'),
      what,
      this.log,
    );
    const left = scripts.parseReloadLeft(result.stdout);
    if (left) {
      const note = `${host.name}: gunicorn's old workers (PID ${left.pids.join(', ')}) were still running ${left.seconds} s after the HUP reload; they may still answer with the code of the release before ${release} (a request that long, or a --graceful-timeout above ${left.seconds} s not on the master's command line).`;
      this.report.notes.push(note);
      this.log.warning(note);
    }
  }

  /** Records a host's maintenance flag as on before it exists: a post step after a kill removes it even then. */
  private recordMaintenanceOn(host: Host): true {
    this.maintenanceOn.add(host);
    this.saveState();
    return true;
  }

  /** Maintenance on, a round trip per host; `except` turns it on itself later (in its migrate script). */
  private async maintenanceOnAll(id: string, except?: Host): Promise<void> {
    for (const host of this.hosts) {
      if (this.maintenanceOn.has(host) || host === except) continue;
      await this.phase('maintenance on', host, async () => {
        this.recordMaintenanceOn(host);
        await must(
          host,
          scripts.maintenanceOnScript(this.layout, this.inputs.maintenanceFile, id),
          'Turning maintenance on',
          this.log,
        );
      });
    }
  }

  /**
   * Records the release as succeeded and removes the old ones in one script: under the lock, the releases are the
   * ones preflight listed plus the new one.
   */
  private async prune(host: Host, keepId: string, commit: string): Promise<string[]> {
    const entry = this.logEntry(keepId, 'succeeded', commit);
    const existing = [...new Set([...host.facts.releases, keepId])].filter(isReleaseId);
    const entries = [...parseReleaseLog(host.facts.log), entry];
    const remove = planPrune(
      existing,
      this.inputs.keepReleases,
      { current: this.report.serving[host.name], deploying: keepId },
      entries,
    );
    await must(
      host,
      `${scripts.appendLogScript(this.layout, [entry])}\n${scripts.pruneScript(this.layout, remove)}`,
      'Writing the release log and pruning old releases',
      this.log,
    );
    return remove;
  }

  private async rollbackOnDemand(): Promise<void> {
    for (const host of this.hosts) {
      const entries = parseReleaseLog(host.facts.log);
      const target = chooseRollbackTarget(host.facts.current, host.facts.releases, entries);
      if (!target) {
        throw new ActionFailure(
          `No release to roll back to on ${host.name}: ${host.facts.current ? `nothing older than ${host.facts.current} succeeded` : 'nothing is deployed'}.`,
        );
      }
      const commit = [...entries].reverse().find((e) => e.release === target)?.commit ?? '';
      this.report.releaseId = target;
      this.report.previousReleaseId = host.facts.current;
      this.report.commit = commit;
      await this.phase('switch', host, () =>
        this.switchAndReload(host, target, `Switching current and reloading (${this.inputs.reload})`),
      );
      this.report.serving[host.name] = target;
      this.report.rolledBack = true;
      if (host.facts.current)
        await this.appendLog(host, host.facts.current, 'rolled-back', '', `rolled back on demand to ${target}`);
      await this.appendLog(host, target, 'restored', commit);
      if (commit && this.inputs.healthUrl) {
        const url = this.healthUrl(host);
        await this.phase('health', host, () => this.askHealth(host, url, commit, ' after the rollback'));
      }
    }
  }

  private async maintenanceOff(): Promise<void> {
    for (const host of [...this.maintenanceOn]) {
      await this.phase('maintenance off', host, () =>
        must(
          host,
          scripts.maintenanceOffScript(this.layout, this.inputs.maintenanceFile),
          'Turning maintenance off',
          this.log,
        ),
      );
      this.maintenanceOn.delete(host);
      this.saveState();
    }
  }

  /** Always: maintenance off, locks released, connections closed, whatever happened before. */
  private async finish(): Promise<void> {
    try {
      await this.maintenanceOff();
    } catch (error) {
      this.report.notes.push(`Maintenance could not be turned off: ${errorMessage(error)}; the post step tries again.`);
    }
    for (const host of this.hosts) {
      try {
        await host.releaseLock?.();
      } catch (error) {
        this.log.warning(`Releasing the deploy lock on ${host.name}: ${errorMessage(error)}`);
      }
    }
    for (const host of this.hosts) {
      try {
        await host.executor.close();
      } catch (error) {
        this.log.warning(`Closing the connection to ${host.name}: ${errorMessage(error)}`);
      }
    }
    if (this.inputs.healthUrl && this.hosts.length > 0) {
      try {
        this.report.url = new URL(this.healthUrl(this.hosts[0])).origin + '/';
      } catch {
        // Validated in inputs; nothing to report if it still does not parse.
      }
    }
    this.saveState();
  }
}
