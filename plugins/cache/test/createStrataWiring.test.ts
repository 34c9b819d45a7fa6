import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStrata, type Strata } from '@strata/core';
import { afterEach, describe, expect, it } from 'vitest';

let strata: Strata | undefined;
let directory: string | undefined;
afterEach(async () => {
  await strata?.close();
  if (directory) rmSync(directory, { recursive: true, force: true });
  strata = undefined;
  directory = undefined;
});

/**
 * An event some minutes ago, kept inside today (UTC): the tests read the last day's figures, and
 * run just after midnight "30 minutes ago" would fall on the day before. Earlier minutes stay earlier.
 */
function event(id: string, minutesAgo: number, success = true) {
  const now = Date.now();
  const startOfDay = now - (now % 86_400_000);
  const at = Math.max(now - minutesAgo * 60_000, startOfDay + (60 - minutesAgo) * 1_000);
  return { eventId: id, sessionId: `s-${id}`, timestamp: new Date(at).toISOString(), userRole: 'student', query: `question ${id}`, queryType: 'technical', responseTime: 1, success };
}

async function readHits(): Promise<number> {
  const cache = (await strata!.metricSources().find((source) => source.name === 'cache')!.read({ now: Date.now() })).find((reading) => reading.name === 'cache.hits');
  return cache?.value ?? 0;
}

describe('createStrata with the cache plugin', () => {
  it('reads insights through the cache and drops the answers a new batch changes before its callers hear back', async () => {
    directory = mkdtempSync(join(tmpdir(), 'cache-wiring-'));
    strata = await createStrata({ config: { plugins: ['hot-sqlite', 'cache'] }, dataDir: directory, logLevel: 'silent', monitor: false });
    await strata.recordStrict(event('a', 30));
    const first = await strata.insights.businessMetrics({});
    expect(first.items.at(-1)).toMatchObject({ interactions: 1 });
    const hitsBefore = await readHits();
    expect(await strata.insights.businessMetrics({})).toEqual(first);
    expect(await readHits()).toBe(hitsBefore + 1);

    // recordStrict resolves after the commit and the invalidation: the next read is fresh.
    await strata.recordStrict(event('b', 20, false));
    expect((await strata.insights.businessMetrics({})).items.at(-1)).toMatchObject({ interactions: 2, successRate: 0.5 });
  });

  it('drops cached answers after an erasure and after a rating', async () => {
    directory = mkdtempSync(join(tmpdir(), 'cache-wiring-'));
    strata = await createStrata({ config: { plugins: ['hot-sqlite', 'cache'] }, dataDir: directory, logLevel: 'silent', monitor: false });
    await strata.recordStrict(event('c', 10));
    await strata.recordStrict(event('d', 5));
    expect((await strata.insights.businessMetrics({})).items.at(-1)).toMatchObject({ interactions: 2, ratedInteractions: 0 });
    await strata.rate({ eventId: 'd', userRating: 5 });
    expect((await strata.insights.businessMetrics({})).items.at(-1)).toMatchObject({ ratedInteractions: 1, avgRating: 5 });
    await strata.erase({ sessionId: 's-c' });
    expect((await strata.insights.businessMetrics({})).items.at(-1)).toMatchObject({ interactions: 1 });
  });
});
