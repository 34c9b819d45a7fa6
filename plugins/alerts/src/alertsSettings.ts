import { isAbsolute, join } from 'node:path';
import { parseDuration, type AlertComparison, type AlertSeverity, type ResolvedConfig } from '@strata/core';
import type { ResolvedAlertsOptions } from './alertOptions.js';
import type { AlertStore } from './alertStore.js';
import type { RuleState, TrackedAlert } from './alertTypes.js';
import { compileRules, type CompiledRule } from './compiledRule.js';
import type { DeliveryPolicy } from './notificationDelivery.js';
import type { Silence } from './silence.js';

export const ALERTS_PLUGIN_NAME = 'alerts';

/** The alerts plugin's settings as a validated config gives them, for tools that work on its file (the CLI). */
export interface AlertsSettings {
  /** Absolute path of the SQLite file. */
  file: string;
  options: ResolvedAlertsOptions;
  rules: CompiledRule[];
}

export function alertsFileOf(dataDir: string, file: string): string {
  return isAbsolute(file) ? file : join(dataDir, file);
}

/** The settings of the `alerts` plugin in a resolved config, or undefined when the config does not list it. */
export function alertsSettingsOf(config: ResolvedConfig): AlertsSettings | undefined {
  const entry = config.plugins.find((plugin) => plugin.definition.name === ALERTS_PLUGIN_NAME);
  if (!entry) return undefined;
  const options = entry.options as ResolvedAlertsOptions;
  return { file: alertsFileOf(config.dataDir, options.file), options, rules: compileRules(options) };
}

/** Durations of the options in ms; the schema accepted only parseable ones. */
export function timingsOf(options: ResolvedAlertsOptions): {
  evaluationIntervalMs: number;
  repeatIntervalMs: number;
  sourceTimeoutMs: number;
  historyRetentionMs: number;
  delivery: DeliveryPolicy;
} {
  const ms = (text: string) => parseDuration(text)!;
  return {
    evaluationIntervalMs: ms(options.evaluationInterval),
    repeatIntervalMs: ms(options.repeatInterval),
    sourceTimeoutMs: ms(options.sourceTimeout),
    historyRetentionMs: ms(options.historyRetention),
    delivery: {
      maxAttempts: options.delivery.maxAttempts ?? 3,
      timeoutMs: ms(options.delivery.timeout ?? '10s'),
      initialBackoffMs: ms(options.delivery.initialBackoff ?? '1s'),
      maxBackoffMs: ms(options.delivery.maxBackoff ?? '30s'),
    },
  };
}

/** One rule with its last evaluated state. */
export interface RuleOverview {
  name: string;
  metric: string;
  match: Record<string, string>;
  op: AlertComparison;
  threshold: number;
  for: string;
  severity: AlertSeverity;
  origin: CompiledRule['origin'];
  /** `not evaluated` until the plugin evaluated the rule once. */
  state: RuleState | 'not evaluated';
  since: number | null;
  evaluatedAt: number | null;
  reason: string | null;
}

/** What `strata alerts list` shows: rules, the alerts pending or firing, and silences not yet ended. */
export interface AlertsOverview {
  rules: RuleOverview[];
  alerts: TrackedAlert[];
  silences: Silence[];
}

export function alertsOverview(store: AlertStore, rules: readonly CompiledRule[], now: number): AlertsOverview {
  const statuses = new Map(store.ruleStatuses().map((status) => [status.rule, status]));
  const names = new Set(rules.map((rule) => rule.name));
  return {
    rules: rules.map((rule) => {
      const status = statuses.get(rule.name);
      return {
        name: rule.name,
        metric: rule.metric,
        match: { ...rule.match },
        op: rule.op,
        threshold: rule.threshold,
        for: rule.forText,
        severity: rule.severity,
        origin: rule.origin,
        state: status?.state ?? 'not evaluated',
        since: status?.since ?? null,
        evaluatedAt: status?.evaluatedAt ?? null,
        reason: status?.reason ?? null,
      };
    }),
    alerts: store.activeAlerts().filter((alert) => names.has(alert.rule)),
    silences: store.silences(now),
  };
}
