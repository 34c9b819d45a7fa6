import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createStrata, type Interaction } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { cliCatalog } from '../src/index.js';
import { fixture, lastJson, readDeadLetters, runBin, tempDir } from './helpers.js';

// test/fixtures/bad-input.jsonl, line by line. Good lines carry eventIds good-N; bad lines must each
// reach the dead-letter store with a reason that names what is wrong (a field path, or the JSON problem).
const GOOD_LINES = [1, 19, 20, 21, 22, 26, 29];
const BLANK_LINES = [6, 28];
const BAD_LINES: Record<number, { what: string; mentions: string[] }> = {
  2: { what: 'truncated JSON', mentions: ['not valid JSON'] },
  3: { what: 'an array', mentions: ['must be a JSON object', 'array'] },
  4: { what: 'null', mentions: ['must be a JSON object', 'null'] },
  5: { what: 'a number', mentions: ['must be a JSON object', 'number'] },
  7: { what: 'missing required fields', mentions: ['timestamp', 'userRole', 'query', 'queryType', 'responseTime', 'success'] },
  8: { what: 'wrong types', mentions: ['responseTime', 'success'] },
  9: { what: 'negative responseTime', mentions: ['responseTime'] },
  10: { what: 'rating 0', mentions: ['userRating'] },
  11: { what: 'rating 6', mentions: ['userRating'] },
  12: { what: 'rating 2.5', mentions: ['userRating'] },
  13: { what: 'turn 0', mentions: ['conversationTurn'] },
  14: { what: 'unparseable timestamp', mentions: ['timestamp'] },
  15: { what: 'far-future timestamp', mentions: ['timestamp', 'future'] },
  16: { what: 'empty eventId', mentions: ['eventId'] },
  17: { what: 'empty sessionId', mentions: ['sessionId'] },
  18: { what: '__proto__ key', mentions: ['__proto__'] },
  23: { what: 'query over the byte limit', mentions: ['query', 'bytes'] },
  24: { what: '__proto__ inside content', mentions: ['content[0].__proto__'] },
  25: { what: 'unknown queryType', mentions: ['queryType'] },
  27: { what: 'timestamp in seconds', mentions: ['timestamp', 'seconds'] },
};

const fixtureLines = readFileSync(fixture('bad-input.jsonl'), 'utf8').split('\n').slice(0, -1);

async function storedInteractions(dataDir: string): Promise<Interaction[]> {
  const strata = await createStrata({ dataDir, cwd: dataDir, catalog: cliCatalog, logLevel: 'silent' });
  try {
    return (await strata.storage('hot')!.queryInteractions({ limit: 1_000 })).items;
  } finally {
    await strata.close();
  }
}

describe('strata ingest with bad input mixed with good lines', () => {
  it('the fixture still has the lines these expectations describe', () => {
    expect(fixtureLines).toHaveLength(29);
    for (const line of GOOD_LINES) expect(JSON.parse(fixtureLines[line - 1]!).eventId).toMatch(/^good-\d+$/);
    for (const line of BLANK_LINES) expect(fixtureLines[line - 1]!.trim()).toBe('');
  });

  it('stores every good line, dead-letters every bad one with its line and field, and exits 2', async () => {
    const cwd = tempDir();
    // Without the privacy processor, so the dead-letter copy is the line byte for byte (with it, the
    // copy is scrubbed: plugins/privacy's leak test covers that).
    writeFileSync(join(cwd, 'strata.config.json'), JSON.stringify({ plugins: ['hot-sqlite'] }));
    const run = await runBin(['ingest', fixture('bad-input.jsonl'), '--json'], { cwd });
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(run.code).toBe(2);

    const summary = lastJson(run.stdout);
    const bad = Object.keys(BAD_LINES).length;
    expect(summary).toMatchObject({
      lines: 29,
      blank: BLANK_LINES.length,
      accepted: GOOD_LINES.length,
      stored: GOOD_LINES.length,
      duplicates: 0,
      rejected: bad,
      failed: 0,
      deadLetter: bad,
    });

    const dataDir = join(cwd, 'analytics');
    const deadLetters = readDeadLetters(dataDir);
    expect(deadLetters).toHaveLength(bad);
    expect(deadLetters.map((entry) => entry.source.line).sort((a, b) => a! - b!)).toEqual(Object.keys(BAD_LINES).map(Number));
    for (const entry of deadLetters) {
      const expected = BAD_LINES[entry.source.line!]!;
      expect(entry.source.file).toBe(fixture('bad-input.jsonl'));
      const explanation = [entry.reason, ...(entry.issues ?? []).map((issue) => `${issue.path}: ${issue.message}`)].join('\n');
      expect(explanation, `line ${entry.source.line} (${expected.what})`).toContain(`line ${entry.source.line}`);
      for (const mention of expected.mentions) expect(explanation, `line ${entry.source.line} (${expected.what})`).toContain(mention);
      expect(entry.original).toBe(fixtureLines[entry.source.line! - 1]);
    }

    const stored = await storedInteractions(dataDir);
    expect(stored.map((event) => event.eventId).sort()).toEqual(GOOD_LINES.map((line) => JSON.parse(fixtureLines[line - 1]!).eventId).sort());
    // Text fields are stored literally: SQL stays text, Unicode survives byte for byte.
    for (const line of GOOD_LINES) {
      const sent = JSON.parse(fixtureLines[line - 1]!) as { eventId: string; query: string; userRole: string };
      const kept = stored.find((event) => event.eventId === sent.eventId)!;
      expect(kept.query, `query of line ${line}`).toBe(sent.query);
      expect(kept.userRole).toBe(sent.userRole);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
