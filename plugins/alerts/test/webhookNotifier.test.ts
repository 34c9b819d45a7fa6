import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AlertNotification } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { WebhookNotifierSchema, createWebhookNotifier, deliverNotification, policyFor, type DeliveryPolicy, type Sleep, type WebhookPayload } from '../src/index.js';
import { onCleanup, recordingLogger } from './helpers.js';

interface Received {
  method: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A real HTTP server on a free local port; `respond` decides each answer from the request number (1-based). */
async function webhookServer(respond: (request: number, response: ServerResponse) => void): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ method: request.method ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      respond(received.length, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        // A hanging handler holds its socket open; close it so the server can stop.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks/strata?token=secret`, received };
}

const notification: AlertNotification = {
  id: 'n-1',
  status: 'firing',
  repeat: false,
  groupKey: '{severity="critical"}',
  groupLabels: { severity: 'critical' },
  firing: [
    {
      fingerprint: 'abc',
      rule: 'LowSuccessRate',
      metric: 'insights.success_rate',
      status: 'firing',
      severity: 'critical',
      labels: { alertname: 'LowSuccessRate', severity: 'critical' },
      summary: 'Success rate is 90% (threshold 95%)',
      value: 0.9,
      op: '<',
      threshold: 0.95,
      activeSince: 1,
      firingSince: 2,
      resolvedAt: null,
    },
  ],
  resolved: [],
  at: 2,
};

const DEFAULTS: DeliveryPolicy = { maxAttempts: 3, timeoutMs: 10_000, initialBackoffMs: 1_000, maxBackoffMs: 30_000 };

/** Delivers through the real retry loop; backoff delays are recorded instead of slept. */
async function deliver(url: string, options: Record<string, unknown> = {}) {
  const notifier = createWebhookNotifier(WebhookNotifierSchema.parse({ type: 'webhook', url, ...options }));
  const delays: number[] = [];
  const sleep: Sleep = async (ms) => {
    delays.push(ms);
  };
  const outcome = await deliverNotification(notifier, notification, { policy: policyFor(notifier, DEFAULTS), signal: new AbortController().signal, logger: recordingLogger(), sleep });
  return { outcome, delays };
}

describe('webhook notifier', () => {
  it('posts the notification as JSON with the configured headers', async () => {
    const server = await webhookServer((_, response) => response.writeHead(204).end());
    const { outcome } = await deliver(server.url, { headers: { authorization: 'Bearer t0ken' } });
    expect(outcome).toEqual({ ok: true, attempts: 1 });
    expect(server.received).toHaveLength(1);
    const [request] = server.received;
    expect(request!.method).toBe('POST');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers.authorization).toBe('Bearer t0ken');
    const payload = JSON.parse(request!.body) as WebhookPayload;
    expect(payload).toMatchObject({ version: 1, source: 'strata', id: 'n-1', status: 'firing', groupLabels: { severity: 'critical' } });
    expect(payload.firing[0]).toMatchObject({ rule: 'LowSuccessRate', value: 0.9, summary: 'Success rate is 90% (threshold 95%)' });
  });

  it('retries a server that fails twice, with doubling backoff, and succeeds on the third attempt', async () => {
    const server = await webhookServer((request, response) => (request <= 2 ? response.writeHead(503).end('warming up') : response.writeHead(200).end('ok')));
    const { outcome, delays } = await deliver(server.url, { maxAttempts: 3, initialBackoff: '100ms' });
    expect(outcome).toEqual({ ok: true, attempts: 3 });
    expect(server.received).toHaveLength(3);
    expect(delays).toEqual([100, 200]);
    // Every retry carries the same notification id, so the receiver can deduplicate.
    expect(new Set(server.received.map((request) => (JSON.parse(request.body) as WebhookPayload).id))).toEqual(new Set(['n-1']));
  });

  it('gives up on a server that hangs past the timeout, after the configured attempts, as retryable', async () => {
    const server = await webhookServer(() => {
      // never answers
    });
    const { outcome } = await deliver(server.url, { maxAttempts: 2, timeout: '200ms', initialBackoff: '10ms' });
    expect(outcome).toMatchObject({ ok: false, permanent: false, attempts: 2 });
    expect(outcome.ok === false && outcome.error).toBe('webhook: no answer within 200 ms');
    expect(server.received).toHaveLength(2);
  });

  it('does not retry a 4xx answer, and says what the server answered', async () => {
    const server = await webhookServer((_, response) => response.writeHead(400, { 'content-type': 'text/plain' }).end('unknown field "firing"'));
    const { outcome, delays } = await deliver(server.url, { maxAttempts: 5 });
    expect(outcome).toMatchObject({ ok: false, permanent: true, attempts: 1 });
    expect(outcome.ok === false && outcome.error).toContain('answered 400: unknown field "firing"');
    // The token in the query string is never echoed into logs or history.
    expect(outcome.ok === false && outcome.error).not.toContain('secret');
    expect(server.received).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it('waits as long as Retry-After asks on a 429, within maxBackoff', async () => {
    const server = await webhookServer((request, response) => (request === 1 ? response.writeHead(429, { 'retry-after': '3' }).end() : response.writeHead(200).end()));
    const { outcome, delays } = await deliver(server.url, { initialBackoff: '100ms', maxBackoff: '10s' });
    expect(outcome).toEqual({ ok: true, attempts: 2 });
    expect(delays).toEqual([3_000]);
  });

  it('treats a redirect as permanent instead of following it', async () => {
    const server = await webhookServer((_, response) => response.writeHead(301, { location: 'http://elsewhere.example/hook' }).end());
    const { outcome } = await deliver(server.url);
    expect(outcome).toMatchObject({ ok: false, permanent: true, attempts: 1 });
    expect(outcome.ok === false && outcome.error).toContain('http://elsewhere.example/hook');
  });

  it('retries when nothing listens, and reports the connection error', async () => {
    // A port that was just free: bind it, note it, release it.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const { outcome } = await deliver(`http://127.0.0.1:${port}/hooks/strata`, { maxAttempts: 2, initialBackoff: '1ms' });
    expect(outcome).toMatchObject({ ok: false, permanent: false, attempts: 2 });
    expect(outcome.ok === false && outcome.error).toBe(`webhook: cannot reach http://127.0.0.1:${port}/hooks/strata (ECONNREFUSED)`);
  });
});
