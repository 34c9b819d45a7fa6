import type { MetricReading, MetricSource } from '@strata/core';
import { listBackups } from './backupCatalog.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** `2026-11-25T03-00-00-000Z[-n]` (a backup id) → epoch ms. */
function timeOfId(id: string): number {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z/.exec(id);
  return match ? Date.parse(`${match[1]}T${match[2]}:${match[3]}:${match[4]}.${match[5]}Z`) : Number.NaN;
}

/**
 * The plan's "backup success" KPI from what is on disk: of the backups started in the last 30 days,
 * the share that completed and verified (a manifest is written only then), and the age of the newest
 * complete one. Read from the backups directory, so it holds across restarts and processes.
 */
export function backupMetricSource(backupsDir: string): MetricSource {
  return {
    name: 'backup',
    async read({ now }): Promise<MetricReading[]> {
      const recent = (await listBackups(backupsDir)).filter((entry) => timeOfId(entry.id) >= now - 30 * DAY);
      if (recent.length === 0) return [];
      const complete = recent.filter((entry) => entry.status === 'complete');
      const readings: MetricReading[] = [
        { name: 'backup.success_ratio', value: complete.length / recent.length, unit: 'ratio', at: now },
        { name: 'backup.attempts_30d', value: recent.length, unit: 'count', at: now },
      ];
      const newest = complete.at(-1);
      if (newest) readings.push({ name: 'backup.last_success_age_hours', value: (now - timeOfId(newest.id)) / HOUR, unit: 'h', at: now });
      return readings;
    },
  };
}
