import * as core from '../shared/runner-commands.js';
import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { ActionFailure, ConfigurationError, errorMessage } from '../shared/errors.js';
import { environmentInputs, type InputSource } from '../shared/inputs.js';
import { runAction } from '../shared/run-action.js';
import { subjectOf, type Subject } from './event.js';
import { createGateway, defaultOctokit, type GitHubGateway, type PullFacts } from './github-gateway.js';
import { readInputs, type Inputs } from './inputs.js';
import { groupTrail } from './merge-group.js';
import {
  branchMatches,
  closeWaiting,
  evaluateChecks,
  freshnessRule,
  pushOriginRule,
  sameRepositoryRule,
  sourceBranchRule,
  verdictOf,
  type PushOrigin,
  type RuleResult,
  type Verdict,
} from './policy.js';
import { COMMENT_MARKER, renderComment, renderVerdict } from './summary.js';

/** How the guard talks to the runner; the default is its workflow commands, tests record instead. */
export interface Runner {
  info(message: string): void;
  notice(message: string): void;
  warning(message: string): void;
  setOutput(name: string, value: string): void;
  setSecret(value: string): void;
  writeSummary(markdown: string): Promise<void>;
}

/** The edges of the guard, passed in so that `guard` runs in-process against a stand-in GitHub. */
export interface GuardEdges {
  inputs: InputSource;
  env: NodeJS.ProcessEnv;
  event: { name: string; payload: unknown };
  gateway: (token: string, repository: { owner: string; repo: string }) => GitHubGateway | Promise<GitHubGateway>;
  clock: () => number;
  sleep: (ms: number) => Promise<void>;
  runner: Runner;
}

export const coreRunner: Runner = {
  info: (message) => core.info(message),
  notice: (message) => core.notice(message),
  warning: (message) => core.warning(message),
  setOutput: (name, value) => core.setOutput(name, value),
  setSecret: (value) => core.setSecret(value),
  writeSummary: async (markdown) => {
    if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(markdown).write();
  },
};

export function defaultEdges(env: NodeJS.ProcessEnv = process.env): GuardEdges {
  const path = env.GITHUB_EVENT_PATH;
  const payload: unknown = path ? JSON.parse(readFileSync(path, 'utf8')) : {};
  return {
    inputs: environmentInputs,
    env,
    event: { name: env.GITHUB_EVENT_NAME ?? '', payload },
    gateway: async (token, repository) => createGateway(await defaultOctokit(token), repository),
    clock: () => Date.now(),
    sleep: (ms) => delay(ms),
    runner: coreRunner,
  };
}

export async function run(edges?: GuardEdges): Promise<void> {
  await runAction(() => guard(edges ?? defaultEdges()).then(() => undefined));
}

/** Judges the event and returns the verdict (undefined when there was nothing to judge); throws when refused. */
export async function guard(edges: GuardEdges): Promise<Verdict | undefined> {
  const inputs = readInputs(edges.inputs, edges.env);
  edges.runner.setSecret(inputs['github-token']);
  if (edges.event.name === 'pull_request') {
    // The workflow file comes from the pull request's own merge commit: the change being judged can edit its judge.
    edges.runner.warning(
      'The staging guard runs on `pull_request`, so GitHub runs this workflow file as the pull request changed it: a pull request can edit or remove its own guard. Run the guard on `pull_request_target` and make that check required (see "Make it a required check that a pull request cannot edit" in the staging-guard README).',
    );
  }
  const subject = subjectOf(edges.event.name, edges.event.payload);
  if (subject.kind === 'skip') return skip(edges, `Staging guard skipped: ${subject.reason}.`);
  const gh = await edges.gateway(inputs['github-token'], repositoryOf(edges));
  const judge = new Judge(gh, inputs, edges);

  let judged: Judged | undefined;
  if (subject.kind === 'pull request') judged = await judge.pullRequest(subject);
  else if (subject.kind === 'merge group') judged = await judge.mergeGroup(subject);
  else judged = await judge.push(subject);
  if (!judged) return undefined;

  const verdict = verdictOf(judged.rules);
  const { runner } = edges;
  for (const rule of verdict.rules) runner.info(`${rule.state.padEnd(7)} ${rule.rule}: ${rule.reason}`);
  runner.setOutput('allowed', String(verdict.allowed));
  runner.setOutput('reasons', JSON.stringify(verdict.reasons));
  const context = { subject: judged.title, sha: judged.sha };
  await runner.writeSummary(renderVerdict(verdict, context));
  if (inputs.comment && judged.pullNumber !== null)
    await upsertComment(gh, runner, judged.pullNumber, renderComment(verdict, context));

  if (!verdict.allowed) {
    const lines = verdict.rules
      .filter((r) => r.state !== 'pass')
      .map((r) => `- ${r.rule}: ${r.reason}${r.fix ? `\n  Fix: ${r.fix}` : ''}`);
    throw new ActionFailure(`Staging guard refused ${judged.title}:\n${lines.join('\n')}`);
  }
  return verdict;
}

interface Judged {
  title: string;
  sha: string;
  rules: RuleResult[];
  pullNumber: number | null;
}

function skip(edges: GuardEdges, message: string): undefined {
  edges.runner.notice(message);
  edges.runner.setOutput('allowed', 'skipped');
  edges.runner.setOutput('reasons', '[]');
  return undefined;
}

function repositoryOf(edges: GuardEdges): { owner: string; repo: string } {
  const payloadRepo = (edges.event.payload as { repository?: { full_name?: unknown } } | null)?.repository?.full_name;
  const full = edges.env.GITHUB_REPOSITORY || (typeof payloadRepo === 'string' ? payloadRepo : '');
  const [owner, repo, extra] = full.split('/');
  if (!owner || !repo || extra !== undefined) {
    throw new ConfigurationError(
      `GITHUB_REPOSITORY must be owner/name; got '${full}'. Run the guard inside a GitHub Actions job.`,
    );
  }
  return { owner, repo };
}

class Judge {
  constructor(
    private readonly gh: GitHubGateway,
    private readonly inputs: Inputs,
    private readonly edges: GuardEdges,
  ) {}

  private get sources(): string[] {
    return this.inputs['allowed-sources'];
  }

  async pullRequest(subject: Extract<Subject, { kind: 'pull request' }>): Promise<Judged | undefined> {
    // The payload is frozen at the event; a re-run must judge the pull request as it is now.
    const pull = await this.gh.getPull(subject.number);
    if (!branchMatches(this.inputs.protected, pull.baseRef)) {
      return skip(
        this.edges,
        `Staging guard skipped: pull request #${pull.number} targets '${pull.baseRef}', which is not protected (${this.inputs.protected.join(', ')}).`,
      );
    }
    const rules = this.sourceRules(pull);
    if (pull.headRepo !== null) {
      // A fork's branch is named owner:branch across the fork network; a deleted fork has nothing to compare.
      const head = pull.headRepo === pull.baseRepo ? pull.headSha : `${pull.headRepo.split('/')[0]}:${pull.headRef}`;
      rules.push(freshnessRule(await this.gh.compare(pull.baseRef, head), pull.headRef, pull.baseRef));
    }
    rules.push(...(await this.checkRules(pull.headSha, rules, null)));
    return {
      title: `pull request #${pull.number} (${pull.headRef} → ${pull.baseRef})`,
      sha: pull.headSha,
      rules,
      pullNumber: pull.number,
    };
  }

  async mergeGroup(subject: Extract<Subject, { kind: 'merge group' }>): Promise<Judged | undefined> {
    if (!branchMatches(this.inputs.protected, subject.baseRef)) {
      return skip(
        this.edges,
        `Staging guard skipped: the merge group targets '${subject.baseRef}', which is not protected (${this.inputs.protected.join(', ')}).`,
      );
    }
    const pulls = await this.pullsOfGroup(subject);
    const rules: RuleResult[] = [];
    let title = `merge group into ${subject.baseRef}`;
    if (pulls.length === 0) {
      rules.push({
        rule: 'source branch',
        state: 'fail',
        reason:
          'no pull request of the merge group was found: its branch does not name one (expected gh-readonly-queue/<base>/pr-<number>-<sha>) and its commits name none',
        fix: "Let GitHub's merge queue create the merge group; do not push gh-readonly-queue branches by hand.",
      });
    } else if (pulls.length === 1) {
      title = `merge group for pull request #${pulls[0].number} (${pulls[0].headRef} → ${subject.baseRef})`;
      rules.push(...this.sourceRules({ ...pulls[0], baseRef: subject.baseRef }));
    } else {
      // Every pull request of the group is judged: one from a feature branch must not ride behind staging's.
      title = `merge group for pull requests ${pulls.map((p) => `#${p.number}`).join(', ')} into ${subject.baseRef}`;
      for (const pull of pulls) {
        for (const rule of this.sourceRules({ ...pull, baseRef: subject.baseRef })) {
          rules.push({ ...rule, rule: `${rule.rule} of #${pull.number}` });
        }
      }
    }
    const comparison = await this.gh.compare(subject.baseSha, subject.headSha);
    rules.push(freshnessRule(comparison, 'the merge group', subject.baseRef));
    rules.push(...(await this.checkRules(subject.headSha, rules, null)));
    return { title, sha: subject.headSha, rules, pullNumber: null };
  }

  /**
   * The open pull requests into the group's base that the group holds: the one its branch names, and those its
   * history names (see merge-group.ts), oldest first.
   */
  private async pullsOfGroup(subject: Extract<Subject, { kind: 'merge group' }>): Promise<PullFacts[]> {
    const trail = groupTrail(
      await this.gh.commitsBetween(subject.baseSha, subject.headSha),
      subject.baseSha,
      subject.headSha,
    );
    const found = new Map<number, PullFacts>();
    const keep = (pull: PullFacts) => {
      if (pull.state === 'open' && pull.baseRef === subject.baseRef) found.set(pull.number, pull);
    };
    for (const head of trail.pullHeads) {
      for (const pull of await this.gh.pullsForCommit(head)) if (pull.headSha === head) keep(pull);
    }
    if (subject.pullNumber !== null && !found.has(subject.pullNumber)) keep(await this.gh.getPull(subject.pullNumber));
    for (const number of trail.numbers.filter((n) => !found.has(n))) {
      // A message can name an issue or a deleted pull request: that one is not in the queue.
      const pull = await this.gh.getPull(number).catch((error: unknown) => {
        if (/answered 404/.test(errorMessage(error))) return undefined;
        throw error;
      });
      if (pull) keep(pull);
    }
    if (trail.unnamed.length > 0) {
      this.edges.runner.info(
        `The merge group has ${trail.unnamed.length} commit(s) that name no pull request (a rebase merge); they are judged through the pull request the queue branch names and the group's checks.`,
      );
    }
    return [...found.values()].sort((a, b) => a.number - b.number);
  }

  async push(subject: Extract<Subject, { kind: 'push' }>): Promise<Judged | undefined> {
    const { runner } = this.edges;
    if (branchMatches(this.sources, subject.branch)) {
      runner.notice(
        `Push to '${subject.branch}': nothing to guard here. CI on ${subject.branch} is the validation; the guard judges what goes from ${subject.branch} into ${this.inputs.protected.join(', ')}.`,
      );
      runner.setOutput('allowed', 'true');
      runner.setOutput('reasons', '[]');
      return undefined;
    }
    if (!branchMatches(this.inputs.protected, subject.branch)) {
      return skip(
        this.edges,
        `Staging guard skipped: '${subject.branch}' is neither protected (${this.inputs.protected.join(', ')}) nor an allowed source.`,
      );
    }
    const origin: PushOrigin = { via: null, refusedPulls: [] };
    let checksSha = subject.after;
    let cutoff: string | null = null;

    const merged = (await this.gh.pullsForCommit(subject.after)).filter(
      (p) => p.mergedAt !== null && p.baseRef === subject.branch && p.mergeCommitSha === subject.after,
    );
    const good = merged.find((p) => branchMatches(this.sources, p.headRef) && p.headRepo === p.baseRepo);
    if (good) {
      origin.via = { kind: 'pull request', number: good.number, headRef: good.headRef, headSha: good.headSha };
      checksSha = good.headSha;
    } else {
      origin.refusedPulls = merged.map((p) => ({ number: p.number, headRef: p.headRef, headRepo: p.headRepo }));
      for (const source of this.sources.filter((s) => !s.includes('*'))) {
        const comparison = await this.gh.compare(source, subject.after).catch((error: unknown) => {
          // A source branch that does not exist (yet) cannot contain the commit; anything else is a real problem.
          if (/answered 404/.test(errorMessage(error))) return undefined;
          throw error;
        });
        if (comparison && comparison.aheadBy === 0) {
          origin.via = { kind: 'contained', source };
          // The checks on this commit that started after the push were started by the push itself: not evidence.
          cutoff = subject.pushedAt;
          break;
        }
      }
    }
    const rules = [pushOriginRule(origin, { ...subject, sha: subject.after, allowedSources: this.sources })];
    if (origin.via) rules.push(...(await this.checkRules(checksSha, rules, cutoff)));
    return {
      title: `push of ${subject.after.slice(0, 7)} to ${subject.branch}`,
      sha: subject.after,
      rules,
      pullNumber: null,
    };
  }

  private sourceRules(pull: PullFacts): RuleResult[] {
    const facts = {
      headRef: pull.headRef,
      headRepo: pull.headRepo,
      baseRepo: pull.baseRepo,
      baseRef: pull.baseRef,
      allowedSources: this.sources,
    };
    return [sourceBranchRule(facts), sameRepositoryRule(facts)];
  }

  /**
   * Evaluates the head's checks, polling while some are pending or required ones are missing, up to
   * wait-for-checks. Waiting is pointless once another rule has already refused, so then it looks once.
   */
  private async checkRules(sha: string, earlier: RuleResult[], cutoff: string | null): Promise<RuleResult[]> {
    const { clock, sleep, runner } = this.edges;
    const options = {
      required: this.inputs['required-checks'],
      ignore: this.inputs['ignore-checks'],
      treatSkippedAsPass: this.inputs['treat-skipped-as-pass'],
      treatNeutralAsPass: this.inputs['treat-neutral-as-pass'],
    };
    const wait = earlier.some((r) => r.state === 'fail') ? 0 : this.inputs['wait-for-checks'];
    const interval = this.inputs['poll-interval'];
    const started = clock();
    const deadline = started + wait;
    // Bounded by rounds as well as by the clock, so a clock that stands still cannot hold the job.
    const maxRounds = Math.ceil(wait / interval) + 1;
    for (let round = 1; ; round++) {
      let observed = await this.gh.checks(sha);
      if (cutoff !== null) observed = observed.filter((c) => c.startedAt === null || c.startedAt < cutoff);
      const evaluation = evaluateChecks(sha, observed, options);
      const now = clock();
      if (!evaluation.waiting || now >= deadline || round >= maxRounds) {
        return closeWaiting(evaluation.rules, wait > 0 ? now - started : 0);
      }
      const open = evaluation.rules.filter((r) => r.state === 'pending' || r.state === 'missing').map((r) => r.rule);
      runner.info(`Waiting for ${open.join(', ')}; ${Math.ceil((deadline - now) / 1000)}s left of wait-for-checks.`);
      await sleep(Math.min(interval, deadline - now));
    }
  }
}

/** Keeps one guard comment per pull request, found by its hidden marker and edited in place. */
async function upsertComment(gh: GitHubGateway, runner: Runner, pull: number, body: string): Promise<void> {
  try {
    const existing = (await gh.listComments(pull)).find((c) => c.body.includes(COMMENT_MARKER));
    if (existing) await gh.updateComment(existing.id, body);
    else await gh.createComment(pull, body);
  } catch (error) {
    // The verdict stands without the comment: a token that cannot comment (a fork's) must not turn it red.
    runner.warning(`The verdict comment was not posted: ${errorMessage(error)}`);
  }
}
