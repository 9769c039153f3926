// Summarises a V8 .cpuprofile (node --cpu-prof): top functions by self time (idle excluded), and
// kubegate's own functions (dist/) by inclusive time.
// Usage: node bench/profile-summary.mjs FILE.cpuprofile [top=25]
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node bench/profile-summary.mjs FILE.cpuprofile [top]\n');
  process.exit(2);
}
process.stdout.on('error', () => process.exit(0)); // piped into head
const top = Number(topArg ?? 25);
const prof = JSON.parse(readFileSync(file, 'utf8'));
/** @type {Map<number, any>} */
const nodes = new Map(prof.nodes.map((/** @type {any} */ n) => [n.id, n]));
/** @type {Map<number, number>} */
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

/** @type {Map<number, number>} */
const self = new Map();
for (let i = 0; i < prof.samples.length; i++) {
  self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
}
const label = (/** @type {any} */ cf) => {
  const where = cf.url ? cf.url.replace(/^file:\/\//, '').replace(/.*node_modules\//, 'nm/') : '(native)';
  return { fn: `${cf.functionName || '(anonymous)'} ${where}:${cf.lineNumber + 1}`, where };
};
let busy = 0;
/** @type {Map<string, number>} */
const byFn = new Map();
/** @type {Map<string, number>} */
const inclusive = new Map();
for (const [id, us] of self) {
  const cf = nodes.get(id).callFrame;
  if (cf.functionName === '(idle)') continue;
  busy += us;
  const { fn } = label(cf);
  byFn.set(fn, (byFn.get(fn) ?? 0) + us);
  // every kubegate function on the stack gets the sample once
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(nodes.get(cur).callFrame);
    if (!l.where.includes('/dist/') || seen.has(l.fn)) continue;
    seen.add(l.fn);
    inclusive.set(l.fn, (inclusive.get(l.fn) ?? 0) + us);
  }
}
const pct = (/** @type {number} */ us) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
const print = (/** @type {string} */ title, /** @type {Map<string, number>} */ m) => {
  process.stdout.write(`\n${title} (busy ${(busy / 1e6).toFixed(1)} s of samples, idle excluded)\n`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${pct(v)}  ${(v / 1000).toFixed(0).padStart(7)} ms  ${k}\n`);
  }
};
print('self time by function', byFn);
print('inclusive time of kubegate functions', inclusive);
