import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, Socket } from 'node:net';
import type { InsightsPage, InsightsProvider, InsightsQuery, Logger } from '@strata/core';
import { vi, type Mock } from 'vitest';

/** A provider whose answers report the range asked for; it counts its computations per question. */
export function countingProvider() {
  const computations: Record<string, number> = {};
  const answer = (question: string) => async (query?: InsightsQuery): Promise<InsightsPage<{ question: string; version: number }>> => {
    computations[question] = (computations[question] ?? 0) + 1;
    return { items: [{ question, version: computations[question]! }], nextCursor: null, range: { from: query?.range?.from ?? null, to: query?.range?.to ?? null } };
  };
  // Stand-in answers: the cache only needs pages with items and a range.
  const provider = {
    commonQuestions: answer('commonQuestions'),
    userBehaviour: answer('userBehaviour'),
    contentEffectiveness: answer('contentEffectiveness'),
    businessMetrics: answer('businessMetrics'),
    trendingQueries: async (query?: InsightsQuery) => ({ ...(await answer('trendingQueries')(query)), asOf: query?.range?.to ?? null, recentDays: 7, baselineDays: 28 }),
    systemPerformance: answer('systemPerformance'),
  } as unknown as InsightsProvider;
  return { provider, computations };
}

/** A logger that records warnings and infos. */
export function recordingLogger(): { logger: Logger; warn: Mock; info: Mock } {
  const warn = vi.fn();
  const info = vi.fn();
  const logger = { warn, info, debug: vi.fn(), error: vi.fn(), trace: vi.fn(), fatal: vi.fn() } as unknown as Logger;
  return { logger, warn, info };
}

/** Whether a Redis server answers PING at host:port within a second. */
export async function redisAnswers(port: number, host = '127.0.0.1'): Promise<boolean> {
  const socket = new Socket();
  socket.setTimeout(1_000);
  try {
    const answered = new Promise<boolean>((resolve) => {
      let reply = '';
      socket.on('data', (chunk) => {
        reply += chunk.toString();
        if (reply.includes('\r\n')) resolve(reply.startsWith('+PONG'));
      });
      socket.on('error', () => resolve(false));
      socket.on('timeout', () => resolve(false));
      socket.on('close', () => resolve(false));
    });
    socket.connect(port, host, () => socket.write('PING\r\n'));
    return await answered;
  } finally {
    socket.destroy();
  }
}

export const SHARED_REDIS_PORT = 6379;

/**
 * Why Redis tests cannot run here, or undefined when they can. Unreachable Redis fails the run in
 * CI (`CI=true`) and skips the tests elsewhere, saying why.
 */
export async function sharedRedisUnavailable(): Promise<string | undefined> {
  if (await redisAnswers(SHARED_REDIS_PORT)) return undefined;
  const reason = `no Redis answers at 127.0.0.1:${SHARED_REDIS_PORT}`;
  if (process.env.CI === 'true') throw new Error(`${reason}; CI must provide one`);
  console.warn(`[cache] Redis tests skipped: ${reason} (start redis-server to run them)`);
  return reason;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  return address.port;
}

/** A redis-server of the test's own, without persistence, answering on `port`. */
export async function startRedisServer(port: number): Promise<ChildProcess> {
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], { stdio: 'ignore' });
  const failed = new Promise<never>((_, reject) => {
    server.once('error', reject);
    server.once('exit', (code) => reject(new Error(`redis-server on port ${port} exited with ${code}`)));
  });
  failed.catch(() => undefined);
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if (await Promise.race([redisAnswers(port), failed])) return server;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  server.kill('SIGKILL');
  throw new Error(`redis-server on port ${port} did not answer within 5 s`);
}

export async function stopRedisServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = once(server, 'exit');
  server.kill('SIGKILL');
  await exited;
}

/** Polls until `check` is true (at most `timeoutMs`), for state that changes in the background. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
