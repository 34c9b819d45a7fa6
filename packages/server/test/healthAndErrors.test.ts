import { ConfigError, StrataError } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { createStrataServer, formatBytes, parseByteSize, resolveServerOptions, statusForStrataError } from '../src/index.js';
import { TOKEN_SPECS, bearer, interaction, openServer, openStrata } from './helpers.js';

describe('health and readiness', () => {
  it('answers /healthz without a token while the process is up', async () => {
    const { server } = await openServer();
    const response = await server.app.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'ok', uptimeSeconds: expect.any(Number) });
  });

  it('answers /readyz 200 when the hot tier is healthy and the queue is below its bound', async () => {
    const { server } = await openServer();
    const response = await server.app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ ready: true, checks: { hotTier: { ok: true }, queue: { ok: true, queued: 0, bound: 25_000 }, accepting: { ok: true } } });
  });

  it('answers /readyz 503 with the reason while the queue is at its bound', async () => {
    const { server, strata } = await openServer({ config: { pipeline: { maxBatchDelayMs: 60_000, maxBatchSize: 100_000 } }, maxQueuedEvents: 2 });
    const held = server.app.inject({ method: 'POST', url: '/v1/interactions', headers: { ...bearer('admin'), 'content-type': 'application/json' }, payload: [interaction(), interaction()] });
    await expect.poll(() => strata.metrics().queued).toBe(2);
    const response = await server.app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ ready: false, checks: { queue: { ok: false, queued: 2, bound: 2, problem: expect.stringContaining('ingest answers 429 until it drains') } } });
    await strata.flush();
    await held;
  });

  it('answers /readyz 503 once the hot tier is closed', async () => {
    const { server, strata } = await openServer({ closeStrata: false, readinessCacheMs: 0 });
    await strata.close();
    const response = await server.app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(503);
    expect(response.json().checks.hotTier).toEqual({ ok: false, problem: 'hot-sqlite: closed' });
  });
});

describe('errors', () => {
  it('answers an unknown route 404 in the API\'s error shape', async () => {
    const { server } = await openServer();
    const response = await server.app.inject({ method: 'GET', url: '/v2/everything?token=abc' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ statusCode: 404, error: 'Not Found', code: 'STRATA_NOT_FOUND', message: expect.stringMatching(/^no route GET \/v2\/everything;/) });
  });

  it('maps Strata error codes to statuses', () => {
    const status = (code: ConstructorParameters<typeof StrataError>[0]) => statusForStrataError(new StrataError(code, 'x'));
    expect(status('STRATA_VALIDATION_FAILED')).toBe(400);
    expect(status('STRATA_ACCESS_DENIED')).toBe(403);
    expect(status('STRATA_NOT_FOUND')).toBe(404);
    expect(status('STRATA_JOB_BUSY')).toBe(409);
    expect(status('STRATA_QUEUE_FULL')).toBe(429);
    expect(status('STRATA_CLOSED')).toBe(503);
    expect(status('STRATA_STORAGE_FAILED')).toBe(503);
    expect(status('STRATA_DISK_FULL')).toBe(507);
    expect(status('STRATA_PLUGIN_TIMEOUT')).toBe(500);
  });

  it('answers a Strata error raised in a route with its mapped status and message', async () => {
    const { server } = await openServer({
      panels: {
        alerts: async () => {
          throw new StrataError('STRATA_DISK_FULL', 'alerts: the disk holding alerts.db is full; free space');
        },
      },
    });
    const response = await server.app.inject({ method: 'GET', url: '/v1/alerts', headers: bearer('viewer') });
    expect(response.statusCode).toBe(507);
    expect(response.json()).toMatchObject({ code: 'STRATA_DISK_FULL', message: 'alerts: the disk holding alerts.db is full; free space' });
  });

  it('answers an unexpected failure 500 without its details, which go to the log', async () => {
    const { server } = await openServer({
      panels: {
        quality: async () => {
          throw new Error('SQLITE_CORRUPT at /secret/path/quality.db');
        },
      },
    });
    const response = await server.app.inject({ method: 'GET', url: '/v1/quality', headers: bearer('viewer') });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toMatchObject({ code: 'STRATA_INTERNAL', message: expect.stringMatching(/^the server failed to answer GET \/v1\/quality \(request .+\); its log has the details$/) });
    expect(response.body).not.toContain('/secret/path');
  });

  it('answers a panel whose plugin is not configured 404 with how to configure it', async () => {
    const { server } = await openServer();
    for (const panel of ['alerts', 'quality']) {
      const response = await server.app.inject({ method: 'GET', url: `/v1/${panel}`, headers: bearer('viewer') });
      expect(response.statusCode).toBe(404);
      expect(response.json().message).toMatch(new RegExp(`the ${panel} plugin is not configured for this server; add "${panel}" to plugins`));
    }
  });

  it('answers reads 503 once Strata is closed, rather than 500', async () => {
    const { server, strata } = await openServer({ closeStrata: false });
    await strata.close();
    const report = await server.app.inject({ method: 'GET', url: '/v1/report', headers: bearer('viewer') });
    expect(report.statusCode).toBe(503);
    const ingest = await server.app.inject({ method: 'POST', url: '/v1/interactions', headers: { ...bearer('admin'), 'content-type': 'application/json' }, payload: [interaction()] });
    expect(ingest.statusCode).toBe(200);
    expect(ingest.json().results[0]).toMatchObject({ status: 'rejected', retryable: true, reason: expect.stringMatching(/strata is closed/) });
  });
});

describe('options', () => {
  it('applies defaults from the Strata config', async () => {
    const strata = await openStrata({ pipeline: { maxQueue: 40_000 }, shutdownTimeoutMs: 4_000 });
    const options = resolveServerOptions({ strata, tokens: TOKEN_SPECS });
    expect(options).toMatchObject({
      port: 8787,
      host: '127.0.0.1',
      bodyLimitBytes: 5 * 1024 * 1024,
      maxEventsPerBatch: 10_000,
      maxQueuedEvents: 10_000,
      maxConcurrentIngests: 8,
      retryAfterSeconds: 1,
      shutdownTimeoutMs: 4_000,
      closeStrata: true,
    });
  });

  it('reports every bad option at once, each with its name', async () => {
    const strata = await openStrata();
    const attempt = createStrataServer({ strata, tokens: TOKEN_SPECS, port: 70_000, bodyLimitBytes: 10, maxConcurrentIngests: 0, maxQueuedEvents: 1e9, host: '' });
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    const error = (await attempt.catch((caught: unknown) => caught)) as ConfigError;
    expect(error.issues.map((issue) => issue.path)).toEqual(['port', 'bodyLimitBytes', 'maxQueuedEvents', 'maxConcurrentIngests', 'host']);
    expect(error.message).toMatch(/port: must be a whole number from 0 to 65535, got 70000/);
  });

  it('parses and prints byte sizes', () => {
    expect(parseByteSize('5mb')).toBe(5 * 1024 * 1024);
    expect(parseByteSize('512 KB')).toBe(512 * 1024);
    expect(parseByteSize('1048576')).toBe(1_048_576);
    expect(parseByteSize('1.5m')).toBe(1_572_864);
    expect(parseByteSize('five megabytes')).toBeUndefined();
    expect(formatBytes(5 * 1024 * 1024)).toBe('5 MB');
    expect(formatBytes(4_096)).toBe('4 KB');
    expect(formatBytes(900)).toBe('900 bytes');
  });
});
