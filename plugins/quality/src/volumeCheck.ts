import { skippedResult, type CheckContext, type CheckResult, type CheckStatus, type QualityCheck } from './checkResult.js';
import type { ResolvedQualityOptions } from './qualityOptions.js';
import { pooledDispersion, robustScore } from './robustBaseline.js';
import { DAY_MS, HOUR_MS, ceilTo, floorTo, formatInstant } from './timeSlices.js';

const WEEK_MS = 7 * DAY_MS;

interface ScoredHour {
  hour: number;
  count: number;
  score: number;
  median: number;
  scale: number;
  samples: number;
}

/**
 * Volume anomalies: every whole hour of the window is scored against the same hour of the week
 * (or of the day) in the previous `baselinePeriods` periods with a robust z-score (see
 * robustBaseline.ts); the hour furthest from its baseline decides. Counts come from the hourly
 * rollups, which outlive raw rows, so the baseline reaches back past retention. An hour is scored
 * only once `minHistory` past periods lie after the first hour ever recorded; before that the
 * check is skipped and says how much history it has.
 */
export function volumeCheck(options: ResolvedQualityOptions['volume']): QualityCheck {
  const period = options.seasonality === 'hour-of-week' ? WEEK_MS : DAY_MS;
  const periodName = options.seasonality === 'hour-of-week' ? 'week' : 'day';
  return {
    name: 'volume',
    async run(context: CheckContext): Promise<CheckResult> {
      const { source, window } = context;
      const hours = { from: ceilTo(window.from, HOUR_MS), to: floorTo(window.to, HOUR_MS) };
      if (hours.from >= hours.to) return skippedResult('volume', 'the window holds no whole hour to score');
      const firstHour = await source.firstRollupHour();
      if (firstHour === null) return skippedResult('volume', 'no interactions stored yet');

      const counts = await source.hourlyVolume({ from: Math.max(firstHour, hours.from - options.baselinePeriods * period), to: hours.to });
      const countAt = (hour: number) => counts.get(hour) ?? 0;
      const baselines: Array<{ hour: number; samples: number[] }> = [];
      let mostHistory = 0;
      for (let hour = hours.from; hour < hours.to; hour += HOUR_MS) {
        const samples: number[] = [];
        for (let back = 1; back <= options.baselinePeriods; back += 1) {
          const past = hour - back * period;
          if (past < firstHour) break;
          samples.push(countAt(past));
        }
        mostHistory = Math.max(mostHistory, samples.length);
        if (samples.length >= options.minHistory) baselines.push({ hour, samples });
      }
      const dispersion = pooledDispersion(baselines.map((baseline) => baseline.samples));
      const scored: ScoredHour[] = baselines.map(({ hour, samples }) => {
        const { score, median, scale } = robustScore(countAt(hour), samples, dispersion);
        return { hour, count: countAt(hour), score, median, scale, samples: samples.length };
      });
      if (scored.length === 0) {
        return skippedResult(
          'volume',
          `needs ${options.minHistory} ${periodName}(s) of history at the same ${options.seasonality === 'hour-of-week' ? 'weekday and hour' : 'hour'} before it scores; ` +
            `the tier has ${mostHistory} (hourly counts start ${formatInstant(firstHour)})`,
          { firstHour: formatInstant(firstHour), historyPeriods: mostHistory, minHistory: options.minHistory },
        );
      }

      const worst = scored.reduce((a, b) => (Math.abs(b.score) > Math.abs(a.score) ? b : a));
      const magnitude = Math.abs(worst.score);
      const status: CheckStatus = magnitude >= options.failScore ? 'fail' : magnitude >= options.warnScore ? 'warn' : 'pass';
      const direction = worst.score >= 0 ? 'above' : 'below';
      return {
        check: 'volume',
        status,
        observed: round(worst.score),
        unit: 'z',
        threshold: `|robust z| ≥ ${options.warnScore} warns, ≥ ${options.failScore} fails`,
        message:
          `${status === 'pass' ? 'every hour within its baseline; furthest' : status === 'warn' ? 'unusual volume' : 'volume anomaly'}: ` +
          `${formatInstant(worst.hour)} had ${worst.count} interaction(s) against a median of ${worst.median} ` +
          `for that ${options.seasonality === 'hour-of-week' ? 'weekday and hour' : 'hour'} (z ${round(worst.score)}, ${direction}); ${scored.length} hour(s) scored`,
        readings: [
          { name: 'quality.volume_zscore', value: round(worst.score), unit: 'z' },
          { name: 'quality.volume_count', value: worst.count, unit: 'interactions' },
          { name: 'quality.volume_baseline', value: worst.median, unit: 'interactions' },
        ],
        details: {
          hour: formatInstant(worst.hour),
          count: worst.count,
          baselineMedian: worst.median,
          scale: round(worst.scale),
          dispersion: round(dispersion),
          baselineSamples: worst.samples,
          hoursScored: scored.length,
          seasonality: options.seasonality,
        },
      };
    },
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
