// A full disk on the runner while a dump is streamed into a file (mariadb-dump, dumpdata, pg_dump over SSH kept on
// the runner): one clear line, no stack trace, no unhandled rejection, and no partial file left. The disk is a real
// tmpfs of 64 KiB; the fake tools write 1 MiB.
import { readdirSync } from 'node:fs';
import { PassThrough, Writable } from 'node:stream';
import { join } from 'node:path';
import { run } from '../../../actions/db-backup/main.js';
import { runProcess } from '../../../actions/shared/process.js';
import { ActionFailure } from '../../../actions/shared/errors.js';
import { canMountSmallDisk, mountSmallDisk, type SmallDisk } from '../../support/small-disk.js';
import { capturingStdout, makeFakeTools, recordedIO, type FakeTools } from './fake-tools.js';

let tools: FakeTools;
let disk: SmallDisk;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  tools = makeFakeTools([15], { FAKE_BIG: String(1 << 20) });
  disk = mountSmallDisk(64);
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
  disk?.remove();
  tools?.cleanup();
});

const key =
  '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n-----END OPENSSH PRIVATE KEY-----';
const SSH = {
  'ssh-host': 'db.example.com',
  'ssh-user': 'deploy',
  'ssh-private-key': key,
  'ssh-known-hosts': 'db.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA',
};

const CASES: [string, Record<string, string>, RegExp][] = [
  ['mariadb-dump', { 'database-url': 'mysql://app:pw@127.0.0.1/shop' }, /shop_202611271405_nosha\.sql\.partial/],
  ['dumpdata', { engine: 'django' }, /django_202611271405_nosha\.json\.partial/],
  [
    'pg_dump over SSH, kept on the runner',
    { 'database-url': 'postgres://app:pw@db/shop', ...SSH },
    /shop_202611271405_nosha\.dump\.partial/,
  ],
];

(canMountSmallDisk ? describe : describe.skip)('a full disk on the runner', () => {
  test.each(CASES)('%s: one error line naming the file, nothing left', async (_name, inputs, partial) => {
    const io = recordedIO(
      {
        ...inputs,
        directory: disk.dir,
        'postgres-client-root': tools.clientRoot,
        'django-manage-command': `sh ${tools.dir}/bin/manage`,
        'working-directory': tools.dir,
      },
      tools.runner,
    );
    const errors = await capturingStdout(() => run(io));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /^::error::Writing \/\S+ on the runner failed: no space left on the device \(ENOSPC\)\.$/,
    );
    expect(errors[0]).toMatch(partial);
    expect(readdirSync(disk.dir)).toEqual([]);
    expect(unhandled).toEqual([]);
  });

  test('the process edge: a file or a stream that cannot be written is an ActionFailure, never an unhandled error', async () => {
    const big = ['-c', 'head -c 1048576 /dev/zero'];
    const file = join(disk.dir, 'out');
    await expect(runProcess('sh', big, { stdoutFile: file })).rejects.toThrow(
      new ActionFailure(`Writing ${file} on the runner failed: no space left on the device (ENOSPC).`),
    );
    const full = new Writable({
      write: (_chunk, _encoding, done) =>
        done(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })),
    });
    await expect(runProcess('sh', big, { stdoutStream: full })).rejects.toThrow(
      new ActionFailure('Writing the output failed: no space left on the device (ENOSPC).'),
    );
    // A stream that works still gets everything.
    const sink = new PassThrough();
    let bytes = 0;
    sink.on('data', (chunk: Buffer) => (bytes += chunk.length));
    expect((await runProcess('sh', big, { stdoutStream: sink, sha256: true })).bytes).toBe(1 << 20);
    expect(bytes).toBe(1 << 20);
    expect(unhandled).toEqual([]);
  });
});
