import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createStrata, definePlugin, type PluginContext } from '@strata/core';
import { hotSqlitePlugin } from '@strata/hot-sqlite';
import { createFakeClock } from '@strata/testing';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FINDING_KINDS, InsightStore, QualityOptionsSchema, openInsightsService, qualityPlugin, type InsightRun } from '../src/index.js';
import { fixture, tempDir } from './helpers.js';
import { DAY, NOW, RECENT_FROM, askedEvents, steadyWorkload } from './insightsWorkload.js';

const TRENDING = 'How do I configure Terraform state locking?';

async function trendingFixture() {
  const f = fixture(NOW);
  await f.write([...steadyWorkload({ perDay: 150 }), ...askedEvents(TRENDING, 60, { from: RECENT_FROM, to: NOW - 3_600_000 })]);
  const service = openInsightsService({ dataDir: f.dir, options: QualityOptionsSchema.parse({}), insights: () => f.tier.insights!, baselines: () => undefined, now: () => f.clock.now() });
  return { f, service };
}

describe('insights history', () => {
  it('stores each run with its findings in quality.db, queryable by kind and time, newest first', async () => {
    const { f, service } = await trendingFixture();
    try {
      const first = await service.run({ trigger: 'api' });
      expect(first).toMatchObject({ runId: 1, trigger: 'api', startedAt: NOW, finishedAt: NOW, skipped: [] });
      expect(first.findings.map((finding) => finding.kind)).toEqual(['question-trending-up']);
      expect(service.file).toBe(join(f.dir, 'quality.db'));

      f.clock.advance(DAY);
      await f.write(askedEvents('kubectl apply hangs forever', 8, { from: NOW, to: NOW + DAY - 3_600_000 }, (index, event) => (event.success = index === 0), 'k1'));
      await f.write(askedEvents('kubectl logs are empty', 8, { from: NOW, to: NOW + DAY - 3_600_000 }, (index, event) => (event.success = index === 0), 'k2'));
      const second = await service.run({ trigger: 'job' });
      expect(second.runId).toBe(2);
      expect(second.findings.map((finding) => finding.kind)).toEqual(['question-trending-up', 'unanswered-cluster']);

      const all = service.findings();
      expect(all.map((finding) => [finding.runId, finding.kind])).toEqual([
        [2, 'question-trending-up'],
        [2, 'unanswered-cluster'],
        [1, 'question-trending-up'],
      ]);
      expect(all[2]).toEqual({ ...first.findings[0], runId: 1, at: NOW });
      expect(service.findings({ kind: 'unanswered-cluster' }).map((finding) => finding.subject)).toEqual(['kubectl']);
      expect(service.findings({ since: NOW + 1 }).map((finding) => finding.runId)).toEqual([2, 2]);
      expect(service.findings({ limit: 1 })).toHaveLength(1);
      expect(service.latest()).toEqual(second);

      // The same file, read by another connection (the CLI, the report).
      service.close();
      const store = InsightStore.open({ file: join(f.dir, 'quality.db') });
      try {
        expect(store.latest()).toEqual(second);
      } finally {
        store.close();
      }
      const db = new Database(join(f.dir, 'quality.db'), { readonly: true });
      try {
        expect(db.prepare('SELECT kind, subject FROM insight_findings WHERE run_id = 2 ORDER BY position').all()).toEqual([
          { kind: 'question-trending-up', subject: 'how do i configure terraform state locking' },
          { kind: 'unanswered-cluster', subject: 'kubectl' },
        ]);
        expect(db.prepare('SELECT finding_count FROM insight_runs ORDER BY id').all()).toEqual([{ finding_count: 1 }, { finding_count: 2 }]);
      } finally {
        db.close();
      }
    } finally {
      service.close();
    }
  });

  it('stores nothing when the run is aborted', async () => {
    const { service } = await trendingFixture();
    try {
      const controller = new AbortController();
      controller.abort(new Error('closing'));
      await expect(service.run({ signal: controller.signal })).rejects.toThrow('closing');
      expect(service.latest()).toBeNull();
      expect(service.findings()).toEqual([]);
    } finally {
      service.close();
    }
  });

  it('removes runs older than historyDays after each run', async () => {
    const f = fixture(NOW);
    const service = openInsightsService({ dataDir: f.dir, options: QualityOptionsSchema.parse({ historyDays: 2 }), insights: () => f.tier.insights!, baselines: () => undefined, now: () => f.clock.now() });
    try {
      await service.run();
      f.clock.advance(3 * DAY);
      const latest = await service.run();
      expect(service.findings()).toEqual([]);
      expect(service.latest()?.runId).toBe(latest.runId);
      const db = new Database(service.file, { readonly: true });
      try {
        expect(db.prepare('SELECT id FROM insight_runs').all()).toEqual([{ id: latest.runId }]);
      } finally {
        db.close();
      }
    } finally {
      service.close();
    }
  });

  it('says which file it cannot open and what to do', () => {
    // A file where a folder should be: refused whoever runs the test (root ignores permissions).
    const blocker = join(tempDir(), 'blocker');
    writeFileSync(blocker, '');
    expect(() => InsightStore.open({ file: join(blocker, 'quality.db') })).toThrow(
      new RegExp(`^quality: cannot open the history database ${blocker}/quality\\.db \\(.+\\); set the quality plugin's file option to a writable path$`),
    );
  });
});

const catalog = { 'hot-sqlite': () => hotSqlitePlugin, quality: () => qualityPlugin };

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

describe('the insights job', () => {
  it('runs daily at 03:45 by default, stores its findings and counts them in the quality metric source', async () => {
    const cwd = tempDir();
    const clock = createFakeClock(NOW);
    const { plugin: probePlugin, context } = probe();
    const strata = await createStrata({ cwd, clock, logLevel: 'silent', scheduleJobs: false, catalog: { ...catalog, probe: () => probePlugin }, config: { plugins: ['hot-sqlite', 'quality', 'probe'] } });
    try {
      for (const event of [...steadyWorkload({ perDay: 150 }), ...askedEvents(TRENDING, 60, { from: RECENT_FROM, to: NOW - 3_600_000 })]) strata.record(event);
      await strata.flush();
      expect(strata.jobStatus().find((job) => job.name === 'insights')).toMatchObject({ schedule: '45 3 * * *', running: false });

      const report = (await strata.runJob('insights')) as unknown as InsightRun & { summary: string };
      expect(report.summary).toBe('insights: 1 finding(s), 0 warning(s): 1 question-trending-up (run 1)');
      expect(report.trigger).toBe('job');
      expect(report.findings[0]).toMatchObject({ kind: 'question-trending-up', numbers: { recentAsks: 60, baselineAsks: 0 } });

      const source = context().metricSources().find((candidate) => candidate.name === 'quality')!;
      const counts = (await source.read({ now: clock.now() })).filter((reading) => reading.name === 'insights.findings');
      expect(counts.map((reading) => [reading.labels!.kind, reading.value])).toEqual(FINDING_KINDS.map((kind) => [kind, kind === 'question-trending-up' ? 1 : 0]));
      expect(counts[0]).toMatchObject({ unit: 'findings', at: NOW });
    } finally {
      await strata.close();
    }
  });

  it('runs only on demand with insightsSchedule: false', async () => {
    const strata = await createStrata({ cwd: tempDir(), logLevel: 'silent', scheduleJobs: false, catalog, config: { plugins: ['hot-sqlite', { name: 'quality', options: { insightsSchedule: false } }] } });
    try {
      expect(strata.jobStatus().find((job) => job.name === 'insights')?.schedule).toBeNull();
      expect(strata.jobStatus().find((job) => job.name === 'quality')?.schedule).toBe('15 3 * * *');
    } finally {
      await strata.close();
    }
  });

  it('refuses an invalid schedule or threshold, naming the job or the option', async () => {
    await expect(
      createStrata({ cwd: tempDir(), logLevel: 'silent', catalog, config: { plugins: ['hot-sqlite', { name: 'quality', options: { insightsSchedule: 'nightly' } }] } }),
    ).rejects.toThrow(/jobs\.insights\.schedule: "nightly" is not a cron expression/);
    const error = await createStrata({
      cwd: tempDir(),
      logLevel: 'silent',
      catalog,
      config: { plugins: ['hot-sqlite', { name: 'quality', options: { insights: { minZ: 0, trendingDown: { maxRatio: 2 }, unanswered: { words: 3 } } } }] },
    }).then(
      () => new Error('expected the config to be refused'),
      (caught: unknown) => caught as Error,
    );
    expect(error.message).toContain('plugins[1].options.insights.minZ:');
    expect(error.message).toContain('plugins[1].options.insights.trendingDown.maxRatio:');
    expect(error.message).toMatch(/plugins\[1\]\.options\.insights\.unanswered: .*words/);
  });
});
