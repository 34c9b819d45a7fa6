// How numbers and times read on the page. Every figure is also kept raw in a data-* attribute,
// so a test (or a script) reads the exact value rather than its rounded text.

const MISSING = '—';

/** 12,345 */
export function formatCount(value) {
  return typeof value === 'number' && Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : MISSING;
}

/** A ratio (0–1) as 97.3% */
export function formatPercent(ratio) {
  return typeof ratio === 'number' && Number.isFinite(ratio) ? `${(ratio * 100).toFixed(1)}%` : MISSING;
}

/** Seconds as 850 ms or 1.24 s */
export function formatSeconds(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return MISSING;
  return seconds < 1 ? `${Math.round(seconds * 1000)} ms` : `${seconds.toFixed(2)} s`;
}

/** A plain number with up to `digits` decimals. */
export function formatNumber(value, digits = 2) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return MISSING;
  return Number(value.toFixed(digits)).toLocaleString('en-US', { maximumFractionDigits: digits });
}

/** Epoch ms as 2026-11-25 (UTC). */
export function formatDay(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Epoch ms as 2026-11-25 14:05 UTC. */
export function formatDateTime(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return MISSING;
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}
