import type { RoleBehaviour } from '@strata/core';
import type { Finding } from './finding.js';
import { compareText, severityOf, type FindingRule } from './findingRule.js';
import { boundedMeanDropZ, percent, proportionDropZ, round, successesOf } from './findingStatistics.js';

/** Each role of the recent window with its figures in the baseline window, when it had any. */
async function rolePairs(context: Parameters<FindingRule['find']>[0]): Promise<Array<{ recent: RoleBehaviour; baseline: RoleBehaviour }>> {
  const [recent, baseline] = await Promise.all([context.reads.behaviour(context.windows.recent), context.reads.behaviour(context.windows.baseline)]);
  const before = new Map(baseline.map((role) => [role.userRole, role]));
  return recent.flatMap((role) => {
    const earlier = before.get(role.userRole);
    return earlier ? [{ recent: role, baseline: earlier }] : [];
  });
}

function strongestFirst(found: Array<{ finding: Finding; z: number }>, limit: number): Finding[] {
  return found
    .sort((a, b) => b.z - a.z || compareText(a.finding.subject, b.finding.subject))
    .slice(0, limit)
    .map(({ finding }) => finding);
}

/**
 * A role whose answers succeed less often: success rate in the recent window against the baseline
 * window, each from at least `minInteractions`, a fall of at least `minDrop` and a two-proportion
 * z of at least `minZ`.
 */
export const roleSuccessDroppedRule: FindingRule = {
  kind: 'role-success-dropped',
  async find(context) {
    const { windows, options } = context;
    const { minInteractions, minDrop } = options.roleSuccess;
    const found: Array<{ finding: Finding; z: number }> = [];
    for (const { recent, baseline } of await rolePairs(context)) {
      if (recent.successRate === null || baseline.successRate === null) continue;
      if (recent.interactions < minInteractions || baseline.interactions < minInteractions) continue;
      const drop = baseline.successRate - recent.successRate;
      if (drop < minDrop) continue;
      const z = proportionDropZ(
        { successes: successesOf(baseline.successRate, baseline.interactions), trials: baseline.interactions },
        { successes: successesOf(recent.successRate, recent.interactions), trials: recent.interactions },
      );
      if (z < options.minZ) continue;
      found.push({
        z,
        finding: {
          kind: 'role-success-dropped',
          severity: severityOf(drop, minDrop),
          subject: recent.userRole,
          summary:
            `Answers to ${recent.userRole} succeeded ${percent(recent.successRate)} of the time in the last ${options.recentDays} days (${recent.interactions} interactions), ` +
            `down ${(drop * 100).toFixed(1)} points from ${percent(baseline.successRate)} in the ${options.baselineDays} days before (${baseline.interactions}; z ${z.toFixed(1)}): look at what this role asked recently.`,
          numbers: {
            recentSuccessRate: round(recent.successRate),
            baselineSuccessRate: round(baseline.successRate),
            dropPoints: round(drop * 100, 1),
            recentInteractions: recent.interactions,
            baselineInteractions: baseline.interactions,
            z: round(z, 2),
          },
          details: {},
          window: { ...windows.recent, baseline: windows.baseline },
        },
      });
    }
    return strongestFirst(found, options.maxPerKind);
  },
};

/**
 * A role rating answers lower: average rating (1–5) in the recent window against the baseline
 * window, each from at least `minRated` ratings, a fall of at least `minDrop` stars and a
 * bounded-mean z of at least `minZ`.
 */
export const roleRatingDroppedRule: FindingRule = {
  kind: 'role-rating-dropped',
  async find(context) {
    const { windows, options } = context;
    const { minRated, minDrop } = options.roleRating;
    const found: Array<{ finding: Finding; z: number }> = [];
    for (const { recent, baseline } of await rolePairs(context)) {
      if (recent.avgRating === null || baseline.avgRating === null) continue;
      if (recent.ratedInteractions < minRated || baseline.ratedInteractions < minRated) continue;
      const drop = baseline.avgRating - recent.avgRating;
      if (drop < minDrop) continue;
      const z = boundedMeanDropZ({ mean: baseline.avgRating, count: baseline.ratedInteractions }, { mean: recent.avgRating, count: recent.ratedInteractions }, 1, 5);
      if (z < options.minZ) continue;
      found.push({
        z,
        finding: {
          kind: 'role-rating-dropped',
          severity: severityOf(drop, minDrop),
          subject: recent.userRole,
          summary:
            `${recent.userRole} rated answers ${recent.avgRating.toFixed(2)} of 5 on average in the last ${options.recentDays} days (${recent.ratedInteractions} ratings), ` +
            `down from ${baseline.avgRating.toFixed(2)} in the ${options.baselineDays} days before (${baseline.ratedInteractions}; z ${z.toFixed(1)}): read this role's low-rated answers.`,
          numbers: {
            recentRating: round(recent.avgRating),
            baselineRating: round(baseline.avgRating),
            drop: round(drop),
            recentRated: recent.ratedInteractions,
            baselineRated: baseline.ratedInteractions,
            z: round(z, 2),
          },
          details: {},
          window: { ...windows.recent, baseline: windows.baseline },
        },
      });
    }
    return strongestFirst(found, options.maxPerKind);
  },
};
