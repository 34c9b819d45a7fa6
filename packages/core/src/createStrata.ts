import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import { systemClock, type Clock } from './clock.js';
import { loadConfig, resolveConfig, type LogLevel, type PluginCatalog, type ResolvedConfig, type StrataConfig } from './config.js';
import { DeadLetterStore, safeStringify, type EventSource } from './deadLetterStore.js';
import { ClosedError, StopError, StrataError, ValidationError, describeError, formatIssues, toError, type Issue } from './errors.js';
import { IngestPipeline, type IngestTally, type PipelineCounters, type RecordOutcome } from './ingestPipeline.js';
import { createInteractionValidator, type Interaction } from './interaction.js';
import { tierInsights, type InsightsProvider } from './insights.js';
import { layerInsights } from './layeredInsights.js';
import { takeLineBatches } from './lineReader.js';
import { cachedInsights, type CachedInsights } from './cachedInsights.js';
import type { Principal } from './access.js';
import { AuditLog } from './auditLog.js';
import { eraseSubject, type ErasureReport, type ErasureRequest } from './erasure.js';
import { createScopedStrata, type ScopedStrata } from './scopedStrata.js';
import { JobScheduler, type JobStatus, type RunJobOptions } from './jobScheduler.js';
import { insightsMetricSource } from './insightsMetrics.js';
import { createLogger } from './logger.js';
import { SystemMonitor } from './systemMonitor.js';
import { computeKpis, kpiMetricSource, type Kpi } from './kpis.js';
import { PluginRegistry } from './registry.js';
import { withTimeout } from './timeout.js';
import type { Job, JobReport, MetricReading, MetricSource, Report, ReportQuery, StorageTier, TierHealth, TierRole } from './types.js';

export interface CreateStrataOptions {
  /** An inline config; when given, no config file is read. */
  config?: StrataConfig;
  /** Config file to read (default: `strata.config.*` in cwd, else the embedded default). */
  configPath?: string;
  cwd?: string;
  /** Overrides the config's `dataDir`. */
  dataDir?: string;
  /** Extra plugins resolvable by name. */
  catalog?: PluginCatalog;
  /** Use the host's pino logger instead of Strata's own (stderr). */
  logger?: Logger;
  /** Overrides the config's `logLevel`. */
  logLevel?: LogLevel;
  /** Used when neither `logLevel` nor the config sets one. Default `info`. */
  defaultLogLevel?: LogLevel;
  clock?: Clock;
  /**
   * Run jobs on their cron schedules (retention, backup, quality…). Default true: an assistant server
   * gets its daily jobs without a separate cron. The CLI turns it off; `runJob` works either way.
   */
  scheduleJobs?: boolean;
  /** Sample the core's own metrics into `system_performance` on the config's interval. Default: the config's `monitor.enabled` (true). The CLI turns it off. */
  monitor?: boolean;
}

/** A rating the user gave an answer after it was recorded. */
export interface RatingFeedback {
  eventId: string;
  /** An integer from 1 to 5, or null to withdraw a rating. */
  userRating: number | null;
}

export interface RatingResult {
  eventId: string;
  status: 'updated' | 'unchanged' | 'not-found';
}

function ratingIssues(feedback: RatingFeedback): Issue[] {
  const issues: Issue[] = [];
  if (typeof feedback !== 'object' || feedback === null) return [{ path: '', message: 'feedback must be an object { eventId, userRating }' }];
  if (typeof feedback.eventId !== 'string' || feedback.eventId === '') issues.push({ path: 'eventId', message: 'must be a non-empty string' });
  const rating = feedback.userRating;
  if (rating !== null && !(Number.isInteger(rating) && rating >= 1 && rating <= 5)) {
    issues.push({ path: 'userRating', message: `must be an integer from 1 to 5 or null, got ${JSON.stringify(rating)}` });
  }
  return issues;
}

export interface IngestLinesOptions {
  /** Name of the input (file path or `stdin`), used in dead-letter entries. */
  source: string;
  /** Called every few thousand lines and at the end. */
  onProgress?(progress: { lines: number; bytes: number }): void;
  signal?: AbortSignal;
}

export interface IngestSummary extends IngestTally {
  /** Lines read, blank ones included. */
  lines: number;
  blank: number;
  durationMs: number;
}

export interface StrataStatus {
  dataDir: string;
  configSource: string | null;
  plugins: string[];
  tiers: Array<{ name: string; role: TierRole; health: TierHealth }>;
  counters: PipelineCounters;
  deadLetterDir: string;
}

export interface Strata {
  readonly config: ResolvedConfig;
  readonly logger: Logger;
  /**
   * Records an interaction without blocking or throwing. Returns true when it was queued; invalid
   * events go to the dead-letter store with the reason, and a full queue drops (and counts) the event.
   */
  record(event: unknown): boolean;
  /** Like `record`, but resolves once the hot tier committed the event, and rejects with the reason when it was refused. */
  recordStrict(event: unknown): Promise<RecordOutcome>;
  /** Streams JSON lines in (a file, stdin) at flat memory; resolves when every line has an outcome. */
  ingestLines(lines: AsyncIterable<string>, options: IngestLinesOptions): Promise<IngestSummary>;
  /** Writes everything accepted so far and waits for sinks to catch up. */
  flush(): Promise<void>;
  /** Stops accepting, writes what is queued, flushes sinks and stops every plugin within `shutdownTimeoutMs`. Idempotent. */
  close(): Promise<void>;
  report(query?: ReportQuery): Promise<Report>;
  /** The dashboard questions (common and trending questions, behaviour by role, content, business metrics per day, system performance), from the hot tier's rollups. */
  readonly insights: InsightsProvider;
  /** The core's own counters: accepted, rejected, duplicates, queued, dropped, sink lag. */
  metrics(): PipelineCounters;
  status(): Promise<StrataStatus>;
  storage(role: TierRole): StorageTier | undefined;
  jobs(): Job[];
  /** Each job's schedule, whether it is running, and its last outcome in this process. */
  jobStatus(): JobStatus[];
  /** Runs a job now; fails with STRATA_JOB_BUSY when it is already running (here or, with a job lock, in another process). */
  runJob(name: string, options?: RunJobOptions): Promise<JobReport>;
  /**
   * Removes a subject (a session) from every tier that holds per-subject rows, then checks that none
   * remains. Queued events are written first, so none of the subject's lands after the erasure.
   */
  erase(request: ErasureRequest): Promise<ErasureReport>;
  /**
   * Records a rating given after the answer was recorded (1–5, or null to withdraw one). Queued
   * events are written first, so rating an event just recorded works. Resolves with what happened;
   * `not-found` when no stored event has that id (or it has left the hot tier).
   */
  rate(feedback: RatingFeedback): Promise<RatingResult>;
  /** This Strata as `principal` sees it: every path checked against the role and audited (see ScopedStrata). */
  as(principal: Principal): ScopedStrata;
  /** Where the audit log is written. */
  readonly auditDir: string;
  /** Every metric source: the system monitor (`system.*`), the insights figures (`insights.*`) and the plugins' (`quality.*`…). */
  metricSources(): MetricSource[];
  /**
   * What plugins contributed under `key` in `extensions` (the same as `PluginContext.contributions`),
   * so code outside the plugins — the CLI, the application — can use a third party's contribution
   * (an export format, an export source) without a plugin of its own.
   */
  contributions<T>(key: string): T[];
  /** The plan's KPIs (freshness, dashboard latency, backup success, error rate, storage growth, ingest availability), computed now. */
  kpis(): Promise<Kpi[]>;
  /** The configured cache store's own health check, or null without a cache (or one that cannot tell). */
  cacheHealth(): Promise<{ ok: boolean; detail: string } | null>;
  /** Samples the system monitor now and stores the sample in `system_performance` (it also runs on the config's interval). */
  sampleSystemMetrics(): Promise<MetricReading[]>;
}

const PROGRESS_EVERY_LINES = 5_000;

function fileSource(file: string, line: number): EventSource {
  return { kind: 'file', file, line };
}

/** Builds a Strata instance from a config file, an inline config, or the embedded default, and starts its plugins. */
export async function createStrata(options: CreateStrataOptions = {}): Promise<Strata> {
  const clock = options.clock ?? systemClock;
  const config = options.config
    ? await resolveConfig(options.config, { source: null, baseDir: options.cwd, cwd: options.cwd, dataDir: options.dataDir, catalog: options.catalog })
    : await loadConfig({ configPath: options.configPath, cwd: options.cwd, dataDir: options.dataDir, catalog: options.catalog });
  const logger = options.logger ?? createLogger(options.logLevel ?? config.logLevel ?? options.defaultLogLevel ?? 'info');

  try {
    mkdirSync(config.dataDir, { recursive: true });
  } catch (error) {
    throw new StrataError('STRATA_CONFIG_INVALID', `cannot create data directory ${config.dataDir} (${describeError(error)}); set dataDir to a writable folder`, { cause: error });
  }

  const registry = new PluginRegistry(config.plugins, { logger, dataDir: config.dataDir, clock, limits: config.limits, configSource: config.source });
  await registry.start();
  const hot = registry.storage('hot');
  if (!hot) {
    await registry.stop(config.shutdownTimeoutMs).catch(() => undefined);
    throw new StrataError('STRATA_NO_HOT_TIER', `no plugin provides a hot storage tier (plugins: ${registry.names.join(', ') || 'none'}); add hot-sqlite or hot-postgres to plugins`);
  }
  let scheduler: JobScheduler;
  // The scheduler is built before the instance it reports to; a job cannot run before both exist.
  let instance: StrataInstance | undefined;
  try {
    scheduler = new JobScheduler(registry.jobs(), logger, clock, registry.jobLock(), () => instance?.afterJob());
  } catch (error) {
    await registry.stop(config.shutdownTimeoutMs).catch(() => undefined);
    throw error;
  }
  if (options.scheduleJobs ?? true) scheduler.start();
  instance = new StrataInstance(config, logger, clock, registry, hot, scheduler);
  if (options.monitor ?? config.monitor.enabled) instance.startMonitor();
  return instance;
}

class StrataInstance implements Strata {
  private readonly pipeline: IngestPipeline;
  private readonly deadLetters: DeadLetterStore;
  private readonly auditLog: AuditLog;
  /** The hot tier's insights, layered over the warm tier's and cached when a cache is configured. */
  private readonly insightsProvider: InsightsProvider;
  private readonly cache: CachedInsights | undefined;
  /** The core's own metrics; sampled only after `startMonitor`. */
  readonly monitor: SystemMonitor;
  private readonly validate: ReturnType<typeof createInteractionValidator>;
  private closing: Promise<void> | undefined;
  private warnedClosed = false;

  constructor(
    readonly config: ResolvedConfig,
    readonly logger: Logger,
    private readonly clock: Clock,
    private readonly registry: PluginRegistry,
    private readonly hot: StorageTier,
    private readonly scheduler: JobScheduler,
  ) {
    this.validate = createInteractionValidator(config.limits, () => clock.now());
    this.deadLetters = new DeadLetterStore(config.dataDir, () => clock.now());
    const scrubbers = registry.processors().flatMap((processor) => (processor.scrubText ? [processor.scrubText.bind(processor)] : []));
    if (scrubbers.length > 0) this.deadLetters.setScrubber((text) => scrubbers.reduce((scrubbed, scrub) => scrub(scrubbed), text));
    this.auditLog = new AuditLog(config.dataDir, () => clock.now());
    // Insights: the hot tier's, with months it pruned answered by the warm tier, read through the
    // cache when a plugin contributes one.
    const layered = layerInsights(tierInsights(hot), registry.storage('warm')?.insights);
    const store = registry.cache();
    this.cache = store ? cachedInsights(layered, store, { logger: logger.child({ component: 'insights-cache' }) }) : undefined;
    this.insightsProvider = this.cache ?? layered;
    this.monitor = new SystemMonitor(
      {
        counters: () => this.pipeline.counters(),
        tiers: () => (['hot', 'warm', 'cold'] as const).flatMap((role) => registry.storage(role) ?? []),
        hot,
        now: () => clock.now(),
        logger: logger.child({ component: 'system-monitor' }),
        onMetricsWritten: (samples) => this.cache?.invalidateForMetrics(samples),
      },
      { intervalMs: config.monitor.intervalMs, activeSessionWindowMs: config.monitor.activeSessionWindowMs, maxTrackedSessions: 100_000 },
    );
    this.pipeline = new IngestPipeline(config.pipeline, hot, registry.processors(), registry.sinks(), this.deadLetters, logger, () => clock.now(), (events) => {
      this.monitor.observe(events);
      // Awaited before the batch's callers are answered, so a recordStrict caller reads fresh answers.
      return this.cache?.invalidateForBatch(events);
    });
    registry.addMetricSource(this.monitor);
    registry.addMetricSource(kpiMetricSource(() => this.kpis()));
    registry.addMetricSource(insightsMetricSource(() => this.insights, config.monitor.insightsWindowMs, () => clock.now()));
  }

  record(event: unknown): boolean {
    if (this.closing) {
      if (!this.warnedClosed) {
        this.warnedClosed = true;
        this.logger.warn('record() called after close(); the event was not recorded');
      }
      return false;
    }
    const checked = this.validate(event);
    if (!checked.ok) {
      this.pipeline.reject({ kind: 'api', method: 'record' }, safeStringify(event), `invalid interaction: ${formatIssues(checked.issues)}`, checked.issues);
      return false;
    }
    return this.pipeline.enqueue({ event: checked.value, source: { kind: 'api', method: 'record' } });
  }

  recordStrict(event: unknown): Promise<RecordOutcome> {
    if (this.closing) return Promise.reject(new ClosedError());
    const checked = this.validate(event);
    if (!checked.ok) {
      this.pipeline.reject({ kind: 'api', method: 'recordStrict' }, safeStringify(event), `invalid interaction: ${formatIssues(checked.issues)}`, checked.issues);
      return Promise.reject(new ValidationError(checked.issues));
    }
    return new Promise<RecordOutcome>((resolve, reject) => {
      this.pipeline.enqueue({ event: checked.value, source: { kind: 'api', method: 'recordStrict' }, waiter: { resolve, reject } });
    });
  }

  async ingestLines(lines: AsyncIterable<string>, options: IngestLinesOptions): Promise<IngestSummary> {
    if (this.closing) throw new ClosedError();
    const started = performance.now();
    const tally: IngestTally = { accepted: 0, stored: 0, duplicates: 0, rejected: 0, failed: 0, deadLetter: 0 };
    let lineNumber = 0;
    let blank = 0;
    let bytes = 0;
    // Keep at most a few batches in memory however large the input is.
    // One and a half batches queued beside the two the pipeline keeps in flight: enough that a batch
    // is ready whenever the writer finishes one, little enough to keep a 1M-line ingest near 210–240 MB
    // (two batches queued measured 243–345 MB for 5% more speed).
    const highWater = Math.min(this.config.pipeline.maxQueue, Math.ceil(this.config.pipeline.maxBatchSize * 1.5));
    /** Counts, parses and validates one line: its event when it is to be queued; a rejected line goes to the dead-letter store. */
    const check = (line: string): Interaction | undefined => {
      lineNumber += 1;
      bytes += Buffer.byteLength(line, 'utf8') + 1;
      if (lineNumber % PROGRESS_EVERY_LINES === 0) options.onProgress?.({ lines: lineNumber, bytes });
      const text = line.trim();
      if (text === '') {
        blank += 1;
        return undefined;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        this.pipeline.reject(fileSource(options.source, lineNumber), line, `line ${lineNumber}: not valid JSON (${describeError(error)})`, undefined, tally);
        return undefined;
      }
      const checked = this.validate(parsed);
      if (!checked.ok) {
        this.pipeline.reject(fileSource(options.source, lineNumber), line, `line ${lineNumber}: invalid interaction: ${formatIssues(checked.issues)}`, checked.issues, tally);
        return undefined;
      }
      return checked.value;
    };
    // From readLines, a chunk's lines come at once: one await per chunk instead of one per line,
    // and a queued line of an ASCII chunk is kept as a range of its bytes (see LineBatch).
    const batches = takeLineBatches(lines);
    if (batches) {
      reading: for await (const { lines: batchLines, bytes, starts } of batches) {
        for (let index = 0; index < batchLines.length; index += 1) {
          const line = batchLines[index]!;
          if (options.signal?.aborted) break reading;
          const event = check(line);
          if (!event) continue;
          if (this.pipeline.size >= highWater) await this.pipeline.waitForRoom(highWater / 2);
          if (this.closing) throw new ClosedError();
          const start = starts?.[index] ?? -1;
          if (bytes && start >= 0) this.pipeline.enqueue({ event, file: options.source, line: lineNumber, bytes, start, end: start + line.length, tally });
          else this.pipeline.enqueue({ event, file: options.source, line: lineNumber, original: line, tally });
        }
      }
    } else {
      for await (const line of lines) {
        if (options.signal?.aborted) break;
        const event = check(line);
        if (!event) continue;
        if (this.pipeline.size >= highWater) await this.pipeline.waitForRoom(highWater / 2);
        if (this.closing) throw new ClosedError();
        this.pipeline.enqueue({ event, file: options.source, line: lineNumber, original: line, tally });
      }
    }
    await this.pipeline.flushQueue();
    await this.deadLetters.flush();
    options.onProgress?.({ lines: lineNumber, bytes });
    return { ...tally, lines: lineNumber, blank, durationMs: performance.now() - started };
  }

  async flush(): Promise<void> {
    await this.pipeline.flush();
    await this.registry.flush();
    await this.deadLetters.flush();
    await this.auditLog.flush();
  }

  kpis(): Promise<Kpi[]> {
    return computeKpis({
      hot: this.hot,
      insights: this.insights,
      deadLetterDir: this.deadLetters.directory,
      metricSources: () => this.registry.metricSources(),
      now: () => this.clock.now(),
    });
  }

  async cacheHealth(): Promise<{ ok: boolean; detail: string } | null> {
    const store = this.registry.cache();
    return store?.health ? store.health() : null;
  }

  sampleSystemMetrics(): Promise<MetricReading[]> {
    return this.monitor.sampleAndStore();
  }

  /** After a job: retention, restores and the like move or delete data under every cached answer. */
  async afterJob(): Promise<void> {
    await this.cache?.invalidateAll();
  }

  startMonitor(): void {
    this.monitor.start();
  }

  /** Every metric source: the core's (system monitor, insights figures) and the plugins'. */
  metricSources(): MetricSource[] {
    return this.registry.metricSources();
  }

  contributions<T>(key: string): T[] {
    return this.registry.contributions<T>(key);
  }

  get auditDir(): string {
    return this.auditLog.directory;
  }

  async erase(request: ErasureRequest): Promise<ErasureReport> {
    if (this.closing) throw new ClosedError();
    await this.pipeline.flush();
    const tiers = (['hot', 'warm', 'cold'] as const).flatMap((role) => {
      const tier = this.registry.storage(role);
      return tier ? [tier] : [];
    });
    try {
      return await eraseSubject(request, tiers, this.registry.processors(), this.deadLetters, this.registry.erasureParticipants());
    } finally {
      await this.cache?.invalidateAll();
    }
  }

  async rate(feedback: RatingFeedback): Promise<RatingResult> {
    if (this.closing) throw new ClosedError();
    const issues = ratingIssues(feedback);
    if (issues.length > 0) throw new ValidationError(issues);
    if (!this.hot.rateInteraction) {
      throw new StrataError('STRATA_STORAGE_FAILED', `${this.hot.name}: this hot tier cannot record ratings after the fact; send userRating with the interaction instead`);
    }
    await this.pipeline.flush();
    const status = await this.hot.rateInteraction(feedback.eventId, feedback.userRating);
    if (status === 'updated') await this.cache?.invalidateAll();
    return { eventId: feedback.eventId, status };
  }

  as(principal: Principal): ScopedStrata {
    const owner = this;
    return createScopedStrata(
      {
        get closed() {
          return owner.closing !== undefined;
        },
        get insights() {
          return owner.insights;
        },
        report: (query) => owner.report(query),
        status: () => owner.status(),
        record: (event) => owner.record(event),
        recordStrict: (event) => owner.recordStrict(event),
        ingestLines: (lines, options) => owner.ingestLines(lines, options),
        erase: (request) => owner.erase(request),
        rate: (feedback) => owner.rate(feedback),
        runJob: (name, options) => owner.runJob(name, options),
        hotTier: () => ({
          queryInteractions: (query) => owner.hot.queryInteractions(query),
          scanInteractions: (range, options) => owner.hot.scanInteractions(range, options),
          deleteInteractions: async (range) => {
            try {
              return await owner.hot.deleteInteractions(range);
            } finally {
              await owner.cache?.invalidateAll();
            }
          },
        }),
      },
      principal,
      this.auditLog,
    );
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const deadline = this.clock.now() + this.config.shutdownTimeoutMs;
    const errors: Error[] = [];
    const attempt = async (work: () => Promise<void>) => {
      try {
        await work();
      } catch (error) {
        if (error instanceof StopError) errors.push(...error.errors);
        else errors.push(toError(error));
      }
    };
    this.monitor.stop();
    await attempt(() => this.scheduler.stop(Math.max(0, deadline - this.clock.now())));
    await attempt(() => this.pipeline.close(deadline));
    // A plugin whose flush hangs must not hold shutdown past its deadline; stop still runs after it.
    await attempt(() =>
      withTimeout(this.registry.flush(), Math.max(0, deadline - this.clock.now()), () => new StrataError('STRATA_DEADLINE_EXCEEDED', 'plugin flush did not finish before the shutdown deadline; raise shutdownTimeoutMs or check what the plugins wait for')),
    );
    await attempt(() => this.registry.stop(Math.max(0, deadline - this.clock.now())));
    await attempt(() => this.deadLetters.flush());
    await attempt(() => this.auditLog.flush());
    if (errors.length > 0) throw new StopError(errors);
  }

  async report(query: ReportQuery = {}): Promise<Report> {
    if (!this.hot.report) throw new StrataError('STRATA_STORAGE_FAILED', `${this.hot.name}: this tier does not answer reports`);
    return this.hot.report(query);
  }

  get insights(): InsightsProvider {
    return this.insightsProvider;
  }

  metrics(): PipelineCounters {
    return this.pipeline.counters();
  }

  async status(): Promise<StrataStatus> {
    const tiers = await Promise.all(
      this.registry.storageTiers().map(async (tier) => {
        let health: TierHealth;
        try {
          health = await tier.health();
        } catch (error) {
          health = { ok: false, details: {}, problem: describeError(error) };
        }
        return { name: tier.name, role: tier.role, health };
      }),
    );
    return {
      dataDir: this.config.dataDir,
      configSource: this.config.source,
      plugins: this.registry.names,
      tiers,
      counters: this.metrics(),
      deadLetterDir: this.deadLetters.directory,
    };
  }

  storage(role: TierRole): StorageTier | undefined {
    return this.registry.storage(role);
  }

  jobs(): Job[] {
    return this.scheduler.jobs;
  }

  jobStatus(): JobStatus[] {
    return this.scheduler.status();
  }

  runJob(name: string, options: RunJobOptions = {}): Promise<JobReport> {
    if (this.closing) return Promise.reject(new ClosedError());
    return this.scheduler.run(name, options);
  }
}
