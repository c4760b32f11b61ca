// Wall time and peak memory of a command and everything it starts, for the benchmarks: peak memory is the largest
// sum of VmRSS over the process and all its descendants, sampled from /proc every 25 ms.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface Sample {
  ms: number;
  peakKiB: number;
  code: number | null;
  stdout: string;
}

function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** The process and all its descendants, from the ppid field of /proc/<pid>/stat. */
function tree(rootPid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    out.push(pid);
    for (const child of parents.get(pid) ?? []) walk(child);
  };
  walk(rootPid);
  return out;
}

export function measure(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    let peak = 0;
    const timer = setInterval(() => {
      const total = tree(child.pid!).reduce((sum, pid) => sum + rssKiB(pid), 0);
      peak = Math.max(peak, total);
    }, 25);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(timer);
      resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, peakKiB: peak, code, stdout });
    });
  });
}
