import { describe, expect, it } from 'vitest';
import { median, medianAbsoluteDeviation, pooledDispersion, robustScore } from '../src/index.js';

describe('the robust baseline', () => {
  it('takes median and MAD, so one past outage barely moves the baseline', () => {
    const samples = [100, 102, 98, 0, 101];
    expect(median(samples)).toBe(100);
    expect(medianAbsoluteDeviation(samples)).toBe(2);
    const normal = robustScore(100, samples);
    expect(normal.score).toBe(0);
    // The spread never drops below the counting noise √(m + 1), however flat the baseline.
    expect(normal.scale).toBeCloseTo(Math.sqrt(101), 10);
    expect(robustScore(0, samples).score).toBeCloseTo(-100 / Math.sqrt(101), 10);
  });

  it('uses the MAD when the baseline is noisier than counting noise', () => {
    const { scale, score } = robustScore(160, [100, 140, 60, 120, 80]);
    expect(scale).toBeCloseTo(1.4826 * 20, 10);
    expect(score).toBeCloseTo(60 / (1.4826 * 20), 10);
  });

  it('widens the floor by the pooled dispersion of bursty counts, never narrowing it below 1', () => {
    expect(pooledDispersion([[10, 10, 10, 10]])).toBe(1);
    const bursty = [
      [0, 40, 20, 0, 40, 20],
      [20, 0, 40, 20, 40, 0],
    ];
    const dispersion = pooledDispersion(bursty);
    expect(dispersion).toBeCloseTo(1.4826 * (20 / Math.sqrt(21)), 10);
    expect(robustScore(20, [20, 20, 20, 20], dispersion).scale).toBeCloseTo(dispersion * Math.sqrt(21), 10);
  });
});
