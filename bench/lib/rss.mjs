// Resident set size of a process, from /proc/<pid>/status, sampled in a worker thread so that a
// busy bench event loop (reading a 50 MB LIST) does not stretch the sampling interval.
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

/** VmRSS of `pid` in bytes (0 once the process is gone). */
export function rssBytes(/** @type {number} */ pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const file = '/proc/' + workerData.pid + '/status';
let max = 0, min = Infinity, n = 0, last = 0;
const t = setInterval(() => {
  try {
    const m = /^VmRSS:\\s+(\\d+) kB/m.exec(readFileSync(file, 'utf8'));
    if (m) { const v = Number(m[1]) * 1024; last = v; n++; if (v > max) max = v; if (v < min) min = v; }
  } catch {}
}, workerData.intervalMs);
parentPort.on('message', () => { clearInterval(t); parentPort.postMessage({ max, min, n, last }); });
`;

/**
 * Samples VmRSS every `intervalMs` until stop() is called.
 * @returns {{ stop(): Promise<{ max: number, min: number, n: number, last: number }> }}
 */
export function sampleRss(/** @type {number} */ pid, intervalMs = 10) {
  const w = new Worker(WORKER, { eval: true, workerData: { pid, intervalMs } });
  return {
    stop() {
      return new Promise((resolve, reject) => {
        w.once('message', (m) => {
          void w.terminate();
          resolve(m);
        });
        w.once('error', reject);
        w.postMessage('stop');
      });
    },
  };
}

export const MB = 1024 * 1024;

/** CPU time (user + system) a process has used so far, in ms (0 once it is gone). */
export function cpuMs(/** @type {number} */ pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the ")" that ends the command name; utime and stime are fields 14 and 15
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}
const CLOCK_TICKS = 100; // USER_HZ on Linux

/** The system (kernel) part of cpuMs: time in system calls, page faults, disk and network I/O. */
export function cpuSysMs(/** @type {number} */ pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[12]) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** Pids of the direct children of `pid`, by command name. */
export function childrenByName(/** @type {number} */ pid) {
  /** @type {Record<string, number>} */
  const out = {};
  try {
    for (const c of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)) {
      if (!c) continue;
      out[readFileSync(`/proc/${c}/comm`, 'utf8').trim()] = Number(c);
    }
  } catch {
    // gone
  }
  return out;
}
