import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInteractionValidator, DEFAULT_EVENT_LIMITS, type Interaction } from '@strata/core';
import { HotSqliteTier } from '@strata/hot-sqlite';
import { createFakeClock, generateWorkload, type FakeClock } from '@strata/testing';
import Database from 'better-sqlite3';
import { afterEach } from 'vitest';
import { QualityOptionsSchema, openQualityService, type CheckResult, type QualityOptions, type QualityReport, type QualityService } from '../src/index.js';

export const HOUR = 3_600_000;
export const DAY = 86_400_000;
/** The fake clock's start: 40 minutes into an hour, so the last whole hour of a window is full of events. */
export const NOW = Date.UTC(2026, 0, 1, 0, 40);

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A fresh directory removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-quality-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface Fixture {
  dir: string;
  clock: FakeClock;
  tier: HotSqliteTier;
  /** A second, writable connection for corrupting the data the way the tests need. */
  sql(): Database.Database;
  write(events: Iterable<unknown>): Promise<void>;
  service(options?: QualityOptions): QualityService;
  run(options?: QualityOptions): Promise<QualityReport>;
}

/** A hot tier in a temp dir, a fake clock, and quality services over them; everything closed after the test. */
export function fixture(start: number = NOW): Fixture {
  const dir = tempDir();
  const clock = createFakeClock(start);
  const tier = HotSqliteTier.open({ file: join(dir, 'comprehensive_metrics.db'), writer: 'inline', now: () => clock.now() });
  let connection: Database.Database | undefined;
  cleanups.push(async () => {
    connection?.close();
    await tier.close();
  });
  const validate = createInteractionValidator(DEFAULT_EVENT_LIMITS, () => clock.now());
  const service = (options: QualityOptions = {}) => {
    const opened = openQualityService({ dataDir: dir, options: QualityOptionsSchema.parse(options), hotTier: () => tier, now: () => clock.now() });
    cleanups.push(() => opened.close());
    return opened;
  };
  return {
    dir,
    clock,
    tier,
    sql() {
      connection ??= new Database(tier.file);
      return connection;
    },
    async write(events) {
      let batch: Interaction[] = [];
      for (const event of events) {
        const checked = validate(event);
        if (!checked.ok) throw new Error(`test event invalid: ${JSON.stringify(checked.issues)}`);
        batch.push(checked.value);
        if (batch.length === 2_000) {
          await tier.writeInteractions(batch);
          batch = [];
        }
      }
      if (batch.length > 0) await tier.writeInteractions(batch);
    },
    service,
    run: (options) => service(options).run(),
  };
}

/**
 * A steady workload of about `perHour` events an hour over `days` days, ending `endAgo` ms before
 * the clock (default 35 minutes: the last sessions' later turns still land before the clock).
 */
export async function writeSteadyWorkload(
  f: Fixture,
  options: { days: number; perHour: number; seed?: number; endAgo?: number; idPrefix?: string },
): Promise<{ start: number; end: number }> {
  const end = f.clock.now() - (options.endAgo ?? 35 * 60_000);
  const start = end - options.days * DAY;
  await f.write(
    generateWorkload({ events: Math.round(options.days * 24 * options.perHour), seed: options.seed ?? 7, start, days: options.days, networkFields: false, idPrefix: options.idPrefix ?? 'ev' }),
  );
  return { start, end };
}

export function resultOf(report: QualityReport, check: string): CheckResult {
  const result = report.results.find((candidate) => candidate.check === check);
  if (!result) throw new Error(`no result for ${check}; checks: ${report.results.map((r) => r.check).join(', ')}`);
  return result;
}

type CheckName = 'completeness' | 'uniqueness' | 'consistency' | 'freshness' | 'volume' | 'schema';

/** Options that run only the named built-in checks (others turned off; rules still run), merged with `extra`. */
export function only(checks: CheckName | CheckName[], extra: QualityOptions = {}): QualityOptions {
  const wanted = new Set(Array.isArray(checks) ? checks : [checks]);
  const all: CheckName[] = ['completeness', 'uniqueness', 'consistency', 'freshness', 'volume', 'schema'];
  const options: Record<string, unknown> = { ...extra };
  for (const name of all) {
    options[name] = { ...((extra as Record<string, object | undefined>)[name] ?? {}), enabled: wanted.has(name) };
  }
  return options as QualityOptions;
}
