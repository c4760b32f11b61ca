import { ConfigurationError } from '../shared/errors.js';
import { InputReader, parseDuration, type InputSource, environmentInputs } from '../shared/inputs.js';
import type { NamePattern } from './policy.js';
import { excerpt } from '../shared/untrusted-text.js';

export interface Inputs {
  protected: string[];
  'allowed-sources': string[];
  'required-checks': NamePattern[];
  /** Milliseconds; 0 means judge what is there now without waiting. */
  'wait-for-checks': number;
  'poll-interval': number;
  'treat-skipped-as-pass': boolean;
  'treat-neutral-as-pass': boolean;
  /** The input's patterns plus this job's id (GITHUB_JOB), so the guard never waits for itself. */
  'ignore-checks': NamePattern[];
  comment: boolean;
  'github-token': string;
}

export function readInputs(source: InputSource = environmentInputs, env: NodeJS.ProcessEnv = process.env): Inputs {
  const reader = new InputReader(source);
  const token = reader.string('github-token');
  if (token === '') {
    throw new ConfigurationError(
      "Input 'github-token' is required: pass a token that can read checks and statuses, such as `github-token: ${{ github.token }}` (the default) or a fine-grained token.",
    );
  }
  const protectedBranches = reader.list('protected');
  if (protectedBranches.length === 0) {
    throw new ConfigurationError(
      "Input 'protected' must name at least one branch (comma or newline separated), such as 'master,main'.",
    );
  }
  const allowedSources = reader.list('allowed-sources');
  if (allowedSources.length === 0) {
    throw new ConfigurationError(
      "Input 'allowed-sources' must name at least one branch that may be merged into a protected branch (comma or newline separated), such as 'staging'; got an empty value.",
    );
  }
  const job = (env.GITHUB_JOB ?? '').trim();
  const ignore = parsePatterns('ignore-checks', reader.raw('ignore-checks'));
  if (job !== '' && !ignore.some((p) => p.kind === 'name' && p.name === job)) ignore.push({ kind: 'name', name: job });

  return {
    protected: protectedBranches,
    'allowed-sources': allowedSources,
    'required-checks': parsePatterns('required-checks', reader.raw('required-checks')),
    'wait-for-checks': waitDuration(reader),
    'poll-interval': reader.duration('poll-interval'),
    'treat-skipped-as-pass': reader.boolean('treat-skipped-as-pass'),
    'treat-neutral-as-pass': reader.boolean('treat-neutral-as-pass'),
    'ignore-checks': ignore,
    comment: reader.boolean('comment'),
    'github-token': token,
  };
}

function waitDuration(reader: InputReader): number {
  const value = reader.raw('wait-for-checks');
  if (/^0+(\.0+)?\s*(ms|s|m|h|min|sec)?$/.test(value)) return 0;
  const ms = parseDuration(value);
  if (ms === undefined) {
    throw new ConfigurationError(
      `Input 'wait-for-checks' must be 0 (do not wait) or a duration such as 30s, 10m or 1h (a bare number is seconds); got '${excerpt(value)}'.`,
    );
  }
  return ms;
}

/**
 * Check names one per line (or comma separated), each an exact name or a /regular expression/ with optional flags,
 * optionally pinned to the GitHub App that must make it with `@app-slug` at the end (`test@github-actions`).
 * Commas are not separators inside a regex, so a line that starts with '/' is kept whole.
 */
export function parsePatterns(input: string, value: string): NamePattern[] {
  const items = value
    .split('\n')
    .flatMap((line) => (line.trim().startsWith('/') ? [line] : line.split(',')))
    .map((item) => item.trim())
    .filter((item) => item !== '');
  return items.map((item) => {
    const pin = APP_PIN.exec(item);
    const text = pin ? pin[1] : item;
    const app = pin ? { app: pin[2].toLowerCase() } : {};
    const regex = /^\/(.*)\/([dgimsuy]*)$/.exec(text);
    if (!regex) {
      if (text.startsWith('/')) {
        throw new ConfigurationError(
          `Input '${input}' has '${item}', which starts like a regular expression but does not end with '/' and optional flags (then @app if pinned); write a check name, or a regular expression between slashes such as /^test/.`,
        );
      }
      return { kind: 'name', name: text, ...app };
    }
    try {
      // The g and y flags make test() stateful, which would skip matches; they mean nothing for a name check.
      return { kind: 'regex', regex: new RegExp(regex[1], regex[2].replace(/[gy]/g, '')), source: text, ...app };
    } catch (error) {
      const why = error instanceof Error ? error.message.replace(/^Invalid regular expression: /, '') : String(error);
      throw new ConfigurationError(
        `Input '${input}' has a malformed regular expression '${item}' (${why}); write a check name, or a valid regular expression between slashes such as /^test/.`,
      );
    }
  });
}

/** `name@app-slug`: GitHub App slugs are lower-case letters, digits and dashes. */
const APP_PIN = /^(.+)@([A-Za-z0-9][A-Za-z0-9-]*)$/;
