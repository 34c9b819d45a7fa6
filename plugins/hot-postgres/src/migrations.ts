import type { ClientBase } from 'pg';
import { DEFAULT_RETENTION_POLICIES, performanceScoreSql } from '@strata/hot-sqlite';
import type { Qualify } from './sqlNames.js';

/** One forward-only schema change. `up` runs inside a transaction together with the row that records it. */
export interface PgMigration {
  version: number;
  name: string;
  up(client: ClientBase, q: Qualify): Promise<void>;
}

/**
 * The hot tier's schema history on PostgreSQL, the same tables and rollups as hot-sqlite's (see
 * the README for the differences in types, partitioning and deduplication). Never edit a released
 * migration: add a new one.
 *
 * Every text column that is a key or an ordering is `COLLATE "C"`: byte order of UTF-8, which is
 * code point order, the order SQLite's BINARY collation and hot-sqlite's `compareText` use. Ties
 * and pages therefore come out the same as hot-sqlite's whatever the database's own collation is.
 */
export const HOT_POSTGRES_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'user_interactions',
    async up(client, q) {
      await client.query(`
        CREATE SEQUENCE ${q('user_interactions_id_seq')} AS bigint;
        CREATE TABLE ${q('user_interactions')} (
          id bigint NOT NULL DEFAULT nextval('${q('user_interactions_id_seq')}'),
          event_id text COLLATE "C" NOT NULL,
          session_id text COLLATE "C" NOT NULL,
          timestamp bigint NOT NULL,
          user_role text COLLATE "C" NOT NULL,
          query text NOT NULL,
          query_hash text COLLATE "C" NOT NULL,
          query_type text COLLATE "C" NOT NULL,
          response_time double precision NOT NULL CHECK (response_time >= 0),
          response_length bigint,
          code_snippets_shown bigint NOT NULL DEFAULT 0,
          citations_provided bigint NOT NULL DEFAULT 0,
          success boolean NOT NULL,
          user_rating smallint CHECK (user_rating BETWEEN 1 AND 5),
          follow_up_query boolean NOT NULL DEFAULT false,
          conversation_turn bigint NOT NULL DEFAULT 1 CHECK (conversation_turn >= 1),
          ip_hash text,
          user_agent_hash text,
          content text NOT NULL DEFAULT '[]',
          created_at bigint NOT NULL
        ) PARTITION BY RANGE (timestamp);
        CREATE INDEX user_interactions_timestamp_id ON ${q('user_interactions')} (timestamp, id);
        CREATE INDEX user_interactions_session ON ${q('user_interactions')} (session_id);
        -- Rows for a month without a partition land here; creating that month's partition moves them.
        CREATE TABLE ${q('user_interactions_default')} PARTITION OF ${q('user_interactions')} DEFAULT;

        -- A unique index on a partitioned table must include the partition key, so "one row per
        -- eventId" across months is kept here: the batch writer inserts ids first, in the same
        -- transaction, and stores only the events whose id was new.
        CREATE TABLE ${q('interaction_ids')} (
          event_id text COLLATE "C" PRIMARY KEY,
          timestamp bigint NOT NULL
        );
        CREATE INDEX interaction_ids_timestamp ON ${q('interaction_ids')} (timestamp);
      `);
    },
  },
  {
    version: 2,
    name: 'rollups_and_analytics_tables',
    async up(client, q) {
      await client.query(analyticsSchema(q));
      await client.query(histogramMergeFunction(q));
      const now = Date.now();
      for (const policy of DEFAULT_RETENTION_POLICIES) {
        await client.query(
          `INSERT INTO ${q('data_retention_policy')} (table_name, archive_after_days, warm_retention_days, retention_days, cleanup_enabled, description, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
          [policy.table, policy.archiveAfterDays, policy.warmRetentionDays, policy.retentionDays, policy.cleanupEnabled, policy.description, now],
        );
      }
    },
  },
  {
    version: 3,
    name: 'lifecycle_state',
    async up(client, q) {
      // tier_state holds the few facts retention leaves behind (how far detailed rollups were pruned);
      // the time index lets retention expire old metric samples without scanning the table.
      await client.query(`
        CREATE TABLE ${q('tier_state')} (key text COLLATE "C" PRIMARY KEY, value bigint NOT NULL);
        CREATE INDEX system_performance_timestamp ON ${q('system_performance')} (timestamp);
      `);
    },
  },
];

const ROLLUP_MEASURES = `
  user_role text COLLATE "C" NOT NULL,
  query_type text COLLATE "C" NOT NULL,
  interactions bigint NOT NULL,
  successes bigint NOT NULL,
  response_us_sum bigint NOT NULL,
  rating_sum bigint NOT NULL,
  rating_count bigint NOT NULL,
  code_snippets bigint NOT NULL,
  citations bigint NOT NULL,
  follow_ups bigint NOT NULL,`;
const ROLLUP_KEY = `
  PRIMARY KEY (bucket_start, user_role, query_type)`;
const MINUTE_ROLLUP_COLUMNS = `${ROLLUP_MEASURES}${ROLLUP_KEY}`;
const ROLLUP_COLUMNS = `${ROLLUP_MEASURES}
  sessions_started bigint NOT NULL,
  sessions_converted bigint NOT NULL,${ROLLUP_KEY}`;
const LATENCY_COLUMNS = `
  user_role text COLLATE "C" NOT NULL,
  response_us_max bigint NOT NULL,
  response_histogram bytea NOT NULL,
  PRIMARY KEY (bucket_start, user_role)`;
const METRIC_ROLLUP_COLUMNS = `
  metric_name text COLLATE "C" NOT NULL,
  component text COLLATE "C" NOT NULL,
  metric_unit text COLLATE "C" NOT NULL,
  samples bigint NOT NULL,
  value_sum double precision NOT NULL,
  value_min double precision NOT NULL,
  value_max double precision NOT NULL,
  PRIMARY KEY (bucket_start, metric_name, component, metric_unit)`;
const QUERY_DAY_COLUMNS = `
  query_ref bigint NOT NULL,
  asks bigint NOT NULL,
  successes bigint NOT NULL,
  response_us_sum bigint NOT NULL,
  rating_sum bigint NOT NULL,
  rating_count bigint NOT NULL`;
const CONTENT_DAY_COLUMNS = `
  content_ref bigint NOT NULL,
  accesses bigint NOT NULL,
  successes bigint NOT NULL,
  relevance_micro_sum bigint NOT NULL,
  relevance_count bigint NOT NULL`;

/**
 * The content score as hot-sqlite computes it, in float8 step by step (the same IEEE operations in
 * the same order), so both tiers store bit-identical scores and rank ties the same way.
 */
export function performanceScoreFloat8(successes: string, accesses: string, relevanceMicroSum: string, relevanceCount: string): string {
  return performanceScoreSql(`(${successes})::float8`, `(${accesses})::float8`, `(${relevanceMicroSum})::float8`, `(${relevanceCount})::float8`);
}

function analyticsSchema(q: Qualify): string {
  return `
  CREATE TABLE ${q('rollup_minute')} (bucket_start bigint NOT NULL, ${MINUTE_ROLLUP_COLUMNS});
  CREATE TABLE ${q('rollup_hour')} (bucket_start bigint NOT NULL, ${ROLLUP_COLUMNS});
  CREATE TABLE ${q('rollup_day')} (bucket_start bigint NOT NULL, ${ROLLUP_COLUMNS});
  CREATE TABLE ${q('latency_minute')} (bucket_start bigint NOT NULL, ${LATENCY_COLUMNS});
  CREATE TABLE ${q('latency_hour')} (bucket_start bigint NOT NULL, ${LATENCY_COLUMNS});
  CREATE TABLE ${q('latency_day')} (bucket_start bigint NOT NULL, ${LATENCY_COLUMNS});

  CREATE TABLE ${q('session_analytics')} (
    session_id text COLLATE "C" PRIMARY KEY,
    user_role text COLLATE "C" NOT NULL,
    start_time bigint NOT NULL,
    start_query_type text COLLATE "C" NOT NULL,
    last_activity bigint NOT NULL,
    total_queries bigint NOT NULL,
    successful_queries bigint NOT NULL,
    response_us_sum bigint NOT NULL,
    total_code_snippets bigint NOT NULL,
    total_citations bigint NOT NULL,
    rating_sum bigint NOT NULL,
    rating_count bigint NOT NULL,
    max_turn bigint NOT NULL,
    conversion_achieved smallint NOT NULL CHECK (conversion_achieved IN (0, 1)),
    avg_response_time double precision GENERATED ALWAYS AS (response_us_sum::float8 / 1e6 / NULLIF(total_queries, 0)) STORED,
    session_rating double precision GENERATED ALWAYS AS (CASE WHEN rating_count > 0 THEN rating_sum::float8 / rating_count END) STORED,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
  );

  -- Ids are reserved by the batch writer (nextval) in the order questions are first stored, so
  -- ties "in the order first asked" and page cursors match hot-sqlite's.
  CREATE SEQUENCE ${q('query_performance_id_seq')} AS bigint;
  CREATE TABLE ${q('query_performance')} (
    id bigint PRIMARY KEY,
    query_hash text COLLATE "C" NOT NULL UNIQUE,
    query_normalized text NOT NULL,
    query_category text COLLATE "C" NOT NULL,
    total_asks bigint NOT NULL,
    successes bigint NOT NULL,
    response_us_sum bigint NOT NULL,
    rating_sum bigint NOT NULL,
    rating_count bigint NOT NULL,
    success_rate double precision GENERATED ALWAYS AS (successes::float8 / NULLIF(total_asks, 0)) STORED,
    avg_response_time double precision GENERATED ALWAYS AS (response_us_sum::float8 / 1e6 / NULLIF(total_asks, 0)) STORED,
    avg_user_rating double precision GENERATED ALWAYS AS (CASE WHEN rating_count > 0 THEN rating_sum::float8 / rating_count END) STORED,
    first_asked bigint NOT NULL,
    last_asked bigint NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
  );
  CREATE INDEX query_performance_asks ON ${q('query_performance')} (total_asks DESC, id);
  -- hot-sqlite's popular_roles JSON as rows: additive upserts need no read-merge-write under concurrency.
  CREATE TABLE ${q('query_role_counts')} (
    query_ref bigint NOT NULL,
    user_role text COLLATE "C" NOT NULL,
    asks bigint NOT NULL,
    PRIMARY KEY (query_ref, user_role)
  );

  CREATE TABLE ${q('query_daily')} (day bigint NOT NULL, ${QUERY_DAY_COLUMNS}, PRIMARY KEY (day, query_ref));
  CREATE TABLE ${q('query_daily_by_role')} (user_role text COLLATE "C" NOT NULL, day bigint NOT NULL, ${QUERY_DAY_COLUMNS}, PRIMARY KEY (user_role, day, query_ref));

  CREATE SEQUENCE ${q('content_performance_id_seq')} AS bigint;
  CREATE TABLE ${q('content_performance')} (
    id bigint PRIMARY KEY,
    content_type text COLLATE "C" NOT NULL,
    content_id text COLLATE "C" NOT NULL,
    access_count bigint NOT NULL,
    successes bigint NOT NULL,
    relevance_micro_sum bigint NOT NULL,
    relevance_count bigint NOT NULL,
    avg_relevance_score double precision GENERATED ALWAYS AS (CASE WHEN relevance_count > 0 THEN relevance_micro_sum::float8 / 1e6 / relevance_count END) STORED,
    success_rate double precision GENERATED ALWAYS AS (successes::float8 / NULLIF(access_count, 0)) STORED,
    performance_score double precision GENERATED ALWAYS AS (${performanceScoreFloat8('successes', 'access_count', 'relevance_micro_sum', 'relevance_count')}) STORED,
    first_accessed bigint NOT NULL,
    last_accessed bigint NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    UNIQUE (content_type, content_id)
  );
  CREATE INDEX content_performance_score ON ${q('content_performance')} (performance_score DESC, id);
  CREATE TABLE ${q('content_role_counts')} (
    content_ref bigint NOT NULL,
    user_role text COLLATE "C" NOT NULL,
    accesses bigint NOT NULL,
    PRIMARY KEY (content_ref, user_role)
  );

  CREATE TABLE ${q('content_daily')} (day bigint NOT NULL, ${CONTENT_DAY_COLUMNS}, PRIMARY KEY (day, content_ref));
  CREATE TABLE ${q('content_daily_by_role')} (user_role text COLLATE "C" NOT NULL, day bigint NOT NULL, ${CONTENT_DAY_COLUMNS}, PRIMARY KEY (user_role, day, content_ref));

  CREATE TABLE ${q('system_performance')} (
    id bigserial PRIMARY KEY,
    timestamp bigint NOT NULL,
    metric_name text COLLATE "C" NOT NULL,
    metric_value double precision NOT NULL,
    metric_unit text,
    component text,
    created_at bigint NOT NULL
  );
  CREATE TABLE ${q('metric_rollup_minute')} (bucket_start bigint NOT NULL, ${METRIC_ROLLUP_COLUMNS});
  CREATE TABLE ${q('metric_rollup_hour')} (bucket_start bigint NOT NULL, ${METRIC_ROLLUP_COLUMNS});
  CREATE TABLE ${q('metric_rollup_day')} (bucket_start bigint NOT NULL, ${METRIC_ROLLUP_COLUMNS});

  CREATE TABLE ${q('data_retention_policy')} (
    id bigserial PRIMARY KEY,
    table_name text COLLATE "C" NOT NULL UNIQUE,
    archive_after_days integer,
    warm_retention_days integer,
    retention_days integer,
    last_cleanup bigint,
    cleanup_enabled boolean NOT NULL DEFAULT true,
    description text NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
  );
`;
}

/**
 * The sum of two response-time histograms in hot-sqlite's sparse encoding (varint bin delta, varint
 * count, bins increasing), merged on the server inside the UPSERT: the row is locked by the
 * conflicting insert, so concurrent writers add their counts one after the other and none is lost.
 * A merge walk over both encodings, O(bytes); the result is canonical (the bytes JavaScript's
 * `mergeHistograms` gives, which the tests check).
 */
function histogramMergeFunction(q: Qualify): string {
  const readEntry = (side: 'a' | 'b') => `
    IF need_${side} THEN
      IF p${side} < len_${side} THEN
        FOR part IN 1..2 LOOP
          v := 0;
          scale := 1;
          LOOP
            octet := get_byte(${side}, p${side});
            p${side} := p${side} + 1;
            v := v + (octet & 127) * scale;
            scale := scale * 128;
            EXIT WHEN octet < 128;
          END LOOP;
          IF part = 1 THEN bin_${side} := bin_${side} + v + 1; ELSE count_${side} := v; END IF;
        END LOOP;
      ELSE
        live_${side} := false;
      END IF;
      need_${side} := false;
    END IF;`;
  return `
  CREATE FUNCTION ${q('strata_histogram_merge')}(a bytea, b bytea) RETURNS bytea
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
  DECLARE
    len_a integer := coalesce(octet_length(a), 0);
    len_b integer := coalesce(octet_length(b), 0);
    pa integer := 0;
    pb integer := 0;
    bin_a bigint := -1;
    bin_b bigint := -1;
    count_a bigint := 0;
    count_b bigint := 0;
    live_a boolean := len_a > 0;
    live_b boolean := len_b > 0;
    need_a boolean := true;
    need_b boolean := true;
    bin bigint;
    total bigint;
    previous bigint := -1;
    v bigint;
    scale bigint;
    octet integer;
    part integer;
    hex text := '';
  BEGIN
    IF NOT live_b THEN RETURN coalesce(a, '\\x'::bytea); END IF;
    IF NOT live_a THEN RETURN b; END IF;
    LOOP
      ${readEntry('a')}
      ${readEntry('b')}
      EXIT WHEN NOT live_a AND NOT live_b;
      IF live_a AND (NOT live_b OR bin_a < bin_b) THEN
        bin := bin_a; total := count_a; need_a := true;
      ELSIF live_b AND (NOT live_a OR bin_b < bin_a) THEN
        bin := bin_b; total := count_b; need_b := true;
      ELSE
        bin := bin_a; total := count_a + count_b; need_a := true; need_b := true;
      END IF;
      IF total <> 0 THEN
        FOR part IN 1..2 LOOP
          v := CASE WHEN part = 1 THEN bin - previous - 1 ELSE total END;
          WHILE v >= 128 LOOP
            hex := hex || lpad(to_hex((v % 128)::integer | 128), 2, '0');
            v := v / 128;
          END LOOP;
          hex := hex || lpad(to_hex(v::integer), 2, '0');
        END LOOP;
        previous := bin;
      END IF;
    END LOOP;
    RETURN decode(hex, 'hex');
  END
  $fn$;`;
}
