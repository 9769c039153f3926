// The disk's own floor for an audited change: one small append + fdatasync, the way kubegate's
// audit writer does it (fs.promises FileHandle.write, then datasync), in a file beside the audit
// log (same file system), one at a time. Run interleaved with the 1-client LOW mutation rounds,
// so "added latency ≤ fdatasync p99 + 1 ms" compares figures from the same minutes.
import { open, rm } from 'node:fs/promises';
import path from 'node:path';
import { percentile } from '../lib/stats.mjs';

// about the size of a LOW change's write-ahead record plus the previous outcome riding with it
const LINE = Buffer.from(`${JSON.stringify({ event: 'probe', pad: 'x'.repeat(1400) })}\n`);

/**
 * Appends + fdatasyncs for `seconds`; a LoadResult-shaped answer (ms latencies) for interleave().
 * @param {string} dir  a directory on the audit log's file system
 * @param {number} seconds
 * @returns {Promise<import('../lib/load.mjs').LoadResult>}
 */
export async function fdatasyncLoop(dir, seconds) {
  const file = path.join(dir, 'fdatasync-probe.jsonl');
  const fh = await open(file, 'a', 0o600);
  /** @type {number[]} */
  const lat = [];
  // this loop's own CPU (the bench process does nothing else meanwhile): the disk's CPU floor
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const end = t0 + BigInt(Math.round(seconds * 1e9));
  try {
    for (let now = t0; now < end; now = process.hrtime.bigint()) {
      await fh.write(LINE);
      await fh.datasync();
      lat.push(Number(process.hrtime.bigint() - now) / 1e6);
    }
  } finally {
    await fh.close();
    await rm(file, { force: true });
  }
  const durationS = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const n = Math.max(1, lat.length);
  return {
    rps: lat.length / durationS,
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    mean: lat.reduce((a, b) => a + b, 0) / (lat.length || 1),
    count: lat.length,
    errors: 0,
    non2xx: 0,
    durationS,
    cpuUsPerReq: { fdatasync: (cpu.user + cpu.system) / n },
    sysUsPerReq: { fdatasync: cpu.system / n },
  };
}
