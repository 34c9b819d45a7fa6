import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createStrata, type InteractionInput } from '@strata/core';
import { hotSqlitePlugin } from '@strata/hot-sqlite';
import { generateWorkload } from '@strata/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PSEUDONYM_FORMAT, privacyPlugin } from '../src/index.js';
import { capturingLogger, openDatabase, temporaryDirectory } from './support.js';

const catalog = { 'hot-sqlite': () => hotSqlitePlugin, privacy: () => privacyPlugin };

let directory: ReturnType<typeof temporaryDirectory>;
let keyFile: string;
beforeEach(() => {
  directory = temporaryDirectory('plugin');
  keyFile = join(directory.path, 'keys', 'privacy.key');
});
afterEach(() => directory.remove());

function open(options: { keyFile?: string; extra?: Record<string, unknown> } = {}) {
  const logs = capturingLogger();
  return {
    logs,
    strata: createStrata({
      cwd: directory.path,
      logger: logs.logger,
      catalog,
      config: { plugins: [hotSqlitePlugin({ writer: 'inline' }), privacyPlugin({ keyFile: options.keyFile ?? keyFile, ...options.extra })] },
    }),
  };
}

function events(count: number, seed = 5): InteractionInput[] {
  return [...generateWorkload({ events: count, seed })];
}

describe('privacy plugin under createStrata with hot-sqlite', () => {
  it('stores pseudonyms and scrubbed text, never the raw IP, user agent or email', async () => {
    const { strata } = open();
    const instance = await strata;
    const [base] = events(1);
    await instance.recordStrict({ ...base, sessionId: 'sess-alice', query: 'Email alice@example.com or call (415) 555-2671', ipAddress: '203.0.113.77', userAgent: 'AliceAgent/1.0 (X11)' });
    await instance.close();

    const db = openDatabase(join(directory.path, 'analytics', 'comprehensive_metrics.db'));
    try {
      const [row] = db.prepare('SELECT * FROM user_interactions').all();
      expect(row!.query).toBe('Email <EMAIL> or call <PHONE>');
      expect(row!.session_id).toMatch(PSEUDONYM_FORMAT);
      expect(row!.ip_hash).toMatch(PSEUDONYM_FORMAT);
      expect(row!.user_agent_hash).toMatch(PSEUDONYM_FORMAT);
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((table) => String(table.name));
      const everything = JSON.stringify(tables.map((table) => db.prepare(`SELECT * FROM "${table}"`).all()), (_key, value: unknown) => (Buffer.isBuffer(value) ? value.toString('latin1') : value));
      for (const raw of ['203.0.113.77', 'AliceAgent', 'alice@example.com', '555-2671', 'sess-alice']) expect(everything).not.toContain(raw);
    } finally {
      db.close();
    }
  });

  it('gives a session the same pseudonym across restarts with the same key, so sessions still join', async () => {
    const [first, second] = events(2);
    const one = await open().strata;
    await one.recordStrict({ ...first, sessionId: 'sess-bob', conversationTurn: 1 });
    await one.close();
    const two = await open().strata;
    await two.recordStrict({ ...second, sessionId: 'sess-bob', conversationTurn: 2 });
    const stored = await two.storage('hot')!.queryInteractions({});
    await two.close();
    expect(new Set(stored.items.map((item) => item.sessionId)).size).toBe(1);
  });

  it('erases a subject by the session id the application knows, under the current and previous keys', async () => {
    const [first, second] = events(2);
    const before = await open().strata;
    await before.recordStrict({ ...first, sessionId: 'sess-carol' });
    await before.close();
    // Rotate: a new key on the first line, the old one kept below it for lookups.
    const oldKey = (await import('node:fs')).readFileSync(keyFile, 'utf8');
    writeFileSync(keyFile, `${Buffer.alloc(32, 9).toString('base64')}\n${oldKey}`, { mode: 0o600 });
    const after = await open().strata;
    await after.recordStrict({ ...second, sessionId: 'sess-carol' });
    const stored = await after.storage('hot')!.queryInteractions({});
    expect(new Set(stored.items.map((item) => item.sessionId)).size).toBe(2);
    const report = await after.erase({ sessionId: 'sess-carol' });
    const left = await after.storage('hot')!.countInteractions();
    await after.close();
    expect(report.removed).toBe(2);
    expect(report.storedIds).toEqual(expect.arrayContaining(stored.items.map((item) => item.sessionId)));
    expect(left).toBe(0);
  });

  it('erases the subject’s dead-letter entries too, found by pseudonym, and leaves other sessions’ entries', async () => {
    const [first, second, third] = events(3);
    const strata = await open().strata;
    await strata.recordStrict({ ...first, sessionId: 'sess-dave' });
    const lines = [
      JSON.stringify({ ...second, sessionId: 'sess-dave', responseTime: -1 }),
      JSON.stringify({ ...third, sessionId: 'sess-erin', responseTime: -1 }),
    ];
    const summary = await strata.ingestLines((async function* () { yield* lines; })(), { source: 'dead-letter-test.jsonl' });
    expect(summary.deadLetter).toBe(2);
    const report = await strata.erase({ sessionId: 'sess-dave' });
    const deadLetterDir = (await strata.status()).deadLetterDir;
    await strata.close();
    expect(report.deadLetters).toEqual({ removed: 1, remaining: 0, filesRewritten: 1 });
    expect(report.removed).toBe(2);
    expect(report.verified).toBe(true);
    const left = readdirSync(deadLetterDir).map((file) => readFileSync(join(deadLetterDir, file), 'utf8')).join('');
    expect(left.trim().split('\n')).toHaveLength(1);
    expect(left).not.toContain(report.storedIds[0]!);
    expect(left).not.toContain('sess-');
  });

  it('creates its key file outside the data dir with mode 0600 and logs where', async () => {
    const { strata, logs } = open();
    await (await strata).close();
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(existsSync(join(directory.path, 'analytics'))).toBe(true);
    expect(logs.text()).toContain(`created a new privacy key in ${keyFile}`);
  });

  it('fails to start with a key file inside the data dir, naming the file', async () => {
    const inside = join(directory.path, 'analytics', 'privacy.key');
    await expect(open({ keyFile: inside }).strata).rejects.toThrow(new RegExp(`privacy: failed to start: privacy: key file ${inside} is inside the data directory`));
  });

  it('fails to start without a key when it may not create one, naming the variable and the file', async () => {
    await expect(open({ extra: { createKeyFile: false, keyEnv: 'STRATA_PRIVACY_TEST_UNSET_KEY' } }).strata).rejects.toThrow(
      /no key: STRATA_PRIVACY_TEST_UNSET_KEY is not set and key file .*privacy\.key does not exist/,
    );
  });

  it('takes the key from its environment variable', async () => {
    process.env.STRATA_PRIVACY_TEST_KEY = 'ab'.repeat(32);
    try {
      const { strata, logs } = open({ extra: { keyEnv: 'STRATA_PRIVACY_TEST_KEY' } });
      await (await strata).close();
      expect(existsSync(keyFile)).toBe(false);
      expect(logs.text()).toContain('from environment variable STRATA_PRIVACY_TEST_KEY');
    } finally {
      delete process.env.STRATA_PRIVACY_TEST_KEY;
    }
  });

  it('loads by name from a JSON config with a custom recogniser', async () => {
    writeFileSync(
      join(directory.path, 'strata.config.json'),
      JSON.stringify({ plugins: ['hot-sqlite', { name: 'privacy', options: { keyFile, recognisers: [{ name: 'employee-id', pattern: '\\bEMP-\\d{6}\\b' }] } }] }),
    );
    const strata = await createStrata({ cwd: directory.path, catalog, logLevel: 'silent' });
    const [base] = events(1);
    await strata.recordStrict({ ...base, query: 'Who is EMP-004512?' });
    const stored = await strata.storage('hot')!.queryInteractions({});
    await strata.close();
    expect(stored.items[0]!.query).toBe('Who is <EMPLOYEE_ID>?');
  });

  it('reports a custom pattern that does not compile with its path in the config', async () => {
    writeFileSync(
      join(directory.path, 'strata.config.json'),
      JSON.stringify({ plugins: ['hot-sqlite', { name: 'privacy', options: { keyFile, recognisers: [{ name: 'ok', pattern: 'X\\d{3}' }, { name: 'bad', pattern: '([a-z' }] } }] }),
    );
    await expect(createStrata({ cwd: directory.path, catalog, logLevel: 'silent' })).rejects.toThrow(/plugins\[1\]\.options\.recognisers\[1\]\.pattern: does not compile/);
  });

  it('reports an unknown option and an unknown field to scrub with their paths', async () => {
    writeFileSync(join(directory.path, 'strata.config.json'), JSON.stringify({ plugins: ['hot-sqlite', { name: 'privacy', options: { keyFile, fields: ['query', 'email'], salt: 'x' } }] }));
    const error = await createStrata({ cwd: directory.path, catalog, logLevel: 'silent' }).catch((caught: unknown) => caught as Error);
    expect(String(error)).toMatch(/plugins\[1\]\.options\.fields\[1\]/);
    expect(String(error)).toMatch(/plugins\[1\]\.options: unknown key\(s\) "salt"/);
  });
});
