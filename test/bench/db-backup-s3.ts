// Benchmark of db-backup streaming a PostgreSQL dump into a bucket (storage: bucket) against the hand pipe a user
// would otherwise write, `pg_dump -Fc | <upload of stdin>` (what `aws s3 cp - s3://…` does), here the same AWS SDK's
// lib-storage Upload reading stdin, so both talk to the same local S3 stand-in with the same part size.
// Wall time from spawn to exit, peak memory of the whole process tree (process-sampler.ts). Rounds alternate.
// Two database sizes in one run, so that peak memory can be compared across dump sizes.
// Writes test/bench/db-backup-s3.md. Run: npm run bench db-backup-s3  (BENCH_S3_DB_MB=100,300 by default)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startS3Service } from '../stand-ins/s3-service.js';
import { startPostgres } from '../testbed/postgres.js';
import { measure, type Sample } from './process-sampler.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SIZES_MB = (process.env.BENCH_S3_DB_MB ?? '100,300').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PART_MB = 16;
const node24 = join(root, 'node_modules', 'node', 'bin', 'node');
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

interface SizeResult {
  targetMb: number;
  rows: number;
  sizeBytes: number;
  objectBytes: number;
  hand: Sample[];
  ours: Sample[];
}

/** One database of about targetMb MB, dumped ROUNDS times each way into the bucket. */
async function measureSize(
  pg: Awaited<ReturnType<typeof startPostgres>>,
  s3: Awaited<ReturnType<typeof startS3Service>>,
  work: string,
  targetMb: number,
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
  const hand: Sample[] = [];
  const ours: Sample[] = [];
  let objectBytes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const which of round % 2 === 0 ? ['hand', 'ours'] : ['ours', 'hand']) {
      if (which === 'hand') {
        const key = `hand/${targetMb}/${round}.dump`;
        const script = join(work, 'upload.mjs');
        writeFileSync(script, HAND_UPLOADER);
        const s = await measure('bash', ['-c', `set -o pipefail; ${pgDump} | ${node24} ${script}`], {
          ...env,
          S3_KEY: key,
        });
        if (s.code !== 0) throw new Error(`the hand pipe exited with ${s.code}`);
        objectBytes = s3.objects('bench').get(key)!.size;
        hand.push(s);
        console.error(`${targetMb} MB, round ${round + 1} hand pipe: ${s.ms} ms`);
      } else {
        const out = join(work, `out-${targetMb}-${round}`);
        writeFileSync(out, '');
        writeFileSync(join(work, 'summary.md'), '');
        const s = await measure(node24, [join(root, 'dist', 'db-backup', 'index.js')], {
          ...env,
          'INPUT_DATABASE-URL': pg.url(database),
          INPUT_STORAGE: 'bucket',
          INPUT_BUCKET: `s3://bench/ours/${targetMb}/${round}`,
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
        });
        if (s.code !== 0) throw new Error(`db-backup exited with ${s.code}:\n${s.stdout}`);
        ours.push(s);
        console.error(`${targetMb} MB, round ${round + 1} db-backup: ${s.ms} ms`);
      }
    }
  }
  await pg.sql(`DROP DATABASE ${database}`);
  return { targetMb, rows, sizeBytes, objectBytes, hand, ours };
}

async function main(): Promise<void> {
  // The machine is shared: the load beside the numbers says how much of the wall time was waiting for a core.
  const uptimeBefore = execFileSync('uptime', { encoding: 'utf8' }).trim();
  const [pg, s3] = await Promise.all([startPostgres(), startS3Service()]);
  s3.createBucket('bench');
  const work = mkdtempSync(join(os.tmpdir(), 'rb-bench-s3-'));
  try {
    const results: SizeResult[] = [];
    for (const targetMb of SIZES_MB) results.push(await measureSize(pg, s3, work, targetMb));
    const uptimeAfter = execFileSync('uptime', { encoding: 'utf8' }).trim();
    const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
    const peak = (samples: Sample[]) => Math.max(...samples.map((x) => x.peakKiB));
    const rowsOf = (r: SizeResult) => {
      const handMs = median(r.hand.map((x) => x.ms));
      const ourMs = median(r.ours.map((x) => x.ms));
      const archive = `${(r.objectBytes / 2 ** 20).toFixed(0)} MiB archive`;
      return [
        `| ${archive} | hand pipe \`pg_dump -Fc \\| upload stdin\` | ${fmt(handMs)} | ${r.hand.map((x) => fmt(x.ms)).join(', ')} | ${mib(peak(r.hand))} |`,
        `| ${archive} | db-backup \`storage: bucket\` | ${fmt(ourMs)} | ${r.ours.map((x) => fmt(x.ms)).join(', ')} | ${mib(peak(r.ours))} |`,
      ].join('\n');
    };
    const ratios = results.map((r) => {
      const ratio = median(r.ours.map((x) => x.ms)) / median(r.hand.map((x) => x.ms));
      const rounds = r.ours.map((x, i) => `${(x.ms / r.hand[i].ms).toFixed(2)}×`).join(', ');
      return `- ${(r.objectBytes / 2 ** 20).toFixed(0)} MiB archive: db-backup took **${ratio.toFixed(2)}×** the hand pipe's time, median against median (goal: at most 1.1×); round by round ${rounds}.`;
    });
    const [small, large] = [results[0], results[results.length - 1]];
    const memory =
      results.length < 2
        ? 'One dump size only: run with two sizes (`BENCH_S3_DB_MB=100,300`) to compare peak memory across sizes.'
        : `From the ${(small.objectBytes / 2 ** 20).toFixed(0)} MiB to the ${(large.objectBytes / 2 ** 20).toFixed(0)} MiB archive ` +
          `(${(large.objectBytes / small.objectBytes).toFixed(1)}× the bytes), db-backup's peak memory went from ` +
          `${mib(peak(small.ours))} to ${mib(peak(large.ours))} (${(peak(large.ours) / peak(small.ours)).toFixed(2)}×) and the hand ` +
          `pipe's from ${mib(peak(small.hand))} to ${mib(peak(large.hand))} (${(peak(large.hand) / peak(small.hand)).toFixed(2)}×). ` +
          `By design the upload holds at most the part being filled and the two in flight (${PART_MB} MiB each) and writes ` +
          `nothing of the dump to the runner's disk.`;
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
- ${ROUNDS} rounds per size, alternating which goes first; median wall time (spawn to exit), and the highest peak
  memory: the largest sum of VmRSS over the process and all its descendants (pg_dump included), sampled every 25 ms.
  Every figure below is computed by the script from the runs it lists.

## Results

Load before: \`${uptimeBefore}\`<br>
Load after: \`${uptimeAfter}\`

| size | | median time | runs | peak memory (process tree) |
| --- | --- | --- | --- | --- |
${results.map(rowsOf).join('\n')}

${ratios.join('\n')}

${memory}

The machine is shared with other work: the load above says how busy it was, and the spread between rounds is part
of the result.
`;
    writeFileSync(join(root, 'test', 'bench', 'db-backup-s3.md'), md);
    console.log(md);
  } finally {
    await Promise.all([pg.stop(), s3.stop()]);
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
