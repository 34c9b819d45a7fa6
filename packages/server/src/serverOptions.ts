import { ConfigError, type Issue, type Strata } from '@strata/core';
import type { DashboardPanels } from './dashboardPanels.js';
import { resolveTokens, type ResolvedToken, type TokenSpec } from './tokenAuth.js';

/** Options of `createStrataServer`; every field but `strata` and `tokens` has a default. */
export interface StrataServerOptions {
  /** The Strata instance the server serves; every request acts through `strata.as(principal)`. */
  strata: Strata;
  /** The bearer tokens accepted, each mapped to a name and a role. At least one. */
  tokens: readonly TokenSpec[];
  /** TCP port; 0 picks a free one (read it from `listen()`'s answer). Default 8787. */
  port?: number;
  /** Interface to listen on. Default `127.0.0.1`: only this machine; use `0.0.0.0` behind a proxy that terminates TLS. */
  host?: string;
  /** Largest request body accepted, in bytes; a larger one gets 413. Default 5 MiB. */
  bodyLimitBytes?: number;
  /** Most events in one ingest request; more gets 413. Default 10,000. */
  maxEventsPerBatch?: number;
  /**
   * Ingest requests get 429 while this many events wait for the hot tier (`strata.metrics().queued`).
   * Default: a quarter of the pipeline's `maxQueue` (25,000 of the default 100,000), so admitted
   * batches never find the core's own queue full.
   */
  maxQueuedEvents?: number;
  /** Ingest requests processed at once; one more gets 429. Default 8. */
  maxConcurrentIngests?: number;
  /** The `Retry-After` (seconds) sent with a 429. Default 1. */
  retryAfterSeconds?: number;
  /** How long `close()` waits for in-flight requests before cutting their connections. Default: the config's `shutdownTimeoutMs`. */
  shutdownTimeoutMs?: number;
  /** Close the Strata instance (flushing everything accepted) when the server closes. Default true. */
  closeStrata?: boolean;
  /** Readiness answers are reused for this long, so a busy prober cannot load the hot tier. Default 1,000 ms. */
  readinessCacheMs?: number;
  /** Readers for the dashboard's alerts and quality panels; a panel without one answers 404 "not configured". */
  panels?: DashboardPanels;
  /** Where environment-variable tokens are read. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

export interface ResolvedServerOptions {
  port: number;
  host: string;
  bodyLimitBytes: number;
  maxEventsPerBatch: number;
  maxQueuedEvents: number;
  maxConcurrentIngests: number;
  retryAfterSeconds: number;
  shutdownTimeoutMs: number;
  closeStrata: boolean;
  readinessCacheMs: number;
  tokens: ResolvedToken[];
  panels: DashboardPanels;
}

export const DEFAULT_PORT = 8787;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_BODY_LIMIT_BYTES = 5 * 1024 * 1024;
export const DEFAULT_MAX_EVENTS_PER_BATCH = 10_000;
export const DEFAULT_MAX_CONCURRENT_INGESTS = 8;

/** Checks every option at once; the thrown ConfigError lists each problem with its path. */
export function resolveServerOptions(options: StrataServerOptions): ResolvedServerOptions {
  const issues: Issue[] = [];
  const { strata } = options;
  const integer = (name: keyof StrataServerOptions, value: unknown, fallback: number, min: number, max: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      issues.push({ path: name, message: `must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}` });
      return fallback;
    }
    return value;
  };
  const pipelineQueue = strata.config.pipeline.maxQueue;
  const port = integer('port', options.port, DEFAULT_PORT, 0, 65_535);
  const bodyLimitBytes = integer('bodyLimitBytes', options.bodyLimitBytes, DEFAULT_BODY_LIMIT_BYTES, 1_024, 1024 * 1024 * 1024);
  const maxEventsPerBatch = integer('maxEventsPerBatch', options.maxEventsPerBatch, Math.min(DEFAULT_MAX_EVENTS_PER_BATCH, pipelineQueue), 1, pipelineQueue);
  const maxQueuedEvents = integer('maxQueuedEvents', options.maxQueuedEvents, Math.max(1, Math.floor(pipelineQueue / 4)), 1, pipelineQueue);
  const maxConcurrentIngests = integer('maxConcurrentIngests', options.maxConcurrentIngests, DEFAULT_MAX_CONCURRENT_INGESTS, 1, 10_000);
  const retryAfterSeconds = integer('retryAfterSeconds', options.retryAfterSeconds, 1, 1, 3_600);
  const shutdownTimeoutMs = integer('shutdownTimeoutMs', options.shutdownTimeoutMs, strata.config.shutdownTimeoutMs, 0, 3_600_000);
  const readinessCacheMs = integer('readinessCacheMs', options.readinessCacheMs, 1_000, 0, 60_000);
  const host = options.host ?? DEFAULT_HOST;
  if (typeof host !== 'string' || host.trim() === '') issues.push({ path: 'host', message: `must be a host name or address such as 127.0.0.1, got ${JSON.stringify(host)}` });
  if (options.closeStrata !== undefined && typeof options.closeStrata !== 'boolean') issues.push({ path: 'closeStrata', message: 'must be true or false' });
  const { tokens, issues: tokenIssues } = resolveTokens(options.tokens, options.env ?? process.env);
  issues.push(...tokenIssues);
  if (issues.length > 0) throw new ConfigError(issues, 'the server options');
  return {
    port,
    host,
    bodyLimitBytes,
    maxEventsPerBatch,
    maxQueuedEvents,
    maxConcurrentIngests,
    retryAfterSeconds,
    shutdownTimeoutMs,
    closeStrata: options.closeStrata ?? true,
    readinessCacheMs,
    tokens,
    panels: options.panels ?? {},
  };
}

const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1024, k: 1024, mb: 1024 ** 2, m: 1024 ** 2, gb: 1024 ** 3, g: 1024 ** 3 };

/** Parses `5mb`, `512kb`, `1048576` (bytes; binary units: 1 MB = 1,048,576 bytes); undefined when it is not a size. */
export function parseByteSize(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb?|mb?|gb?)?\s*$/i.exec(text);
  if (!match) return undefined;
  const bytes = Number(match[1]) * BYTE_UNITS[(match[2] ?? 'b').toLowerCase()]!;
  return Number.isFinite(bytes) ? Math.floor(bytes) : undefined;
}

/** `5 MB`, `512 KB`, `900 bytes`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3 && bytes % 1024 ** 3 === 0) return `${bytes / 1024 ** 3} GB`;
  if (bytes >= 1024 ** 2) return `${Number((bytes / 1024 ** 2).toFixed(1))} MB`;
  if (bytes >= 1024) return `${Number((bytes / 1024).toFixed(1))} KB`;
  return `${bytes} bytes`;
}
