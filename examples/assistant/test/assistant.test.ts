import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createStrata, type Strata } from '@strata/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startAssistant, type Assistant } from '../src/server.js';

const exampleDir = join(import.meta.dirname, '..');
const configPath = join(exampleDir, 'strata.config.json');
const privacyKey = randomBytes(32).toString('hex');
const userAgent = 'AssistantTest/1.0 (privacy check 7d41)';

const cleanups: Array<() => unknown> = [];
beforeEach(() => {
  vi.stubEnv('STRATA_PRIVACY_KEY', privacyKey);
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  vi.unstubAllEnvs();
});
function tempDir(): string {
  const directory = mkdtempSync(join(tmpdir(), 'strata-example-assistant-'));
  cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

async function start(dataDir: string): Promise<Assistant> {
  const assistant = await startAssistant({ port: 0, dataDir, thinkMs: 1 });
  cleanups.push(() => assistant.close());
  return assistant;
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': userAgent, ...headers }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, headers: response.headers };
}

async function reopen(dataDir: string): Promise<Strata> {
  const strata = await createStrata({ configPath, dataDir, logLevel: 'silent', monitor: false, scheduleJobs: false });
  cleanups.push(() => strata.close());
  return strata;
}

/** Every byte Strata left under the data dir, as text that raw values can be searched in. */
function everyFile(directory: string): string {
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => readFileSync(join(entry.parentPath, entry.name)).toString('latin1'))
    .join('\n');
}

describe('assistant example', () => {
  it('records every answer with its session, role, turn and content, and a rating given later', async () => {
    const dataDir = tempDir();
    const assistant = await start(dataDir);

    // Session A: a browser; the first answer sets the session cookie, later turns send it back.
    const first = await post(`${assistant.url}/chat`, { message: 'What projects has Noah worked on?', role: 'recruiter' });
    expect(first.status).toBe(200);
    const cookie = first.headers.get('set-cookie')!.split(';')[0]!;
    const sessionA = decodeURIComponent(cookie.slice('sid='.length));
    const second = await post(`${assistant.url}/chat`, { message: 'Is he hiring for his team?', role: 'recruiter' }, { cookie });
    const third = await post(`${assistant.url}/chat`, { message: 'Can you recite a poem about tea?', role: 'recruiter' }, { cookie });
    expect([first.body.turn, second.body.turn, third.body.turn]).toEqual([1, 2, 3]);

    // Session B: an API client naming its session in a header and its role in another.
    const sessionB = 'api-session-b-5f0c2e9a';
    const code = await post(`${assistant.url}/chat`, { message: 'Show me a TypeScript code example' }, { 'x-session-id': sessionB, 'x-user-role': 'software_engineer' });
    await post(`${assistant.url}/chat`, { message: 'How should I start MMA training?' }, { 'x-session-id': sessionB, 'x-user-role': 'software_engineer' });
    expect(code.body).toMatchObject({ turn: 1, queryType: 'technical', content: [{ type: 'code_snippet', id: 'ts-map-by-id' }, { type: 'career_kb' }] });

    const rated = await post(`${assistant.url}/rate`, { eventId: second.body.eventId, rating: 5 });
    expect(rated).toMatchObject({ status: 200, body: { status: 'updated' } });

    // The rating flushed every interaction before it, so the report already counts them all.
    const report = (await (await fetch(`${assistant.url}/report`)).json()) as Record<string, unknown>;
    expect(report).toMatchObject({ interactions: 5, sessions: 2, ratedInteractions: 1, avgRating: 5 });
    const roles = new Map((report.roles as Array<{ role: string; interactions: number; sessions: number; followUpRate: number }>).map((row) => [row.role, row]));
    expect(roles.get('recruiter')).toMatchObject({ interactions: 3, sessions: 1, followUpRate: expect.closeTo(2 / 3, 6) });
    expect(roles.get('software_engineer')).toMatchObject({ interactions: 2, sessions: 1, followUpRate: expect.closeTo(1 / 2, 6) });
    await assistant.close();

    const strata = await reopen(dataDir);
    const stored = (await strata.storage('hot')!.queryInteractions({ limit: 100 })).items;
    expect(stored).toHaveLength(5);
    const byQuery = new Map(stored.map((row) => [row.query, row]));
    expect(byQuery.get('Is he hiring for his team?')).toMatchObject({ userRole: 'recruiter', queryType: 'career', followUpQuery: true, conversationTurn: 2, userRating: 5, success: true, citationsProvided: 2 });
    expect(byQuery.get('Can you recite a poem about tea?')).toMatchObject({ queryType: 'general', success: false, conversationTurn: 3 });
    expect(byQuery.get('Show me a TypeScript code example')).toMatchObject({ followUpQuery: false, codeSnippetsShown: 1, citationsProvided: 1 });
    expect(byQuery.get('Show me a TypeScript code example')!.content).toEqual([
      { type: 'code_snippet', id: 'ts-map-by-id', relevance: 0.92 },
      { type: 'career_kb', id: 'stack-typescript', relevance: 0.55 },
    ]);
    for (const row of stored) {
      expect(row.responseTime).toBeGreaterThan(0);
      expect([sessionA, sessionB]).not.toContain(row.sessionId);
      expect(row.ipHash).toMatch(/\S/);
      expect(row.userAgentHash).toMatch(/\S/);
    }
    expect(new Set(stored.map((row) => row.sessionId)).size).toBe(2);
    const content = (await strata.insights.contentEffectiveness()).items.map((item) => `${item.contentType}:${item.contentId}`);
    expect(content).toEqual(expect.arrayContaining(['career_kb:work-history', 'code_snippet:ts-map-by-id', 'mma_link:beginner-training-plan']));
    await strata.close();

    const files = everyFile(dataDir);
    for (const raw of [sessionA, sessionB, userAgent, '127.0.0.1']) expect(files.includes(raw), `${raw} is stored raw`).toBe(false);
    expect(files).toContain('Is he hiring for his team?'); // the scan reads the database: queries without PII stay readable
  });

  it('answers a bad chat or rating with 400 naming the field, and an unknown eventId with 404', async () => {
    const assistant = await start(tempDir());
    expect(await post(`${assistant.url}/chat`, { role: 'recruiter' })).toMatchObject({ status: 400, body: { error: 'message: must be a non-empty string' } });
    expect(await post(`${assistant.url}/chat`, { message: 'hi', role: 'Robert); DROP TABLE' })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^role: /) } });
    expect(await post(`${assistant.url}/rate`, { eventId: 'x', rating: 6 })).toMatchObject({ status: 400, body: { error: 'rating: must be an integer from 1 to 5' } });
    expect(await post(`${assistant.url}/rate`, { eventId: 'never-recorded', rating: 4 })).toMatchObject({ status: 404, body: { error: expect.stringMatching(/^eventId: /) } });
    const notJson = await fetch(`${assistant.url}/chat`, { method: 'POST', body: '{"message":' });
    expect(notJson.status).toBe(400);
    expect(assistant.strata.metrics()).toMatchObject({ accepted: 0, rejected: 0 });
  });

  it('runs as `node dist/main.js` and closes Strata on SIGTERM, keeping what it recorded', async () => {
    const entry = join(exampleDir, 'dist', 'main.js');
    expect(existsSync(entry), 'examples/assistant/dist/main.js is missing: run pnpm build').toBe(true);
    const dataDir = tempDir();
    const child = spawn(process.execPath, [entry], {
      cwd: tmpdir(), // the config is found beside the script, not in the working directory
      env: { ...process.env, PORT: '0', ASSISTANT_DATA_DIR: dataDir, STRATA_PRIVACY_KEY: privacyKey },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    cleanups.push(() => child.kill('SIGKILL'));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const listening = (await lines.next()).value as string;
    const url = /listening on (http:\S+)/.exec(listening)?.[1];
    expect(url, listening).toBeDefined();

    const answer = await post(`${url}/chat`, { message: 'Tell me a joke', role: 'student' });
    expect(answer).toMatchObject({ status: 200, body: { queryType: 'fun' } });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);

    const strata = await reopen(dataDir);
    expect((await strata.report()).totals.interactions).toBe(1);
  });
});
