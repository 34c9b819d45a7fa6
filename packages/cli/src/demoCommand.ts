import { once } from 'node:events';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { generateWorkload } from '@strata/testing';
import { CliError, withStrata, writeJson, writeLine, type CommandContext } from './commandContext.js';
import { formatBytes, formatCount } from './formatTable.js';
import { ingestExitCode, ingestInput, openIngestInput, printIngestReport } from './ingestCommand.js';
import { watchInterruption } from './interruption.js';
import { collectInsights, printReport } from './reportCommand.js';

export interface DemoCommandOptions {
  events?: string;
  seed?: string;
  days?: string;
  json?: boolean;
}

const DAY_MS = 86_400_000;

/**
 * Generates a realistic workload, ingests it through exactly the code `strata ingest` uses, and
 * prints the ingest summary and the report: a one-command tour that needs no data of your own.
 */
export async function demoCommand(context: CommandContext, options: DemoCommandOptions): Promise<number> {
  const events = parseWhole(options.events ?? '50000', '--events', 1, 10_000_000);
  const seed = parseWhole(options.seed ?? '1', '--seed', 0, Number.MAX_SAFE_INTEGER);
  const days = parseWhole(options.days ?? '30', '--days', 1, 3_650);
  const { io } = context;
  const json = options.json === true;
  const interruption = watchInterruption(io);
  try {
    return await withStrata(context, async (strata, scoped) => {
      const file = join(strata.config.dataDir, 'demo', 'events.jsonl');
      // Spread over the days up to now, so the default report window shows all of it.
      const bytes = await writeWorkload(file, { events, seed, days, start: Date.now() - days * DAY_MS });
      if (!json) writeLine(io.stdout, `Generated ${formatCount(events)} interactions over ${days} days (seed ${seed}): ${file} (${formatBytes(bytes)})\n`);
      if (interruption.received) return 0;
      const ingest = await ingestInput(strata, scoped, openIngestInput(file, io), io, interruption);
      const exitCode = ingestExitCode(ingest);
      const finished = exitCode === 0 || exitCode === 2;
      const report = finished ? await scoped.report({}) : null;
      const insights = finished && strata.storage('hot')?.insights ? await collectInsights(scoped.insights, {}) : undefined;
      if (json) {
        writeJson(io.stdout, { file, ingest, report, ...(insights ? { insights } : {}) });
        return exitCode;
      }
      printIngestReport(io, ingest, false);
      if (report) {
        writeLine(io.stdout);
        printReport(io, report, false, insights);
      }
      return exitCode;
    });
  } finally {
    interruption.dispose();
  }
}

function parseWhole(text: string, flag: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new CliError(`${flag} must be a whole number from ${min} to ${formatCount(max)}, got ${JSON.stringify(text)}`);
  return value;
}

/** Writes the workload as JSON lines, honouring the stream's back-pressure so memory stays flat. */
async function writeWorkload(file: string, options: { events: number; seed: number; days: number; start: number }): Promise<number> {
  mkdirSync(join(file, '..'), { recursive: true });
  const out = createWriteStream(file, { encoding: 'utf8' });
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => undefined);
  let bytes = 0;
  let chunk = '';
  for (const event of generateWorkload(options)) {
    chunk += `${JSON.stringify(event)}\n`;
    if (chunk.length >= 64 * 1024) {
      bytes += Buffer.byteLength(chunk);
      if (!out.write(chunk)) await Promise.race([once(out, 'drain'), failed]);
      chunk = '';
    }
  }
  bytes += Buffer.byteLength(chunk);
  out.end(chunk);
  await Promise.race([once(out, 'finish'), failed]);
  return bytes;
}
