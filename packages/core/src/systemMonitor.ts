import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { describeError } from './errors.js';
import type { PipelineCounters } from './ingestPipeline.js';
import type { Interaction } from './interaction.js';
import type { Metric } from './metric.js';
import type { MetricReading, MetricSource, StorageTier } from './types.js';

export interface SystemMonitorOptions {
  /** How often the core's own metrics are sampled and stored. */
  intervalMs: number;
  /** A session counts as concurrent while its last event is at most this old. */
  activeSessionWindowMs: number;
  /** Most sessions tracked for the concurrency figure; beyond it the figure is a lower bound. */
  maxTrackedSessions: number;
}

export const DEFAULT_SYSTEM_MONITOR_OPTIONS: SystemMonitorOptions = {
  intervalMs: 60_000,
  activeSessionWindowMs: 5 * 60_000,
  maxTrackedSessions: 100_000,
};

export interface SystemMonitorSources {
  counters(): PipelineCounters;
  /** Tiers whose health details carry `bytes` / `walBytes` (file sizes). */
  tiers(): StorageTier[];
  /** Where samples are stored (`system_performance`); absent: readings are only kept in memory. */
  hot: StorageTier;
  now(): number;
  logger: Logger;
  /** Called after samples are stored (the insights cache drops system-performance answers). */
  onMetricsWritten?(samples: readonly Metric[]): Promise<void> | void;
}

const MB = 1024 * 1024;

/**
 * Samples the core's own figures on an interval — ingest and rejection rates, queue depth, sink
 * lag, batch write time, database and WAL size, memory, event-loop delay, concurrent sessions —
 * stores them in the hot tier's `system_performance` (component `strata`), and serves the latest
 * as the `system` metric source for alert rules and dashboards.
 */
export class SystemMonitor implements MetricSource {
  readonly name = 'system';
  private readonly loopDelay: IntervalHistogram;
  private readonly lastSeenBySession = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private previous: { at: number; counters: PipelineCounters } | undefined;
  private latest: MetricReading[] = [];
  private sampling: Promise<MetricReading[]> | undefined;

  constructor(
    private readonly sources: SystemMonitorSources,
    private readonly options: SystemMonitorOptions = DEFAULT_SYSTEM_MONITOR_OPTIONS,
  ) {
    this.loopDelay = monitorEventLoopDelay({ resolution: 10 });
  }

  /** Notes session activity from committed events (cheap: at most one map write per event). */
  observe(events: readonly Interaction[]): void {
    const now = this.sources.now();
    let previous: string | undefined;
    for (const event of events) {
      // A conversation's turns usually arrive together: a repeat of the previous session would write the same entry again.
      if (event.sessionId === previous) continue;
      previous = event.sessionId;
      if (this.lastSeenBySession.size >= this.options.maxTrackedSessions && !this.lastSeenBySession.has(event.sessionId)) continue;
      this.lastSeenBySession.set(event.sessionId, now);
    }
  }

  start(): void {
    if (this.timer) return;
    this.loopDelay.enable();
    this.previous = { at: this.sources.now(), counters: structuredClone(this.sources.counters()) };
    // Unref'd: monitoring never keeps the host process alive.
    this.timer = setInterval(() => void this.sampleAndStore(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.loopDelay.disable();
  }

  async read(): Promise<MetricReading[]> {
    if (this.latest.length === 0) return this.sample();
    return this.latest;
  }

  /** Takes a sample now and stores it; errors are logged, never thrown (monitoring must not break the host). */
  async sampleAndStore(): Promise<MetricReading[]> {
    try {
      const readings = await this.sample();
      if (this.sources.hot.writeMetrics) {
        const samples: Metric[] = readings.map((reading) => ({ timestamp: reading.at, name: reading.name, value: reading.value, unit: reading.unit ?? null, component: 'strata' }));
        await this.sources.hot.writeMetrics(samples);
        await this.sources.onMetricsWritten?.(samples);
      }
      return readings;
    } catch (error) {
      this.sources.logger.warn({ err: describeError(error) }, 'system monitor sample failed');
      return [];
    }
  }

  /** Computes the readings since the previous sample (rates) and now (levels). */
  async sample(): Promise<MetricReading[]> {
    this.sampling ??= this.computeSample().finally(() => {
      this.sampling = undefined;
    });
    return this.sampling;
  }

  private async computeSample(): Promise<MetricReading[]> {
    const at = this.sources.now();
    const counters = structuredClone(this.sources.counters());
    const previous = this.previous ?? { at, counters };
    const seconds = Math.max((at - previous.at) / 1_000, 1e-9);
    const accepted = counters.accepted - previous.counters.accepted;
    const rejected = counters.rejected - previous.counters.rejected;
    const dropped = counters.dropped - previous.counters.dropped;
    const offered = accepted + rejected + dropped;
    const failedWrites = counters.writeFailures - previous.counters.writeFailures;

    const sinks = Object.values(counters.sinks);
    const readings: MetricReading[] = [
      { name: 'system.ingest_rate', value: at > previous.at ? accepted / seconds : 0, unit: 'events/s', at },
      { name: 'system.rejection_rate', value: offered > 0 ? rejected / offered : 0, unit: 'ratio', at },
      // Events the pipeline could not keep (refused, dropped on a full queue) as a share of all offered.
      { name: 'system.error_rate', value: offered > 0 ? (rejected + dropped) / offered : 0, unit: 'ratio', at },
      { name: 'system.write_failures', value: failedWrites, unit: 'count', at },
      { name: 'system.queue_depth', value: counters.queued, unit: 'events', at },
      { name: 'system.sink_backlog', value: sinks.reduce((sum, sink) => sum + sink.backlog, 0), unit: 'events', at },
      { name: 'system.sink_lag_ms', value: sinks.reduce((most, sink) => Math.max(most, sink.lagMs), 0), unit: 'ms', at },
      { name: 'system.batch_write_ms', value: counters.lastBatchWriteMs, unit: 'ms', at },
      ...this.memoryReadings(at),
      ...this.loopDelayReadings(at),
      { name: 'system.concurrent_sessions', value: this.activeSessions(at), unit: 'sessions', at },
      ...(await this.storageReadings(at)),
    ];
    this.previous = { at, counters };
    this.latest = readings;
    return readings;
  }

  private memoryReadings(at: number): MetricReading[] {
    const memory = process.memoryUsage();
    return [
      { name: 'system.memory_rss_mb', value: memory.rss / MB, unit: 'MB', at },
      { name: 'system.heap_used_mb', value: memory.heapUsed / MB, unit: 'MB', at },
    ];
  }

  private loopDelayReadings(at: number): MetricReading[] {
    if (this.loopDelay.count === 0) return [];
    const readings: MetricReading[] = [
      { name: 'system.event_loop_delay_p99_ms', value: this.loopDelay.percentile(99) / 1e6, unit: 'ms', at },
      { name: 'system.event_loop_delay_max_ms', value: this.loopDelay.max / 1e6, unit: 'ms', at },
    ];
    this.loopDelay.reset();
    return readings;
  }

  private activeSessions(at: number): number {
    const since = at - this.options.activeSessionWindowMs;
    let active = 0;
    for (const [session, lastSeen] of this.lastSeenBySession) {
      if (lastSeen < since) this.lastSeenBySession.delete(session);
      else active += 1;
    }
    return active;
  }

  private async storageReadings(at: number): Promise<MetricReading[]> {
    let database = 0;
    let wal = 0;
    for (const tier of this.sources.tiers()) {
      try {
        const health = await tier.health({ quick: true });
        if (typeof health.details.bytes === 'number') database += health.details.bytes;
        if (typeof health.details.walBytes === 'number') wal += health.details.walBytes;
      } catch {
        // A tier that cannot report its size is skipped; its health shows why.
      }
    }
    return [
      { name: 'system.database_size_mb', value: database / MB, unit: 'MB', at },
      { name: 'system.wal_size_mb', value: wal / MB, unit: 'MB', at },
    ];
  }
}
