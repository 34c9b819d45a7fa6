import type { Logger } from 'pino';
import type { CacheStore } from './cache.js';
import type { Clock } from './clock.js';
import type { InsightsProvider } from './insights.js';
import type { EventLimits, Interaction } from './interaction.js';
import type { Metric } from './metric.js';

/** A half-open time range `[from, to)` in epoch ms; an absent end is unbounded. */
export interface TimeRange {
  from?: number;
  to?: number;
}

/** What a storage tier did with a batch. */
export interface WriteResult {
  /** Rows newly stored. */
  inserted: number;
  /** Events whose `eventId` was already stored; they were left untouched. */
  duplicates: number;
  /** The ids counted in `duplicates`, so callers can tell each event's fate. */
  duplicateIds: string[];
}

export interface InteractionQuery {
  range?: TimeRange;
  userRole?: string;
  queryType?: string;
  sessionId?: string;
  /** Page size; tiers cap it (hot-sqlite: 10,000). Default 1,000. */
  limit?: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` for the next page; null when this was the last page. */
  nextCursor: string | null;
}

export interface ScanOptions {
  /** Rows per yielded batch. Default 1,000. */
  batchSize?: number;
  signal?: AbortSignal;
}

export interface TierHealth {
  ok: boolean;
  /** Human-readable facts: file paths, sizes, row counts, server versions. */
  details: Record<string, unknown>;
  /** Why it is not ok, when it is not. */
  problem?: string;
}

export type TierRole = 'hot' | 'warm' | 'cold';

/** Questions the report answers; every field narrows the data it looks at. */
export interface ReportQuery {
  range?: TimeRange;
  userRole?: string;
  /** How many top queries to list. Default 10. */
  topN?: number;
}

export interface GroupStats {
  interactions: number;
  successRate: number | null;
  avgResponseTime: number | null;
}

export interface Report {
  range: { from: number | null; to: number | null };
  totals: GroupStats & {
    sessions: number;
    p95ResponseTime: number | null;
    avgRating: number | null;
    ratedInteractions: number;
  };
  byRole: Array<GroupStats & { userRole: string }>;
  byQueryType: Array<GroupStats & { queryType: string }>;
  topQueries: Array<{ query: string; queryHash: string; count: number; successRate: number | null }>;
}

/**
 * A place interactions are kept. The hot tier takes every accepted event (its commit is the
 * acknowledgement); warm and cold tiers hold older data. Every method is safe to call concurrently
 * with writes; `close` is idempotent.
 */
export interface StorageTier {
  readonly name: string;
  readonly role: TierRole;
  /** Stores a batch atomically: all of it or none. Re-writing an `eventId` already stored is a no-op counted as a duplicate. */
  writeInteractions(batch: readonly Interaction[]): Promise<WriteResult>;
  /**
   * How many batches the pipeline should hand this tier before the oldest is answered, when
   * `pipeline.maxBatchesInFlight` is not set. A tier that commits queued batches together wants
   * several; one whose concurrent writes contend wants few. Default 2.
   */
  readonly batchesInFlight?: number;
  /**
   * Puts archived rows back (e.g. read from a cold partition) without counting them again: the
   * rollups still hold them, since rollups are history. Idempotent by `eventId`.
   */
  restoreInteractions?(batch: readonly Interaction[]): Promise<WriteResult>;
  /** Stores system-performance samples. */
  writeMetrics?(batch: readonly Metric[]): Promise<number>;
  /**
   * Deletes the `session_analytics` rows of sessions inactive since before `lastActivityBefore`
   * (epoch ms): retention's horizon for sessions. Rollups keep the sessions they counted. Returns
   * rows removed.
   */
  expireSessions?(lastActivityBefore: number): Promise<number>;
  /** Deletes the raw system-performance samples in the range (their rollups stay); returns samples removed. */
  deleteMetrics?(range: TimeRange): Promise<number>;
  /** A page of interactions, oldest first. */
  queryInteractions(query: InteractionQuery): Promise<Page<Interaction>>;
  /** Every interaction in a range, oldest first, in batches, without holding the whole range in memory. */
  scanInteractions(range: TimeRange, options?: ScanOptions): AsyncIterable<Interaction[]>;
  countInteractions(range?: TimeRange): Promise<number>;
  /** Timestamp of the newest stored interaction (epoch ms), or null when there is none: data freshness. */
  latestTimestamp?(): Promise<number | null>;
  /** Deletes every interaction in the range and returns how many were removed. */
  deleteInteractions(range: TimeRange): Promise<number>;
  /**
   * Deletes exactly these events (by `eventId`) and returns how many were removed. Retention uses it
   * after archiving, so an event that arrived late into an archived range is never deleted unarchived.
   */
  deleteEvents?(eventIds: readonly string[]): Promise<number>;
  /**
   * Sets (or, with null, clears) the rating of a stored interaction and moves every rollup that
   * counts it, as if it had carried that rating when stored. Users rate answers after the fact.
   */
  rateInteraction?(eventId: string, userRating: number | null): Promise<'updated' | 'unchanged' | 'not-found'>;
  /**
   * Removes every trace of one session; returns rows removed. `context.archived` holds the
   * session's rows read from the cold tier before anything was erased (given to the hot and warm
   * tiers): rows they no longer hold raw but still count in their rollups or aggregates, whose
   * contribution they subtract too.
   */
  eraseSession?(sessionId: string, context?: SessionErasureContext): Promise<number>;
  /** Dashboard figures for a range. */
  report?(query: ReportQuery): Promise<Report>;
  /** The dashboard questions, answered from rollups (see `InsightsProvider`). */
  readonly insights?: InsightsProvider;
  /**
   * Drops the per-question and per-content daily rollups of UTC days before `before` (epoch ms,
   * rounded down to a day). Retention calls it once the warm tier holds those months; from then on
   * `insights.detailCoverage()` starts at `before` and the layered insights read older months from
   * the warm tier. Daily and hourly business rollups are kept. Returns rows removed.
   */
  pruneDetailedRollups?(before: number): Promise<number>;
  /** The retention policies stored with the tier (`data_retention_policy`). */
  retentionPolicies?(): Promise<RetentionPolicyRecord[]>;
  /** Replaces the stored policies of the tables named (others are left as they are). */
  saveRetentionPolicies?(policies: readonly RetentionPolicyRecord[]): Promise<void>;
  /** Records when cleanup last ran for a table. */
  markRetentionCleanup?(table: string, at: number): Promise<void>;
  /**
   * Copies the tier's files into `targetDir` while writes continue (SQLite: the online backup API)
   * and says what it wrote, so a backup tool can checksum and later restore them.
   */
  backup?(targetDir: string, options?: { signal?: AbortSignal }): Promise<TierBackup>;
  /** `options.quick`: leave out figures that read a whole table (row counts), as periodic sampling asks. */
  health(options?: HealthOptions): Promise<TierHealth>;
  close(): Promise<void>;
}

/** What erasure tells a tier besides the session id. */
export interface SessionErasureContext {
  /** The session's rows held by colder tiers (the archive), read before any tier was erased. */
  archived?: readonly Interaction[];
}

/** The data subject being erased, as a participant sees it once the tiers are erased. */
export interface ErasedSubject {
  /** The subject's session ids as stored (pseudonyms when a privacy processor is configured). */
  storedIds: readonly string[];
}

/**
 * Something a plugin keeps outside the storage tiers that can hold a data subject's traces (the
 * quality plugin's findings quote questions). `strata.erase` calls each after the tiers, so a
 * participant can compare what it holds with what the tiers still hold (a question the hot tier
 * deleted with the subject); it must be safe to call again. `remaining` is its follow-up check.
 */
export interface ErasureParticipant {
  readonly name: string;
  eraseSubject(subject: ErasedSubject): Promise<{ removed: number; remaining: number }>;
}

export interface HealthOptions {
  /**
   * Only what is cheap to read (file sizes, settings): no row counts. The system monitor samples
   * sizes every minute, and a count over millions of rows held the event loop for 10–20 ms per
   * million on hot-sqlite.
   */
  quick?: boolean;
}

/** One row of `data_retention_policy`; `null` days mean kept permanently. */
export interface RetentionPolicyRecord {
  table: string;
  /** Days kept in detail in the hot tier before archival. */
  archiveAfterDays: number | null;
  /** Days kept as aggregates in the warm tier. */
  warmRetentionDays: number | null;
  /** Days kept at all (cold archive included). */
  retentionDays: number | null;
  cleanupEnabled: boolean;
  description: string;
  /** Epoch ms of the last cleanup, when one ran. */
  lastCleanup?: number | null;
}

/** What a tier's `backup` wrote. */
export interface TierBackup {
  /** Files written, relative to the backup's `targetDir`, each with where it belongs when restored. */
  files: Array<{ path: string; restoreTo: string; bytes: number }>;
}

/** What a processor did with a batch: the events to keep and those it refused, each with a reason. */
export interface ProcessorResult {
  events: Interaction[];
  rejected?: Array<{ event: Interaction; reason: string }>;
}

/**
 * Transforms batches between validation and storage (scrubbing, pseudonymisation, enrichment).
 * A written batch reaches `process` in consecutive slices of at most 256 events, with the host's
 * event loop running between slices, so a processor must not rely on seeing a whole batch at once.
 */
export interface Processor {
  readonly name: string;
  process(batch: Interaction[]): ProcessorResult | Promise<ProcessorResult>;
  /**
   * Applied to text Strata writes outside the tiers — dead-letter lines, their reasons and issues —
   * so a rejected event leaves no personal data behind (a PII scrubber implements it).
   */
  scrubText?(text: string): string;
  /**
   * The forms a session id takes once stored (its pseudonyms under the current and previous keys),
   * so erasure can find a subject by the id the application knows.
   */
  storedSessionIds?(sessionId: string): string[] | Promise<string[]>;
}

/**
 * Receives batches after the hot tier committed them. Throw `RetryableError` to be retried with
 * backoff, `PermanentError` to have the batch dropped (and counted). A sink can never block or
 * lose hot-tier writes.
 */
export interface Sink {
  readonly name: string;
  consume(batch: readonly Interaction[], signal: AbortSignal): Promise<void>;
  flush?(): Promise<void>;
  close?(): Promise<void>;
}

export interface JobProgress {
  done: number;
  total?: number;
  unit: string;
}

export interface JobContext {
  signal: AbortSignal;
  logger: Logger;
  clock: Clock;
  progress(progress: JobProgress): void;
}

export interface JobReport {
  /** One line a person can read. */
  summary: string;
  [detail: string]: unknown;
}

/** Scheduled or on-demand work such as retention or backup. */
export interface Job {
  readonly name: string;
  readonly description: string;
  /** node-cron expression; absent means the job only runs on demand. */
  readonly schedule?: string;
  run(context: JobContext): Promise<JobReport>;
}

/**
 * Lets one process at a time run a job across every process sharing the same storage (hot-postgres
 * contributes one backed by an advisory lock). `acquire` resolves with a release function, or null
 * when another process holds the lock. A lock held by a process that dies must be released by the backend.
 */
export interface JobLock {
  acquire(jobName: string): Promise<(() => Promise<void>) | null>;
}

/** One observed value of a named metric, e.g. `quality.freshness_seconds` or `system.queue_depth`. */
export interface MetricReading {
  name: string;
  value: number;
  unit?: string;
  /** Dimensions that tell series apart (`{ check: 'completeness', table: 'user_interactions' }`). */
  labels?: Record<string, string>;
  /** Epoch ms the value describes. */
  at: number;
}

/**
 * Something that can be read for current metric values: the system monitor, the insights-derived
 * figures, quality results. Alert rules evaluate over every source's readings.
 */
export interface MetricSource {
  readonly name: string;
  read(options: { now: number; signal?: AbortSignal }): Promise<MetricReading[]>;
}

/** What a plugin's setup receives. */
export interface PluginContext {
  /** The plugin's name, for messages. */
  readonly name: string;
  /** A pino child logger bound to `{ plugin: name }`. */
  readonly logger: Logger;
  /** Absolute path of the data directory. */
  readonly dataDir: string;
  readonly clock: Clock;
  readonly limits: EventLimits;
  /** The configuration in force: the config file (null for the embedded default or an inline config) and every plugin with its validated options. */
  readonly config: { source: string | null; dataDir: string; plugins: ReadonlyArray<{ name: string; version: string; options: unknown }> };
  /** Storage tiers contributed by plugins set up earlier (dependencies come first). */
  storage(role: TierRole): StorageTier | undefined;
  /** Every metric source contributed by any plugin; call it when reading (after start), not in setup. */
  metricSources(): MetricSource[];
  /** Contributions of type `T` under `key` from every plugin (e.g. `alertNotifiers`); call it after start. */
  contributions<T>(key: string): T[];
}

/** What a plugin contributes. Every part is optional. */
export interface PluginContribution {
  storage?: StorageTier[];
  processors?: Processor[];
  sinks?: Sink[];
  jobs?: Job[];
  /** Where insights answers are cached; the first plugin contributing one provides it. */
  cache?: CacheStore;
  /** Metric values others can alert on (quality results, system monitor). */
  metricSources?: MetricSource[];
  /**
   * Other plugin-to-plugin contributions by key, read with `PluginContext.contributions(key)`
   * (the alerts plugin reads `alertNotifiers`), so a third party can add one without a core change.
   */
  extensions?: Record<string, unknown[]>;
  /** Coordinates jobs across processes; the first plugin contributing one provides it. */
  jobLock?: JobLock;
  /** What the plugin keeps that can hold a data subject's traces; `strata.erase` clears it after the tiers. */
  erasure?: ErasureParticipant[];
  /** Called once, in dependency order, after every plugin was set up. Should return quickly. */
  start?(): void | Promise<void>;
  /** Called before shutdown and by `strata.flush()`: push out anything buffered. */
  flush?(): void | Promise<void>;
  /** Called once, in reverse order. Storage tiers are closed by the core after this returns. */
  stop?(): void | Promise<void>;
}
