import type { MetricReading } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { AlertRuleSchema, compileRules, evaluateRule, type RuleInput, type TrackedAlert } from '../src/index.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 1);

function rule(overrides: Record<string, unknown> = {}) {
  const options = AlertRuleSchema.parse({ name: 'SlowAnswers', metric: 'insights.avg_response_time_seconds', op: '>', threshold: 5, for: '5m', ...overrides });
  return compileRules({ preset: 'none', rules: [options] })[0]!;
}

function readings(value: number, labels?: Record<string, string>): RuleInput {
  const reading: MetricReading = { name: 'insights.avg_response_time_seconds', value, at: 0, ...(labels ? { labels } : {}) };
  return { kind: 'readings', readings: [reading] };
}

/** Feeds values one minute apart and returns the state after each. */
function run(values: Array<number | 'absent'>, overrides: Record<string, unknown> = {}) {
  const compiled = rule(overrides);
  let active: TrackedAlert[] = [];
  const steps: Array<{ state: string; transitions: string[] }> = [];
  values.forEach((value, index) => {
    const result = evaluateRule(compiled, active, value === 'absent' ? { kind: 'absent' } : readings(value), T0 + index * MINUTE);
    active = result.active;
    steps.push({ state: result.state, transitions: result.transitions.map((transition) => `${transition.from}->${transition.to}`) });
  });
  return steps;
}

describe('the rule state machine', () => {
  it('goes inactive → pending → firing once the condition held for `for`, then resolves', () => {
    const steps = run([1, 6, 6, 6, 6, 6, 6, 2]);
    expect(steps.map((step) => step.state)).toEqual(['inactive', 'pending', 'pending', 'pending', 'pending', 'pending', 'firing', 'inactive']);
    expect(steps.flatMap((step) => step.transitions)).toEqual(['inactive->pending', 'pending->firing', 'firing->resolved']);
  });

  it('never fires when the condition flaps inside `for`', () => {
    const steps = run([6, 6, 6, 6, 1, 6, 6, 6, 6, 1, 6, 6]);
    expect(steps.some((step) => step.state === 'firing')).toBe(false);
    expect(steps.flatMap((step) => step.transitions).filter((transition) => transition.endsWith('firing'))).toEqual([]);
    expect(steps.flatMap((step) => step.transitions)).toContain('pending->inactive');
  });

  it('restarts the pending clock after a flap, so firing needs `for` of uninterrupted holding', () => {
    // Held 4 minutes, dropped, then held again: fires 5 minutes after the second start, not earlier.
    const steps = run([6, 6, 6, 6, 1, 6, 6, 6, 6, 6, 6]);
    expect(steps.map((step) => step.state)).toEqual(['pending', 'pending', 'pending', 'pending', 'inactive', 'pending', 'pending', 'pending', 'pending', 'pending', 'firing']);
  });

  it('fires on the first evaluation when `for` is 0', () => {
    const steps = run([6], { for: '0s' });
    expect(steps[0]).toEqual({ state: 'firing', transitions: ['inactive->firing'] });
  });

  it('resolves a firing alert whose metric is no longer reported, and says there is no data', () => {
    const steps = run([6, 6, 6, 6, 6, 6, 'absent'], { for: '1m' });
    expect(steps.at(-1)).toEqual({ state: 'no data', transitions: ['firing->resolved'] });
  });

  it('keeps every alert as it is when the metric is unknown (its source failed)', () => {
    const compiled = rule({ for: '0s' });
    const first = evaluateRule(compiled, [], readings(9), T0);
    const held = evaluateRule(compiled, first.active, { kind: 'unknown', reason: 'source down' }, T0 + MINUTE);
    expect(held.state).toBe('no data');
    expect(held.transitions).toEqual([]);
    expect(held.active).toEqual(first.active);
  });

  it('tracks each labelled series as its own alert', () => {
    const compiled = rule({ metric: 'quality.freshness_seconds', threshold: 100, for: '0s' });
    const input: RuleInput = {
      kind: 'readings',
      readings: [
        { name: 'quality.freshness_seconds', value: 500, labels: { table: 'user_interactions' }, at: 0 },
        { name: 'quality.freshness_seconds', value: 50, labels: { table: 'session_analytics' }, at: 0 },
        { name: 'quality.freshness_seconds', value: 900, labels: { table: 'query_performance' }, at: 0 },
      ],
    };
    const result = evaluateRule(compiled, [], input, T0);
    expect(result.active.map((alert) => alert.labels.table).sort()).toEqual(['query_performance', 'user_interactions']);
    expect(new Set(result.active.map((alert) => alert.fingerprint)).size).toBe(2);
    expect(result.active[0]!.labels).toMatchObject({ alertname: 'SlowAnswers', severity: 'warning' });
  });

  it('deduplicates one series reported by two sources, keeping the newest reading', () => {
    const compiled = rule({ for: '0s' });
    const input: RuleInput = {
      kind: 'readings',
      readings: [
        { name: 'insights.avg_response_time_seconds', value: 9, at: 2_000 },
        { name: 'insights.avg_response_time_seconds', value: 3, at: 1_000 },
      ],
    };
    const result = evaluateRule(compiled, [], input, T0);
    expect(result.active).toHaveLength(1);
    expect(result.active[0]!.value).toBe(9);
  });

  it('renders the summary with the current value, and keeps it on the resolve', () => {
    const compiled = rule({ for: '0s', metric: 'insights.success_rate', op: '<', threshold: 0.95, summary: 'Success rate is {{value|percent}} (threshold {{threshold|percent}}) for {{labels.role}}' });
    const input: RuleInput = { kind: 'readings', readings: [{ name: 'insights.success_rate', value: 0.9012, labels: { role: 'student' }, at: 0 }] };
    const fired = evaluateRule(compiled, [], input, T0);
    expect(fired.active[0]!.summary).toBe('Success rate is 90.1% (threshold 95%) for student');
    const resolved = evaluateRule(compiled, fired.active, { kind: 'readings', readings: [{ name: 'insights.success_rate', value: 0.99, labels: { role: 'student' }, at: 0 }] }, T0 + MINUTE);
    expect(resolved.resolved[0]).toMatchObject({ status: 'resolved', value: 0.99, resolvedAt: T0 + MINUTE, summary: 'Success rate is 90.1% (threshold 95%) for student' });
  });

  it.each([
    ['>', 5, 5, false],
    ['>=', 5, 5, true],
    ['<', 4, 5, true],
    ['<=', 6, 5, false],
    ['==', 5, 5, true],
    ['!=', 5, 5, false],
  ])('compares with %s (value %d, threshold %d → %s)', (op, value, threshold, fires) => {
    const compiled = rule({ op, threshold, for: '0s' });
    expect(evaluateRule(compiled, [], readings(value), T0).state).toBe(fires ? 'firing' : 'inactive');
  });
});
