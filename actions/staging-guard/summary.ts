import type { RuleResult, RuleState, Verdict } from './policy.js';

/** Hidden in the pull request comment so that the next run finds and updates it instead of adding another. */
export const COMMENT_MARKER = '<!-- runbook:staging-guard -->';

const ICON: Record<RuleState, string> = {
  pass: '✅ pass',
  fail: '❌ fail',
  pending: '⏳ pending',
  missing: '❔ missing',
};

export interface SummaryContext {
  /** What was judged, e.g. "pull request #12: staging → master". */
  subject: string;
  sha: string;
}

/** Markdown for the job summary and the pull request comment: the verdict, then one row per rule. */
export function renderVerdict(verdict: Verdict, context: SummaryContext): string {
  const head = verdict.allowed
    ? `### ✅ Staging guard: allowed\n\n${context.subject} at ${context.sha.slice(0, 7)} came through the flow.`
    : `### ❌ Staging guard: refused\n\n${context.subject} at ${context.sha.slice(0, 7)} does not satisfy the flow.`;
  const rows = verdict.rules.map((r) => `| ${cell(r.rule)} | ${ICON[r.state]} | ${cell(r.reason)} | ${fixCell(r)} |`);
  return [head, '', '| rule | result | reason | fix |', '| --- | --- | --- | --- |', ...rows, ''].join('\n');
}

// GitHub refuses comment bodies over 65536 characters; hundreds of matrix checks can get there.
const COMMENT_LIMIT = 65_000;

export function renderComment(verdict: Verdict, context: SummaryContext): string {
  // Rows that did not pass come first, so a cut comment still shows why the merge was refused.
  const ordered = {
    ...verdict,
    rules: [...verdict.rules].sort((a, b) => Number(a.state === 'pass') - Number(b.state === 'pass')),
  };
  const body = `${COMMENT_MARKER}\n${renderVerdict(ordered, context)}`;
  if (body.length <= COMMENT_LIMIT) return body;
  const cut = body.lastIndexOf('\n', COMMENT_LIMIT - 200);
  return `${body.slice(0, cut)}\n\n… ${verdict.rules.length} rules in all; the job summary has the whole table.\n`;
}

function fixCell(rule: RuleResult): string {
  if (rule.fix === '') return '';
  // Commands read better as code; prose stays prose.
  return rule.fix.startsWith('git ') ? `\`${cell(rule.fix)}\`` : cell(rule.fix);
}

/** A table cell: no line breaks, and pipes escaped so they do not split the row. */
function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}
