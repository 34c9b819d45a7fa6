import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createStrata, type InteractionInput } from '@strata/core';
import { hotSqlitePlugin } from '@strata/hot-sqlite';
import { PII_POSITIVE_CASES, generateWorkload } from '@strata/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { privacyPlugin } from '../src/index.js';
import { capturingLogger, findLeaks, readEveryFile, temporaryDirectory } from './support.js';

/**
 * Ingests a corpus full of personal data through createStrata (hot-sqlite + privacy), valid events
 * and rejected ones, through record(), recordStrict() and ingestLines(), then reads every byte under
 * the data dir (database, WAL, dead letters, anything else; .gz decompressed) and every log line,
 * and looks for each raw value.
 */
const catalog = { 'hot-sqlite': () => hotSqlitePlugin, privacy: () => privacyPlugin };

let directory: ReturnType<typeof temporaryDirectory>;
let dataDir: string;
let logText = '';
/** The data dir read while Strata was still open, so the WAL is there before close checkpoints it away. */
let whileOpen: Array<{ file: string; bytes: Buffer }> = [];
const rawValues: string[] = [];

function eventFor(index: number, base: InteractionInput): InteractionInput {
  const sample = PII_POSITIVE_CASES[index % PII_POSITIVE_CASES.length]!;
  const sessionId = `sess-${index % 40}-person${index % 40}@example.org`;
  const ipAddress = index % 3 === 0 ? `2001:db8:${(index % 97).toString(16)}::${(index + 1).toString(16)}` : `198.51.${index % 200}.${(index % 250) + 1}`;
  const userAgent = `Mozilla/5.0 (LeakScan ${index}; rv:${index}.0) Gecko/20100101 Firefox/${index}.0`;
  rawValues.push(sessionId, ipAddress, userAgent, ...sample.pii.map((value) => value.value));
  return { ...base, eventId: `leak-${index}`, sessionId, query: sample.text, ipAddress, userAgent };
}

beforeAll(async () => {
  directory = temporaryDirectory('leak-scan');
  dataDir = join(directory.path, 'analytics');
  const logs = capturingLogger();
  const strata = await createStrata({
    cwd: directory.path,
    logger: logs.logger,
    catalog,
    config: { plugins: [hotSqlitePlugin({ writer: 'inline' }), privacyPlugin({ keyFile: join(directory.path, 'keys', 'privacy.key') })] },
  });
  const bases = [...generateWorkload({ events: 600, seed: 77 })];
  const events = bases.map((base, index) => eventFor(index, base));

  // Valid events, by record() and recordStrict().
  for (const event of events.slice(0, 250)) strata.record(event);
  for (const event of events.slice(250, 300)) await strata.recordStrict(event);
  // Rejected by validation: the raw event goes to the dead-letter store.
  for (const event of events.slice(300, 340)) strata.record({ ...event, responseTime: -1 });
  await strata.recordStrict({ ...events[340], queryType: 'not-a-type' }).catch(() => undefined);
  // Lines: valid, invalid, and not JSON at all (truncated in the middle of the user agent).
  const lines = events.slice(341).map((event, index) => {
    const line = JSON.stringify(index % 10 === 1 ? { ...event, userRating: 9 } : event);
    return index % 10 === 2 ? line.slice(0, line.indexOf('"userAgent"') + 30) : line;
  });
  await strata.ingestLines(
    (async function* () {
      yield* lines;
    })(),
    { source: 'leak-scan.jsonl' },
  );
  await strata.erase({ sessionId: 'sess-3-person3@example.org' });
  await strata.flush();
  whileOpen = readEveryFile(dataDir);
  await strata.close();
  logText = logs.text();
});

afterAll(() => directory.remove());

describe('leak scan', () => {
  it('wrote a database, its WAL while open, and dead letters to scan', () => {
    expect(existsSync(join(dataDir, 'comprehensive_metrics.db'))).toBe(true);
    expect(whileOpen.map(({ file }) => file)).toContain(join(dataDir, 'comprehensive_metrics.db-wal'));
    expect(existsSync(join(dataDir, 'dead-letter'))).toBe(true);
    expect(new Set(rawValues).size).toBeGreaterThan(1_000);
  });

  it('finds no raw value in the tier files, while open and after close', () => {
    const deadLetters = join(dataDir, 'dead-letter');
    const files = [...whileOpen, ...readEveryFile(dataDir)].filter(({ file }) => !file.startsWith(deadLetters));
    expect(files.length).toBeGreaterThan(2);
    expect(findLeaks(rawValues, files)).toEqual([]);
  });

  it('finds no raw value in the dead-letter files', () => {
    const files = readEveryFile(join(dataDir, 'dead-letter'));
    expect(Buffer.concat(files.map(({ bytes }) => bytes)).toString('utf8')).toContain('invalid interaction');
    expect(findLeaks(rawValues, files)).toEqual([]);
  });

  it('finds no raw value in the logs', () => {
    expect(logText).toContain('privacy');
    expect(findLeaks(rawValues, [{ file: 'logs', bytes: Buffer.from(logText) }])).toEqual([]);
  });
});
