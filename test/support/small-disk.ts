// A real, tiny file system for "the disk is full" tests: a tmpfs of a few KiB mounted on a fresh temporary folder
// (root only), unmounted and removed by `remove()`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallDisk {
  dir: string;
  remove: () => void;
}

/** Whether this process may mount (tmpfs needs root); tests that need a small disk are skipped otherwise. */
export const canMountSmallDisk = process.getuid?.() === 0;

export function mountSmallDisk(kib: number): SmallDisk {
  const dir = mkdtempSync(join(tmpdir(), 'rb-small-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k,mode=0700`, 'tmpfs', dir]);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    dir,
    remove: () => {
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
