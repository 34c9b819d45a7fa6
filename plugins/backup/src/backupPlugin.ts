import { definePlugin, type Job, type JobReport, type PluginContext, type ResolvedConfig, type StorageTier, type TierRole } from '@strata/core';
import { resolveBackupsDir } from './backupCatalog.js';
import { backupMetricSource } from './backupMetrics.js';
import { BackupOptionsSchema, type ResolvedBackupOptions } from './backupOptions.js';
import { createBackup, type BackupResult } from './createBackup.js';
import { PACKAGE_VERSION } from './packageInfo.js';

export const BACKUP_JOB = 'backup';

/**
 * The backup plugin: contributes the `backup` job (on `schedule`, and on demand through
 * `strata jobs run backup`), which backs up every tier that supports it, verifies the copy and
 * rotates old backups. It adds no storage and never touches the ingest path.
 */
export const backupPlugin = definePlugin({
  name: 'backup',
  version: PACKAGE_VERSION,
  options: BackupOptionsSchema,
  setup(context, options) {
    const backupsDir = resolveBackupsDir(context.dataDir, options.dir);
    const job: Job = {
      name: BACKUP_JOB,
      description: 'online backup of every tier, verified (integrity check, row counts, SHA-256 manifest), then rotation of old backups',
      ...(options.schedule !== null ? { schedule: options.schedule } : {}),
      async run(jobContext): Promise<JobReport> {
        // Tiers are looked up when the job runs, so the plugin may be listed before the storage plugins.
        const tiers = tiersToBackUp((role) => context.storage(role), options.tiers);
        const result = await createBackup({
          tiers,
          dataDir: context.dataDir,
          backupsDir,
          configuration: pluginViewOfConfiguration(context, options, tiers),
          ...(options.rotate ? { rotate: options.keep } : {}),
          now: () => jobContext.clock.now(),
          signal: jobContext.signal,
          onProgress: (progress) => jobContext.progress({ done: progress.bytes, ...(progress.totalBytes !== undefined ? { total: progress.totalBytes } : {}), unit: `bytes ${progress.phase === 'copy' ? 'copied' : 'verified'}` }),
        });
        return backupJobReport(result);
      },
    };
    return { jobs: [job], metricSources: [backupMetricSource(backupsDir)] };
  },
});

/** The tiers of the given roles that exist, in the order of `roles`. */
export function tiersToBackUp(storage: (role: TierRole) => StorageTier | undefined, roles: readonly TierRole[]): StorageTier[] {
  const tiers: StorageTier[] = [];
  for (const role of roles) {
    const tier = storage(role);
    if (tier && !tiers.includes(tier)) tiers.push(tier);
  }
  return tiers;
}

/** The configuration in force, as the core hands it to plugins: the config file (copied as text) or the plugin list. */
function pluginViewOfConfiguration(context: PluginContext, _options: ResolvedBackupOptions, _tiers: readonly StorageTier[]) {
  return {
    source: context.config.source,
    dataDir: context.config.dataDir,
    plugins: context.config.plugins.map((plugin) => ({ name: plugin.name, version: plugin.version, options: plugin.options })),
  };
}

/** The job's report: one line for people, the details for machines. */
export function backupJobReport(result: BackupResult): JobReport {
  return {
    summary: describeBackupResult(result),
    id: result.id,
    path: result.path,
    files: result.files,
    bytesWritten: result.bytes,
    durationMs: Math.round(result.durationMs),
    tiers: result.manifest.tiers,
    skippedTiers: result.skippedTiers,
    ...(result.rotation ? { rotation: result.rotation } : {}),
  };
}

export function describeBackupResult(result: BackupResult): string {
  const tiers = result.manifest.tiers.map((tier) => tier.name).join(', ');
  const rotation = result.rotation
    ? `; rotation kept ${result.rotation.kept.length}, removed ${result.rotation.removed.length + result.rotation.removedIncomplete.length}`
    : '';
  return `backup ${result.id}: ${tiers}, ${result.files} file(s), ${formatBytes(result.bytes)} written and verified in ${(result.durationMs / 1_000).toFixed(1)} s${rotation}`;
}

/** Bytes for people, in the CLI's units: `512 B`, `1.5 MB` (1 KB = 1,024 B). */
export function formatBytes(bytes: number): string {
  if (bytes < 1_024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1_024;
  let unit = 0;
  while (value >= 1_024 && unit < units.length - 1) {
    value /= 1_024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** The backup plugin's options as a config sets them (its defaults when the plugin is not configured), with the absolute backups dir. */
export function backupSettingsOf(config: ResolvedConfig): { options: ResolvedBackupOptions; backupsDir: string; configured: boolean } {
  const entry = config.plugins.find((plugin) => plugin.definition.name === backupPlugin.name);
  const options = BackupOptionsSchema.parse(entry?.options ?? {});
  return { options, backupsDir: resolveBackupsDir(config.dataDir, options.dir), configured: entry !== undefined };
}
