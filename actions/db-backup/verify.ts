/**
 * The rules that decide whether a dump is complete. Each returns undefined when the file passes, or the reason it
 * does not; the caller deletes a file that fails, so only verified backups ever carry a backup's name.
 */
export type BackupFormat = 'custom' | 'plain' | 'mysql' | 'json';

/** Written by pg_dump as the last comment of a plain dump; absent when the dump was cut short. */
export const POSTGRES_DUMP_COMPLETE = '-- PostgreSQL database dump complete';
/** Written by mysqldump / mariadb-dump at the very end (with --comments, the default). */
export const MYSQL_DUMP_COMPLETE = '-- Dump completed';

export function checkSize(size: number): string | undefined {
  return size > 0 ? undefined : 'the dump is empty (0 bytes)';
}

/** The end of an SQL dump must carry its tool's completion marker. */
export function checkSqlMarker(format: 'plain' | 'mysql', tail: string): string | undefined {
  const marker = format === 'plain' ? POSTGRES_DUMP_COMPLETE : MYSQL_DUMP_COMPLETE;
  return tail.includes(marker) ? undefined : `the dump does not end with '${marker}' (it was cut short)`;
}

/** `pg_restore --list` must succeed and list at least the archive header. */
export function checkArchiveListing(code: number | null, listing: string, stderr: string): string | undefined {
  if (code !== 0)
    return `pg_restore --list cannot read the archive: ${stderr.trim().split('\n').at(-1) ?? `exit ${code}`}`;
  if (!/; Archive created at/.test(listing)) return 'pg_restore --list printed no archive header';
  return undefined;
}

/** Custom-format archives start with the magic 'PGDMP'. */
export function isCustomArchive(head: Buffer): boolean {
  return head.subarray(0, 5).toString('latin1') === 'PGDMP';
}

/**
 * A streaming structural check of `dumpdata` output: a top-level array whose brackets balance and whose strings
 * close, read chunk by chunk so a large fixture is never held in memory. Truncation (the usual failure: a
 * killed dumpdata) always breaks the balance. Files small enough are also JSON.parse'd by the caller.
 */
export class JsonStructureCheck {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private started = false;
  private closed = false;
  private error: string | undefined;
  private offset = 0;

  feed(chunk: string): void {
    if (this.error) return;
    for (const ch of chunk) {
      this.offset++;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (ch === '\\') this.escaped = true;
        else if (ch === '"') this.inString = false;
        continue;
      }
      if (ch === ' ' || ch === '\n' || ch === '\r' || ch === '\t') continue;
      if (this.closed) return this.fail(`unexpected '${ch}' after the end of the top-level array`);
      if (!this.started) {
        if (ch !== '[') return this.fail(`dumpdata output must start with '['; found '${ch}'`);
        this.started = true;
      }
      if (ch === '"') this.inString = true;
      else if (ch === '[' || ch === '{') this.depth++;
      else if (ch === ']' || ch === '}') {
        this.depth--;
        if (this.depth < 0) return this.fail(`unbalanced '${ch}'`);
        if (this.depth === 0) this.closed = true;
      }
    }
  }

  end(): string | undefined {
    if (this.error) return this.error;
    if (!this.started) return 'the JSON is empty';
    if (!this.closed || this.inString) return 'the JSON ends before its top-level array closes (it was cut short)';
    return undefined;
  }

  private fail(message: string): void {
    this.error = `invalid JSON at character ${this.offset}: ${message}`;
  }
}
