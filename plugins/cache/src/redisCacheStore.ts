import { StrataError, describeError, systemClock, type CacheStats, type CachedInsightsPolicy, type Clock, type InsightsCacheStore, type Logger } from '@strata/core';
import { INVALIDATE_TAGS, SET_ENTRY, type RedisScript } from './redisScripts.js';

export interface RedisCacheStoreOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` for TLS. */
  url: string;
  /** Put before every key this store writes, so several datasets can share one server. */
  keyPrefix: string;
  /** How long one connection attempt may take, and how long `connect()` waits for the first one. */
  connectTimeoutMs: number;
  /** How long one command may take before the store treats Redis as down and answers uncached. */
  commandTimeoutMs: number;
  logger: Logger;
  /** While Redis is down, how often an operation may probe whether it is back. Default 1 s. */
  retryIntervalMs?: number;
  clock?: Clock;
  /** The TTLs and session window the insights wrapper should use with this store. */
  insightsPolicy?: CachedInsightsPolicy;
}

/** The part of @redis/client's client this store uses (the client is loaded only when a Redis store is created). */
export interface RedisConnection {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  sendCommand<T>(args: readonly string[]): Promise<T>;
  on(event: 'error' | 'ready', listener: (error?: unknown) => void): unknown;
  close(): Promise<void>;
  destroy(): void;
}

export type RedisStoreState = 'idle' | 'connecting' | 'up' | 'down' | 'closed';

/** Invalidations kept for replay while Redis is down; past this many, the whole prefix is cleared on recovery instead. */
const MAX_PENDING_TAGS = 10_000;
const MAX_RECONNECT_DELAY_MS = 2_000;
const CLOSE_GRACE_MS = 1_000;

/** A command took longer than `commandTimeoutMs`. */
export class RedisCommandTimeoutError extends StrataError {
  constructor(command: string, timeoutMs: number) {
    super('STRATA_DEADLINE_EXCEEDED', `cache: redis ${command} did not answer within ${timeoutMs} ms; check the server, or raise redis.commandTimeoutMs`);
  }
}

/**
 * Loads @redis/client (only now: installations without Redis never load it) and creates a store
 * that is not yet connected; call `connect()` (the plugin's start does).
 */
export async function createRedisCacheStore(options: RedisCacheStoreOptions): Promise<RedisCacheStore> {
  const { createClient } = await import('@redis/client');
  let client: RedisConnection;
  try {
    client = createClient({
      url: options.url,
      // Fail fast during an outage rather than queue commands until the server returns.
      disableOfflineQueue: true,
      socket: {
        connectTimeout: options.connectTimeoutMs,
        // Keep trying for as long as the store lives, backing off to a few seconds between attempts.
        reconnectStrategy: (retries: number) => Math.min(100 * 2 ** Math.min(retries, 10), MAX_RECONNECT_DELAY_MS) + Math.floor(Math.random() * 100),
      },
    }) as unknown as RedisConnection;
  } catch (error) {
    throw new StrataError('STRATA_CONFIG_INVALID', `cache: redis.url ${JSON.stringify(redactUrl(options.url))} is not usable (${describeError(error)}); use redis://host:port`, { cause: error });
  }
  return new RedisCacheStore(client, options);
}

/**
 * Insights answers in Redis, shared by every process using the same server and prefix.
 *
 * Entries are JSON strings with a TTL (`<prefix>e:<key>`); each tag is a sorted set of the entry
 * keys carrying it (`<prefix>t:<tag>`), see `redisScripts.ts`. Setting an entry and invalidating
 * a batch of tags are one Lua script each: one round trip, atomic.
 *
 * Redis being down is never an error for a caller: reads miss, writes are skipped, both counted in
 * `errors`, and one warning is logged per outage. Invalidations that could not be delivered are
 * kept and replayed when Redis is back, before the store serves reads again, so an outage cannot
 * leave answers behind that ingest during it made stale.
 */
export class RedisCacheStore implements InsightsCacheStore {
  readonly name = 'redis';
  readonly insightsPolicy: CachedInsightsPolicy | undefined;
  private readonly clock: Clock;
  private readonly retryIntervalMs: number;
  private readonly counters = { hits: 0, misses: 0, evictions: 0, errors: 0 };
  private currentState: RedisStoreState = 'idle';
  private connecting: Promise<boolean> | undefined;
  private recovering: Promise<boolean> | undefined;
  private lastProbeAt = Number.NEGATIVE_INFINITY;
  private readonly pendingTags = new Set<string>();
  private pendingEverything = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly client: RedisConnection,
    private readonly options: RedisCacheStoreOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.retryIntervalMs = options.retryIntervalMs ?? 1_000;
    this.insightsPolicy = options.insightsPolicy;
    // Without an error listener the client's reconnect errors would crash the process.
    client.on('error', (error) => this.markDown(error));
    client.on('ready', () => void this.recover());
  }

  /** `up`: reads and writes go to Redis; anything else: the store answers uncached. */
  get state(): RedisStoreState {
    return this.currentState;
  }

  /**
   * Connects, waiting at most `connectTimeoutMs`. Resolves true when Redis is usable; false when it
   * is not (a warning is logged, and the client keeps reconnecting in the background).
   */
  connect(): Promise<boolean> {
    this.connecting ??= this.firstConnect();
    return this.connecting;
  }

  async get<T>(key: string): Promise<T | undefined> {
    if (!this.usable()) return undefined;
    let json: string | null;
    try {
      json = await this.command('GET', ['GET', this.entryKey(key)]);
    } catch (error) {
      this.failed(error);
      return undefined;
    }
    if (json === null) {
      this.counters.misses += 1;
      return undefined;
    }
    try {
      const value = JSON.parse(json) as T;
      this.counters.hits += 1;
      return value;
    } catch {
      // Not ours (another writer under the same prefix): a miss, and counted.
      this.counters.errors += 1;
      return undefined;
    }
  }

  async set<T>(key: string, value: T, options: { ttlMs: number; tags: readonly string[] }): Promise<void> {
    if (!this.usable()) return;
    const json = JSON.stringify(value);
    const ttl = Math.ceil(options.ttlMs);
    if (json === undefined || !(ttl > 0)) return;
    const tagKeys = [...new Set(options.tags)].map((tag) => this.tagKey(tag));
    try {
      await this.runScript(SET_ENTRY, [this.entryKey(key), ...tagKeys], [json, String(ttl)]);
    } catch (error) {
      this.failed(error);
    }
  }

  async invalidateTags(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return;
    if (!this.usable()) {
      this.remember(tags);
      return;
    }
    try {
      await this.runScript(INVALIDATE_TAGS, [...new Set(tags)].map((tag) => this.tagKey(tag)), []);
    } catch (error) {
      this.remember(tags);
      this.failed(error);
    }
  }

  /** Hits, misses and errors of this process. Redis evicts by its own policy, which it does not report per key: `evictions` stays 0. */
  async health(): Promise<{ ok: boolean; detail: string }> {
    const url = redactUrl(this.options.url);
    try {
      const reply = await this.command<string>('PING', ['PING']);
      return { ok: reply === 'PONG', detail: `redis at ${url} answers (state ${this.currentState})` };
    } catch (error) {
      return {
        ok: false,
        detail: `redis at ${url} does not answer (${describeError(error)}); start it or fix cache.options.redis.url — until then insights are served uncached`,
      };
    }
  }

  stats(): CacheStats {
    return { ...this.counters };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.currentState = 'closed';
    if (!this.client.isOpen) return;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), CLOSE_GRACE_MS);
    });
    try {
      // close() waits for commands in flight; a stalled server must not hold shutdown.
      const outcome = await Promise.race([this.client.close().then(() => 'closed' as const), grace]);
      if (outcome === 'late') this.client.destroy();
    } catch {
      this.client.destroy();
    } finally {
      clearTimeout(timer);
    }
  }

  private async firstConnect(): Promise<boolean> {
    if (this.currentState === 'closed') return false;
    this.currentState = 'connecting';
    let timer: NodeJS.Timeout | undefined;
    const connected = await Promise.race([
      this.client.connect().then(
        () => true,
        () => false,
      ),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), this.options.connectTimeoutMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    if (connected) return this.recover();
    this.markDown(new Error(`no connection within ${this.options.connectTimeoutMs} ms`));
    return false;
  }

  /** True when Redis may be used now; otherwise counts the skipped operation and maybe probes for recovery. */
  private usable(): boolean {
    if (this.currentState === 'up') return true;
    this.counters.errors += 1;
    if (this.currentState === 'down' && this.client.isReady && this.clock.now() - this.lastProbeAt >= this.retryIntervalMs) {
      // The socket is up but commands failed (a stalled server): try again, at most once per interval.
      this.lastProbeAt = this.clock.now();
      void this.recover();
    }
    return false;
  }

  /** Replays what could not be invalidated, then serves from Redis again. */
  private recover(): Promise<boolean> {
    this.recovering ??= this.replayPending().finally(() => {
      this.recovering = undefined;
    });
    return this.recovering;
  }

  private async replayPending(): Promise<boolean> {
    try {
      let answered = false;
      // Invalidations that arrive while replaying are replayed too, before the store is used again.
      while (this.currentState !== 'closed') {
        if (this.pendingEverything) {
          this.pendingEverything = false;
          this.pendingTags.clear();
          try {
            await this.clearPrefix();
          } catch (error) {
            this.pendingEverything = true;
            throw error;
          }
        } else if (this.pendingTags.size > 0) {
          const tags = [...this.pendingTags];
          await this.runScript(INVALIDATE_TAGS, tags.map((tag) => this.tagKey(tag)), []);
          for (const tag of tags) this.pendingTags.delete(tag);
        } else if (!answered) {
          await this.command('PING', ['PING']);
        } else {
          break;
        }
        answered = true;
      }
    } catch (error) {
      this.markDown(error);
      return false;
    }
    if (this.currentState === 'closed') return false;
    const wasDown = this.currentState === 'down';
    this.currentState = 'up';
    if (wasDown) this.options.logger.info({ url: redactUrl(this.options.url) }, 'cache: redis is reachable again; caching resumed');
    return true;
  }

  /** Too many invalidations were missed to replay one by one: drop every entry under the prefix. */
  private async clearPrefix(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.command<[string, string[]]>('SCAN', ['SCAN', cursor, 'MATCH', `${escapeGlob(this.options.keyPrefix)}*`, 'COUNT', '1000']);
      if (keys.length > 0) await this.command('UNLINK', ['UNLINK', ...keys]);
      cursor = next;
    } while (cursor !== '0');
  }

  private remember(tags: readonly string[]): void {
    if (this.pendingEverything) return;
    for (const tag of tags) this.pendingTags.add(tag);
    if (this.pendingTags.size > MAX_PENDING_TAGS) {
      this.pendingEverything = true;
      this.pendingTags.clear();
    }
  }

  private failed(error: unknown): void {
    this.counters.errors += 1;
    this.markDown(error);
  }

  /** The first failure of an outage logs a warning; the rest of it is silent (but counted). */
  private markDown(error: unknown): void {
    if (this.currentState === 'down' || this.currentState === 'closed') return;
    this.currentState = 'down';
    this.lastProbeAt = this.clock.now();
    this.options.logger.warn(
      { url: redactUrl(this.options.url), err: describeError(error) },
      'cache: redis is unreachable; insights are answered uncached until it is back',
    );
  }

  private async runScript(script: RedisScript, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.command('EVALSHA', ['EVALSHA', script.sha1, ...tail]);
    } catch (error) {
      // The server forgot the script (restart, SCRIPT FLUSH): send it whole once; it is cached again.
      if (!describeError(error).startsWith('NOSCRIPT')) throw error;
      return this.command('EVAL', ['EVAL', script.source, ...tail]);
    }
  }

  /** Sends a command, failing after `commandTimeoutMs` (the client's own timeout only covers commands not yet written). */
  private async command<T>(name: string, args: readonly string[]): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const reply = this.client.sendCommand<T>(args);
    // A reply that loses the race may still fail later; that failure was already handled as the timeout.
    reply.catch(() => undefined);
    try {
      return await Promise.race([
        reply,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new RedisCommandTimeoutError(name, this.options.commandTimeoutMs)), this.options.commandTimeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  private entryKey(key: string): string {
    return `${this.options.keyPrefix}e:${key}`;
  }

  private tagKey(tag: string): string {
    return `${this.options.keyPrefix}t:${tag}`;
  }
}

/** The URL without its password, for log lines and messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable url)';
  }
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
