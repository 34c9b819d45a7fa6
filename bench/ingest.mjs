// Ingest throughput: `strata ingest` end to end and in-process record(), against
// (a) raw better-sqlite3 batched inserts of the same rows into a plain table with no indexes, and
// (b) the naive design: one autocommitted INSERT per row into the plan's table, indexed on every
//     column a dashboard filters by (timestamp, session, role, type, success, query hash).
// Usage: node bench/ingest.mjs [--events 1000000] [--naive-events 50000]
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { arg, betterSqlite3, formatRate, printTable, root, runMeasured, workspace } from './lib.mjs';

const events = arg('events', 1_000_000);
const naiveEvents = Math.min(events, arg('naive-events', 50_000));
const { writeWorkloadFile, generateWorkload } = await workspace('@strata/testing');
const { createStrata } = await workspace('@strata/core');
const { hotSqlitePlugin } = await workspace('@strata/hot-sqlite');
const Database = betterSqlite3();

const work = mkdtempSync(join(tmpdir(), 'strata-bench-ingest-'));
const file = join(work, 'events.jsonl');
try {
  const bytes = await writeWorkloadFile(file, { events, seed: 42 });
  console.log(`workload: ${events.toLocaleString('en-US')} events, ${(bytes / 1e6).toFixed(1)} MB, ${Math.round(bytes / events)} bytes/event\n`);

  const COLUMNS = ['event_id', 'session_id', 'timestamp', 'user_role', 'query', 'query_type', 'response_time', 'response_length', 'code_snippets_shown', 'citations_provided', 'success', 'user_rating', 'follow_up_query', 'conversation_turn', 'ip_address', 'user_agent', 'content'];
  const toRow = (e) => [e.eventId, e.sessionId, e.timestamp, e.userRole, e.query, e.queryType, e.responseTime, e.responseLength ?? null, e.codeSnippetsShown ?? 0, e.citationsProvided ?? 0, e.success ? 1 : 0, e.userRating ?? null, e.followUpQuery ? 1 : 0, e.conversationTurn ?? 1, e.ipAddress ?? null, e.userAgent ?? null, JSON.stringify(e.content ?? [])];
  const createTable = (db) => db.exec(`CREATE TABLE user_interactions (${COLUMNS.map((c) => `${c} ${c === 'response_time' ? 'REAL' : c === 'timestamp' ? 'TEXT' : 'ANY'}`).join(', ')}) STRICT`);
  const lines = () => createInterface({ input: createReadStream(file), crlfDelay: Infinity });

  // (a) The physical limit: read, parse, insert in 1,000-row transactions, no indexes, no checks.
  const rawDb = new Database(join(work, 'raw.db'));
  rawDb.pragma('journal_mode = WAL');
  rawDb.pragma('synchronous = NORMAL');
  createTable(rawDb);
  const rawInsert = rawDb.prepare(`INSERT INTO user_interactions VALUES (${COLUMNS.map(() => '?').join(', ')})`);
  const rawBatch = rawDb.transaction((rows) => {
    for (const row of rows) rawInsert.run(row);
  });
  let started = performance.now();
  let pending = [];
  for await (const line of lines()) {
    if (!line) continue;
    pending.push(toRow(JSON.parse(line)));
    if (pending.length === 1_000) {
      rawBatch(pending);
      pending = [];
    }
  }
  if (pending.length) rawBatch(pending);
  const rawMs = performance.now() - started;
  rawDb.close();
  const rawRate = (events / rawMs) * 1000;

  // (b) The naive design, on a prefix of the workload (it is too slow for the whole of it).
  const naiveDb = new Database(join(work, 'naive.db'));
  naiveDb.pragma('journal_mode = WAL');
  naiveDb.pragma('synchronous = NORMAL');
  createTable(naiveDb);
  // The plan's original schema: an index on each column a dashboard filters or groups by.
  naiveDb.exec('ALTER TABLE user_interactions ADD COLUMN query_hash TEXT');
  for (const column of ['timestamp', 'session_id', 'user_role', 'query_type', 'success', 'query_hash']) naiveDb.exec(`CREATE INDEX idx_${column} ON user_interactions (${column})`);
  const naiveInsert = naiveDb.prepare(`INSERT INTO user_interactions VALUES (${COLUMNS.map(() => '?').join(', ')}, ?)`);
  started = performance.now();
  let naiveCount = 0;
  for await (const line of lines()) {
    if (!line) continue;
    const event = JSON.parse(line);
    naiveInsert.run([...toRow(event), createHash('md5').update(event.query).digest('hex')]);
    if (++naiveCount >= naiveEvents) break;
  }
  const naiveMs = performance.now() - started;
  naiveDb.close();
  const naiveRate = (naiveCount / naiveMs) * 1000;

  // Strata, end to end: the CLI as a user runs it, in its own process.
  const cliDataDir = join(work, 'cli-data');
  const cli = await runMeasured(process.execPath, [join(root, 'packages/cli/dist/bin.js'), 'ingest', file, '--json', '--data-dir', cliDataDir, '--log-level', 'error'], { cwd: work });
  if (cli.code !== 0) throw new Error(`strata ingest exited ${cli.code}: ${cli.stderr.slice(-2000)}`);
  const summary = JSON.parse(cli.stdout.trim().split('\n').pop());
  if (summary.stored !== events) throw new Error(`strata ingest stored ${summary.stored} of ${events}`);
  const cliRate = (events / cli.ms) * 1000;

  // Strata in-process: record() as an assistant calls it, yielding to the event loop as a server would.
  const parsed = [...generateWorkload({ events: Math.min(events, 300_000), seed: 43 })];
  const strata = await createStrata({ config: { dataDir: join(work, 'record-data') }, cwd: work, catalog: { 'hot-sqlite': () => hotSqlitePlugin }, logLevel: 'error' });
  started = performance.now();
  for (let i = 0; i < parsed.length; i += 1) {
    strata.record(parsed[i]);
    // A well-behaved producer: yield every 1,000 events, and wait while the queue is deep, so the
    // figure is the sustainable rate rather than how fast the queue fills.
    if (i % 1_000 === 999) {
      do await new Promise((resolve) => setImmediate(resolve));
      while (strata.metrics().queued > 20_000);
    }
  }
  await strata.flush();
  const recordMs = performance.now() - started;
  const counters = strata.metrics();
  await strata.close();
  if (counters.stored !== parsed.length) throw new Error(`record() stored ${counters.stored} of ${parsed.length} (dropped ${counters.dropped})`);
  const recordRate = (parsed.length / recordMs) * 1000;

  printTable(
    ['path', 'events', 'events/s', '× baseline (a)', '× naive (b)', 'peak RSS'],
    [
      ['(a) raw better-sqlite3, batched, no indexes', events, formatRate(rawRate), '1.00', (rawRate / naiveRate).toFixed(2), '—'],
      ['(b) naive: row-by-row autocommit, 6 indexes', naiveCount, formatRate(naiveRate), (naiveRate / rawRate).toFixed(2), '1.00', '—'],
      ['strata ingest (CLI, end to end)', events, formatRate(cliRate), (cliRate / rawRate).toFixed(2), (cliRate / naiveRate).toFixed(2), `${cli.peakMb.toFixed(0)} MB`],
      ['strata record() in process', parsed.length, formatRate(recordRate), (recordRate / rawRate).toFixed(2), (recordRate / naiveRate).toFixed(2), '—'],
    ],
  );
  console.log(`\ninput file ${(statSync(file).size / 1e6).toFixed(1)} MB; strata data dir written by the CLI run: ${cliDataDir}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
