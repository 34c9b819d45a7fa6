import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createStrata, definePlugin, type PluginContext, type StorageTier } from '@strata/core';
import { hotSqlitePlugin } from '@strata/hot-sqlite';
import { createFakeClock, generateWorkload } from '@strata/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { qualityPlugin, type QualityReport } from '../src/index.js';
import { DAY, NOW, tempDir } from './helpers.js';

const catalog = { 'hot-sqlite': () => hotSqlitePlugin, quality: () => qualityPlugin };

/** A plugin that keeps its context, to read every metric source the way the alerts plugin does. */
function probe() {
  let captured: PluginContext | undefined;
  const plugin = definePlugin({
    name: 'probe',
    version: '0.0.0',
    dependsOn: ['quality'],
    options: z.object({}).strict(),
    setup(context) {
      captured = context;
      return {};
    },
  });
  return { plugin, context: () => captured! };
}

describe('the quality plugin under createStrata', () => {
  it('contributes a daily job that stores its report and a metric source that serves it', async () => {
    const cwd = tempDir();
    const clock = createFakeClock(NOW);
    const { plugin: probePlugin, context } = probe();
    const strata = await createStrata({
      cwd,
      clock,
      logLevel: 'silent',
      scheduleJobs: false,
      catalog: { ...catalog, probe: () => probePlugin },
      config: { plugins: ['hot-sqlite', { name: 'quality', options: { rules: [{ name: 'fast', rule: 'responseTime < 60' }] } }, 'probe'] },
    });
    try {
      for (const event of generateWorkload({ events: 2_000, seed: 3, start: NOW - 2 * DAY, days: 2 - 1 / 24 })) strata.record(event);
      await strata.flush();
      expect(strata.jobStatus().find((job) => job.name === 'quality')).toMatchObject({ schedule: '15 3 * * *', running: false });

      const report = (await strata.runJob('quality')) as unknown as QualityReport & { summary: string };
      expect(report.summary).toMatch(/^quality (pass|warn): \d pass, \d warn, 0 fail, 1 skipped \(run 1\)$/);
      expect(report.trigger).toBe('job');
      expect(existsSync(join(cwd, 'analytics', 'quality.db'))).toBe(true);

      const source = context().metricSources().find((candidate) => candidate.name === 'quality')!;
      const readings = await source.read({ now: clock.now() });
      expect(readings.filter((reading) => reading.name === 'quality.check_status').map((reading) => reading.labels!.check)).toEqual([
        'completeness',
        'uniqueness',
        'consistency',
        'freshness',
        'schema',
        'rule:fast',
      ]);
      expect(readings.find((reading) => reading.name === 'quality.freshness_seconds')?.at).toBe(NOW);
    } finally {
      await strata.close();
    }
  });

  it('turns the schedule off with schedule: false', async () => {
    const cwd = tempDir();
    const strata = await createStrata({ cwd, logLevel: 'silent', scheduleJobs: false, catalog, config: { plugins: ['hot-sqlite', { name: 'quality', options: { schedule: false } }] } });
    try {
      expect(strata.jobStatus().find((job) => job.name === 'quality')?.schedule).toBeNull();
    } finally {
      await strata.close();
    }
  });

  it('refuses a business rule outside the rule language, naming the option, the rule and the position', async () => {
    const cwd = tempDir();
    writeFileSync(
      join(cwd, 'strata.config.json'),
      JSON.stringify({ plugins: ['hot-sqlite', { name: 'quality', options: { rules: [{ name: 'slow', rule: 'responseTime <> 60 or process.exit()' }] } }] }),
    );
    await expect(createStrata({ cwd, logLevel: 'silent', catalog })).rejects.toThrow(
      /plugins\[1\]\.options\.rules\[0\]\.rule: quality: rule "slow" at position 23: unknown field "process"/,
    );
  });

  it('reports every bad option with its path at once', async () => {
    const cwd = tempDir();
    const config = {
      plugins: [
        'hot-sqlite',
        { name: 'quality', options: { window: 'yesterday', freshness: { warnAfter: '2d', failAfter: '1d' }, volume: { minHistory: 9 }, rules: [{ name: 'a', rule: 'success' }, { name: 'a', rule: 'success' }] } },
      ],
    };
    const error = await createStrata({ cwd, logLevel: 'silent', catalog, config }).then(
      () => new Error('expected the config to be refused'),
      (caught: unknown) => caught as Error,
    );
    expect(error.message).toContain('plugins[1].options.window: expected a duration such as 24h, got "yesterday"');
    expect(error.message).toContain('plugins[1].options.freshness.warnAfter: warnAfter must not be longer than failAfter');
    expect(error.message).toContain('plugins[1].options.volume.minHistory: minHistory must not exceed baselinePeriods');
    expect(error.message).toContain('plugins[1].options.rules[1].name: two rules are named "a"; names must be unique');
  });

  it('refuses an invalid cron schedule through the core, naming the job', async () => {
    const cwd = tempDir();
    await expect(
      createStrata({ cwd, logLevel: 'silent', catalog, config: { plugins: ['hot-sqlite', { name: 'quality', options: { schedule: 'every day' } }] } }),
    ).rejects.toThrow(/jobs\.quality\.schedule: "every day" is not a cron expression/);
  });

  it('fails to start when the hot tier is not one it can read', async () => {
    const cwd = tempDir();
    const otherHot = definePlugin({
      name: 'other-hot',
      version: '0.0.0',
      options: z.object({}).strict(),
      setup() {
        const tier = { name: 'other-hot', role: 'hot', close: async () => undefined } as unknown as StorageTier;
        return { storage: [tier] };
      },
    });
    await expect(
      createStrata({ cwd, logLevel: 'silent', catalog: { ...catalog, 'other-hot': () => otherHot }, config: { plugins: ['quality', 'other-hot'] } }),
    ).rejects.toThrow('quality: failed to start: quality: the hot tier is "other-hot", which this version cannot read (it reads hot-sqlite); remove quality from plugins or use hot-sqlite');
  });
});
