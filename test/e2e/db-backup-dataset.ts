// Datasets for the db-backup/db-restore end-to-end tests: every kind of value a dump can get wrong (unicode, binary,
// NULLs, large rows, sequences, views, two schemas), and a per-table fingerprint to compare two databases by.
import { readdirSync, readFileSync } from 'node:fs';
import type { MariaDBServer } from '../testbed/mariadb.js';
import type { PostgresServer } from '../testbed/postgres.js';

export const POSTGRES_DATASET = `
CREATE SCHEMA billing;
CREATE TABLE public.customers (
  id serial PRIMARY KEY, name text NOT NULL, city text, note text, photo bytea, created timestamptz DEFAULT now());
INSERT INTO public.customers (name, city, note, photo)
  SELECT 'client ' || g || ' – Zoë ☕ 日本語 🍕', CASE WHEN g % 3 = 0 THEN NULL ELSE 'Lyon' END,
         CASE WHEN g % 5 = 0 THEN NULL ELSE repeat('é', g % 50) END,
         CASE WHEN g % 4 = 0 THEN NULL ELSE decode(md5(g::text) || '00ff00', 'hex') END
  FROM generate_series(1, 2000) g;
-- Large rows: 3 MB of text and 2 MB of binary in single values.
INSERT INTO public.customers (name, note, photo)
  VALUES ('big one', repeat('Grand texte accentué ', 150000), decode(repeat('deadbeef00', 200000), 'hex'));
CREATE SEQUENCE billing.invoice_numbers START 1000 INCREMENT 7;
CREATE TABLE billing.invoices (
  number integer PRIMARY KEY DEFAULT nextval('billing.invoice_numbers'),
  customer_id integer REFERENCES public.customers(id), amount numeric(12,2), paid boolean, memo text);
INSERT INTO billing.invoices (customer_id, amount, paid, memo)
  SELECT (g % 2000) + 1, g * 1.25, CASE WHEN g % 7 = 0 THEN NULL ELSE g % 2 = 0 END,
         CASE WHEN g % 11 = 0 THEN NULL ELSE E'ligne\\ttabulée\\n«guillemets» \\\\ backslash' END
  FROM generate_series(1, 3000) g;
CREATE VIEW billing.unpaid AS SELECT number, amount FROM billing.invoices WHERE paid IS NOT TRUE;
`;

const POSTGRES_TABLES = ['public.customers', 'billing.invoices'];

/** Row count and an md5 over every row's text form, per table, plus sequence state and the view's row count. */
export async function postgresFingerprint(pg: PostgresServer, database: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const table of POSTGRES_TABLES) {
    result[table] = await pg.sql(
      `SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM ${table} t`,
      database,
    );
  }
  result['billing.invoice_numbers'] = await pg.sql(
    "SELECT last_value || ' ' || is_called FROM billing.invoice_numbers",
    database,
  );
  result['billing.unpaid'] = await pg.sql('SELECT count(*) FROM billing.unpaid', database);
  return result;
}

export const MARIADB_DATASET = `
SET NAMES utf8mb4;
CREATE TABLE customers (
  id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(200) NOT NULL, city VARCHAR(50) NULL, note LONGTEXT NULL,
  photo LONGBLOB NULL) DEFAULT CHARSET=utf8mb4;
INSERT INTO customers (name, city, note, photo)
  SELECT CONCAT('client ', seq, ' – Zoë ☕ 日本語 🍕'), IF(seq % 3 = 0, NULL, 'Lyon'),
         IF(seq % 5 = 0, NULL, REPEAT('é', seq % 50)), IF(seq % 4 = 0, NULL, UNHEX(CONCAT(MD5(seq), '00ff00')))
  FROM seq_1_to_2000;
INSERT INTO customers (name, note, photo) VALUES ('big one', REPEAT('Grand texte accentué ', 100000), UNHEX(REPEAT('deadbeef00', 200000)));
CREATE SEQUENCE invoice_numbers START WITH 1000 INCREMENT BY 7 NOCACHE;
CREATE TABLE invoices (
  number INT PRIMARY KEY, customer_id INT, amount DECIMAL(12,2), paid BOOLEAN NULL, memo TEXT NULL,
  FOREIGN KEY (customer_id) REFERENCES customers(id)) DEFAULT CHARSET=utf8mb4;
INSERT INTO invoices SELECT NEXTVAL(invoice_numbers), (seq % 2000) + 1, seq * 1.25, IF(seq % 7 = 0, NULL, seq % 2 = 0),
  IF(seq % 11 = 0, NULL, 'ligne\\ttabulée\\n«guillemets» \\\\ backslash') FROM seq_1_to_3000;
CREATE VIEW unpaid AS SELECT number, amount FROM invoices WHERE paid IS NOT TRUE;
`;

export async function mariadbFingerprint(db: MariaDBServer, database: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const table of ['customers', 'invoices']) {
    result[table] = await db.sql(
      `SELECT CONCAT(COUNT(*), ' ', SUM(CRC32(CONCAT_WS('|', ${table === 'customers' ? "id, name, IFNULL(city,'<null>'), IFNULL(note,'<null>'), IFNULL(HEX(photo),'<null>')" : "number, customer_id, amount, IFNULL(paid,'<null>'), IFNULL(memo,'<null>')"})))) FROM ${table}`,
      database,
    );
  }
  result.unpaid = await db.sql('SELECT COUNT(*) FROM unpaid', database);
  result.invoice_numbers = await db.sql('SELECT next_not_cached_value FROM invoice_numbers', database);
  return result;
}

/** Every process's argv on this machine, to prove a password is never on a command line. */
export function allCommandLines(): string[] {
  const lines: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      lines.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '));
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return lines;
}

/** Polls argv of every process until `done` settles; returns what was seen. */
export async function watchCommandLines<T>(
  done: Promise<T>,
  match: RegExp,
): Promise<{ result: T; seen: string[]; polls: number }> {
  let finished = false;
  const seen = new Set<string>();
  let polls = 0;
  const watching = (async () => {
    for (let i = 0; i < 100_000 && !finished; i++) {
      polls++;
      for (const line of allCommandLines()) if (match.test(line)) seen.add(line);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const result = await done.finally(() => (finished = true));
  await watching;
  return { result, seen: [...seen], polls };
}
