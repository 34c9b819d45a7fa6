// The PostgreSQL hot tier: (1) ingest throughput from 1, 2 and 4 writer processes against
// PostgreSQL's own COPY of the same rows into a plain table (the baseline, same run); (2) p50/p95 of
// every insights question at 1M and 10M stored events, against the same question as GROUP BY over
// the raw rows of the same database. Skips with a message when PostgreSQL cannot be reached.
// Usage: node bench/postgres.mjs [--events 200000] [--sizes 1000000,10000000] [--runs 40] [--baseline-runs 3]
//        [--writers 1,2,4] [--url postgres://…] [--skip-ingest] [--skip-insights]
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { arg, formatRate, printTable, root, workspace } from './lib.mjs';

const url = String(arg('url', process.env.STRATA_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'));
const DAY = 86_400_000;
const DAYS = 90;
const END = Date.UTC(2026, 10, 1);
const START = END - DAYS * DAY;
/** Every data set is four shares (seeds 1–4, each a quarter of the span), so 1, 2 and 4 writers ingest the same rows. */
const SHARES = 4;

const pg = createRequire(join(root, 'plugins', 'hot-postgres', 'package.json'))('pg');
const hotPostgres = () => import(pathToFileURL(join(root, 'plugins', 'hot-postgres', 'dist', 'index.js')).href);

/** The events of one share, validated as the pipeline would, generated the same way in every process. */
async function* shareEvents(total, share) {
  const { createInteractionValidator } = await workspace('@strata/core');
  const { generateWorkload } = await workspace('@strata/testing');
  const validate = createInteractionValidator(undefined, () => END + DAY);
  const span = DAYS / SHARES;
  const options = { events: Math.floor(total / SHARES), seed: share + 1, start: START + share * span * DAY, days: span, networkFields: false };
  for (const input of generateWorkload(options)) {
    const checked = validate(input);
    if (checked.ok && checked.value.timestamp < END) yield checked.value;
  }
}

// ── child: one writer process ─────────────────────────────────────────────────────────────────
if (process.argv.includes('--child')) {
  const schema = String(arg('schema', ''));
  const total = arg('total', 0);
  const shares = String(arg('shares', '')).split(',').map(Number);
  const batchSize = arg('batch', 1_000);
  const { HotPostgresTier } = await hotPostgres();
  const tier = await HotPostgresTier.open({ connectionString: url, schema, poolSize: 2, statementTimeoutMs: 0, now: () => END });
  // Throughput runs generate their events before the clock starts; data-set builds (--stream) are
  // too large to hold, so they generate as they write (generation is a few percent of the time).
  const stream = process.argv.includes('--stream');
  const generate = async function* () {
    let batch = [];
    for (const share of shares) {
      for await (const event of shareEvents(total, share)) {
        batch.push(event);
        if (batch.length === batchSize) {
          yield batch;
          batch = [];
        }
      }
    }
    if (batch.length > 0) yield batch;
  };
  const prepared = [];
  if (!stream) for await (const batch of generate()) prepared.push(batch);
  process.stdout.write('ready\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  process.stdin.destroy();
  const started = performance.now();
  let inserted = 0;
  for await (const batch of stream ? generate() : prepared) inserted += (await tier.writeInteractions(batch)).inserted;
  const ms = performance.now() - started;
  await tier.close();
  process.stdout.write(`${JSON.stringify({ inserted, ms })}\n`);
  process.exit(0);
}

// ── parent ────────────────────────────────────────────────────────────────────────────────────
const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
try {
  await admin.connect();
} catch (error) {
  console.log(`postgres.mjs: skipped: PostgreSQL is not reachable at ${url} (${error.message}); start it or pass --url / STRATA_PG_URL`);
  process.exit(0);
}
admin.setTypeParser(20, Number);
const schemas = [];
const newSchema = (label) => {
  const schema = `bench_pg_${label}_${process.pid}_${schemas.length}`;
  schemas.push(schema);
  return schema;
};
const dropSchemas = async () => {
  for (const schema of schemas.splice(0)) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
};
process.on('SIGINT', async () => {
  await dropSchemas().catch(() => undefined);
  process.exit(130);
});

/** Starts writer processes on prepared shares, releases them together, and returns wall time for all to finish. */
async function ingest(schema, total, writers, batch = 1_000, stream = false) {
  const children = Array.from({ length: writers }, (_, index) => {
    const shares = Array.from({ length: SHARES }, (_, share) => share).filter((share) => share % writers === index);
    const child = spawn(process.execPath, [join(root, 'bench', 'postgres.mjs'), '--child', '--url', url, '--schema', schema, '--total', String(total), '--shares', shares.join(','), '--batch', String(batch), ...(stream ? ['--stream'] : [])], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    const line = (match) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = out.split('\n').find((candidate) => match.test(candidate));
          if (found) return resolve(found);
          if (child.exitCode !== null) return reject(new Error(`writer exited with ${child.exitCode}`));
          setTimeout(check, 20);
        };
        check();
      });
    return { child, line };
  });
  await Promise.all(children.map(({ line }) => line(/^ready$/)));
  const started = performance.now();
  for (const { child } of children) child.stdin.end('go\n');
  const results = await Promise.all(children.map(async ({ line }) => JSON.parse(await line(/^\{/))));
  return { ms: performance.now() - started, inserted: results.reduce((sum, result) => sum + result.inserted, 0) };
}

const COLUMNS = ['event_id', 'session_id', 'timestamp', 'user_role', 'query', 'query_hash', 'query_type', 'response_time', 'response_length', 'code_snippets_shown', 'citations_provided', 'success', 'user_rating', 'follow_up_query', 'conversation_turn', 'ip_hash', 'user_agent_hash', 'content', 'created_at'];

function csvField(value) {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) || text === '' ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The baseline: the same rows as CSV, loaded by psql's \copy into a plain table with no index or constraint. */
async function copyBaseline(total) {
  if (spawnSync('psql', ['--version']).status !== 0) return undefined;
  const { hashQuery, normalizeQuery } = await workspace('@strata/core');
  const directory = mkdtempSync(join(tmpdir(), 'strata-bench-pg-'));
  const file = join(directory, 'rows.csv');
  const out = createWriteStream(file);
  let rows = 0;
  for (let share = 0; share < SHARES; share += 1) {
    for await (const event of shareEvents(total, share)) {
      const values = [event.eventId, event.sessionId, event.timestamp, event.userRole, event.query, hashQuery(normalizeQuery(event.query)), event.queryType, event.responseTime, event.responseLength, event.codeSnippetsShown, event.citationsProvided, event.success, event.userRating, event.followUpQuery, event.conversationTurn, event.ipHash, event.userAgentHash, JSON.stringify(event.content), END];
      if (!out.write(`${values.map(csvField).join(',')}\n`)) await new Promise((resolve) => out.once('drain', resolve));
      rows += 1;
    }
  }
  await new Promise((resolve) => out.end(resolve));
  const schema = newSchema('copy');
  await admin.query(`CREATE SCHEMA "${schema}"`);
  await admin.query(`CREATE TABLE "${schema}".plain (event_id text, session_id text, timestamp bigint, user_role text, query text, query_hash text, query_type text,
    response_time float8, response_length bigint, code_snippets_shown bigint, citations_provided bigint, success boolean, user_rating smallint,
    follow_up_query boolean, conversation_turn bigint, ip_hash text, user_agent_hash text, content text, created_at bigint)`);
  const started = performance.now();
  const result = spawnSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-c', `\\copy "${schema}".plain (${COLUMNS.join(', ')}) FROM '${file}' WITH (FORMAT csv)`], { encoding: 'utf8' });
  const ms = performance.now() - started;
  rmSync(directory, { recursive: true, force: true });
  if (result.status !== 0) throw new Error(`psql \\copy failed: ${result.stderr}`);
  return { ms, rows };
}

// ── insights latency ─────────────────────────────────────────────────────────────────────────
function percentile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

async function time(work, count) {
  for (let i = 0; i < Math.min(3, count); i += 1) await work(i);
  const samples = [];
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    await work(i);
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 0.5), p95: percentile(samples, 0.95) };
}

const LAST_30 = { from: END - 30 * DAY, to: END };
const questions = [
  ['commonQuestions', (tier, i) => tier.insights.commonQuestions({ range: LAST_30, limit: 20, ...(i % 2 ? { userRole: 'student' } : {}) })],
  ['userBehaviour', (tier) => tier.insights.userBehaviour({ range: LAST_30 })],
  ['contentEffectiveness', (tier, i) => tier.insights.contentEffectiveness({ range: LAST_30, limit: 20, ...(i % 2 ? { userRole: 'recruiter' } : {}) })],
  ['businessMetrics', (tier, i) => tier.insights.businessMetrics({ range: LAST_30, ...(i % 2 ? { userRole: 'software_engineer' } : {}) })],
  ['trendingQueries', (tier) => tier.insights.trendingQueries({ range: LAST_30, limit: 20 })],
  ['systemPerformance', (tier) => tier.insights.systemPerformance({ range: { from: END - DAY, to: END }, granularity: 'hour' })],
  ['report', (tier) => tier.report({ range: LAST_30 })],
];

/** The naive design's answers on PostgreSQL: GROUP BY over the raw rows of the range. */
function baselineQueries(schema) {
  const t = `"${schema}".user_interactions`;
  const range = [LAST_30.from, LAST_30.to];
  const q = (sql) => () => admin.query(sql, range);
  return {
    commonQuestions: q(`SELECT query_hash, MIN(query), COUNT(*) AS n, AVG(success::int), AVG(response_time), AVG(user_rating) FROM ${t} WHERE timestamp >= $1 AND timestamp < $2 GROUP BY query_hash ORDER BY n DESC LIMIT 20`),
    userBehaviour: q(`SELECT user_role, COUNT(*), COUNT(DISTINCT session_id), AVG(success::int), AVG(response_time), AVG(user_rating), AVG(code_snippets_shown), AVG(citations_provided) FROM ${t} WHERE timestamp >= $1 AND timestamp < $2 GROUP BY user_role`),
    contentEffectiveness: q(`SELECT c->>'type' AS ty, c->>'id' AS id, COUNT(*) AS n, AVG((c->>'relevance')::float8), AVG(u.success::int) FROM ${t} u, jsonb_array_elements(u.content::jsonb) c WHERE u.timestamp >= $1 AND u.timestamp < $2 GROUP BY 1, 2 ORDER BY n DESC LIMIT 20`),
    businessMetrics: q(`SELECT timestamp / 86400000 AS day, COUNT(*), COUNT(DISTINCT session_id), AVG(success::int), AVG(response_time), AVG(user_rating) FROM ${t} WHERE timestamp >= $1 AND timestamp < $2 GROUP BY day ORDER BY day`),
    trendingQueries: q(`SELECT * FROM (SELECT query_hash, COUNT(*) FILTER (WHERE timestamp >= ${LAST_30.to - 7 * DAY}) AS recent, COUNT(*) FILTER (WHERE timestamp < ${LAST_30.to - 7 * DAY}) AS history
      FROM ${t} WHERE timestamp >= $1 AND timestamp < $2 GROUP BY query_hash) g ORDER BY recent * 4.0 / (history + 1) DESC LIMIT 20`),
    report: q(`SELECT COUNT(*), COUNT(DISTINCT session_id), AVG(success::int), AVG(response_time), AVG(user_rating) FROM ${t} WHERE timestamp >= $1 AND timestamp < $2`),
  };
}

// Schemas this run created are dropped however it ends.
try {
  const ingestRows = [];
  if (!process.argv.includes('--skip-ingest')) {
    const total = arg('events', 200_000);
    const writerCounts = String(arg('writers', '1,2,4')).split(',').map(Number);
    const copy = await copyBaseline(total);
    const baselineRate = copy ? copy.rows / (copy.ms / 1000) : undefined;
    if (copy) ingestRows.push(['baseline: psql \\copy into a plain table (no index)', copy.rows, formatRate(baselineRate), '1.00']);
    else console.log('(psql not found: the COPY baseline is skipped)');
    for (const writers of writerCounts) {
      const schema = newSchema(`ingest${writers}`);
      // Opened once first, so the writers measure ingest, not schema creation.
      await (await (await hotPostgres()).HotPostgresTier.open({ connectionString: url, schema, now: () => END })).close();
      const { ms, inserted } = await ingest(schema, total, writers);
      const rate = inserted / (ms / 1000);
      ingestRows.push([`hot-postgres writeInteractions, ${writers} process${writers > 1 ? 'es' : ''} (batches of 1,000)`, inserted, formatRate(rate), baselineRate ? (rate / baselineRate).toFixed(2) : '—']);
      await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
      schemas.splice(schemas.indexOf(schema), 1);
    }
    await dropSchemas();
    console.log(`\n### Ingest (${total.toLocaleString('en-US')} events over ${DAYS} days)\n`);
    printTable(['path', 'events', 'events/s', '× COPY'], ingestRows);
  }

  if (!process.argv.includes('--skip-insights')) {
    const sizes = String(arg('sizes', '1000000,10000000')).split(',').map(Number);
    const runs = arg('runs', 40);
    const baselineRuns = arg('baseline-runs', 3);
    const builders = arg('build-writers', 2);
    const buildBatch = arg('build-batch', 5_000);
    const { HotPostgresTier } = await hotPostgres();
    const results = new Map();
    const builds = [];
    for (const size of sizes) {
      const schema = newSchema(`insights${size}`);
      await (await HotPostgresTier.open({ connectionString: url, schema, now: () => END })).close();
      const built = await ingest(schema, size, builders, buildBatch, true);
      const tier = await HotPostgresTier.open({ connectionString: url, schema, now: () => END, statementTimeoutMs: 0 });
      // One sample per minute of three system metrics, as the monitor would write them.
      const metrics = [];
      for (let t = START; t < END; t += 60_000) {
        metrics.push({ timestamp: t, name: 'ingest_rate', value: size / (DAYS * 1440), unit: 'events/min', component: 'pipeline' });
        metrics.push({ timestamp: t, name: 'batch_write_ms', value: 5 + (t % 7), unit: 'ms', component: 'hot-postgres' });
        metrics.push({ timestamp: t, name: 'queue_depth', value: t % 100, unit: 'events', component: 'pipeline' });
        if (metrics.length >= 30_000) await tier.writeMetrics(metrics.splice(0));
      }
      if (metrics.length) await tier.writeMetrics(metrics);
      const tables = await admin.query(`SELECT tablename FROM pg_tables WHERE schemaname = $1`, [schema]);
      for (const { tablename } of tables.rows) await admin.query(`ANALYZE "${schema}"."${tablename}"`);
      const health = await tier.health();
      builds.push([size.toLocaleString('en-US'), built.inserted.toLocaleString('en-US'), `${(built.ms / 1000).toFixed(0)} s`, formatRate(built.inserted / (built.ms / 1000)), `${(health.details.schemaBytes / 2 ** 20).toFixed(0)} MB`]);
      const baseline = baselineQueries(schema);
      for (const [name, ask] of questions) {
        const rollup = await time((i) => ask(tier, i), runs);
        const naive = baseline[name] ? await time(() => baseline[name](), baselineRuns) : undefined;
        results.set(`${name}@${size}`, { rollup, naive });
      }
      await tier.close();
      await dropSchemas();
    }
    console.log(`\n### Data sets (built with ${builders} writer processes through writeInteractions, batches of ${buildBatch.toLocaleString('en-US')})\n`);
    printTable(['events asked', 'stored', 'build time', 'events/s', 'schema size'], builds);
    const fmt = (ms) => (ms === undefined ? '—' : ms < 10 ? ms.toFixed(2) : ms.toFixed(0));
    const rows = [];
    for (const [name] of questions) {
      for (const size of sizes) {
        const { rollup, naive } = results.get(`${name}@${size}`);
        const first = results.get(`${name}@${sizes[0]}`).rollup;
        rows.push([name, size.toLocaleString('en-US'), fmt(rollup.p50), fmt(rollup.p95), (rollup.p95 / first.p95).toFixed(2), fmt(naive?.p50), fmt(naive?.p95), naive ? (naive.p50 / rollup.p50).toFixed(0) : '—']);
      }
    }
    console.log(`\n### Insights latency (last 30 days, alternating role filters; ${runs} runs per question, GROUP BY ${baselineRuns})\n`);
    printTable(['question', 'events', 'p50 ms', 'p95 ms', `p95 × ${sizes[0].toLocaleString('en-US')}`, 'GROUP BY p50 ms', 'GROUP BY p95 ms', 'speed-up (p50)'], rows);
  }
} finally {
  await dropSchemas();
  await admin.end();
}
