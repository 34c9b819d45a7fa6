import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { QualityStore, qualityMetricSource, type QualityReport } from '../src/index.js';
import { DAY, HOUR, fixture, only, resultOf, tempDir, writeSteadyWorkload } from './helpers.js';

describe('the stored report and its history', () => {
  it('stores each run in quality_runs and quality_results of its own file', async () => {
    const f = fixture();
    await writeSteadyWorkload(f, { days: 2, perHour: 10 });
    const report = await f.run({ rules: [{ name: 'fast', rule: 'responseTime < 60' }] });
    const db = new Database(join(f.dir, 'quality.db'), { readonly: true });
    try {
      const run = db.prepare('SELECT * FROM quality_runs').get() as Record<string, unknown>;
      expect(run).toMatchObject({ id: report.runId, status: report.status, trigger: 'api', source: 'hot-sqlite', window_to: f.clock.now(), window_from: f.clock.now() - DAY });
      const results = db.prepare('SELECT check_name, status, observed, threshold FROM quality_results ORDER BY position').all() as Array<Record<string, unknown>>;
      expect(results.map((row) => row.check_name)).toEqual(['completeness', 'uniqueness', 'consistency', 'freshness', 'volume', 'schema', 'rule:fast']);
      expect(results[3]).toMatchObject({ status: 'pass', observed: resultOf(report, 'freshness').observed, threshold: 'older than 6.0 h warns, older than 24.0 h fails' });
    } finally {
      db.close();
    }
  });

  it('answers history by check, since and limit, newest first', async () => {
    const f = fixture();
    await writeSteadyWorkload(f, { days: 2, perHour: 10 });
    const service = f.service(only(['freshness', 'schema']));
    const first = await service.run();
    f.clock.advance(7 * HOUR);
    const second = await service.run();
    f.clock.advance(20 * HOUR);
    const third = await service.run({ trigger: 'cli' });

    const freshness = service.history({ check: 'freshness' });
    expect(freshness.map((entry) => [entry.runId, entry.status])).toEqual([
      [third.runId, 'fail'],
      [second.runId, 'warn'],
      [first.runId, 'pass'],
    ]);
    expect(freshness[0]).toMatchObject({ check: 'freshness', at: third.finishedAt, unit: 's', message: expect.stringMatching(/^newest interaction is/) });
    expect(service.history({ since: second.finishedAt }).map((entry) => `${entry.runId}:${entry.check}`)).toEqual([
      `${third.runId}:completeness`,
      `${third.runId}:uniqueness`,
      `${third.runId}:consistency`,
      `${third.runId}:freshness`,
      `${third.runId}:volume`,
      `${third.runId}:schema`,
      `${second.runId}:completeness`,
      `${second.runId}:uniqueness`,
      `${second.runId}:consistency`,
      `${second.runId}:freshness`,
      `${second.runId}:volume`,
      `${second.runId}:schema`,
    ]);
    expect(service.history({ check: 'freshness', limit: 1 })).toHaveLength(1);
    expect(service.history({ check: 'no-such-check' })).toEqual([]);
    expect(service.latest()).toMatchObject({ runId: third.runId, trigger: 'cli', status: 'fail', counts: { pass: 1, warn: 0, fail: 1, skipped: 4 } });
  });

  it('keeps the history across reopening and drops runs older than historyDays', async () => {
    const f = fixture();
    await writeSteadyWorkload(f, { days: 1, perHour: 10 });
    const first = await f.service(only('freshness', { historyDays: 2 })).run();
    f.clock.advance(3 * DAY);
    const reopened = f.service(only('freshness', { historyDays: 2 }));
    expect(reopened.latest()?.runId).toBe(first.runId);
    const second = await reopened.run();
    expect(reopened.history().map((entry) => entry.runId)).toEqual(Array(6).fill(second.runId));
  });

  it('reads a stored run back exactly as it was returned', async () => {
    const f = fixture();
    await writeSteadyWorkload(f, { days: 1, perHour: 10 });
    const service = f.service();
    const report = await service.run();
    expect(service.latest()).toEqual(report);
  });

  it('stores nothing when the run is aborted', async () => {
    const f = fixture();
    await writeSteadyWorkload(f, { days: 1, perHour: 10 });
    const service = f.service();
    const controller = new AbortController();
    const run = service.run({ signal: controller.signal, onProgress: ({ done }) => done === 1 && controller.abort(new Error('closing')) });
    await expect(run).rejects.toThrow('closing');
    expect(service.latest()).toBeNull();
  });

  it('names the file when the history database cannot be opened', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'not-a-directory'), '');
    expect(() => QualityStore.open({ file: join(dir, 'not-a-directory', 'quality.db') })).toThrow(/^quality: cannot open the history database .*not-a-directory.*set the quality plugin's file option to a writable path/);
  });
});

describe('the quality metric source', () => {
  it('has no readings before the first run', async () => {
    expect(await qualityMetricSource(() => null).read({ now: 0 })).toEqual([]);
  });

  it('exposes each check status and every measured value of the latest run', async () => {
    const f = fixture();
    await writeSteadyWorkload(f, { days: 2, perHour: 10 });
    f.sql().prepare(`UPDATE user_interactions SET query = '' WHERE id = (SELECT MAX(id) FROM user_interactions)`).run();
    const service = f.service({ volume: { enabled: false }, freshness: { warnAfter: '1m', failAfter: '1d' }, rules: [{ name: 'fast', rule: 'responseTime < 60' }] });
    const report: QualityReport = await service.run();
    f.clock.advance(90_000);
    const readings = await qualityMetricSource(() => service.latest()).read({ now: f.clock.now() });
    const at = report.window.to;
    const statuses = readings.filter((reading) => reading.name === 'quality.check_status').map((reading) => [reading.labels!.check, reading.value]);
    expect(statuses).toEqual([
      ['completeness', 2],
      ['uniqueness', 0],
      ['consistency', 0],
      ['freshness', 1],
      ['schema', 0],
      ['rule:fast', 0],
    ]);
    expect(readings).toContainEqual({ name: 'quality.last_run_age_seconds', value: 90, unit: 's', at: f.clock.now() });
    expect(readings).toContainEqual({ name: 'quality.freshness_seconds', value: resultOf(report, 'freshness').observed, unit: 's', at });
    expect(readings).toContainEqual({ name: 'quality.null_rate', value: resultOf(report, 'completeness').observed, unit: 'ratio', labels: { field: 'query' }, at });
    expect(readings).toContainEqual({ name: 'quality.null_rate', value: 0, unit: 'ratio', labels: { field: 'sessionId' }, at });
    expect(readings).toContainEqual({ name: 'quality.rule_violation_rate', value: 0, unit: 'ratio', labels: { rule: 'fast' }, at });
    expect(readings).toContainEqual({ name: 'quality.rollup_mismatches', value: 0, unit: 'buckets', at });
    expect(readings.some((reading) => reading.name.startsWith('quality.volume'))).toBe(false);
  });
});
