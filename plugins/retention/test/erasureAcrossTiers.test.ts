import { createStrata } from '@strata/core';
import { HistoricalSqliteTier, historicalSqlitePlugin } from '@strata/historical-sqlite';
import { HotSqliteTier, hotSqlitePlugin } from '@strata/hot-sqlite';
import { jsonArchivePlugin } from '@strata/json-archive';
import { createFakeClock } from '@strata/testing';
import { describe, expect, it } from 'vitest';
import { retentionPlugin } from '../src/index.js';
import { NOW, pastAndRecentEvents, tempDir } from './helpers.js';

describe('erasing a subject whose rows were archived', () => {
  it('takes their archived rows out of the hot rollups and the warm aggregates too: a question only they asked leaves no text behind', async () => {
    const strata = await createStrata({
      config: { dataDir: tempDir(), plugins: [hotSqlitePlugin({ writer: 'inline' }), historicalSqlitePlugin(), jsonArchivePlugin(), retentionPlugin()] },
      clock: createFakeClock(NOW),
      logLevel: 'silent',
      scheduleJobs: false,
    });
    try {
      const { old, recent } = pastAndRecentEvents();
      const subject = old[0]!.sessionId;
      const alone = { ...old[0]!, eventId: 'alone-1', query: 'Who reviewed the Ferris contract for Ms Example?' };
      const hot = strata.storage('hot') as HotSqliteTier;
      const warm = strata.storage('warm') as HistoricalSqliteTier;
      await hot.writeInteractions([...old, alone, ...recent]);
      const question = () => hot.database.prepare("SELECT total_asks FROM query_performance WHERE query_normalized LIKE '%ferris%'").all();
      expect(question()).toEqual([{ total_asks: 1 }]);
      const sessionsBefore = hot.database.prepare('SELECT SUM(sessions_started) AS n FROM rollup_day').get() as { n: number };

      await strata.runJob('retention');
      const ofSubject = [...old, alone].filter((event) => event.sessionId === subject).length;
      expect((await hot.queryInteractions({ sessionId: subject })).items).toEqual([]);
      expect(question()).toEqual([{ total_asks: 1 }]);

      const warmQuestion = () => warm.database.prepare("SELECT asks FROM questions_monthly WHERE query_normalized LIKE '%ferris%'").all();
      expect(warmQuestion()).toEqual([{ asks: 1 }]);
      const warmTotals = () => warm.database.prepare('SELECT SUM(interactions) AS interactions FROM interactions_monthly').get() as { interactions: number };
      const before = warmTotals().interactions;

      const report = await strata.erase({ sessionId: subject });
      expect(report.tiers.map((tier) => [tier.role, tier.remaining])).toEqual([
        ['hot', 0],
        ['warm', 0],
        ['cold', 0],
      ]);
      expect(report.tiers.map((tier) => tier.removed)).toEqual([0, expect.any(Number), ofSubject]);
      expect(report.tiers[1]!.removed).toBeGreaterThanOrEqual(1);
      expect(report.verified).toBe(true);
      expect(question()).toEqual([]);
      // The warm tier's monthly aggregates no longer count the subject, nor hold the question.
      expect(warmQuestion()).toEqual([]);
      expect(warmTotals().interactions).toBe(before - ofSubject);
      // The session's start came out of the daily rollups with it.
      expect(hot.database.prepare('SELECT SUM(sessions_started) AS n FROM rollup_day').get()).toEqual({ n: sessionsBefore.n - 1 });
    } finally {
      await strata.close();
    }
  });
});
