import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alertsPlugin } from '@strata/alerts';
import { createStrata, definePlugin, type AlertNotification, type MetricReading, type StorageTier } from '@strata/core';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createIncidentJournalNotifier, incidentJournalPlugin, type JournalEntry } from '../src/index.js';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});
function tempDir(): string {
  const directory = mkdtempSync(join(tmpdir(), 'strata-example-alert-'));
  directories.push(directory);
  return directory;
}

/** Strata needs a hot tier to start; a real project has hot-sqlite, this test needs none of its data. */
const emptyHotTier = definePlugin({
  name: 'empty-hot',
  version: '0.0.0',
  options: z.object({}),
  setup: () => {
    const tier: StorageTier = {
      name: 'empty-hot',
      role: 'hot',
      writeInteractions: async (batch) => ({ inserted: batch.length, duplicates: 0, duplicateIds: [] }),
      queryInteractions: async () => ({ items: [], nextCursor: null }),
      scanInteractions: async function* () {},
      countInteractions: async () => 0,
      deleteInteractions: async () => 0,
      health: async () => ({ ok: true, details: {} }),
      close: async () => {},
    };
    return { storage: [tier] };
  },
});

/** The queue depth the test dials in, as a metric source a plugin contributes. */
function queueDepthPlugin(depth: { value: number }) {
  return definePlugin({
    name: 'queue-depth',
    version: '0.0.0',
    options: z.object({}),
    setup: () => ({
      metricSources: [{ name: 'queue', read: async ({ now }: { now: number }): Promise<MetricReading[]> => [{ name: 'app.queue_depth', value: depth.value, at: now }] }],
    }),
  });
}

function journal(file: string): JournalEntry[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as JournalEntry);
}

describe('incident journal notifier', () => {
  it('writes a firing entry and then one resolved entry when used with the alerts plugin', async () => {
    const dataDir = tempDir();
    const depth = { value: 5_000 };
    let now = Date.UTC(2026, 2, 1, 9);
    const strata = await createStrata({
      config: {
        plugins: [
          emptyHotTier,
          queueDepthPlugin(depth),
          alertsPlugin({ preset: 'none', notifiers: [], rules: [{ name: 'QueueBackedUp', metric: 'app.queue_depth', op: '>', threshold: 1_000, severity: 'critical', summary: '{{value}} events waiting' }] }),
          incidentJournalPlugin({ minSeverity: 'warning' }),
        ],
      },
      dataDir,
      clock: { now: () => now },
      logLevel: 'silent',
      scheduleJobs: false,
    });
    try {
      await strata.runJob('alerts');
      depth.value = 3;
      now += 60_000;
      await strata.runJob('alerts');
      now += 60_000;
      await strata.runJob('alerts');
    } finally {
      await strata.close();
    }
    const entries = journal(join(dataDir, 'incidents.jsonl'));
    expect(entries.map((entry) => entry.status)).toEqual(['firing', 'resolved']);
    expect(entries[0]!.firing).toEqual([{ rule: 'QueueBackedUp', severity: 'critical', summary: '5000 events waiting', since: '2026-03-01T09:00:00.000Z' }]);
    expect(entries[1]!.resolved).toEqual([{ rule: 'QueueBackedUp', severity: 'critical', resolvedAt: '2026-03-01T09:01:00.000Z' }]);
  });

  it('leaves out alerts below its minimum severity, and writes nothing when none is left', async () => {
    const file = join(tempDir(), 'journal.jsonl');
    const notifier = createIncidentJournalNotifier({ file, minSeverity: 'critical' });
    const notification: AlertNotification = {
      id: 'n1',
      status: 'firing',
      repeat: false,
      groupKey: '{}',
      groupLabels: {},
      firing: [
        { fingerprint: 'a', rule: 'Minor', metric: 'm', status: 'firing', severity: 'warning', labels: {}, summary: 'minor', value: 1, op: '>', threshold: 0, activeSince: 0, firingSince: 0, resolvedAt: null },
      ],
      resolved: [],
      at: 0,
    };
    await notifier.send(notification, { signal: new AbortController().signal, logger: undefined as never, attempt: 1 });
    expect(() => readFileSync(file)).toThrow(/ENOENT/);
  });

  it('refuses for good (no retry) when its file is a directory', async () => {
    const directory = tempDir();
    mkdirSync(join(directory, 'journal'));
    const notifier = createIncidentJournalNotifier({ file: join(directory, 'journal'), minSeverity: 'info' });
    const notification: AlertNotification = {
      id: 'n2',
      status: 'resolved',
      repeat: false,
      groupKey: '{}',
      groupLabels: {},
      firing: [],
      resolved: [{ fingerprint: 'a', rule: 'Any', metric: 'm', status: 'resolved', severity: 'info', labels: {}, summary: '', value: 0, op: '>', threshold: 1, activeSince: 0, firingSince: 0, resolvedAt: 1 }],
      at: 1,
    };
    await expect(notifier.send(notification, { signal: new AbortController().signal, logger: undefined as never, attempt: 1 })).rejects.toMatchObject({ code: 'STRATA_SINK_PERMANENT' });
  });

  it('rejects a bad option with its path in the config', async () => {
    await expect(
      createStrata({ config: { plugins: [emptyHotTier, { name: 'incident-journal', options: { minSeverity: 'urgent' } }] }, catalog: { 'incident-journal': () => incidentJournalPlugin }, dataDir: tempDir(), logLevel: 'silent' }),
    ).rejects.toThrow(/plugins\[1\]\.options\.minSeverity/);
  });
});
