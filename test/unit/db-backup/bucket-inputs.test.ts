import { readStoragePlaces } from '../../../actions/db-backup/inputs.js';
import { ConfigurationError } from '../../../actions/shared/errors.js';
import { InputReader } from '../../../actions/shared/inputs.js';
import { parseS3Location } from '../../../actions/shared/object-store.js';

const places = (storage: string) => readStoragePlaces(new InputReader((n) => (n === 'storage' ? storage : '')));

/** Checks that a call is refused with a ConfigurationError of exactly this one-line message. */
function expectRefused(call: () => unknown, message: string): void {
  let error: unknown;
  try {
    call();
  } catch (thrown) {
    error = thrown;
  }
  expect(error).toBeInstanceOf(ConfigurationError);
  expect((error as Error).message).toBe(message);
  expect(message.split('\n')).toHaveLength(1);
}

describe('storage input (readStoragePlaces)', () => {
  test.each([
    ['', { file: 'runner', bucket: false }],
    ['runner', { file: 'runner', bucket: false }],
    ['server', { file: 'server', bucket: false }],
    ['bucket', { file: undefined, bucket: true }],
    ['runner, bucket', { file: 'runner', bucket: true }],
    ['server, bucket', { file: 'server', bucket: true }],
    // Order, spacing and a YAML block scalar's newline do not matter.
    ['bucket,server', { file: 'server', bucket: true }],
    ['  bucket   runner ', { file: 'runner', bucket: true }],
    ['server,\nbucket\n', { file: 'server', bucket: true }],
  ])('%j is accepted', (storage, expected) => {
    expect(places(storage)).toEqual(expected);
  });

  test.each([
    'runner, server',
    'server, runner, bucket',
    'bucket, bucket',
    'runner,runner',
    's3',
    'Bucket',
    'runner; bucket',
    'server, bucket, artifact',
  ])('%j is refused with one error naming storage and what it accepts', (storage) => {
    expectRefused(
      () => places(storage),
      `Input 'storage' must be runner, server or bucket, or bucket with one of the other two (e.g. 'server, bucket'); got '${storage.trim()}'.`,
    );
  });
});

describe('s3:// locations (parseS3Location)', () => {
  test.each([
    ['s3://backups', { bucket: 'backups', path: '' }],
    ['s3://backups/', { bucket: 'backups', path: '' }],
    ['s3://backups/db/', { bucket: 'backups', path: 'db' }],
    ['s3://backups/db', { bucket: 'backups', path: 'db' }],
    ['s3://my-team.backups/prod/nightly//', { bucket: 'my-team.backups', path: 'prod/nightly' }],
    ['s3://abc/x', { bucket: 'abc', path: 'x' }],
    [`s3://${'a'.repeat(63)}/p`, { bucket: 'a'.repeat(63), path: 'p' }],
    ['s3://0day-backups/2026', { bucket: '0day-backups', path: '2026' }],
  ])('%s → %j', (text, expected) => {
    expect(parseS3Location(text, 'bucket')).toEqual(expected);
  });

  test.each(['backups/db', 'S3://backups', 'https://backups.s3.amazonaws.com/db', 's3:/backups', 'gs://backups', ''])(
    'scheme of %j is refused, naming the input',
    (text) => {
      expectRefused(
        () => parseS3Location(text, 'bucket'),
        `Input 'bucket' must be an s3://bucket/prefix location; got '${text}'.`,
      );
    },
  );

  test.each([
    ['s3://', ''],
    ['s3:///db', ''],
    ['s3://ab', 'ab'],
    [`s3://${'a'.repeat(64)}`, 'a'.repeat(64)],
    ['s3://Backups', 'Backups'],
    ['s3://my_backups', 'my_backups'],
    ['s3://-backups', '-backups'],
    ['s3://backups-', 'backups-'],
    ['s3://.backups', '.backups'],
    ['s3://my..backups', 'my..backups'],
  ])('%s: bucket name %j is refused with the rules', (text, bucket) => {
    expectRefused(
      () => parseS3Location(text, 'backup'),
      `Input 'backup': '${bucket}' is not a bucket name (3 to 63 lower-case letters, digits, dots and hyphens).`,
    );
  });

  test.each([
    ['s3://backups/../other', '../other'],
    ['s3://backups/db/./x', 'db/./x'],
    ['s3://backups/db/..', 'db/..'],
    ['s3://backups//db', '/db'],
    ['s3://backups/db//x', 'db//x'],
  ])('%s: a key prefix with a dot part or an empty part is refused', (text, path) => {
    expectRefused(
      () => parseS3Location(text, 'bucket'),
      `Input 'bucket': the key prefix '${path}' has an empty, '.' or '..' part.`,
    );
  });

  test.each(['s3://AKIAEXAMPLE:wJalrXUtnFEMI@backups/db', 's3://token@backups'])(
    'credentials inside the location are refused and never quoted (%s)',
    (text) => {
      let message = '';
      try {
        parseS3Location(text, 'bucket');
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/^Input 'bucket' must not hold credentials/);
      expect(message).not.toMatch(/wJalrXUtnFEMI|token@|AKIAEXAMPLE/);
    },
  );

  test('a refused scheme quotes the location without its password, bounded', () => {
    let message = '';
    try {
      parseS3Location(`https://key:sup3r-s3cret@backups.example.com/${'x'.repeat(500)}`, 'bucket');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^Input 'bucket' must be an s3:\/\/bucket\/prefix location; got '/);
    expect(message).not.toContain('sup3r-s3cret');
    expect(message.length).toBeLessThan(300);
  });
});
