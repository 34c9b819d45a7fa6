import type { ErasureReport } from '@strata/core';
import { withStrata, writeJson, writeLine, type CommandContext } from './commandContext.js';
import { formatCount, formatTable } from './formatTable.js';

export interface EraseCommandOptions {
  session: string;
  json?: boolean;
}

/**
 * Erases one subject (a session) from every tier and the dead-letter files, checks none of it remains, and records the
 * request in the audit log. Exit 0 when verified, 1 when rows were found after erasing.
 */
export async function eraseCommand(context: CommandContext, options: EraseCommandOptions): Promise<number> {
  const report = await withStrata(context, (_strata, scoped) => scoped.erase({ sessionId: options.session }));
  if (options.json) {
    writeJson(context.io.stdout, report);
  } else {
    printErasure(context, report);
  }
  return report.verified ? 0 : 1;
}

function printErasure(context: CommandContext, report: ErasureReport): void {
  const { stdout } = context.io;
  writeLine(stdout, `Erased session (stored as ${report.storedIds.join(', ')}): ${formatCount(report.removed)} row(s) removed`);
  writeLine(
    stdout,
    formatTable(
      [{ header: 'tier' }, { header: 'role' }, { header: 'removed', align: 'right' }, { header: 'remaining', align: 'right' }],
      [
        ...report.tiers.map((tier) => [tier.tier, tier.role, tier.supported ? formatCount(tier.removed) : 'holds no per-session rows', tier.remaining === null ? '-' : formatCount(tier.remaining)]),
        ...(report.deadLetters ? [['dead-letter files', '-', formatCount(report.deadLetters.removed), formatCount(report.deadLetters.remaining)]] : []),
        ...report.participants.map((other) => [other.participant, 'plugin', formatCount(other.removed), formatCount(other.remaining)]),
      ],
    ),
  );
  writeLine(
    stdout,
    report.verified
      ? 'Verified: nothing of the session remains in any tier, dead-letter file or plugin.'
      : 'NOT verified: records of the session remain; run the erasure again and check the row named above.',
  );
}
