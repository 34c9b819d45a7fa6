import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { IngestResponse } from '../src/index.js';
import { bearer, interaction, openServer, openStrata } from './helpers.js';

const BATCHES = 8;
const PER_BATCH = 50;

describe('graceful shutdown', () => {
  it('finishes in-flight batches, refuses new requests, and stores every acknowledged event', async () => {
    // Batches wait up to 400 ms before they are written, so requests are still in flight when close() starts.
    const config = { pipeline: { maxBatchDelayMs: 400, maxBatchSize: 100_000 } };
    const { server, strata } = await openServer({ config });
    const dataDir = strata.config.dataDir;
    const { url } = await server.listen();
    const post = (batch: unknown[]) =>
      fetch(`${url}/v1/interactions`, { method: 'POST', headers: { ...bearer('admin'), 'content-type': 'application/json' }, body: JSON.stringify(batch) }).then(
        async (response) => ({ status: response.status, body: (await response.json()) as IngestResponse }),
        (error: unknown) => ({ status: 0, body: undefined, error }),
      );
    const sent = Array.from({ length: BATCHES }, (_, batch) => Array.from({ length: PER_BATCH }, (_unused, index) => interaction({ eventId: `shutdown-${batch}-${index}` })));
    const requests = sent.map(post);
    await expect.poll(() => strata.metrics().queued).toBe(BATCHES * PER_BATCH);

    const closing = server.close();
    const late = await post([interaction({ eventId: 'late' })]);
    expect(late.status === 0 || late.status === 503, `a request after close() started must be refused, got ${late.status}`).toBe(true);
    await closing;

    const answers = await Promise.all(requests);
    const acknowledged = answers.flatMap((answer) => (answer.status === 200 ? answer.body!.results.filter((result) => result.status === 'stored').map((result) => result.eventId!) : []));
    // Every request was in flight when close() started, so every one was answered.
    expect(answers.map((answer) => answer.status)).toEqual(Array.from({ length: BATCHES }, () => 200));
    expect(acknowledged).toHaveLength(BATCHES * PER_BATCH);

    const reopened = await openStrata(config, dirname(dataDir));
    const stored = new Set<string>();
    for await (const batch of reopened.storage('hot')!.scanInteractions({})) for (const row of batch) stored.add(row.eventId);
    expect(acknowledged.filter((eventId) => !stored.has(eventId))).toEqual([]);
    expect(stored.has('late')).toBe(false);
  });

  it('is idempotent', async () => {
    const { server } = await openServer();
    await server.listen();
    await Promise.all([server.close(), server.close()]);
    await server.close();
  });
});
