// Percentiles, medians and number formatting.

/** Nearest-rank percentile of an unsorted array (p in 0..100). */
export function percentile(/** @type {ArrayLike<number>} */ values, /** @type {number} */ p) {
  const a = Float64Array.from(values).sort();
  if (a.length === 0) return Number.NaN;
  const rank = Math.min(a.length - 1, Math.max(0, Math.ceil((p / 100) * a.length) - 1));
  return a[rank];
}

export function median(/** @type {ArrayLike<number>} */ values) {
  const a = Float64Array.from(values).sort();
  if (a.length === 0) return Number.NaN;
  const m = a.length >> 1;
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
}

/** A fixed-width number: "12.3", "1 234", or "—" when missing. */
export function fmt(/** @type {number | undefined} */ n, digits = 1) {
  if (n === undefined || !Number.isFinite(n)) return '—';
  const s = Math.abs(n) >= 1000 ? Math.round(n).toString() : n.toFixed(digits);
  return s.replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}

/** "1.23×" or "—". */
export function ratio(/** @type {number | undefined} */ a, /** @type {number | undefined} */ b) {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return '—';
  return `${(a / b).toFixed(2)}×`;
}
