import { isAbsolute, join } from 'node:path';
import { definePlugin } from '@strata/core';
import { z } from 'zod';
import { DEFAULT_GZIP_LEVEL, DEFAULT_LOCK_TIMEOUT_MS } from './jsonArchive.js';
import { JsonArchiveTier } from './jsonArchiveTier.js';

const gzipLevelRule = 'must be an integer from 1 (fastest) to 9 (smallest)';
const lockTimeoutRule = 'must be a whole number of milliseconds (0 or more)';

/** Options of the json-archive plugin (the README's table explains each). */
export const JsonArchiveOptionsSchema = z
  .object({
    /** Archive directory, relative to the data dir (or absolute). */
    dir: z.string({ error: 'must be a path (relative to the data dir, or absolute)' }).min(1, { error: 'must not be empty' }).default('archive'),
    /** Gzip level of partition files: 1 is fastest, 9 smallest. 6 stores realistic events at about 9 % of their JSONL size. */
    gzipLevel: z
      .number({ error: gzipLevelRule })
      .int({ error: gzipLevelRule })
      .min(1, { error: gzipLevelRule })
      .max(9, { error: gzipLevelRule })
      .default(DEFAULT_GZIP_LEVEL),
    /** How long a change waits for another process holding the archive lock, in ms. */
    lockTimeoutMs: z
      .number({ error: lockTimeoutRule })
      .int({ error: lockTimeoutRule })
      .min(0, { error: lockTimeoutRule })
      .default(DEFAULT_LOCK_TIMEOUT_MS),
  })
  .strict();

export type JsonArchiveOptionsInput = z.input<typeof JsonArchiveOptionsSchema>;

export const jsonArchivePlugin = definePlugin({
  name: 'json-archive',
  version: '0.1.0',
  options: JsonArchiveOptionsSchema,
  async setup(context, options) {
    const dir = isAbsolute(options.dir) ? options.dir : join(context.dataDir, options.dir);
    const tier = await JsonArchiveTier.open({
      dir,
      gzipLevel: options.gzipLevel,
      lockTimeoutMs: options.lockTimeoutMs,
      now: () => context.clock.now(),
    });
    const { removedTempFiles, removedOrphans, skipped, unreadableMonths } = tier.archive.recovery;
    if (removedTempFiles.length > 0 || removedOrphans.length > 0) {
      context.logger.warn({ dir, removedTempFiles, removedOrphans }, 'removed files an interrupted archive write left behind (none was committed)');
    }
    if (unreadableMonths.length > 0) context.logger.error({ dir, unreadableMonths }, 'archive manifests could not be read; restore them from a backup');
    if (skipped) context.logger.debug({ dir, skipped }, 'archive recovery skipped');
    context.logger.debug({ dir }, 'cold archive open');
    return { storage: [tier] };
  },
});
