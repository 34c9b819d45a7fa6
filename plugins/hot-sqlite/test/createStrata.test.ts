import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStrata } from '@strata/core';
import { generateWorkload } from '@strata/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HotSqliteTier, hotSqlitePlugin } from '../src/index.js';

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'hot-sqlite-e2e-'));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

const catalog = { 'hot-sqlite': () => hotSqlitePlugin };

describe('hot-sqlite under createStrata', () => {
  it('stores what record() accepted and reports it after close and reopen', async () => {
    const strata = await createStrata({ config: {}, cwd: directory, catalog, logLevel: 'silent' });
    const events = [...generateWorkload({ events: 3_000, seed: 12 })];
    for (const event of events) expect(strata.record(event)).toBe(true);
    await strata.close();

    expect(existsSync(join(directory, 'analytics', 'comprehensive_metrics.db'))).toBe(true);
    const reopened = await createStrata({ config: {}, cwd: directory, catalog, logLevel: 'silent' });
    const report = await reopened.report();
    await reopened.close();
    expect(report.totals.interactions).toBe(3_000);
    expect(report.totals.sessions).toBe(new Set(events.map((event) => event.sessionId)).size);
  });

  it('never stores raw IP addresses or user agents', async () => {
    const strata = await createStrata({ config: {}, cwd: directory, catalog, logLevel: 'silent' });
    const [event] = [...generateWorkload({ events: 1, seed: 1 })];
    await strata.recordStrict({ ...event, ipAddress: '203.0.113.77', userAgent: 'SecretAgent/9.9' });
    const stored = await strata.storage('hot')!.queryInteractions({});
    await strata.close();
    expect(JSON.stringify(stored.items)).not.toContain('203.0.113.77');
    expect(JSON.stringify(stored.items)).not.toContain('SecretAgent');
    expect(stored.items[0]).not.toHaveProperty('ipAddress');
    expect(stored.items[0]).not.toHaveProperty('userAgent');
    // The embedded default runs the privacy processor: the address is kept only as a keyed pseudonym.
    expect(stored.items[0]?.ipHash).toMatch(/^ps1\./);
  });

  it('loads hot-sqlite by name from a JSON config with its options validated', async () => {
    writeFileSync(join(directory, 'strata.config.json'), JSON.stringify({ plugins: [{ name: 'hot-sqlite', options: { synchronous: 'FULL', file: 'custom.db' } }] }));
    const strata = await createStrata({ cwd: directory, catalog, logLevel: 'silent' });
    const [tier] = (await strata.status()).tiers;
    await strata.close();
    expect(tier?.health.details).toMatchObject({ synchronous: 'FULL' });
    expect(existsSync(join(directory, 'analytics', 'custom.db'))).toBe(true);
  });

  it('reports a bad option with its path', async () => {
    writeFileSync(join(directory, 'strata.config.json'), JSON.stringify({ plugins: [{ name: 'hot-sqlite', options: { synchronous: 'SOMETIMES' } }] }));
    await expect(createStrata({ cwd: directory, catalog, logLevel: 'silent' })).rejects.toThrow(/plugins\[0\]\.options\.synchronous/);
  });

  it('answers recordStrict with duplicate for an eventId already stored', async () => {
    const strata = await createStrata({ config: {}, cwd: directory, catalog, logLevel: 'silent' });
    const [event] = [...generateWorkload({ events: 1, seed: 3 })];
    expect(await strata.recordStrict(event)).toEqual({ eventId: event!.eventId, status: 'stored' });
    expect(await strata.recordStrict(event)).toEqual({ eventId: event!.eventId, status: 'duplicate' });
    expect(strata.metrics()).toMatchObject({ accepted: 2, stored: 1, duplicates: 1 });
    await strata.close();
  });
});

describe('system monitor on hot-sqlite', () => {
  it('stores samples in system_performance and reads insights figures from the rollups', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hot-sqlite-monitor-'));
    const strata = await createStrata({ config: { plugins: ['hot-sqlite'] }, dataDir, logLevel: 'silent', monitor: false });
    try {
      const now = Date.now();
      for (let index = 0; index < 20; index += 1) {
        strata.record({ eventId: `m${index}`, sessionId: `s${index % 4}`, timestamp: new Date(now - index * 1_000).toISOString(), userRole: 'student', query: 'q', queryType: 'technical', responseTime: index < 10 ? 2 : 4, success: index % 5 !== 0 });
      }
      await strata.flush();
      const readings = await strata.sampleSystemMetrics();
      expect(readings.find((reading) => reading.name === 'system.concurrent_sessions')?.value).toBe(4);
      const tier = strata.storage('hot') as HotSqliteTier;
      const stored = tier.database.prepare("SELECT COUNT(*) AS n FROM system_performance WHERE component = 'strata'").get() as { n: number };
      expect(stored.n).toBe(readings.length);
      const insights = await strata.metricSources().find((source) => source.name === 'insights')!.read({ now });
      const value = (name: string) => insights.find((reading) => reading.name === name)?.value;
      expect(value('insights.interactions')).toBe(20);
      expect(value('insights.success_rate')).toBeCloseTo(0.8);
      expect(value('insights.error_rate')).toBeCloseTo(0.2);
      expect(value('insights.avg_response_time_seconds')).toBeCloseTo(3, 1);
    } finally {
      await strata.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('strata.rate', () => {
  it('rates an event recorded a moment ago, refuses bad ratings by field, and needs write access', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hot-sqlite-rate-'));
    const strata = await createStrata({ config: { plugins: ['hot-sqlite'] }, dataDir, logLevel: 'silent', monitor: false });
    try {
      strata.record({ eventId: 'answer-1', sessionId: 's', timestamp: new Date().toISOString(), userRole: 'student', query: 'q', queryType: 'technical', responseTime: 1, success: true });
      // Not flushed: rate writes queued events first.
      expect(await strata.rate({ eventId: 'answer-1', userRating: 4 })).toEqual({ eventId: 'answer-1', status: 'updated' });
      expect(await strata.rate({ eventId: 'missing', userRating: 4 })).toEqual({ eventId: 'missing', status: 'not-found' });
      await expect(strata.rate({ eventId: 'answer-1', userRating: 6 })).rejects.toThrow('userRating: must be an integer from 1 to 5 or null, got 6');
      await expect(strata.as({ name: 'dash', role: 'viewer' }).rate({ eventId: 'answer-1', userRating: 2 })).rejects.toThrow(/lacks the "write" permission/);
      const [day] = (await strata.insights.businessMetrics({})).items;
      expect(day).toMatchObject({ avgRating: 4, ratedInteractions: 1 });
    } finally {
      await strata.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('a script whose only work is awaiting recordStrict', () => {
  it('stays alive until the event is stored, then exits 0', async () => {
    const { spawnSync } = await import('node:child_process');
    const { pathToFileURL } = await import('node:url');
    const dataDir = mkdtempSync(join(tmpdir(), 'hot-sqlite-script-'));
    const core = pathToFileURL(join(import.meta.dirname, '..', '..', '..', 'packages', 'core', 'dist', 'index.js')).href;
    const hot = pathToFileURL(join(import.meta.dirname, '..', 'dist', 'index.js')).href;
    const script = `
      const { createStrata } = await import(${JSON.stringify(core)});
      const { hotSqlitePlugin } = await import(${JSON.stringify(hot)});
      const strata = await createStrata({ config: { plugins: ['hot-sqlite'], pipeline: { maxBatchDelayMs: 200 } }, catalog: { 'hot-sqlite': () => hotSqlitePlugin }, dataDir: ${JSON.stringify(dataDir)}, logLevel: 'silent', monitor: false });
      const outcome = await strata.recordStrict({ eventId: 'only', sessionId: 's', timestamp: new Date().toISOString(), userRole: 'student', query: 'q', queryType: 'technical', responseTime: 1, success: true });
      await strata.close();
      console.log(JSON.stringify(outcome));
    `;
    try {
      // A file, not --eval: the writer thread inherits execArgv, and --input-type is refused there.
      const file = join(dataDir, 'script.mjs');
      writeFileSync(file, script);
      const run = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 20_000 });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(JSON.parse(run.stdout.trim())).toEqual({ eventId: 'only', status: 'stored' });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
