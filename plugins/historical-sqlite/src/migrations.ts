import type { Migration } from '@strata/hot-sqlite';

/**
 * The warm tier's schema history. Never edit a released migration: add a new one.
 *
 * Months are `YYYY-MM` text (the `MonthKey` of the lifecycle contracts; it sorts as time), days
 * INTEGER epoch ms of 00:00 UTC. Sums of seconds and relevances are INTEGER millionths
 * (`response_us_sum`: microseconds), as in hot-sqlite, so every aggregate is exact and the same
 * whatever sources, batches or order its rows arrived in. Every aggregate table is `WITHOUT ROWID`,
 * clustered on its key: the key is what the additive UPSERT and every range read use.
 */
export const HISTORICAL_SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'monthly_aggregates',
    up(db) {
      db.exec(MONTHLY_AGGREGATES_SCHEMA);
    },
  },
];

const MONTHLY_AGGREGATES_SCHEMA = `
  -- The plan's user_interactions_monthly: per month, role and query type.
  CREATE TABLE interactions_monthly (
    month TEXT NOT NULL,
    user_role TEXT NOT NULL,
    query_type TEXT NOT NULL,
    interactions INTEGER NOT NULL,
    successes INTEGER NOT NULL,
    response_us_sum INTEGER NOT NULL,
    response_us_max INTEGER NOT NULL,
    response_histogram BLOB NOT NULL,
    rating_sum INTEGER NOT NULL,
    rating_count INTEGER NOT NULL,
    code_snippets INTEGER NOT NULL,
    citations INTEGER NOT NULL,
    follow_ups INTEGER NOT NULL,
    PRIMARY KEY (month, user_role, query_type)
  ) WITHOUT ROWID;

  -- Query performance per month and role. The text and category repeat per row so a month holds
  -- everything needed to answer it alone; category is the query type of the row's earliest ask.
  CREATE TABLE questions_monthly (
    month TEXT NOT NULL,
    user_role TEXT NOT NULL,
    query_hash TEXT NOT NULL,
    query_normalized TEXT NOT NULL,
    query_category TEXT NOT NULL,
    first_asked INTEGER NOT NULL,
    last_asked INTEGER NOT NULL,
    asks INTEGER NOT NULL,
    successes INTEGER NOT NULL,
    response_us_sum INTEGER NOT NULL,
    rating_sum INTEGER NOT NULL,
    rating_count INTEGER NOT NULL,
    PRIMARY KEY (month, user_role, query_hash)
  ) WITHOUT ROWID;
  CREATE INDEX idx_questions_monthly_hash ON questions_monthly (query_hash);

  -- The plan's content_analytics_monthly: per month, role and knowledge item.
  CREATE TABLE content_monthly (
    month TEXT NOT NULL,
    user_role TEXT NOT NULL,
    content_type TEXT NOT NULL,
    content_id TEXT NOT NULL,
    accesses INTEGER NOT NULL,
    successes INTEGER NOT NULL,
    relevance_micro_sum INTEGER NOT NULL,
    relevance_count INTEGER NOT NULL,
    first_accessed INTEGER NOT NULL,
    last_accessed INTEGER NOT NULL,
    PRIMARY KEY (month, user_role, content_type, content_id)
  ) WITHOUT ROWID;
  CREATE INDEX idx_content_monthly_item ON content_monthly (content_type, content_id);

  -- The plan's business metrics, per UTC day and role; kept permanently (expireBefore leaves them).
  CREATE TABLE business_daily (
    day INTEGER NOT NULL,
    user_role TEXT NOT NULL,
    interactions INTEGER NOT NULL,
    successes INTEGER NOT NULL,
    response_us_sum INTEGER NOT NULL,
    response_us_max INTEGER NOT NULL,
    response_histogram BLOB NOT NULL,
    rating_sum INTEGER NOT NULL,
    rating_count INTEGER NOT NULL,
    code_snippets INTEGER NOT NULL,
    citations INTEGER NOT NULL,
    follow_ups INTEGER NOT NULL,
    PRIMARY KEY (day, user_role)
  ) WITHOUT ROWID;

  -- Historical benchmarks per month, role and query type, derived from interactions_monthly each
  -- time a month receives rows. '' in user_role or query_type stands for all of them (roles and
  -- query types are never empty). Kept permanently.
  CREATE TABLE performance_baselines (
    month TEXT NOT NULL,
    user_role TEXT NOT NULL,
    query_type TEXT NOT NULL,
    interactions INTEGER NOT NULL,
    successes INTEGER NOT NULL,
    response_us_sum INTEGER NOT NULL,
    p50_response_time REAL NOT NULL,
    p95_response_time REAL NOT NULL,
    max_response_time REAL NOT NULL,
    success_rate REAL GENERATED ALWAYS AS (CAST(successes AS REAL) / interactions) VIRTUAL,
    avg_response_time REAL GENERATED ALWAYS AS (response_us_sum / 1e6 / interactions) VIRTUAL,
    PRIMARY KEY (month, user_role, query_type)
  ) WITHOUT ROWID;

  -- The ledger: every source (archive partition) whose rows were added, in the same transaction
  -- as its aggregates, so a source is counted once however often a move is retried. Kept after
  -- its months expire, so an expired month is never brought back by a retry.
  CREATE TABLE aggregate_sources (
    source_id TEXT PRIMARY KEY,
    rows INTEGER NOT NULL,
    skipped_rows INTEGER NOT NULL,
    applied_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE aggregate_source_months (
    source_id TEXT NOT NULL,
    month TEXT NOT NULL,
    rows INTEGER NOT NULL,
    PRIMARY KEY (source_id, month)
  ) WITHOUT ROWID;

  -- Facts the tier keeps about itself, such as the month before which aggregates were expired.
  CREATE TABLE tier_state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
`;
