// Insights cache: p50/p95 of each insights question answered cold (cache empty: lookup, compute,
// store) and warm (a hit), through the memory store and the Redis store, against the same
// question uncached (the hot tier's rollups) in the same run, on one hot tier.
// Usage: node bench/cache.mjs [--events 1000000] [--runs 200] [--cold-runs 40] [--redis redis://127.0.0.1:6379]
import { randomUUID } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { arg, printTable, root, workspace } from './lib.mjs';

const events = arg('events', 1_000_000);
const runs = arg('runs', 200);
const coldRuns = arg('cold-runs', 40);
const redisUrl = arg('redis', 'redis://127.0.0.1:6379');
const { cachedInsights, createInteractionValidator, createLogger } = await workspace('@strata/core');
const { writeWorkloadFile } = await workspace('@strata/testing');
const { HotSqliteTier } = await workspace('@strata/hot-sqlite');
const { createMemoryCacheStore, createRedisCacheStore } = await import(pathToFileURL(join(root, 'plugins', 'cache', 'dist', 'index.js')).href);

const DAY = 86_400_000;
const DAYS = 90;
const END = Date.UTC(2026, 10, 1);
const START = END - DAYS * DAY;
const LAST_30 = { from: END - 30 * DAY, to: END };

const questions = [
  ['commonQuestions', { range: LAST_30, limit: 20 }],
  ['userBehaviour', { range: LAST_30 }],
  ['contentEffectiveness', { range: LAST_30, limit: 20 }],
  ['businessMetrics', { range: LAST_30 }],
  ['trendingQueries', { range: LAST_30, limit: 20 }],
  ['systemPerformance', { range: { from: END - DAY, to: END }, granularity: 'hour' }],
];

function percentile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/** p50/p95 of `count` runs of `work`; `prepare` runs before each one, untimed. */
async function time(work, count, prepare = async () => {}) {
  const samples = [];
  for (let i = 0; i < count; i += 1) {
    await prepare();
    const started = performance.now();
    await work();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 0.5), p95: percentile(samples, 0.95) };
}

/** The workload as a JSONL file (generated once), ingested into a fresh hot tier in batches of 5,000. */
async function build(directory) {
  const file = join(directory, 'workload.jsonl');
  const started = performance.now();
  await writeWorkloadFile(file, { events, seed: 77, start: START, days: DAYS, networkFields: false });
  const tier = HotSqliteTier.open({ file: join(directory, 'hot.db') });
  const validate = createInteractionValidator(undefined, () => END + DAY);
  let batch = [];
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    if (!line) continue;
    batch.push(validate(JSON.parse(line)).value);
    if (batch.length === 5_000) {
      await tier.writeInteractions(batch);
      batch = [];
    }
  }
  if (batch.length) await tier.writeInteractions(batch);
  // One sample a minute of three system metrics, as the monitor would write them.
  let metrics = [];
  for (let t = START; t < END; t += 60_000) {
    metrics.push({ timestamp: t, name: 'ingest_rate', value: 100, unit: 'events/min', component: 'pipeline' });
    metrics.push({ timestamp: t, name: 'batch_write_ms', value: 5 + (t % 7), unit: 'ms', component: 'hot-sqlite' });
    metrics.push({ timestamp: t, name: 'queue_depth', value: t % 100, unit: 'events', component: 'pipeline' });
    if (metrics.length >= 30_000) {
      await tier.writeMetrics(metrics);
      metrics = [];
    }
  }
  if (metrics.length) await tier.writeMetrics(metrics);
  return { tier, seconds: (performance.now() - started) / 1000 };
}

async function openRedis(logger) {
  const prefix = `strata-bench:${randomUUID()}:`;
  const store = await createRedisCacheStore({ url: redisUrl, keyPrefix: prefix, connectTimeoutMs: 2_000, commandTimeoutMs: 2_000, logger });
  if (!(await store.connect())) {
    await store.close();
    return undefined;
  }
  const cleanUp = async () => {
    await store.close();
    const { createClient } = createRequire(join(root, 'plugins', 'cache', 'package.json'))('@redis/client');
    const client = createClient({ url: redisUrl });
    await client.connect();
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1_000 })) if (keys.length > 0) await client.unlink(keys);
    await client.close();
  };
  return { store, cleanUp };
}

const directory = mkdtempSync(join(tmpdir(), 'strata-bench-cache-'));
const rows = [];
try {
  const { tier, seconds } = await build(directory);
  console.error(`built ${events.toLocaleString('en-US')} events in ${seconds.toFixed(0)} s`);
  const logger = createLogger('warn');
  const stores = [{ name: 'memory', store: createMemoryCacheStore(), cleanUp: async () => {} }];
  const redis = await openRedis(logger);
  if (redis) stores.push({ name: 'redis', ...redis });
  else console.error(`Redis at ${redisUrl} is unreachable: its rows are left out`);

  const fmt = (ms) => (ms < 0.1 ? ms.toFixed(3) : ms < 10 ? ms.toFixed(2) : ms.toFixed(0));
  for (const [name, query] of questions) {
    const uncached = await time(() => tier.insights[name](query), runs);
    for (const { name: storeName, store } of stores) {
      const insights = cachedInsights(tier.insights, store);
      // Cold: the cache was emptied just before (outside the timing): lookup, computation and store.
      const cold = await time(() => insights[name](query), coldRuns, () => insights.invalidateAll());
      await insights[name](query);
      const warm = await time(() => insights[name](query), runs);
      rows.push([name, storeName, fmt(uncached.p50), fmt(uncached.p95), fmt(cold.p50), fmt(cold.p95), fmt(warm.p50), fmt(warm.p95), (uncached.p50 / warm.p50).toFixed(1)]);
    }
  }
  for (const { cleanUp } of stores) await cleanUp();
  await tier.close();
} finally {
  rmSync(directory, { recursive: true, force: true });
}

printTable(['question', 'store', 'uncached p50 ms', 'uncached p95 ms', 'cold p50 ms', 'cold p95 ms', 'warm p50 ms', 'warm p95 ms', 'warm speed-up (p50)'], rows);
console.log(`\n${events.toLocaleString('en-US')} events over ${DAYS} days; last-30-days questions; ${runs} uncached and warm runs, ${coldRuns} cold runs per row`);
