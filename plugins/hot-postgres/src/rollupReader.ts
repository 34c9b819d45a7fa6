import type { Pool } from 'pg';
import { DAY_MS, HOUR_MS, MINUTE_MS, ceilTo, floorTo, rollupSpans, sqlBound, type LatencyRow, type RollupSums } from '@strata/hot-sqlite';
import type { Qualify, StatementNames } from './sqlNames.js';

const MEASURES = ['interactions', 'successes', 'response_us_sum', 'rating_sum', 'rating_count', 'code_snippets', 'citations', 'follow_ups', 'sessions_started', 'sessions_converted'] as const;
const TABLE_OF_SIZE = new Map<number, string>([
  [MINUTE_MS, 'minute'],
  [HOUR_MS, 'hour'],
  [DAY_MS, 'day'],
]);
/** Reads only the session columns of `rollup_hour`, for the hours around a run of minutes. */
const SESSION_HOURS = -1;

interface Span {
  size: number;
  from: number;
  to: number;
}

/**
 * Reads the rollups covering a range (aligned with `alignToRollups`) exactly as hot-sqlite's
 * RollupReader does — whole days from the day tables, the hours beside them, minutes at the edges
 * inside the minute horizon, sessions of a minute run from the hours around it — but as one
 * statement per question: the spans are a UNION ALL that PostgreSQL sums in one round trip.
 */
export class PgRollupReader {
  private readonly latestSql: string;

  constructor(
    private readonly pool: Pool,
    private readonly q: Qualify,
    private readonly names: StatementNames,
    private readonly now: () => number,
  ) {
    this.latestSql = `SELECT MAX(bucket_start) AS day FROM ${q('rollup_day')}`;
  }

  /** Sums per (role, query type) over the aligned range [from, to). */
  async sumsByRoleAndType(from: number, to: number, userRole: string | undefined): Promise<Array<RollupSums & { user_role: string; query_type: string }>> {
    return this.summed('user_role, query_type', 'user_role, query_type', from, to, userRole);
  }

  /** Sums per UTC day over the aligned range [from, to), by day. */
  async sumsByDay(from: number, to: number, userRole: string | undefined): Promise<Map<number, RollupSums>> {
    const rows = await this.summed<{ day: number }>(`(bucket_start / ${DAY_MS}) * ${DAY_MS} AS day`, 'day', from, to, userRole);
    return new Map(rows.map((row) => [row.day, row]));
  }

  /** The latency rows (one per bucket and role) of the aligned range [from, to). */
  async latencyRows(from: number, to: number, userRole: string | undefined): Promise<LatencyRow[]> {
    const spans = this.spans(from, to, false);
    if (spans.length === 0) return [];
    const params: unknown[] = userRole === undefined ? [] : [userRole];
    const parts = spans.map((span) => {
      params.push(sqlBound(span.from), sqlBound(span.to));
      const where = `bucket_start >= $${params.length - 1} AND bucket_start < $${params.length}${userRole === undefined ? '' : ' AND user_role = $1'}`;
      return `SELECT bucket_start, user_role, response_us_max, response_histogram FROM ${this.q(`latency_${TABLE_OF_SIZE.get(span.size)}`)} WHERE ${where}`;
    });
    const { rows } = await this.pool.query<LatencyRow>({ ...this.names.get(parts.join('\nUNION ALL\n')), values: params });
    return rows;
  }

  /** Start of the last UTC day holding any interaction, or null when there is none. */
  async latestDay(): Promise<number | null> {
    const { rows } = await this.pool.query<{ day: number | null }>(this.names.get(this.latestSql));
    return rows[0]?.day ?? null;
  }

  private async summed<Extra extends object = { user_role: string; query_type: string }>(
    select: string,
    groupBy: string,
    from: number,
    to: number,
    userRole: string | undefined,
  ): Promise<Array<RollupSums & Extra>> {
    const spans = this.spans(from, to, true);
    if (spans.length === 0) return [];
    const params: unknown[] = userRole === undefined ? [] : [userRole];
    const parts = spans.map((span) => {
      params.push(sqlBound(span.from), sqlBound(span.to));
      const where = `bucket_start >= $${params.length - 1} AND bucket_start < $${params.length}${userRole === undefined ? '' : ' AND user_role = $1'}`;
      const table = this.q(`rollup_${span.size === SESSION_HOURS ? 'hour' : TABLE_OF_SIZE.get(span.size)}`);
      const columns = MEASURES.map((column) => {
        const session = column.startsWith('sessions_');
        const zero = span.size === MINUTE_MS ? session : span.size === SESSION_HOURS ? !session : false;
        return zero ? `0 AS ${column}` : column;
      });
      return `SELECT bucket_start, user_role, query_type, ${columns.join(', ')} FROM ${table} WHERE ${where}`;
    });
    const sums = MEASURES.map((column) => `SUM(${column})::int8 AS ${column}`).join(', ');
    const text = `SELECT ${select}, ${sums} FROM (\n${parts.join('\nUNION ALL\n')}\n) spans GROUP BY ${groupBy}`;
    const { rows } = await this.pool.query<RollupSums & Extra>({ ...this.names.get(text), values: params });
    return rows;
  }

  private spans(from: number, to: number, withSessionHours: boolean): Span[] {
    const out: Span[] = [];
    for (const span of rollupSpans(from, to, this.now())) {
      out.push(span);
      if (span.size === MINUTE_MS && withSessionHours) out.push({ size: SESSION_HOURS, from: floorTo(span.from, HOUR_MS), to: ceilTo(span.to, HOUR_MS) });
    }
    return out;
  }
}
