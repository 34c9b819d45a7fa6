import { Readable } from 'node:stream';
import { StorageError, readLines, type DeadLetter, type IngestSummary } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { interaction, linesOf, openStrata, readDeadLetters } from './fixtures.js';

// ingestLines takes readLines' output a chunk at a time (and keeps a queued line of an ASCII chunk
// as a range of the chunk's bytes): these tests hold that path to what line-by-line ingest does.

const event = (eventId: string, overrides: Record<string, unknown> = {}) => JSON.stringify(interaction({ eventId, ...overrides }));

/** A file with ASCII and non-ASCII lines, CRLF endings, blank and broken lines, and no final newline. */
const FILE = [
  event('a1'),
  event('a2', { query: 'héllo 🧠 naïve' }),
  '',
  event('a3'),
  '   ',
  '{"sessionId": "truncated", "timest',
  event('a4', { userRating: 9 }),
  event('a2'),
  event('a5') + '\r',
  event('a6', { query: 'x'.repeat(300) }),
  event('a7'),
].join('\n');
/** What reading FILE yields, line by line. */
const LINES = FILE.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));

/** FILE's bytes cut every `size` bytes (so lines span chunks, and a character is cut mid-sequence). */
function chunksOf(size: number): Buffer[] {
  const bytes = Buffer.from(FILE);
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return chunks;
}

/** Yields each chunk in the same buffer, overwritten for the next one, as a pooling producer might. */
async function* reusedBuffer(chunks: Buffer[]): AsyncIterable<Buffer> {
  const shared = Buffer.alloc(Math.max(...chunks.map((chunk) => chunk.length)));
  for (const chunk of chunks) {
    chunk.copy(shared);
    yield shared.subarray(0, chunk.length);
  }
}

const withoutTimes = (summary: IngestSummary) => ({ ...summary, durationMs: 0 });
const withoutAt = (entries: DeadLetter[]) => entries.map(({ at: _at, ...entry }) => entry);

describe('ingestLines from readLines', () => {
  it.each([7, 64, 250, 1_000, 100_000])('gives the same summary, rows and dead letters as line by line (chunks of %i bytes)', async (size) => {
    const batched = await openStrata();
    const single = await openStrata();
    const summary = await batched.strata.ingestLines(readLines(Readable.from(chunksOf(size))), { source: 'in.jsonl' });
    const expected = await single.strata.ingestLines(linesOf(LINES), { source: 'in.jsonl' });
    expect(withoutTimes(summary)).toEqual(withoutTimes(expected));
    expect(summary).toMatchObject({ lines: 11, blank: 2, accepted: 7, stored: 6, duplicates: 1, rejected: 2 });
    expect([...batched.tier.rows.entries()]).toEqual([...single.tier.rows.entries()]);
    expect(withoutAt(readDeadLetters(batched.dataDir))).toEqual(withoutAt(readDeadLetters(single.dataDir)));
  });

  // With 1000-byte chunks, lines 9 (CRLF) and 10 lie wholly in an ASCII chunk: they are kept as bytes.
  it.each([250, 1_000])('dead-letters each line exactly as it was read when the hot tier fails, even from a producer that reuses its buffer (chunks of %i bytes)', async (size) => {
    const { strata, tier, dataDir } = await openStrata();
    tier.beforeWrite = () => {
      throw new StorageError('memory: disk full');
    };
    const summary = await strata.ingestLines(readLines(reusedBuffer(chunksOf(size))), { source: 'in.jsonl' });
    expect(summary).toMatchObject({ accepted: 0, failed: 7, rejected: 2 });
    const failed = readDeadLetters(dataDir).filter((entry) => entry.reason.startsWith('hot tier write failed'));
    const byLine = new Map(failed.map((entry) => [(entry.source as { line: number }).line, entry.original]));
    for (const line of [1, 2, 4, 8, 9, 10, 11]) expect(byLine.get(line)).toBe(LINES[line - 1]);
  });

  it('takes the remaining lines one by one from a readLines generator already read from', async () => {
    const { strata, tier } = await openStrata();
    const lines = readLines(Readable.from(chunksOf(64)));
    expect((await lines.next()).value).toBe(LINES[0]);
    const summary = await strata.ingestLines(lines, { source: 'in.jsonl' });
    expect(summary).toMatchObject({ lines: 10, blank: 2, stored: 5, duplicates: 1 });
    expect(tier.rows.has('a1')).toBe(false);
    expect(tier.rows.has('a2')).toBe(true);
  });

  it('stops at the line where the signal is aborted, as line by line does', async () => {
    const { strata } = await openStrata();
    let checks = 0;
    const signal = {
      get aborted() {
        checks += 1;
        return checks > 3;
      },
    } as AbortSignal;
    const summary = await strata.ingestLines(readLines(Readable.from(chunksOf(100_000))), { source: 'in.jsonl', signal });
    expect(summary.lines).toBe(3);
  });

  it('leaves the generator done, so returning it afterwards (as the CLI does) is harmless', async () => {
    const { strata } = await openStrata();
    const lines = readLines(Readable.from(chunksOf(64)));
    await strata.ingestLines(lines, { source: 'in.jsonl' });
    await expect(lines.return(undefined)).resolves.toEqual({ done: true, value: undefined });
    await expect(lines.next()).resolves.toEqual({ done: true, value: undefined });
  });
});
