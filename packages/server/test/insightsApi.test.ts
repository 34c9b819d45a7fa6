import type { Strata } from '@strata/core';
import { generateWorkload } from '@strata/testing';
import { describe, expect, it } from 'vitest';
import { INSIGHTS_QUESTIONS, type StrataServer } from '../src/index.js';
import { DAY_MS, bearer, openServer } from './helpers.js';

const viewer = bearer('viewer');

async function seeded(): Promise<{ server: StrataServer; strata: Strata }> {
  const opened = await openServer();
  const start = Math.floor(Date.now() / DAY_MS) * DAY_MS - 20 * DAY_MS;
  await Promise.all([...generateWorkload({ events: 600, seed: 7, start, days: 15, networkFields: false })].map((event) => opened.strata.recordStrict(event)));
  await opened.strata.sampleSystemMetrics();
  return opened;
}

const get = (server: StrataServer, url: string, headers: Record<string, string> = viewer) => server.app.inject({ method: 'GET', url, headers });

describe('GET /v1/insights/:question', () => {
  it('answers every question with a page: items, nextCursor and the range covered', async () => {
    const { server } = await seeded();
    for (const question of INSIGHTS_QUESTIONS) {
      const response = await get(server, `/v1/insights/${question}?from=30d&limit=1000`);
      expect(response.statusCode, question).toBe(200);
      expect(response.json(), question).toMatchObject({ items: expect.any(Array), nextCursor: null, range: { from: expect.any(Number) } });
    }
  });

  it('gives the same numbers as the scoped API, for the same range and role', async () => {
    const { server, strata } = await seeded();
    const from = Date.now() - 10 * DAY_MS;
    const to = Date.now();
    const response = await get(server, `/v1/insights/userBehaviour?from=${from}&to=${new Date(to).toISOString()}&role=student`);
    expect(response.json()).toEqual(JSON.parse(JSON.stringify(await strata.insights.userBehaviour({ range: { from, to }, userRole: 'student' }))));
  });

  it('pages with the cursor it returned until the list ends', async () => {
    const { server, strata } = await seeded();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: Array<{ queryHash: string }>; nextCursor: string | null } = (await get(server, `/v1/insights/commonQuestions?limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).json();
      seen.push(...page.items.map((item) => item.queryHash));
      cursor = page.nextCursor;
    } while (cursor);
    const all = await strata.insights.commonQuestions({ limit: 1000 });
    expect(seen).toEqual(all.items.map((item) => item.queryHash));
  });

  it('takes the parameters of trending queries and system performance', async () => {
    const { server } = await seeded();
    const trending = (await get(server, '/v1/insights/trendingQueries?recentDays=3&baselineDays=10')).json();
    expect(trending).toMatchObject({ recentDays: 3, baselineDays: 10 });
    const system = (await get(server, '/v1/insights/systemPerformance?granularity=day&metric=system.memory_rss_mb')).json();
    expect(system.items.length).toBeGreaterThan(0);
    expect(new Set(system.items.map((item: { metricName: string }) => item.metricName))).toEqual(new Set(['system.memory_rss_mb']));
  });

  it('answers an unknown question 404, naming the questions there are', async () => {
    const { server } = await openServer();
    const response = await get(server, '/v1/insights/mostAskedEver');
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ code: 'STRATA_NOT_FOUND', message: expect.stringContaining('there is no insights question "mostAskedEver"; the questions are commonQuestions, userBehaviour') });
  });

  const badParameters: Array<[string, RegExp]> = [
    ['/v1/insights/commonQuestions?limit=0', /^query\.limit: must be >= 1$/],
    ['/v1/insights/commonQuestions?limit=5000', /^query\.limit: must be <= 1000$/],
    ['/v1/insights/commonQuestions?limit=ten', /^query\.limit: must be integer$/],
    ['/v1/insights/commonQuestions?limit=1&limit=2', /^query\.limit: must be integer$/],
    ['/v1/insights/commonQuestions?sort=asks', /^query\.sort: is not a parameter of this endpoint; accepted: from, to, role, limit, cursor$/],
    ['/v1/insights/commonQuestions?recentDays=3', /^query\.recentDays: is not a parameter of this endpoint/],
    ['/v1/insights/businessMetrics?from=yesterday', /^query\.from: must be an ISO-8601 date-time, epoch milliseconds or a duration such as 7d, got "yesterday"$/],
    ['/v1/insights/businessMetrics?from=2026-02-30', /^query\.from: is not a real date/],
    ['/v1/insights/businessMetrics?from=1700000000', /^query\.from: must be after 2000-01-01, got 1700000000 \(this looks like seconds; send milliseconds\)$/],
    ['/v1/insights/businessMetrics?from=2026-05-01&to=2026-04-01', /^query\.to: must be after from \(2026-05-01T00:00:00\.000Z\), got 2026-04-01T00:00:00\.000Z$/],
    ['/v1/insights/businessMetrics?role=', /^query\.role: must NOT have fewer than 1 characters$/],
    ['/v1/insights/trendingQueries?recentDays=0', /^query\.recentDays: must be >= 1$/],
    ['/v1/insights/systemPerformance?granularity=week', /^query\.granularity: must be one of minute, hour, day$/],
    ['/v1/report?top=500', /^query\.top: must be <= 100$/],
    ['/v1/interactions?limit=-1', /^query\.limit: must be >= 1$/],
  ];
  for (const [url, message] of badParameters) {
    it(`answers ${url} 400 naming the parameter`, async () => {
      const { server } = await openServer();
      const response = await get(server, url, bearer('admin'));
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ statusCode: 400, code: 'STRATA_VALIDATION_FAILED', message: expect.stringMatching(message) });
    });
  }

  it('answers a cursor it never issued 400, not 503', async () => {
    const { server } = await seeded();
    for (const url of ['/v1/insights/commonQuestions?cursor=bm90LWEtY3Vyc29y', '/v1/insights/contentEffectiveness?cursor=%5B%5D', '/v1/interactions?cursor=garbage']) {
      const response = await get(server, url, bearer('admin'));
      expect(response.statusCode, url).toBe(400);
      expect(response.json().message, url).toMatch(/^query\.cursor: hot-sqlite: cursor .* is not one this tier issued/);
    }
  });
});

describe('GET /v1/report, /v1/interactions and /v1/status', () => {
  it('reports a range and a role', async () => {
    const { server, strata } = await seeded();
    const response = await get(server, '/v1/report?from=30d&role=recruiter&top=3');
    expect(response.statusCode).toBe(200);
    const report = response.json();
    expect(report.topQueries).toHaveLength(3);
    expect(report.totals.interactions).toBe((await strata.report({ range: { from: report.range.from }, userRole: 'recruiter' })).totals.interactions);
  });

  it('lists raw interactions to a role with read, a page at a time, filtered', async () => {
    const { server } = await seeded();
    const first = (await get(server, '/v1/interactions?limit=5&queryType=career', bearer('developer'))).json();
    expect(first.items).toHaveLength(5);
    expect(first.items.every((item: { queryType: string }) => item.queryType === 'career')).toBe(true);
    const second = (await get(server, `/v1/interactions?limit=5&queryType=career&cursor=${encodeURIComponent(first.nextCursor)}`, bearer('developer'))).json();
    expect(second.items[0].timestamp).toBeGreaterThanOrEqual(first.items[4].timestamp);
    expect(second.items.map((item: { eventId: string }) => item.eventId)).not.toContain(first.items[4].eventId);
  });

  it('shows status (tiers, counters) to every role', async () => {
    const { server } = await seeded();
    const status = (await get(server, '/v1/status')).json();
    expect(status.tiers[0]).toMatchObject({ name: 'hot-sqlite', role: 'hot', health: { ok: true } });
    expect(status.counters.stored).toBe(600);
  });

  it('marks API answers as not cacheable', async () => {
    const { server } = await openServer();
    const response = await get(server, '/v1/report');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });
});
