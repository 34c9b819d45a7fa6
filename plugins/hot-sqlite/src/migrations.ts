import { backfillRollups } from './batchWriter.js';
import type { Migration } from './schemaMigrator.js';

/**
 * The hot tier's schema history. Never edit a released migration: add a new one.
 *
 * Times are INTEGER epoch ms (compact, indexable, no time-zone parsing); booleans are 0/1;
 * `content` is the JSON array of knowledge items used for the answer.
 */
export const HOT_SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'user_interactions',
    up(db) {
      db.exec(`
        CREATE TABLE user_interactions (
          id INTEGER PRIMARY KEY,
          event_id TEXT NOT NULL,
          session_id TEXT NOT NULL,
          timestamp INTEGER NOT NULL,
          user_role TEXT NOT NULL,
          query TEXT NOT NULL,
          query_hash TEXT NOT NULL,
          query_type TEXT NOT NULL,
          response_time REAL NOT NULL CHECK (response_time >= 0),
          response_length INTEGER,
          code_snippets_shown INTEGER NOT NULL DEFAULT 0,
          citations_provided INTEGER NOT NULL DEFAULT 0,
          success INTEGER NOT NULL CHECK (success IN (0, 1)),
          user_rating INTEGER CHECK (user_rating BETWEEN 1 AND 5),
          follow_up_query INTEGER NOT NULL DEFAULT 0 CHECK (follow_up_query IN (0, 1)),
          conversation_turn INTEGER NOT NULL DEFAULT 1 CHECK (conversation_turn >= 1),
          ip_hash TEXT,
          user_agent_hash TEXT,
          content TEXT NOT NULL DEFAULT '[]',
          created_at INTEGER NOT NULL
        );
        CREATE UNIQUE INDEX idx_user_interactions_event_id ON user_interactions (event_id);
        CREATE INDEX idx_user_interactions_timestamp ON user_interactions (timestamp);
        CREATE INDEX idx_user_interactions_session ON user_interactions (session_id);
      `);
    },
  },
  {
    version: 2,
    name: 'rollups_and_analytics_tables',
    up(db) {
      db.exec(ANALYTICS_SCHEMA);
      const seed = db.prepare(
        `INSERT INTO data_retention_policy (table_name, archive_after_days, warm_retention_days, retention_days, cleanup_enabled, description, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, CAST(unixepoch('subsec') * 1000 AS INTEGER), CAST(unixepoch('subsec') * 1000 AS INTEGER))`,
      );
      for (const policy of DEFAULT_RETENTION_POLICIES) {
        seed.run(policy.table, policy.archiveAfterDays, policy.warmRetentionDays, policy.retentionDays, policy.cleanupEnabled ? 1 : 0, policy.description);
      }
      // A database written by schema 1 already holds interactions: give them their rollups.
      backfillRollups(db);
    },
  },
  {
    version: 3,
    name: 'lifecycle_state',
    up(db) {
      // tier_state holds the few facts retention leaves behind (how far detailed rollups were pruned);
      // the time index lets retention expire old metric samples without scanning the table.
      db.exec(`
        CREATE TABLE tier_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
        CREATE INDEX idx_system_performance_timestamp ON system_performance (timestamp);
      `);
    },
  },
  {
    version: 4,
    name: 'session_lookups_by_time',
    up(db) {
      // Session ids are random (pseudonyms, UUIDs), so an index on session_id alone takes every
      // insert to a random page: at 1M rows it cost 7.7 µs of a 28 µs write per event. Appending
      // session_id to the time index serves the same lookups (a session's rows lie inside its
      // session_analytics window) while every insert lands at the index's end.
      db.exec(`
        DROP INDEX idx_user_interactions_session;
        DROP INDEX idx_user_interactions_timestamp;
        CREATE INDEX idx_user_interactions_time_session ON user_interactions (timestamp, session_id);
      `);
    },
  },
];

/** The plan's retention defaults; `null` days mean kept permanently. */
export const DEFAULT_RETENTION_POLICIES = [
  { table: 'user_interactions', archiveAfterDays: 90, warmRetentionDays: 730, retentionDays: 1_095, cleanupEnabled: true, description: '90 days hot, 2 years warm (monthly aggregates), 3 years cold archive' },
  { table: 'session_analytics', archiveAfterDays: 30, warmRetentionDays: 365, retentionDays: 365, cleanupEnabled: true, description: '30 days detailed, 1 year aggregated' },
  { table: 'system_performance', archiveAfterDays: 365, warmRetentionDays: 1_095, retentionDays: 1_095, cleanupEnabled: true, description: '1 year detailed, 3 years summarised' },
  { table: 'rollup_day', archiveAfterDays: null, warmRetentionDays: null, retentionDays: null, cleanupEnabled: false, description: 'business metrics (daily rollups): permanent, aggregated only' },
] as const;

/**
 * Schema 2: the plan's analytics tables and the rollups every dashboard number is read from.
 * Sums of seconds and relevances are kept as integers (microseconds, millionths) so every rollup
 * is exact and the same whatever order or batches its events arrived in; averages and scores are
 * generated columns computed from those sums. See the README for why each index exists.
 */
const ROLLUP_MEASURES = `
  user_role TEXT NOT NULL,
  query_type TEXT NOT NULL,
  interactions INTEGER NOT NULL,
  successes INTEGER NOT NULL,
  response_us_sum INTEGER NOT NULL,
  rating_sum INTEGER NOT NULL,
  rating_count INTEGER NOT NULL,
  code_snippets INTEGER NOT NULL,
  citations INTEGER NOT NULL,
  follow_ups INTEGER NOT NULL,`;
const ROLLUP_KEY = `
  PRIMARY KEY (bucket_start, user_role, query_type)`;

/** Minute rows take only recent events (see the README), so they carry no session counts. */
const MINUTE_ROLLUP_COLUMNS = `${ROLLUP_MEASURES}${ROLLUP_KEY}`;

const ROLLUP_COLUMNS = `${ROLLUP_MEASURES}
  sessions_started INTEGER NOT NULL,
  sessions_converted INTEGER NOT NULL,${ROLLUP_KEY}`;

/**
 * Response-time histograms live beside the rollups, keyed by bucket and role only: percentiles are
 * asked per day or per role, never per query type, and merging histograms is the costly part of a
 * read, so keeping them out of the (role × query type) rows reads five times fewer of them.
 */
const LATENCY_COLUMNS = `
  user_role TEXT NOT NULL,
  response_us_max INTEGER NOT NULL,
  response_histogram BLOB NOT NULL,
  PRIMARY KEY (bucket_start, user_role)`;

const METRIC_ROLLUP_COLUMNS = `
  metric_name TEXT NOT NULL,
  component TEXT NOT NULL,
  metric_unit TEXT NOT NULL,
  samples INTEGER NOT NULL,
  value_sum REAL NOT NULL,
  value_min REAL NOT NULL,
  value_max REAL NOT NULL,
  PRIMARY KEY (bucket_start, metric_name, component, metric_unit)`;

/**
 * Questions and content per UTC day, twice: once over all roles, keyed by day first (a range reads
 * one contiguous run), and once by role, keyed by role then day (a role's range is one run too).
 * One table keyed (day, …, role) would make every unfiltered answer read five times the rows.
 * They name the question or item by its integer id (`query_performance.id`, `content_performance.id`):
 * grouping a range by an integer costs half what grouping by the text keys does.
 */
const QUERY_DAY_COLUMNS = `
  query_ref INTEGER NOT NULL,
  asks INTEGER NOT NULL,
  successes INTEGER NOT NULL,
  response_us_sum INTEGER NOT NULL,
  rating_sum INTEGER NOT NULL,
  rating_count INTEGER NOT NULL`;

const CONTENT_DAY_COLUMNS = `
  content_ref INTEGER NOT NULL,
  accesses INTEGER NOT NULL,
  successes INTEGER NOT NULL,
  relevance_micro_sum INTEGER NOT NULL,
  relevance_count INTEGER NOT NULL`;

const ANALYTICS_SCHEMA = `
  CREATE TABLE rollup_minute (bucket_start INTEGER NOT NULL, ${MINUTE_ROLLUP_COLUMNS}) WITHOUT ROWID;
  CREATE TABLE rollup_hour (bucket_start INTEGER NOT NULL, ${ROLLUP_COLUMNS}) WITHOUT ROWID;
  CREATE TABLE rollup_day (bucket_start INTEGER NOT NULL, ${ROLLUP_COLUMNS}) WITHOUT ROWID;
  CREATE TABLE latency_minute (bucket_start INTEGER NOT NULL, ${LATENCY_COLUMNS}) WITHOUT ROWID;
  CREATE TABLE latency_hour (bucket_start INTEGER NOT NULL, ${LATENCY_COLUMNS}) WITHOUT ROWID;
  CREATE TABLE latency_day (bucket_start INTEGER NOT NULL, ${LATENCY_COLUMNS}) WITHOUT ROWID;

  CREATE TABLE session_analytics (
    session_id TEXT PRIMARY KEY,
    user_role TEXT NOT NULL,
    start_time INTEGER NOT NULL,
    start_query_type TEXT NOT NULL,
    last_activity INTEGER NOT NULL,
    total_queries INTEGER NOT NULL,
    successful_queries INTEGER NOT NULL,
    response_us_sum INTEGER NOT NULL,
    total_code_snippets INTEGER NOT NULL,
    total_citations INTEGER NOT NULL,
    rating_sum INTEGER NOT NULL,
    rating_count INTEGER NOT NULL,
    max_turn INTEGER NOT NULL,
    conversion_achieved INTEGER NOT NULL CHECK (conversion_achieved IN (0, 1)),
    avg_response_time REAL GENERATED ALWAYS AS (response_us_sum / 1e6 / total_queries) VIRTUAL,
    session_rating REAL GENERATED ALWAYS AS (CASE WHEN rating_count > 0 THEN CAST(rating_sum AS REAL) / rating_count END) VIRTUAL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE query_performance (
    id INTEGER PRIMARY KEY,
    query_hash TEXT NOT NULL UNIQUE,
    query_normalized TEXT NOT NULL,
    query_category TEXT NOT NULL,
    total_asks INTEGER NOT NULL,
    successes INTEGER NOT NULL,
    response_us_sum INTEGER NOT NULL,
    rating_sum INTEGER NOT NULL,
    rating_count INTEGER NOT NULL,
    success_rate REAL GENERATED ALWAYS AS (CAST(successes AS REAL) / total_asks) VIRTUAL,
    avg_response_time REAL GENERATED ALWAYS AS (response_us_sum / 1e6 / total_asks) VIRTUAL,
    avg_user_rating REAL GENERATED ALWAYS AS (CASE WHEN rating_count > 0 THEN CAST(rating_sum AS REAL) / rating_count END) VIRTUAL,
    popular_roles TEXT NOT NULL,
    first_asked INTEGER NOT NULL,
    last_asked INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX idx_query_performance_asks ON query_performance (total_asks DESC);

  CREATE TABLE query_daily (day INTEGER NOT NULL, ${QUERY_DAY_COLUMNS}, PRIMARY KEY (day, query_ref)) WITHOUT ROWID;
  CREATE TABLE query_daily_by_role (user_role TEXT NOT NULL, day INTEGER NOT NULL, ${QUERY_DAY_COLUMNS}, PRIMARY KEY (user_role, day, query_ref)) WITHOUT ROWID;

  CREATE TABLE content_performance (
    id INTEGER PRIMARY KEY,
    content_type TEXT NOT NULL,
    content_id TEXT NOT NULL,
    access_count INTEGER NOT NULL,
    successes INTEGER NOT NULL,
    relevance_micro_sum INTEGER NOT NULL,
    relevance_count INTEGER NOT NULL,
    avg_relevance_score REAL GENERATED ALWAYS AS (CASE WHEN relevance_count > 0 THEN relevance_micro_sum / 1e6 / relevance_count END) VIRTUAL,
    success_rate REAL GENERATED ALWAYS AS (CAST(successes AS REAL) / access_count) VIRTUAL,
    performance_score REAL GENERATED ALWAYS AS (${performanceScoreSql('successes', 'access_count', 'relevance_micro_sum', 'relevance_count')}) VIRTUAL,
    user_roles_accessing TEXT NOT NULL,
    first_accessed INTEGER NOT NULL,
    last_accessed INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (content_type, content_id)
  );
  CREATE INDEX idx_content_performance_score ON content_performance (performance_score DESC);

  CREATE TABLE content_daily (day INTEGER NOT NULL, ${CONTENT_DAY_COLUMNS}, PRIMARY KEY (day, content_ref)) WITHOUT ROWID;
  CREATE TABLE content_daily_by_role (user_role TEXT NOT NULL, day INTEGER NOT NULL, ${CONTENT_DAY_COLUMNS}, PRIMARY KEY (user_role, day, content_ref)) WITHOUT ROWID;

  CREATE TABLE system_performance (
    id INTEGER PRIMARY KEY,
    timestamp INTEGER NOT NULL,
    metric_name TEXT NOT NULL,
    metric_value REAL NOT NULL,
    metric_unit TEXT,
    component TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE metric_rollup_minute (bucket_start INTEGER NOT NULL, ${METRIC_ROLLUP_COLUMNS}) WITHOUT ROWID;
  CREATE TABLE metric_rollup_hour (bucket_start INTEGER NOT NULL, ${METRIC_ROLLUP_COLUMNS}) WITHOUT ROWID;
  CREATE TABLE metric_rollup_day (bucket_start INTEGER NOT NULL, ${METRIC_ROLLUP_COLUMNS}) WITHOUT ROWID;

  CREATE TABLE data_retention_policy (
    id INTEGER PRIMARY KEY,
    table_name TEXT NOT NULL UNIQUE,
    archive_after_days INTEGER,
    warm_retention_days INTEGER,
    retention_days INTEGER,
    last_cleanup INTEGER,
    cleanup_enabled INTEGER NOT NULL DEFAULT 1 CHECK (cleanup_enabled IN (0, 1)),
    description TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
`;

/**
 * The content performance score, as SQL over the named sum columns: Laplace-smoothed success rate
 * times relevance smoothed toward 0.5, both in [0, 1]. One access that succeeded scores
 * (1+1)/(1+2) · 0.5 = 0.33, not 1: an item earns a high score only with evidence.
 */
export function performanceScoreSql(successes: string, accesses: string, relevanceMicroSum: string, relevanceCount: string): string {
  return `((${successes}) + 1.0) / ((${accesses}) + 2) * ((${relevanceMicroSum}) / 1e6 + 0.5) / ((${relevanceCount}) + 1)`;
}
