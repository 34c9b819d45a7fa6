import type { Finding } from './finding.js';
import { monthEnd, type BaselineSource } from './baselineSource.js';
import { compareText, severityOf, type FindingRule } from './findingRule.js';
import { round } from './findingStatistics.js';

const DAY_MS = 86_400_000;
/** How far back a warm baseline month may be. */
const BASELINE_LOOKBACK_MS = 366 * DAY_MS;

interface Baseline {
  p95: number;
  interactions: number;
  range: { from: number; to: number };
  /** `warm 2025-10` or `hot`. */
  source: string;
  description: string;
}

/**
 * A role answered more slowly than its baseline: the recent window's p95 response time against the
 * p95 of the latest whole month the warm tier holds before the window (its performance baselines),
 * or, without a warm tier or a month with `minBaseline` interactions, against the hot tier's
 * baseline window. Kept when the recent window has `minRecent` interactions, the baseline
 * `minBaseline`, and the p95 is at least `minRatio` times and `minIncreaseSeconds` longer.
 */
export const responseTimeRegressionRule: FindingRule = {
  kind: 'response-time-regression',
  async find({ reads, baselines, windows, options }) {
    const { minRecent, minBaseline, minRatio, minIncreaseSeconds } = options.responseTime;
    const recent = await reads.behaviour(windows.recent);
    const found: Array<{ finding: Finding; ratio: number }> = [];
    for (const role of recent) {
      if (role.p95ResponseTime === null || role.interactions < minRecent) continue;
      const baseline = (baselines ? await warmBaseline(baselines, role.userRole, windows.recent.from, minBaseline) : undefined) ?? (await hotBaseline());
      if (!baseline || baseline.p95 <= 0) continue;
      const ratio = role.p95ResponseTime / baseline.p95;
      const increase = role.p95ResponseTime - baseline.p95;
      if (ratio < minRatio || increase < minIncreaseSeconds) continue;
      found.push({
        ratio,
        finding: {
          kind: 'response-time-regression',
          severity: severityOf(ratio - 1, minRatio - 1),
          subject: role.userRole,
          summary:
            `Answers to ${role.userRole} took ${role.p95ResponseTime.toFixed(2)} s at the 95th percentile in the last ${options.recentDays} days (${role.interactions} interactions), ` +
            `${ratio.toFixed(1)}× the ${baseline.p95.toFixed(2)} s of ${baseline.description} (${baseline.interactions}): find what slowed them down.`,
          numbers: {
            recentP95Seconds: round(role.p95ResponseTime),
            baselineP95Seconds: round(baseline.p95),
            ratio: round(ratio, 2),
            increaseSeconds: round(increase),
            recentInteractions: role.interactions,
            baselineInteractions: baseline.interactions,
          },
          details: { baselineSource: baseline.source },
          window: { ...windows.recent, baseline: baseline.range },
        },
      });

      async function hotBaseline(): Promise<Baseline | undefined> {
        const before = (await reads.behaviour(windows.baseline)).find((candidate) => candidate.userRole === role.userRole);
        if (!before || before.p95ResponseTime === null || before.interactions < minBaseline) return undefined;
        return { p95: before.p95ResponseTime, interactions: before.interactions, range: { ...windows.baseline }, source: 'hot', description: `the ${options.baselineDays} days before` };
      }
    }
    return found
      .sort((a, b) => b.ratio - a.ratio || compareText(a.finding.subject, b.finding.subject))
      .slice(0, options.maxPerKind)
      .map(({ finding }) => finding);
  },
};

/** The latest whole month before `before` with enough interactions of the role, from the warm tier's baselines. */
async function warmBaseline(source: BaselineSource, userRole: string, before: number, minInteractions: number): Promise<Baseline | undefined> {
  const months = await source.baselines({ range: { from: before - BASELINE_LOOKBACK_MS, to: before }, userRole });
  for (let index = months.length - 1; index >= 0; index -= 1) {
    const month = months[index]!;
    const end = monthEnd(month.monthStart);
    if (end > before || month.interactions < minInteractions) continue;
    return {
      p95: month.p95ResponseTime,
      interactions: month.interactions,
      range: { from: month.monthStart, to: end },
      source: `warm ${month.month}`,
      description: `the baseline month ${month.month}`,
    };
  }
  return undefined;
}
