// Dashboard latency: p50 and p95 of each insights question at 100k, 1M and 10M stored events,
// answered from the hot tier's rollups, against the same question as GROUP BY over the raw table
// (the naive design) on the same database, in the same run.
// Every size is built first; then each round asks every question once at every size, so a noisy
// moment of this shared machine falls on all sizes alike instead of on whichever was being timed.
// Usage: node bench/dashboard.mjs [--sizes 100000,1000000,10000000] [--runs 200] [--baseline-runs 5]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arg, betterSqlite3, printTable, workspace } from './lib.mjs';

const sizes = String(arg('sizes', '100000,1000000,10000000')).split(',').map(Number);
const runs = arg('runs', 200);
const baselineRuns = arg('baseline-runs', 5);
const { createInteractionValidator } = await workspace('@strata/core');
const { generateWorkload } = await workspace('@strata/testing');
const { HotSqliteTier } = await workspace('@strata/hot-sqlite');
const Database = betterSqlite3();

const DAY = 86_400_000;
const DAYS = 90;
const END = Date.UTC(2026, 10, 1);
const START = END - DAYS * DAY;
const LAST_30 = { from: END - 30 * DAY, to: END };

function percentile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

function summarise(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95) };
}

async function time(work, count) {
  for (let i = 0; i < Math.min(3, count); i += 1) await work(i);
  const samples = [];
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    await work(i);
    samples.push(performance.now() - started);
  }
  return summarise(samples);
}

async function build(directory, size) {
  const tier = HotSqliteTier.open({ file: join(directory, 'hot.db') });
  const validate = createInteractionValidator(undefined, () => END + DAY);
  const started = performance.now();
  let batch = [];
  for (const input of generateWorkload({ events: size, seed: 77, start: START, days: DAYS, networkFields: false })) {
    const checked = validate(input);
    batch.push(checked.value);
    if (batch.length === 5_000) {
      await tier.writeInteractions(batch);
      batch = [];
    }
  }
  if (batch.length) await tier.writeInteractions(batch);
  // One sample per minute of three system metrics, as the monitor would write them.
  const metrics = [];
  for (let t = START; t < END; t += 60_000) {
    metrics.push({ timestamp: t, name: 'ingest_rate', value: size / (DAYS * 1440), unit: 'events/min', component: 'pipeline' });
    metrics.push({ timestamp: t, name: 'batch_write_ms', value: 5 + (t % 7), unit: 'ms', component: 'hot-sqlite' });
    metrics.push({ timestamp: t, name: 'queue_depth', value: t % 100, unit: 'events', component: 'pipeline' });
    if (metrics.length >= 30_000) await tier.writeMetrics(metrics.splice(0));
  }
  if (metrics.length) await tier.writeMetrics(metrics);
  return { tier, buildSeconds: (performance.now() - started) / 1000 };
}

// The naive design's answers: GROUP BY over the raw rows of the range.
function baselineQueries(db) {
  const range = [LAST_30.from, LAST_30.to];
  const q = (sql) => {
    const statement = db.prepare(sql);
    return () => statement.all(...range);
  };
  return {
    commonQuestions: q(`SELECT query_hash, MIN(query), COUNT(*) AS n, AVG(success), AVG(response_time), AVG(user_rating) FROM user_interactions WHERE timestamp >= ? AND timestamp < ? GROUP BY query_hash ORDER BY n DESC LIMIT 20`),
    userBehaviour: q(`SELECT user_role, COUNT(*), COUNT(DISTINCT session_id), AVG(success), AVG(response_time), AVG(user_rating), AVG(code_snippets_shown), AVG(citations_provided) FROM user_interactions WHERE timestamp >= ? AND timestamp < ? GROUP BY user_role`),
    contentEffectiveness: q(`SELECT json_extract(c.value, '$.type') AS t, json_extract(c.value, '$.id') AS i, COUNT(*) AS n, AVG(json_extract(c.value, '$.relevance')), AVG(u.success) FROM user_interactions u, json_each(u.content) c WHERE u.timestamp >= ? AND u.timestamp < ? GROUP BY t, i ORDER BY n DESC LIMIT 20`),
    businessMetrics: q(`SELECT timestamp / 86400000 AS day, COUNT(*), COUNT(DISTINCT session_id), AVG(success), AVG(response_time), AVG(user_rating) FROM user_interactions WHERE timestamp >= ? AND timestamp < ? GROUP BY day ORDER BY day`),
    trendingQueries: q(`SELECT query_hash, SUM(timestamp >= ${LAST_30.to - 7 * DAY}) AS recent, SUM(timestamp < ${LAST_30.to - 7 * DAY}) AS history FROM user_interactions WHERE timestamp >= ? AND timestamp < ? GROUP BY query_hash ORDER BY recent * 4.0 / (history + 1) DESC LIMIT 20`),
    report: q(`SELECT COUNT(*), COUNT(DISTINCT session_id), AVG(success), AVG(response_time), AVG(user_rating) FROM user_interactions WHERE timestamp >= ? AND timestamp < ?`),
  };
}

const questions = [
  ['commonQuestions', (tier, i) => tier.insights.commonQuestions({ range: LAST_30, limit: 20, ...(i % 2 ? { userRole: 'student' } : {}) })],
  ['userBehaviour', (tier) => tier.insights.userBehaviour({ range: LAST_30 })],
  ['contentEffectiveness', (tier, i) => tier.insights.contentEffectiveness({ range: LAST_30, limit: 20, ...(i % 2 ? { userRole: 'recruiter' } : {}) })],
  ['businessMetrics', (tier, i) => tier.insights.businessMetrics({ range: LAST_30, ...(i % 2 ? { userRole: 'software_engineer' } : {}) })],
  ['trendingQueries', (tier) => tier.insights.trendingQueries({ range: LAST_30, limit: 20 })],
  ['systemPerformance', (tier) => tier.insights.systemPerformance({ range: { from: END - DAY, to: END }, granularity: 'hour' })],
  ['report', (tier) => tier.report({ range: LAST_30 })],
];

const results = new Map();
const built = [];
try {
  for (const size of sizes) {
    const directory = mkdtempSync(join(tmpdir(), 'strata-bench-dash-'));
    built.push({ size, directory });
    const { tier, buildSeconds } = await build(directory, size);
    console.error(`built ${size.toLocaleString('en-US')} events in ${buildSeconds.toFixed(0)} s`);
    Object.assign(built.at(-1), { tier, db: new Database(join(directory, 'hot.db'), { readonly: true }) });
  }
  // The builds leave gigabytes of dirty pages; timing while the kernel writes them back would
  // charge the write-back to whichever size was being asked.
  execFileSync('sync');

  // Rollup answers, interleaved: round i asks every question at every size, after 3 warm-up rounds.
  const samples = new Map(questions.flatMap(([name]) => sizes.map((size) => [`${name}@${size}`, []])));
  for (let i = -3; i < runs; i += 1) {
    for (const [name, ask] of questions) {
      for (const { size, tier } of built) {
        const started = performance.now();
        await ask(tier, i);
        if (i >= 0) samples.get(`${name}@${size}`).push(performance.now() - started);
      }
    }
  }
  // The naive GROUP BY takes seconds at 10M, so it is timed on its own, size by size.
  for (const { size, db } of built) {
    const baseline = baselineQueries(db);
    for (const [name] of questions) {
      const naive = baseline[name] ? await time(() => baseline[name](), size >= 10_000_000 ? Math.min(baselineRuns, 3) : baselineRuns) : undefined;
      results.set(`${name}@${size}`, { rollup: summarise(samples.get(`${name}@${size}`)), naive });
    }
  }
} finally {
  for (const { db, tier, directory } of built) {
    db?.close();
    await tier?.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

const fmt = (ms) => (ms === undefined ? '—' : ms < 10 ? ms.toFixed(2) : ms.toFixed(0));
const rows = [];
for (const [name] of questions) {
  for (const size of sizes) {
    const { rollup, naive } = results.get(`${name}@${size}`);
    const first = results.get(`${name}@${sizes[0]}`).rollup;
    rows.push([
      name,
      size.toLocaleString('en-US'),
      fmt(rollup.p50),
      fmt(rollup.p95),
      (rollup.p95 / first.p95).toFixed(2),
      fmt(naive?.p50),
      fmt(naive?.p95),
      naive ? (naive.p50 / rollup.p50).toFixed(0) : '—',
    ]);
  }
}
printTable(['question', 'events', 'p50 ms', 'p95 ms', `p95 × ${sizes[0].toLocaleString('en-US')}`, 'GROUP BY p50 ms', 'GROUP BY p95 ms', 'speed-up (p50)'], rows);
console.log(`\n${runs} interleaved runs per question and size; targets: p95 < 10 ms at 10M; the 10M p95 no more than 2× the 100k p95`);
