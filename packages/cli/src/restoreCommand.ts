import { restoreBackup, type RestoreReport } from '@strata/backup';
import { authorizeOffline, writeJson, writeLine, type CliOutput, type CommandContext } from './commandContext.js';
import { backupLocation, backupReference, createBackupProgress } from './backupCommand.js';
import { formatBytes, formatCount, formatDuration, formatPairs } from './formatTable.js';
import { SIGNAL_EXIT_CODES, watchInterruption } from './interruption.js';

export interface RestoreCommandOptions {
  json?: boolean;
}

/**
 * `strata restore <backup>`: puts a backup (an id, a path, or `latest`) back into the config's data
 * dir. Never starts Strata: it refuses while any process has the databases open, verifies the whole
 * backup first and refuses a corrupt one (naming the file and the check), and sets the current files
 * aside instead of deleting them.
 */
export async function restoreCommand(context: CommandContext, reference: string, options: RestoreCommandOptions): Promise<number> {
  const { io } = context;
  const { config, backupsDir } = await backupLocation(context);
  // Restore replaces the data, so it is checked without starting Strata (which would hold the files).
  await authorizeOffline(context, config, 'backup.restore', { backup: reference });
  const interruption = watchInterruption(io);
  const progress = createBackupProgress(io.stderr);
  let report: RestoreReport;
  try {
    report = await restoreBackup({
      backup: backupReference(context, reference),
      backupsDir,
      dataDir: config.dataDir,
      signal: interruption.signal,
      onProgress: (update) => progress.update(update),
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
    writeJson(io.stdout, { ...report, durationMs: Math.round(report.durationMs), dataDir: config.dataDir });
    return 0;
  }
  printRestore(io.stdout, report, config.dataDir);
  return 0;
}

function printRestore(stdout: CliOutput, report: RestoreReport, dataDir: string): void {
  writeLine(stdout, `Restored backup ${report.id} (taken ${new Date(report.createdAt).toISOString()}) into ${dataDir}`);
  for (const file of report.restored) {
    const rows = file.tables ? `, ${formatCount(Object.values(file.tables).reduce((sum, count) => sum + count, 0))} rows in ${formatCount(Object.keys(file.tables).length)} tables` : '';
    writeLine(stdout, `  ${file.restoreTo} (${formatBytes(file.bytes)}${rows})`);
    for (const aside of file.setAside) writeLine(stdout, `    previous file kept as ${aside}`);
  }
  for (const removed of report.removed) writeLine(stdout, `  removed the stale ${removed}`);
  writeLine(stdout, formatPairs([
    ['bytes restored', formatBytes(report.bytes)],
    ['time taken', formatDuration(report.durationMs)],
  ]));
  if (report.configFiles.length > 0) {
    writeLine(stdout, `The configuration in force at backup time is in ${report.configFiles.join(', ')}; it was not applied: compare it with yours.`);
  }
  writeLine(stdout, 'Start Strata again to use the restored data. Delete the .pre-restore files once you no longer need them.');
}
