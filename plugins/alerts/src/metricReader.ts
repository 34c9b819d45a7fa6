import { describeError, type Logger, type MetricReading, type MetricSource } from '@strata/core';

/** Every source's readings of one evaluation, by metric name. */
export interface MetricSnapshot {
  byMetric: Map<string, MetricReading[]>;
  /** Metrics whose source failed this time, with why: rules on them keep their alerts as they are. */
  unknown: Map<string, string>;
  failedSources: string[];
}

/**
 * Reads every metric source once per evaluation, in parallel, each within a timeout. A source
 * that throws or times out is logged once (and again only after it recovered and failed anew);
 * the metrics it reported last time become unknown rather than absent, so a broken source never
 * resolves alerts it cannot see.
 */
export class MetricReader {
  private readonly lastMetricsOfSource = new Map<string, Set<string>>();
  private readonly failing = new Set<string>();

  constructor(
    private readonly sources: () => MetricSource[],
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  async read(now: number, signal: AbortSignal): Promise<MetricSnapshot> {
    const sources = this.sources();
    const results = await Promise.all(sources.map((source) => this.readOne(source, now, signal)));
    const byMetric = new Map<string, MetricReading[]>();
    const unknown = new Map<string, string>();
    const failedSources: string[] = [];
    for (const [index, result] of results.entries()) {
      const source = sources[index]!;
      if ('error' in result) {
        failedSources.push(source.name);
        for (const metric of this.lastMetricsOfSource.get(source.name) ?? []) unknown.set(metric, `source ${source.name} failed: ${result.error}`);
        continue;
      }
      const names = new Set<string>();
      for (const reading of result.readings) {
        if (!isUsable(reading)) continue;
        names.add(reading.name);
        const list = byMetric.get(reading.name) ?? [];
        list.push(reading);
        byMetric.set(reading.name, list);
      }
      this.lastMetricsOfSource.set(source.name, names);
    }
    // Another source may still report a metric whose usual source failed; its readings count.
    for (const metric of byMetric.keys()) unknown.delete(metric);
    return { byMetric, unknown, failedSources };
  }

  private async readOne(source: MetricSource, now: number, outer: AbortSignal): Promise<{ readings: MetricReading[] } | { error: string }> {
    const controller = new AbortController();
    const abort = () => controller.abort(outer.reason);
    outer.addEventListener('abort', abort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    try {
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = new Error(`no answer within ${this.timeoutMs} ms (raise the alerts plugin's sourceTimeout if it is just slow)`);
          controller.abort(error);
          reject(error);
        }, this.timeoutMs);
        timer.unref();
      });
      timedOut.catch(() => undefined);
      const readings = await Promise.race([Promise.resolve().then(() => source.read({ now, signal: controller.signal })), timedOut]);
      if (!Array.isArray(readings)) throw new Error(`read() returned ${typeof readings}, not an array of readings`);
      if (this.failing.delete(source.name)) this.logger.info({ source: source.name }, `metric source ${source.name} answers again`);
      return { readings };
    } catch (error) {
      const reason = describeError(error);
      if (!this.failing.has(source.name)) {
        this.failing.add(source.name);
        this.logger.warn({ source: source.name }, `metric source ${source.name} failed: ${reason}; rules on its metrics keep their state until it answers`);
      }
      return { error: reason };
    } finally {
      clearTimeout(timer);
      outer.removeEventListener('abort', abort);
    }
  }
}

function isUsable(reading: MetricReading): boolean {
  return (
    typeof reading === 'object' &&
    reading !== null &&
    typeof reading.name === 'string' &&
    typeof reading.value === 'number' &&
    Number.isFinite(reading.value) &&
    (reading.labels === undefined || (typeof reading.labels === 'object' && reading.labels !== null && Object.values(reading.labels).every((value) => typeof value === 'string')))
  );
}
