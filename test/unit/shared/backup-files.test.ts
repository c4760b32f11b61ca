import {
  backupFileName,
  latestBackup,
  parseBackupName,
  planRetention,
  sanitizePrefix,
  shortSha,
  timestampOf,
} from '../../../actions/shared/backup-files.js';

const at = (y: number, mo: number, d: number, h = 0, mi = 0) => new Date(Date.UTC(y, mo - 1, d, h, mi));

describe('backup names', () => {
  test('<prefix>_<YYYYMMDDHHMM>_<short sha>.<ext> in UTC', () => {
    expect(timestampOf(at(2026, 3, 5, 7, 9))).toBe('202603050709');
    expect(backupFileName('OCPDB', at(2026, 3, 5, 7, 9), '9F3c2b1aa', 'dump')).toBe('OCPDB_202603050709_9f3c2b1.dump');
    expect(backupFileName('my db/prod', at(2026, 3, 5), '', 'sql', { encrypted: true, sequence: 2 })).toBe(
      'my-db-prod_202603050000_nosha-2.sql.enc',
    );
    expect(sanitizePrefix('///')).toBe('backup');
    expect(shortSha('abc')).toBe('abc');
  });

  test('names parse back; other files and impossible dates do not', () => {
    expect(parseBackupName('OCPDB_202603050709_9f3c2b1.dump')).toEqual({
      file: 'OCPDB_202603050709_9f3c2b1.dump',
      prefix: 'OCPDB',
      time: at(2026, 3, 5, 7, 9),
      sha: '9f3c2b1',
      sequence: 1,
      extension: 'dump',
      encrypted: false,
    });
    expect(parseBackupName('shop_db_202603050709_abc-3.sql.enc')).toMatchObject({
      prefix: 'shop_db',
      sequence: 3,
      encrypted: true,
      extension: 'sql',
    });
    for (const other of [
      'OCPDB_202603050709',
      'notes.txt',
      'x_202613010000_abc.sql',
      'x_202602300000_abc.sql',
      'x_202603050709_abc.dump.partial',
      'x_202603050709_abc.tar',
    ]) {
      expect(parseBackupName(other)).toBeUndefined();
    }
  });

  test('latest is chosen by the time in the name, optionally for one prefix', () => {
    const files = [
      'shop_202601010000_a.dump',
      'shop_202603010000_b.sql',
      'blog_202612010000_c.dump',
      'readme.md',
      'shop_202603010000_b-2.sql',
    ];
    expect(latestBackup(files)?.file).toBe('blog_202612010000_c.dump');
    expect(latestBackup(files, 'shop')?.file).toBe('shop_202603010000_b-2.sql');
    expect(latestBackup(['x.txt'])).toBeUndefined();
  });

  test("latest without a prefix never picks db-restore's own safety backup", () => {
    const files = ['shop_202611270300_a.dump', 'shop-before-restore_202611270400_b.dump'];
    expect(latestBackup(files)?.file).toBe('shop_202611270300_a.dump');
    // Asked for by its prefix, a safety backup can still be restored on purpose.
    expect(latestBackup(files, 'shop-before-restore')?.file).toBe('shop-before-restore_202611270400_b.dump');
  });
});

describe('retention over files spread across 30 days', () => {
  const now = at(2026, 11, 27, 3, 0);
  // One nightly backup at 03:00 for 30 days, plus files retention must never touch.
  const nightly = Array.from({ length: 30 }, (_, i) =>
    backupFileName('OCPDB', new Date(now.getTime() - i * 86_400_000), 'abc1234', 'dump'),
  );
  const foreign = [
    'OCPDB_notes.txt',
    'README',
    'other_202601010000_abc1234.dump',
    'OCPDB_202611010300_abc1234.dump.partial',
  ];
  const files = [...foreign, ...nightly];
  const justMade = nightly[0];

  test('keep-days 14 deletes the 15 older nightly backups and nothing else', () => {
    const plan = planRetention(files, { prefix: 'OCPDB', keepDays: 14, keepCount: 0, now, protect: justMade });
    expect(plan.remove).toEqual(nightly.slice(15));
    expect(plan.keep).toEqual(nightly.slice(0, 15));
    for (const f of foreign) expect(plan.remove).not.toContain(f);
  });

  test('keep-count keeps the newest N; with keep-days, a file goes when either rule says so', () => {
    expect(planRetention(files, { prefix: 'OCPDB', keepDays: 0, keepCount: 5, now, protect: justMade }).keep).toEqual(
      nightly.slice(0, 5),
    );
    expect(planRetention(files, { prefix: 'OCPDB', keepDays: 3, keepCount: 10, now, protect: justMade }).keep).toEqual(
      nightly.slice(0, 4),
    );
    expect(planRetention(files, { prefix: 'OCPDB', keepDays: 0, keepCount: 0, now, protect: justMade }).remove).toEqual(
      [],
    );
  });

  test('the backup just made is never deleted, even when its name says it is old', () => {
    const oldNamed = nightly[29];
    const plan = planRetention(files, { prefix: 'OCPDB', keepDays: 1, keepCount: 1, now, protect: oldNamed });
    expect(plan.remove).not.toContain(oldNamed);
    expect(plan.keep).toEqual([nightly[0], oldNamed]);
  });
});

describe('names dated in the future', () => {
  const now = new Date(Date.UTC(2026, 10, 27, 14, 5));
  const files = [
    'shop_202611270300_a.dump',
    'shop_202611271405_b.dump',
    'shop_202611271406_c.dump',
    'shop_209912312359_d.dump',
  ];
  test('latest takes the newest name not after now (this very minute included)', () => {
    expect(latestBackup(files, undefined, now)?.file).toBe('shop_202611271405_b.dump');
    expect(latestBackup(files, 'shop', now)?.file).toBe('shop_202611271405_b.dump');
    expect(latestBackup(['shop_209912312359_d.dump'], 'shop', now)).toBeUndefined();
  });
  test('retention neither counts nor deletes them: keep-count keeps real backups', () => {
    const plan = planRetention(files, {
      prefix: 'shop',
      keepDays: 0,
      keepCount: 1,
      now,
      protect: 'shop_202611271405_b.dump',
    });
    expect(plan.remove).toEqual(['shop_202611270300_a.dump']);
    expect(plan.keep).toEqual(['shop_202611271405_b.dump']);
  });
});
