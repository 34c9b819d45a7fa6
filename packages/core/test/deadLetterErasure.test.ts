import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeadLetterStore, createSessionMatcher, eraseFromDeadLetters } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { readDeadLetters, tempDir } from './fixtures.js';

const source = { kind: 'file', file: 'events.jsonl', line: 1 } as const;
const event = (sessionId: string, query = 'q') => JSON.stringify({ sessionId, query, timestamp: '2025-03-09T10:00:00Z' });

describe('createSessionMatcher', () => {
  const matches = createSessionMatcher(['s1', 'pseudo-AbC_9']);
  const entry = (original: string) => JSON.stringify({ at: 'x', source, reason: 'r', original });

  it('matches a session id as the whole value of a sessionId field, at any depth', () => {
    expect(matches(entry(event('s1')))).toBe(true);
    expect(matches(entry(JSON.stringify([{ wrapper: { sessionId: 'pseudo-AbC_9' } }])))).toBe(true);
  });

  it('leaves other sessions alone, including ids that contain the erased one', () => {
    expect(matches(entry(event('s10')))).toBe(false);
    expect(matches(entry(event('xs1')))).toBe(false);
    expect(matches(entry(JSON.stringify({ sessionId: 's2', query: 'what did s1 ask' })))).toBe(false);
  });

  it('matches the field in an original that is not JSON (a truncated or malformed line)', () => {
    expect(matches(entry(`${event('s1').slice(0, 40)}`))).toBe(true);
    expect(matches(entry('{"sessionId" : "s1", oops'))).toBe(true);
    expect(matches(entry('{"sessionId":"s10", oops'))).toBe(false);
  });

  it('matches a line that is not an entry at all by the field, escaped or not', () => {
    expect(matches(`{"at":"x","original":"{\\"sessionId\\":\\"s1\\",\\"query`)).toBe(true);
    expect(matches('garbage "sessionId":"s1"')).toBe(true);
    expect(matches('garbage "sessionId":"s11"')).toBe(false);
  });
});

describe('dead-letter erasure', () => {
  it('removes the subject’s entries from every file, keeps every other entry in order, and verifies', async () => {
    const dataDir = tempDir();
    let now = Date.UTC(2025, 2, 9, 12);
    const store = new DeadLetterStore(dataDir, () => now);
    store.append({ source, reason: 'bad 1', original: event('s1') });
    store.append({ source, reason: 'bad 2', original: event('s10') });
    store.append({ source, reason: 'bad 3', original: event('s1', 'again') });
    now = Date.UTC(2025, 2, 10, 12);
    store.append({ source, reason: 'bad 4', original: event('s2') });
    store.append({ source, reason: 'bad 5', original: 'not json "sessionId":"s1"' });
    const result = await store.eraseSessions(['s1']);
    expect(result).toEqual({ removed: 3, remaining: 0, filesRewritten: 2 });
    expect(readDeadLetters(dataDir).map((entry) => entry.reason)).toEqual(['bad 2', 'bad 4']);
    expect(readdirSync(join(dataDir, 'dead-letter')).sort()).toEqual(['2025-03-09.jsonl', '2025-03-10.jsonl']);
  });

  it('does not touch a file that holds nothing of the subject', async () => {
    const dataDir = tempDir();
    const store = new DeadLetterStore(dataDir, () => Date.UTC(2025, 2, 9));
    store.append({ source, reason: 'other', original: event('s2') });
    await store.flush();
    const file = join(dataDir, 'dead-letter', '2025-03-09.jsonl');
    const before = { text: readFileSync(file, 'utf8'), inode: statSync(file).ino };
    expect(await store.eraseSessions(['s1'])).toEqual({ removed: 0, remaining: 0, filesRewritten: 0 });
    expect({ text: readFileSync(file, 'utf8'), inode: statSync(file).ino }).toEqual(before);
  });

  it('writes entries appended before the erasure first and erases them; entries appended during it survive', async () => {
    const dataDir = tempDir();
    const store = new DeadLetterStore(dataDir, () => Date.UTC(2025, 2, 9));
    store.append({ source, reason: 'queued', original: event('s1') });
    const erasing = store.eraseSessions(['s1']);
    store.append({ source, reason: 'after', original: event('s3') });
    expect((await erasing).removed).toBe(1);
    await store.flush();
    expect(readDeadLetters(dataDir).map((entry) => entry.reason)).toEqual(['after']);
  });

  it('answers zero when there is no dead-letter directory', async () => {
    expect(await eraseFromDeadLetters(join(tempDir(), 'dead-letter'), ['s1'])).toEqual({ removed: 0, remaining: 0, filesRewritten: 0 });
  });

  it('removes the partial copy a crashed rewrite left behind and keeps the original it was made from', async () => {
    const dataDir = tempDir();
    const store = new DeadLetterStore(dataDir, () => Date.UTC(2025, 2, 9));
    store.append({ source, reason: 'kept', original: event('s2') });
    await store.flush();
    const directory = join(dataDir, 'dead-letter');
    writeFileSync(join(directory, '2025-03-09.jsonl.erasing'), 'half a rewrite');
    await store.eraseSessions(['s1']);
    expect(readdirSync(directory)).toEqual(['2025-03-09.jsonl']);
    expect(readDeadLetters(dataDir).map((entry) => entry.reason)).toEqual(['kept']);
  });

  it('keeps blank lines and lines it cannot parse that belong to no one', async () => {
    const dataDir = tempDir();
    const directory = join(dataDir, 'dead-letter');
    const store = new DeadLetterStore(dataDir, () => Date.UTC(2025, 2, 9));
    store.append({ source, reason: 'erased', original: event('s1') });
    await store.flush();
    const file = join(directory, '2025-03-09.jsonl');
    writeFileSync(file, `${readFileSync(file, 'utf8')}{"a torn line\n`, { flag: 'w' });
    expect((await store.eraseSessions(['s1'])).removed).toBe(1);
    expect(readFileSync(file, 'utf8')).toBe('{"a torn line\n');
  });
});
