// Unit tests run actions' production edges in-process (coverage-gate's command runner and glob, for example), and
// @actions/core and @actions/exec write what is meant for the runner to stdout: `::debug::` commands, which the
// runner hides unless debug logging is on, and `[command]…` echoes. On the test output they are noise, so whole
// lines of that kind are dropped here; anything else passes. A test that captures stdout itself replaces
// process.stdout.write and sees everything.
const RUNNER_LINE = /^(::debug::|\[command\])/;

const write = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
  const kept = text
    .split(/(?<=\n)/)
    .filter((line) => !RUNNER_LINE.test(line))
    .join('');
  if (kept === '') {
    const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    done?.();
    return true;
  }
  return (write as (c: string, ...r: unknown[]) => boolean)(kept, ...rest);
}) as typeof process.stdout.write;
