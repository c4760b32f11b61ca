import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RemoteFiles, type CommandHost } from '../../../actions/db-backup/places.js';
import { runProcess } from '../../../actions/shared/process.js';

/**
 * The backup folder on a server is listed with POSIX tools (the deploy's pre-migration backups and their retention).
 * The scripts run in bash as the unprivileged user `nobody` (as `set -eu` over SSH), so a folder it may not open is
 * a real permission error, not one the test pretends.
 */
const asNobody: CommandHost = {
  where: 'deploy@web1',
  remote: true,
  run: (command, args, options) => runProcess(command, args, options),
  sh: (script, options) =>
    runProcess(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', 'bash', '-c', `set -eu\n${script}`],
      options,
    ),
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'remote-files-'));
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'backups', 'old'), { recursive: true });
  writeFileSync(join(dir, 'backups', 'shop_20261201T100000Z-abc1234.dump'), 'dump');
  writeFileSync(join(dir, 'backups', 'shop_20261202T100000Z-def5678.dump'), 'dump');
  chmodSync(join(dir, 'backups'), 0o755);
  // Another user's folder: nobody may neither list it nor reach what is under it.
  mkdirSync(join(dir, 'private'));
  writeFileSync(join(dir, 'private', 'shop_20261201T100000Z-abc1234.dump'), 'dump');
  chmodSync(join(dir, 'private'), 0o700);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a folder lists its files (not its sub-folders); a folder that does not exist yet holds none', async () => {
  const files = new RemoteFiles(asNobody);
  expect((await files.list(join(dir, 'backups'))).sort()).toEqual([
    'shop_20261201T100000Z-abc1234.dump',
    'shop_20261202T100000Z-def5678.dump',
  ]);
  expect(await files.list(join(dir, 'backups', 'not-yet', 'deeper'))).toEqual([]);
});

test('a folder that cannot be opened is an error naming it, not an empty folder', async () => {
  const files = new RemoteFiles(asNobody);
  const denied = join(dir, 'private');
  await expect(files.list(denied)).rejects.toThrow(
    new RegExp(`listing backups on deploy@web1 failed: .*${denied}.*Permission denied`),
  );
  // Under a folder it cannot search, whether the path exists cannot be told: an error too.
  await expect(files.list(join(denied, 'backups'))).rejects.toThrow(/listing backups on deploy@web1 failed: .*private/);
  // A file where the folder should be.
  await expect(files.list(join(dir, 'backups', 'shop_20261201T100000Z-abc1234.dump'))).rejects.toThrow(
    /Not a directory/,
  );
});
