import type Database from 'better-sqlite3';
import { HistogramAccumulator } from './histogram.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, ceilTo, floorTo, rollupSpans, sqlBound } from './timeBuckets.js';

/** The additive measures of `rollup_minute`, `rollup_hour` and `rollup_day`. */
export interface RollupSums {
  interactions: number;
  successes: number;
  response_us_sum: number;
  rating_sum: number;
  rating_count: number;
  code_snippets: number;
  citations: number;
  follow_ups: number;
  sessions_started: number;
  sessions_converted: number;
}

/** A row of `latency_minute`, `latency_hour` or `latency_day`. */
export interface LatencyRow {
  bucket_start: number;
  user_role: string;
  response_us_max: number;
  response_histogram: Buffer;
}

const MEASURES = ['interactions', 'successes', 'response_us_sum', 'rating_sum', 'rating_count', 'code_snippets', 'citations', 'follow_ups', 'sessions_started', 'sessions_converted'] as const;
const SIZES: ReadonlyArray<readonly [number, string]> = [
  [MINUTE_MS, 'minute'],
  [HOUR_MS, 'hour'],
  [DAY_MS, 'day'],
];
/** Reads only the session columns of `rollup_hour`, for the hours around a run of minutes. */
const SESSION_HOURS = -1;

/** SUM of every measure; the minute table has no session columns, and SESSION_HOURS reads only those. */
function sums(size: number): string {
  return MEASURES.map((column) => {
    const session = column.startsWith('sessions_');
    const zero = size === MINUTE_MS ? session : size === SESSION_HOURS ? !session : false;
    return zero ? `0 AS ${column}` : `SUM(${column}) AS ${column}`;
  }).join(', ');
}

type Statements = Map<string, Database.Statement>;

/**
 * Reads the rollups covering a range (aligned with `alignToRollups`): whole days from the day
 * tables, the hours beside them from the hour tables, and inside the minute horizon the minutes at
 * the edges from the minute tables (see `rollupSpans`). SQLite sums the rows of each span; what is
 * read is O(days · roles · query types) rows whatever the number of stored events, and the costly
 * part, merging histograms, is O(days · roles).
 *
 * Sessions are counted per hour: for a run of minutes, they come from the hours around it, so the
 * sessions of a range are those that started in it widened to whole hours.
 */
export class RollupReader {
  private readonly byRoleAndType: Statements = new Map();
  private readonly byDay: Statements = new Map();
  private readonly latencies: Statements = new Map();
  private readonly latest: Database.Statement;

  constructor(
    db: Database.Database,
    private readonly now: () => number,
  ) {
    const range = 'bucket_start >= ? AND bucket_start < ?';
    for (const [size, name] of [...SIZES, [SESSION_HOURS, 'hour'] as const]) {
      for (const role of [false, true]) {
        const where = `${range}${role ? ' AND user_role = ?' : ''}`;
        const key = `${size}${role ? 'r' : ''}`;
        this.byRoleAndType.set(key, db.prepare(`SELECT user_role, query_type, ${sums(size)} FROM rollup_${name} WHERE ${where} GROUP BY user_role, query_type`));
        this.byDay.set(key, db.prepare(`SELECT (bucket_start / ${DAY_MS}) * ${DAY_MS} AS day, ${sums(size)} FROM rollup_${name} WHERE ${where} GROUP BY 1`));
        if (size !== SESSION_HOURS) {
          this.latencies.set(key, db.prepare(`SELECT bucket_start, user_role, response_us_max, response_histogram FROM latency_${name} WHERE ${where}`));
        }
      }
    }
    this.latest = db.prepare('SELECT MAX(bucket_start) AS day FROM rollup_day');
  }

  /** Sums per (role, query type) over the aligned range [from, to). */
  sumsByRoleAndType(from: number, to: number, userRole: string | undefined): Array<RollupSums & { user_role: string; query_type: string }> {
    const groups = new Map<string, RollupSums & { user_role: string; query_type: string }>();
    for (const row of this.read(this.byRoleAndType, from, to, userRole) as Array<RollupSums & { user_role: string; query_type: string }>) {
      const key = `${row.user_role.length}:${row.user_role}${row.query_type}`;
      const group = groups.get(key);
      if (group) addSums(group, row);
      else groups.set(key, row);
    }
    return [...groups.values()];
  }

  /** Sums per UTC day over the aligned range [from, to), by day. */
  sumsByDay(from: number, to: number, userRole: string | undefined): Map<number, RollupSums> {
    const days = new Map<number, RollupSums>();
    for (const row of this.read(this.byDay, from, to, userRole) as Array<RollupSums & { day: number }>) {
      const group = days.get(row.day);
      if (group) addSums(group, row);
      else days.set(row.day, row);
    }
    return days;
  }

  /** The latency rows (one per bucket and role) of the aligned range [from, to). */
  latencyRows(from: number, to: number, userRole: string | undefined): LatencyRow[] {
    return this.read(this.latencies, from, to, userRole, false) as LatencyRow[];
  }

  /** Start of the last UTC day holding any interaction, or null when there is none. */
  latestDay(): number | null {
    return (this.latest.get() as { day: number | null }).day;
  }

  private read(statements: Statements, from: number, to: number, userRole: string | undefined, withSessionHours = true): unknown[] {
    const out: unknown[] = [];
    const role = userRole !== undefined ? 'r' : '';
    const run = (size: number, spanFrom: number, spanTo: number) => {
      const params: unknown[] = [sqlBound(spanFrom), sqlBound(spanTo)];
      if (userRole !== undefined) params.push(userRole);
      for (const row of statements.get(`${size}${role}`)!.all(...params)) out.push(row);
    };
    for (const span of rollupSpans(from, to, this.now())) {
      run(span.size, span.from, span.to);
      if (span.size === MINUTE_MS && withSessionHours) run(SESSION_HOURS, floorTo(span.from, HOUR_MS), ceilTo(span.to, HOUR_MS));
    }
    return out;
  }
}

function addSums(into: RollupSums, row: RollupSums): void {
  for (const column of MEASURES) into[column] += row[column];
}

/** Sums of rollup rows and latency histograms, with the ratios every answer reports. */
export class RollupTotals {
  readonly sums: RollupSums = {
    interactions: 0,
    successes: 0,
    response_us_sum: 0,
    rating_sum: 0,
    rating_count: 0,
    code_snippets: 0,
    citations: 0,
    follow_ups: 0,
    sessions_started: 0,
    sessions_converted: 0,
  };
  private readonly histogram = new HistogramAccumulator();
  private responseUsMax = 0;

  add(row: RollupSums): void {
    addSums(this.sums, row);
  }

  addLatency(row: LatencyRow): void {
    if (row.response_us_max > this.responseUsMax) this.responseUsMax = row.response_us_max;
    this.histogram.add(row.response_histogram);
  }

  get interactions(): number {
    return this.sums.interactions;
  }

  get successRate(): number | null {
    return this.ratio(this.sums.successes);
  }

  /** Seconds. */
  get avgResponseTime(): number | null {
    return this.sums.interactions > 0 ? this.sums.response_us_sum / 1e6 / this.sums.interactions : null;
  }

  get avgRating(): number | null {
    return this.sums.rating_count > 0 ? this.sums.rating_sum / this.sums.rating_count : null;
  }

  /** Nearest-rank 95th percentile of response time in seconds, within the histogram's error; null without latency rows. */
  get p95ResponseTime(): number | null {
    return this.histogram.percentile(0.95, this.responseUsMax / 1e6);
  }

  /** `count` per interaction; null when there were none. */
  ratio(count: number): number | null {
    return this.sums.interactions > 0 ? count / this.sums.interactions : null;
  }
}
