// `${{ }}` in workflow files, evaluated by GitHub's own expression library (@actions/expressions), with the status
// functions a workflow's `if:` may call. Contexts are plain objects (github, env, inputs, secrets, needs, steps…).
import { data, Evaluator, Lexer, Parser } from '@actions/expressions';
import { truthy } from '@actions/expressions/result';

/** 'skipped' is a job's view when a need was skipped and none failed: neither success() nor failure() holds. */
export type RunStatus = 'success' | 'failure' | 'cancelled' | 'skipped';

export interface WorkflowContext {
  contexts: Record<string, unknown>;
  /** What success(), failure() and cancelled() see: the job's steps so far, or a job's needs. */
  status: RunStatus;
}

const STATUS = ['success', 'failure', 'cancelled', 'always'];

function evaluateData(source: string, context: WorkflowContext): data.ExpressionData {
  const functions = new Map(
    STATUS.map((name) => [
      name,
      {
        name,
        minArgs: 0,
        maxArgs: 0,
        call: () =>
          new data.BooleanData(
            name === 'always' ||
              (name === 'success' && context.status === 'success') ||
              (name === 'failure' && context.status === 'failure') ||
              (name === 'cancelled' && context.status === 'cancelled'),
          ),
      },
    ]),
  );
  const { tokens } = new Lexer(source).lex();
  const expression = new Parser(tokens, Object.keys(context.contexts), [...functions.values()]).parse();
  const dictionary = JSON.parse(JSON.stringify(context.contexts), data.reviver) as data.Dictionary;
  return new Evaluator(expression, dictionary, functions).evaluate();
}

/** An `if:` (with or without `${{ }}`); one that calls no status function means `success() && (…)`. */
export function evaluateIf(condition: string | boolean | undefined, context: WorkflowContext): boolean {
  if (typeof condition === 'boolean') return condition;
  const source =
    (condition ?? '')
      .trim()
      .replace(/^\$\{\{([\s\S]*)\}\}$/, '$1')
      .trim() || 'success()';
  const withStatus = /\b(success|failure|cancelled|always)\s*\(/.test(source) ? source : `success() && (${source})`;
  return truthy(evaluateData(withStatus, context));
}

/** A value with `${{ }}` parts replaced by their string forms; anything else is returned as a string. */
export function interpolateValue(value: unknown, context: WorkflowContext): string {
  if (typeof value !== 'string') return value === undefined || value === null ? '' : String(value);
  return value.replace(/\$\{\{([\s\S]*?)\}\}/g, (_, source: string) => evaluateData(source, context).coerceString());
}
