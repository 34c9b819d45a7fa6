import { describe, expect, it } from 'vitest';
import type { InsightsProvider } from '@strata/core';
import { alertHistorySource, createExportRegistry, exportToStream, qualityHistorySource, type ExportEnvironment, type QualityHistoryEntryLike } from '../src/index.js';
import { memoryStream } from './helpers.js';

/** A newest-first history like the quality plugin's, with the reads it was asked for. */
function fakeQualityHistory(entries: QualityHistoryEntryLike[]) {
  const reads: Array<{ since?: number; limit: number }> = [];
  const read = (query: { since?: number; limit: number }) => {
    reads.push(query);
    return entries
      .filter((entry) => query.since === undefined || entry.at >= query.since)
      .sort((a, b) => b.at - a.at)
      .slice(0, query.limit);
  };
  return { read, reads };
}

const entry = (runId: number, day: number, status = 'pass'): QualityHistoryEntryLike => ({
  runId,
  at: Date.UTC(2026, 0, day),
  check: 'freshness',
  status,
  observed: 12.5,
  unit: 's',
  threshold: '< 3600',
  message: status === 'pass' ? 'fresh' : '=stale',
});

function environment(source: ReturnType<typeof qualityHistorySource>): ExportEnvironment {
  return { registry: createExportRegistry({ sources: [source] }), storage: () => undefined, insights: {} as InsightsProvider };
}

describe('history sources (quality and alerts plugins)', () => {
  it('export a newest-first history oldest first, within the range, formula-safe in CSV', async () => {
    const history = fakeQualityHistory([entry(1, 1), entry(2, 2, 'fail'), entry(3, 3), entry(4, 4)]);
    const out = memoryStream();
    const result = await exportToStream(environment(qualityHistorySource(history.read)), { dataset: 'quality-history', format: 'csv', query: { range: { from: Date.UTC(2026, 0, 2), to: Date.UTC(2026, 0, 4) } } }, out);
    expect(result.rows).toBe(2);
    expect(history.reads).toEqual([{ since: Date.UTC(2026, 0, 2), limit: 10_000 }]);
    expect(out.text()).toBe(
      'runId,at,check,status,observed,unit,threshold,message\r\n2,2026-01-02T00:00:00.000Z,freshness,fail,12.5,s,< 3600,\'=stale\r\n3,2026-01-03T00:00:00.000Z,freshness,pass,12.5,s,< 3600,fresh\r\n',
    );
  });

  it('refuse a range holding more entries than the history can return at once, rather than cutting it short', async () => {
    const many = Array.from({ length: 10_000 }, (_, index) => ({ ...entry(index, 1), at: Date.UTC(2026, 0, 1) + index }));
    const history = fakeQualityHistory(many);
    await expect(exportToStream(environment(qualityHistorySource(history.read)), { dataset: 'quality-history', format: 'jsonl' }, memoryStream())).rejects.toThrow(
      'exporters: range holds more than 10000 entries of quality-history (counting those after its end), which its history cannot page through; export a narrower range (--from/--to)',
    );
  });

  it('write alert history with its labels as JSON', async () => {
    const source = alertHistorySource(() => [
      { id: 7, at: Date.UTC(2026, 0, 2), kind: 'state', rule: 'slow', fingerprint: 'f1', labels: { alertname: 'slow', severity: 'warning' }, from: 'pending', to: 'firing', value: 4.2, notifier: null, outcome: null, notificationId: null, message: 'p95 above 3 s' },
    ]);
    const out = memoryStream();
    await exportToStream({ registry: createExportRegistry({ sources: [source] }), storage: () => undefined, insights: {} as InsightsProvider }, { dataset: 'alert-history', format: 'jsonl' }, out);
    expect(JSON.parse(out.text())).toMatchObject({ id: 7, labels: { alertname: 'slow', severity: 'warning' }, to: 'firing' });
  });
});
