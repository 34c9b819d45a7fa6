import { generateWorkload } from '@strata/testing';
import { describe, expect, it } from 'vitest';
import { DAY, HOUR, NOW, fixture, only, resultOf, writeSteadyWorkload } from './helpers.js';

describe('every check on clean data', () => {
  it('passes each check over five weeks of a generated workload', async () => {
    const f = fixture();
    await writeSteadyWorkload(f, { days: 35, perHour: 20 });
    const report = await f.run({ rules: [{ name: 'answers-within-a-minute', rule: 'responseTime < 60' }] });
    expect(report.results.map((result) => [result.check, result.status])).toEqual([
      ['completeness', 'pass'],
      ['uniqueness', 'pass'],
      ['consistency', 'pass'],
      ['freshness', 'pass'],
      ['volume', 'pass'],
      ['schema', 'pass'],
      ['rule:answers-within-a-minute', 'pass'],
    ]);
    expect(report.status).toBe('pass');
    expect(report.counts).toEqual({ pass: 7, warn: 0, fail: 0, skipped: 0 });
    expect(resultOf(report, 'consistency').details).toMatchObject({ hoursCompared: 23, daysCompared: 2 });
    expect((resultOf(report, 'consistency').details.sessionsCompared as number) > 100).toBe(true);
  });

  it('skips the checks over raw rows with a reason when nothing is stored', async () => {
    const f = fixture();
    const report = await f.run();
    for (const check of ['completeness', 'uniqueness', 'consistency', 'freshness', 'volume']) {
      const result = resultOf(report, check);
      expect(result.status, check).toBe('skipped');
      expect(result.message, check).toMatch(/no interactions/);
    }
    expect(resultOf(report, 'schema').status).toBe('pass');
    expect(report.status).toBe('pass');
  });
});

describe('completeness', () => {
  it('fails when a required field is blanked by hand in more than 0.1 % of the window', async () => {
    const f = fixture();
    await writeSteadyWorkload(f, { days: 2, perHour: 20 });
    f.sql().prepare(`UPDATE user_interactions SET query = '   ' WHERE id = (SELECT MAX(id) FROM user_interactions)`).run();
    const result = resultOf(await f.run(only('completeness')), 'completeness');
    expect(result.status).toBe('fail');
    expect(result.message).toMatch(/^query missing in 1 row\(s\)/);
    expect(result.observed).toBeCloseTo(1 / (result.details.rows as number), 10);
    expect(result.readings).toContainEqual({ name: 'quality.null_rate', value: result.observed, unit: 'ratio', labels: { field: 'query' } });
  });

  it('only warns when the blank rate stays under the fail rate', async () => {
    const f = fixture();
    await writeSteadyWorkload(f, { days: 2, perHour: 20 });
    f.sql().prepare(`UPDATE user_interactions SET user_role = '' WHERE id = (SELECT MAX(id) FROM user_interactions)`).run();
    const result = resultOf(await f.run(only('completeness', { completeness: { failRate: 0.05 } })), 'completeness');
    expect(result.status).toBe('warn');
    expect(result.details.worstRequiredField).toBe('userRole');
  });

  it('warns when an optional field is null more often than its configured ceiling', async () => {
    const f = fixture();
    await writeSteadyWorkload(f, { days: 2, perHour: 20 });
    const result = resultOf(await f.run(only('completeness', { completeness: { optionalFields: { userRating: 0.5 } } })), 'completeness');
    expect(result.status).toBe('warn');
    expect(result.message).toMatch(/optional userRating null in \d+\.\d+ % of rows \(ceiling 50\.0 %\)/);
  });

  it('looks only at the window, so an old blank row is not counted', async () => {
    const f = fixture();
    await writeSteadyWorkload(f, { days: 3, perHour: 20 });
    f.sql().prepare(`UPDATE user_interactions SET query = '' WHERE id = (SELECT MIN(id) FROM user_interactions)`).run();
    expect(resultOf(await f.run(only('completeness')), 'completeness').status).toBe('pass');
  });
});

describe('uniqueness', () => {
  it('warns when a question is recorded twice in the same session turn', async () => {
    const f = fixture();
    await writeSteadyWorkload(f, { days: 2, perHour: 20 });
    const original = (await f.tier.queryInteractions({ range: { from: NOW - 3 * HOUR }, limit: 1 })).items[0]!;
    await f.write([{ ...original, eventId: 'resent-without-its-id', content: [] }]);
    const result = resultOf(await f.run(only('uniqueness')), 'uniqueness');
    expect(result.status).toBe('warn');
    expect(result.details).toMatchObject({ duplicateQueriesInTurn: 1, duplicateEventIds: 0, queryExampleEventIds: ['resent-without-its-id'] });
    expect(result.readings).toContainEqual({ name: 'quality.duplicate_queries_in_turn', value: 1, unit: 'rows' });
  });

  it('fails on a repeated event id once the unique index is gone', async () => {
    const f = fixture();
    await writeSteadyWorkload(f, { days: 2, perHour: 20 });
    const db = f.sql();
    db.exec('DROP INDEX idx_user_interactions_event_id');
    db.exec(`INSERT INTO user_interactions (event_id, session_id, timestamp, user_role, query, query_hash, query_type, response_time, success, created_at)
             SELECT event_id, session_id || '-copy', timestamp, user_role, query, query_hash, query_type, response_time, success, created_at
             FROM user_interactions WHERE id = (SELECT MAX(id) FROM user_interactions)`);
    const report = await f.run(only(['uniqueness', 'schema']));
    const result = resultOf(report, 'uniqueness');
    expect(result.status).toBe('fail');
    expect(result.details).toMatchObject({ duplicateEventIds: 1, eventIdsComparedAgainst: 'within the same hour (no index to look further)' });
    expect(resultOf(report, 'schema')).toMatchObject({ status: 'fail', message: expect.stringContaining('index idx_user_interactions_event_id on user_interactions is missing') });
  });
});

describe('consistency', () => {
  it('fails when a raw row is inserted without updating the rollups', async () => {
    const f = fixture();
    await writeSteadyWorkload(f, { days: 2, perHour: 20 });
    f.sql()
      .prepare(
        `INSERT INTO user_interactions (event_id, session_id, timestamp, user_role, query, query_hash, query_type, response_time, success, created_at)
         VALUES ('sneaked-in', 'sneaky-session', ?, 'student', 'hello', 'abc', 'general', 1.5, 1, ?)`,
      )
      .run(NOW - 2 * HOUR, NOW);
    const result = resultOf(await f.run(only('consistency')), 'consistency');
    expect(result.status).toBe('fail');
    expect(result.message).toContain('1 hourly rollup row(s) lack raw rows');
    expect(result.message).toContain('1 session(s) have raw rows but no session row');
    expect(result.details.examples).toContainEqual({
      scope: 'hour',
      kind: 'missing-from-rollup',
      at: '2025-12-31T22:00Z',
      userRole: 'student',
      queryType: 'general',
      differences: expect.objectContaining({ interactions: [expect.any(Number), expect.any(Number)] }),
    });
    expect(result.details.examples).toContainEqual({ scope: 'session', kind: 'session-missing', eventId: 'sneaked-in', differences: { queries: [1, 0] } });
  });

  it('warns when raw rows were deleted but their rollups keep counting them', async () => {
    const f = fixture();
    await writeSteadyWorkload(f, { days: 2, perHour: 20 });
    expect(await f.tier.deleteInteractions({ from: NOW - 5 * HOUR - 40 * 60_000, to: NOW - 4 * HOUR - 40 * 60_000 })).toBeGreaterThan(0);
    const result = resultOf(await f.run(only('consistency')), 'consistency');
    expect(result.status).toBe('warn');
    expect(result.message).toMatch(/hourly rollup row\(s\) count more than the raw rows left \(rows deleted; rollups keep history\)/);
  });

  it('stays consistent after a session is erased, since erasure takes it out of the rollups too', async () => {
    const f = fixture();
    await writeSteadyWorkload(f, { days: 2, perHour: 20 });
    const recent = (await f.tier.queryInteractions({ range: { from: NOW - 3 * HOUR }, limit: 1 })).items[0]!;
    expect(await f.tier.eraseSession(recent.sessionId)).toBeGreaterThan(0);
    expect(resultOf(await f.run(only('consistency')), 'consistency').status).toBe('pass');
  });

  it('fails when a daily rollup disagrees with its hours', async () => {
    const f = fixture();
    await writeSteadyWorkload(f, { days: 2, perHour: 20 });
    f.sql().prepare(`UPDATE rollup_day SET successes = successes + 1 WHERE bucket_start = ? AND user_role = 'student' AND query_type = 'technical'`).run(NOW - 40 * 60_000 - DAY);
    const result = resultOf(await f.run(only('consistency')), 'consistency');
    expect(result.status).toBe('fail');
    expect(result.details.examples).toEqual([
      { scope: 'day', kind: 'values-differ', at: '2025-12-31', userRole: 'student', queryType: 'technical', differences: { successes: [expect.any(Number), expect.any(Number)] } },
    ]);
  });

  it('compares only the hours after the oldest raw row, since rollups outlive retention', async () => {
    const f = fixture();
    const { start } = await writeSteadyWorkload(f, { days: 10, perHour: 20 });
    // Retention removed the raw rows of the first days (up to the middle of an hour); the rollups stay.
    const cut = start + 4 * DAY + 30 * 60_000;
    await f.tier.deleteInteractions({ to: cut });
    const result = resultOf(await f.run(only('consistency', { window: '10d' })), 'consistency');
    expect(result.status).toBe('pass');
    expect(result.message).toMatch(/raw rows start 2025-12-26T\d\d:\d\d:\d\d\.\d{3}Z: earlier hours and sessions are not compared, their rollups are history/);
    const oldest = (await f.tier.queryInteractions({ limit: 1 })).items[0]!.timestamp;
    expect(Date.parse(result.details.comparedFrom as string)).toBe(Math.floor(oldest / HOUR) * HOUR + HOUR);
    expect(result.details.hoursCompared).toBe((Math.floor(NOW / HOUR) * HOUR - (Math.floor(oldest / HOUR) * HOUR + HOUR)) / HOUR);
  });
});

describe('freshness', () => {
  it('passes, then warns, then fails as the newest event ages on a fake clock', async () => {
    const f = fixture();
    await writeSteadyWorkload(f, { days: 1, perHour: 10 });
    const fresh = resultOf(await f.run(only('freshness')), 'freshness');
    expect(fresh.status).toBe('pass');
    f.clock.advance(7 * HOUR);
    const stale = resultOf(await f.run(only('freshness')), 'freshness');
    expect(stale.status).toBe('warn');
    expect(stale.observed).toBeCloseTo(fresh.observed! + 7 * 3_600, 6);
    f.clock.advance(20 * HOUR);
    const dead = resultOf(await f.run(only('freshness')), 'freshness');
    expect(dead.status).toBe('fail');
    expect(dead.message).toMatch(/^newest interaction is 27\.\d h old/);
    expect(dead.readings).toEqual([{ name: 'quality.freshness_seconds', value: dead.observed, unit: 's' }]);
  });

  it('honours configured thresholds', async () => {
    const f = fixture();
    await writeSteadyWorkload(f, { days: 1, perHour: 10 });
    expect(resultOf(await f.run(only('freshness', { freshness: { warnAfter: '1m', failAfter: '2m' } })), 'freshness').status).toBe('fail');
  });
});

describe('volume', () => {
  const hourOfDay = { volume: { seasonality: 'hour-of-day' as const, baselinePeriods: 7, minHistory: 4 } };

  it('is skipped with the history it has until the minimum history exists', async () => {
    const f = fixture();
    await writeSteadyWorkload(f, { days: 10, perHour: 20 });
    const result = resultOf(await f.run(only('volume')), 'volume');
    expect(result.status).toBe('skipped');
    expect(result.message).toMatch(/^needs 4 week\(s\) of history at the same weekday and hour before it scores; the tier has 1 \(hourly counts start /);
  });

  it('passes on steady traffic with enough history by hour of day', async () => {
    const f = fixture();
    await writeSteadyWorkload(f, { days: 8, perHour: 20 });
    const result = resultOf(await f.run(only('volume', hourOfDay)), 'volume');
    expect(result.status).toBe('pass');
    expect(result.details.hoursScored).toBe(23);
  });

  it('fails on a spike in the last hour', async () => {
    const f = fixture();
    await writeSteadyWorkload(f, { days: 8, perHour: 20 });
    const hour = Math.floor(NOW / HOUR) * HOUR - HOUR;
    await f.write(generateWorkload({ events: 300, seed: 99, start: hour, days: 0.6 / 24, idPrefix: 'spike', networkFields: false }));
    const result = resultOf(await f.run(only('volume', hourOfDay)), 'volume');
    expect(result.status).toBe('fail');
    expect(result.details).toMatchObject({ hour: '2025-12-31T23:00Z' });
    expect(result.observed! >= 5).toBe(true);
    expect(result.message).toMatch(/^volume anomaly: 2025-12-31T23:00Z had \d+ interaction\(s\) against a median of \d+ for that hour/);
    expect(result.readings.map((reading) => reading.name)).toEqual(['quality.volume_zscore', 'quality.volume_count', 'quality.volume_baseline']);
  });

  it('fails when traffic stops for the last hours', async () => {
    const f = fixture();
    await writeSteadyWorkload(f, { days: 8, perHour: 60, endAgo: 4 * HOUR });
    const result = resultOf(await f.run(only('volume', hourOfDay)), 'volume');
    expect(result.status).toBe('fail');
    expect(result.observed! <= -5).toBe(true);
    expect(result.details.count).toBe(0);
  });
});

describe('schema drift', () => {
  it('warns about a column added by hand', async () => {
    const f = fixture();
    await writeSteadyWorkload(f, { days: 1, perHour: 5 });
    f.sql().exec('ALTER TABLE user_interactions ADD COLUMN notes TEXT');
    const result = resultOf(await f.run(only('schema')), 'schema');
    expect(result.status).toBe('warn');
    expect(result.message).toBe('column user_interactions.notes (TEXT) is not defined by the migrations');
    expect(result.details.differences).toEqual([{ kind: 'unknown-column', severity: 'warn', table: 'user_interactions', column: 'notes', actual: 'TEXT' }]);
  });

  it('fails on a missing column and warns on an unknown table unless it is ignored', async () => {
    const f = fixture();
    f.sql().exec('ALTER TABLE rollup_minute DROP COLUMN follow_ups; CREATE TABLE my_notes (id INTEGER)');
    const result = resultOf(await f.run(only('schema')), 'schema');
    expect(result.status).toBe('fail');
    expect(result.message).toBe(
      'column rollup_minute.follow_ups is missing; table my_notes is not defined by the migrations (list it in schema.ignoreTables if it is meant to be there)',
    );
    const ignored = resultOf(await f.run(only('schema', { schema: { ignoreTables: ['my_notes'] } })), 'schema');
    expect(ignored.details.differences).toEqual([{ kind: 'missing-column', severity: 'fail', table: 'rollup_minute', column: 'follow_ups', expected: 'INTEGER NOT NULL' }]);
  });

  it('notes indexes added by hand without reporting them as drift', async () => {
    const f = fixture();
    f.sql().exec('CREATE INDEX my_role_index ON user_interactions (user_role)');
    const result = resultOf(await f.run(only('schema')), 'schema');
    expect(result.status).toBe('pass');
    expect(result.details.indexesAddedByHand).toEqual(['my_role_index (user_role)']);
  });
});

describe('business rules', () => {
  it('fails when more rows break a rule than its fail rate allows, naming a few', async () => {
    const f = fixture();
    await writeSteadyWorkload(f, { days: 1, perHour: 20 });
    const result = resultOf(await f.run(only([], { rules: [{ name: 'snappy', rule: 'responseTime < 2' }] })), 'rule:snappy');
    expect(result.status).toBe('fail');
    expect(result.message).toMatch(/^\d+ of \d+ row\(s\) \([\d.]+ %\) break responseTime < 2, e\.g\. events ev-7-\d+/);
    expect((result.details.exampleEventIds as string[]).length).toBe(5);
    expect(result.readings[0]).toMatchObject({ name: 'quality.rule_violation_rate', labels: { rule: 'snappy' } });
  });

  it('does not count rows whose needed field is null as violations', async () => {
    const f = fixture();
    await writeSteadyWorkload(f, { days: 1, perHour: 20 });
    const result = resultOf(await f.run(only([], { rules: [{ name: 'rated-well', rule: 'userRating >= 1' }] })), 'rule:rated-well');
    expect(result.status).toBe('pass');
    expect((result.details.unknown as number) > 0).toBe(true);
    expect(result.details.violations).toBe(0);
  });

  it('reads every page of a window larger than one page', async () => {
    const f = fixture();
    await writeSteadyWorkload(f, { days: 1, perHour: 500 });
    f.sql().exec(`UPDATE user_interactions SET response_time = 99 WHERE id IN (SELECT id FROM user_interactions ORDER BY timestamp DESC LIMIT 3)`);
    const result = resultOf(await f.run(only([], { rules: [{ name: 'under-a-minute', rule: 'responseTime < 60', warnRate: 0, failRate: 0.5 }] })), 'rule:under-a-minute');
    expect(result.details).toMatchObject({ violations: 3 });
    expect((result.details.rows as number) > 10_000).toBe(true);
    expect(result.status).toBe('warn');
  });
});

describe('a check that cannot run', () => {
  it('fails that check with the error and still runs the others', async () => {
    const f = fixture();
    await writeSteadyWorkload(f, { days: 1, perHour: 10 });
    f.sql().exec('DROP TABLE rollup_hour');
    const report = await f.run();
    expect(resultOf(report, 'consistency')).toMatchObject({ status: 'fail', message: 'the check could not run: no such table: rollup_hour' });
    expect(resultOf(report, 'freshness').status).toBe('pass');
    expect(resultOf(report, 'schema').message).toContain('table rollup_hour is missing');
  });
});
