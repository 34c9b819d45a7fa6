/**
 * Response-time histograms with fixed log-scale bins, stored in every rollup row so that
 * percentiles of any range come from merging a few hundred small histograms, never from the raw rows.
 *
 * Bin 0 holds times under 1 ms; bin i (1..500) holds [1 ms · γ^(i−1), 1 ms · γ^i) with γ = 1.04;
 * bin 501 holds everything from 1 ms · γ^500 (about 3.8 days) up. A bin is read back as the value
 * whose relative distance to both bin edges is equal, 2γ·lower/(1+γ), so a percentile is within
 * (γ−1)/(γ+1) ≈ 1.96% of the true nearest-rank value (within 0.5 ms under 1 ms). Readers clamp it
 * to the range's largest response time, which only brings it closer.
 *
 * Encoding (a BLOB): for each non-empty bin in increasing order, the varint of (bin − previous bin − 1)
 * then the varint of its count. Canonical: the same counts always give the same bytes, whatever
 * order the events were merged in. An empty histogram is zero bytes.
 */

export const HISTOGRAM_GAMMA = 1.04;
/** Lower edge of bin 1, in seconds. */
export const HISTOGRAM_MIN_SECONDS = 0.001;
/** Bins 1..HISTOGRAM_LOG_BINS are log-scale; one under-range bin (0) and one overflow bin follow. */
export const HISTOGRAM_LOG_BINS = 500;
export const HISTOGRAM_BIN_COUNT = HISTOGRAM_LOG_BINS + 2;
/** Largest relative error of a percentile read from a histogram (above 1 ms). */
export const HISTOGRAM_RELATIVE_ERROR = (HISTOGRAM_GAMMA - 1) / (HISTOGRAM_GAMMA + 1);

const LOG_GAMMA = Math.log(HISTOGRAM_GAMMA);
const OVERFLOW_BIN = HISTOGRAM_LOG_BINS + 1;
const EMPTY = Buffer.alloc(0);

/** The bin a response time (seconds) falls in. */
export function histogramBin(seconds: number): number {
  if (!(seconds >= HISTOGRAM_MIN_SECONDS)) return 0;
  const bin = Math.floor(Math.log(seconds / HISTOGRAM_MIN_SECONDS) / LOG_GAMMA) + 1;
  return bin > HISTOGRAM_LOG_BINS ? OVERFLOW_BIN : bin;
}

/** The value a bin stands for, in seconds (see the module comment for its error). */
export function histogramBinValue(bin: number): number {
  if (bin <= 0) return HISTOGRAM_MIN_SECONDS / 2;
  const lower = HISTOGRAM_MIN_SECONDS * HISTOGRAM_GAMMA ** (bin - 1);
  if (bin >= OVERFLOW_BIN) return lower;
  return (2 * HISTOGRAM_GAMMA * lower) / (1 + HISTOGRAM_GAMMA);
}

/** Encodes bin → count pairs (any order, zero counts skipped) canonically. */
export function encodeHistogram(counts: ReadonlyMap<number, number>): Buffer {
  if (counts.size === 0) return EMPTY;
  const bins = [...counts.keys()].sort((a, b) => a - b);
  const bytes: number[] = [];
  let previous = -1;
  for (const bin of bins) {
    const count = counts.get(bin)!;
    if (count === 0) continue;
    pushVarint(bytes, bin - previous - 1);
    pushVarint(bytes, count);
    previous = bin;
  }
  return Buffer.from(bytes);
}

/** Calls `visit(bin, count)` for each non-empty bin, in increasing bin order. */
export function forEachHistogramBin(encoded: Uint8Array, visit: (bin: number, count: number) => void): void {
  let offset = 0;
  let bin = -1;
  while (offset < encoded.length) {
    let value = 0;
    let scale = 1;
    let byte: number;
    do {
      byte = encoded[offset++]!;
      value += (byte & 0x7f) * scale;
      scale *= 128;
    } while (byte & 0x80);
    bin += value + 1;
    value = 0;
    scale = 1;
    do {
      byte = encoded[offset++]!;
      value += (byte & 0x7f) * scale;
      scale *= 128;
    } while (byte & 0x80);
    visit(bin, value);
  }
}

/** The sum of two encoded histograms, encoded. */
export function mergeHistograms(a: Uint8Array | null, b: Uint8Array | null): Buffer {
  if (!b || b.length === 0) return a ? Buffer.from(a) : EMPTY;
  if (!a || a.length === 0) return Buffer.from(b);
  const counts = new Map<number, number>();
  const add = (bin: number, count: number) => counts.set(bin, (counts.get(bin) ?? 0) + count);
  forEachHistogramBin(a, add);
  forEachHistogramBin(b, add);
  return encodeHistogram(counts);
}

/** Adds encoded histograms into dense counts, then answers percentiles. */
export class HistogramAccumulator {
  private readonly counts = new Float64Array(HISTOGRAM_BIN_COUNT);
  private total = 0;

  add(encoded: Uint8Array): void {
    // forEachHistogramBin, inlined: this runs for every rollup row a dashboard reads.
    const counts = this.counts;
    let offset = 0;
    let bin = -1;
    while (offset < encoded.length) {
      let value = 0;
      let scale = 1;
      let byte: number;
      do {
        byte = encoded[offset++]!;
        value += (byte & 0x7f) * scale;
        scale *= 128;
      } while (byte & 0x80);
      bin += value + 1;
      value = 0;
      scale = 1;
      do {
        byte = encoded[offset++]!;
        value += (byte & 0x7f) * scale;
        scale *= 128;
      } while (byte & 0x80);
      counts[bin]! += value;
      this.total += value;
    }
  }

  /**
   * Nearest-rank percentile (the smallest value with at least `p` of all values at or below it),
   * read from the bins and clamped to `maxSeconds`; null when empty.
   */
  percentile(p: number, maxSeconds: number): number | null {
    if (this.total === 0) return null;
    const rank = Math.max(1, Math.ceil(p * this.total));
    let seen = 0;
    for (let bin = 0; bin < HISTOGRAM_BIN_COUNT; bin += 1) {
      seen += this.counts[bin]!;
      if (seen >= rank) return Math.min(histogramBinValue(bin), maxSeconds);
    }
    return maxSeconds;
  }
}

function pushVarint(bytes: number[], value: number): void {
  let rest = value;
  while (rest >= 128) {
    bytes.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
}

/** `a` minus `b`, encoded (bins that reach zero are dropped): removes a known contribution from a merged histogram. */
export function subtractHistogram(a: Uint8Array, b: Uint8Array): Buffer {
  const counts = new Map<number, number>();
  forEachHistogramBin(a, (bin, count) => counts.set(bin, count));
  forEachHistogramBin(b, (bin, count) => {
    const left = (counts.get(bin) ?? 0) - count;
    if (left > 0) counts.set(bin, left);
    else counts.delete(bin);
  });
  return encodeHistogram(counts);
}
