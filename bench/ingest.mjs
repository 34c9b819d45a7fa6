// Ingest throughput: `strata ingest` end to end and in-process record(), against
// (a) raw better-sqlite3 batched inserts of the same rows into a plain table with no indexes, and
// (b) the naive design: one autocommitted INSERT per row into the plan's table, indexed on every
//     column a dashboard filters by (timestamp, session, role, type, success, query hash).
// Strata runs twice each way: with the hot tier alone (privacy off) and as the embedded default
// (hot tier + privacy processor: pseudonyms and PII scrubbing), as the privacy issue asks.
// A last row ingests a prefix of the same file with every question made distinct (a long tail, as
// real traffic has; the generator repeats a few hundred questions), hot tier only.
// Usage: node bench/ingest.mjs [--events 1000000] [--naive-events 50000] [--distinct-events 500000] (0 skips the long-tail row)
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { arg, betterSqlite3, formatRate, printTable, root, runMeasured, workspace } from './lib.mjs';

const events = arg('events', 1_000_000);
const naiveEvents = Math.min(events, arg('naive-events', 50_000));
const distinctEvents = Math.min(events, arg('distinct-events', 500_000));
const { writeWorkloadFile, generateWorkload } = await workspace('@strata/testing');
const { createStrata } = await workspace('@strata/core');
const { hotSqlitePlugin } = await workspace('@strata/hot-sqlite');
const { privacyPlugin } = await workspace('@strata/privacy');
// The privacy key comes from the environment here, so no key file is written into a real home.
const privacyEnv = { ...process.env, STRATA_PRIVACY_KEY: randomBytes(32).toString('hex') };
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
  async function cliRun(name, config, input = file, count = events) {
    const dataDir = join(work, `cli-${name}`);
    const args = [join(root, 'packages/cli/dist/bin.js'), 'ingest', input, '--json', '--data-dir', dataDir, '--log-level', 'error'];
    if (config) {
      const configFile = join(work, `${name}.config.json`);
      writeFileSync(configFile, JSON.stringify(config));
      args.push('--config', configFile);
    }
    const run = await runMeasured(process.execPath, args, { cwd: work, env: privacyEnv });
    if (run.code !== 0) throw new Error(`strata ingest (${name}) exited ${run.code}: ${run.stderr.slice(-2000)}`);
    const summary = JSON.parse(run.stdout.trim().split('\n').pop());
    if (summary.stored !== count) throw new Error(`strata ingest (${name}) stored ${summary.stored} of ${count}`);
    rmSync(dataDir, { recursive: true, force: true });
    return { rate: (count / run.ms) * 1000, peakMb: run.peakMb };
  }
  const cliPlain = await cliRun('hot-only', { plugins: ['hot-sqlite'] });
  const cliPrivate = await cliRun('embedded-default');

  // The long tail: the same events, each question made distinct, so every event creates its own
  // question rows (the generator's file repeats a few hundred questions).
  let cliDistinct;
  if (distinctEvents > 0) {
    const distinctFile = join(work, 'distinct.jsonl');
    const out = createWriteStream(distinctFile);
    let written = 0;
    for await (const line of lines()) {
      if (!line) continue;
      const event = JSON.parse(line);
      event.query = `${event.query} (case ${written})`;
      if (!out.write(`${JSON.stringify(event)}\n`)) await once(out, 'drain');
      if (++written >= distinctEvents) break;
    }
    await new Promise((resolve, reject) => out.end((error) => (error ? reject(error) : resolve())));
    cliDistinct = await cliRun('distinct-questions', { plugins: ['hot-sqlite'] }, distinctFile, written);
    cliDistinct.count = written;
  }

  // Strata in-process: record() as an assistant calls it, yielding to the event loop as a server would.
  const parsed = [...generateWorkload({ events: Math.min(events, 300_000), seed: 43 })];
  async function recordRun(name, plugins) {
    process.env.STRATA_PRIVACY_KEY = privacyEnv.STRATA_PRIVACY_KEY;
    const strata = await createStrata({
      config: { dataDir: join(work, `record-${name}`), plugins },
      cwd: work,
      catalog: { 'hot-sqlite': () => hotSqlitePlugin, privacy: () => privacyPlugin },
      logLevel: 'error',
      monitor: false,
    });
    const started = performance.now();
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
    const ms = performance.now() - started;
    const counters = strata.metrics();
    await strata.close();
    if (counters.stored !== parsed.length) throw new Error(`record() (${name}) stored ${counters.stored} of ${parsed.length} (dropped ${counters.dropped})`);
    return (parsed.length / ms) * 1000;
  }
  const recordPlain = await recordRun('hot-only', ['hot-sqlite']);
  const recordPrivate = await recordRun('with-privacy', ['hot-sqlite', 'privacy']);

  const row = (path, count, rate, peak) => [path, count, formatRate(rate), (rate / rawRate).toFixed(2), (rate / naiveRate).toFixed(2), peak];
  printTable(
    ['path', 'events', 'events/s', '× baseline (a)', '× naive (b)', 'peak RSS'],
    [
      row('(a) raw better-sqlite3, batched, no indexes', events, rawRate, '—'),
      row('(b) naive: row-by-row autocommit, 6 indexes', naiveCount, naiveRate, '—'),
      row('strata ingest (CLI), hot tier only', events, cliPlain.rate, `${cliPlain.peakMb.toFixed(0)} MB`),
      row('strata ingest (CLI), embedded default (+ privacy)', events, cliPrivate.rate, `${cliPrivate.peakMb.toFixed(0)} MB`),
      row('strata record() in process, hot tier only', parsed.length, recordPlain, '—'),
      row('strata record() in process, + privacy', parsed.length, recordPrivate, '—'),
      ...(cliDistinct ? [row('strata ingest (CLI), hot tier only, every question distinct', cliDistinct.count, cliDistinct.rate, `${cliDistinct.peakMb.toFixed(0)} MB`)] : []),
    ],
  );
  console.log(`\nprivacy on / off: CLI ${(cliPrivate.rate / cliPlain.rate).toFixed(2)}×, record() ${(recordPrivate / recordPlain).toFixed(2)}×`);
  console.log(`input file ${(statSync(file).size / 1e6).toFixed(1)} MB`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
