import * as core from '../shared/runner-commands.js';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { ActionFailure } from '../shared/errors.js';
import { environmentInputs, type InputSource } from '../shared/inputs.js';
import { lastErrorLine, runProcess, type ProcessRunner } from '../shared/process.js';
import { withRenamedInputs } from '../shared/renamed-inputs.js';
import { runAction } from '../shared/run-action.js';
import { LocalExecutor, SshExecutor } from './server/executor.js';
import { realHerokuEdges } from './heroku/edges.js';
import { readHerokuInputs, type HerokuInputs } from './heroku/inputs.js';
import { HerokuTarget, type HerokuEdges } from './heroku/target.js';
import { DEPLOY_RENAMED_INPUTS, readDeployInputs, type DeployInputs } from './inputs.js';
import { checkReleaseHealth, takePremigrationBackup } from './release-checks.js';
import { ServerTarget, STATE_KEY, type ServerEdges } from './server/target.js';
import { renderSummary } from './summary.js';
import { deployOutputs, type DeployTarget } from './target.js';

/** The runner-facing edges of the step, injected so the whole flow runs in-process in tests. */
export interface DeployIO {
  inputs: InputSource;
  env: Record<string, string | undefined>;
  setSecret(secret: string): void;
  setOutput(name: string, value: string): void;
  saveState(name: string, value: string): void;
  info(message: string): void;
  warning(message: string): void;
  startGroup(name: string): void;
  endGroup(): void;
  writeSummary(markdown: string): Promise<void>;
  /** Builds the target's edges; tests replace it with fakes. */
  serverEdges(inputs: DeployInputs, io: DeployIO): ServerEdges;
  /** The Heroku target's edges (default: the Platform API at heroku-api-url). */
  herokuEdges?(inputs: HerokuInputs, io: DeployIO): HerokuEdges;
}

export function runnerIO(): DeployIO {
  return {
    inputs: environmentInputs,
    env: process.env,
    setSecret: core.setSecret,
    setOutput: core.setOutput,
    saveState: core.saveState,
    info: core.info,
    warning: core.warning,
    startGroup: core.startGroup,
    endGroup: core.endGroup,
    writeSummary: async (markdown) => {
      await core.summary.addRaw(markdown, true).write();
    },
    serverEdges: realServerEdges,
  };
}

/** `git archive` of one commit (of the app directory only), streamed: no history is needed, shallow clones work. */
export function gitArchive(
  repository: string,
  commit: string,
  appDirectory: string,
  onError: (message: string) => void,
): Readable {
  const child = spawn('git', ['archive', '--format=tar', appDirectory ? `${commit}:${appDirectory}` : commit], {
    cwd: repository,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.on('close', (code) => {
    if (code !== 0) onError(`git archive ${commit} failed: ${lastErrorLine(stderr) || `exit code ${code}`}`);
  });
  const out = new PassThrough();
  child.stdout.pipe(out);
  return out;
}

export async function resolveCommit(runner: ProcessRunner, repository: string, commit: string): Promise<string> {
  const result = await runner('git', ['rev-parse', '--verify', '--quiet', `${commit}^{commit}`], { cwd: repository });
  const sha = result.stdout.trim();
  if (result.code !== 0 || !/^[0-9a-f]{40,64}$/.test(sha)) {
    throw new ActionFailure(
      `Commit '${commit}' is not in the repository at ${repository} (check out the commit to deploy first).`,
    );
  }
  return sha;
}

/** The real edges: OpenSSH or bash, git, the smoke-check engine over HTTP, the db-backup code on the server. */
export function realServerEdges(inputs: DeployInputs, io: DeployIO, runner: ProcessRunner = runProcess): ServerEdges {
  return {
    openHost: async (address) => {
      if (!address) return new LocalExecutor(runner);
      const ssh = inputs.ssh!;
      return SshExecutor.open(
        {
          host: address.host,
          port: address.port,
          user: ssh.user,
          privateKey: ssh.privateKey,
          knownHosts: ssh.knownHosts,
          hostFingerprint: ssh.hostFingerprint,
          acceptNew: ssh.acceptNewHostKey,
        },
        runner,
      );
    },
    resolveCommit: (repository, commit) => resolveCommit(runner, repository, commit),
    archive: (repository, commit, appDirectory) => gitArchive(repository, commit, appDirectory, io.warning),
    checkHealth: checkReleaseHealth,
    backup: (executor, request, log) =>
      takePremigrationBackup(
        request.database,
        request,
        { ...executor.backupPlace(), server: executor.postState().ssh },
        {
          log,
          warning: io.warning,
          env: io.env,
        },
      ),
    now: () => new Date(),
    clock: () => performance.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    log: { info: io.info, warning: io.warning, startGroup: io.startGroup, endGroup: io.endGroup },
    setSecret: io.setSecret,
    saveState: (state) => io.saveState(STATE_KEY, JSON.stringify(state)),
    token: () => randomBytes(12).toString('hex'),
  };
}

/** The target asked for. Heroku (issue 7) joins here with its own DeployTarget sharing phases, report and outputs. */
export function createTarget(inputs: DeployInputs, io: DeployIO): DeployTarget {
  return new ServerTarget(inputs, io.serverEdges(inputs, io));
}

/** target: heroku reads its own inputs (no server, no deploy-to); ssh and local share the server inputs. */
export async function selectTarget(io: DeployIO): Promise<DeployTarget> {
  const source = await withRenamedInputs(io.inputs, DEPLOY_RENAMED_INPUTS, io.warning, 'deploy');
  if (source('target') === 'heroku') {
    const inputs = readHerokuInputs(source, io.setSecret, io.env);
    return new HerokuTarget(inputs, (io.herokuEdges ?? realHerokuEdges)(inputs, io));
  }
  return createTarget(readDeployInputs(source, io.setSecret, io.env), io);
}

export async function deployMain(io: DeployIO): Promise<void> {
  const report = await (await selectTarget(io)).run();
  for (const [name, value] of Object.entries(deployOutputs(report))) io.setOutput(name, value);
  await io.writeSummary(renderSummary(report));
  for (const note of report.notes) io.info(note);
  if (!report.ok) {
    const after =
      report.rolledBack && report.mode === 'deploy' ? ' The new release was rolled back; the previous one serves.' : '';
    const backup = report.backupPath
      ? ` Pre-migration backup: ${report.backupPath} (restore command in the job summary).`
      : '';
    const error = (report.error ?? 'The deploy failed').replace(/\.?$/, '.');
    throw new ActionFailure(`${error}${after}${backup}`);
  }
  io.info(`Deployed ${report.releaseId} in ${report.durationMs} ms.`);
}

export const run = (io: DeployIO = runnerIO()): Promise<void> => runAction(() => deployMain(io));
