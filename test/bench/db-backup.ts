// Benchmark of db-backup against the command a user would otherwise run, side by side in one run:
//   our action (the built dist/db-backup bundle under Node 24, as the runner starts it: version check, client
//   choice, dump, pg_restore --list verification, sha256, rename, retention) vs a raw `pg_dump -Fc -f <file>`,
// on one private PostgreSQL database generated with generate_series. Each approach runs ROUNDS times, alternating,
// so neither always gets the warmer cache. Wall time from spawn to exit; peak memory as the largest summed RSS of
// the process and all its descendants, sampled from /proc every 25 ms.
// Writes test/bench/db-backup.md. Run: npx tsx test/bench/db-backup.ts   (BENCH_DB_MB sets the size, default 1024)
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgres, type PostgresServer } from '../testbed/postgres.js';
import { measure, type Sample } from './process-sampler.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const TARGET_MB = Number(process.env.BENCH_DB_MB ?? 1024);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const node24 = join(root, 'node_modules', 'node', 'bin', 'node');

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

interface SizeResult {
  rows: number;
  sizeBytes: number;
  raw: Sample[];
  ours: Sample[];
  rawMs: number;
  ourMs: number;
  rawPeak: number;
  ourPeak: number;
  rawFileBytes: number;
  ourFileBytes: number;
  /** Per db-backup run: wall time minus the pg_dump run inside it, from the action's own log line. */
  overheadMs: number[];
}

/** 'Dumped in 9530 ms (checks before the dump: …)' → 9530. */
function dumpMsOf(stdout: string): number {
  const m = /Dumped in (\d+) ms/.exec(stdout);
  if (!m) throw new Error(`db-backup did not log its dump time:\n${stdout}`);
  return Number(m[1]);
}

async function benchSize(pg: PostgresServer, work: string, mb: number): Promise<SizeResult> {
  const database = `bench_${mb}`;
  await pg.createDatabase(database);
  const rows = Math.round((mb * 1024 * 1024) / 1100);
  await pg.sql(
    `CREATE TABLE orders AS SELECT g AS id, now() - (g || ' seconds')::interval AS created,
       (g % 977) * 1.5 AS amount, CASE WHEN g % 10 = 0 THEN NULL ELSE 'customer ' || (g % 5000) END AS customer,
       md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) || md5((g * 31)::text) || md5((g * 71)::text) ||
       md5((g * 97)::text) || repeat(' order line ' || g || ' pizza margherita x' || (g % 4 + 1), 20) AS payload
     FROM generate_series(1, ${rows}) g`,
    database,
  );
  // Hint bits and dirty pages from the load would otherwise be paid by whichever dump runs first.
  await pg.sql('VACUUM ANALYZE orders', database);
  await pg.sql('CHECKPOINT', database);
  const sizeBytes = Number(await pg.sql(`SELECT pg_database_size('${database}')`));
  const env = { ...process.env, PGPASSWORD: pg.password };
  const raw: Sample[] = [];
  const ours: Sample[] = [];
  let rawFileBytes = 0;
  let ourFileBytes = 0;
  // One unmeasured dump warms the page cache for both approaches.
  await measure(
    join(pg.binDir, 'pg_dump'),
    ['-Fc', '-h', pg.host, '-p', String(pg.port), '-U', pg.user, '-d', database, '-f', join(work, 'warm-up.dump')],
    env,
  );
  rmSync(join(work, 'warm-up.dump'), { force: true });
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? ['raw', 'ours'] : ['ours', 'raw'];
    for (const which of order) {
      if (which === 'raw') {
        const file = join(work, `raw-${round}.dump`);
        const s = await measure(
          join(pg.binDir, 'pg_dump'),
          ['-Fc', '-h', pg.host, '-p', String(pg.port), '-U', pg.user, '-d', database, '-f', file],
          env,
        );
        if (s.code !== 0) throw new Error(`pg_dump exited with ${s.code}`);
        rawFileBytes = statSync(file).size;
        rmSync(file);
        raw.push(s);
      } else {
        const dir = join(work, `ours-${round}`);
        const out = join(work, `out-${round}`);
        writeFileSync(out, '');
        writeFileSync(join(work, 'summary.md'), '');
        const s = await measure(node24, [join(root, 'dist', 'db-backup', 'index.js')], {
          ...process.env,
          'INPUT_DATABASE-URL': pg.url(database),
          INPUT_DIRECTORY: dir,
          INPUT_FORMAT: 'custom',
          INPUT_VERIFY: 'archive',
          'INPUT_KEEP-DAYS': '14',
          'INPUT_KEEP-COUNT': '0',
          INPUT_ENGINE: 'auto',
          INPUT_STORAGE: 'runner',
          'INPUT_POSTGRES-CLIENT-ROOT': '/usr/lib/postgresql',
          GITHUB_OUTPUT: out,
          GITHUB_STEP_SUMMARY: join(work, 'summary.md'),
          GITHUB_SHA: '0123456789abcdef',
        });
        if (s.code !== 0) throw new Error(`db-backup exited with ${s.code}`);
        const file = readdirSync(dir)[0];
        ourFileBytes = statSync(join(dir, file)).size;
        rmSync(dir, { recursive: true });
        ours.push(s);
      }
    }
  }
  await pg.sql(`DROP DATABASE ${database}`);
  return {
    rows,
    sizeBytes,
    raw,
    ours,
    rawMs: median(raw.map((s) => s.ms)),
    ourMs: median(ours.map((s) => s.ms)),
    rawPeak: Math.max(...raw.map((s) => s.peakKiB)),
    ourPeak: Math.max(...ours.map((s) => s.peakKiB)),
    rawFileBytes,
    ourFileBytes,
    overheadMs: ours.map((o) => o.ms - dumpMsOf(o.stdout)),
  };
}

async function main(): Promise<void> {
  const pg = await startPostgres();
  const work = mkdtempSync(join(os.tmpdir(), 'rb-bench-db-'));
  try {
    const sizes = [...new Set([Math.min(100, TARGET_MB), TARGET_MB])];
    const results: SizeResult[] = [];
    for (const mb of sizes) results.push(await benchSize(pg, work, mb));
    const big = results[results.length - 1];
    const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
    const pct = ((big.ourMs - big.rawMs) / big.rawMs) * 100;
    const md = `# db-backup benchmark

Generated by \`test/bench/db-backup.ts\` on ${new Date().toISOString().slice(0, 10)} (${os.cpus().length} cores,
${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version} for the harness, Node 24 for the action,
PostgreSQL ${pg.majorVersion}).

## Method

- One private PostgreSQL ${pg.majorVersion} cluster (test bed). For each size, a database with one table of rows of about
  1.1 KiB (id, timestamp, numeric, text with 10 % NULLs, a payload of six md5 hex strings, which barely compress,
  and 20 repetitions of an order line, which compress well), built with \`generate_series\`.
- **raw**: \`pg_dump -Fc -f <file>\` with PGPASSWORD, what a user would otherwise run.
- **db-backup**: the built \`dist/db-backup/index.js\` run by Node 24 with the inputs as the runner passes them
  (\`INPUT_*\`), format custom, \`verify: archive\`: reads the server version, picks the client, \`pg_dump -Fc --file\`
  into \`<name>.partial\`, \`pg_restore --list\` on the archive, a streamed sha256 of the whole file, rename,
  retention, outputs and summary.
- db-backup logs how long its pg_dump ran (\`Dumped in … ms\`); subtracting it from the action's wall time gives
  the time the action itself adds, which is what the 5 % goal is about and which the machine's noise hides in the
  totals.
- After the load, \`VACUUM ANALYZE\` and \`CHECKPOINT\`, then one unmeasured \`pg_dump\` to warm the cache; then
  ${ROUNDS} rounds per size, alternating which goes first; the table shows the median wall time (spawn to exit) and
  the highest peak memory: the largest sum of VmRSS over the process and all its descendants, sampled every 25 ms.

## Results

| database | rows | | median time | runs | db-backup's own time (outside pg_dump) | peak memory (process tree) | dump size |
| --- | --- | --- | --- | --- | --- | --- | --- |
${results
  .map(
    (r) =>
      `| ${(r.sizeBytes / 2 ** 20).toFixed(0)} MiB | ${r.rows.toLocaleString('en')} | raw \`pg_dump -Fc -f\` | ${fmt(r.rawMs)} | ${r.raw.map((x) => fmt(x.ms)).join(', ')} | | ${mib(r.rawPeak)} | ${(r.rawFileBytes / 2 ** 20).toFixed(1)} MiB |\n` +
      `| | | db-backup | ${fmt(r.ourMs)} | ${r.ours.map((x) => fmt(x.ms)).join(', ')} | median ${fmt(median(r.overheadMs))} (${r.overheadMs.map(fmt).join(', ')}) | ${mib(r.ourPeak)} | ${(r.ourFileBytes / 2 ** 20).toFixed(1)} MiB |`,
  )
  .join('\n')}

On the ${(big.sizeBytes / 2 ** 20).toFixed(0)} MiB database db-backup took **${Math.abs(pct).toFixed(1)} % ${pct >= 0 ? 'more' : 'less'} time** than the
raw dump (goal: within 5 %). The runs column shows how much pg_dump itself varies on this shared machine; the column
"db-backup's own time" separates what the action adds: its wall time minus the pg_dump run inside it (which the
action logs), that is Node's start, the version check, \`pg_restore --list\`, the sha256, rename and summary:
**${fmt(median(big.overheadMs))} median, ${((median(big.overheadMs) / big.rawMs) * 100).toFixed(1)} % of the raw dump's median** on the large database.
Peak memory: ${results.map((r) => `${mib(r.ourPeak)} at ${(r.sizeBytes / 2 ** 20).toFixed(0)} MiB`).join(' and ')} for db-backup, against
${results.map((r) => mib(r.rawPeak)).join(' and ')} for pg_dump alone: the difference is the Node process, and the dump
never passes through it (pg_dump writes the file itself; the sha256 reads it back through one reused 1 MiB buffer).
The machine is shared with other test runs: the spread between rounds is part of the result.
${TARGET_MB < 1024 ? `\nThe large size here is ${TARGET_MB} MB instead of the 1 GB of the issue (BENCH_DB_MB was set).\n` : ''}
## Reading it

The extra work is fixed (a \`psql\` for the server version, \`pg_restore --list\`, which reads only the archive's table
of contents) plus one sequential read of the archive for the sha256, usually served by the page cache. The
compression inside pg_dump dominates both runs.
`;
    writeFileSync(join(root, 'test', 'bench', 'db-backup.md'), md);
    console.log(md);
  } finally {
    await pg.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
