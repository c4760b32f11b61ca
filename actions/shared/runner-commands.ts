// The part of @actions/core the actions use, written the same way (the runner's workflow and file commands).
// @actions/core itself imports its OIDC client statically, and with it @actions/http-client and undici: 0.9 MB
// parsed and +15 MiB on every start, for a token none of these actions asks for. Same names and signatures as
// @actions/core, so an import line is all that changes.
//
// Why a copy and not @actions/core's own command modules: @actions/core 3.0.1 has no side-effect-free entry point.
// Its package.json `exports` holds "." only (lib/core.js, which imports lib/oidc-utils.js and so undici), and no
// "sideEffects": false that would let a bundler drop that import. lib/command.js and lib/file-command.js would do,
// but they are not exported: Node refuses `@actions/core/lib/command.js` (ERR_PACKAGE_PATH_NOT_EXPORTED), and so
// do TypeScript and ncc (TS2307 "Cannot find module"); reaching them by a node_modules file path would tie the
// bundles to files @actions/core marks "for internal use, subject to change". So this copy stays, and
// test/unit/shared/runner-commands.test.ts keeps it byte for byte equal to @actions/core (checked again on each
// @actions/core upgrade, when its `exports` should be looked at again).
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync } from 'node:fs';
import { access, appendFile, constants } from 'node:fs/promises';
import { EOL } from 'node:os';

export interface AnnotationProperties {
  title?: string;
  file?: string;
  startLine?: number;
  endLine?: number;
  startColumn?: number;
  endColumn?: number;
}

function commandValue(input: unknown): string {
  if (input === null || input === undefined) return '';
  return typeof input === 'string' || input instanceof String ? String(input) : JSON.stringify(input);
}

const escapeData = (s: unknown): string =>
  commandValue(s).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');

const escapeProperty = (s: unknown): string => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

/** `::name key=value,…::message` on stdout; empty properties are left out as the runner expects. */
function issueCommand(name: string, properties: Record<string, unknown>, message: unknown): void {
  const props = Object.entries(properties)
    .filter(([, v]) => v)
    .map(([k, v]) => `${k}=${escapeProperty(v)}`)
    .join(',');
  process.stdout.write(`::${name}${props ? ` ${props}` : ''}::${escapeData(message)}${EOL}`);
}

/** A value in GITHUB_OUTPUT/GITHUB_STATE, fenced by a random delimiter so a multi-line value cannot forge another. */
function issueFileCommand(file: 'OUTPUT' | 'STATE', name: string, value: unknown): void {
  const path = process.env[`GITHUB_${file}`] ?? '';
  if (!existsSync(path)) throw new Error(`Missing file at path: ${path}`);
  const delimiter = `ghadelimiter_${randomUUID()}`;
  const text = commandValue(value);
  if (name.includes(delimiter) || text.includes(delimiter)) {
    throw new Error(`Unexpected input: the value contains the delimiter "${delimiter}"`);
  }
  appendFileSync(path, `${name}<<${delimiter}${EOL}${text}${EOL}${delimiter}${EOL}`, { encoding: 'utf8' });
}

function annotation(properties: AnnotationProperties): Record<string, unknown> {
  return {
    title: properties.title,
    file: properties.file,
    line: properties.startLine,
    endLine: properties.endLine,
    col: properties.startColumn,
    endColumn: properties.endColumn,
  };
}

const text = (message: string | Error): string => (message instanceof Error ? message.toString() : message);

export function info(message: string): void {
  process.stdout.write(message + EOL);
}

export function debug(message: string): void {
  issueCommand('debug', {}, message);
}

export function notice(message: string | Error, properties: AnnotationProperties = {}): void {
  issueCommand('notice', annotation(properties), text(message));
}

export function warning(message: string | Error, properties: AnnotationProperties = {}): void {
  issueCommand('warning', annotation(properties), text(message));
}

export function error(message: string | Error, properties: AnnotationProperties = {}): void {
  issueCommand('error', annotation(properties), text(message));
}

export function setFailed(message: string | Error): void {
  process.exitCode = 1;
  error(message);
}

export function setSecret(secret: string): void {
  issueCommand('add-mask', {}, secret);
}

export function startGroup(name: string): void {
  issueCommand('group', {}, name);
}

export function endGroup(): void {
  issueCommand('endgroup', {}, '');
}

export function setOutput(name: string, value: unknown): void {
  if (process.env.GITHUB_OUTPUT) return issueFileCommand('OUTPUT', name, value);
  process.stdout.write(EOL);
  issueCommand('set-output', { name }, value);
}

export function saveState(name: string, value: unknown): void {
  if (process.env.GITHUB_STATE) return issueFileCommand('STATE', name, value);
  issueCommand('save-state', { name }, value);
}

export function getState(name: string): string {
  return process.env[`STATE_${name}`] || '';
}

export function getInput(name: string, options: { required?: boolean; trimWhitespace?: boolean } = {}): string {
  const value = process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] || '';
  if (options.required && !value) throw new Error(`Input required and not supplied: ${name}`);
  return options.trimWhitespace === false ? value : value.trim();
}

/** The job summary: text gathered by addRaw, appended to GITHUB_STEP_SUMMARY by write. */
class Summary {
  private buffer = '';

  addRaw(text: string, addEOL = false): this {
    this.buffer += text + (addEOL ? EOL : '');
    return this;
  }

  async write(): Promise<this> {
    const path = process.env.GITHUB_STEP_SUMMARY;
    if (!path) throw new Error('Unable to find environment variable for $GITHUB_STEP_SUMMARY.');
    try {
      await access(path, constants.R_OK | constants.W_OK);
    } catch {
      throw new Error(
        `Unable to access summary file: '${path}'. Check if the file has correct read/write permissions.`,
      );
    }
    await appendFile(path, this.buffer, { encoding: 'utf8' });
    this.buffer = '';
    return this;
  }
}

export const summary = new Summary();
