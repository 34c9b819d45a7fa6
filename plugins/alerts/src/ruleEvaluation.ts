import type { Alert, MetricReading } from '@strata/core';
import { alertLabels, fingerprintOf } from './alertIdentity.js';
import type { RuleState, StateTransition, TrackedAlert } from './alertTypes.js';
import { compare, type CompiledRule } from './compiledRule.js';
import { renderSummary } from './summaryTemplate.js';

/**
 * What the sources said about a rule's metric this time: readings (already narrowed to the rule's
 * `match`), nothing (`absent`: every source answered and none reports it), or `unknown` (the source
 * that reported it last failed to answer, so nothing can be concluded).
 */
export type RuleInput = { kind: 'readings'; readings: readonly MetricReading[] } | { kind: 'absent' } | { kind: 'unknown'; reason: string };

export interface RuleEvaluation {
  /** The rule's pending and firing alerts after this evaluation. */
  active: TrackedAlert[];
  /** Alerts that stopped firing now. */
  resolved: Alert[];
  transitions: StateTransition[];
  state: RuleState;
}

/**
 * The state machine of one rule, Prometheus-style: a series whose condition holds goes pending,
 * and firing once it has held for the rule's `for` at every evaluation since; a pending alert whose
 * condition stops holding goes back to inactive without a notice (flapping inside `for` never
 * fires); a firing one resolves. A series the sources stopped reporting counts as not holding.
 * When the metric's state is `unknown` (its source failed), every alert keeps its state.
 */
export function evaluateRule(rule: CompiledRule, previous: readonly TrackedAlert[], input: RuleInput, now: number): RuleEvaluation {
  if (input.kind === 'unknown') return { active: [...previous], resolved: [], transitions: [], state: 'no data' };

  const before = new Map(previous.map((alert) => [alert.fingerprint, alert]));
  const active: TrackedAlert[] = [];
  const resolved: Alert[] = [];
  const transitions: StateTransition[] = [];

  const series = input.kind === 'readings' ? latestPerSeries(rule, input.readings) : new Map<string, { labels: Record<string, string>; value: number }>();
  for (const [fingerprint, { labels, value }] of series) {
    const earlier = before.get(fingerprint);
    before.delete(fingerprint);
    const holds = compare(value, rule.op, rule.threshold);
    if (!holds) {
      if (earlier) settle(earlier, value, now, resolved, transitions);
      continue;
    }
    const summary = renderSummary(rule.summary, { value, threshold: rule.threshold, op: rule.op, metric: rule.metric, rule: rule.name, severity: rule.severity, for: rule.forText, labels });
    if (!earlier) {
      const firesNow = rule.forMs === 0;
      const alert: TrackedAlert = {
        fingerprint,
        rule: rule.name,
        metric: rule.metric,
        status: firesNow ? 'firing' : 'pending',
        severity: rule.severity,
        labels,
        summary,
        value,
        op: rule.op,
        threshold: rule.threshold,
        activeSince: now,
        firingSince: firesNow ? now : null,
        resolvedAt: null,
        silencedBy: [],
      };
      active.push(alert);
      transitions.push({ alert: snapshot(alert), from: 'inactive', to: alert.status });
      continue;
    }
    // Rule thresholds may have changed since the alert was stored (a restart with a new config).
    const updated: TrackedAlert = { ...earlier, summary, value, op: rule.op, threshold: rule.threshold, severity: rule.severity, metric: rule.metric };
    if (earlier.status === 'pending' && now - earlier.activeSince >= rule.forMs) {
      updated.status = 'firing';
      updated.firingSince = now;
      transitions.push({ alert: snapshot(updated), from: 'pending', to: 'firing' });
    }
    active.push(updated);
  }
  // Series no longer reported: their condition is no longer observed to hold.
  for (const earlier of before.values()) settle(earlier, null, now, resolved, transitions);

  const state: RuleState =
    input.kind === 'absent' ? 'no data' : active.some((alert) => alert.status === 'firing') ? 'firing' : active.length > 0 ? 'pending' : 'inactive';
  return { active, resolved, transitions, state };
}

function settle(alert: TrackedAlert, value: number | null, now: number, resolved: Alert[], transitions: StateTransition[]): void {
  if (alert.status === 'pending') {
    transitions.push({ alert: snapshot({ ...alert, value: value ?? alert.value }), from: 'pending', to: 'inactive' });
    return;
  }
  // The summary is kept as it was while firing, so the resolve notice reads like the alert it closes.
  const done: Alert = { ...snapshot(alert), status: 'resolved', value, resolvedAt: now };
  resolved.push(done);
  transitions.push({ alert: done, from: 'firing', to: 'resolved' });
}

/** Readings of one metric grouped by alert identity; when two sources report the same series, the newest reading wins. */
function latestPerSeries(rule: CompiledRule, readings: readonly MetricReading[]): Map<string, { labels: Record<string, string>; value: number; at: number }> {
  const series = new Map<string, { labels: Record<string, string>; value: number; at: number }>();
  for (const reading of readings) {
    const labels = alertLabels(rule, reading.labels);
    const fingerprint = fingerprintOf(labels);
    const existing = series.get(fingerprint);
    if (!existing || reading.at >= existing.at) series.set(fingerprint, { labels, value: reading.value, at: reading.at });
  }
  return series;
}

/** The public view of an alert (without the tracking fields). */
export function snapshot(alert: Alert & { silencedBy?: string[] }): Alert {
  const { silencedBy: _silencedBy, ...rest } = alert;
  return { ...rest, labels: { ...rest.labels } };
}
