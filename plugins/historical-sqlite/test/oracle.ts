import Database from 'better-sqlite3';
import { hashQuery, normalizeQuery, type Interaction } from '@strata/core';
import { encodeHistogram, histogramBin, histogramBinValue, toMicros } from '@strata/hot-sqlite';

/**
 * The test oracle: every warm-tier table recomputed with GROUP BY over the raw rows in a scratch
 * SQLite database, and the stored tables read back in the same shape, so tests compare with toEqual.
 */

type Row = Record<string, unknown>;
export type AggregateSnapshot = Record<string, Row[]>;

const ORDER = {
  interactions_monthly: 'month, user_role, query_type',
  questions_monthly: 'month, user_role, query_hash',
  content_monthly: 'month, user_role, content_type, content_id',
  business_daily: 'day, user_role',
  performance_baselines: 'month, user_role, query_type',
} as const;

const hex = (row: Row): Row => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, Buffer.isBuffer(value) ? value.toString('hex') : value]));

/** Every aggregate table as stored (generated columns left out: they follow from the rest). */
export function storedAggregates(db: Database.Database): AggregateSnapshot {
  const snapshot: AggregateSnapshot = {};
  for (const [table, order] of Object.entries(ORDER)) {
    const columns = table === 'performance_baselines'
      ? 'month, user_role, query_type, interactions, successes, response_us_sum, p50_response_time, p95_response_time, max_response_time'
      : '*';
    snapshot[table] = (db.prepare(`SELECT ${columns} FROM ${table} ORDER BY ${order}`).all() as Row[]).map(hex);
  }
  return snapshot;
}

/** The ledger, without the times it was written. */
export function storedLedger(db: Database.Database): Row[] {
  return db.prepare(
    `SELECT s.source_id, s.rows, s.skipped_rows, json_group_array(json_array(m.month, m.rows)) AS months
     FROM aggregate_sources s LEFT JOIN (SELECT * FROM aggregate_source_months ORDER BY month) m USING (source_id)
     GROUP BY s.source_id ORDER BY s.source_id`,
  ).all() as Row[];
}

/** What every table must hold for these rows, by GROUP BY over them. */
export function expectedAggregates(rows: readonly Interaction[]): AggregateSnapshot {
  const db = new Database(':memory:');
  try {
    db.exec(`CREATE TABLE raw (
      timestamp INTEGER, user_role TEXT, query_type TEXT, query_hash TEXT, query_normalized TEXT, response_us INTEGER, bin INTEGER,
      success INTEGER, user_rating INTEGER, snippets INTEGER, citations INTEGER, follow_up INTEGER)`);
    db.exec('CREATE TABLE used (timestamp INTEGER, user_role TEXT, success INTEGER, content_type TEXT, content_id TEXT, relevance_us INTEGER)');
    const insert = db.prepare('INSERT INTO raw VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    const insertUse = db.prepare('INSERT INTO used VALUES (?, ?, ?, ?, ?, ?)');
    db.transaction(() => {
      for (const row of rows) {
        const normalized = normalizeQuery(row.query);
        insert.run(
          row.timestamp, row.userRole, row.queryType, hashQuery(normalized), normalized, toMicros(row.responseTime), histogramBin(row.responseTime),
          row.success ? 1 : 0, row.userRating, row.codeSnippetsShown, row.citationsProvided, row.followUpQuery ? 1 : 0,
        );
        for (const item of row.content) {
          insertUse.run(row.timestamp, row.userRole, row.success ? 1 : 0, item.type, item.id, item.relevance === null ? null : toMicros(item.relevance));
        }
      }
    })();
    const month = (column: string) => `strftime('%Y-%m', ${column} / 1000, 'unixepoch')`;
    const all = (sql: string) => db.prepare(sql).all() as Row[];
    const histograms = (groupBy: string) => {
      const bins = new Map<string, Map<number, number>>();
      for (const row of all(`SELECT ${groupBy} AS k, bin, COUNT(*) AS n FROM raw GROUP BY 1, 2`)) {
        const key = String(row.k);
        if (!bins.has(key)) bins.set(key, new Map());
        bins.get(key)!.set(row.bin as number, row.n as number);
      }
      return (key: string) => encodeHistogram(bins.get(key)!).toString('hex');
    };
    const measures = `COUNT(*) AS interactions, SUM(success) AS successes, SUM(response_us) AS response_us_sum, MAX(response_us) AS response_us_max`;
    const rest = `COALESCE(SUM(user_rating), 0) AS rating_sum, COUNT(user_rating) AS rating_count,
                  SUM(snippets) AS code_snippets, SUM(citations) AS citations, SUM(follow_up) AS follow_ups`;

    const monthHistogram = histograms(`(${month('timestamp')}) || '|' || user_role || '|' || query_type`);
    const interactions = all(
      `SELECT ${month('timestamp')} AS month, user_role, query_type, ${measures}, ${rest}
       FROM raw GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    ).map(({ rating_sum, rating_count, code_snippets, citations, follow_ups, ...row }) => ({
      ...row,
      response_histogram: monthHistogram(`${row.month}|${row.user_role}|${row.query_type}`),
      rating_sum, rating_count, code_snippets, citations, follow_ups,
    }));

    const dayHistogram = histograms(`((timestamp / 86400000) * 86400000) || '|' || user_role`);
    const business = all(
      `SELECT (timestamp / 86400000) * 86400000 AS day, user_role, ${measures}, ${rest}
       FROM raw GROUP BY 1, 2 ORDER BY 1, 2`,
    ).map(({ rating_sum, rating_count, code_snippets, citations, follow_ups, ...row }) => ({
      ...row,
      response_histogram: dayHistogram(`${row.day}|${row.user_role}`),
      rating_sum, rating_count, code_snippets, citations, follow_ups,
    }));

    const questions = all(
      `WITH firsts AS (
         SELECT month, user_role, query_hash, query_type FROM (
           SELECT ${month('timestamp')} AS month, user_role, query_hash, query_type,
                  ROW_NUMBER() OVER (PARTITION BY ${month('timestamp')}, user_role, query_hash ORDER BY timestamp, query_type) AS n FROM raw)
         WHERE n = 1)
       SELECT ${month('r.timestamp')} AS month, r.user_role, r.query_hash, MIN(r.query_normalized) AS query_normalized, f.query_type AS query_category,
              MIN(r.timestamp) AS first_asked, MAX(r.timestamp) AS last_asked, COUNT(*) AS asks, SUM(r.success) AS successes,
              SUM(r.response_us) AS response_us_sum, COALESCE(SUM(r.user_rating), 0) AS rating_sum, COUNT(r.user_rating) AS rating_count
       FROM raw r JOIN firsts f ON f.month = ${month('r.timestamp')} AND f.user_role = r.user_role AND f.query_hash = r.query_hash
       GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    );

    const content = all(
      `SELECT ${month('timestamp')} AS month, user_role, content_type, content_id, COUNT(*) AS accesses, SUM(success) AS successes,
              COALESCE(SUM(relevance_us), 0) AS relevance_micro_sum, COUNT(relevance_us) AS relevance_count,
              MIN(timestamp) AS first_accessed, MAX(timestamp) AS last_accessed
       FROM used GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
    );

    return {
      interactions_monthly: interactions,
      questions_monthly: questions,
      content_monthly: content,
      business_daily: business,
      performance_baselines: expectedBaselines(rows),
    };
  } finally {
    db.close();
  }
}

/** Baselines from the rows themselves: each row's histogram bin, sorted, read at the nearest rank. */
function expectedBaselines(rows: readonly Interaction[]): Row[] {
  const groups = new Map<string, { month: string; role: string; type: string; bins: number[]; successes: number; us: number; max: number }>();
  for (const row of rows) {
    const date = new Date(row.timestamp);
    const month = `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, '0')}`;
    for (const [role, type] of [[row.userRole, row.queryType], [row.userRole, ''], ['', row.queryType], ['', '']]) {
      const key = JSON.stringify([month, role, type]);
      let group = groups.get(key);
      if (!group) {
        group = { month, role: role!, type: type!, bins: [], successes: 0, us: 0, max: 0 };
        groups.set(key, group);
      }
      group.bins.push(histogramBin(row.responseTime));
      group.successes += row.success ? 1 : 0;
      group.us += toMicros(row.responseTime);
      group.max = Math.max(group.max, toMicros(row.responseTime));
    }
  }
  const percentile = (bins: number[], p: number, max: number) => Math.min(histogramBinValue(bins[Math.max(1, Math.ceil(p * bins.length)) - 1]!), max);
  const cmp = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
  return [...groups.values()]
    .sort((a, b) => cmp(a.month, b.month) || cmp(a.role, b.role) || cmp(a.type, b.type))
    .map((group) => {
      const bins = [...group.bins].sort((a, b) => a - b);
      return {
        month: group.month,
        user_role: group.role,
        query_type: group.type,
        interactions: bins.length,
        successes: group.successes,
        response_us_sum: group.us,
        p50_response_time: percentile(bins, 0.5, group.max / 1e6),
        p95_response_time: percentile(bins, 0.95, group.max / 1e6),
        max_response_time: group.max / 1e6,
      };
    });
}
