/**
 * The tests every comparison rule uses. All are pooled two-sample z-tests: under "nothing changed"
 * both periods share one mean, estimated from both together, and the difference is measured in
 * standard errors of that shared mean.
 */

/**
 * Two-proportion z-test: how many standard errors `before` exceeds `after`, with the pooled
 * proportion p̂ = (s₁ + s₂) / (n₁ + n₂) and SE = √(p̂(1 − p̂)(1/n₁ + 1/n₂)). Positive: a drop.
 * 0 when either sample is empty or every outcome is the same (nothing to tell apart).
 */
export function proportionDropZ(before: { successes: number; trials: number }, after: { successes: number; trials: number }): number {
  if (before.trials <= 0 || after.trials <= 0) return 0;
  const pooled = (before.successes + after.successes) / (before.trials + after.trials);
  const variance = pooled * (1 - pooled) * (1 / before.trials + 1 / after.trials);
  if (variance <= 0) return 0;
  return (before.successes / before.trials - after.successes / after.trials) / Math.sqrt(variance);
}

/**
 * Mean-difference z-test for a score bounded to [low, high] when only means and counts are known
 * (relevance 0–1, ratings 1–5): a bounded score's variance is at most (μ − low)(high − μ)
 * (Bhatia–Davis), taken at the pooled mean — the largest it can be, so the z is never overstated.
 * Positive: `before` was higher. 0 when either sample is empty or the pooled mean sits on a bound.
 */
export function boundedMeanDropZ(before: { mean: number; count: number }, after: { mean: number; count: number }, low: number, high: number): number {
  if (before.count <= 0 || after.count <= 0) return 0;
  const pooled = (before.mean * before.count + after.mean * after.count) / (before.count + after.count);
  const variance = Math.max(0, (pooled - low) * (high - pooled)) * (1 / before.count + 1 / after.count);
  if (variance <= 0) return 0;
  return (before.mean - after.mean) / Math.sqrt(variance);
}

/** Successes behind a rate the tiers computed as successes / trials (exact: rates are quotients of integer counts). */
export function successesOf(rate: number | null, trials: number): number {
  return rate === null ? 0 : Math.round(rate * trials);
}

/** Rounds for display and storage, so stored numbers read as the summary shows them. */
export function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export function percent(rate: number): string {
  return `${(rate * 100).toFixed(rate >= 0.995 || rate < 0.005 ? 0 : 1).replace(/\.0$/, '')}%`;
}
