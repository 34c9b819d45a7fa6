import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { InsightsProvider, SystemPerformancePoint } from './insights.js';
import type { MetricReading, MetricSource, StorageTier } from './types.js';

/** One of the plan's KPIs, with its target and whether it is met. */
export interface Kpi {
  name: 'data_freshness' | 'dashboard_latency' | 'backup_success' | 'data_error_rate' | 'monthly_storage_growth' | 'ingest_availability';
  /** null when there is not enough data to tell yet (`detail` says what is missing). */
  value: number | null;
  unit: string;
  /** The plan's target, in `unit`, and which side of it is good. */
  target: { value: number; better: 'below' | 'above' | 'at-least' };
  status: 'ok' | 'breach' | 'unknown';
  detail: string;
}

export interface KpiSources {
  hot: StorageTier;
  insights: InsightsProvider;
  deadLetterDir: string;
  /** Every metric source (the backup plugin's `backup.*` readings are used when present). */
  metricSources(): MetricSource[];
  now(): number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * Computes the plan's KPIs from what is stored, so they mean the same in the long-running server and
 * in a one-off `strata status`: freshness from the newest stored event, dashboard latency from a
 * probe of the dashboard's heaviest question, backup success from the backup plugin's readings, the
 * data error rate from the dead-letter files against the interactions stored over the last day, and
 * storage growth and ingest availability from the system monitor's samples in `system_performance`.
 */
export async function computeKpis(sources: KpiSources): Promise<Kpi[]> {
  const now = sources.now();
  return Promise.all([freshness(sources, now), dashboardLatency(sources, now), backupSuccess(sources, now), errorRate(sources, now), storageGrowth(sources, now), ingestAvailability(sources, now)]);
}

/**
 * The KPIs as a metric source (`kpi.<name>`), so alert rules can watch them. Computing them reads
 * the dead-letter files and runs a dashboard probe, so an answer is reused for `maxAgeMs` (alert
 * rules are evaluated every 30 s by default; the KPIs move over minutes and days).
 */
export function kpiMetricSource(compute: () => Promise<Kpi[]>, maxAgeMs = 5 * 60_000): MetricSource {
  let cached: { at: number; kpis: Promise<Kpi[]> } | undefined;
  return {
    name: 'kpi',
    async read({ now }): Promise<MetricReading[]> {
      if (!cached || now - cached.at >= maxAgeMs || now < cached.at) {
        const kpis = compute();
        cached = { at: now, kpis };
        // A failed computation is not kept: the next read tries again.
        kpis.catch(() => {
          if (cached?.kpis === kpis) cached = undefined;
        });
      }
      const kpis = await cached.kpis;
      return kpis.flatMap((kpi) => (kpi.value === null ? [] : [{ name: `kpi.${kpi.name}`, value: kpi.value, unit: kpi.unit, at: now }]));
    },
  };
}

function judge(value: number | null, target: Kpi['target']): Kpi['status'] {
  if (value === null) return 'unknown';
  if (target.better === 'below') return value < target.value ? 'ok' : 'breach';
  if (target.better === 'above') return value > target.value ? 'ok' : 'breach';
  return value >= target.value ? 'ok' : 'breach';
}

function kpi(name: Kpi['name'], value: number | null, unit: string, target: Kpi['target'], detail: string): Kpi {
  return { name, value, unit, target, status: judge(value, target), detail };
}

async function freshness(sources: KpiSources, now: number): Promise<Kpi> {
  const target = { value: 5, better: 'below' as const };
  const newest = sources.hot.latestTimestamp ? await sources.hot.latestTimestamp() : null;
  if (newest === null) return kpi('data_freshness', null, 'minutes', target, sources.hot.latestTimestamp ? 'no interaction stored yet' : `${sources.hot.name} cannot tell its newest event`);
  const minutes = Math.max(0, (now - newest) / 60_000);
  return kpi('data_freshness', round(minutes), 'minutes', target, `newest interaction at ${new Date(newest).toISOString()}`);
}

async function dashboardLatency(sources: KpiSources, now: number): Promise<Kpi> {
  const target = { value: 1_000, better: 'below' as const };
  // The dashboard's widest default view: 30 days of business metrics and behaviour by role.
  const started = performance.now();
  try {
    await sources.insights.businessMetrics({ range: { from: now - 30 * DAY, to: now }, limit: 1_000 });
    await sources.insights.userBehaviour({ range: { from: now - 30 * DAY, to: now } });
  } catch (error) {
    return kpi('dashboard_latency', null, 'ms', target, `the insights did not answer: ${(error as Error).message}`);
  }
  return kpi('dashboard_latency', round(performance.now() - started), 'ms', target, '30 days of business metrics and behaviour by role, measured now');
}

async function backupSuccess(sources: KpiSources, now: number): Promise<Kpi> {
  const target = { value: 100, better: 'at-least' as const };
  const readings = await readMetrics(sources, now, 'backup');
  const ratio = readings.find((reading) => reading.name === 'backup.success_ratio');
  const age = readings.find((reading) => reading.name === 'backup.last_success_age_hours');
  if (!ratio) return kpi('backup_success', null, '%', target, 'no backup plugin configured, or no backup attempted in the last 30 days');
  const ageText = age ? `; the newest complete backup is ${round(age.value)} h old` : '; no complete backup yet';
  return kpi('backup_success', round(ratio.value * 100), '%', target, `share of the last 30 days' backups that completed and verified${ageText}`);
}

async function errorRate(sources: KpiSources, now: number): Promise<Kpi> {
  const target = { value: 0.1, better: 'below' as const };
  const since = now - DAY;
  const rejected = await deadLettersSince(sources.deadLetterDir, since, now);
  let stored = 0;
  try {
    const roles = await sources.insights.userBehaviour({ range: { from: since, to: now }, limit: 1_000 });
    stored = roles.items.reduce((sum, role) => sum + role.interactions, 0);
  } catch {
    // Without insights the stored count stays 0 and the rate is unknown unless something was rejected.
  }
  const offered = stored + rejected;
  if (offered === 0) return kpi('data_error_rate', null, '%', target, 'nothing received in the last 24 hours');
  return kpi('data_error_rate', round((rejected / offered) * 100, 3), '%', target, `${rejected} rejected of ${offered} received in the last 24 hours`);
}

async function storageGrowth(sources: KpiSources, now: number): Promise<Kpi> {
  const target = { value: 50, better: 'below' as const };
  const points = await sizeSeries(sources, now - 35 * DAY, now);
  if (points.length < 2) return kpi('monthly_storage_growth', null, '%', target, 'needs the system monitor to have sampled the database size on at least two days');
  const latest = points.at(-1)!;
  // The sample closest to 30 days before the latest one (the oldest we have when younger).
  const monthAgo = points.reduce((best, point) => (Math.abs(point.bucketStart - (latest.bucketStart - 30 * DAY)) < Math.abs(best.bucketStart - (latest.bucketStart - 30 * DAY)) ? point : best), points[0]!);
  if (monthAgo === latest || monthAgo.avg <= 0) return kpi('monthly_storage_growth', null, '%', target, 'not enough size history yet');
  const days = (latest.bucketStart - monthAgo.bucketStart) / DAY;
  const growth = ((latest.avg - monthAgo.avg) / monthAgo.avg) * 100 * (30 / Math.max(days, 1));
  return kpi('monthly_storage_growth', round(growth), '%', target, `database ${round(monthAgo.avg)} MB → ${round(latest.avg)} MB over ${round(days)} day(s), scaled to 30 days`);
}

async function ingestAvailability(sources: KpiSources, now: number): Promise<Kpi> {
  const target = { value: 99.9, better: 'at-least' as const };
  let points: SystemPerformancePoint[] = [];
  try {
    points = (await sources.insights.systemPerformance({ range: { from: now - DAY, to: now }, granularity: 'minute', metricName: 'system.write_failures', limit: 1_000 })).items;
    if (points.length === 0) points = (await sources.insights.systemPerformance({ range: { from: now - DAY, to: now }, granularity: 'hour', metricName: 'system.write_failures', limit: 1_000 })).items;
  } catch {
    points = [];
  }
  const samples = points.reduce((sum, point) => sum + point.samples, 0);
  if (samples === 0) return kpi('ingest_availability', null, '%', target, 'needs the system monitor (it runs inside createStrata and strata serve) to have sampled in the last 24 hours');
  // A bucket whose worst sample saw a failed hot-tier write counts as unavailable for all its samples.
  const failing = points.filter((point) => point.max > 0).reduce((sum, point) => sum + point.samples, 0);
  return kpi('ingest_availability', round(((samples - failing) / samples) * 100, 3), '%', target, `${samples - failing} of ${samples} monitor samples in the last 24 hours without a failed hot-tier write`);
}

async function sizeSeries(sources: KpiSources, from: number, to: number): Promise<SystemPerformancePoint[]> {
  try {
    const page = await sources.insights.systemPerformance({ range: { from, to }, granularity: 'day', metricName: 'system.database_size_mb', limit: 1_000 });
    return page.items.filter((point) => point.samples > 0);
  } catch {
    return [];
  }
}

async function readMetrics(sources: KpiSources, now: number, sourceName: string): Promise<MetricReading[]> {
  const source = sources.metricSources().find((candidate) => candidate.name === sourceName);
  if (!source) return [];
  try {
    return await source.read({ now });
  } catch {
    return [];
  }
}

/** Dead-letter entries written since `since` (files are per UTC day; entries carry their time). */
async function deadLettersSince(directory: string, since: number, now: number): Promise<number> {
  let files: string[];
  try {
    files = await readdir(directory);
  } catch {
    return 0;
  }
  const days = new Set([new Date(since).toISOString().slice(0, 10), new Date(now).toISOString().slice(0, 10)]);
  let count = 0;
  for (const file of files) {
    if (!days.has(file.slice(0, 10))) continue;
    const text = await readFile(join(directory, file), 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const at = Date.parse((/"at":"([^"]+)"/.exec(line) ?? [])[1] ?? '');
      if (Number.isNaN(at) || at >= since) count += 1;
    }
  }
  return count;
}

function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
