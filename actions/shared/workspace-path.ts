import { lstatSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { ConfigurationError } from './errors.js';

function inside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/**
 * Where an input's output file goes. A relative path stays inside the workspace (a `../` that climbs out is
 * refused before anything runs); an absolute path is taken as given, since writing elsewhere is then a choice.
 */
export function outputPath(input: string, value: string, workspace: string): { path: string; confined: boolean } {
  if (value.includes('\0')) throw new ConfigurationError(`Input '${input}' must be a file path; it contains a NUL.`);
  // Linux's limits (NAME_MAX, PATH_MAX): past them the write fails late with ENAMETOOLONG, after the work is done.
  if (value.split(/[\\/]/).some((part) => Buffer.byteLength(part) > 255) || Buffer.byteLength(value) > 4095) {
    throw new ConfigurationError(
      `Input '${input}' must be a file path with names of at most 255 bytes; got '${value.slice(0, 100)}…'.`,
    );
  }
  if (isAbsolute(value)) return { path: value, confined: false };
  const path = resolve(workspace, value);
  if (!inside(path, workspace)) {
    throw new ConfigurationError(
      `Input '${input}' must be a file path inside the workspace (or an absolute path to write elsewhere on purpose); '${value.slice(0, 100)}' is outside it.`,
    );
  }
  return { path, confined: true };
}

/**
 * Checked just before writing a confined path: a symbolic link in the checkout (a pull request can add one) must
 * not carry the write out of the workspace, and an existing link is never written through.
 */
export function checkStillInside(input: string, path: string, workspace: string): void {
  const root = realpathSync(workspace);
  let existing = dirname(path);
  for (let i = 0; i < 4096 && !exists(existing); i++) existing = dirname(existing);
  let real: string | undefined;
  try {
    real = realpathSync(existing);
  } catch {
    // A dangling link on the way: where it would lead is unknown, so it does not count as inside.
  }
  const link = exists(path) && lstatSync(path).isSymbolicLink();
  if (real === undefined || (real !== root && !inside(real, root)) || link) {
    throw new ConfigurationError(
      `Input '${input}': '${relative(workspace, path)}' leads outside the workspace through a symbolic link; refusing to write it.`,
    );
  }
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
