import { describeError, type InsightsProvider } from '@strata/core';
import type { BaselineSource } from './baselineSource.js';
import { contentLowSuccessRule, contentRelevanceFallingRule } from './contentRules.js';
import type { Finding, SkippedRule } from './finding.js';
import type { FindingRule } from './findingRule.js';
import { InsightReads } from './insightReads.js';
import { InsightsOptionsSchema, type InsightsOptions } from './insightsOptions.js';
import { insightWindows, type InsightWindows } from './insightWindows.js';
import { questionTrendingDownRule, questionTrendingUpRule } from './questionTrendRules.js';
import { responseTimeRegressionRule } from './responseTimeRule.js';
import { roleRatingDroppedRule, roleSuccessDroppedRule } from './roleRules.js';
import { unansweredClusterRule } from './unansweredClusterRule.js';

/** Every rule, in the order findings are reported. */
export const FINDING_RULES: readonly FindingRule[] = [
  questionTrendingUpRule,
  questionTrendingDownRule,
  contentLowSuccessRule,
  contentRelevanceFallingRule,
  roleSuccessDroppedRule,
  roleRatingDroppedRule,
  responseTimeRegressionRule,
  unansweredClusterRule,
];

export interface FindInsightsInput {
  /** The insights API (`strata.insights`): the only source of data besides `baselines`. */
  insights: InsightsProvider;
  /** The warm tier's performance baselines, when a warm tier keeps them (`baselineSourceOf(strata.storage('warm'))`). */
  baselines?: BaselineSource | undefined;
  /** Epoch ms; the windows end at the end of its UTC day. */
  now: number;
  /** Thresholds and minimum evidence; defaults for everything left out. */
  options?: InsightsOptions;
  signal?: AbortSignal;
}

/** One analysis: the windows it compared, its findings (by kind, strongest first) and the rules that could not run. */
export interface InsightsAnalysis {
  asOf: number;
  windows: InsightWindows;
  findings: Finding[];
  skipped: SkippedRule[];
}

/**
 * Turns the insights API's answers into findings a person can act on, each with the numbers
 * behind it. A rule that fails (a tier that does not answer one of its questions) is reported in
 * `skipped` and the others still run; an aborted signal stops the analysis.
 */
export async function findInsights(input: FindInsightsInput): Promise<InsightsAnalysis> {
  const options = InsightsOptionsSchema.parse(input.options ?? {});
  const windows = insightWindows(input.now, options);
  const context = {
    insights: input.insights,
    reads: new InsightReads(input.insights, input.signal),
    baselines: input.baselines,
    windows,
    options,
    ...(input.signal ? { signal: input.signal } : {}),
  };
  const findings: Finding[] = [];
  const skipped: SkippedRule[] = [];
  for (const rule of FINDING_RULES) {
    input.signal?.throwIfAborted();
    try {
      findings.push(...(await rule.find(context)));
    } catch (error) {
      if (input.signal?.aborted) throw error;
      skipped.push({ rule: rule.kind, reason: describeError(error) });
    }
  }
  return { asOf: windows.asOf, windows, findings, skipped };
}
