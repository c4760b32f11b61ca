// How the GitHub runner reads a step's output, from the harness's own parser: lines end at LF, CR or CRLF, and a
// line is a command in the `::name` form (TryParseV2) or the legacy `##[name]` form anywhere in it (TryParse).
import { parseCommandLine, runnerLines } from '../harness/workflow-commands.js';

export { runnerLines };

/** Every line of `text` the runner would take as a registered workflow command. */
export function injectedCommands(text: string): string[] {
  return runnerLines(text).filter((line) => parseCommandLine(line) !== undefined);
}

/** Hostile values a server can send: each would become a runner command if printed as is. */
export const INJECTIONS = [
  'v1\n::error title=pwned::forged annotation',
  'v1\r::add-mask::Healthy',
  'v1\r\n::stop-commands::token123',
  '::error::at the very start',
  '   ::warning::after spaces',
  'v1 ##[error]legacy form in the middle',
  'v1\u2028::notice::line separator',
  'v1\u0085::notice::next line',
];
