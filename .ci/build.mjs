// Bundles every action folder that has an action.yml into dist/<name>/ with @vercel/ncc.
// The list comes from the folders: a new action needs no edit here.
//   actions/<name>/index.ts -> dist/<name>/index.js   (runs.main)
//   actions/<name>/post.ts  -> dist/<name>/post.js    (runs.post, when the action has one)
// ncc writes ESM because the package is "type": "module", plus a package.json that says so.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const root = new URL('..', import.meta.url).pathname;
const ncc = join(root, 'node_modules', '.bin', 'ncc');
const only = process.argv.slice(2);

const actions = readdirSync(join(root, 'actions'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, 'actions', d.name, 'action.yml')))
  .map((d) => d.name)
  .filter((name) => only.length === 0 || only.includes(name))
  .sort();

function bundle(entry, outDir) {
  execFileSync(ncc, ['build', entry, '-o', outDir, '--license', 'licenses.txt', '--quiet', '--target', 'es2022'], {
    cwd: root,
    stdio: 'inherit',
  });
}

if (only.length === 0) rmSync(join(root, 'dist'), { recursive: true, force: true });
for (const name of actions) {
  const dir = join(root, 'actions', name);
  const meta = parse(readFileSync(join(dir, 'action.yml'), 'utf8'));
  const out = join(root, 'dist', name);
  rmSync(out, { recursive: true, force: true });
  if (meta.runs?.main !== `../../dist/${name}/index.js`) {
    throw new Error(`actions/${name}/action.yml: runs.main must be ../../dist/${name}/index.js`);
  }
  bundle(join(dir, 'index.ts'), out);
  if (meta.runs.post) {
    if (meta.runs.post !== `../../dist/${name}/post.js`) {
      throw new Error(`actions/${name}/action.yml: runs.post must be ../../dist/${name}/post.js`);
    }
    const tmp = join(root, 'dist', `.${name}-post`);
    bundle(join(dir, 'post.ts'), tmp);
    // A post step with chunks of its own (a dynamic import) keeps them in dist/<name>/post/, beside its entry.
    if (readdirSync(tmp).some((f) => /^\d+\.index\.js$/.test(f))) {
      rmSync(join(out, 'post'), { recursive: true, force: true });
      renameSync(tmp, join(out, 'post'));
      writeFileSync(join(out, 'post', 'package.json'), JSON.stringify({ type: 'module' }, null, 2) + '\n');
      writeFileSync(join(out, 'post.js'), "import './post/index.js';\n");
    } else {
      renameSync(join(tmp, 'index.js'), join(out, 'post.js'));
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'module' }, null, 2) + '\n');
  console.log(`built dist/${name}`);
}
