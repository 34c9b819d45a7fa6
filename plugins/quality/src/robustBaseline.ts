/** Scales the median absolute deviation to the standard deviation of normally distributed data. */
export const MAD_SCALE = 1.4826;

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Median absolute deviation from the median. */
export function medianAbsoluteDeviation(values: readonly number[], centre: number = median(values)): number {
  return median(values.map((value) => Math.abs(value - centre)));
}

/**
 * How much noisier than Poisson the counts are, estimated robustly from every baseline at once:
 * each past count is standardised against its own season's median, `(x − m) / √(m + 1)`, and
 * the spread of all of them is taken as 1.4826 × MAD. About 1 for independent events; above 1
 * when events come in bursts (a session asks several questions within minutes). Pooling gives
 * hundreds of samples where one season has only a handful. Never below 1.
 */
export function pooledDispersion(baselines: ReadonlyArray<readonly number[]>): number {
  const residuals: number[] = [];
  for (const samples of baselines) {
    if (samples.length === 0) continue;
    const centre = median(samples);
    for (const sample of samples) residuals.push((sample - centre) / Math.sqrt(centre + 1));
  }
  if (residuals.length === 0) return 1;
  return Math.max(1, MAD_SCALE * medianAbsoluteDeviation(residuals));
}

export interface RobustScore {
  /** (observed − median) / scale: how many (robust) standard deviations from the baseline. */
  score: number;
  median: number;
  /** The spread used: max(1.4826 × MAD, dispersion × √(median + 1)). */
  scale: number;
}

/**
 * A robust z-score of `observed` against past `samples` of the same season (weekday and hour):
 * the median is the expected count and 1.4826 × MAD the spread, so a few past outliers (an
 * outage, a launch day) barely move either. A handful of samples can look flat by chance (MAD 0),
 * so the spread is never taken below the counting noise, `dispersion × √(median + 1)`, with
 * `dispersion` from pooledDispersion.
 */
export function robustScore(observed: number, samples: readonly number[], dispersion = 1): RobustScore {
  const centre = median(samples);
  const scale = Math.max(MAD_SCALE * medianAbsoluteDeviation(samples, centre), dispersion * Math.sqrt(centre + 1));
  return { score: (observed - centre) / scale, median: centre, scale };
}
