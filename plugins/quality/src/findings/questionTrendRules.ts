import { trendingScoreOf, type TrendingQuery } from '@strata/core';
import type { Finding } from './finding.js';
import { compareText, type FindingRule } from './findingRule.js';
import { round } from './findingStatistics.js';

const DAY_MS = 86_400_000;

/**
 * A question asked much more in the recent window than its own history predicts: the tier's
 * trending answer (score = (recent − expected) / √(expected + 1), expected = baseline asks scaled to
 * the recent window), kept when the score, the recent asks and recent / expected all reach their minimums.
 */
export const questionTrendingUpRule: FindingRule = {
  kind: 'question-trending-up',
  async find({ insights, windows, options, signal }) {
    const { minScore, minRecentAsks, minRatio } = options.trendingUp;
    const findings: Finding[] = [];
    let cursor: string | null = null;
    read: do {
      signal?.throwIfAborted();
      const page = await insights.trendingQueries({
        range: { to: windows.asOf },
        recentDays: options.recentDays,
        baselineDays: options.baselineDays,
        limit: 1_000,
        ...(cursor ? { cursor } : {}),
      });
      // The tier reports the windows it used (a warm tier widens them to months).
      const asOf = page.asOf ?? windows.asOf;
      const recentFrom = asOf - page.recentDays * DAY_MS;
      const window = { from: recentFrom, to: asOf, baseline: { from: recentFrom - page.baselineDays * DAY_MS, to: recentFrom } };
      for (const question of page.items) {
        if (question.trendingScore < minScore) break read;
        if (question.recentAsks < minRecentAsks || question.recentAsks < minRatio * question.expectedAsks) continue;
        findings.push(trendingUpFinding(question, page.recentDays, page.baselineDays, window));
        if (findings.length >= options.maxPerKind) break read;
      }
      cursor = page.nextCursor;
    } while (cursor);
    return findings;
  },
};

function trendingUpFinding(question: TrendingQuery, recentDays: number, baselineDays: number, window: Finding['window']): Finding {
  const { recentAsks, baselineAsks, expectedAsks, trendingScore } = question;
  const history =
    baselineAsks === 0
      ? `and never in the ${baselineDays} days before`
      : `against ${expectedAsks.toFixed(1)} expected from the ${baselineDays} days before (${(recentAsks / expectedAsks).toFixed(1)}×)`;
  return {
    kind: 'question-trending-up',
    severity: 'info',
    subject: question.query,
    summary: `"${question.query}" was asked ${recentAsks} times in the last ${recentDays} days ${history}, trending score ${trendingScore.toFixed(1)}: check that the assistant answers it well.`,
    numbers: { recentAsks, baselineAsks, expectedAsks: round(expectedAsks), trendingScore: round(trendingScore) },
    details: { queryHash: question.queryHash },
    window,
  };
}

/**
 * A question asked in the baseline window and much less recently: the same score, negative
 * (recent asks from the common questions of the recent window, 0 when it was not asked), kept when
 * it is at most `maxScore`, the baseline had `minBaselineAsks` and recent / expected ≤ `maxRatio`.
 */
export const questionTrendingDownRule: FindingRule = {
  kind: 'question-trending-down',
  async find({ reads, windows, options }) {
    const { maxScore, minBaselineAsks, maxRatio } = options.trendingDown;
    const [baseline, recent] = await Promise.all([reads.questions(windows.baseline, minBaselineAsks), reads.questions(windows.recent)]);
    const recentAsks = new Map(recent.items.map((question) => [question.queryHash, question.asks]));
    const scale = options.recentDays / options.baselineDays;
    const falling: Array<{ finding: Finding; score: number }> = [];
    for (const question of baseline.items) {
      // A question missing from a partial read of the recent window was perhaps asked: no finding on a guess.
      const asks = recentAsks.get(question.queryHash) ?? (recent.complete ? 0 : undefined);
      if (asks === undefined) continue;
      const expected = question.asks * scale;
      const score = trendingScoreOf(asks, expected);
      if (score > maxScore || asks > maxRatio * expected) continue;
      falling.push({
        score,
        finding: {
          kind: 'question-trending-down',
          severity: 'info',
          subject: question.query,
          summary:
            `"${question.query}" was asked ${asks} times in the last ${options.recentDays} days against ${expected.toFixed(1)} expected from its ${question.asks} asks ` +
            `in the ${options.baselineDays} days before (${Math.round((asks / expected) * 100)}% of usual), trending score ${score.toFixed(1)}: find out whether the need went away or people stopped finding the assistant.`,
          numbers: { recentAsks: asks, baselineAsks: question.asks, expectedAsks: round(expected), trendingScore: round(score) },
          details: { queryHash: question.queryHash },
          window: { ...windows.recent, baseline: windows.baseline },
        },
      });
    }
    return falling
      .sort((a, b) => a.score - b.score || compareText(a.finding.subject, b.finding.subject))
      .slice(0, options.maxPerKind)
      .map(({ finding }) => finding);
  },
};
