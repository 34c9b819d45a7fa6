import { z } from 'zod';
import { DEFAULT_EVENT_LIMITS, findForbiddenKeys, formatPath, unreadable, type EventLimits, type ValidationResult } from './interaction.js';
import { describeType, parseTimestamp, preview } from './timestamp.js';

const rule = (text: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? 'is required' : `${text}, got ${preview(issue.input)}`;

/** Builds the schema of a system-performance metric sample. */
export function createMetricSchema(limits: Pick<EventLimits, 'maxFutureMs'> = DEFAULT_EVENT_LIMITS, now: () => number = Date.now) {
  return z.object({
    timestamp: z.unknown().transform((value, ctx) => {
      const parsed = value === undefined ? { ok: false as const, reason: 'is required' } : parseTimestamp(value, now(), limits.maxFutureMs);
      if (!parsed.ok) {
        ctx.issues.push({ code: 'custom', message: parsed.reason, input: value });
        return z.NEVER;
      }
      return parsed.ms;
    }),
    name: z.string({ error: rule('must be a string') }).min(1, { error: 'must not be empty' }).max(128, { error: 'must be at most 128 characters' }),
    value: z.number({ error: rule('must be a finite number') }),
    unit: z.string({ error: rule('must be a string') }).max(32, { error: 'must be at most 32 characters' }).nullish(),
    component: z.string({ error: rule('must be a string') }).max(128, { error: 'must be at most 128 characters' }).nullish(),
  });
}

export const MetricSchema = createMetricSchema();
export type MetricInput = z.input<typeof MetricSchema>;

/** A system-performance sample as stored: timestamp in epoch ms. */
export interface Metric {
  timestamp: number;
  name: string;
  value: number;
  unit: string | null;
  component: string | null;
}

export function createMetricValidator(limits: Pick<EventLimits, 'maxFutureMs'> = DEFAULT_EVENT_LIMITS, now: () => number = Date.now) {
  const schema = createMetricSchema(limits, now);
  return function validateMetric(input: unknown): ValidationResult<Metric> {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      return { ok: false, issues: [{ path: '', message: `a metric must be a JSON object, got ${describeType(input)}` }] };
    }
    try {
      const forbidden = findForbiddenKeys(input as Record<string, unknown>);
      if (forbidden.length > 0) return { ok: false, issues: forbidden };
      const parsed = schema.safeParse(input, { reportInput: true });
      if (!parsed.success) {
        return { ok: false, issues: parsed.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })) };
      }
      const { timestamp, name, value, unit, component } = parsed.data;
      return { ok: true, value: { timestamp, name, value, unit: unit ?? null, component: component ?? null } };
    } catch (error) {
      return { ok: false, issues: [unreadable('a metric', error)] };
    }
  };
}
