import { describe, expect, it } from 'vitest';
import type { IngestResponse } from '../src/index.js';
import { bearer, interaction, openServer } from './helpers.js';

const json = { ...bearer('admin'), 'content-type': 'application/json' };
const ndjson = { ...bearer('admin'), 'content-type': 'application/x-ndjson' };

/** A batch kept in the queue until flushed: batches are cut only by size or after a minute. */
const HOLD_BATCHES = { pipeline: { maxBatchDelayMs: 60_000, maxBatchSize: 100_000 } };

describe('POST /v1/interactions', () => {
  it('answers 200 with each event\'s outcome in batch order: stored, duplicate, rejected with its reason', async () => {
    const { server, strata } = await openServer();
    const first = interaction({ eventId: 'ev-1' });
    const response = await server.app.inject({
      method: 'POST',
      url: '/v1/interactions',
      headers: json,
      payload: [first, interaction({ eventId: 'ev-2', userRating: 9 }), { ...first }, interaction({ eventId: undefined, sessionId: 's-derived' }), 'not an object'],
    });
    expect(response.statusCode).toBe(200);
    const body = response.json<IngestResponse>();
    expect(body).toMatchObject({ received: 5, stored: 2, duplicates: 1, rejected: 2 });
    expect(body.results[0]).toEqual({ index: 0, eventId: 'ev-1', status: 'stored' });
    expect(body.results[1]).toEqual({ index: 1, eventId: 'ev-2', status: 'rejected', reason: 'userRating: must be an integer from 1 to 5, got 9', retryable: false });
    expect(body.results[2]).toEqual({ index: 2, eventId: 'ev-1', status: 'duplicate' });
    expect(body.results[3]).toMatchObject({ index: 3, status: 'stored', eventId: expect.any(String) });
    expect(body.results[4]).toMatchObject({ index: 4, status: 'rejected', retryable: false, reason: expect.any(String) });
    expect(body.results[4]).not.toHaveProperty('eventId');
    expect((await strata.storage('hot')!.countInteractions())).toBe(2);
  });

  it('stores an event sent again in a later request once, and says so', async () => {
    const { server } = await openServer();
    const event = interaction({ eventId: 'ev-again' });
    await server.app.inject({ method: 'POST', url: '/v1/interactions', headers: json, payload: [event] });
    const again = await server.app.inject({ method: 'POST', url: '/v1/interactions', headers: json, payload: [event] });
    expect(again.json<IngestResponse>().results).toEqual([{ index: 0, eventId: 'ev-again', status: 'duplicate' }]);
  });

  it('takes one object as a batch of one', async () => {
    const { server } = await openServer();
    const response = await server.app.inject({ method: 'POST', url: '/v1/interactions', headers: json, payload: interaction({ eventId: 'solo' }) });
    expect(response.json<IngestResponse>()).toMatchObject({ received: 1, stored: 1, results: [{ index: 0, eventId: 'solo', status: 'stored' }] });
  });

  it('reads NDJSON: blank lines skipped, a line that is not JSON rejected on its own, indexes are line numbers minus one', async () => {
    const { server, strata } = await openServer();
    const lines = [JSON.stringify(interaction({ eventId: 'n-1' })), '', '{"sessionId": "broken', JSON.stringify(interaction({ eventId: 'n-4' })), '   ', JSON.stringify(interaction({ eventId: 'n-6', queryType: 'weather' }))];
    const response = await server.app.inject({ method: 'POST', url: '/v1/interactions', headers: ndjson, payload: `${lines.join('\n')}\n` });
    expect(response.statusCode).toBe(200);
    const body = response.json<IngestResponse>();
    expect(body).toMatchObject({ received: 4, stored: 2, duplicates: 0, rejected: 2 });
    expect(body.results.map((result) => [result.index, result.status])).toEqual([
      [0, 'stored'],
      [2, 'rejected'],
      [3, 'stored'],
      [5, 'rejected'],
    ]);
    expect(body.results[1]!.reason).toMatch(/^line 3: not valid JSON \(/);
    expect(body.results[3]).toMatchObject({ eventId: 'n-6', reason: expect.stringMatching(/^queryType: /) });
    expect(await strata.storage('hot')!.countInteractions()).toBe(2);
  });

  it('answers malformed JSON 400 with the parser\'s reason, never 500', async () => {
    const { server } = await openServer();
    const response = await server.app.inject({ method: 'POST', url: '/v1/interactions', headers: json, payload: '[{"sessionId": "a",' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'STRATA_VALIDATION_FAILED', message: expect.stringMatching(/^body: is not valid JSON \(.+\); send a JSON array of interactions$/) });
  });

  it('refuses a prototype-poisoning body with 400', async () => {
    const { server } = await openServer();
    const response = await server.app.inject({ method: 'POST', url: '/v1/interactions', headers: json, payload: '[{"__proto__": {"admin": true}}]' });
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toMatch(/__proto__/);
  });

  it('answers an empty body, a JSON scalar and no body at all 400 with what to send', async () => {
    const { server } = await openServer();
    const empty = await server.app.inject({ method: 'POST', url: '/v1/interactions', headers: json, payload: '' });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().message).toMatch(/body: is empty/);
    const scalar = await server.app.inject({ method: 'POST', url: '/v1/interactions', headers: json, payload: '42' });
    expect(scalar.statusCode).toBe(400);
    expect(scalar.json().message).toMatch(/expected a JSON array of interactions \(or one interaction object\), got number/);
    const none = await server.app.inject({ method: 'POST', url: '/v1/interactions', headers: bearer('admin') });
    expect(none.statusCode).toBe(400);
    expect(none.json().message).toMatch(/body: is missing/);
  });

  it('answers a content type it does not read 415, naming the ones it does', async () => {
    const { server } = await openServer();
    for (const type of ['text/plain', 'application/xml', 'multipart/form-data; boundary=x']) {
      const response = await server.app.inject({ method: 'POST', url: '/v1/interactions', headers: { ...bearer('admin'), 'content-type': type }, payload: 'x' });
      expect(response.statusCode, type).toBe(415);
      expect(response.json().message).toMatch(/send application\/json \(an array of interactions\) or application\/x-ndjson/);
    }
  });

  it('answers a body over the limit 413 with the limit and what to do', async () => {
    const { server } = await openServer({ bodyLimitBytes: 4_096 });
    const events = Array.from({ length: 40 }, (_, index) => interaction({ eventId: `big-${index}` }));
    const response = await server.app.inject({ method: 'POST', url: '/v1/interactions', headers: json, payload: events });
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ code: 'FST_ERR_CTP_BODY_TOO_LARGE', message: 'request body is larger than the 4 KB limit (4096 bytes); send the events in smaller batches, or raise the server\'s bodyLimit (--body-limit)' });
  });

  it('answers a batch with more events than allowed 413, storing none of them', async () => {
    const { server, strata } = await openServer({ maxEventsPerBatch: 3 });
    const response = await server.app.inject({ method: 'POST', url: '/v1/interactions', headers: json, payload: Array.from({ length: 4 }, () => interaction()) });
    expect(response.statusCode).toBe(413);
    expect(response.json().message).toBe('the batch has 4 events; the limit is 3 per request: split it');
    expect(await strata.storage('hot')!.countInteractions()).toBe(0);
  });

  it('answers 429 with Retry-After while the queue is at its bound, and takes batches again once it drained', async () => {
    const { server, strata } = await openServer({ config: HOLD_BATCHES, maxQueuedEvents: 5, retryAfterSeconds: 3 });
    // The first batch stays queued (batches are cut after a minute), so its request is still waiting.
    const held = server.app.inject({ method: 'POST', url: '/v1/interactions', headers: json, payload: Array.from({ length: 5 }, () => interaction()) });
    await expect.poll(() => strata.metrics().queued).toBe(5);
    const refused = await server.app.inject({ method: 'POST', url: '/v1/interactions', headers: json, payload: [interaction()] });
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('3');
    expect(refused.json()).toMatchObject({ code: 'STRATA_QUEUE_FULL', message: '5 events are waiting for the hot tier (the bound is 5); retry after 3 s' });
    await strata.flush();
    expect((await held).json<IngestResponse>().stored).toBe(5);
    const accepted = server.app.inject({ method: 'POST', url: '/v1/interactions', headers: json, payload: [interaction()] });
    await expect.poll(() => strata.metrics().queued).toBe(1);
    await strata.flush();
    expect((await accepted).statusCode).toBe(200);
    expect(server.counters()).toMatchObject({ inFlight: 0, refusedQueue: 1 });
  });

  it('answers 429 when the in-flight ingest requests are at their limit', async () => {
    const { server, strata } = await openServer({ config: HOLD_BATCHES, maxConcurrentIngests: 1 });
    const held = server.app.inject({ method: 'POST', url: '/v1/interactions', headers: json, payload: [interaction()] });
    await expect.poll(() => strata.metrics().queued).toBe(1);
    const refused = await server.app.inject({ method: 'POST', url: '/v1/interactions', headers: json, payload: [interaction()] });
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json().message).toMatch(/^1 ingest requests are in progress \(the limit is 1\)/);
    await strata.flush();
    expect((await held).statusCode).toBe(200);
    expect(server.counters()).toMatchObject({ inFlight: 0, refusedConcurrency: 1 });
  });

  it('refuses a batch that would overflow the core queue whole, rather than rejecting its tail', async () => {
    const { server, strata } = await openServer({ config: { pipeline: { maxBatchDelayMs: 60_000, maxBatchSize: 100_000, maxQueue: 10 } }, maxQueuedEvents: 10 });
    const held = server.app.inject({ method: 'POST', url: '/v1/interactions', headers: json, payload: Array.from({ length: 6 }, () => interaction()) });
    await expect.poll(() => strata.metrics().queued).toBe(6);
    const refused = await server.app.inject({ method: 'POST', url: '/v1/interactions', headers: json, payload: Array.from({ length: 5 }, () => interaction()) });
    expect(refused.statusCode).toBe(429);
    expect(refused.json().message).toMatch(/^5 events would not fit: 6 are waiting for the hot tier and the pipeline holds at most 10/);
    expect(strata.metrics().queued).toBe(6);
    await strata.flush();
    expect((await held).json<IngestResponse>().stored).toBe(6);
  });

  it('frees the request slot of a request that failed before its handler ran', async () => {
    const { server } = await openServer({ maxConcurrentIngests: 1 });
    const bad = await server.app.inject({ method: 'POST', url: '/v1/interactions', headers: json, payload: '{oops' });
    expect(bad.statusCode).toBe(400);
    const good = await server.app.inject({ method: 'POST', url: '/v1/interactions', headers: json, payload: [interaction()] });
    expect(good.statusCode).toBe(200);
    expect(server.counters().inFlight).toBe(0);
  });
});
