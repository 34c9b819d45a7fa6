import type { ArchivePartition, InteractionArchive } from '@strata/core';
import { CliError, withStrata, writeJson, writeLine, type CommandContext } from './commandContext.js';
import { formatBytes, formatCount, formatTable } from './formatTable.js';

export interface ArchiveListOptions {
  month?: string;
  json?: boolean;
}

export interface ArchiveRestoreCommandOptions {
  month?: string;
  partition?: string[];
  json?: boolean;
}

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

function archiveOf(tier: { archive?: InteractionArchive } | undefined): InteractionArchive {
  if (!tier?.archive) throw new CliError('no cold tier is configured: add "json-archive" to plugins in the config to keep and read archives');
  return tier.archive;
}

/** `strata archive list`: the cold tier's partitions with their rows, sizes and checksums. */
export async function archiveListCommand(context: CommandContext, options: ArchiveListOptions): Promise<number> {
  if (options.month !== undefined && !MONTH.test(options.month)) throw new CliError(`--month must be YYYY-MM, got ${JSON.stringify(options.month)}`);
  const partitions = await withStrata(context, async (strata, scoped) => {
    scoped.authorize('report.read', { archive: 'list' });
    const archive = archiveOf(strata.storage('cold') as { archive?: InteractionArchive } | undefined);
    return archive.listPartitions(options.month ? { month: options.month } : {});
  });
  if (options.json) {
    writeJson(context.io.stdout, { partitions });
    return 0;
  }
  if (partitions.length === 0) {
    writeLine(context.io.stdout, `The archive holds no partition${options.month ? ` for ${options.month}` : ''}.`);
    return 0;
  }
  writeLine(
    context.io.stdout,
    formatTable(
      [{ header: 'partition' }, { header: 'month' }, { header: 'rows', align: 'right' }, { header: 'size', align: 'right' }, { header: 'rows sha-256' }],
      partitions.map((partition: ArchivePartition) => [partition.id, partition.month, formatCount(partition.rows), formatBytes(partition.bytes), `${partition.rowsSha256.slice(0, 16)}…`]),
    ),
  );
  return 0;
}

/** `strata archive restore --month 2026-01`: verified archived rows back into the hot tier, without counting them twice. */
export async function archiveRestoreCommand(context: CommandContext, options: ArchiveRestoreCommandOptions): Promise<number> {
  if (options.month !== undefined && !MONTH.test(options.month)) throw new CliError(`--month must be YYYY-MM, got ${JSON.stringify(options.month)}`);
  if ((options.month === undefined) === (options.partition === undefined)) throw new CliError('give --month YYYY-MM or one or more --partition <id> (see `strata archive list`)');
  const { restoreFromArchive } = await import('@strata/json-archive');
  const report = await withStrata(context, async (strata, scoped) => {
    const target = { ...(options.month ? { month: options.month } : {}), ...(options.partition ? { partitions: options.partition } : {}) };
    scoped.authorize('interactions.write', { archiveRestore: target });
    const archive = archiveOf(strata.storage('cold') as { archive?: InteractionArchive } | undefined);
    const hot = strata.storage('hot')!;
    const result = await restoreFromArchive(archive, hot, target);
    scoped.audit('interactions.write', { archiveRestore: target }, { rows: result.rows, restored: result.restored });
    return result;
  });
  if (options.json) writeJson(context.io.stdout, report);
  else {
    writeLine(
      context.io.stdout,
      `Restored ${formatCount(report.restored)} of ${formatCount(report.rows)} archived interactions into the hot tier from ${report.partitions.length} verified partition(s) (${formatCount(report.alreadyPresent)} were there already). Rollups are unchanged: they never stopped counting these rows.`,
    );
  }
  return 0;
}
