import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInteractionValidator } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { createFakeClock, createRandom, generateWorkload, workloadLines, writeWorkloadFile } from '../src/index.js';

const validate = createInteractionValidator(undefined, () => Date.UTC(2030, 0, 1));

describe('generateWorkload', () => {
  it('produces exactly the number of events asked for', () => {
    expect([...generateWorkload({ events: 1_234 })]).toHaveLength(1_234);
  });

  it('produces the same events for the same seed and different ones for another', () => {
    const a = [...workloadLines({ events: 300, seed: 4 })];
    const b = [...workloadLines({ events: 300, seed: 4 })];
    const c = [...workloadLines({ events: 300, seed: 5 })];
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('produces only events that pass validation, with unique event ids', () => {
    const events = [...generateWorkload({ events: 5_000, seed: 2 })];
    for (const event of events) expect(validate(event).ok).toBe(true);
    expect(new Set(events.map((event) => event.eventId)).size).toBe(5_000);
  });

  it('looks like an assistant workload: multi-turn sessions, every role and query type, sparse ratings', () => {
    const events = [...generateWorkload({ events: 10_000, seed: 3 })];
    const sessions = new Set(events.map((event) => event.sessionId));
    expect(sessions.size).toBeGreaterThan(1_500);
    expect(sessions.size).toBeLessThan(8_000);
    expect(new Set(events.map((event) => event.userRole)).size).toBe(5);
    expect(new Set(events.map((event) => event.queryType))).toEqual(new Set(['technical', 'career', 'mma', 'fun', 'general']));
    const rated = events.filter((event) => event.userRating !== undefined).length / events.length;
    expect(rated).toBeGreaterThan(0.2);
    expect(rated).toBeLessThan(0.4);
    const successRate = events.filter((event) => event.success).length / events.length;
    expect(successRate).toBeGreaterThan(0.88);
    expect(successRate).toBeLessThan(0.97);
  });

  it('averages roughly 500 bytes per event as JSON', () => {
    const lines = [...workloadLines({ events: 5_000 })];
    const average = lines.reduce((sum, line) => sum + Buffer.byteLength(line), 0) / lines.length;
    expect(average).toBeGreaterThan(380);
    expect(average).toBeLessThan(650);
  });

  it('spreads events over the requested days', () => {
    const start = Date.UTC(2025, 5, 1);
    const times = [...generateWorkload({ events: 2_000, start, days: 10, isoTimestamps: false })].map((event) => event.timestamp as number);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(start);
    expect(Math.max(...times)).toBeLessThan(start + 11 * 86_400_000);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(9 * 86_400_000);
  });
});

describe('writeWorkloadFile', () => {
  it('writes one JSON line per event and reports the bytes written', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'workload-'));
    try {
      const file = join(directory, 'events.jsonl');
      const bytes = await writeWorkloadFile(file, { events: 3_000, seed: 8 });
      const text = readFileSync(file, 'utf8');
      expect(Buffer.byteLength(text)).toBe(bytes);
      const lines = text.trimEnd().split('\n');
      expect(lines).toEqual([...workloadLines({ events: 3_000, seed: 8 })]);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('createRandom and createFakeClock', () => {
  it('gives values in [0, 1) and integers within bounds', () => {
    const random = createRandom(9);
    for (let i = 0; i < 10_000; i += 1) {
      const value = random.next();
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(1);
      const int = random.int(3, 7);
      expect(int).toBeGreaterThanOrEqual(3);
      expect(int).toBeLessThanOrEqual(7);
    }
  });

  it('moves only when told to', () => {
    const clock = createFakeClock(1_000);
    expect(clock.now()).toBe(1_000);
    clock.advance(500);
    expect(clock.now()).toBe(1_500);
    clock.set(42);
    expect(clock.now()).toBe(42);
  });
});
