// The local equivalent of actions/setup-node (kept apart from workflow-adapters.ts, which the artifact and service
// adapters share). Like setup-python's, it is a bash script run as a step, so GITHUB_PATH, GITHUB_ENV and
// GITHUB_OUTPUT go through the file commands as for any step.
//
// - The Node: this repository's own (node_modules/node, the Node 24 package.json pins and `npm ci` installs), else
//   the machine's `node`; linked into a folder put first on PATH. A different major asked for is said in a notice.
// - npm: the machine's npm, with `npm_config_offline=true` in GITHUB_ENV and npm's cache left where npm keeps it on
//   this machine (`npm config get cache`). That cache is what `cache: npm` restores on GitHub (setup-node saves and
//   restores ~/.npm keyed on package-lock.json): `npm ci` then installs from it without network, and a package the
//   cache lacks fails at once with npm's ENOTCACHED naming it. The project's node_modules is not lent instead:
//   `npm ci` deletes node_modules first, and a hard-linked copy would let the job write into the runner's own.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UnsupportedWorkflowError } from './workflow-triggers.js';

const REPO_ROOT = new URL('../../', import.meta.url).pathname;

const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/** The bash script of a `uses: actions/setup-node@<sha>` step; the step's `with:` is `given`. */
export function setupNodeScript(where: string, given: Record<string, string>): string {
  for (const name of Object.keys(given))
    if (!['node-version', 'cache', 'cache-dependency-path'].includes(name))
      throw new UnsupportedWorkflowError(
        `${where}: actions/setup-node input '${name}' is not supported by the local runner`,
      );
  const cache = given.cache ?? '';
  if (cache !== '' && cache !== 'npm')
    throw new UnsupportedWorkflowError(
      `${where}: actions/setup-node cache '${cache}' has no local equivalent (npm's own cache stands in for 'npm')`,
    );
  const own = join(REPO_ROOT, 'node_modules', 'node', 'bin', 'node');
  return [
    'set -euo pipefail',
    `node_bin=${existsSync(own) ? quote(own) : '$(command -v node)'}`,
    'bin="$RUNNER_TEMP/setup-node/bin"',
    'mkdir -p "$bin"',
    'ln -sf "$node_bin" "$bin/node"',
    'echo "$bin" >>"$GITHUB_PATH"',
    // No network in the local runner: npm installs from the machine's cache or fails naming what is missing.
    'echo "npm_config_offline=true" >>"$GITHUB_ENV"',
    'version=$("$node_bin" --version)',
    'echo "node-version=$version" >>"$GITHUB_OUTPUT"',
    ...(cache === 'npm'
      ? [
          'npm_cache=$(PATH="$bin:$PATH" npm config get cache)',
          'if [ -d "$npm_cache/_cacache" ]; then echo "cache-hit=true" >>"$GITHUB_OUTPUT"; else echo "cache-hit=false" >>"$GITHUB_OUTPUT"; fi',
        ]
      : []),
    'case "${version#v}" in',
    '  "$REQUESTED" | "$REQUESTED".*) ;;',
    '  *) [ -z "$REQUESTED" ] || echo "::notice title=setup-node (local runner)::node-version $REQUESTED was asked; this runner has Node $version" ;;',
    'esac',
  ].join('\n');
}
