import { PluginRegistry, createLogger, loadConfig, resolveConfig, systemClock, type ResolvedConfig, type StorageTier } from '@strata/core';
import { CliError, authorizeOffline, catalogFor, writeJson, writeLine, type CommandContext } from './commandContext.js';
import { formatCount } from './formatTable.js';
import { SIGNAL_EXIT_CODES, watchInterruption } from './interruption.js';
import { migrateTier, type TierMigrationReport } from './tierMigration.js';

export interface MigrateTierOptions {
  from: string;
  to: string;
  fromOptions?: string;
  toOptions?: string;
  batch?: string;
  resume?: boolean;
  json?: boolean;
}

/**
 * `strata migrate-tier --from hot-sqlite --to hot-postgres`: copies the hot tier into another
 * backend and verifies counts and checksums. Each side's options come from the config file's entry
 * for that plugin (the usual case: the config already names the new tier), else `--from-options` /
 * `--to-options` as JSON, else the plugin's defaults. Run it before switching traffic.
 */
export async function migrateTierCommand(context: CommandContext, options: MigrateTierOptions): Promise<number> {
  const { io, globals } = context;
  if (options.from === options.to) throw new CliError(`--from and --to name the same plugin (${options.from}); name the tier you are leaving and the one you are moving to`);
  const batchSize = options.batch === undefined ? 5_000 : Number(options.batch);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) throw new CliError(`--batch must be a whole number from 1 to 100000, got ${JSON.stringify(options.batch)}`);
  const config = await loadConfig({ configPath: globals.config, cwd: io.cwd, dataDir: globals.dataDir, catalog: catalogFor(io) });
  // Moving data between backends reads all of it and writes it again: an admin's task.
  await authorizeOffline(context, config, 'backup.restore', { migrateTier: { from: options.from, to: options.to } });

  const source = await openTier(context, config, options.from, parseOptions(options.fromOptions, '--from-options'));
  let target: OpenedTier | undefined;
  const interruption = watchInterruption(io);
  let report: TierMigrationReport;
  try {
    target = await openTier(context, config, options.to, parseOptions(options.toOptions, '--to-options'));
    let lastShown = 0;
    report = await migrateTier(source.tier, target.tier, {
      batchSize,
      resume: options.resume === true,
      signal: interruption.signal,
      onProgress: (copied, total) => {
        if (io.stderr.isTTY && (copied - lastShown >= 50_000 || copied === total)) {
          lastShown = copied;
          io.stderr.write(`\rmigrate-tier: ${formatCount(copied)} of ${formatCount(total)} rows copied`);
          if (copied === total) io.stderr.write('\n');
        }
      },
    });
  } catch (error) {
    if (interruption.received) {
      writeLine(io.stderr, `strata: migration interrupted; the rows copied so far are in ${options.to}. Run again with --resume to finish.`);
      return SIGNAL_EXIT_CODES[interruption.received];
    }
    throw error;
  } finally {
    interruption.dispose();
    await target?.close();
    await source.close();
  }
  if (options.json) writeJson(io.stdout, { ...report, durationMs: Math.round(report.durationMs) });
  else {
    writeLine(io.stdout, `Copied ${formatCount(report.rows)} interactions from ${report.from} to ${report.to} (${formatCount(report.written)} written, ${formatCount(report.alreadyThere)} already there) in ${(report.durationMs / 1000).toFixed(1)} s.`);
    writeLine(
      io.stdout,
      report.verified
        ? `Verified: both tiers hold the same ${formatCount(report.rows)} rows (checksum ${report.source.fingerprint.slice(0, 16)}…). Switch the config to ${report.to} and restart.`
        : `NOT verified: ${report.from} has ${formatCount(report.source.rows)} rows (checksum ${report.source.fingerprint.slice(0, 16)}…), ${report.to} has ${formatCount(report.target.rows)} (${report.target.fingerprint.slice(0, 16)}…). Did something write to either tier meanwhile? Stop writers and run again with --resume.`,
    );
    writeLine(io.stdout, `Rollups in ${report.to} are rebuilt from the copied rows; rows already archived out of ${report.from} are counted by the warm tier, not copied.`);
  }
  return report.verified ? 0 : 1;
}

interface OpenedTier {
  tier: StorageTier;
  close(): Promise<void>;
}

function parseOptions(text: string | undefined, flag: string): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CliError(`${flag} must be a JSON object of the plugin's options, e.g. '{"file":"old.db"}': ${(error as Error).message}`);
  }
}

/** Starts one plugin on its own (its options from the flag, else the config's entry, else defaults) and returns its hot tier. */
async function openTier(context: CommandContext, config: ResolvedConfig, name: string, flagOptions: unknown): Promise<OpenedTier> {
  const configured = config.plugins.find((plugin) => plugin.definition.name === name);
  const spec = flagOptions !== undefined ? { name, options: flagOptions } : configured ? { name, options: configured.options } : name;
  const resolved = await resolveConfig({ plugins: [spec] }, { source: config.source, cwd: context.io.cwd, dataDir: config.dataDir, catalog: catalogFor(context.io) });
  const registry = new PluginRegistry(resolved.plugins, { logger: createLogger('warn'), dataDir: config.dataDir, clock: systemClock, limits: config.limits, configSource: config.source });
  await registry.start();
  const tier = registry.storage('hot');
  if (!tier) {
    await registry.stop(config.shutdownTimeoutMs);
    throw new CliError(`${name} provides no hot tier; migrate-tier moves a hot tier (hot-sqlite, hot-postgres)`);
  }
  return { tier, close: () => registry.stop(config.shutdownTimeoutMs) };
}
