import type { InsightsProvider } from '@strata/core';
import type { BaselineSource } from './baselineSource.js';
import type { Finding, FindingKind } from './finding.js';
import type { InsightReads } from './insightReads.js';
import type { ResolvedInsightsOptions } from './insightsOptions.js';
import type { InsightWindows } from './insightWindows.js';

/** What every rule reads from. */
export interface RuleContext {
  insights: InsightsProvider;
  reads: InsightReads;
  /** The warm tier's monthly baselines, when one is configured. */
  baselines: BaselineSource | undefined;
  windows: InsightWindows;
  options: ResolvedInsightsOptions;
  signal?: AbortSignal;
}

/** One kind of finding: reads what it needs and returns its findings, strongest first. */
export interface FindingRule {
  readonly kind: FindingKind;
  find(context: RuleContext): Promise<Finding[]>;
}

/** Severity of a change: a warning once it is at least twice the smallest change that makes a finding. */
export function severityOf(change: number, minimum: number): 'info' | 'warning' {
  return change >= 2 * minimum ? 'warning' : 'info';
}

/** Code-unit order: the same on every machine, unlike `localeCompare`. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
