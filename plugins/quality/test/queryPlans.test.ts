import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect, it } from 'vitest';
import { HotSqliteQualitySource, QualityOptionsSchema, QualityRunner, QualityStore } from '../src/index.js';
import { fixture, writeSteadyWorkload } from './helpers.js';

// Scans that are fine: a constant row, the JSON list of session ids a lookup is given, the schema catalogue.
const HARMLESS_SCAN = /^SCAN (CONSTANT ROW|json_each\b|j\b|sqlite_master\b)/;

it('reads raw rows and rollups only through indexes, never by scanning a whole table', async () => {
  const f = fixture();
  await writeSteadyWorkload(f, { days: 2, perHour: 10 });
  const statements: string[] = [];
  const store = QualityStore.open({ file: join(f.dir, 'quality.db') });
  const runner = new QualityRunner({
    openSource: () => new HotSqliteQualitySource({ file: f.tier.file, verbose: (sql) => statements.push(sql) }),
    store,
    options: QualityOptionsSchema.parse({ volume: { seasonality: 'hour-of-day', minHistory: 2 }, rules: [{ name: 'fast', rule: 'responseTime < 60' }] }),
    now: () => f.clock.now(),
  });
  await runner.run();
  store.close();

  const db = new Database(f.tier.file, { readonly: true });
  try {
    const queries = [...new Set(statements.filter((sql) => /^\s*SELECT/i.test(sql)))];
    expect(queries.length > 10).toBe(true);
    for (const sql of queries) {
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((row) => row.detail);
      const scans = plan.filter((detail) => detail.startsWith('SCAN ') && !HARMLESS_SCAN.test(detail));
      expect(scans, sql).toEqual([]);
    }
  } finally {
    db.close();
  }
});
