import { SystemMonitor, createLogger, type Metric, type PipelineCounters, type StorageTier } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { interaction, openStrata } from './fixtures.js';

function counters(overrides: Partial<PipelineCounters> = {}): PipelineCounters {
  return { accepted: 0, stored: 0, duplicates: 0, rejected: 0, dropped: 0, queued: 0, writeFailures: 0, deadLettered: 0, lastBatchWriteMs: 0, sinks: {}, ...overrides };
}

function fakeHot(stored: Metric[]): StorageTier {
  return {
    name: 'fake',
    role: 'hot',
    writeInteractions: async () => ({ inserted: 0, duplicates: 0, duplicateIds: [] }),
    writeMetrics: async (batch) => {
      stored.push(...batch);
      return batch.length;
    },
    queryInteractions: async () => ({ items: [], nextCursor: null }),
    scanInteractions: async function* () {},
    countInteractions: async () => 0,
    deleteInteractions: async () => 0,
    // Sizes only when asked for a quick look: the monitor must never ask for row counts.
    health: async (options) => (options?.quick ? { ok: true, details: { bytes: 3 * 1024 * 1024, walBytes: 1024 * 1024 } } : { ok: true, details: { bytes: 1, walBytes: 1, rows: 1 } }),
    close: async () => undefined,
  };
}

describe('system monitor', () => {
  it('turns counter deltas into rates, counts recent sessions and stores every sample', async () => {
    let now = 1_000_000;
    let current = counters();
    const stored: Metric[] = [];
    const hot = fakeHot(stored);
    const monitor = new SystemMonitor(
      { counters: () => current, tiers: () => [hot], hot, now: () => now, logger: createLogger('silent') },
      { intervalMs: 60_000, activeSessionWindowMs: 300_000, maxTrackedSessions: 3 },
    );
    monitor.start();
    try {
      monitor.observe([{ sessionId: 'a' }, { sessionId: 'b' }] as never);
      now += 200_000;
      monitor.observe([{ sessionId: 'c' }, { sessionId: 'd' }] as never); // d is over the tracking bound
      now += 200_000; // a and b are now 400 s old: no longer concurrent
      current = counters({ accepted: 800, rejected: 150, dropped: 50, queued: 12, lastBatchWriteMs: 7.5, sinks: { s: { delivered: 0, failures: 0, retries: 0, dropped: 0, backlog: 4, lagMs: 900 } } });
      const readings = await monitor.sampleAndStore();
      const value = (name: string) => readings.find((reading) => reading.name === name)?.value;
      expect(value('system.ingest_rate')).toBe(2); // 800 events over 400 s
      expect(value('system.rejection_rate')).toBeCloseTo(0.15);
      expect(value('system.error_rate')).toBeCloseTo(0.2);
      expect(value('system.queue_depth')).toBe(12);
      expect(value('system.sink_backlog')).toBe(4);
      expect(value('system.sink_lag_ms')).toBe(900);
      expect(value('system.batch_write_ms')).toBe(7.5);
      expect(value('system.concurrent_sessions')).toBe(1);
      expect(value('system.database_size_mb')).toBe(3);
      expect(value('system.wal_size_mb')).toBe(1);
      expect(value('system.memory_rss_mb')).toBeGreaterThan(0);
      expect(stored.map((metric) => metric.name).sort()).toEqual(readings.map((reading) => reading.name).sort());
      expect(stored.every((metric) => metric.component === 'strata' && metric.timestamp === now)).toBe(true);
      // Rates are per interval: no new events, no rate.
      now += 60_000;
      const next = await monitor.sample();
      expect(next.find((reading) => reading.name === 'system.ingest_rate')?.value).toBe(0);
    } finally {
      monitor.stop();
    }
  });

  it('logs and carries on when storing a sample fails', async () => {
    const hot = { ...fakeHot([]), writeMetrics: async () => Promise.reject(new Error('disk full')) };
    const monitor = new SystemMonitor({ counters: () => counters(), tiers: () => [], hot, now: () => 5, logger: createLogger('silent') });
    await expect(monitor.sampleAndStore()).resolves.toEqual([]);
  });
});

describe('metric sources of a Strata', () => {
  it('lists the system monitor, the KPIs and the insights figures first and sees committed sessions', async () => {
    const { strata } = await openStrata();
    const sources = strata.metricSources();
    expect(sources.map((source) => source.name).slice(0, 3)).toEqual(['system', 'kpi', 'insights']);
    strata.record(interaction({ eventId: 'm1', sessionId: 's-1', timestamp: new Date().toISOString() }));
    await strata.flush();
    const system = await sources[0]!.read({ now: Date.now() });
    expect(system.find((reading) => reading.name === 'system.concurrent_sessions')?.value).toBe(1);
  });
});
