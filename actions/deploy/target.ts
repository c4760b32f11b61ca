import type { PlannedOperation } from './server/migration-safety.js';

/**
 * What every deploy target (ssh, local, and later heroku) shares: named timed phases, one report, the same
 * outputs and summary. A target runs its phases through a PhaseRecorder and returns a DeployReport.
 */

export type PhaseStatus = 'ok' | 'failed' | 'skipped';

export interface PhaseRecord {
  name: string;
  /** The host the phase ran on ('local', 'deploy@web1', an app name). */
  host: string;
  status: PhaseStatus;
  /** Milliseconds since the deploy started. */
  startMs: number;
  durationMs: number;
  detail?: string;
}

export interface DeployReport {
  target: string;
  mode: 'deploy' | 'rollback';
  ok: boolean;
  releaseId?: string;
  previousReleaseId?: string;
  commit?: string;
  rolledBack: boolean;
  backupPath?: string;
  restoreCommand?: string;
  backupSha256?: string;
  backupSizeBytes?: number;
  /** Which database the migrations ran against, as the app's settings name it (no password). */
  database?: string;
  url?: string;
  durationMs: number;
  phases: PhaseRecord[];
  /** Sentences for the reader: a stale lock taken over, a host key accepted, migrations not reversed. */
  notes: string[];
  /** Why the deploy failed, when it did. */
  error?: string;
  /** What serves now on each host, after everything. */
  serving: Record<string, string>;
  /** Heroku only: release version, build id and the version serving before (comma-separated per app). */
  releaseVersion?: string;
  buildId?: string;
  previousReleaseVersion?: string;
  /** Heroku only: the release this deploy created and then refused (failed release phase or health gate). */
  rejectedReleaseId?: string;
  rejectedReleaseVersion?: string;
  /** Server targets: each pending migration operation with its verdict for the code serving while it runs. */
  migrations?: PlannedOperation[];
  /** Whether maintenance was on for the migrations, and why. */
  maintenance?: { on: boolean; why: string };
  /** The summary's first line, when the target words it itself (what was released, what serves). */
  headline?: string;
}

export interface DeployTarget {
  readonly name: string;
  run(): Promise<DeployReport>;
}

export interface PhaseLog {
  startGroup(name: string): void;
  endGroup(): void;
  info(message: string): void;
}

/** Runs named phases, timing each and logging it in its own group; a failing phase is recorded, then rethrown. */
export class PhaseRecorder {
  readonly phases: PhaseRecord[] = [];
  private readonly started: number;

  constructor(
    private readonly clock: () => number,
    private readonly log: PhaseLog,
  ) {
    this.started = clock();
  }

  /** A report that has not succeeded yet, whose phases are the ones this recorder records. */
  newReport(target: string, mode: DeployReport['mode']): DeployReport {
    return { target, mode, ok: false, rolledBack: false, durationMs: 0, phases: this.phases, notes: [], serving: {} };
  }

  elapsed(): number {
    return Math.round(this.clock() - this.started);
  }

  async run<T>(
    name: string,
    host: string,
    body: () => Promise<T>,
    detail?: (value: T) => string | undefined,
  ): Promise<T> {
    const start = this.clock();
    this.log.startGroup(`${name} (${host})`);
    try {
      const value = await body();
      this.record(name, host, 'ok', start, detail?.(value));
      return value;
    } catch (error) {
      this.record(name, host, 'failed', start, error instanceof Error ? error.message : String(error));
      throw error;
    } finally {
      this.log.endGroup();
    }
  }

  skip(name: string, host: string, why: string): void {
    this.phases.push({ name, host, status: 'skipped', startMs: this.elapsed(), durationMs: 0, detail: why });
  }

  private record(name: string, host: string, status: PhaseStatus, start: number, detail?: string): void {
    const durationMs = Math.round(this.clock() - start);
    this.phases.push({ name, host, status, startMs: Math.round(start - this.started), durationMs, detail });
    this.log.info(`${name} on ${host}: ${status} in ${durationMs} ms${detail ? ` (${detail})` : ''}`);
  }
}

/** The step outputs, the same for every target. */
export function deployOutputs(report: DeployReport): Record<string, string> {
  return {
    'release-id': report.releaseId ?? '',
    'previous-release-id': report.previousReleaseId ?? '',
    'rolled-back': String(report.rolledBack),
    'backup-path': report.backupPath ?? '',
    'backup-sha256': report.backupSha256 ?? '',
    'backup-size-bytes': report.backupSizeBytes === undefined ? '' : String(report.backupSizeBytes),
    'restore-command': report.restoreCommand ?? '',
    url: report.url ?? '',
    'duration-ms': String(report.durationMs),
    'release-version': report.releaseVersion ?? '',
    'build-id': report.buildId ?? '',
    'previous-release-version': report.previousReleaseVersion ?? '',
    'rejected-release-id': report.rejectedReleaseId ?? '',
    'rejected-release-version': report.rejectedReleaseVersion ?? '',
  };
}
