import { isAbsolute, join } from 'node:path';
import { definePlugin } from '@strata/core';
import { z } from 'zod';
import { HistoricalSqliteTier } from './historicalSqliteTier.js';

/** Options of the historical-sqlite plugin (see the README for what each promises). */
export const HistoricalSqliteOptionsSchema = z
  .object({
    /** Database file, relative to the data dir (or absolute). */
    file: z.string().min(1).default('historical_metrics.db'),
    /** NORMAL: an applied source survives a process crash. FULL: it also survives power loss, at a write cost. */
    synchronous: z.enum(['NORMAL', 'FULL']).default('NORMAL'),
    /** How long a write waits for another connection's lock, in ms. */
    busyTimeoutMs: z.number().int().min(0).default(5_000),
  })
  .strict();

export type HistoricalSqliteOptions = z.input<typeof HistoricalSqliteOptionsSchema>;

export const historicalSqlitePlugin = definePlugin({
  name: 'historical-sqlite',
  version: '0.1.0',
  options: HistoricalSqliteOptionsSchema,
  setup(context, options) {
    const file = isAbsolute(options.file) ? options.file : join(context.dataDir, options.file);
    const tier = HistoricalSqliteTier.open({
      file,
      synchronous: options.synchronous,
      busyTimeoutMs: options.busyTimeoutMs,
      now: () => context.clock.now(),
    });
    context.logger.debug({ file }, 'warm tier open');
    return { storage: [tier] };
  },
});
