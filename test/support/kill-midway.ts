// What the tests that kill an action midway share: waits for events (bounded by a count, never by a time), the
// action's main process among this test's children, and a PostgreSQL lock that holds a dump or restore mid-run.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PostgresServer } from '../testbed/postgres.js';
import { childPids } from '../testbed/process.js';

/** Polls `check` until it holds, at most `tries` times: each wait is for an event, the count only bounds it. */
export async function until(what: string, check: () => boolean | Promise<boolean>, tries = 3000): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`never happened: ${what}`);
}

/** The action's main process: a child of this test process running the action's bundle. */
export function mainProcess(action: string): number | undefined {
  return childPids(process.pid).find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`dist/${action}/index.js`);
    } catch {
      return false;
    }
  });
}

/** A transaction holding an exclusive lock on `table` until release(): pg_dump and pg_restore wait behind it. */
export async function lockTable(
  pg: PostgresServer,
  database: string,
  table: string,
): Promise<{ release: () => Promise<void> }> {
  const psql = spawn(
    join(pg.binDir, 'psql'),
    ['-X', '-At', '-v', 'ON_ERROR_STOP=1', '-h', pg.host, '-p', String(pg.port), '-U', pg.user, '-d', database],
    { env: { PATH: process.env.PATH, PGPASSWORD: pg.password, PSQLRC: '/dev/null' } },
  );
  let out = '';
  psql.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<void>((resolve) => psql.on('exit', () => resolve()));
  psql.stdin.write(`BEGIN; LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE; SELECT 'locked';\n`);
  await until('the lock is held', () => out.includes('locked'));
  return {
    release: async () => {
      psql.stdin.end('COMMIT;\n');
      await exited;
    },
  };
}

/** True once a session of `database` waits for a lock (the dump or restore the action started). */
export async function someoneWaitsForALock(pg: PostgresServer, database: string): Promise<boolean> {
  const waiting = await pg.sql(
    `SELECT count(*) FROM pg_stat_activity WHERE datname = '${database}' AND wait_event_type = 'Lock'`,
  );
  return Number(waiting) > 0;
}
