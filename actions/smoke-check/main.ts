import * as core from '../shared/runner-commands.js';
import { readFileSync } from 'node:fs';
import { ActionFailure } from '../shared/errors.js';
import type { InputSource } from '../shared/inputs.js';
import { environmentInputs } from '../shared/inputs.js';
import { runAction } from '../shared/run-action.js';
import type { RunOptions } from './check-spec.js';
import type { EngineDeps, RunReport } from './engine.js';
import { defaultEngineDeps, runChecks } from './engine.js';
import { loadInputs } from './inputs.js';
import { maskSecrets } from './secret-mask.js';
import { renderSummary } from './summary.js';

/** What the step talks to: the runner and the network. Tests pass their own. */
export interface SmokeCheckEdges {
  readonly inputs: InputSource;
  readonly readFile: (path: string) => string;
  readonly setSecret: (secret: string) => void;
  readonly setOutput: (name: string, value: string) => void;
  readonly info: (line: string) => void;
  readonly warning: (message: string, title?: string) => void;
  readonly error: (message: string, title?: string) => void;
  readonly writeSummary: (markdown: string) => Promise<void>;
  readonly engine: (options: RunOptions, log: (line: string) => void) => EngineDeps;
}

export function runnerEdges(): SmokeCheckEdges {
  return {
    inputs: environmentInputs,
    readFile: (path) => readFileSync(path, 'utf8'),
    setSecret: core.setSecret,
    setOutput: core.setOutput,
    info: core.info,
    warning: (message, title) => core.warning(message, title ? { title } : {}),
    error: (message, title) => core.error(message, title ? { title } : {}),
    writeSummary: async (markdown) => {
      // Outside a runner (act, a local run) there is no summary file; the log and outputs still tell everything.
      if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(markdown).write();
    },
    engine: defaultEngineDeps,
  };
}

export async function run(edges: SmokeCheckEdges = runnerEdges()): Promise<void> {
  await runAction(async () => {
    await smokeCheck(edges);
  });
}

/** GitHub shows 10 annotations of a type per step; one is kept for the step's own failure message. */
const MAX_CHECK_ANNOTATIONS = 9;

export async function smokeCheck(edges: SmokeCheckEdges): Promise<RunReport> {
  const inputs = await loadInputs(edges.inputs, edges.readFile, edges.setSecret);
  const mask = (text: string) => maskSecrets(text, inputs.secrets);
  if (inputs.options.tls.insecure) {
    edges.warning('TLS certificates are not verified for this check (insecure: true).', 'Smoke check');
  }
  edges.info(
    `Checking ${inputs.checks.length} URL${inputs.checks.length > 1 ? 's' : ''} in parallel ` +
      `(deadline ${inputs.options.deadlineMs} ms, stable-for ${inputs.options.stableFor}).`,
  );

  const report = await runChecks(
    inputs.checks,
    inputs.options,
    edges.engine(inputs.options, (line) => edges.info(mask(line))),
  );

  const results = report.results.map((r) => ({
    name: r.name,
    url: r.url,
    ok: r.ok,
    status: r.status ?? null,
    latencyMs: r.latencyMs ?? null,
    attempts: r.attempts,
    reason: r.reason,
    ...(r.version !== undefined ? { version: r.version } : {}),
    redirects: r.redirects,
  }));
  edges.setOutput('healthy', String(report.healthy));
  edges.setOutput('results', mask(JSON.stringify(results)));
  edges.setOutput('failed-count', String(report.failedCount));
  edges.setOutput('duration-ms', String(report.durationMs));
  await edges.writeSummary(renderSummary(report, inputs.options, inputs.secrets));

  const failed = report.results.filter((r) => !r.ok);
  const annotate = inputs.failOnUnhealthy ? edges.error : edges.warning;
  for (const result of failed.slice(0, MAX_CHECK_ANNOTATIONS)) {
    const where = result.name === result.url ? '' : `${result.url}: `;
    annotate(mask(`${where}${result.reason}`), `Smoke check failed: ${mask(result.name)}`);
  }
  if (failed.length > MAX_CHECK_ANNOTATIONS) {
    annotate(`${failed.length - MAX_CHECK_ANNOTATIONS} more failing checks: see the job summary.`);
  }
  if (report.healthy) {
    edges.info(
      `Healthy: ${report.results.length} of ${report.results.length} checks passed in ${report.durationMs} ms.`,
    );
  } else {
    const message = `${report.failedCount} of ${report.results.length} smoke checks failed; first: ${mask(failed[0].url)}: ${mask(failed[0].reason)}`;
    if (inputs.failOnUnhealthy) throw new ActionFailure(message);
    edges.info(`${message} (fail-on-unhealthy is false: the step stays green).`);
  }
  return report;
}
