import type { ContentEffectiveness } from '@strata/core';
import type { Finding } from './finding.js';
import { compareText, severityOf, type FindingRule } from './findingRule.js';
import { boundedMeanDropZ, percent, proportionDropZ, round, successesOf } from './findingStatistics.js';

const itemKey = (item: Pick<ContentEffectiveness, 'contentType' | 'contentId'>) => `${item.contentType}:${item.contentId}`;

/**
 * A knowledge item whose answers fail: over the level window, at least `minUses` uses, a success
 * rate at or below `maxSuccessRate`, and below the success rate of every other item's uses by a
 * two-proportion z of at least `minZ` (so an item is not blamed for a bad week of every answer).
 */
export const contentLowSuccessRule: FindingRule = {
  kind: 'content-low-success',
  async find({ reads, windows, options }) {
    const { minUses, maxSuccessRate } = options.contentSuccess;
    const { items } = await reads.content(windows.level);
    let uses = 0;
    let successes = 0;
    for (const item of items) {
      uses += item.accesses;
      successes += successesOf(item.successRate, item.accesses);
    }
    const low: Array<{ finding: Finding; z: number }> = [];
    for (const item of items) {
      if (item.accesses < minUses || item.successRate > maxSuccessRate) continue;
      const own = { successes: successesOf(item.successRate, item.accesses), trials: item.accesses };
      const others = { successes: successes - own.successes, trials: uses - own.trials };
      if (others.trials < minUses) continue;
      const othersRate = others.successes / others.trials;
      const z = proportionDropZ(others, own);
      if (z < options.minZ) continue;
      const subject = itemKey(item);
      low.push({
        z,
        finding: {
          kind: 'content-low-success',
          severity: 'warning',
          subject,
          summary:
            `${subject} was used in ${item.accesses} answers in the last ${options.levelDays} days and only ${percent(item.successRate)} succeeded, ` +
            `against ${percent(othersRate)} for answers using other content (z ${z.toFixed(1)}): review or replace this item.`,
          numbers: { uses: item.accesses, successRate: round(item.successRate), otherUses: others.trials, otherSuccessRate: round(othersRate), z: round(z, 2) },
          details: { contentType: item.contentType, contentId: item.contentId },
          window: { ...windows.level },
        },
      });
    }
    return low
      .sort((a, b) => b.z - a.z || compareText(a.finding.subject, b.finding.subject))
      .slice(0, options.maxPerKind)
      .map(({ finding }) => finding);
  },
};

/**
 * A knowledge item reported less relevant than before: mean relevance in the recent window against
 * the baseline window, each from at least `minScored` scored uses, a fall of at least `minDrop`,
 * and a bounded-mean z (relevance is 0–1) of at least `minZ`.
 */
export const contentRelevanceFallingRule: FindingRule = {
  kind: 'content-relevance-falling',
  async find({ reads, windows, options }) {
    const { minScored, minDrop } = options.contentRelevance;
    const [recent, baseline] = await Promise.all([reads.content(windows.recent), reads.content(windows.baseline)]);
    const before = new Map(baseline.items.map((item) => [itemKey(item), item]));
    const falling: Array<{ finding: Finding; z: number }> = [];
    for (const item of recent.items) {
      const earlier = before.get(itemKey(item));
      if (!earlier || item.avgRelevance === null || earlier.avgRelevance === null) continue;
      if (item.relevanceCount < minScored || earlier.relevanceCount < minScored) continue;
      const drop = earlier.avgRelevance - item.avgRelevance;
      if (drop < minDrop) continue;
      const z = boundedMeanDropZ({ mean: earlier.avgRelevance, count: earlier.relevanceCount }, { mean: item.avgRelevance, count: item.relevanceCount }, 0, 1);
      if (z < options.minZ) continue;
      const subject = itemKey(item);
      falling.push({
        z,
        finding: {
          kind: 'content-relevance-falling',
          severity: severityOf(drop, minDrop),
          subject,
          summary:
            `${subject} was rated ${item.avgRelevance.toFixed(2)} relevant on average in the last ${options.recentDays} days (${item.relevanceCount} scored uses), ` +
            `down from ${earlier.avgRelevance.toFixed(2)} in the ${options.baselineDays} days before (${earlier.relevanceCount} scored uses; z ${z.toFixed(1)}): check whether it is out of date or retrieved for the wrong questions.`,
          numbers: {
            recentRelevance: round(item.avgRelevance),
            baselineRelevance: round(earlier.avgRelevance),
            drop: round(drop),
            recentScored: item.relevanceCount,
            baselineScored: earlier.relevanceCount,
            z: round(z, 2),
          },
          details: { contentType: item.contentType, contentId: item.contentId },
          window: { ...windows.recent, baseline: windows.baseline },
        },
      });
    }
    return falling
      .sort((a, b) => b.z - a.z || compareText(a.finding.subject, b.finding.subject))
      .slice(0, options.maxPerKind)
      .map(({ finding }) => finding);
  },
};
