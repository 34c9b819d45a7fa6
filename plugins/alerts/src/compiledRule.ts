import { parseDuration, type AlertComparison, type AlertSeverity } from '@strata/core';
import { AlertRuleSchema, type AlertRuleOptions, type ResolvedAlertsOptions } from './alertOptions.js';
import { PLAN_PRESET_RULES } from './planPreset.js';

/** A rule ready to evaluate: durations in ms, defaults applied. */
export interface CompiledRule {
  name: string;
  metric: string;
  match: Readonly<Record<string, string>>;
  op: AlertComparison;
  threshold: number;
  forMs: number;
  /** `for` as written, for messages. */
  forText: string;
  severity: AlertSeverity;
  labels: Readonly<Record<string, string>>;
  summary: string;
  /** Where the rule came from. */
  origin: 'preset' | 'config';
}

const DEFAULT_SUMMARY = '{{metric}} is {{value}} ({{op}} {{threshold}})';

/** The preset's rules, then the configured ones; a configured rule named like a preset rule replaces it. */
export function compileRules(options: Pick<ResolvedAlertsOptions, 'preset' | 'rules'>): CompiledRule[] {
  const configured = new Set(options.rules.map((rule) => rule.name));
  const preset = options.preset === 'plan' ? PLAN_PRESET_RULES.filter((rule) => !configured.has(rule.name)).map((rule) => AlertRuleSchema.parse(rule)) : [];
  return [...preset.map((rule) => compileRule(rule, 'preset')), ...options.rules.map((rule) => compileRule(rule, 'config'))];
}

function compileRule(rule: AlertRuleOptions, origin: CompiledRule['origin']): CompiledRule {
  return {
    name: rule.name,
    metric: rule.metric,
    match: rule.match ?? {},
    op: rule.op,
    threshold: rule.threshold,
    // The schema accepted only parseable durations.
    forMs: parseDuration(rule.for)!,
    forText: rule.for,
    severity: rule.severity,
    labels: rule.labels ?? {},
    summary: rule.summary ?? DEFAULT_SUMMARY,
    origin,
  };
}

export function compare(value: number, op: AlertComparison, threshold: number): boolean {
  switch (op) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '==':
      return value === threshold;
    case '!=':
      return value !== threshold;
  }
}
