import { forEachHistogramBin, histogramBinValue } from '@strata/hot-sqlite';

/**
 * Response-time histograms (hot-sqlite's encoding) added together, read as percentiles the way the
 * hot tier reads them: nearest rank, the bin's value, clamped to the largest response time seen.
 */
export class ResponseTimeDistribution {
  count = 0;
  maxUs = 0;
  private readonly bins = new Map<number, number>();

  add(histogram: Uint8Array, maxUs: number): void {
    forEachHistogramBin(histogram, (bin, count) => {
      this.bins.set(bin, (this.bins.get(bin) ?? 0) + count);
      this.count += count;
    });
    if (maxUs > this.maxUs) this.maxUs = maxUs;
  }

  /** Seconds; 0 when empty. */
  percentile(p: number): number {
    const max = this.maxUs / 1e6;
    const rank = Math.max(1, Math.ceil(p * this.count));
    let seen = 0;
    for (const bin of [...this.bins.keys()].sort((a, b) => a - b)) {
      seen += this.bins.get(bin)!;
      if (seen >= rank) return Math.min(histogramBinValue(bin), max);
    }
    return max;
  }
}
