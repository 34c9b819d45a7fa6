import { DEFAULT_EVENT_LIMITS, MetricSchema, createMetricValidator, formatIssues } from '@strata/core';
import { describe, expect, it } from 'vitest';

const NOW = Date.UTC(2025, 6, 1, 12);
const validateMetric = createMetricValidator(DEFAULT_EVENT_LIMITS, () => NOW);
const sample = { timestamp: '2025-06-01T00:00:00Z', name: 'response_time_p95', value: 2.5, unit: 's', component: 'api' };

function reasons(input: unknown): string {
  const result = validateMetric(input);
  if (result.ok) throw new Error('expected the metric to be rejected');
  return formatIssues(result.issues);
}

describe('createMetricValidator', () => {
  it('turns a sample into its stored form with the timestamp in epoch ms', () => {
    expect(validateMetric(sample)).toEqual({
      ok: true,
      value: { timestamp: Date.UTC(2025, 5, 1), name: 'response_time_p95', value: 2.5, unit: 's', component: 'api' },
    });
  });

  it('stores absent or null unit and component as null', () => {
    const result = validateMetric({ timestamp: NOW, name: 'cpu', value: 0.4, unit: null });
    expect(result).toEqual({ ok: true, value: { timestamp: NOW, name: 'cpu', value: 0.4, unit: null, component: null } });
  });

  it('names every missing required field at once', () => {
    expect(reasons({})).toBe('timestamp: is required; name: is required; value: is required');
  });

  it('rejects a value that is not a number with what was sent', () => {
    expect(reasons({ ...sample, value: '2.5' })).toBe('value: must be a finite number, got "2.5"');
  });

  it('rejects an empty name', () => {
    expect(reasons({ ...sample, name: '' })).toBe('name: must not be empty');
  });

  it('rejects a timestamp more than 24 h in the future', () => {
    expect(reasons({ ...sample, timestamp: NOW + 2 * 86_400_000 })).toBe(`timestamp: is more than 24 h in the future, got ${NOW + 2 * 86_400_000}`);
  });

  it.each([[[]], [null], [3], ['metric']])('rejects %j because a metric must be a JSON object', (input) => {
    expect(reasons(input)).toMatch(/^a metric must be a JSON object, got /);
  });

  it('rejects a __proto__ key as JSON.parse produces it', () => {
    expect(reasons(JSON.parse('{"__proto__":{"x":1},"timestamp":1700000000000,"name":"cpu","value":1}'))).toBe('__proto__: is not an allowed field name');
  });

  it('exports a zod schema for metric samples', () => {
    expect(MetricSchema.safeParse({ timestamp: 1_700_000_000_000, name: 'cpu', value: 1 }).success).toBe(true);
  });
});
