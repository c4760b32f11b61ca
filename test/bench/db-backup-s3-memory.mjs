// Preloaded (NODE_OPTIONS=--import) into the uploaders of the db-backup-s3 bench: where the process's memory goes.
// Samples process.memoryUsage() and /proc/self/status every 10 ms and writes, at exit, to MEMORY_SAMPLE_OUT: the
// kernel's own peak resident size (VmHWM, exact, not sampled), the peak writable private memory (VmData, what a
// data limit caps), and the peaks of the V8 heap in use, its reserved size, and the bytes of Buffers/ArrayBuffers.
// With MEMORY_FORCE_GC=1 (and --expose-gc) a full collection runs every 100 ms first, and the peaks are of what was
// still reachable right after one: the live set, without the garbage V8 has not collected yet.
import { readFileSync, writeFileSync } from 'node:fs';
import { setInterval } from 'node:timers';

const out = process.env.MEMORY_SAMPLE_OUT;
const mib = (bytes) => Math.round((bytes / 2 ** 20) * 10) / 10;
const statusMiB = (field) => {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : 0;
};
const forceGc = process.env.MEMORY_FORCE_GC === '1' && typeof globalThis.gc === 'function';
const peak = { vmData: 0, heapUsed: 0, heapTotal: 0, arrayBuffers: 0, arrayBuffersAtMs: 0 };
let tick = 0;
if (out) {
  setInterval(() => {
    if (forceGc && ++tick % 10 !== 0) return;
    if (forceGc) globalThis.gc();
    const m = process.memoryUsage();
    peak.heapUsed = Math.max(peak.heapUsed, mib(m.heapUsed));
    peak.heapTotal = Math.max(peak.heapTotal, mib(m.heapTotal));
    if (mib(m.arrayBuffers) > peak.arrayBuffers) {
      peak.arrayBuffers = mib(m.arrayBuffers);
      peak.arrayBuffersAtMs = Math.round(process.uptime() * 1000);
    }
    peak.vmData = Math.max(peak.vmData, statusMiB('VmData'));
  }, 10).unref();
  process.on('exit', () => {
    peak.vmData = Math.max(peak.vmData, statusMiB('VmData'));
    writeFileSync(
      out,
      JSON.stringify({ vmHwm: statusMiB('VmHWM'), ...peak, exitAtMs: Math.round(process.uptime() * 1000) }),
    );
  });
}
