import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createStrata, type Clock, type Interaction, type PluginEntry, type StorageTier, type Strata } from '@strata/core';
import { historicalSqlitePlugin } from '@strata/historical-sqlite';
import { hotSqlitePlugin } from '@strata/hot-sqlite';
import { jsonArchivePlugin } from '@strata/json-archive';
import Database from 'better-sqlite3';
import { afterEach } from 'vitest';

export const DAY_MS = 86_400_000;
/** The clock of every test Strata: the workloads lie months before it. */
export const NOW = Date.UTC(2026, 5, 1);
export const clock: Clock = { now: () => NOW };

const made: string[] = [];
const opened: Strata[] = [];
afterEach(async () => {
  for (const strata of opened.splice(0)) await strata.close().catch(() => undefined);
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-exporters-'));
  made.push(dir);
  return dir;
}

export interface TestStrataOptions {
  cold?: boolean;
  warm?: boolean;
  plugins?: PluginEntry[];
}

/** A Strata on real files: hot-sqlite (writes inline), optionally the cold archive and the warm tier, closed after the test. */
export async function openStrata(dataDir: string, options: TestStrataOptions = {}): Promise<Strata> {
  const strata = await createStrata({
    config: {
      dataDir,
      plugins: [
        hotSqlitePlugin({ writer: 'inline' }),
        ...(options.cold ? [jsonArchivePlugin()] : []),
        ...(options.warm ? [historicalSqlitePlugin()] : []),
        ...(options.plugins ?? []),
      ],
      logLevel: 'silent',
    },
    clock,
    scheduleJobs: false,
    monitor: false,
  });
  opened.push(strata);
  return strata;
}

export async function* linesOf(values: readonly unknown[]): AsyncGenerator<string> {
  for (const value of values) yield typeof value === 'string' ? value : JSON.stringify(value);
}

/** Ingests events through the real ingest path and fails the test if any is refused. */
export async function ingestAll(strata: Strata, events: readonly unknown[]): Promise<void> {
  const summary = await strata.ingestLines(linesOf(events), { source: 'test' });
  if (summary.rejected > 0 || summary.failed > 0) throw new Error(`ingest refused ${summary.rejected + summary.failed} event(s)`);
}

/** Every interaction a tier holds, by event id. */
export async function rowsById(tier: StorageTier): Promise<Map<string, Interaction>> {
  const rows = new Map<string, Interaction>();
  for await (const batch of tier.scanInteractions({}, { batchSize: 1_000 })) for (const row of batch) rows.set(row.eventId, row);
  return rows;
}

/** A writable that keeps what it is given, as text. */
export function memoryStream(): Writable & { text(): string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  return Object.assign(stream, { text: () => Buffer.concat(chunks).toString('utf8') });
}

/**
 * The hot tier's rollups as rows free of insertion order: surrogate ids are replaced by the natural
 * keys they stand for, and bookkeeping times (`created_at`, `updated_at`) are left out.
 */
export function rollupSnapshot(dataDir: string): Record<string, unknown[]> {
  const db = new Database(join(dataDir, 'comprehensive_metrics.db'), { readonly: true, fileMustExist: true });
  try {
    const all = (sql: string) => db.prepare(sql).all();
    const latency = (table: string) => all(`SELECT bucket_start, user_role, response_us_max, hex(response_histogram) AS histogram FROM ${table} ORDER BY bucket_start, user_role`);
    return {
      rollup_minute: all('SELECT * FROM rollup_minute ORDER BY bucket_start, user_role, query_type'),
      rollup_hour: all('SELECT * FROM rollup_hour ORDER BY bucket_start, user_role, query_type'),
      rollup_day: all('SELECT * FROM rollup_day ORDER BY bucket_start, user_role, query_type'),
      latency_minute: latency('latency_minute'),
      latency_hour: latency('latency_hour'),
      latency_day: latency('latency_day'),
      session_analytics: all(
        `SELECT session_id, user_role, start_time, start_query_type, last_activity, total_queries, successful_queries, response_us_sum,
                total_code_snippets, total_citations, rating_sum, rating_count, max_turn, conversion_achieved FROM session_analytics ORDER BY session_id`,
      ),
      query_performance: all(
        `SELECT query_hash, query_normalized, query_category, total_asks, successes, response_us_sum, rating_sum, rating_count, popular_roles, first_asked, last_asked
           FROM query_performance ORDER BY query_hash`,
      ),
      query_daily: all(
        `SELECT d.day, q.query_hash, d.asks, d.successes, d.response_us_sum, d.rating_sum, d.rating_count
           FROM query_daily d JOIN query_performance q ON q.id = d.query_ref ORDER BY d.day, q.query_hash`,
      ),
      query_daily_by_role: all(
        `SELECT d.user_role, d.day, q.query_hash, d.asks, d.successes, d.response_us_sum, d.rating_sum, d.rating_count
           FROM query_daily_by_role d JOIN query_performance q ON q.id = d.query_ref ORDER BY d.user_role, d.day, q.query_hash`,
      ),
      content_performance: all(
        `SELECT content_type, content_id, access_count, successes, relevance_micro_sum, relevance_count, user_roles_accessing, first_accessed, last_accessed
           FROM content_performance ORDER BY content_type, content_id`,
      ),
      content_daily: all(
        `SELECT d.day, c.content_type, c.content_id, d.accesses, d.successes, d.relevance_micro_sum, d.relevance_count
           FROM content_daily d JOIN content_performance c ON c.id = d.content_ref ORDER BY d.day, c.content_type, c.content_id`,
      ),
      content_daily_by_role: all(
        `SELECT d.user_role, d.day, c.content_type, c.content_id, d.accesses, d.successes, d.relevance_micro_sum, d.relevance_count
           FROM content_daily_by_role d JOIN content_performance c ON c.id = d.content_ref ORDER BY d.user_role, d.day, c.content_type, c.content_id`,
      ),
    };
  } finally {
    db.close();
  }
}

/**
 * Interactions whose text fields hold everything that trips CSV and spreadsheets: commas, quotes,
 * CR and LF, leading `=`, `+`, `-`, `@`, tab and quote, and non-ASCII text.
 */
export function awkwardEvents(start: number): Record<string, unknown>[] {
  const texts = [
    'plain question',
    'a, b, and c?',
    'She said "hello", then left',
    'line one\nline two\r\nline three',
    '=HYPERLINK("http://evil.example","click")',
    '+SUM(A1:A2)',
    '-1+1',
    '@cmd',
    '\tstarts with a tab',
    '\rstarts with a carriage return',
    "'quoted already",
    "''=twice",
    " leading and trailing spaces ",
    'ünïcödé 🧠 and \u00a0 no-break space',
    '"',
    ',',
  ];
  return texts.map((query, index) => ({
    eventId: `awk-${index}`,
    sessionId: index % 2 === 0 ? `sess, "odd" ${index}` : `=sess-${index}`,
    timestamp: start + index * 61_000 + 7,
    userRole: index % 3 === 0 ? '-role' : 'software_engineer',
    query,
    queryType: 'technical',
    responseTime: 1.25 + index / 1000,
    responseLength: index % 4 === 0 ? null : 100 + index,
    codeSnippetsShown: index % 3,
    citationsProvided: 1,
    success: index % 5 !== 0,
    userRating: index % 2 === 0 ? null : (index % 5) + 1,
    followUpQuery: index % 2 === 1,
    conversationTurn: (index % 4) + 1,
    content:
      index % 3 === 0
        ? []
        : [
            { type: 'code_snippet', id: `=snip,${index}`, relevance: index % 2 === 0 ? null : 0.125 * (index % 8) },
            { type: 'career_kb', id: `kb "${index}"\nnext`, relevance: 0.5 },
          ],
  }));
}
