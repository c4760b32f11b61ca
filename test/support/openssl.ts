// Decrypting and encrypting backups the way actions/db-backup/README.md tells users to, with the openssl binary:
// the arguments are read from the README's decrypt command, so a test using them fails if the document and the
// action part ways.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const README = new URL('../../actions/db-backup/README.md', import.meta.url);

/** The cipher arguments of the README's `openssl enc -d …` command (without -d, -pass, -in, -out). */
export function documentedCipherArgs(): string[] {
  const command = /PASSPHRASE='…' openssl (enc -d [^\\\n]+)/.exec(readFileSync(README, 'utf8'))?.[1];
  if (!command) throw new Error('actions/db-backup/README.md has no `openssl enc -d` decrypt command');
  const args = command.trim().split(/\s+/);
  return args.filter((arg, i) => arg !== '-d' && arg !== '-pass' && args[i - 1] !== '-pass');
}

/** `openssl enc -d` as documented, the passphrase in the environment; the plain bytes. */
export function decryptAsDocumented(input: { file: string } | { bytes: Buffer }, passphrase: string): Buffer {
  return execFileSync(
    'openssl',
    [...documentedCipherArgs(), '-d', '-pass', 'env:PASSPHRASE', ...('file' in input ? ['-in', input.file] : [])],
    {
      input: 'bytes' in input ? input.bytes : undefined,
      env: { ...process.env, PASSPHRASE: passphrase },
      maxBuffer: 1 << 30,
    },
  );
}

/** `openssl enc` (encrypting) with the documented cipher, writing `out`. */
export function encryptAsDocumented(plain: string | Buffer, out: string, passphrase: string): void {
  execFileSync('openssl', [...documentedCipherArgs(), '-salt', '-pass', 'env:PASSPHRASE', '-out', out], {
    input: plain,
    env: { ...process.env, PASSPHRASE: passphrase },
  });
}
