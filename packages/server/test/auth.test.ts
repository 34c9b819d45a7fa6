import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { createStrata, type AuditEntry, type Logger } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { TokenAuthenticator, constantTimeEqual, createStrataServer, hashToken, resolveTokens } from '../src/index.js';
import { TOKENS, TOKEN_SPECS, bearer, catalog, interaction, openServer, sha256Hex, tempDir } from './helpers.js';

// pino is the core's dependency, not this package's: load the copy the core uses, as a host application would.
const pino = createRequire(resolve(import.meta.dirname, '../../core/package.json'))('pino') as (options: { level: string }, stream: Writable) => Logger;

function auditEntries(dataDir: string): AuditEntry[] {
  const dir = join(dataDir, 'audit');
  return readdirSync(dir).flatMap((name) =>
    readFileSync(join(dir, name), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as AuditEntry),
  );
}

describe('constantTimeEqual', () => {
  it('tells equal secrets from different ones, whatever their lengths', () => {
    expect(constantTimeEqual('s3cret-token', 's3cret-token')).toBe(true);
    expect(constantTimeEqual('s3cret-token', 's3cret-tokem')).toBe(false);
    expect(constantTimeEqual('short', 'a much longer secret than the other one')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
    expect(constantTimeEqual(Buffer.from('abc'), 'abc')).toBe(true);
  });
});

describe('resolveTokens', () => {
  it('keeps only hashes: from a SHA-256 given as hex, and from an environment variable', () => {
    const { tokens, issues } = resolveTokens(
      [
        { token: sha256Hex('hex-configured-token-1'), name: 'ops', role: 'admin' },
        { token: 'DASHBOARD_TOKEN', name: 'wallboard', role: 'viewer' },
      ],
      { DASHBOARD_TOKEN: 'env-configured-token-2' },
    );
    expect(issues).toEqual([]);
    expect(tokens.map((token) => [token.principal, token.origin])).toEqual([
      [{ name: 'ops', role: 'admin' }, 'sha256'],
      [{ name: 'wallboard', role: 'viewer' }, 'env:DASHBOARD_TOKEN'],
    ]);
    expect(tokens[1]!.hash.equals(hashToken('env-configured-token-2'))).toBe(true);
    expect(JSON.stringify(tokens)).not.toContain('env-configured-token-2');
  });

  it('names every bad entry with its path and reason', () => {
    const { issues } = resolveTokens(
      [
        { token: 'UNSET_VARIABLE', name: 'a', role: 'admin' },
        { token: 'plain secret with spaces', name: 'b', role: 'admin' },
        { token: sha256Hex('x'), name: 'a', role: 'superuser' },
        { token: 'SHORT_TOKEN', name: 'c', role: 'viewer', extra: true },
        'not an object',
      ],
      { SHORT_TOKEN: 'abc' },
    );
    const byPath = Object.fromEntries(issues.map((issue) => [issue.path, issue.message]));
    expect(byPath['tokens[0].token']).toMatch(/environment variable UNSET_VARIABLE is not set/);
    expect(byPath['tokens[1].token']).toMatch(/never put the token itself in a config file/);
    expect(byPath['tokens[2].name']).toMatch(/already the name of tokens\[0\]/);
    expect(byPath['tokens[2].role']).toMatch(/must be one of admin, analyst, developer, viewer, got "superuser"/);
    expect(byPath['tokens[3].token']).toMatch(/has 3 characters; use at least 16/);
    expect(byPath['tokens[3].extra']).toMatch(/unknown key/);
    expect(byPath['tokens[4]']).toMatch(/expected an object/);
  });

  it('refuses an empty list and two names for one secret', () => {
    expect(resolveTokens([], {}).issues[0]!.message).toMatch(/at least one/);
    const same = sha256Hex('the-same-secret-token');
    expect(resolveTokens([{ token: same, name: 'a', role: 'admin' }, { token: same, name: 'b', role: 'viewer' }], {}).issues[0]!.message).toMatch(/"a" and "b" are the same secret/);
  });

  it('refuses to build a server without tokens, naming the option', async () => {
    const dir = tempDir();
    const strata = await createStrata({ config: { dataDir: join(dir, 'analytics'), plugins: ['hot-sqlite'] }, cwd: dir, catalog, logLevel: 'silent', scheduleJobs: false, monitor: false });
    try {
      await expect(createStrataServer({ strata, tokens: [] })).rejects.toThrow(/tokens: no tokens/);
    } finally {
      await strata.close();
    }
  });
});

describe('TokenAuthenticator', () => {
  const authenticator = new TokenAuthenticator(resolveTokens(TOKEN_SPECS, {}).tokens);

  it('maps a bearer token to its principal, with any case of "Bearer"', () => {
    expect(authenticator.authenticate(`Bearer ${TOKENS.analyst}`)).toEqual({ principal: { name: 'analyst-user', role: 'analyst' } });
    expect(authenticator.authenticate(`bearer ${TOKENS.viewer}`)).toEqual({ principal: { name: 'viewer-user', role: 'viewer' } });
  });

  it('says why a request is not authenticated', () => {
    expect(authenticator.authenticate(undefined)).toEqual({ failure: 'missing' });
    expect(authenticator.authenticate('Basic dXNlcjpwYXNz')).toEqual({ failure: 'malformed' });
    expect(authenticator.authenticate(`Bearer ${TOKENS.admin}x`)).toEqual({ failure: 'unknown' });
  });
});

describe('authentication and roles over HTTP', () => {
  it('answers a request without a token 401 with a Bearer challenge', async () => {
    const { server } = await openServer();
    const response = await server.app.inject({ method: 'GET', url: '/v1/report' });
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer realm="strata"');
    expect(response.json()).toMatchObject({ statusCode: 401, code: 'STRATA_ACCESS_DENIED', message: expect.stringMatching(/needs a bearer token/) });
  });

  it('answers an unknown or malformed token 401 with the RFC 6750 error', async () => {
    const { server } = await openServer();
    const unknown = await server.app.inject({ method: 'GET', url: '/v1/report', headers: { authorization: 'Bearer not-a-configured-token' } });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.headers['www-authenticate']).toMatch(/^Bearer realm="strata", error="invalid_token"/);
    const malformed = await server.app.inject({ method: 'POST', url: '/v1/interactions', headers: { authorization: TOKENS.admin }, payload: [] });
    expect(malformed.statusCode).toBe(401);
    expect(malformed.headers['www-authenticate']).toMatch(/error="invalid_request"/);
  });

  it('answers a role without the permission 403 with the access-denied message, and audits the denial', async () => {
    const { server, strata } = await openServer();
    const write = await server.app.inject({ method: 'POST', url: '/v1/interactions', headers: bearer('analyst'), payload: [interaction()] });
    expect(write.statusCode).toBe(403);
    expect(write.json().message).toBe('access denied: analyst-user (role analyst) lacks the "write" permission needed for interactions.write; roles allowed: admin');
    const read = await server.app.inject({ method: 'GET', url: '/v1/interactions', headers: bearer('viewer') });
    expect(read.statusCode).toBe(403);
    expect(read.json()).toMatchObject({ code: 'STRATA_ACCESS_DENIED', message: expect.stringMatching(/viewer-user \(role viewer\) lacks the "read" permission needed for interactions.read/) });
    await strata.flush();
    const denials = auditEntries(strata.config.dataDir).filter((entry) => !entry.allowed);
    expect(denials.map((entry) => [entry.principal, entry.operation])).toEqual([
      ['analyst-user', 'interactions.write'],
      ['viewer-user', 'interactions.read'],
    ]);
  });

  it('lets every role read summaries, and audits each read under the token\'s name', async () => {
    const { server, strata } = await openServer();
    for (const role of ['admin', 'analyst', 'developer', 'viewer'] as const) {
      const response = await server.app.inject({ method: 'GET', url: '/v1/insights/businessMetrics', headers: bearer(role) });
      expect(response.statusCode, role).toBe(200);
    }
    await strata.flush();
    const reads = auditEntries(strata.config.dataDir).filter((entry) => entry.operation === 'insights.read');
    expect(reads.map((entry) => entry.principal)).toEqual(['admin-user', 'analyst-user', 'developer-user', 'viewer-user']);
  });

  it('tells the page who the token belongs to and what it may do', async () => {
    const { server } = await openServer();
    const viewer = (await server.app.inject({ method: 'GET', url: '/v1/whoami', headers: bearer('viewer') })).json();
    expect(viewer).toMatchObject({ name: 'viewer-user', role: 'viewer', permissions: ['read_summary'] });
    expect(viewer.operations).toEqual(expect.arrayContaining(['insights.read', 'report.read', 'status.read']));
    expect(viewer.operations).not.toContain('interactions.read');
    expect(viewer.operations).not.toContain('interactions.write');
    const admin = (await server.app.inject({ method: 'GET', url: '/v1/whoami', headers: bearer('admin') })).json();
    expect(admin.operations).toContain('interactions.read');
  });

  it('never writes a raw token to the log, not even one passed in the page URL', async () => {
    const dir = tempDir();
    let logged = '';
    const logger = pino({ level: 'debug' }, new Writable({ write: (chunk, _encoding, done) => ((logged += String(chunk)), done()) }));
    const strata = await createStrata({ config: { dataDir: join(dir, 'analytics'), plugins: ['hot-sqlite'] }, cwd: dir, catalog, logger, scheduleJobs: false, monitor: false });
    const server = await createStrataServer({ strata, tokens: TOKEN_SPECS, port: 0 });
    try {
      await server.app.inject({ method: 'GET', url: `/?token=${TOKENS.admin}` });
      await server.app.inject({ method: 'GET', url: '/v1/report', headers: bearer('admin') });
      await server.app.inject({ method: 'GET', url: '/v1/report', headers: { authorization: 'Bearer wrong-token-value-123' } });
      await server.app.inject({ method: 'POST', url: '/v1/interactions', headers: bearer('viewer'), payload: [interaction()] });
    } finally {
      await server.close();
    }
    expect(logged).toContain('"url":"/?token=[redacted]"');
    for (const secret of [...Object.values(TOKENS), 'wrong-token-value-123']) expect(logged).not.toContain(secret);
  });
});
