import { systemClock, type CacheStats, type CachedInsightsPolicy, type Clock, type InsightsCacheStore } from '@strata/core';
import { LRUCache } from 'lru-cache';

export interface MemoryCacheStoreOptions {
  /** Most entries held; the least recently used go first. Default 10,000. */
  maxEntries?: number;
  /** Most bytes held, approximately (see `approximateBytes`); unset: bounded by entries only. */
  maxBytes?: number;
  /** Time source of the TTLs (tests pass a fake clock). */
  clock?: Clock;
  /** The TTLs and session window the insights wrapper should use with this store. */
  insightsPolicy?: CachedInsightsPolicy;
}

interface MemoryEntry {
  /** The value as JSON: callers get their own copy, and its length is the entry's size. */
  json: string;
  tags: readonly string[];
  /** Last instant the entry is fresh (lru-cache and Redis both keep an entry through its TTL). */
  expiresAt: number;
}

export const DEFAULT_MAX_ENTRIES = 10_000;

/** Bookkeeping per entry and per tag reference (map slots, object headers), in bytes. */
const ENTRY_OVERHEAD_BYTES = 200;
const TAG_OVERHEAD_BYTES = 50;

/**
 * An approximate size in memory: two bytes per character of the key, the JSON and the tags (a
 * string's upper bound in V8), plus fixed overheads. Close enough to keep the cache near its budget.
 */
export function approximateBytes(key: string, json: string, tags: readonly string[]): number {
  let bytes = ENTRY_OVERHEAD_BYTES + 2 * (key.length + json.length);
  for (const tag of tags) bytes += TAG_OVERHEAD_BYTES + 2 * tag.length;
  return bytes;
}

/**
 * The one-process cache: an LRU (lru-cache) bounded by entries and approximate bytes, each entry
 * with its own TTL, plus an index from tag to keys so invalidation touches only tagged entries.
 * Values are kept as JSON, as the Redis store keeps them, so a caller mutating an answer cannot
 * change what the next caller gets.
 */
export class MemoryCacheStore implements InsightsCacheStore {
  readonly name = 'memory';
  readonly insightsPolicy: CachedInsightsPolicy | undefined;
  private readonly clock: Clock;
  private readonly entries: LRUCache<string, MemoryEntry>;
  private readonly keysByTag = new Map<string, Set<string>>();
  private readonly counters = { hits: 0, misses: 0, evictions: 0, errors: 0 };

  constructor(options: MemoryCacheStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.insightsPolicy = options.insightsPolicy;
    const maxBytes = options.maxBytes;
    this.entries = new LRUCache<string, MemoryEntry>({
      max: options.maxEntries ?? DEFAULT_MAX_ENTRIES,
      ...(maxBytes === undefined ? {} : { maxSize: maxBytes, sizeCalculation: (entry: MemoryEntry, key: string) => approximateBytes(key, entry.json, entry.tags) }),
      // Expiry follows the injected clock, checked on every read (no cached "now" between reads).
      perf: this.clock,
      ttlResolution: 0,
      dispose: (entry, key, reason) => this.forget(entry, key, reason),
    });
  }

  async get<T>(key: string): Promise<T | undefined> {
    const entry = this.entries.get(key);
    if (entry === undefined) {
      this.counters.misses += 1;
      return undefined;
    }
    this.counters.hits += 1;
    return JSON.parse(entry.json) as T;
  }

  async set<T>(key: string, value: T, options: { ttlMs: number; tags: readonly string[] }): Promise<void> {
    const json = JSON.stringify(value);
    if (json === undefined || !(options.ttlMs > 0)) {
      this.entries.delete(key);
      return;
    }
    const tags = [...new Set(options.tags)];
    // The old entry, if any, is disposed (and unindexed) inside set, before the new tags are indexed.
    this.entries.set(key, { json, tags, expiresAt: this.clock.now() + options.ttlMs }, { ttl: options.ttlMs });
    // An entry larger than the byte budget is not stored at all.
    if (!this.entries.has(key)) return;
    for (const tag of tags) {
      let keys = this.keysByTag.get(tag);
      if (!keys) {
        keys = new Set();
        this.keysByTag.set(tag, keys);
      }
      keys.add(key);
    }
  }

  async invalidateTags(tags: readonly string[]): Promise<void> {
    for (const tag of tags) {
      const keys = this.keysByTag.get(tag);
      if (!keys) continue;
      // Deleting disposes the entry, which removes it from this set: iterate over a copy.
      for (const key of [...keys]) this.entries.delete(key);
      this.keysByTag.delete(tag);
    }
  }

  stats(): CacheStats {
    return { ...this.counters, entries: this.entries.size };
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.keysByTag.clear();
  }

  private forget(entry: MemoryEntry, key: string, reason: LRUCache.DisposeReason): void {
    // Only live entries pushed out for room count as evictions; expired ones were due to go anyway.
    if (reason === 'evict' && entry.expiresAt >= this.clock.now()) this.counters.evictions += 1;
    for (const tag of entry.tags) {
      const keys = this.keysByTag.get(tag);
      if (!keys) continue;
      keys.delete(key);
      if (keys.size === 0) this.keysByTag.delete(tag);
    }
  }
}

export function createMemoryCacheStore(options: MemoryCacheStoreOptions = {}): MemoryCacheStore {
  return new MemoryCacheStore(options);
}
