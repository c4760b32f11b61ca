// What the end-to-end tests of the examples' caller workflows share: the caller as a team fills it in (`<owner>` and
// this test bed's hosts), backup names dated in the past (retention reads the time in the names, so age is given by
// the name, never by waiting), the Heroku config var a team copies into its secrets, and the restore step's errors.
import fs from 'node:fs';
import path from 'node:path';
import { parseDocument, type Document } from 'yaml';
import type { HerokuStandIn } from '../stand-ins/heroku-api.js';
import type { WorkflowRun } from '../harness/workflow-runner.js';

const EXAMPLES = new URL('../../examples/', import.meta.url).pathname;

/** A backup name for `days` days ago, as db-backup names them (`<prefix>_<YYYYMMDDHHMM>_<sha>.<ext>`, UTC). */
export function datedBackup(prefix: string, days: number, ext = 'dump'): string {
  const at = new Date(Date.now() - days * 86_400_000).toISOString();
  return `${prefix}_${at.slice(0, 16).replace(/[-T:]/g, '')}_1a2b3c4.${ext}`;
}

/**
 * `examples/<example>/.github/workflows/<file>` with `<owner>` replaced, then `fill` applied to its YAML document
 * (given the path of the job that calls runbook), written into `dir`; returns the written path.
 */
export function exampleCaller(
  example: string,
  file: string,
  dir: string,
  owner: string,
  fill?: (document: Document, job: string[]) => void,
): string {
  const text = fs.readFileSync(path.join(EXAMPLES, example, '.github/workflows', file), 'utf8');
  if (!text.includes('<owner>/runbook/')) throw new Error(`${example}/${file} does not call <owner>/runbook/`);
  const document = parseDocument(text.split('<owner>/runbook/').join(`${owner}/runbook/`));
  const jobs = Object.keys(document.toJS().jobs as object);
  if (jobs.length !== 1) throw new Error(`${example}/${file} has ${jobs.length} jobs, not one`);
  fill?.(document, ['jobs', jobs[0]]);
  const target = path.join(dir, `${example}-${file}`);
  fs.writeFileSync(target, document.toString());
  return target;
}

/**
 * A server example filled in for the test bed's sshd, with the credentials as one DATABASE_URL secret (the test
 * bed's database listens on a port of its own, which db-name/db-user/db-host cannot say).
 */
export function overSsh(
  ssh: { host: string; port: number; user: string },
  directory: { input: 'server-directory' | 'directory'; path: string },
) {
  return (document: Document, job: string[]) => {
    for (const name of ['db-name', 'db-user', 'db-host']) document.deleteIn([...job, 'with', name]);
    document.setIn([...job, 'with', 'ssh-host'], ssh.host);
    document.setIn([...job, 'with', 'ssh-port'], ssh.port);
    document.setIn([...job, 'with', 'ssh-user'], ssh.user);
    document.setIn([...job, 'with', directory.input], directory.path);
    document.deleteIn([...job, 'secrets', 'DB_PASSWORD']);
    document.setIn([...job, 'secrets', 'DATABASE_URL'], '${{ secrets.DATABASE_URL }}');
  };
}

/** A config var as `heroku config:get` reads it (the Platform API), the value a team puts in its secret. */
export async function herokuConfigVar(heroku: HerokuStandIn, app: string, name: string): Promise<string> {
  const response = await fetch(`${heroku.url}/apps/${app}/config-vars`, {
    headers: { Accept: 'application/vnd.heroku+json; version=3', Authorization: `Bearer ${heroku.apiKey}` },
  });
  if (!response.ok) throw new Error(`GET /apps/${app}/config-vars: ${response.status}`);
  const value = ((await response.json()) as Record<string, string | null>)[name];
  if (!value) throw new Error(`${app} has no config var ${name}`);
  return value;
}

/** How a restore-database.yml run ended, and the error annotations of its db-restore step. */
export function restoreOutcome(run: WorkflowRun): { conclusion: string; restore?: string; errors: string[] } {
  const step = run.jobs[0]?.called?.[0]?.steps.find((s) => s.id === 'restore');
  const errors = (step?.result?.annotations ?? []).filter((a) => a.level === 'error').map((a) => a.message);
  return { conclusion: run.conclusion, restore: step?.outcome, errors };
}
