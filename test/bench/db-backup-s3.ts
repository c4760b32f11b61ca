// Benchmark of db-backup streaming a PostgreSQL dump into a bucket (storage: bucket) against the hand pipe a user
// would otherwise write, `pg_dump -Fc | <upload of stdin>` (what `aws s3 cp - s3://…` does), here the same AWS SDK's
// lib-storage Upload reading stdin, so both talk to the same local S3 stand-in with the same part size.
// Wall time from spawn to exit, peak memory of the whole process tree (process-sampler.ts) and of the uploading
// Node process itself, with where it goes (db-backup-s3-memory.mjs, preloaded). Rounds alternate. Several database
// sizes in one run, so that memory can be compared across dump sizes; at each size one run with the V8 heap's young
// generation held small and one that collects garbage every 100 ms (the live set); at the largest, one run whose
// writable memory is capped below what holding the archive would need. The bench fails if that run fails.
// Writes test/bench/db-backup-s3.md. Run: npm run bench db-backup-s3  (BENCH_S3_DB_MB=100,300,750 by default)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startS3Service } from '../stand-ins/s3-service.js';
import { startPostgres } from '../testbed/postgres.js';
import { measure, type Sample } from './process-sampler.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SIZES_MB = (process.env.BENCH_S3_DB_MB ?? '100,300,750').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PART_MB = 16;
const node24 = join(root, 'node_modules', 'node', 'bin', 'node');
const PRELOAD = join(root, 'test', 'bench', 'db-backup-s3-memory.mjs');
/** Headroom of the capped run over the smallest size's peak writable memory; the largest archive is several times it. */
const CAP_HEADROOM_MIB = 96;
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  // With an even number of rounds (BENCH_ROUNDS=2) the upper middle alone would be the slower run.
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** The hand pipe's uploader: stdin into one multipart upload, as `aws s3 cp -` does. */
const HAND_UPLOADER = `
const { S3Client } = await import(${JSON.stringify(join(root, 'node_modules/@aws-sdk/client-s3/dist-cjs/index.js'))});
const { Upload } = await import(${JSON.stringify(join(root, 'node_modules/@aws-sdk/lib-storage/dist-cjs/index.js'))});
const client = new S3Client({ region: process.env.AWS_REGION, endpoint: process.env.S3_ENDPOINT, forcePathStyle: true });
await new Upload({ client, params: { Bucket: 'bench', Key: process.env.S3_KEY, Body: process.stdin, ChecksumAlgorithm: 'SHA256' },
  partSize: ${PART_MB} * 1024 * 1024, queueSize: 2 }).done();
`;

/** What the preload saw in the uploading Node process (MiB). */
interface Memory {
  vmHwm: number;
  vmData: number;
  heapUsed: number;
  heapTotal: number;
  arrayBuffers: number;
  /** When (ms after the process started) the Buffers peaked, and when it exited. */
  arrayBuffersAtMs: number;
  exitAtMs: number;
}
type Run = Sample & { memory: Memory };

interface SizeResult {
  targetMb: number;
  rows: number;
  sizeBytes: number;
  objectBytes: number;
  hand: Run[];
  ours: Run[];
  /** db-backup with --max-semi-space-size=1: V8's young generation kept at its smallest. */
  smallYoung: Run;
  /** db-backup collecting garbage every 100 ms: the peaks are of the live set. */
  live: Run;
  /** db-backup with its writable memory capped (prlimit --data), at the largest size only. */
  capped?: Run & { capMiB: number };
}

/** One database of about targetMb MB, dumped ROUNDS times each way into the bucket. */
async function measureSize(
  pg: Awaited<ReturnType<typeof startPostgres>>,
  s3: Awaited<ReturnType<typeof startS3Service>>,
  work: string,
  targetMb: number,
  capMiB?: number,
): Promise<SizeResult> {
  const database = `bench_s3_${targetMb}`;
  await pg.createDatabase(database);
  // md5 text barely compresses: the archive stays a good fraction of the table, so the upload matters.
  const rows = Math.round((targetMb * 1024 * 1024) / 300);
  await pg.sql(
    `CREATE TABLE events AS SELECT g AS id, now() - (g || ' seconds')::interval AS created,
       md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) || md5((g * 31)::text) || md5((g * 71)::text) ||
       md5((g * 97)::text) AS payload FROM generate_series(1, ${rows}) g`,
    database,
  );
  await pg.sql('VACUUM ANALYZE events', database);
  await pg.sql('CHECKPOINT', database);
  const sizeBytes = Number(await pg.sql(`SELECT pg_database_size('${database}')`));
  const env = {
    ...process.env,
    PGPASSWORD: pg.password,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_REGION: s3.region,
    S3_ENDPOINT: s3.endpoint,
  };
  const pgDump = `${pg.binDir}/pg_dump -Fc -h ${pg.host} -p ${pg.port} -U ${pg.user} -d ${database}`;
  const hand: Run[] = [];
  const ours: Run[] = [];
  let objectBytes = 0;
  let runs = 0;
  /** One measured run with the memory preload; `nodeOptions` are added to it. */
  const sampled = async (
    command: string,
    args: string[],
    runEnv: NodeJS.ProcessEnv,
    nodeOptions = '',
  ): Promise<Run> => {
    const file = join(work, `memory-${targetMb}-${++runs}.json`);
    const s = await measure(command, args, {
      ...runEnv,
      NODE_OPTIONS: `--import ${PRELOAD} ${nodeOptions}`.trim(),
      MEMORY_SAMPLE_OUT: file,
    });
    const memory = existsSync(file)
      ? (JSON.parse(readFileSync(file, 'utf8')) as Memory)
      : { vmHwm: 0, vmData: 0, heapUsed: 0, heapTotal: 0, arrayBuffers: 0, arrayBuffersAtMs: 0, exitAtMs: 0 };
    return { ...s, memory };
  };
  /** db-backup's inputs for one run into its own prefix. */
  const ourEnv = (name: string): NodeJS.ProcessEnv => {
    const out = join(work, `out-${targetMb}-${name}`);
    writeFileSync(out, '');
    writeFileSync(join(work, 'summary.md'), '');
    return {
      ...env,
      'INPUT_DATABASE-URL': pg.url(database),
      INPUT_STORAGE: 'bucket',
      INPUT_BUCKET: `s3://bench/ours/${targetMb}/${name}`,
      'INPUT_S3-ENDPOINT': s3.endpoint,
      'INPUT_S3-FORCE-PATH-STYLE': 'true',
      'INPUT_S3-PART-SIZE-MB': String(PART_MB),
      INPUT_FORMAT: 'custom',
      INPUT_VERIFY: 'archive',
      'INPUT_KEEP-DAYS': '14',
      'INPUT_KEEP-COUNT': '0',
      INPUT_ENGINE: 'auto',
      'INPUT_POSTGRES-CLIENT-ROOT': '/usr/lib/postgresql',
      GITHUB_OUTPUT: out,
      GITHUB_STEP_SUMMARY: join(work, 'summary.md'),
      GITHUB_SHA: '0123456789abcdef',
    };
  };
  const dist = join(root, 'dist', 'db-backup', 'index.js');
  for (let round = 0; round < ROUNDS; round++) {
    for (const which of round % 2 === 0 ? ['hand', 'ours'] : ['ours', 'hand']) {
      if (which === 'hand') {
        const key = `hand/${targetMb}/${round}.dump`;
        const script = join(work, 'upload.mjs');
        writeFileSync(script, HAND_UPLOADER);
        const s = await sampled('bash', ['-c', `set -o pipefail; ${pgDump} | ${node24} ${script}`], {
          ...env,
          S3_KEY: key,
        });
        if (s.code !== 0) throw new Error(`the hand pipe exited with ${s.code}`);
        objectBytes = s3.objects('bench').get(key)!.size;
        hand.push(s);
        console.error(`${targetMb} MB, round ${round + 1} hand pipe: ${s.ms} ms`);
      } else {
        const s = await sampled(node24, [dist], ourEnv(String(round)));
        if (s.code !== 0) throw new Error(`db-backup exited with ${s.code}:\n${s.stdout}`);
        ours.push(s);
        console.error(`${targetMb} MB, round ${round + 1} db-backup: ${s.ms} ms`);
      }
    }
  }
  const smallYoung = await sampled(node24, [dist], ourEnv('small-young'), '--max-semi-space-size=1');
  if (smallYoung.code !== 0) throw new Error(`db-backup (small young generation) exited with ${smallYoung.code}`);
  const live = await sampled(node24, [dist], { ...ourEnv('live'), MEMORY_FORCE_GC: '1' }, '--expose-gc');
  if (live.code !== 0) throw new Error(`db-backup (collecting every 100 ms) exited with ${live.code}`);
  let capped: SizeResult['capped'];
  if (capMiB !== undefined) {
    // A hard limit on the process's writable private memory (heap, Buffers, stacks): allocations past it fail.
    const s = await sampled('prlimit', [`--data=${capMiB * 2 ** 20}`, '--', node24, dist], ourEnv('capped'));
    capped = { ...s, capMiB };
    console.error(`${targetMb} MB, capped at ${capMiB} MiB: exit ${s.code}`);
  }
  await pg.sql(`DROP DATABASE ${database}`);
  return { targetMb, rows, sizeBytes, objectBytes, hand, ours, smallYoung, live, capped };
}

async function main(): Promise<void> {
  // The machine is shared: the load beside the numbers says how much of the wall time was waiting for a core.
  const uptimeBefore = execFileSync('uptime', { encoding: 'utf8' }).trim();
  const [pg, s3] = await Promise.all([startPostgres(), startS3Service()]);
  s3.createBucket('bench');
  const work = mkdtempSync(join(os.tmpdir(), 'rb-bench-s3-'));
  try {
    const results: SizeResult[] = [];
    for (const [i, targetMb] of SIZES_MB.entries()) {
      // The cap for the largest size: what the smallest one needed at most, plus a headroom the archive dwarfs.
      const capMiB =
        i === SIZES_MB.length - 1 && results.length > 0
          ? Math.ceil(Math.max(...results[0].ours.map((x) => x.memory.vmData)) + CAP_HEADROOM_MIB)
          : undefined;
      results.push(await measureSize(pg, s3, work, targetMb, capMiB));
    }
    const uptimeAfter = execFileSync('uptime', { encoding: 'utf8' }).trim();
    const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
    const m = (value: number) => `${value.toFixed(1)} MiB`;
    const peak = (samples: Sample[]) => Math.max(...samples.map((x) => x.peakKiB));
    const most = (runs: Run[], field: keyof Memory) => Math.max(...runs.map((x) => x.memory[field]));
    const archiveOf = (r: SizeResult) => `${(r.objectBytes / 2 ** 20).toFixed(0)} MiB archive`;
    const rowsOf = (r: SizeResult) => {
      const handMs = median(r.hand.map((x) => x.ms));
      const ourMs = median(r.ours.map((x) => x.ms));
      const row = (what: string, ms: number, runs: Run[]) =>
        `| ${archiveOf(r)} | ${what} | ${fmt(ms)} | ${runs.map((x) => fmt(x.ms)).join(', ')} | ${mib(peak(runs))} | ` +
        `${m(most(runs, 'vmHwm'))} | ${m(most(runs, 'heapUsed'))} | ${m(most(runs, 'heapTotal'))} | ${m(most(runs, 'arrayBuffers'))} |`;
      return [
        row('hand pipe `pg_dump -Fc \\| upload stdin`', handMs, r.hand),
        row('db-backup `storage: bucket`', ourMs, r.ours),
      ].join('\n');
    };
    const diagnosticsOf = (r: SizeResult) =>
      `| ${archiveOf(r)} | ${m(most(r.ours, 'vmHwm'))} | ${m(r.smallYoung.memory.vmHwm)} (V8 heap reserved ` +
      `${m(r.smallYoung.memory.heapTotal)}) | ${m(r.live.memory.heapUsed)} | ${m(r.live.memory.arrayBuffers)} at ${fmt(r.live.memory.arrayBuffersAtMs)} of ${fmt(r.live.memory.exitAtMs)} | ${m(most(r.ours, 'vmData'))} |`;
    const ratios = results.map((r) => {
      const ratio = median(r.ours.map((x) => x.ms)) / median(r.hand.map((x) => x.ms));
      const rounds = r.ours.map((x, i) => `${(x.ms / r.hand[i].ms).toFixed(2)}×`).join(', ');
      return `- ${archiveOf(r)}: db-backup took **${ratio.toFixed(2)}×** the hand pipe's time, median against median (goal: at most 1.1×); round by round ${rounds}.`;
    });
    const [small, large] = [results[0], results[results.length - 1]];
    const mibOf = (r: SizeResult) => r.objectBytes / 2 ** 20;
    const growth = (field: (r: SizeResult) => number) =>
      results.map((r) => m(field(r))).join(' → ') + ` (${(field(large) / field(small)).toFixed(2)}×)`;
    const capped = large.capped;
    const memory =
      results.length < 2
        ? 'One dump size only: run with several sizes (`BENCH_S3_DB_MB=100,300,600`) to compare memory across sizes.'
        : [
            `From the ${mibOf(small).toFixed(0)} MiB to the ${mibOf(large).toFixed(0)} MiB archive (${(mibOf(large) / mibOf(small)).toFixed(1)}× the bytes):`,
            '',
            `- db-backup's own peak resident memory (VmHWM): ${growth((r) => most(r.ours, 'vmHwm'))}; the hand pipe's uploader: ${growth((r) => most(r.hand, 'vmHwm'))}.`,
            `- process tree (with pg_dump, pg_restore, bash): db-backup ${growth((r) => peak(r.ours) / 1024)}; hand pipe ${growth((r) => peak(r.hand) / 1024)}.`,
            `- what the JavaScript holds: the V8 heap in use peaks at ${growth((r) => most(r.ours, 'heapUsed'))}; collecting every 100 ms, ` +
              `the live heap is ${growth((r) => r.live.memory.heapUsed)} and the live Buffers ${growth((r) => r.live.memory.arrayBuffers)}, ` +
              `at most ${(Math.max(...results.map((r) => r.live.memory.arrayBuffers)) / PART_MB).toFixed(1)} parts of ${PART_MB} MiB ` +
              `(two in flight, and the next one both as the chunks read and as the one Buffer the SDK joins them into) whatever the archive's size.`,
            `- what grows is room, not bytes held: the V8 heap's reserved size (${growth((r) => most(r.ours, 'heapTotal'))}; its young ` +
              `generation grows with the rate of allocation) and Buffers already dropped that the collector has not freed yet ` +
              `(peak ${growth((r) => most(r.ours, 'arrayBuffers'))}), whose memory the allocator then keeps for reuse. With the young ` +
              `generation held at its smallest (\`--max-semi-space-size=1\`) the peak was ${growth((r) => r.smallYoung.memory.vmHwm)}.`,
            capped
              ? `- **capped run**: db-backup streamed the ${mibOf(large).toFixed(0)} MiB archive with its writable memory limited ` +
                `(\`prlimit --data\`) to ${capped.capMiB} MiB, the most the ${mibOf(small).toFixed(0)} MiB archive needed ` +
                `(${m(most(small.ours, 'vmData'))}) plus ${CAP_HEADROOM_MIB} MiB` +
                (mibOf(large) > CAP_HEADROOM_MIB
                  ? `, a headroom the archive is ${(mibOf(large) / CAP_HEADROOM_MIB).toFixed(1)}× of, so holding it would not fit: `
                  : ` (more than the archive: this run proves nothing): `) +
                (capped.code === 0
                  ? `it exited 0 (object stored and verified, peak writable memory ${m(capped.memory.vmData)}, ${fmt(capped.ms)}).`
                  : `**it failed (exit ${capped.code})**.`)
              : '',
          ].join('\n');
    const md = `# db-backup to a bucket: benchmark

Generated by \`test/bench/db-backup-s3.ts\` on ${new Date().toISOString().slice(0, 10)} (${os.cpus().length} cores,
${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node 24 for both uploaders, PostgreSQL ${pg.majorVersion}).

## Method

- One private PostgreSQL cluster (test bed); for each size, one database (${results
      .map((r) => `${(r.sizeBytes / 2 ** 20).toFixed(0)} MiB: ${r.rows.toLocaleString('en')} rows`)
      .join('; ')}) of a table of six md5 hex strings per row, which compress little, so the custom archive is a good
  fraction of it. \`VACUUM ANALYZE\` and \`CHECKPOINT\` after the load; the database is dropped before the next size.
- The S3 stand-in (\`test/stand-ins/s3-service.ts\`) in the benchmark's own process on 127.0.0.1: it checks every
  signature and part checksum and writes the parts to disk, for both approaches alike.
- **hand pipe**: \`pg_dump -Fc | node upload.mjs\`, where upload.mjs is the AWS SDK's lib-storage \`Upload\` of stdin
  (${PART_MB} MiB parts, 2 in flight, SHA-256 part checksums): what \`pg_dump | aws s3 cp - s3://…\` does, without the
  CLI's Python start.
- **db-backup**: the built \`dist/db-backup/index.js\` under Node 24 with \`storage: bucket\` (${PART_MB} MiB parts, 2 in
  flight): server version and client choice, the bucket listed first, pg_dump's output streamed into the upload
  while it is hashed (whole and per part), completion only after pg_dump exited 0 and the archive header was seen,
  HeadObject to compare the stored composite checksum, \`pg_restore --list\` on the start of the object read back,
  the \`.sha256\` object, retention (a listing), outputs and summary.
- ${ROUNDS} rounds per size, alternating which goes first; median wall time (spawn to exit). Memory: the process
  tree's peak (the largest sum of VmRSS over the process and all its descendants, sampled every 25 ms; a child
  between fork and exec, or sharing its parent's pages, is counted in full again), and, from \`db-backup-s3-memory.mjs\` preloaded into the
  uploading Node process, that process's own peak resident size (VmHWM, the kernel's exact peak), the peaks of the
  V8 heap in use and reserved, of Buffers (\`arrayBuffers\`) and of its writable private memory (VmData); the
  highest of the rounds each.
- Then, per size, two more db-backup runs: one with \`NODE_OPTIONS=--max-semi-space-size=1\` (V8's young
  generation at its smallest), one that runs a full garbage collection every 100 ms and records what is still
  reachable after it (the live set). At the largest size, one run under \`prlimit --data\`: a hard limit on the
  process's writable private memory, the smallest size's peak plus ${CAP_HEADROOM_MIB} MiB; the bench fails if that run fails.
  Every figure below is computed by the script from the runs it lists.

## Results

Load before: \`${uptimeBefore}\`<br>
Load after: \`${uptimeAfter}\`

| size | | median time | runs | peak (process tree) | peak RSS of the uploader (VmHWM) | V8 heap in use | V8 heap reserved | Buffers |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
${results.map(rowsOf).join('\n')}

${ratios.join('\n')}

| db-backup, size | VmHWM (rounds) | VmHWM, young generation at its smallest | live heap (GC every 100 ms) | live Buffers (GC every 100 ms) | peak writable memory (VmData) |
| --- | --- | --- | --- | --- | --- |
${results.map(diagnosticsOf).join('\n')}

${memory}

The machine is shared with other work: the load above says how busy it was, and the spread between rounds is part
of the result.
`;
    writeFileSync(join(root, 'test', 'bench', 'db-backup-s3.md'), md);
    console.log(md);
    if (capped && capped.code !== 0)
      throw new Error(`db-backup failed under the memory cap:\n${capped.stdout.slice(-2000)}`);
  } finally {
    await Promise.all([pg.stop(), s3.stop()]);
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
