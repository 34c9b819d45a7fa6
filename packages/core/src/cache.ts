/**
 * A place insights answers are kept for a while. The memory store (LRU) serves one process; a
 * Redis store serves many. Entries carry tags (the question asked, the UTC days its range covers),
 * so new data invalidates only the answers it could change.
 */
export interface CacheStore {
  readonly name: string;
  /** The stored value, or undefined on a miss (or when the store is unreachable: a cache never fails a read). */
  get<T>(key: string): Promise<T | undefined>;
  set<T>(key: string, value: T, options: { ttlMs: number; tags: readonly string[] }): Promise<void>;
  /** Drops every entry carrying any of these tags. */
  invalidateTags(tags: readonly string[]): Promise<void>;
  stats(): CacheStats;
  /** Whether the backing store answers now, and if not why and how to fix it (`strata validate`). */
  health?(): Promise<{ ok: boolean; detail: string }>;
  close?(): Promise<void>;
}

export interface CacheStats {
  hits: number;
  misses: number;
  evictions: number;
  /** Operations that failed against the backing store (e.g. Redis down) and were served uncached. */
  errors: number;
  /** Entries held, when the store can tell cheaply. */
  entries?: number;
}
