import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { cachedInsights } from '@strata/core';
import { createClient } from '@redis/client';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisCacheStore, type RedisCacheStore } from '../src/index.js';
import { countingProvider, eventually, freePort, recordingLogger, startRedisServer, stopRedisServer } from './helpers.js';

/** Why these tests cannot run here: they start redis-server themselves. */
function redisServerMissing(): string | undefined {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    const reason = 'redis-server is not installed';
    if (process.env.CI === 'true') throw new Error(`${reason}; CI must provide it`);
    console.warn(`[cache] Redis outage tests skipped: ${reason}`);
    return reason;
  }
}

const MINUTE = 60_000;
const D = Date.UTC(2026, 2, 10);
const range = { from: D, to: D + 86_400_000 };

describe.skipIf(redisServerMissing() !== undefined)('redis cache store through an outage (its own redis-server)', () => {
  const servers: ChildProcess[] = [];
  const stores: RedisCacheStore[] = [];

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    await Promise.all(servers.splice(0).map((server) => stopRedisServer(server)));
  });

  async function serve(port: number): Promise<ChildProcess> {
    const server = await startRedisServer(port);
    servers.push(server);
    return server;
  }

  async function openStore(port: number, logger = recordingLogger().logger): Promise<RedisCacheStore> {
    const store = await createRedisCacheStore({ url: `redis://127.0.0.1:${port}`, keyPrefix: 'outage:', connectTimeoutMs: 500, commandTimeoutMs: 250, retryIntervalMs: 50, logger });
    stores.push(store);
    return store;
  }

  it('keeps answering uncached through a Redis stop, warns once, and caches again once Redis is back', async () => {
    const port = await freePort();
    const server = await serve(port);
    const { logger, warn, info } = recordingLogger();
    const store = await openStore(port, logger);
    expect(await store.connect()).toBe(true);
    const { provider, computations } = countingProvider();
    const insights = cachedInsights(provider, store);

    await insights.userBehaviour({ range });
    expect((await insights.userBehaviour({ range })).items).toEqual([{ question: 'userBehaviour', version: 1 }]);

    await stopRedisServer(server);
    for (let call = 2; call <= 6; call += 1) {
      expect((await insights.userBehaviour({ range })).items, `call ${call} during the outage`).toEqual([{ question: 'userBehaviour', version: call }]);
    }
    await expect(insights.invalidateForBatch([{ timestamp: D, query: 'q', content: [] }])).resolves.toBeUndefined();
    expect(store.state).toBe('down');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![1]).toMatch(/redis is unreachable; insights are answered uncached/);
    expect(store.stats().errors).toBeGreaterThanOrEqual(5);

    await serve(port);
    await eventually(() => store.state === 'up');
    expect(info).toHaveBeenCalledTimes(1);
    expect(info.mock.calls[0]![1]).toMatch(/reachable again/);
    // The restarted server is empty and has forgotten the scripts: the first read computes and stores, the next one hits.
    await insights.userBehaviour({ range });
    await insights.userBehaviour({ range });
    expect(computations.userBehaviour).toBe(7);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('replays the invalidations it missed while Redis stalled before serving from it again', async () => {
    const port = await freePort();
    await serve(port);
    const { logger, warn } = recordingLogger();
    const store = await openStore(port, logger);
    expect(await store.connect()).toBe(true);
    await store.set('answer-of-day-d', 1, { ttlMs: MINUTE, tags: ['businessMetrics@2026-03-10'] });
    await store.set('answer-of-another-day', 2, { ttlMs: MINUTE, tags: ['businessMetrics@2026-03-20'] });

    const raw = createClient({ url: `redis://127.0.0.1:${port}` });
    await raw.connect();
    try {
      // The server stops answering every client for a second; the store's commands time out.
      await raw.sendCommand(['CLIENT', 'PAUSE', '1000', 'ALL']);
      expect(await store.get('answer-of-day-d')).toBeUndefined();
      expect(store.state).toBe('down');
      await store.invalidateTags(['businessMetrics@2026-03-10']);
      await eventually(async () => {
        await store.get('probe');
        return store.state === 'up';
      });
      expect(await store.get('answer-of-day-d')).toBeUndefined();
      expect(await store.get('answer-of-another-day')).toBe(2);
      expect(await raw.exists('outage:e:answer-of-day-d')).toBe(0);
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      await raw.close();
    }
  });

  it('starts uncached when Redis is down, and connects once it comes up', async () => {
    const port = await freePort();
    const { logger, warn } = recordingLogger();
    const store = await openStore(port, logger);
    expect(await store.connect()).toBe(false);
    expect(store.state).toBe('down');
    expect(warn).toHaveBeenCalledTimes(1);
    await store.set('k', 1, { ttlMs: MINUTE, tags: ['t'] });
    expect(await store.get('k')).toBeUndefined();
    await store.invalidateTags(['t']);

    await serve(port);
    await eventually(() => store.state === 'up');
    await store.set('k', 1, { ttlMs: MINUTE, tags: ['t'] });
    expect(await store.get('k')).toBe(1);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('closes promptly while Redis is unreachable', async () => {
    const port = await freePort();
    const store = await openStore(port);
    await store.connect();
    await store.close();
    expect(store.state).toBe('closed');
  });
});
