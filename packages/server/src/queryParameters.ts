import { parseDuration, parseTimestamp, type Issue, type TimeRange } from '@strata/core';
import { BadRequestError } from './httpErrors.js';

/** Most items per page any list endpoint returns. */
export const MAX_PAGE_LIMIT = 1_000;

/** A query-string schema: Fastify validates it (types, bounds, unknown names) before the handler runs. */
export interface QuerySchema {
  type: 'object';
  additionalProperties: false;
  properties: Record<string, Record<string, unknown>>;
}

const timeParameter = { type: 'string', minLength: 1, maxLength: 64, description: 'ISO-8601 date-time, epoch ms, or a duration back from now (7d, 12h)' };

/** The parameters shared by every insights question and the interactions list. */
export const RANGE_PAGE_PROPERTIES = {
  from: timeParameter,
  to: timeParameter,
  role: { type: 'string', minLength: 1, maxLength: 64 },
  limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE_LIMIT },
  cursor: { type: 'string', minLength: 1, maxLength: 4_096 },
};

export function querySchema(properties: Record<string, Record<string, unknown>>): QuerySchema {
  return { type: 'object', additionalProperties: false, properties };
}

/** Raw query values after schema validation: strings and coerced integers. */
export type QueryValues = Record<string, string | number | undefined>;

/**
 * `[from, to)` from the query: each end an ISO-8601 date-time (UTC when it has no offset), epoch
 * milliseconds, or a duration back from now (`from=7d`). Every problem is thrown at once, named.
 */
export function parseRange(query: QueryValues, now: number): TimeRange {
  const issues: Issue[] = [];
  const range: TimeRange = {};
  for (const end of ['from', 'to'] as const) {
    const raw = query[end];
    if (raw === undefined) continue;
    const parsed = parseInstant(String(raw), now);
    if ('problem' in parsed) issues.push({ path: `query.${end}`, message: parsed.problem });
    else range[end] = parsed.ms;
  }
  if (range.from !== undefined && range.to !== undefined && range.from >= range.to) {
    issues.push({ path: 'query.to', message: `must be after from (${new Date(range.from).toISOString()}), got ${new Date(range.to).toISOString()}` });
  }
  if (issues.length > 0) throw new BadRequestError(issues);
  return range;
}

function parseInstant(text: string, now: number): { ms: number } | { problem: string } {
  const ago = parseDuration(text);
  if (ago !== undefined) return { ms: now - ago };
  const value = /^\d+$/.test(text) ? Number(text) : text;
  // Any future end is allowed: `to` is often "the end of today".
  const parsed = parseTimestamp(value, now, Number.POSITIVE_INFINITY);
  if (!parsed.ok) return { problem: `${parsed.reason.replace(/^must be an ISO-8601 date-time or epoch milliseconds/, 'must be an ISO-8601 date-time, epoch milliseconds or a duration such as 7d')}` };
  return { ms: parsed.ms };
}

/** A string parameter, when given. */
export function stringParameter(query: QueryValues, name: string): string | undefined {
  const value = query[name];
  return value === undefined ? undefined : String(value);
}

/** An integer parameter the schema already checked, when given. */
export function integerParameter(query: QueryValues, name: string): number | undefined {
  const value = query[name];
  return value === undefined ? undefined : Number(value);
}

/**
 * Formats Fastify's schema errors as one BadRequestError naming the parameter and the rule it broke,
 * with the accepted names when the parameter is unknown.
 */
export function schemaErrorFormatter(
  errors: ReadonlyArray<{ instancePath: string; keyword: string; message?: string; params: Record<string, unknown>; parentSchema?: unknown }>,
  dataVar: string,
): Error {
  const where = dataVar === 'querystring' ? 'query' : dataVar;
  const issues: Issue[] = errors.map((error) => {
    const name = error.instancePath.replace(/^\//, '').replaceAll('/', '.');
    if (error.keyword === 'additionalProperties') {
      const unknown = String(error.params.additionalProperty);
      const accepted = Object.keys((error.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {});
      return { path: `${where}.${unknown}`, message: `is not a parameter of this endpoint${accepted.length > 0 ? `; accepted: ${accepted.join(', ')}` : ''}` };
    }
    if (error.keyword === 'enum') {
      return { path: `${where}.${name}`, message: `must be one of ${((error.params.allowedValues as unknown[]) ?? []).join(', ')}` };
    }
    return { path: name ? `${where}.${name}` : where, message: error.message ?? 'is not valid' };
  });
  return new BadRequestError(issues);
}
