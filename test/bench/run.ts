// `npm run bench`: runs every benchmark script in this folder, one after another so they do not compete for the
// two cores, each writing its own <name>.md (method and measured table) beside it.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const scripts = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .filter((f) => only.length === 0 || only.includes(f.replace(/\.ts$/, '')))
  .sort();

let failed = 0;
for (const script of scripts) {
  console.log(`\n==> bench ${script}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(here, script)], { stdio: 'inherit' });
  if (result.status !== 0) {
    failed += 1;
    console.error(`bench ${script} exited with ${result.status ?? result.signal}`);
  }
}
console.log(`\n${scripts.length - failed} benchmark(s) ran, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
