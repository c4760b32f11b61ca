import { untrustedText } from '../shared/untrusted-text.js';

/**
 * The staging-guard policy as pure functions: each rule looks at plain data fetched from GitHub and returns one
 * row of the verdict table. No I/O here, so every rule is unit-tested over hand-written data.
 */

export type RuleState = 'pass' | 'fail' | 'pending' | 'missing';

export interface RuleResult {
  rule: string;
  state: RuleState;
  reason: string;
  /** What to do about it; '' when there is nothing to do. */
  fix: string;
}

export interface Verdict {
  allowed: boolean;
  rules: RuleResult[];
  /** One line per rule that is not a pass: what the job log and the `reasons` output show. */
  reasons: string[];
}

/**
 * A check name or context pattern: an exact name, or a /regex/ with optional flags; `app` (from `name@app`) pins
 * it to check runs made by that GitHub App (its slug, such as github-actions).
 */
export type NamePattern = ({ kind: 'name'; name: string } | { kind: 'regex'; regex: RegExp; source: string }) & {
  app?: string;
};

export function matchesPattern(pattern: NamePattern, name: string): boolean {
  if (pattern.kind === 'name') return pattern.name === name;
  pattern.regex.lastIndex = 0;
  return pattern.regex.test(name);
}

/** The pattern matches the check's name and, when pinned to an app, the check is a check run of that app. */
export function matchesCheck(pattern: NamePattern, check: CheckObservation): boolean {
  if (!matchesPattern(pattern, check.name)) return false;
  if (pattern.app === undefined) return true;
  return check.kind === 'check run' && (check.app ?? '').toLowerCase() === pattern.app.toLowerCase();
}

export function describePattern(pattern: NamePattern): string {
  return `${pattern.kind === 'name' ? pattern.name : pattern.source}${pattern.app ? `@${pattern.app}` : ''}`;
}

/** A branch-name pattern from allowed-sources or protected: exact, or with `*` for any run of characters. */
export function branchMatches(patterns: string[], branch: string): boolean {
  return patterns.some((pattern) => {
    if (!pattern.includes('*')) return pattern === branch;
    const regex = new RegExp(`^${pattern.split('*').map(escapeRegex).join('.*')}$`);
    return regex.test(branch);
  });
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function verdictOf(rules: RuleResult[]): Verdict {
  const reasons = rules.filter((r) => r.state !== 'pass').map((r) => `${r.rule}: ${r.reason}`);
  return { allowed: rules.length > 0 && reasons.length === 0, rules, reasons };
}

// ---------------------------------------------------------------------------------------------------------------
// Where the change comes from

export interface SourceFacts {
  headRef: string;
  /** owner/name of the repository the head branch lives in; null when the fork was deleted. */
  headRepo: string | null;
  baseRepo: string;
  baseRef: string;
  allowedSources: string[];
}

export function sourceBranchRule(facts: SourceFacts): RuleResult {
  const rule = 'source branch';
  const allowed = facts.allowedSources.join(', ');
  if (branchMatches(facts.allowedSources, facts.headRef)) {
    return { rule, state: 'pass', reason: `'${facts.headRef}' is an allowed source (${allowed})`, fix: '' };
  }
  return {
    rule,
    state: 'fail',
    reason: `'${facts.headRef}' is not an allowed source for '${facts.baseRef}' (allowed: ${allowed})`,
    fix: `Merge '${facts.headRef}' into ${facts.allowedSources[0]} first, let CI validate it there, then open the pull request from ${facts.allowedSources[0]} into ${facts.baseRef}.`,
  };
}

export function sameRepositoryRule(facts: SourceFacts): RuleResult {
  const rule = 'same repository';
  if (facts.headRepo === facts.baseRepo) {
    return { rule, state: 'pass', reason: `the head branch lives in ${facts.baseRepo}`, fix: '' };
  }
  const where = facts.headRepo === null ? 'a deleted fork' : `the fork ${facts.headRepo}`;
  return {
    rule,
    state: 'fail',
    reason: `the head branch '${facts.headRef}' comes from ${where}, not from ${facts.baseRepo}: a fork's ${facts.headRef} is not ours`,
    fix: `Open the pull request from a branch of ${facts.baseRepo} itself (push the change to ${facts.baseRepo}'s ${facts.allowedSources[0]} through a reviewed pull request).`,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Freshness: the head must contain everything the base has

export interface Comparison {
  status: 'ahead' | 'behind' | 'identical' | 'diverged';
  aheadBy: number;
  behindBy: number;
}

export function freshnessRule(comparison: Comparison, headRef: string, baseRef: string): RuleResult {
  const rule = 'up to date with base';
  if (comparison.behindBy === 0) {
    const ahead = comparison.aheadBy === 1 ? '1 commit' : `${comparison.aheadBy} commits`;
    return { rule, state: 'pass', reason: `'${headRef}' contains '${baseRef}' and is ahead by ${ahead}`, fix: '' };
  }
  const behind = comparison.behindBy === 1 ? '1 commit' : `${comparison.behindBy} commits`;
  const shape = comparison.status === 'diverged' ? `has diverged from '${baseRef}' and is` : 'is';
  return {
    rule,
    state: 'fail',
    reason: `'${headRef}' ${shape} behind '${baseRef}' by ${behind}: what was tested is not what would be merged`,
    fix: updateCommands(headRef, baseRef),
  };
}

/** The exact commands that bring the source branch up to date; CI then validates the result on the source. */
export function updateCommands(headRef: string, baseRef: string): string {
  return [
    'git fetch origin',
    `git switch ${headRef}`,
    `git merge --no-edit origin/${baseRef}`,
    `git push origin ${headRef}`,
  ].join(' && ');
}

// ---------------------------------------------------------------------------------------------------------------
// Checks: check runs and commit statuses on the head commit

export type CheckState = 'pass' | 'fail' | 'pending' | 'skipped' | 'neutral';

/** One check run or commit status, reduced to what the policy needs. */
export interface CheckObservation {
  name: string;
  kind: 'check run' | 'status';
  /** For check runs: queued, in_progress, completed, …; for statuses: pending, success, failure, error. */
  status: string;
  /** For completed check runs: success, failure, neutral, skipped, …; null otherwise. */
  conclusion: string | null;
  url: string | null;
  /** When it started (check run) or was created (status), ISO 8601; used to drop evidence made after a push. */
  startedAt: string | null;
  /** Who made it: the GitHub App's slug for a check run (github-actions), the creator's login for a status. */
  app?: string | null;
  /** The app's display name (GitHub Actions), for the summary. */
  appName?: string | null;
  /** The check suite of a check run: one workflow run of GitHub Actions, whose re-runs stay in it. */
  suite?: number | null;
}

export interface CheckOptions {
  required: NamePattern[];
  ignore: NamePattern[];
  treatSkippedAsPass: boolean;
  treatNeutralAsPass: boolean;
}

export function checkStateOf(check: CheckObservation): CheckState {
  if (check.kind === 'status') {
    if (check.status === 'success') return 'pass';
    if (check.status === 'pending') return 'pending';
    return 'fail';
  }
  if (check.status !== 'completed') return 'pending';
  switch (check.conclusion) {
    case 'success':
      return 'pass';
    case 'skipped':
      return 'skipped';
    case 'neutral':
      return 'neutral';
    default:
      // failure, cancelled, timed_out, action_required, stale, startup_failure: none of these validated the commit.
      return 'fail';
  }
}

/** The check matches an ignore pattern, or is a matrix leg of it (`test (3.11)` for `test`). */
export function isIgnored(check: CheckObservation, ignore: NamePattern[]): boolean {
  return ignore.some(
    (pattern) =>
      matchesCheck(pattern, check) ||
      (pattern.kind === 'name' &&
        check.name.startsWith(`${pattern.name} (`) &&
        matchesCheck({ ...pattern, name: check.name }, check)),
  );
}

/**
 * One observation per source of a check: the same name from another app, another workflow run (check suite) or
 * another status creator is another check, and all of them must pass. Only a later run from the same source
 * replaces an earlier one: a re-run of the job in the same workflow run, or a newer status from the same creator.
 */
export function latestPerSource(checks: CheckObservation[]): CheckObservation[] {
  const latest = new Map<string, CheckObservation>();
  for (const check of checks) {
    const key = [check.kind, check.app ?? '', check.suite ?? '', check.name].join('\u0000');
    const seen = latest.get(key);
    if (!seen || (check.startedAt ?? '') > (seen.startedAt ?? '')) latest.set(key, check);
  }
  return [...latest.values()];
}

/** How a check is named in the verdict: its kind, its name and who made it, all as text safe to print. */
function checkLabel(check: CheckObservation, all: CheckObservation[]): string {
  const by = check.kind === 'status' ? (check.app ? `by ${check.app}` : '') : (check.appName ?? check.app ?? '');
  const twins = all.filter(
    (c) => c.kind === check.kind && c.name === check.name && c.app === check.app && c.suite !== check.suite,
  );
  const suite = twins.length > 0 && check.suite != null ? `check suite ${check.suite}` : '';
  const source = [by, suite].filter((part) => part !== '').join(', ');
  return `${check.kind} '${untrustedText(check.name)}'${source ? ` (${untrustedText(source)})` : ''}`;
}

export interface ChecksEvaluation {
  rules: RuleResult[];
  /** True while something could still change: a check is pending or a required one has not appeared yet. */
  waiting: boolean;
}

/**
 * One row per check (and per required pattern that matched nothing). Skipped and neutral checks count as a pass
 * only when the user said so; when they did not, such a check fails only if it is required, since a job that
 * did not run (a deploy job skipped on pull requests) is not a red check.
 */
export function evaluateChecks(sha: string, observed: CheckObservation[], options: CheckOptions): ChecksEvaluation {
  const checks = latestPerSource(observed.filter((c) => !isIgnored(c, options.ignore))).sort(
    (a, b) =>
      a.name.localeCompare(b.name) ||
      a.kind.localeCompare(b.kind) ||
      (a.app ?? '').localeCompare(b.app ?? '') ||
      (a.suite ?? 0) - (b.suite ?? 0),
  );
  const short = sha.slice(0, 7);
  const rules: RuleResult[] = [];
  let waiting = false;
  const isRequired = (check: CheckObservation) => options.required.some((p) => matchesCheck(p, check));

  for (const check of checks) {
    const rule = checkLabel(check, checks);
    const state = checkStateOf(check);
    const required = isRequired(check);
    const link = check.url ? ` (${untrustedText(check.url)})` : '';
    if (state === 'pass') {
      rules.push({ rule, state: 'pass', reason: `succeeded on ${short}`, fix: '' });
    } else if (state === 'pending') {
      waiting = true;
      rules.push({
        rule,
        state: 'pending',
        reason: `still ${untrustedText(check.status.replace('_', ' '))} on ${short}`,
        fix: 'Wait for it to finish (raise wait-for-checks to let the guard wait longer), then re-run the guard.',
      });
    } else if (state === 'skipped' || state === 'neutral') {
      const counts = state === 'skipped' ? options.treatSkippedAsPass : options.treatNeutralAsPass;
      const input = state === 'skipped' ? 'treat-skipped-as-pass' : 'treat-neutral-as-pass';
      if (counts) {
        rules.push({ rule, state: 'pass', reason: `${state} on ${short}, counted as a pass (${input})`, fix: '' });
      } else if (!required) {
        rules.push({ rule, state: 'pass', reason: `${state} on ${short}; not required, so not counted`, fix: '' });
      } else {
        rules.push({
          rule,
          state: 'fail',
          reason: `required but ${state} on ${short}: it did not validate the commit${link}`,
          fix: `Make the check run on this branch, or set ${input}: true if a ${state} result is acceptable.`,
        });
      }
    } else {
      const outcome = untrustedText(check.kind === 'status' ? check.status : (check.conclusion ?? 'failed'));
      rules.push({
        rule,
        state: 'fail',
        reason: `${outcome} on ${short}${link}`,
        fix: `Fix what '${untrustedText(check.name)}' reports, push the fix to the source branch and let CI run again (a failed run is replaced only by a re-run of the same workflow run, or a newer status from the same creator).`,
      });
    }
  }

  for (const pattern of options.required) {
    if (checks.some((c) => matchesCheck(pattern, c))) continue;
    waiting = true;
    const others = checks.filter((c) => matchesPattern(pattern, c.name)).map((c) => checkLabel(c, checks));
    const otherApps = others.length > 0 ? ` (only from another source: ${others.join(', ')})` : '';
    rules.push({
      rule: `required check '${untrustedText(describePattern(pattern))}'`,
      state: 'missing',
      reason: `no check run or status matching it was reported on ${short}${otherApps}`,
      fix: 'Make sure the workflow that produces it runs for this branch (check its `on:` filters and job `if:`), or correct required-checks.',
    });
  }

  if (checks.length === 0 && options.required.length === 0) {
    waiting = true;
    rules.push({
      rule: 'checks',
      state: 'missing',
      reason: `no check run or status other than the guard itself was reported on ${short}: nothing validated it`,
      fix: 'Run the test workflow on the source branch (on: push / pull_request) so that the commit is validated.',
    });
  }
  return { rules, waiting };
}

/** After the wait is over, what is still pending or missing explains itself as having run out of time. */
export function closeWaiting(rules: RuleResult[], waitedMs: number): RuleResult[] {
  if (waitedMs <= 0) return rules;
  const seconds = Math.round(waitedMs / 1000);
  return rules.map((r) =>
    r.state === 'pending' || r.state === 'missing' ? { ...r, reason: `${r.reason}, after waiting ${seconds}s` } : r,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Push to a protected branch: did the commit come through the flow?

export interface PushOrigin {
  /** How the commit reached the branch, when it came through the flow. */
  via:
    | { kind: 'pull request'; number: number; headRef: string; headSha: string }
    | { kind: 'contained'; source: string }
    | null;
  /** Pull requests merged as this commit that were refused (wrong source or a fork), for the explanation. */
  refusedPulls: { number: number; headRef: string; headRepo: string | null }[];
}

export function pushOriginRule(
  origin: PushOrigin,
  facts: {
    branch: string;
    sha: string;
    pusher: string;
    forced: boolean;
    allowedSources: string[];
  },
): RuleResult {
  const rule = 'came through the flow';
  const short = facts.sha.slice(0, 7);
  const via = origin.via;
  if (via?.kind === 'pull request') {
    return {
      rule,
      state: 'pass',
      reason: `${short} is the merge of pull request #${via.number} from '${via.headRef}'`,
      fix: '',
    };
  }
  if (via?.kind === 'contained') {
    return { rule, state: 'pass', reason: `${short} is a commit of '${via.source}'`, fix: '' };
  }
  const force = facts.forced ? ' (a force push)' : '';
  const fix =
    `Revert ${short} on ${facts.branch} (git revert -m 1 for a merge), bring the change through ${facts.allowedSources[0]} and a pull request, ` +
    `and review who may bypass the ${facts.branch} ruleset.`;
  if (origin.refusedPulls.length > 0) {
    const pulls = origin.refusedPulls
      .map(
        (p) =>
          `pull request #${p.number} from '${p.headRef}'${p.headRepo ? ` of ${p.headRepo}` : ' of a deleted fork'}`,
      )
      .join(', ');
    return {
      rule,
      state: 'fail',
      reason:
        `the flow was bypassed: ${short} on '${facts.branch}' is the merge of ${pulls}, which is not an allowed source ` +
        `(${facts.allowedSources.join(', ')}); it was merged by ${facts.pusher} although the guard refuses it (an admin merge, or the guard is not a required check)`,
      fix,
    };
  }
  return {
    rule,
    state: 'fail',
    reason:
      `a direct push or an admin bypass happened: ${short} on '${facts.branch}', pushed by ${facts.pusher}${force}, ` +
      `is neither the merge of a pull request from ${facts.allowedSources.join(', ')} nor a commit of it`,
    fix,
  };
}
