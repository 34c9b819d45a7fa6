import { connect } from 'node:net';
import type { ResolvedConfig } from '@strata/core';

export interface ServerCheck {
  name: string;
  ok: boolean;
  detail: string;
  hint?: string;
}

/**
 * Whether the servers the config names answer, without starting any plugin or creating anything:
 * PostgreSQL for hot-postgres (connect and `SELECT version()`), Redis for a Redis cache (`PING`).
 */
export async function checkServers(config: ResolvedConfig): Promise<ServerCheck[]> {
  const checks: ServerCheck[] = [];
  for (const plugin of config.plugins) {
    const options = (plugin.options ?? {}) as Record<string, unknown>;
    if (plugin.definition.name === 'hot-postgres') {
      const connectionString = (options.connectionString as string | undefined) ?? process.env.STRATA_PG_URL;
      if (!connectionString) {
        checks.push({ name: 'postgres', ok: false, detail: 'hot-postgres has no connectionString and STRATA_PG_URL is not set', hint: 'set connectionString in the hot-postgres options or export STRATA_PG_URL=postgres://user@host:5432/database' });
        continue;
      }
      const { probePostgres } = await import('@strata/hot-postgres');
      const probe = await probePostgres(connectionString, (options.connectTimeoutMs as number | undefined) ?? 5_000);
      checks.push({ name: 'postgres', ok: probe.ok, detail: probe.detail, ...(probe.ok ? {} : { hint: 'the message says what failed; `pg_isready -h <host> -p <port>` checks the server itself' }) });
    }
    if (plugin.definition.name === 'cache' && options.store === 'redis') {
      const url = ((options.redis as { url?: string } | undefined)?.url ?? 'redis://127.0.0.1:6379').toString();
      const probe = await pingRedis(url, 3_000);
      checks.push({ name: 'redis', ok: probe.ok, detail: probe.detail, ...(probe.ok ? {} : { hint: 'start Redis there or fix cache.options.redis.url; until it answers, insights are served uncached' }) });
    }
  }
  return checks;
}

/** A bare RESP `PING` over TCP: enough to tell whether Redis answers, without loading a client. */
export function pingRedis(url: string, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
  let host = '127.0.0.1';
  let port = 6379;
  try {
    const parsed = new URL(url);
    host = parsed.hostname || host;
    port = Number(parsed.port || 6379);
  } catch {
    return Promise.resolve({ ok: false, detail: `cache.options.redis.url ${JSON.stringify(url)} is not a URL (redis://host:port)` });
  }
  const where = `${host}:${port}`;
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let reply = '';
    const finish = (result: { ok: boolean; detail: string }) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ ok: false, detail: `Redis at ${where} did not answer within ${timeoutMs} ms` }), timeoutMs);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) {
        if (reply.startsWith('+PONG')) finish({ ok: true, detail: `Redis at ${where} answers` });
        // -NOAUTH and the like: it is Redis, but it wants a password the URL should carry.
        else finish({ ok: false, detail: `Redis at ${where} answered ${JSON.stringify(reply.trim())}; put the password in the URL (redis://:password@host:port)` });
      }
    });
    socket.on('error', (error) => finish({ ok: false, detail: `cannot reach Redis at ${where} (${error.message})` }));
  });
}
