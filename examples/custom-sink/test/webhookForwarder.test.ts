import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStrata, type Interaction, type PipelineOptions, type Strata } from '@strata/core';
import { hotSqlitePlugin } from '@strata/hot-sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { webhookForwarderPlugin, type WebhookForwarderOptions } from '../src/index.js';

const SINK = 'webhook-forwarder';
const exampleDir = join(import.meta.dirname, '..');

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
function tempDir(): string {
  const directory = mkdtempSync(join(tmpdir(), 'strata-example-sink-'));
  cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

interface ReceivedRequest {
  number: number;
  headers: IncomingHttpHeaders;
  events: Interaction[];
}

/**
 * A real webhook receiver on a free port. `answer` decides each request's fate by its number
 * (from 1): a status to reply with, or 'hold' to leave it unanswered until `release()`.
 */
async function startReceiver(answer: (number: number) => number | { status: number; headers: Record<string, string> } | 'hold' = () => 204) {
  const requests: ReceivedRequest[] = [];
  const held: ServerResponse[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const number = requests.length + 1;
      requests.push({ number, headers: request.headers, events: (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { events: Interaction[] }).events });
      const fate = answer(number);
      if (fate === 'hold') held.push(response);
      else if (typeof fate === 'number') response.writeHead(fate).end();
      else response.writeHead(fate.status, fate.headers).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  const accepted = (status: (number: number) => boolean) => requests.filter((request) => status(request.number)).flatMap((request) => request.events.map((event) => event.eventId));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    requests,
    held,
    /** Event ids of the requests answered 2xx, in arrival order. */
    delivered: () => accepted((number) => {
      const fate = answer(number);
      return typeof fate === 'number' && fate < 300;
    }),
    release: () => held.splice(0).forEach((response) => response.writeHead(204).end()),
  };
}

async function startStrata(options: Partial<WebhookForwarderOptions> & { url: string }, pipeline: PipelineOptions = {}): Promise<Strata> {
  const strata = await createStrata({
    config: {
      plugins: [hotSqlitePlugin({ writer: 'inline' }), webhookForwarderPlugin(options)],
      pipeline: { ...pipeline, sinks: { [SINK]: { initialBackoffMs: 10, maxBackoffMs: 20 } } },
    },
    dataDir: tempDir(),
    logLevel: 'silent',
    monitor: false,
    scheduleJobs: false,
  });
  cleanups.push(() => strata.close());
  return strata;
}

const start = Date.UTC(2026, 2, 1, 12);
function interaction(index: number) {
  return { eventId: `event-${index}`, sessionId: `session-${index % 4}`, timestamp: start + index, userRole: 'student', query: `question ${index}`, queryType: 'general', responseTime: 0.4, success: true };
}
/** Records `count` events and resolves once the hot tier committed every one of them. */
async function recordCommitted(strata: Strata, count: number, from = 0): Promise<void> {
  const outcomes = await Promise.all(Array.from({ length: count }, (_, index) => strata.recordStrict(interaction(from + index))));
  expect(outcomes.every((outcome) => outcome.status === 'stored')).toBe(true);
}
const ids = (from: number, count: number) => Array.from({ length: count }, (_, index) => `event-${from + index}`);

describe('webhook forwarder sink', () => {
  it('forwards every committed event as JSON, at most maxEventsPerRequest per request', async () => {
    const receiver = await startReceiver();
    const strata = await startStrata({ url: receiver.url, maxEventsPerRequest: 10, headers: { authorization: 'Bearer test-token' } });
    await recordCommitted(strata, 25);
    await strata.flush();

    expect(receiver.delivered().sort()).toEqual(ids(0, 25).sort());
    for (const request of receiver.requests) {
      expect(request.events.length).toBeLessThanOrEqual(10);
      expect(request.headers).toMatchObject({ 'content-type': 'application/json', authorization: 'Bearer test-token', 'idempotency-key': expect.stringMatching(/^[0-9a-f]{32}$/) });
    }
    expect(receiver.requests[0]!.events[0]).toMatchObject({ query: 'question 0', userRole: 'student', queryType: 'general' });
    expect(strata.metrics().sinks[SINK]).toMatchObject({ delivered: 25, failures: 0, dropped: 0, backlog: 0 });
  });

  it('retries a request answered 500 or 429, resuming the batch without sending accepted requests again', async () => {
    const statuses: Record<number, number | { status: number; headers: Record<string, string> }> = { 2: 500, 3: { status: 429, headers: { 'retry-after': '0' } } };
    const receiver = await startReceiver((number) => statuses[number] ?? 204);
    // One committed batch of 25: cut when the 25th event arrives.
    const strata = await startStrata({ url: receiver.url, maxEventsPerRequest: 10 }, { maxBatchSize: 25, maxBatchDelayMs: 5_000 });
    await recordCommitted(strata, 25);
    await strata.flush();

    expect(receiver.requests.map((request) => request.events.length)).toEqual([10, 10, 10, 10, 5]);
    expect(receiver.delivered()).toEqual(ids(0, 25)); // each event accepted once, in order
    expect(strata.metrics().sinks[SINK]).toMatchObject({ delivered: 25, failures: 2, retries: 2, dropped: 0 });
  });

  it('drops a batch the receiver refuses with 400 without retrying it, counts it, and keeps it in the hot tier', async () => {
    const receiver = await startReceiver(() => 400);
    const strata = await startStrata({ url: receiver.url }, { maxBatchSize: 7, maxBatchDelayMs: 5_000 });
    await recordCommitted(strata, 7);
    await strata.flush();

    expect(receiver.requests).toHaveLength(1);
    expect(strata.metrics().sinks[SINK]).toMatchObject({ delivered: 0, failures: 1, retries: 0, dropped: 7, backlog: 0 });
    expect(await strata.storage('hot')!.countInteractions()).toBe(7);
  });

  it('retries a request that gets no answer within requestTimeoutMs', async () => {
    const receiver = await startReceiver((number) => (number === 1 ? 'hold' : 204));
    const strata = await startStrata({ url: receiver.url, requestTimeoutMs: 300 });
    await recordCommitted(strata, 5);
    await strata.flush();

    expect(receiver.held).toHaveLength(1);
    expect(receiver.delivered().sort()).toEqual(ids(0, 5).sort());
    // At least the held request failed; on a slow machine a retry may time out too, and is retried again.
    const counters = strata.metrics().sinks[SINK]!;
    expect(counters).toMatchObject({ delivered: 5, dropped: 0 });
    expect(counters.failures).toBeGreaterThanOrEqual(1);
    expect(counters.retries).toBe(counters.failures);
  });

  it('never holds up ingest: events are committed while the receiver has not answered', async () => {
    const receiver = await startReceiver(() => 'hold');
    const strata = await startStrata({ url: receiver.url, requestTimeoutMs: 60_000 });
    await recordCommitted(strata, 10);
    await expect.poll(() => receiver.held.length, { timeout: 10_000 }).toBe(1); // the sink is now stuck on its first request

    await recordCommitted(strata, 200, 10);
    expect(await strata.storage('hot')!.countInteractions()).toBe(210);
    expect(strata.metrics().sinks[SINK]).toMatchObject({ delivered: 0, dropped: 0, backlog: 210 });

    // Once the receiver answers, the backlog drains: every held request (and each later one) gets 204.
    const draining = setInterval(receiver.release, 10);
    cleanups.push(() => clearInterval(draining));
    await strata.flush();
    expect(strata.metrics().sinks[SINK]).toMatchObject({ delivered: 210, dropped: 0, backlog: 0 });
  });

  it('loads by name from a config that names its package', async () => {
    expect(existsSync(join(exampleDir, 'dist', 'index.js')), 'examples/custom-sink/dist is missing: run pnpm build').toBe(true);
    const receiver = await startReceiver();
    const strata = await createStrata({
      cwd: exampleDir, // a project that installed @strata/example-custom-sink
      config: { plugins: ['hot-sqlite', { name: 'webhook-forwarder', package: '@strata/example-custom-sink', options: { url: receiver.url } }] },
      dataDir: tempDir(),
      logLevel: 'silent',
      monitor: false,
    });
    cleanups.push(() => strata.close());
    await recordCommitted(strata, 3);
    await strata.flush();
    expect(receiver.delivered().sort()).toEqual(ids(0, 3));
    expect(strata.metrics().sinks[SINK]).toMatchObject({ delivered: 3 });
  });

  it('rejects bad options with their paths in the config', async () => {
    const error = await createStrata({
      config: { plugins: [hotSqlitePlugin(), { name: 'webhook-forwarder', options: { url: 'ftp://example.com/hook', maxEventsPerRequest: 0 } }] },
      catalog: { 'webhook-forwarder': () => webhookForwarderPlugin },
      dataDir: tempDir(),
      logLevel: 'silent',
    }).then(
      () => undefined,
      (rejection: unknown) => rejection as Error,
    );
    expect(error?.message).toMatch(/plugins\[1\]\.options\.url: expected an http:\/\/ or https:\/\/ URL, got "ftp:\/\/example.com\/hook"/);
    expect(error?.message).toMatch(/plugins\[1\]\.options\.maxEventsPerRequest/);
  });
});
