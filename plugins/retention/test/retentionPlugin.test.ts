import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, createStrata, resolveConfig, type PluginEntry, type Strata } from '@strata/core';
import { historicalSqlitePlugin } from '@strata/historical-sqlite';
import { HotSqliteTier, hotSqlitePlugin } from '@strata/hot-sqlite';
import { jsonArchivePlugin } from '@strata/json-archive';
import { createFakeClock } from '@strata/testing';
import { describe, expect, it } from 'vitest';
import { retentionPlugin, type RetentionOptions } from '../src/index.js';
import { DAY_MS, NOW, pastAndRecentEvents, tempDir } from './helpers.js';

async function startStrata(dataDir: string, plugins: PluginEntry[]): Promise<Strata> {
  return createStrata({ config: { dataDir, plugins }, clock: createFakeClock(NOW), logLevel: 'silent', scheduleJobs: false });
}

const allTiers = (): PluginEntry[] => [hotSqlitePlugin({ writer: 'inline' }), historicalSqlitePlugin(), jsonArchivePlugin()];

async function configIssues(options: unknown): Promise<Array<{ path: string; message: string }>> {
  const error = await resolveConfig({ plugins: ['hot-sqlite', { name: 'retention', options }] }, { catalog: { 'hot-sqlite': () => hotSqlitePlugin, retention: () => retentionPlugin } }).catch(
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return [...(error as ConfigError).issues];
}

describe('retention plugin', () => {
  it('contributes the job "retention" on the default daily schedule', async () => {
    const strata = await startStrata(tempDir(), [...allTiers(), retentionPlugin()]);
    try {
      expect(strata.jobStatus()).toEqual([expect.objectContaining({ name: 'retention', schedule: '30 2 * * *', running: false })]);
    } finally {
      await strata.close();
    }
  });

  it('takes its schedule from the config, or none with schedule: false', async () => {
    const scheduled = await startStrata(tempDir(), [...allTiers(), retentionPlugin({ schedule: '15 4 * * 0' })]);
    expect(scheduled.jobs()[0]!.schedule).toBe('15 4 * * 0');
    await scheduled.close();
    const onDemand = await startStrata(tempDir(), [...allTiers(), retentionPlugin({ schedule: false })]);
    expect(onDemand.jobs()[0]!.schedule).toBeUndefined();
    await onDemand.close();
  });

  it('runs through strata.runJob and writes its report under the data dir', async () => {
    const dataDir = tempDir();
    const strata = await startStrata(dataDir, [retentionPlugin(), ...allTiers()]);
    try {
      const { old, recent } = pastAndRecentEvents();
      await strata.storage('hot')!.writeInteractions([...old, ...recent]);
      const progress: number[] = [];
      const report = await strata.runJob('retention', { onProgress: (update) => progress.push(update.done) });
      expect(report).toMatchObject({ status: 'ok', rowsMoved: old.length });
      expect(report.reportFile).toMatch(new RegExp(`^${join(dataDir, 'reports')}/retention-.*\\.json$`));
      expect(existsSync(report.reportFile as string)).toBe(true);
      expect(progress.at(-1)).toBe(old.length);
      expect(await strata.storage('hot')!.countInteractions()).toBe(recent.length);
    } finally {
      await strata.close();
    }
  });

  it('applies the policies stored in data_retention_policy when the config overrides none', async () => {
    const dataDir = tempDir();
    const strata = await startStrata(dataDir, [...allTiers(), retentionPlugin()]);
    try {
      const hot = strata.storage('hot')!;
      await hot.saveRetentionPolicies!([{ table: 'user_interactions', archiveAfterDays: 400, warmRetentionDays: 730, retentionDays: 1_095, cleanupEnabled: true, description: 'kept longer hot' }]);
      const { old } = pastAndRecentEvents();
      await hot.writeInteractions(old);
      const report = await strata.runJob('retention');
      expect(report.rowsMoved).toBe(0);
      expect((report.horizons as { archiveBefore: string }).archiveBefore).toBe('2024-06-01T00:00:00.000Z');
      expect(await hot.countInteractions()).toBe(old.length);
    } finally {
      await strata.close();
    }
  });

  it('deletes session rows past session_analytics retention, never before the hot tier lets go of their interactions', async () => {
    const dataDir = tempDir();
    const policies = { session_analytics: { archiveAfterDays: 30, warmRetentionDays: 60, retentionDays: 60 } };
    const strata = await startStrata(dataDir, [...allTiers(), retentionPlugin({ policies })]);
    try {
      const hot = strata.storage('hot') as HotSqliteTier;
      const { old, recent } = pastAndRecentEvents();
      await hot.writeInteractions([...old, ...recent]);
      // 60 days for sessions, but interactions stay hot 90 days (the default): sessions go after 90.
      const cutoff = NOW - 90 * DAY_MS;
      const sessions = () => hot.database.prepare('SELECT last_activity FROM session_analytics').pluck().all() as number[];
      const expected = sessions().filter((last) => last < cutoff).length;
      expect(expected).toBeGreaterThan(0);
      const report = await strata.runJob('retention');
      expect(report.steps).toContainEqual(expect.objectContaining({ step: 'sessions', rows: expected }));
      expect((report.horizons as { sessionsBefore: string }).sessionsBefore).toBe(new Date(cutoff).toISOString());
      expect(sessions().every((last) => last >= cutoff)).toBe(true);
      expect(sessions().length).toBeGreaterThan(0);
      const marked = (await hot.retentionPolicies()).find((policy) => policy.table === 'session_analytics');
      expect(marked?.lastCleanup).toBe(NOW);
      expect((await strata.runJob('retention')).steps).toContainEqual(expect.objectContaining({ step: 'sessions', rows: 0 }));
    } finally {
      await strata.close();
    }
  });

  it('fails at start naming the plugins to add when the warm or cold tier is missing', async () => {
    const noWarmNoCold = await startStrata(tempDir(), [hotSqlitePlugin({ writer: 'inline' }), retentionPlugin()]).catch((error: Error) => error);
    expect(noWarmNoCold).toBeInstanceOf(Error);
    expect((noWarmNoCold as Error).message).toMatch(/^retention: failed to start: /);
    expect((noWarmNoCold as Error).message).toContain('no warm storage tier is configured; add historical-sqlite to plugins');
    expect((noWarmNoCold as Error).message).toContain('no cold storage tier is configured; add json-archive to plugins');

    const noCold = await startStrata(tempDir(), [hotSqlitePlugin({ writer: 'inline' }), historicalSqlitePlugin(), retentionPlugin()]).catch((error: Error) => error);
    expect((noCold as Error).message).toContain('add json-archive');
    expect((noCold as Error).message).not.toContain('historical-sqlite');
  });

  it('rejects a schedule that is not a cron expression, naming the option', async () => {
    const issues = await configIssues({ schedule: '61 2 * * *' } satisfies RetentionOptions);
    expect(issues).toEqual([{ path: 'plugins[1].options.schedule', message: expect.stringContaining('"61 2 * * *" is not a cron expression (61 is a invalid expression for minute)') }]);
  });

  it('rejects bad policy overrides with the path of each field', async () => {
    const issues = await configIssues({
      policies: { user_interactions: { archiveAfterDays: 0, warmRetentionDays: 'two years' }, system_performance: { warmRetentionDays: 400, retentionDays: 300 }, rollup_day: {} },
      batchSize: 5,
    });
    const paths = issues.map((issue) => issue.path).sort();
    expect(paths).toEqual([
      'plugins[1].options.batchSize',
      'plugins[1].options.policies.rollup_day',
      'plugins[1].options.policies.system_performance.retentionDays',
      'plugins[1].options.policies.user_interactions.archiveAfterDays',
      'plugins[1].options.policies.user_interactions.warmRetentionDays',
    ]);
    expect(issues.find((issue) => issue.path.endsWith('system_performance.retentionDays'))!.message).toContain('300 days is shorter than warmRetentionDays (400 days)');
    expect(issues.find((issue) => issue.path.endsWith('rollup_day'))!.message).toContain('kept permanently');
  });
});
