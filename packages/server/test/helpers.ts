import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStrata, type AccessRole, type Strata, type StrataConfig } from '@strata/core';
import { hotSqlitePlugin } from '@strata/hot-sqlite';
import { afterEach } from 'vitest';
import { createStrataServer, type StrataServer, type StrataServerOptions, type TokenSpec } from '../src/index.js';

/** One token per role; the server is configured with their SHA-256 only. */
export const TOKENS: Record<AccessRole, string> = {
  admin: 'admin-secret-token-0001',
  analyst: 'analyst-secret-token-0002',
  developer: 'developer-secret-token-0003',
  viewer: 'viewer-secret-token-0004',
};

export const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

export const TOKEN_SPECS: TokenSpec[] = (Object.keys(TOKENS) as AccessRole[]).map((role) => ({ token: sha256Hex(TOKENS[role]), name: `${role}-user`, role }));

export const bearer = (role: AccessRole) => ({ authorization: `Bearer ${TOKENS[role]}` });

export const catalog = { 'hot-sqlite': () => hotSqlitePlugin };

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A fresh directory removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-server-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Strata on hot SQLite alone (the embedded default adds privacy, whose pseudonyms would only make
 * the expected numbers harder to read) in a temp dir, closed after the test (closing twice is safe).
 */
export async function openStrata(config: StrataConfig = {}, dir = tempDir()): Promise<Strata> {
  const strata = await createStrata({ config: { dataDir: join(dir, 'analytics'), plugins: ['hot-sqlite'], ...config }, cwd: dir, catalog, logLevel: 'silent', scheduleJobs: false, monitor: false });
  cleanups.push(() => strata.close());
  return strata;
}

/** A server on its own Strata (or the one given), closed after the test. */
export async function openServer(options: Partial<StrataServerOptions> & { config?: StrataConfig } = {}): Promise<{ server: StrataServer; strata: Strata }> {
  const { config, ...rest } = options;
  const strata = rest.strata ?? (await openStrata(config));
  const server = await createStrataServer({ tokens: TOKEN_SPECS, port: 0, ...rest, strata });
  cleanups.push(() => server.close());
  return { server, strata };
}

export const DAY_MS = 86_400_000;

/** A valid interaction; `overrides` replace fields. */
export function interaction(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventId: `ev-${Math.random().toString(36).slice(2)}`,
    sessionId: 'session-1',
    timestamp: Date.now() - 60_000,
    userRole: 'software_engineer',
    query: 'How do I set up a Python virtual environment?',
    queryType: 'technical',
    responseTime: 1.25,
    success: true,
    ...overrides,
  };
}
