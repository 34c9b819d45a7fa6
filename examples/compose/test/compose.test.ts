import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStrata, loadConfig, type ResolvedConfig, type Strata } from '@strata/core';
import type { HotPostgresTier } from '@strata/hot-postgres';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const exampleDir = join(import.meta.dirname, '..');
const configFile = (name: string) => join(exampleDir, name);
const pluginNames = (config: ResolvedConfig) => config.plugins.map((plugin) => plugin.definition.name);
const optionsOf = (config: ResolvedConfig, name: string) => config.plugins.find((plugin) => plugin.definition.name === name)?.options as Record<string, unknown>;

const cleanups: Array<() => unknown> = [];
beforeEach(() => {
  vi.stubEnv('STRATA_PRIVACY_KEY', randomBytes(32).toString('hex'));
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  vi.unstubAllEnvs();
});
function tempDir(): string {
  const directory = mkdtempSync(join(tmpdir(), 'strata-example-compose-'));
  cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

/** Starts Strata from a config file with its data in a temp dir (the test never writes into the example). */
async function start(file: string, dataDir = tempDir()): Promise<Strata> {
  const strata = await createStrata({ configPath: configFile(file), dataDir, logLevel: 'silent', scheduleJobs: false, monitor: false });
  cleanups.push(() => strata.close());
  return strata;
}

/** Records `count` interactions of one new session; resolves when the hot tier committed them all. */
async function recordSession(strata: Strata, count: number): Promise<string> {
  const sessionId = `compose-test-${randomUUID()}`;
  const now = Date.now();
  for (let turn = 1; turn <= count; turn += 1) {
    const outcome = await strata.recordStrict({ sessionId, timestamp: now + turn, userRole: 'recruiter', query: `compose question ${turn}`, queryType: 'career', responseTime: 0.5, success: true, conversationTurn: turn, ipAddress: '203.0.113.7' });
    expect(outcome.status).toBe('stored');
  }
  return sessionId;
}

/**
 * Whether a server answers its own protocol on 127.0.0.1: PostgreSQL replies to an SSLRequest with
 * one byte (S or N), Redis to PING with +PONG. Resolves with why not, or undefined when it does.
 */
function probe(port: number, hello: Buffer, answers: (reply: string) => boolean): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (reason: string | undefined) => {
      socket.destroy();
      resolve(reason);
    };
    socket.setTimeout(2_000, () => done(`no answer on 127.0.0.1:${port} within 2 s`));
    socket.once('error', (error) => done(`127.0.0.1:${port}: ${error.message}`));
    socket.once('connect', () => socket.write(hello));
    socket.once('data', (reply) => done(answers(reply.toString('latin1')) ? undefined : `127.0.0.1:${port} answered something unexpected`));
  });
}
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

describe('compose configs', () => {
  it('minimal.config.json composes hot-sqlite alone, with its data under the example', async () => {
    const config = await loadConfig({ configPath: configFile('minimal.config.json') });
    expect(pluginNames(config)).toEqual(['hot-sqlite']);
    expect(config.dataDir).toBe(join(exampleDir, 'data', 'minimal'));
  });

  it('single-machine.config.ts composes every SQLite tier, the jobs, alerts, cache and exporters', async () => {
    const config = await loadConfig({ configPath: configFile('single-machine.config.ts') });
    expect(pluginNames(config).sort()).toEqual(['alerts', 'backup', 'cache', 'exporters', 'historical-sqlite', 'hot-sqlite', 'json-archive', 'privacy', 'quality', 'retention']);
    expect(optionsOf(config, 'alerts')).toMatchObject({ preset: 'plan', notifiers: [{ type: 'log' }] });
    expect(config.dataDir).toBe(join(exampleDir, 'data', 'single-machine'));
  });

  it('single-machine.config.ts adds the webhook notifier when STRATA_ALERT_WEBHOOK_URL is set', async () => {
    vi.stubEnv('STRATA_ALERT_WEBHOOK_URL', 'https://hooks.example.com/strata');
    const config = await loadConfig({ configPath: configFile('single-machine.config.ts') });
    expect(optionsOf(config, 'alerts')).toMatchObject({ notifiers: [{ type: 'log' }, { type: 'webhook', url: 'https://hooks.example.com/strata' }] });
  });

  it('postgres-redis.config.ts reads its servers from the environment, defaulting to 127.0.0.1', async () => {
    vi.stubEnv('STRATA_PG_URL', undefined);
    vi.stubEnv('STRATA_PG_SCHEMA', undefined);
    vi.stubEnv('STRATA_REDIS_URL', undefined);
    const defaults = await loadConfig({ configPath: configFile('postgres-redis.config.ts') });
    expect(pluginNames(defaults).sort()).toEqual(['alerts', 'cache', 'hot-postgres', 'privacy']);
    expect(optionsOf(defaults, 'hot-postgres')).toMatchObject({ connectionString: 'postgres://postgres@127.0.0.1:5432/test', schema: 'strata' });
    expect(optionsOf(defaults, 'cache')).toMatchObject({ store: 'redis', redis: { url: 'redis://127.0.0.1:6379' } });

    vi.stubEnv('STRATA_PG_URL', 'postgres://strata@db.internal:5432/analytics');
    vi.stubEnv('STRATA_REDIS_URL', 'redis://cache.internal:6379');
    const fromEnv = await loadConfig({ configPath: configFile('postgres-redis.config.ts') });
    expect(optionsOf(fromEnv, 'hot-postgres')).toMatchObject({ connectionString: 'postgres://strata@db.internal:5432/analytics' });
    expect(optionsOf(fromEnv, 'cache')).toMatchObject({ redis: { url: 'redis://cache.internal:6379' } });
  });

  it('reports a wrong option in a copied config with its path', async () => {
    const file = join(tempDir(), 'strata.config.json');
    writeFileSync(file, JSON.stringify({ plugins: [{ name: 'hot-sqlite', options: { synchronous: 'SOMETIMES' } }] }));
    await expect(loadConfig({ configPath: file })).rejects.toThrow(/plugins\[0\]\.options\.synchronous/);
  });

  it('minimal starts, stores what it records, and closes', async () => {
    const strata = await start('minimal.config.json');
    await recordSession(strata, 4);
    expect((await strata.report()).totals).toMatchObject({ interactions: 4, sessions: 1 });
    const stored = (await strata.storage('hot')!.queryInteractions({ limit: 10 })).items;
    expect(stored.every((row) => row.sessionId.startsWith('compose-test-'))).toBe(true); // no privacy plugin: ids stay as sent
    await strata.close();
  });

  it('single-machine starts with hot, warm and cold tiers and its jobs, stores what it records, and closes', async () => {
    const dataDir = tempDir();
    const strata = await start('single-machine.config.ts', dataDir);
    expect((await strata.status()).tiers.map((tier) => `${tier.role}:${tier.name}`).sort()).toEqual(['cold:json-archive', 'hot:hot-sqlite', 'warm:historical-sqlite']);
    expect(strata.jobStatus().map((job) => job.name)).toEqual(expect.arrayContaining(['retention', 'backup', 'quality']));

    const sessionId = await recordSession(strata, 5);
    expect((await strata.insights.userBehaviour()).items).toMatchObject([{ userRole: 'recruiter', interactions: 5, sessions: 1 }]);
    const stored = (await strata.storage('hot')!.queryInteractions({ limit: 10 })).items;
    expect(stored.map((row) => row.sessionId)).not.toContain(sessionId); // privacy: a pseudonym is stored
    await strata.flush();
    expect(strata.metrics().sinks.exporters).toMatchObject({ delivered: 5, dropped: 0 });
    await strata.close();
    expect(readdirSync(join(dataDir, 'exports', 'interactions')).length).toBeGreaterThan(0);
  });

  it('postgres-redis starts against PostgreSQL and Redis on 127.0.0.1, stores what it records, and closes', async ({ skip }) => {
    const unavailable = (await probe(5432, SSL_REQUEST, (reply) => reply === 'S' || reply === 'N')) ?? (await probe(6379, Buffer.from('PING\r\n'), (reply) => reply.startsWith('+PONG')));
    if (unavailable) {
      // CI starts both servers (.ci/run); anywhere else the test says why it did not run.
      expect(process.env.CI, `PostgreSQL and Redis are needed in CI: ${unavailable}`).not.toBe('true');
      console.warn(`skipping the postgres-redis start: ${unavailable}`);
      skip(unavailable);
    }
    vi.stubEnv('STRATA_PG_URL', undefined);
    vi.stubEnv('STRATA_REDIS_URL', undefined);
    // A schema of its own, dropped afterwards: the test database is shared with other runs.
    const schema = `compose_test_${process.pid}_${randomBytes(4).toString('hex')}`;
    vi.stubEnv('STRATA_PG_SCHEMA', schema);
    const strata = await start('postgres-redis.config.ts');
    const hot = strata.storage('hot') as HotPostgresTier;
    cleanups.push(() => hot.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    expect(hot).toMatchObject({ name: 'hot-postgres', schema });

    const sessionId = await recordSession(strata, 3);
    expect((await strata.report()).totals).toMatchObject({ interactions: 3, sessions: 1 });
    expect((await hot.queryInteractions({ limit: 10 })).items.map((row) => row.sessionId)).not.toContain(sessionId);
    const cache = await strata.metricSources().find((source) => source.name === 'cache')!.read({ now: Date.now() });
    expect(cache).toContainEqual(expect.objectContaining({ name: 'cache.errors', value: 0, labels: { store: 'redis' } }));
  });

  it.each(['minimal', 'single-machine'])('runs as `node dist/main.js %s`', async (name) => {
    const entry = join(exampleDir, 'dist', 'main.js');
    expect(existsSync(entry), 'examples/compose/dist/main.js is missing: run pnpm build').toBe(true);
    const result = await run(process.execPath, [entry, name], { COMPOSE_DATA_DIR: tempDir() });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`plugins   hot-sqlite`);
    expect(result.stdout).toMatch(/recorded  3 interactions; the last minute now holds 3 in 1 session/);
  });
});

function run(command: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: tmpdir(), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
