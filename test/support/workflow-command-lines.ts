// How the GitHub runner would read a step's output, strictly: a line ends at LF, CR or CRLF (.NET ReadLine), a
// `::name` at the start of a line after spaces is a command (TryParseV2), and so is `##[name` anywhere in a
// line (the legacy TryParse). The test harness models only the first form on LF lines; tests about injection
// use this stricter reading, so that a bare CR or a legacy command cannot slip through.
const COMMAND_NAMES =
  'error|warning|notice|debug|add-mask|group|endgroup|stop-commands|set-output|save-state|set-env|add-path|echo|add-matcher|remove-matcher';

export function runnerLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

/** Every line of `text` the runner would take as a workflow command whose name is in `names`. */
export function injectedCommands(text: string, names = COMMAND_NAMES): string[] {
  const modern = new RegExp(`^\\s*::(${names})[ :]`);
  const legacy = new RegExp(`##\\[(${names})[ \\]]`);
  return runnerLines(text).filter((line) => modern.test(line) || legacy.test(line));
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
