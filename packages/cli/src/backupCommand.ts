import { resolve } from 'node:path';
import {
  backupSettingsOf,
  configurationOf,
  createBackup,
  describeProblem,
  isBackupId,
  listBackups,
  locateBackup,
  tiersToBackUp,
  verifyBackup,
  type BackupEntry,
  type BackupProgress,
  type BackupResult,
  type VerificationReport,
} from '@strata/backup';
import { loadConfig, type ResolvedConfig } from '@strata/core';
import { catalogFor, withStrata, writeJson, writeLine, type CliOutput, type CommandContext } from './commandContext.js';
import { formatBytes, formatCount, formatDuration, formatPairs, formatTable } from './formatTable.js';
import { SIGNAL_EXIT_CODES, watchInterruption } from './interruption.js';

export interface BackupCommandOptions {
  json?: boolean;
  /** `--no-rotate` sets it to false. */
  rotate?: boolean;
}

export interface BackupVerifyOptions {
  json?: boolean;
}

/**
 * `strata backup`: starts Strata from the config (the backup runs online: a server may keep
 * writing), backs up every tier that supports it, verifies the copy, and rotates old backups as the
 * backup plugin's options say (its defaults when the config does not list it).
 */
export async function backupCommand(context: CommandContext, options: BackupCommandOptions): Promise<number> {
  const { io } = context;
  const interruption = watchInterruption(io);
  const progress = createBackupProgress(io.stderr);
  let result: BackupResult;
  try {
    result = await withStrata(context, async (strata, scoped) => {
      // A backup is a full copy of the data: it needs read and export, like an export of raw rows.
      scoped.authorize('backup.create');
      const settings = backupSettingsOf(strata.config);
      return createBackup({
        tiers: tiersToBackUp((role) => strata.storage(role), settings.options.tiers),
        dataDir: strata.config.dataDir,
        backupsDir: settings.backupsDir,
        configuration: configurationOf(strata.config),
        ...(settings.options.rotate && options.rotate !== false ? { rotate: settings.options.keep } : {}),
        signal: interruption.signal,
        onProgress: (update) => progress.update(update),
      });
    });
  } catch (error) {
    progress.stop();
    if (interruption.received) {
      writeLine(io.stderr, `strata: ${(error as Error).message}`);
      return SIGNAL_EXIT_CODES[interruption.received];
    }
    throw error;
  } finally {
    progress.stop();
    interruption.dispose();
  }
  if (options.json) {
    writeJson(io.stdout, { id: result.id, path: result.path, files: result.files, bytesWritten: result.bytes, durationMs: Math.round(result.durationMs), tiers: result.manifest.tiers, skippedTiers: result.skippedTiers, manifest: result.manifest, rotation: result.rotation ?? null });
    return 0;
  }
  printBackup(io.stdout, result);
  return 0;
}

function printBackup(stdout: CliOutput, result: BackupResult): void {
  writeLine(stdout, `Backup ${result.id} written and verified: ${result.path}`);
  const pairs: Array<[string, string]> = [
    ['tiers', result.manifest.tiers.map((tier) => `${tier.name} (${tier.role})`).join(', ')],
    ...result.skippedTiers.map((tier): [string, string] => ['skipped', `${tier.name} (${tier.role}): ${tier.reason}`]),
    ['files', formatCount(result.files)],
    ['bytes written', formatBytes(result.bytes)],
    ['time taken', formatDuration(result.durationMs)],
  ];
  if (result.rotation) {
    const incomplete = result.rotation.removedIncomplete.length;
    pairs.push(['rotation', `kept ${result.rotation.kept.length}, removed ${result.rotation.removed.length}${incomplete ? ` (and ${incomplete} incomplete)` : ''}`]);
  }
  writeLine(stdout, formatPairs(pairs));
  writeLine(stdout, '');
  writeLine(
    stdout,
    formatTable(
      [{ header: 'file' }, { header: 'size', align: 'right' }, { header: 'check' }, { header: 'tables', align: 'right' }, { header: 'rows', align: 'right' }],
      result.manifest.files.map((file) => {
        const tables = file.sqlite ? Object.values(file.sqlite.tables) : [];
        return [file.path, formatBytes(file.bytes), file.sqlite ? 'integrity ok, sha256' : 'sha256', file.sqlite ? formatCount(tables.length) : '', file.sqlite ? formatCount(tables.reduce((sum, rows) => sum + rows, 0)) : ''];
      }),
    ),
  );
  for (const damaged of result.rotation?.damaged ?? []) {
    writeLine(stdout, `warning: ${damaged.id} is damaged (${damaged.problem}); rotation leaves it in place: inspect it, then delete it`);
  }
}

/** `strata backup list`: every backup with its status, newest last. */
export async function backupListCommand(context: CommandContext, options: BackupVerifyOptions): Promise<number> {
  const { backupsDir } = await backupLocation(context);
  const entries = await listBackups(backupsDir);
  if (options.json) {
    writeJson(context.io.stdout, { backupsDir, backups: entries.map(describeEntry) });
    return 0;
  }
  const { stdout } = context.io;
  if (entries.length === 0) {
    writeLine(stdout, `No backups in ${backupsDir}; take one with \`strata backup\`.`);
    return 0;
  }
  writeLine(stdout, `Backups in ${backupsDir}`);
  writeLine(
    stdout,
    formatTable(
      [{ header: 'backup' }, { header: 'status' }, { header: 'tiers' }, { header: 'files', align: 'right' }, { header: 'size', align: 'right' }, { header: 'note', maxWidth: 80 }],
      entries.map((entry) => [
        entry.id,
        entry.status,
        entry.manifest?.tiers.map((tier) => tier.name).join(', ') ?? '',
        entry.manifest ? formatCount(entry.manifest.totals.files) : '',
        entry.manifest ? formatBytes(entry.manifest.totals.bytes) : '',
        entry.problem ?? '',
      ]),
    ),
  );
  return 0;
}

function describeEntry(entry: BackupEntry) {
  return {
    id: entry.id,
    path: entry.path,
    status: entry.status,
    createdAt: entry.manifest?.createdAtIso ?? null,
    tiers: entry.manifest?.tiers.map((tier) => tier.name) ?? [],
    files: entry.manifest?.totals.files ?? null,
    bytes: entry.manifest?.totals.bytes ?? null,
    problem: entry.problem ?? null,
  };
}

/**
 * `strata backup verify [<backup>]`: checks one backup (an id, a path, or `latest`), or every
 * backup that has a manifest, against its manifest. Exit 1 when any fails, or when there is none.
 */
export async function backupVerifyCommand(context: CommandContext, reference: string | undefined, options: BackupVerifyOptions): Promise<number> {
  const { io } = context;
  const { backupsDir } = await backupLocation(context);
  const entries = reference ? [await locateBackup(backupsDir, backupReference(context, reference))] : (await listBackups(backupsDir)).filter((entry) => entry.status !== 'incomplete');
  if (entries.length === 0) {
    if (options.json) writeJson(io.stdout, { backupsDir, ok: false, backups: [] });
    writeLine(io.stderr, `strata: there is no backup to verify in ${backupsDir}; take one with \`strata backup\``);
    return 1;
  }
  const interruption = watchInterruption(io);
  const progress = createBackupProgress(io.stderr);
  const reports: VerificationReport[] = [];
  try {
    for (const entry of entries) {
      if (interruption.signal.aborted) break;
      reports.push(await verifyBackup(entry, { signal: interruption.signal, onProgress: (update) => progress.update(update) }));
      progress.stop();
    }
  } finally {
    progress.stop();
    interruption.dispose();
  }
  const ok = reports.every((report) => report.ok);
  if (options.json) {
    writeJson(io.stdout, {
      backupsDir,
      ok,
      backups: reports.map((report) => ({ id: report.id, path: report.path, ok: report.ok, files: report.files, bytes: report.bytes, durationMs: Math.round(report.durationMs), problems: report.problems })),
    });
  } else {
    for (const report of reports) {
      writeLine(io.stdout, `${report.ok ? 'ok  ' : 'FAIL'} ${report.id}: ${formatCount(report.files)} file(s), ${formatBytes(report.bytes)} checked in ${formatDuration(report.durationMs)}`);
      for (const problem of report.problems) writeLine(io.stdout, `       ${describeProblem(problem)}`);
    }
    if (!ok) writeLine(io.stdout, 'A backup that fails verification is never restored; restore another one, and check the disk that holds it.');
  }
  if (interruption.received) return SIGNAL_EXIT_CODES[interruption.received];
  return ok ? 0 : 1;
}

/** The data dir and backups dir of the config, read without starting Strata (no database is opened). */
export async function backupLocation(context: CommandContext): Promise<{ config: ResolvedConfig; backupsDir: string }> {
  const config = await loadConfig({ configPath: context.globals.config, cwd: context.io.cwd, dataDir: context.globals.dataDir, catalog: catalogFor(context.io) });
  return { config, backupsDir: backupSettingsOf(config).backupsDir };
}

/** `latest` and ids stay as they are; anything else is a path, relative to the CLI's working directory. */
export function backupReference(context: CommandContext, reference: string): string {
  return reference === 'latest' || isBackupId(reference) ? reference : resolve(context.io.cwd, reference);
}

export interface BackupProgressReporter {
  update(progress: BackupProgress): void;
  stop(): void;
}

const PHASE_LABEL: Record<BackupProgress['phase'], string> = { copy: 'copying', verify: 'verifying', restore: 'restoring' };
const REDRAW_MS = 125;

/**
 * One status line on stderr, redrawn in place, only on a terminal: `copying hot-sqlite: 1.2 GB`
 * (a tier's copy size is not known in advance), `verifying …: 45% (1.2 GB of 2.6 GB)`. Piped output
 * and `--json` never see it.
 */
export function createBackupProgress(output: CliOutput): BackupProgressReporter {
  if (output.isTTY !== true) return { update: () => undefined, stop: () => undefined };
  let drawnAt = 0;
  let drawn = false;
  return {
    update(progress) {
      const now = performance.now();
      const finished = progress.totalBytes !== undefined && progress.bytes >= progress.totalBytes;
      if (now - drawnAt < REDRAW_MS && !finished) return;
      drawnAt = now;
      const amount =
        progress.totalBytes === undefined
          ? formatBytes(progress.bytes)
          : `${Math.floor((progress.bytes / Math.max(progress.totalBytes, 1)) * 100)}% (${formatBytes(progress.bytes)} of ${formatBytes(progress.totalBytes)})`;
      const line = `${PHASE_LABEL[progress.phase]} ${progress.item}: ${amount}`;
      const width = output.columns ?? 80;
      output.write(`\r\x1b[2K${line.length > width - 1 ? `${line.slice(0, width - 2)}…` : line}`);
      drawn = true;
    },
    stop() {
      if (drawn) output.write('\r\x1b[2K');
      drawn = false;
    },
  };
}
