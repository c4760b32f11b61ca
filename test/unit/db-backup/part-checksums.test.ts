// The checksums db-backup computes while a dump streams into a bucket: the whole SHA-256 (the backup's checksum) and
// each part's, whose composite S3 reports for a multipart object. The hasher is private to the object store, so it
// is driven through S3ObjectStore.upload against the S3 stand-in, and checked against values computed here by hand.
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { S3ObjectStore } from '../../../actions/shared/s3-object-store.js';
import { startS3Service, type S3Service } from '../../stand-ins/s3-service.js';

const PART = 5 * 1024 * 1024;
let s3: S3Service;

beforeAll(async () => {
  s3 = await startS3Service();
  s3.createBucket('backups');
});
afterAll(() => s3.stop());

const store = () =>
  new S3ObjectStore({
    input: 'bucket',
    bucket: 'backups',
    prefix: 'db',
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    partSize: PART,
  });

/** S3's documented composite checksum: base64(sha256(part digest 1 ‖ … ‖ part digest N)) followed by -N. */
function compositeByHand(data: Buffer, partSize: number): string {
  const digests: Buffer[] = [];
  for (let at = 0; at < data.length; at += partSize)
    digests.push(
      createHash('sha256')
        .update(data.subarray(at, at + partSize))
        .digest(),
    );
  return `${createHash('sha256').update(Buffer.concat(digests)).digest('base64')}-${digests.length}`;
}

/** pg_dump writes in pieces that never line up with the part size: 1 MiB and 7 bytes here. */
const inPieces = (data: Buffer) => {
  const pieces: Buffer[] = [];
  for (let at = 0; at < data.length; at += 1024 * 1024 + 7) pieces.push(data.subarray(at, at + 1024 * 1024 + 7));
  return Readable.from(pieces);
};

describe('part checksums of an upload', () => {
  test.each([
    ['two parts and one byte', 2 * PART + 1, 3],
    ['exactly two parts (the stream ends on a part boundary)', 2 * PART, 2],
    ['one part and a short last part', PART + 123_457, 2],
  ])('%s: the composite equals the one computed by hand', async (_name, size, parts) => {
    const data = randomBytes(size);
    const key = `db/composite-${size}.dump`;
    const report = await store().upload(key, inPieces(data), { sha: 'abc' });

    expect(report.bytes).toBe(size);
    expect(report.parts).toBe(parts);
    expect(report.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    const stored = s3.objects('backups').get(key)!;
    expect(stored.checksum).toEqual({ algorithm: 'sha256', value: compositeByHand(data, PART), type: 'COMPOSITE' });
    expect(report.verification).toBe(
      `the server checked each part's SHA-256 and its composite of the ${parts} parts equals the one computed while sending`,
    );
    expect(s3.read('backups', key).equals(data)).toBe(true);
  });

  test('an object smaller than a part is checked against the SHA-256 of the whole', async () => {
    const data = randomBytes(300_001);
    const key = 'db/small.dump';
    const report = await store().upload(key, inPieces(data), {});
    const whole = createHash('sha256').update(data);
    expect(report).toMatchObject({ bytes: data.length, parts: 1, sha256: whole.copy().digest('hex') });
    expect(s3.objects('backups').get(key)!.checksum?.value).toBe(whole.digest('base64'));
    expect(report.verification).toBe(`the server's SHA-256 of the object equals the one computed while sending`);
  });
});
