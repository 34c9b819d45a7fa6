import { StopError } from '@strata/core';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { loadDashboardAssets, registerDashboardRoutes } from './dashboardRoutes.js';
import { installErrorHandlers, pathOf } from './errorResponses.js';
import { registerHealthRoutes } from './healthRoutes.js';
import { IngestAdmission, type IngestAdmissionCounters } from './ingestAdmission.js';
import { registerIngestRoute } from './ingestRoute.js';
import { registerInsightsRoutes } from './insightsRoutes.js';
import { registerPanelRoutes } from './panelRoutes.js';
import { schemaErrorFormatter } from './queryParameters.js';
import { RequestScopes } from './requestScopes.js';
import { resolveServerOptions, type ResolvedServerOptions, type StrataServerOptions } from './serverOptions.js';
import { TokenAuthenticator } from './tokenAuth.js';

/** Where a listening server can be reached. */
export interface ServerAddress {
  /** `http://127.0.0.1:8787` */
  url: string;
  host: string;
  port: number;
}

/** A running (or ready to run) `strata serve`. */
export interface StrataServer {
  /** The Fastify instance, for `inject()` in tests and for adding routes before `listen()`. */
  readonly app: FastifyInstance;
  readonly options: Readonly<ResolvedServerOptions>;
  /** Starts listening on the configured host and port. */
  listen(): Promise<ServerAddress>;
  /**
   * Graceful shutdown: stops accepting connections (new requests on open ones get 503), lets
   * in-flight requests finish (each ingest request answers once its events are committed), then
   * closes Strata, which writes everything accepted. Connections still busy after
   * `shutdownTimeoutMs` are cut; their events were already queued and are written all the same.
   * Idempotent.
   */
  close(): Promise<void>;
  /** Ingest admission: requests in flight and 429s so far. */
  counters(): IngestAdmissionCounters;
}

/** Builds the server: every route registered, nothing listening yet. Options are checked first; a bad one throws a ConfigError naming it. */
export async function createStrataServer(options: StrataServerOptions): Promise<StrataServer> {
  const resolved = resolveServerOptions(options);
  const { strata } = options;
  const logger = strata.logger.child({ component: 'server' }, { serializers: { req: requestLogFields } });
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: resolved.bodyLimitBytes,
    // Unknown query parameters are errors, not silently dropped; the first problem is reported
    // (collecting all of them lets a crafted request make validation expensive).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false, verbose: true } },
    schemaErrorFormatter,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
  });
  let closing = false;
  const scopes = new RequestScopes(strata, new TokenAuthenticator(resolved.tokens));
  const admission = new IngestAdmission(
    {
      maxQueuedEvents: resolved.maxQueuedEvents,
      maxConcurrent: resolved.maxConcurrentIngests,
      pipelineMaxQueue: strata.config.pipeline.maxQueue,
      retryAfterSeconds: resolved.retryAfterSeconds,
    },
    () => strata.metrics().queued,
  );

  installErrorHandlers(app);
  app.addHook('onRequest', async (request, reply) => {
    if (isPublic(request)) return;
    // API answers are per token and may hold personal data: never cached, never sniffed.
    void reply.header('cache-control', 'no-store').header('x-content-type-options', 'nosniff');
    scopes.authenticate(request);
  });
  // A response finished while closing ends its connection: an idle keep-alive socket would hold
  // close() until the client's own keep-alive timeout.
  app.addHook('onSend', async (_request, reply) => {
    if (closing) void reply.header('connection', 'close');
  });

  await registerHealthRoutes(app, { strata, maxQueuedEvents: resolved.maxQueuedEvents, readinessCacheMs: resolved.readinessCacheMs, closing: () => closing });
  await registerDashboardRoutes(app, loadDashboardAssets());
  await registerInsightsRoutes(app, { scopes, now: () => Date.now() });
  await registerPanelRoutes(app, { scopes, panels: resolved.panels });
  // Its own context: the ingest route reads only the batch formats, and its parsers stay there.
  await app.register(async (ingest) => registerIngestRoute(ingest, { scopes, admission, bodyLimitBytes: resolved.bodyLimitBytes, maxEventsPerBatch: resolved.maxEventsPerBatch }));
  await app.ready();

  let shutdown: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    closing = true;
    const errors: Error[] = [];
    // In-flight requests get until the deadline; after it their connections are cut (their events are already queued).
    const cutOff = setTimeout(() => {
      logger.warn({ shutdownTimeoutMs: resolved.shutdownTimeoutMs }, 'requests still in flight at the shutdown deadline; closing their connections');
      app.server.closeAllConnections();
    }, resolved.shutdownTimeoutMs);
    cutOff.unref();
    try {
      await app.close();
    } catch (error) {
      errors.push(...toErrorList(error));
    } finally {
      clearTimeout(cutOff);
    }
    if (resolved.closeStrata) {
      try {
        await strata.close();
      } catch (error) {
        errors.push(...toErrorList(error));
      }
    }
    if (errors.length > 0) throw new StopError(errors);
  };

  return {
    app,
    options: resolved,
    async listen() {
      await app.listen({ port: resolved.port, host: resolved.host });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : resolved.port;
      const host = typeof address === 'object' && address ? address.address : resolved.host;
      const shown = host.includes(':') ? `[${host}]` : host;
      return { url: `http://${shown}:${port}`, host, port };
    },
    close() {
      shutdown ??= close();
      return shutdown;
    },
    counters: () => admission.counters(),
  };
}

function isPublic(request: FastifyRequest): boolean {
  return request.is404 || (request.routeOptions.config as { public?: boolean }).public === true;
}

/** What the request log records: never the Authorization header, and never a `token` in the query string. */
function requestLogFields(request: { method?: string; url?: string; ip?: string; socket?: { remotePort?: number } }): Record<string, unknown> {
  const url = request.url ?? '';
  const query = url.length > pathOf(url).length ? url.slice(pathOf(url).length) : '';
  return {
    method: request.method,
    url: `${pathOf(url)}${query.replace(/([?&]token=)[^&]*/gi, '$1[redacted]')}`,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

/** A StopError's own errors, or the error itself: one flat list for the StopError close() throws. */
function toErrorList(error: unknown): Error[] {
  if (error instanceof StopError) return [...error.errors];
  return [error instanceof Error ? error : new Error(String(error))];
}
