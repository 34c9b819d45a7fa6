import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Kpi, StrataStatus } from '@strata/core';
import { withStrata, writeJson, writeLine, type CommandContext } from './commandContext.js';
import { formatBytes, formatCount, formatPairs, formatTable } from './formatTable.js';

export interface StatusCommandOptions {
  json?: boolean;
}

export interface DeadLetterFile {
  file: string;
  lines: number;
  bytes: number;
}

/** What `strata status --json` prints. */
export interface StatusReport extends StrataStatus {
  /** Interactions in the hot tier. */
  interactions: number;
  deadLetterFiles: DeadLetterFile[];
  /** The plan's KPIs, computed now. */
  kpis: Kpi[];
}

export async function statusCommand(context: CommandContext, options: StatusCommandOptions): Promise<number> {
  const report = await withStrata(context, async (strata, scoped): Promise<StatusReport> => {
    const status = await scoped.status();
    const hot = strata.storage('hot');
    const interactions = hot ? await hot.countInteractions() : 0;
    return { ...status, interactions, deadLetterFiles: await listDeadLetterFiles(status.deadLetterDir), kpis: await strata.kpis() };
  });
  const { stdout } = context.io;
  if (options.json) {
    writeJson(stdout, report);
    return report.tiers.every((tier) => tier.health.ok) ? 0 : 1;
  }
  writeLine(
    stdout,
    formatPairs(
      [
        ['data dir', report.dataDir],
        ['config', report.configSource ?? 'none (embedded default)'],
        ['plugins', report.plugins.join(', ') || 'none'],
        ['interactions', formatCount(report.interactions)],
      ],
      '',
    ),
  );
  writeLine(stdout, '');
  writeLine(stdout, 'KPIs (the plan\'s targets)');
  writeLine(
    stdout,
    formatTable(
      [{ header: 'kpi' }, { header: 'value', align: 'right' }, { header: 'target' }, { header: 'status' }, { header: 'how it was measured', maxWidth: 90 }],
      report.kpis.map((kpi) => [
        kpi.name.replaceAll('_', ' '),
        kpi.value === null ? '-' : `${kpi.value} ${kpi.unit}`,
        `${kpi.target.better === 'below' ? '<' : kpi.target.better === 'above' ? '>' : '≥'} ${kpi.target.value} ${kpi.unit}`,
        kpi.status === 'ok' ? 'ok' : kpi.status === 'breach' ? 'BREACH' : 'unknown',
        kpi.detail,
      ]),
    ),
  );
  writeLine(stdout, '');
  writeLine(stdout, 'Storage tiers');
  for (const tier of report.tiers) {
    writeLine(stdout, `  ${tier.name} (${tier.role}): ${tier.health.ok ? 'ok' : `FAIL: ${tier.health.problem ?? 'unhealthy'}`}`);
    const details = Object.entries(tier.health.details).map(([key, value]) => [key, describeValue(value)] as const);
    if (details.length > 0) writeLine(stdout, formatPairs(details, '    '));
  }
  writeLine(stdout, '');
  if (report.deadLetterFiles.length === 0) {
    writeLine(stdout, `Dead letters: none (${report.deadLetterDir})`);
  } else {
    const total = report.deadLetterFiles.reduce((sum, file) => sum + file.lines, 0);
    writeLine(stdout, `Dead letters: ${formatCount(total)} in ${report.deadLetterDir}`);
    writeLine(
      stdout,
      formatTable(
        [{ header: 'file' }, { header: 'entries', align: 'right' }, { header: 'size', align: 'right' }],
        report.deadLetterFiles.map((file) => [file.file, formatCount(file.lines), formatBytes(file.bytes)]),
      ),
    );
  }
  return report.tiers.every((tier) => tier.health.ok) ? 0 : 1;
}

function describeValue(value: unknown): string {
  if (typeof value === 'number') return formatCount(value);
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/** Dead-letter files, oldest first, with their entry counts (one JSON line each), counted by streaming. */
export async function listDeadLetterFiles(directory: string): Promise<DeadLetterFile[]> {
  let names: string[];
  try {
    names = (await readdir(directory)).filter((name) => name.endsWith('.jsonl')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const files: DeadLetterFile[] = [];
  for (const name of names) {
    const path = join(directory, name);
    const { size } = await stat(path);
    files.push({ file: name, lines: await countLines(path), bytes: size });
  }
  return files;
}

async function countLines(path: string): Promise<number> {
  let lines = 0;
  for await (const chunk of createReadStream(path)) {
    const buffer = chunk as Buffer;
    for (let index = buffer.indexOf(10); index !== -1; index = buffer.indexOf(10, index + 1)) lines += 1;
  }
  return lines;
}
