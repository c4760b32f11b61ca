/**
 * Stdout/stderr workflow commands (`::name key=value,…::data`) as actions/runner's ActionCommand.TryParseV2 reads
 * them: leading whitespace ignored, only registered command names count, properties split at `,` then at the
 * first `=`, pairs with an empty side dropped, and the runner's unescaping (data: %0D %0A %25; properties also
 * %3A %2C; `%25` last so `%250A` stays a literal `%0A`).
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

export function unescapeData(value: string): string {
  return value.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}

export function unescapeProperty(value: string): string {
  return value
    .replace(/%0D/g, '\r')
    .replace(/%0A/g, '\n')
    .replace(/%3A/g, ':')
    .replace(/%2C/g, ',')
    .replace(/%25/g, '%');
}

/** Parses one line; `registered` decides which names are commands (the stop token while commands are stopped). */
export function parseCommandLine(line: string, registered: (name: string) => boolean = (n) => COMMANDS.has(n)) {
  const message = line.replace(/^\s+/, '');
  if (!message.startsWith('::')) return undefined;
  const end = message.indexOf('::', 2);
  if (end < 0) return undefined;
  const info = message.slice(2, end);
  const space = info.indexOf(' ');
  const command = space < 0 ? info : info.slice(0, space);
  if (!registered(command)) return undefined;
  const properties: Record<string, string> = {};
  if (space > 0) {
    for (const pair of info
      .slice(space + 1)
      .trim()
      .split(',')
      .filter((p) => p !== '')) {
      const eq = pair.indexOf('=');
      if (eq <= 0 || eq === pair.length - 1) continue;
      properties[pair.slice(0, eq)] = unescapeProperty(pair.slice(eq + 1));
    }
  }
  const parsed: ParsedCommand = { command, properties, data: unescapeData(message.slice(end + 2)) };
  return parsed;
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
    if (stopToken !== undefined) {
      const token = stopToken;
      if (parseCommandLine(line, (name) => name === token)) stopToken = undefined;
      return;
    }
    const parsed = parseCommandLine(line);
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
