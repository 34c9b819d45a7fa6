import { INSIGHTS_CACHE_CATEGORIES, parseDuration, type InsightsCacheCategory } from '@strata/core';
import { z } from 'zod';

const SECOND_MS = 1_000;
const DAY_MS = 86_400_000;

/** A duration written as text (`30s`, `5m`, `1h`), turned into milliseconds; errors name the example and the value. */
function duration(minMs: number, maxMs: number, example: string) {
  return z.string().transform((text, context) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      context.addIssue({ code: 'custom', message: `expected a duration such as ${example}, got ${JSON.stringify(text)}` });
      return z.NEVER;
    }
    if (ms < minMs || ms > maxMs) {
      context.addIssue({ code: 'custom', message: `must be between ${minMs / SECOND_MS}s and ${maxMs / DAY_MS}d, got ${text}` });
      return z.NEVER;
    }
    return ms;
  });
}

const ttl = duration(SECOND_MS, 7 * DAY_MS, '5m');

/** TTL per insights question; unset ones keep the defaults (see the README). */
const TtlsSchema = z
  .object(Object.fromEntries(INSIGHTS_CACHE_CATEGORIES.map((category) => [category, ttl.optional()])) as Record<InsightsCacheCategory, z.ZodOptional<typeof ttl>>)
  .strict();

const RedisOptionsSchema = z
  .object({
    /** `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. */
    url: z
      .string()
      .refine(
        (text) => {
          try {
            return ['redis:', 'rediss:'].includes(new URL(text).protocol);
          } catch {
            return false;
          }
        },
        { error: (issue) => `expected a URL such as redis://127.0.0.1:6379, got ${JSON.stringify(issue.input)}` },
      )
      .default('redis://127.0.0.1:6379'),
    /** Put before every key, so several datasets (or test runs) can share one server. */
    keyPrefix: z.string().min(1).max(200).default('strata:'),
    /** How long one connection attempt may take; start waits at most this long for Redis. */
    connectTimeoutMs: z.number().int().min(50).max(10_000).default(2_000),
    /** How long a command may take before Redis counts as down and insights are answered uncached. */
    commandTimeoutMs: z.number().int().min(10).max(60_000).default(500),
  })
  .strict();

/** Options of the cache plugin (see the README's table). */
export const CacheOptionsSchema = z
  .object({
    /** `memory`: an LRU in this process. `redis`: shared by every process using the same server and prefix. */
    store: z.enum(['memory', 'redis']).default('memory'),
    /** Memory store: most answers held. */
    maxEntries: z.number().int().min(1).max(10_000_000).default(10_000),
    /** Memory store: most bytes held, approximately (JSON text at two bytes a character, plus bookkeeping). */
    maxBytes: z.number().int().min(64 * 1024).max(64 * 1024 ** 3).default(64 * 1024 ** 2),
    /** How long each question's answers may be served, e.g. `{ commonQuestions: '2m' }`. */
    ttls: TtlsSchema.prefault({}),
    /** How far from an event its session's start may lie; ingest invalidates session figures of the days within it. */
    sessionWindow: duration(SECOND_MS, 30 * DAY_MS, '1d').prefault('1d'),
    redis: RedisOptionsSchema.prefault({}),
  })
  .strict();

export type CacheOptions = z.input<typeof CacheOptionsSchema>;
export type ResolvedCacheOptions = z.output<typeof CacheOptionsSchema>;
