// Cold start of every action (issue 17, part 3), side by side in one run: bare `node -e ''`, each bundle in dist/
// on a trivial input, the same bundles as they were before the lazy loading (git archive of BEFORE), and peer
// actions of the same kind installed from the npm registry. Runs are interleaved round-robin so that the load of a
// shared machine falls on every subject alike; the table gives medians of wall time, CPU time (user + sys) and
// peak RSS from GNU time, and the bytes of JavaScript each run loaded (recorded by test/support/loaded-files-hook).
// Writes test/bench/cold-start.md. Run: npm run bench cold-start   (RUNS=21 for more runs per subject)
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { node24 } from '../harness/step-process.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');
const RUNS = Number(process.env.RUNS ?? 11);
/** The commit before the lazy loading: its bundles are measured beside today's. */
const BEFORE = 'a3dc095';
const PEERS = {
  '@hyperse/vitest-coverage-reporter': '1.0.16',
  '@jamesives/github-pages-deploy-action': '4.9.0',
};
const HOOK = pathToFileURL(join(root, 'test/support/loaded-files-hook.mjs')).href;
const SHA = '0123456789abcdef0123456789abcdef01234567';

interface Subject {
  name: string;
  kind: string;
  /** Ours (today or before) or a peer: the goal compares ours with the fastest peer of its kind. */
  role: 'bare' | 'ours' | 'before' | 'peer';
  how: string;
  args: string[];
  env: Record<string, string>;
  /** The exit code a correct run of this trivial input ends with. */
  exit: number;
}

interface Sample {
  wall: number;
  cpu: number;
  rssKiB: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];

function runOnce(subject: Subject, cwd: string, extraEnv: Record<string, string> = {}): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('/usr/bin/time', ['-f', '%U %S %M', ...subject.args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), ...subject.env, ...extraEnv },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const wall = (performance.now() - started) / 1000;
      if (code !== subject.exit) {
        reject(new Error(`${subject.name} exited ${code}, expected ${subject.exit}:\n${stderr.slice(-2000)}`));
        return;
      }
      const [user, sys, rss] = stderr.trim().split('\n').pop()!.split(' ').map(Number);
      resolve({ wall, cpu: user + sys, rssKiB: rss });
    });
  });
}

/** Inputs as the runner gives them: action.yml defaults, then the step's own. */
function actionEnv(action: string, inputs: Record<string, string>, dir: string, event: string): Record<string, string> {
  const meta = parse(readFileSync(join(root, 'actions', action, 'action.yml'), 'utf8')) as {
    inputs?: Record<string, { default?: unknown }>;
  };
  const env: Record<string, string> = {};
  for (const [name, spec] of Object.entries(meta.inputs ?? {})) {
    const value = String(spec.default ?? '').replace(/\$\{\{\s*github\.token\s*\}\}/, 'ghs_benchToken0123456789');
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  }
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  return { ...runnerEnv(dir, event), ...env };
}

function runnerEnv(dir: string, event: string): Record<string, string> {
  const eventPath = join(dir, `${event}.json`);
  writeFileSync(eventPath, JSON.stringify({ ref: 'refs/heads/main', after: SHA, repository: { full_name: 'o/r' } }));
  const files: Record<string, string> = {};
  for (const name of ['OUTPUT', 'STATE', 'ENV', 'PATH', 'STEP_SUMMARY']) {
    files[`GITHUB_${name}`] = join(dir, name.toLowerCase());
    writeFileSync(files[`GITHUB_${name}`], '');
  }
  return {
    ...files,
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: event,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: 'o/r',
    GITHUB_SHA: SHA,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_WORKSPACE: dir,
    GITHUB_RUN_ID: '1',
    GITHUB_SERVER_URL: 'http://127.0.0.1:9',
    GITHUB_API_URL: 'http://127.0.0.1:9',
    RUNNER_TEMP: dir,
  };
}

/** The peers from the npm registry, installed once into .tmp (not the project's dependencies). */
function installPeers(): string {
  const dir = join(root, '.tmp', 'bench-peers');
  const marker = join(dir, 'node_modules', '@jamesives', 'github-pages-deploy-action', 'package.json');
  if (existsSync(marker)) return dir;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "private": true }\n');
  const specs = Object.entries(PEERS).map(([name, version]) => `${name}@${version}`);
  console.log(`installing peers: ${specs.join(' ')}`);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--prefix', dir, ...specs], {
    stdio: 'inherit',
  });
  return dir;
}

function subjects(work: string, before: string, peers: string | undefined, site: string): Subject[] {
  const node = node24();
  const list: Subject[] = [
    {
      name: "node -e ''",
      kind: '-',
      role: 'bare',
      how: 'Node 24, nothing loaded',
      args: [node, '-e', ''],
      env: {},
      exit: 0,
    },
  ];
  const cases: {
    action: string;
    kind: string;
    how: string;
    inputs: Record<string, string>;
    event: string;
    exit: number;
  }[] = [
    {
      action: 'coverage-gate',
      kind: 'coverage',
      how: 'push, 3-line LCOV, threshold 50',
      inputs: { reports: 'lcov.info', threshold: '50' },
      event: 'push',
      exit: 0,
    },
    {
      action: 'staging-guard',
      kind: 'pull-request policy',
      how: 'workflow_dispatch (skipped)',
      inputs: {},
      event: 'workflow_dispatch',
      exit: 0,
    },
    {
      action: 'smoke-check',
      kind: 'health check',
      how: 'one healthy URL on loopback',
      inputs: { urls: site },
      event: 'push',
      exit: 0,
    },
    {
      action: 'db-backup',
      kind: 'database backup',
      how: 'database-url refused at input check',
      inputs: { 'database-url': 'not-a-url' },
      event: 'push',
      exit: 1,
    },
    {
      action: 'db-restore',
      kind: 'database restore',
      how: 'confirm refused at input check',
      inputs: { backup: 'latest', confirm: 'nobody' },
      event: 'push',
      exit: 1,
    },
    {
      action: 'deploy',
      kind: 'deploy',
      how: 'target refused at input check',
      inputs: { target: 'nowhere' },
      event: 'push',
      exit: 1,
    },
  ];
  for (const c of cases) {
    const dir = join(work, c.action);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'lcov.info'), 'SF:shop/models.py\nDA:1,1\nDA:2,1\nDA:3,0\nend_of_record\n');
    const env = actionEnv(c.action, c.inputs, dir, c.event);
    list.push({
      name: c.action,
      kind: c.kind,
      role: 'ours',
      how: c.how,
      args: [node, join(root, 'dist', c.action, 'index.js')],
      env,
      exit: c.exit,
    });
    list.push({
      name: `${c.action} @${BEFORE}`,
      kind: c.kind,
      role: 'before',
      how: c.how,
      args: [node, join(before, 'dist', c.action, 'index.js')],
      env,
      exit: c.exit,
    });
  }
  if (peers) {
    const dir = join(work, 'vitest-coverage-reporter');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{ "name": "app", "version": "1.0.0" }\n');
    const pct = { total: 3, covered: 2, skipped: 0, pct: 66.66 };
    const totals = {
      lines: pct,
      statements: pct,
      functions: { ...pct, total: 1, covered: 1, pct: 100 },
      branches: { ...pct, total: 0, covered: 0, pct: 100 },
    };
    writeFileSync(
      join(dir, 'coverage-summary.json'),
      JSON.stringify({ total: totals, [join(dir, 'shop/models.js')]: totals }),
    );
    list.push({
      name: 'vitest-coverage-reporter 1.0.16',
      kind: 'coverage',
      role: 'peer',
      how: 'push, 1-file coverage-summary.json (its dist/index.js, an ncc-style bundle)',
      args: [node, join(peers, 'node_modules/@hyperse/vitest-coverage-reporter/dist/index.js')],
      env: {
        ...runnerEnv(dir, 'push'),
        'INPUT_JSON-SUMMARY-PATH': 'coverage-summary.json',
        'INPUT_JSON-FINAL-PATH': 'coverage-final.json',
        'INPUT_FILE-COVERAGE-MODE': 'none',
        'INPUT_REPO-CWD': '.',
        'INPUT_GITHUB-TOKEN': 'ghs_benchToken0123456789',
      },
      exit: 0,
    });
    const pages = join(work, 'github-pages-deploy-action');
    mkdirSync(pages, { recursive: true });
    list.push({
      name: 'github-pages-deploy-action 4.9.0',
      kind: 'deploy',
      role: 'peer',
      how: 'no folder input: refused at its input check (its lib/, with node_modules)',
      args: [node, join(peers, 'node_modules/@jamesives/github-pages-deploy-action/lib/main.js')],
      env: { ...runnerEnv(pages, 'push'), 'INPUT_GITHUB-TOKEN': 'ghs_benchToken0123456789' },
      exit: 1,
    });
  }
  return list;
}

/** Bytes of JavaScript one run loaded, and how many files. */
async function loadedBytes(subject: Subject, cwd: string, work: string): Promise<{ bytes: number; files: number }> {
  const log = join(work, `loaded-${subject.name.replace(/\W+/g, '-')}`);
  writeFileSync(log, '');
  if (subject.role === 'bare') return { bytes: 0, files: 0 };
  await runOnce(subject, cwd, { NODE_OPTIONS: `--import ${HOOK}`, LOADED_FILES_LOG: log });
  const files = [
    ...new Set(
      readFileSync(log, 'utf8')
        .split('\n')
        .filter((u) => u.startsWith('file:')),
    ),
  ]
    .map((u) => fileURLToPath(u))
    .filter((f) => !f.endsWith('loaded-files-hook.mjs'));
  return { bytes: files.reduce((sum, f) => sum + statSync(f).size, 0), files: files.length };
}

function distBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  return execFileSync('find', [dir, '-name', '*.js', '-type', 'f'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .reduce((sum, f) => sum + statSync(f).size, 0);
}

const kib = (bytes: number) => `${Math.round(bytes / 1024)} KiB`;
const s = (seconds: number) => seconds.toFixed(3);

async function main(): Promise<void> {
  const work = mkdtempSync(join(os.tmpdir(), 'cold-start-bench-'));
  const server = createServer((_, res) => res.end('ok\n'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const site = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
  try {
    const before = join(work, 'before');
    mkdirSync(before);
    execFileSync('sh', ['-c', `git -C "${root}" archive ${BEFORE} dist | tar -x -C "${before}"`]);
    let peers: string | undefined;
    let peerNote = '';
    try {
      peers = installPeers();
    } catch (error) {
      peerNote = `The peers could not be installed from the npm registry here (${String(error).split('\n')[0]}).`;
    }
    const list = subjects(work, before, peers, site);
    const uptimeBefore = execFileSync('uptime', { encoding: 'utf8' }).trim();
    const samples = new Map<Subject, Sample[]>(list.map((x) => [x, []]));
    for (const subject of list) await runOnce(subject, work); // warm the page cache, check each exits as expected
    for (let i = 0; i < RUNS; i++) {
      for (const subject of list) samples.get(subject)!.push(await runOnce(subject, work));
    }
    const uptimeAfter = execFileSync('uptime', { encoding: 'utf8' }).trim();
    const loaded = new Map<Subject, { bytes: number; files: number }>();
    for (const subject of list) loaded.set(subject, await loadedBytes(subject, work, work));

    const med = (x: Subject) => {
      const list = samples.get(x)!;
      return {
        wall: median(list.map((v) => v.wall)),
        cpu: median(list.map((v) => v.cpu)),
        rss: median(list.map((v) => v.rssKiB)),
      };
    };
    const bare = med(list[0]);
    const rows = list.map((x) => {
      const m = med(x);
      const peerWalls = list.filter((p) => p.role === 'peer' && p.kind === x.kind).map((p) => med(p).wall);
      const fastestPeer = peerWalls.length ? Math.min(...peerWalls) : undefined;
      const goal =
        x.role === 'ours'
          ? `${m.wall <= bare.wall + 0.1 ? 'yes' : 'NO'} / ${fastestPeer === undefined ? 'no peer' : m.wall <= fastestPeer ? 'yes' : 'NO'}`
          : '';
      const distDir =
        x.role === 'ours'
          ? join(root, 'dist', x.name)
          : x.role === 'before'
            ? join(before, 'dist', x.name.split(' ')[0])
            : '';
      const l = loaded.get(x)!;
      return `| ${x.name} | ${x.kind} | ${x.how} | ${distDir ? kib(distBytes(distDir)) : ''} | ${l.files ? `${kib(l.bytes)} (${l.files} file${l.files > 1 ? 's' : ''})` : '0'} | ${s(m.wall)} | +${s(m.wall - bare.wall)} | ${s(m.cpu)} | +${s(m.cpu - bare.cpu)} | ${(m.rss / 1024).toFixed(1)} | +${((m.rss - bare.rss) / 1024).toFixed(1)} | ${goal} |`;
    });
    const md = [
      '# Cold start of each action',
      '',
      '`npm run bench cold-start` (test/bench/cold-start.ts) writes this file. Issue 17 part 3: start-to-exit on a trivial',
      'input ≤ bare `node` + 0.1 s and ≤ the fastest peer action of the same kind.',
      '',
      '## Method',
      '',
      `- Each subject is started ${RUNS} times (after one warm-up run that also checks its exit code), round-robin over`,
      '  the subjects so that the load of the shared machine falls on all of them alike; the table shows medians.',
      '- Wall: spawn to exit, measured by the bench. CPU: user + sys and peak RSS (max resident set) from GNU',
      '  `/usr/bin/time -f "%U %S %M"` (CPU has a 10 ms resolution). All subjects run on Node 24 (`node_modules/node`).',
      '- On a loaded machine every wall time carries the wait for a core (compare bare `node` with its CPU time): the',
      '  goal column judges wall times as the issue states it, and "CPU vs bare" is what each subject itself adds.',
      '- Inputs are passed as the runner passes them (`INPUT_*` with the action.yml defaults, GITHUB_OUTPUT,',
      '  GITHUB_STEP_SUMMARY, GITHUB_EVENT_PATH files). db-backup, db-restore and deploy need a database or a server to',
      '  do real work, so their trivial run is an input refused at the input check: the whole bundle starts, reads',
      '  and checks its inputs, prints one error and exits 1. The others run to success.',
      `- "@${BEFORE}" rows are the bundles of commit ${BEFORE} (before the GitHub client, @actions/glob and undici`,
      '  moved off the start path), extracted with git archive and run on the same input.',
      '- "Loaded at start" is the JavaScript files Node actually loaded in that run (index.js plus the ncc chunks it',
      '  imported, or the files under node_modules for a peer), recorded by test/support/loaded-files-hook.mjs.',
      '  "dist" is all the .js files of the action\'s dist folder (chunks included).',
      '- Peers: actions of the same kind that are published on the npm registry and run offline: @hyperse/vitest-',
      '  coverage-reporter 1.0.16 (a coverage report action; dist/index.js) and @jamesives/github-pages-deploy-action',
      '  4.9.0 (a deploy action; lib/ with its node_modules), installed into .tmp/bench-peers. No action of the kinds',
      '  pull-request policy, health check, database backup or restore is published on npm (searched the registry',
      '  list for action packages of those kinds), so those rows have no peer; the usual peers of the coverage gate',
      '  (py-cov-action, octocov) are not Node packages.',
      peerNote ? `- ${peerNote}` : '',
      '',
      '## Results',
      '',
      `Machine: ${os.cpus().length} cores, shared with other work: the load averages below say how busy it was.`,
      `Load before: \`${uptimeBefore}\``,
      `Load after: \`${uptimeAfter}\``,
      '',
      '| Subject | Kind | Trivial input | dist | Loaded at start | Wall s | vs bare | CPU s | vs bare | Peak RSS MiB | vs bare | Goal: ≤ bare+0.1 s / ≤ fastest peer |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
      '',
    ]
      .filter((line, i, all) => line !== '' || all[i - 1] !== '')
      .join('\n');
    writeFileSync(join(here, 'cold-start.md'), md);
    console.log(md);
  } finally {
    server.close();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
