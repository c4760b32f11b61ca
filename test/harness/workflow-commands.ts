/**
 * Stdout/stderr workflow commands as actions/runner reads them. Lines end at LF, CR or CRLF (.NET ReadLine). Each
 * line is tried first as `::name key=value,…::data` (ActionCommand.TryParseV2: leading whitespace ignored,
 * properties split at `,` then at the first `=`, pairs with an empty side dropped; unescaping data %0D %0A %25,
 * properties also %3A %2C) and then as the legacy `##[name key=value;…]data` found anywhere in the line
 * (ActionCommand.TryParse: the first `##[` only, up to the first `]`, properties split at `;`; unescaping %3B %0D
 * %0A %5D %25). Only registered names count; `%25` goes last so `%250A` stays a literal `%0A`.
 */

export interface Annotation {
  level: 'error' | 'warning' | 'notice' | 'debug';
  message: string;
  properties: Record<string, string>;
}

export interface ParsedCommand {
  command: string;
  properties: Record<string, string>;
  data: string;
}

const COMMANDS = new Set([
  'error',
  'warning',
  'notice',
  'debug',
  'add-mask',
  'group',
  'endgroup',
  'stop-commands',
  'set-output',
  'save-state',
  'set-env',
  'add-path',
  'echo',
  'add-matcher',
  'remove-matcher',
]);

/** The runner's Unescape: its mappings in order, `%25` always last. */
const unescaper =
  (...codes: string[]) =>
  (value: string): string =>
    [...codes, '%25'].reduce((text, code) => text.replaceAll(code, decodeURIComponent(code)), value);

export const unescapeData = unescaper('%0D', '%0A');
export const unescapeProperty = unescaper('%0D', '%0A', '%3A', '%2C');
export const unescapeLegacy = unescaper('%3B', '%0D', '%0A', '%5D');

type Registered = (name: string) => boolean;
const isRegistered: Registered = (name) => COMMANDS.has(name);

function parseInfo(info: string, separator: string, registered: Registered, unescape: (value: string) => string) {
  const space = info.indexOf(' ');
  const command = space < 0 ? info : info.slice(0, space);
  if (!registered(command)) return undefined;
  const parsed: Record<string, string> = {};
  if (space > 0) {
    // TryParseV2 trims the properties; the legacy TryParse does not.
    const text = separator === ',' ? info.slice(space + 1).trim() : info.slice(space + 1);
    for (const pair of text.split(separator).filter((p) => p !== '')) {
      const eq = pair.indexOf('=');
      if (eq <= 0 || eq === pair.length - 1) continue;
      parsed[pair.slice(0, eq)] = unescape(pair.slice(eq + 1));
    }
  }
  return { command, properties: parsed };
}

function parseV2(line: string, registered: Registered): ParsedCommand | undefined {
  const message = line.replace(/^\s+/, '');
  if (!message.startsWith('::')) return undefined;
  const end = message.indexOf('::', 2);
  if (end < 0) return undefined;
  const head = parseInfo(message.slice(2, end), ',', registered, unescapeProperty);
  return head && { ...head, data: unescapeData(message.slice(end + 2)) };
}

function parseLegacy(line: string, registered: Registered): ParsedCommand | undefined {
  const start = line.indexOf('##[');
  if (start < 0) return undefined;
  const end = line.indexOf(']', start);
  if (end < 0) return undefined;
  const head = parseInfo(line.slice(start + 3, end), ';', registered, unescapeLegacy);
  return head && { ...head, data: unescapeLegacy(line.slice(end + 1)) };
}

/** Parses one line in either form; `registered` decides which names are commands. */
export function parseCommandLine(line: string, registered: Registered = isRegistered): ParsedCommand | undefined {
  return parseV2(line, registered) ?? parseLegacy(line, registered);
}

/** Cuts output into lines as the runner's reader does: at LF, CR or CRLF, also when a CRLF spans two chunks. */
export function createLineReader() {
  let partial = '';
  return {
    push(text: string): string[] {
      const buffered = partial + text;
      // A CR at the very end may be the first half of a CRLF: keep it until the next chunk says.
      const held = buffered.endsWith('\r') ? 1 : 0;
      const lines = buffered.slice(0, buffered.length - held).split(/\r\n|\r|\n/);
      partial = (lines.pop() as string) + (held ? '\r' : '');
      return lines;
    },
    end(): string[] {
      const rest = partial;
      partial = '';
      return rest === '' ? [] : [rest.replace(/\r$/, '')];
    },
  };
}

/** All lines of a finished output, as the runner would read them. */
export function runnerLines(text: string): string[] {
  const reader = createLineReader();
  return [...reader.push(text), ...reader.end()];
}

export interface CommandResults {
  annotations: Annotation[];
  masks: string[];
  groups: string[];
  /** Legacy `::set-output`/`::save-state` values (still applied by the runner, with a deprecation warning). */
  outputs: Record<string, string>;
  state: Record<string, string>;
  deprecations: string[];
  /** Commands the runner refuses (set-env, add-path): the step fails. */
  errors: string[];
  /** Indexes of lines the runner consumes without printing (add-mask), so a masked secret there is no leak. */
  hiddenLines: Set<number>;
}

const DEPRECATED = (name: string) =>
  `The \`${name}\` command is deprecated and will be disabled soon. Please upgrade to using Environment Files. ` +
  'For more information see: https://github.blog/changelog/2022-10-11-github-actions-deprecating-save-state-and-set-output-commands/';

const DISABLED = (name: string) =>
  `The \`${name}\` command is disabled. Please upgrade to using Environment Files or opt into unsecure command ` +
  'execution by setting the `ACTIONS_ALLOW_UNSECURE_COMMANDS` environment variable to `true`.';

/** Processes a step's output lines in order; `::stop-commands::TOKEN` ignores commands until a `::TOKEN::` line. */
export function processCommands(lines: string[], env: Record<string, string | undefined> = {}): CommandResults {
  const results: CommandResults = {
    annotations: [],
    masks: [],
    groups: [],
    outputs: {},
    state: {},
    deprecations: [],
    errors: [],
    hiddenLines: new Set(),
  };
  const allowUnsecure = (env.ACTIONS_ALLOW_UNSECURE_COMMANDS ?? '').toLowerCase() === 'true';
  let stopToken: string | undefined;
  lines.forEach((line, index) => {
    // While stopped the runner still parses with every name (plus the token) and resumes only on the token.
    const parsed = parseCommandLine(line, (name) => isRegistered(name) || name === stopToken);
    if (stopToken !== undefined) {
      if (parsed?.command === stopToken) stopToken = undefined;
      return;
    }
    if (!parsed) return;
    const { command, properties, data } = parsed;
    switch (command) {
      case 'error':
      case 'warning':
      case 'notice':
      case 'debug':
        results.annotations.push({ level: command, message: data, properties });
        break;
      case 'add-mask':
        results.hiddenLines.add(index);
        if (data.trim() !== '') results.masks.push(data);
        break;
      case 'group':
        results.groups.push(data);
        break;
      case 'stop-commands':
        if (data !== '') stopToken = data;
        break;
      case 'set-output':
      case 'save-state':
        if (!properties.name) {
          results.errors.push(`Invalid ${command} command: required property 'name' is missing`);
          break;
        }
        results.deprecations.push(DEPRECATED(command));
        (command === 'set-output' ? results.outputs : results.state)[properties.name] = data;
        break;
      case 'set-env':
      case 'add-path':
        if (!allowUnsecure) results.errors.push(DISABLED(command));
        break;
      default:
        // endgroup, echo, add-matcher, remove-matcher: they change only how the log is displayed.
        break;
    }
  });
  return results;
}
