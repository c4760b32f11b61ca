/**
 * A small evaluator for the GitHub Actions expression language, enough for what our tests and action.yml files use:
 * `${{ github.token }}` input defaults, `${{ steps.x.outputs.y }}` in a later step's inputs, and `if`/`post-if`
 * conditions built from status functions, `!`, `&&`, `||`, `==`, `!=`, comparisons and parentheses.
 * Semantics follow the documented ones: `&&`/`||` return an operand, string equality ignores case, mismatched
 * types compare as numbers, and a condition without a status function is implicitly `success() && (…)`.
 */

export type JobStatus = 'success' | 'failure' | 'cancelled';

export interface ExpressionContext {
  /** Top-level contexts by name: github, env, steps, runner, job, inputs… (looked up case-insensitively). */
  contexts: Record<string, unknown>;
  status: JobStatus;
}

type Token =
  | { kind: 'punct'; value: string }
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'ident'; value: string };

type Node =
  | { type: 'literal'; value: unknown }
  | { type: 'context'; name: string }
  | { type: 'member'; object: Node; property: Node }
  | { type: 'call'; name: string; args: Node[] }
  | { type: 'not'; operand: Node }
  | { type: 'binary'; operator: string; left: Node; right: Node };

const STATUS_FUNCTIONS = new Set(['success', 'failure', 'cancelled', 'always']);
const PUNCTUATION = ['==', '!=', '<=', '>=', '&&', '||', '(', ')', '[', ']', '.', ',', '!', '<', '>'];

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === "'") {
      // A quote inside a string literal is written twice, as in SQL.
      let value = '';
      i += 1;
      for (;;) {
        if (i >= source.length) throw new Error(`Unterminated string in expression: ${source}`);
        if (source[i] === "'" && source[i + 1] === "'") {
          value += "'";
          i += 2;
        } else if (source[i] === "'") {
          i += 1;
          break;
        } else {
          value += source[i];
          i += 1;
        }
      }
      tokens.push({ kind: 'string', value });
    } else if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(source[i + 1] ?? ''))) {
      const match = /^-?(0x[0-9a-fA-F]+|[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?)/.exec(source.slice(i));
      if (!match) throw new Error(`Bad number in expression: ${source}`);
      tokens.push({ kind: 'number', value: Number(match[0]) });
      i += match[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      // Names may contain dashes: steps.deploy-app.outputs.release-id.
      const match = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(source.slice(i)) as RegExpExecArray;
      tokens.push({ kind: 'ident', value: match[0] });
      i += match[0].length;
    } else {
      const punct = PUNCTUATION.find((p) => source.startsWith(p, i));
      if (!punct) throw new Error(`Unexpected '${c}' in expression: ${source}`);
      tokens.push({ kind: 'punct', value: punct });
      i += punct.length;
    }
  }
  return tokens;
}

class Parser {
  private position = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly source: string,
  ) {}

  parse(): Node {
    const node = this.or();
    if (this.position < this.tokens.length) this.fail('unexpected trailing input');
    return node;
  }

  private fail(why: string): never {
    throw new Error(`Invalid expression (${why}): ${this.source}`);
  }

  private peekPunct(...values: string[]): string | undefined {
    const token = this.tokens[this.position];
    return token?.kind === 'punct' && values.includes(token.value) ? token.value : undefined;
  }

  private expect(value: string): void {
    if (!this.peekPunct(value)) this.fail(`expected '${value}'`);
    this.position += 1;
  }

  private binary(operators: string[], next: () => Node): Node {
    let left = next();
    for (let op = this.peekPunct(...operators); op; op = this.peekPunct(...operators)) {
      this.position += 1;
      left = { type: 'binary', operator: op, left, right: next() };
    }
    return left;
  }

  private or = (): Node => this.binary(['||'], this.and);
  private and = (): Node => this.binary(['&&'], this.equality);
  private equality = (): Node => this.binary(['==', '!='], this.comparison);
  private comparison = (): Node => this.binary(['<', '<=', '>', '>='], this.unary);

  private unary = (): Node => {
    if (this.peekPunct('!')) {
      this.position += 1;
      return { type: 'not', operand: this.unary() };
    }
    return this.postfix();
  };

  private postfix(): Node {
    let node = this.primary();
    for (;;) {
      if (this.peekPunct('.')) {
        this.position += 1;
        const token = this.tokens[this.position];
        if (token?.kind !== 'ident') this.fail("expected a name after '.'");
        this.position += 1;
        node = { type: 'member', object: node, property: { type: 'literal', value: token.value } };
      } else if (this.peekPunct('[')) {
        this.position += 1;
        const property = this.or();
        this.expect(']');
        node = { type: 'member', object: node, property };
      } else {
        return node;
      }
    }
  }

  private primary(): Node {
    const token = this.tokens[this.position];
    if (!token) this.fail('unexpected end');
    this.position += 1;
    if (token.kind === 'string' || token.kind === 'number') return { type: 'literal', value: token.value };
    if (token.kind === 'punct') {
      if (token.value !== '(') this.fail(`unexpected '${token.value}'`);
      const inner = this.or();
      this.expect(')');
      return inner;
    }
    if (token.value === 'true' || token.value === 'false') return { type: 'literal', value: token.value === 'true' };
    if (token.value === 'null') return { type: 'literal', value: null };
    if (this.peekPunct('(')) {
      this.position += 1;
      const args: Node[] = [];
      if (!this.peekPunct(')')) {
        args.push(this.or());
        while (this.peekPunct(',')) {
          this.position += 1;
          args.push(this.or());
        }
      }
      this.expect(')');
      return { type: 'call', name: token.value.toLowerCase(), args };
    }
    return { type: 'context', name: token.value };
  }
}

export function parseExpression(source: string): Node {
  return new Parser(tokenize(source), source).parse();
}

function usesStatusFunction(node: Node): boolean {
  switch (node.type) {
    case 'call':
      return STATUS_FUNCTIONS.has(node.name) || node.args.some(usesStatusFunction);
    case 'member':
      return usesStatusFunction(node.object) || usesStatusFunction(node.property);
    case 'not':
      return usesStatusFunction(node.operand);
    case 'binary':
      return usesStatusFunction(node.left) || usesStatusFunction(node.right);
    default:
      return false;
  }
}

export function truthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === '') return false;
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value);
  return true;
}

function toNumber(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return value.trim() === '' ? 0 : Number(value);
  return NaN;
}

function equal(left: unknown, right: unknown): boolean {
  if (typeof left === 'string' && typeof right === 'string') return left.toLowerCase() === right.toLowerCase();
  if (typeof left === typeof right && typeof left !== 'object') return left === right;
  if (left === null && right === null) return true;
  if (typeof left === 'object' && left !== null && typeof right === 'object' && right !== null) return left === right;
  return toNumber(left) === toNumber(right);
}

function property(object: unknown, key: unknown): unknown {
  if (object === null || typeof object !== 'object') return null;
  if (Array.isArray(object) && typeof key === 'number') return object[key] ?? null;
  const name = String(key);
  const record = object as Record<string, unknown>;
  if (name in record) return record[name];
  // Context property names are case-insensitive (github.REF is github.ref).
  const match = Object.keys(record).find((k) => k.toLowerCase() === name.toLowerCase());
  return match === undefined ? null : record[match];
}

/** The string a value becomes when interpolated into an input or env value. */
export function stringify(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value, null, 2);
  return String(value);
}

function evaluate(node: Node, context: ExpressionContext): unknown {
  switch (node.type) {
    case 'literal':
      return node.value;
    case 'context': {
      const value = property(context.contexts, node.name);
      if (value === null && !Object.keys(context.contexts).some((k) => k.toLowerCase() === node.name.toLowerCase())) {
        throw new Error(
          `Unrecognized named-value: '${node.name}' (known contexts: ${Object.keys(context.contexts).join(', ')})`,
        );
      }
      return value;
    }
    case 'member':
      return property(evaluate(node.object, context), evaluate(node.property, context));
    case 'not':
      return !truthy(evaluate(node.operand, context));
    case 'binary': {
      const left = evaluate(node.left, context);
      if (node.operator === '&&') return truthy(left) ? evaluate(node.right, context) : left;
      if (node.operator === '||') return truthy(left) ? left : evaluate(node.right, context);
      const right = evaluate(node.right, context);
      if (node.operator === '==') return equal(left, right);
      if (node.operator === '!=') return !equal(left, right);
      const [a, b] =
        typeof left === 'string' && typeof right === 'string'
          ? [left.toLowerCase(), right.toLowerCase()]
          : [toNumber(left), toNumber(right)];
      if (node.operator === '<') return a < b;
      if (node.operator === '<=') return a <= b;
      if (node.operator === '>') return a > b;
      return a >= b;
    }
    case 'call':
      return call(node.name, node.args, context);
  }
}

function call(name: string, args: Node[], context: ExpressionContext): unknown {
  const values = () => args.map((a) => evaluate(a, context));
  switch (name) {
    case 'always':
      return true;
    case 'success':
      return context.status === 'success';
    case 'failure':
      return context.status === 'failure';
    case 'cancelled':
      return context.status === 'cancelled';
    case 'contains': {
      const [haystack, needle] = values();
      if (Array.isArray(haystack)) return haystack.some((item) => equal(item, needle));
      return stringify(haystack).toLowerCase().includes(stringify(needle).toLowerCase());
    }
    case 'startswith': {
      const [text, prefix] = values();
      return stringify(text).toLowerCase().startsWith(stringify(prefix).toLowerCase());
    }
    case 'endswith': {
      const [text, suffix] = values();
      return stringify(text).toLowerCase().endsWith(stringify(suffix).toLowerCase());
    }
    case 'tojson':
      return JSON.stringify(values()[0] ?? null, null, 2);
    case 'fromjson':
      return JSON.parse(stringify(values()[0]));
    default:
      throw new Error(
        `Unsupported function '${name}()' (the harness knows always, success, failure, cancelled, contains, startsWith, endsWith, toJSON, fromJSON)`,
      );
  }
}

export function evaluateExpression(source: string, context: ExpressionContext): unknown {
  return evaluate(parseExpression(source), context);
}

/** An `if:`/`post-if:` condition; `${{ }}` around it is optional, and no status function means `success() && (…)`. */
export function evaluateCondition(condition: string, context: ExpressionContext): boolean {
  let source = condition.trim();
  const wrapped = /^\$\{\{([\s\S]*)\}\}$/.exec(source);
  if (wrapped) source = wrapped[1].trim();
  if (source === '') source = 'success()';
  const node = parseExpression(source);
  const effective: Node = usesStatusFunction(node)
    ? node
    : { type: 'binary', operator: '&&', left: { type: 'call', name: 'success', args: [] }, right: node };
  return truthy(evaluate(effective, context));
}

/** Replaces every `${{ … }}` in a string value; quotes inside the expression may contain `}}`. */
export function interpolate(text: string, context: ExpressionContext): string {
  let result = '';
  let i = 0;
  for (;;) {
    const start = text.indexOf('${{', i);
    if (start < 0) return result + text.slice(i);
    result += text.slice(i, start);
    let j = start + 3;
    let inString = false;
    while (j < text.length && (inString || !text.startsWith('}}', j))) {
      if (text[j] === "'") inString = !inString;
      j += 1;
    }
    if (j >= text.length) throw new Error(`Unterminated '\${{' in: ${text}`);
    result += stringify(evaluateExpression(text.slice(start + 3, j).trim(), context));
    i = j + 2;
  }
}
