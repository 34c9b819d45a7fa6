import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeadLetterStore, safeStringify } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { readDeadLetters, tempDir } from './fixtures.js';

const source = { kind: 'api', method: 'record' } as const;

describe('DeadLetterStore', () => {
  it('appends entries in order to a file named after the UTC day of rejection', async () => {
    const dataDir = tempDir();
    let now = Date.UTC(2025, 2, 9, 23, 59);
    const store = new DeadLetterStore(dataDir, () => now);
    store.append({ source, reason: 'first', original: '1' });
    store.append({ source, reason: 'second', original: '2' });
    now = Date.UTC(2025, 2, 10, 0, 1);
    store.append({ source, reason: 'third', original: '3' });
    await store.flush();
    expect(readdirSync(join(dataDir, 'dead-letter')).sort()).toEqual(['2025-03-09.jsonl', '2025-03-10.jsonl']);
    expect(readDeadLetters(dataDir).map((entry) => [entry.at, entry.reason])).toEqual([
      ['2025-03-09T23:59:00.000Z', 'first'],
      ['2025-03-09T23:59:00.000Z', 'second'],
      ['2025-03-10T00:01:00.000Z', 'third'],
    ]);
    expect(store.written).toBe(3);
  });

  it('keeps per-field issues with the entry', async () => {
    const dataDir = tempDir();
    const store = new DeadLetterStore(dataDir, Date.now);
    store.append({ source, reason: 'invalid interaction', original: '{}', issues: [{ path: 'sessionId', message: 'is required' }] });
    await store.flush();
    expect(readDeadLetters(dataDir)[0]?.issues).toEqual([{ path: 'sessionId', message: 'is required' }]);
  });

  it('cuts a huge original to the size limit and marks it truncated', async () => {
    const dataDir = tempDir();
    const store = new DeadLetterStore(dataDir, Date.now);
    store.append({ source, reason: 'too big', original: 'x'.repeat(300 * 1024) });
    await store.flush();
    const [entry] = readDeadLetters(dataDir);
    expect(entry?.truncated).toBe(true);
    expect(entry?.original).toHaveLength(256 * 1024);
  });

  it('applies the scrubber to the original, the reason and issue messages before writing', async () => {
    const dataDir = tempDir();
    const store = new DeadLetterStore(dataDir, Date.now);
    store.setScrubber((text) => text.replaceAll('alice@example.com', '[email]'));
    store.append({
      source,
      reason: 'bad: alice@example.com',
      original: '{"query":"mail alice@example.com"}',
      issues: [{ path: 'query', message: 'got alice@example.com' }],
    });
    await store.flush();
    const text = JSON.stringify(readDeadLetters(dataDir));
    expect(text).not.toContain('alice@example.com');
    expect(text).toContain('[email]');
  });

  it('rejects flush with the write error when the directory cannot be created', async () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'dead-letter'), 'a file where the directory should be');
    const store = new DeadLetterStore(dataDir, Date.now);
    store.append({ source, reason: 'nowhere to go', original: '{}' });
    await expect(store.flush()).rejects.toThrow();
  });
});

describe('safeStringify', () => {
  it('marks cycles instead of throwing', () => {
    const value: Record<string, unknown> = { a: 1 };
    value.self = value;
    expect(safeStringify(value)).toBe('{"a":1,"self":"[Circular]"}');
  });

  it('writes BigInt values as strings', () => {
    expect(safeStringify({ n: 10n })).toBe('{"n":"10"}');
  });

  it('renders undefined, which JSON cannot hold', () => {
    expect(safeStringify(undefined)).toBe('undefined');
  });

  it('returns a description instead of throwing for a value nothing can render', () => {
    const hostile = Object.create(null) as Record<string, unknown>;
    Object.defineProperty(hostile, 'boom', {
      enumerable: true,
      get() {
        throw new Error('getter exploded');
      },
    });
    expect(safeStringify(hostile)).toBe('[unserializable value: getter exploded]');
  });
});
