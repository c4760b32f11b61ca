// End to end: each built bundle, run by the runner harness on a trivial input, parses only what that path needs.
// A preload hook (test/support/loaded-files-hook.mjs) records every module file Node loads (index.js and each ncc
// chunk); none of them may hold the GitHub client, the artifact client, @actions/glob or undici (which @actions/core
// pulls in through its OIDC client), each recognised by a class or string only that package's code contains.
// This is the cold-start budget of issue 17 checked by what is loaded, not by a time (test/bench/cold-start.md has
// the times).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runAction, type ActionRunOptions, type StepResult } from '../harness/index.js';

const ROOT = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');
const HOOK = pathToFileURL(join(ROOT, 'test/support/loaded-files-hook.mjs')).href;

/** A heavy dependency and a token found in its bundled code and nowhere else in ours. */
const HEAVY: { name: string; token: string }[] = [
  { name: 'undici (via @actions/http-client)', token: 'class UndiciError' },
  { name: 'Octokit (@actions/github)', token: 'octokit-core.js' },
  { name: '@actions/glob', token: 'DefaultGlobber' },
  { name: '@actions/artifact', token: 'DefaultArtifactClient' },
  // Not heavy as such, but only smoke-check's `checks` and a deprecated input name need it.
  { name: 'yaml', token: 'class YAMLParseError' },
];

let dir: string;
let server: Server;
let site: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cold-start-'));
  server = createServer((_, res) => res.end('ok\n'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  site = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the action with the hook preloaded; returns the result and the bundle files it loaded. */
async function runRecorded(name: string, options: ActionRunOptions): Promise<[StepResult, string[]]> {
  const log = join(dir, `${name}.loaded`);
  writeFileSync(log, '');
  const result = await runAction({
    ...options,
    env: { ...options.env, NODE_OPTIONS: `--import ${HOOK}`, LOADED_FILES_LOG: log },
  });
  const loaded = readFileSync(log, 'utf8')
    .split('\n')
    .filter((url) => url.includes(`/dist/${name}/`))
    .map((url) => fileURLToPath(url));
  return [result, loaded];
}

function heavyIn(files: string[]): string[] {
  return files.flatMap((file) => {
    const code = readFileSync(file, 'utf8');
    return HEAVY.filter((h) => code.includes(h.token)).map((h) => `${h.name} in ${file.slice(ROOT.length + 1)}`);
  });
}

test('coverage-gate on a push with a small LCOV report loads no heavy dependency', async () => {
  const workspace = mkdtempSync(join(dir, 'gate-'));
  writeFileSync(join(workspace, 'lcov.info'), 'SF:shop/models.py\nDA:1,1\nDA:2,1\nDA:3,0\nend_of_record\n');
  const [result, loaded] = await runRecorded('coverage-gate', {
    action: 'coverage-gate',
    inputs: { reports: 'lcov.info', threshold: '50' },
    github: { workspace },
  });
  expect(result.exitCode).toBe(0);
  expect(result.outputs.coverage).toBe('66.66');
  expect(loaded.length).toBeGreaterThan(0);
  expect(heavyIn(loaded)).toEqual([]);
});

test('coverage-gate with a glob in reports loads neither @actions/glob nor undici', async () => {
  const workspace = mkdtempSync(join(dir, 'gate-glob-'));
  mkdirSync(join(workspace, 'coverage', 'unit'), { recursive: true });
  writeFileSync(join(workspace, 'coverage', 'unit', 'lcov.info'), 'SF:shop/models.py\nDA:1,1\nDA:2,0\nend_of_record\n');
  const [result, loaded] = await runRecorded('coverage-gate', {
    action: 'coverage-gate',
    inputs: { reports: 'coverage/**/lcov.info', threshold: '50' },
    github: { workspace },
  });
  expect(result.exitCode).toBe(0);
  expect(result.outputs.coverage).toBe('50.00');
  expect(heavyIn(loaded)).toEqual([]);
});

test('staging-guard on an event it does not judge loads no GitHub client', async () => {
  const [result, loaded] = await runRecorded('staging-guard', {
    action: 'staging-guard',
    event: { name: 'workflow_dispatch', payload: { ref: 'refs/heads/main' } },
    github: { token: 'ghs_coldStartToken0123456789abcdef' },
  });
  expect(result.exitCode).toBe(0);
  expect(result.outputs.allowed).toBe('skipped');
  expect(loaded.length).toBeGreaterThan(0);
  expect(heavyIn(loaded)).toEqual([]);
});

test('smoke-check of one healthy URL loads no heavy dependency', async () => {
  const [result, loaded] = await runRecorded('smoke-check', { action: 'smoke-check', inputs: { urls: site } });
  expect(result.exitCode).toBe(0);
  expect(result.outputs.healthy).toBe('true');
  expect(loaded.length).toBeGreaterThan(0);
  expect(heavyIn(loaded)).toEqual([]);
});

// These three need a database or a server to do real work; refusing an input is their cheapest complete run, and
// it starts the same bundle.
test.each([
  ['db-backup', { 'database-url': 'not-a-url' }],
  ['db-restore', { backup: 'latest', confirm: 'nobody' }],
  ['deploy', { target: 'nowhere' }],
])('%s refusing an input loads no heavy dependency', async (name, inputs) => {
  const [result, loaded] = await runRecorded(name, { action: name, inputs });
  expect(result.exitCode).toBe(1);
  expect(result.annotations.filter((a) => a.level === 'error')).toHaveLength(1);
  expect(loaded.length).toBeGreaterThan(0);
  expect(heavyIn(loaded)).toEqual([]);
});
