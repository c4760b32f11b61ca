import { isBuildOf, type HerokuBuild } from '../../../actions/deploy/heroku/build.js';
import { isSecretConfigVar, secretParts } from '../../../actions/deploy/heroku/config-vars.js';
import { judgeDynos, type HerokuDyno } from '../../../actions/deploy/heroku/dynos.js';
import {
  codeVersion,
  replacedVersions,
  rollbackTarget,
  type HerokuRelease,
} from '../../../actions/deploy/heroku/release.js';

/** A release history as Heroku lists it: `Deploy <sha>`, `Rollback to vN`, `Set X config vars`. */
function history(...entries: [string, HerokuRelease['status']?][]): HerokuRelease[] {
  return entries.map(([description, status = 'succeeded'], i) => ({
    id: `r${i + 1}`,
    version: i + 1,
    status,
    current: i === entries.length - 1,
    description,
    output_stream_url: null,
    slug: { id: `s${i + 1}` },
  }));
}
const at = (releases: HerokuRelease[], version: number) => releases.find((r) => r.version === version)!;

describe('rollback targets', () => {
  test('after a rejected deploy (v5 rejected, v6 = Rollback to v4), mode: rollback goes to v3, never to v5', () => {
    const releases = history(['Deploy a'], ['Deploy b'], ['Deploy c'], ['Deploy d'], ['Deploy e'], ['Rollback to v4']);
    expect([...replacedVersions(releases)]).toEqual([5]);
    expect(codeVersion(at(releases, 6), releases)).toBe(4);
    expect(rollbackTarget(releases, at(releases, 6))?.version).toBe(3);
  });

  test('deploy → rollback → rollback goes further back each time, then finds nothing', () => {
    const once = history(['Deploy a'], ['Deploy b'], ['Deploy c'], ['Rollback to v2']);
    expect(rollbackTarget(once, at(once, 4))?.version).toBe(1);
    const twice = history(['Deploy a'], ['Deploy b'], ['Deploy c'], ['Rollback to v2'], ['Rollback to v1']);
    expect(codeVersion(at(twice, 5), twice)).toBe(1);
    expect([...replacedVersions(twice)].sort()).toEqual([2, 3, 4]);
    expect(rollbackTarget(twice, at(twice, 5))).toBeUndefined();
  });

  test('failed releases are skipped; a config change and an earlier rollback are fair targets', () => {
    const releases = history(
      ['Deploy a'],
      ['Deploy b'],
      ['Rollback to v1'],
      ['Set SENTRY_DSN config vars'],
      ['Deploy c', 'failed'],
      ['Deploy d'],
    );
    expect(rollbackTarget(releases, at(releases, 6))?.version).toBe(4);
    expect(rollbackTarget(releases, at(releases, 4))?.version).toBe(3);
    // v3 runs v1's code: rolling back from it must go older than v1.
    expect(rollbackTarget(releases, at(releases, 3))).toBeUndefined();
  });
});

describe('which config vars are secret', () => {
  const databaseUrl = 'postgres://u4abc:p4ssw0rd-long@ec2-1-2-3-4.compute-1.amazonaws.com:5432/d8f7';
  test.each([
    ['DATABASE_URL', databaseUrl, true],
    ['JAWSDB_URL', 'mysql://user:pw123456@host:3306/db', true],
    ['REDIS_URL', 'redis://:token123@host:6379', true],
    ['SECRET_KEY', 'django-insecure-abc', true],
    ['AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', true],
    ['SENTRY_DSN', 'https://abc123@o1.ingest.sentry.io/42', true],
    ['STRIPE_LIVE', 'sk_live_51HabcDEF123ghiJKL456', true],
    ['ALLOWED_HOSTS', 'ocpizza.herokuapp.com,www.ocpizza.fr', false],
    ['SITE_URL', 'https://www.ocpizza.fr/', false],
    ['DJANGO_SETTINGS_MODULE', 'ocpizza.settings.prod2', false],
    ['SESSION_COOKIE_SECURE', 'True', false],
    ['API_TIMEOUT_MS', '3000', false],
    ['DEBUG', '0', false],
  ])('%s', (name, value, secret) => {
    expect(isSecretConfigVar(name, value)).toBe(secret);
  });

  test('a database URL is masked whole and by its password; a PEM key line by line; public values not at all', () => {
    expect(secretParts('DATABASE_URL', databaseUrl)).toEqual([databaseUrl, 'p4ssw0rd-long']);
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----';
    expect(secretParts('TLS_PEM', pem)).toContain('MIIEvQIBADANBgkqhkiG9w0BAQEFAASC');
    expect(secretParts('ALLOWED_HOSTS', 'ocpizza.example,localhost')).toEqual([]);
    expect(secretParts('API_KEY', 'abc')).toEqual([]);
  });
});

describe('web dynos of a release', () => {
  const dyno = (name: string, state: string, version: number): HerokuDyno => ({
    name,
    type: 'web',
    state,
    release: { id: `r${version}`, version },
  });
  test('up only when every web dyno runs the release; a crash of the release fails it; old dynos are waited for', () => {
    expect(judgeDynos([dyno('web.1', 'up', 7), dyno('web.2', 'up', 7)], 7).verdict).toBe('up');
    expect(judgeDynos([dyno('web.1', 'up', 7), dyno('web.2', 'up', 6)], 7).verdict).toBe('waiting');
    expect(judgeDynos([dyno('web.1', 'starting', 7)], 7).verdict).toBe('waiting');
    expect(judgeDynos([dyno('web.1', 'crashed', 6), dyno('web.2', 'starting', 7)], 7).verdict).toBe('waiting');
    expect(judgeDynos([dyno('web.1', 'crashed', 7)], 7).verdict).toBe('crashed');
    expect(judgeDynos([{ ...dyno('worker.1', 'up', 7), type: 'worker' }], 7).verdict).toBe('none');
  });
});

describe('the build a lost answer created', () => {
  const blob = { url: 'https://s3/blob?sig=1', version: 'abc123', checksum: 'SHA256:ff', sizeBytes: 10 };
  const build = (source: Partial<HerokuBuild['source_blob']>, created: string): HerokuBuild => ({
    id: 'b1',
    status: 'pending',
    output_stream_url: null,
    release: null,
    source_blob: { url: 'https://s3/other', version: null, checksum: null, ...source },
    created_at: created,
  });
  const sent = new Date('2026-12-02T04:00:00Z');
  test('matched by its signed source URL, or by commit and checksum, and only if created since the request', () => {
    expect(isBuildOf(build({ url: blob.url }, '2026-12-02T04:00:01Z'), blob, sent)).toBe(true);
    expect(isBuildOf(build({ version: 'abc123', checksum: 'SHA256:ff' }, '2026-12-02T04:00:01Z'), blob, sent)).toBe(
      true,
    );
    expect(isBuildOf(build({ version: 'abc123', checksum: 'SHA256:00' }, '2026-12-02T04:00:01Z'), blob, sent)).toBe(
      false,
    );
    // The same commit built by an earlier run, an hour ago, is not this run's build.
    expect(isBuildOf(build({ version: 'abc123', checksum: 'SHA256:ff' }, '2026-12-02T03:00:00Z'), blob, sent)).toBe(
      false,
    );
  });
});
