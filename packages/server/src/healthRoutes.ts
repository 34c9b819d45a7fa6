import { describeError, type Strata } from '@strata/core';
import type { FastifyInstance } from 'fastify';

export interface ReadinessCheck {
  ok: boolean;
  /** Why it is not ok. */
  problem?: string;
}

/** The answer of `GET /readyz`: 200 when every check is ok, else 503. */
export interface Readiness {
  ready: boolean;
  checks: {
    hotTier: ReadinessCheck;
    queue: ReadinessCheck & { queued: number; bound: number };
    accepting: ReadinessCheck;
  };
}

export interface HealthRoutesOptions {
  strata: Strata;
  maxQueuedEvents: number;
  readinessCacheMs: number;
  /** True once the server started closing. */
  closing: () => boolean;
}

/**
 * `/healthz` (liveness: the process answers) and `/readyz` (readiness: the hot tier is healthy and
 * the ingest queue is below its bound). Neither needs a token: probes and load balancers call them.
 * Neither reveals paths or sizes: those are in `/v1/status`, behind a token.
 */
export async function registerHealthRoutes(app: FastifyInstance, options: HealthRoutesOptions): Promise<void> {
  const { strata } = options;
  const started = Date.now();
  // A tier's health check may read its database; a prober polling every second must not turn into load.
  let cached: { at: number; check: Promise<ReadinessCheck> } | undefined;
  const hotTierCheck = (): Promise<ReadinessCheck> => {
    const now = Date.now();
    if (!cached || now - cached.at >= options.readinessCacheMs) {
      cached = { at: now, check: probeHotTier(strata) };
    }
    return cached.check;
  };

  app.get('/healthz', { config: { public: true } }, async () => ({ status: 'ok', uptimeSeconds: Math.round((Date.now() - started) / 1000) }));

  app.get('/readyz', { config: { public: true } }, async (_request, reply) => {
    const queued = strata.metrics().queued;
    const queueOk = queued < options.maxQueuedEvents;
    const readiness: Readiness = {
      ready: false,
      checks: {
        hotTier: await hotTierCheck(),
        queue: {
          ok: queueOk,
          queued,
          bound: options.maxQueuedEvents,
          ...(queueOk ? {} : { problem: `${queued} events wait for the hot tier (bound ${options.maxQueuedEvents}); ingest answers 429 until it drains` }),
        },
        accepting: options.closing() ? { ok: false, problem: 'the server is shutting down' } : { ok: true },
      },
    };
    readiness.ready = readiness.checks.hotTier.ok && readiness.checks.queue.ok && readiness.checks.accepting.ok;
    return reply.code(readiness.ready ? 200 : 503).send(readiness);
  });
}

async function probeHotTier(strata: Strata): Promise<ReadinessCheck> {
  const hot = strata.storage('hot');
  if (!hot) return { ok: false, problem: 'no hot tier is configured' };
  try {
    const health = await hot.health();
    return health.ok ? { ok: true } : { ok: false, problem: `${hot.name}: ${health.problem ?? 'unhealthy'}` };
  } catch (error) {
    return { ok: false, problem: `${hot.name}: health check failed: ${describeError(error)}` };
  }
}
