import { isAbsolute, join } from 'node:path';
import { definePlugin } from '@strata/core';
import { z } from 'zod';
import { DEFAULT_GROUP_COMMIT_EVENTS, HotSqliteTier } from './hotSqliteTier.js';

/** Options of the hot-sqlite plugin (see the README for what each durability mode promises). */
export const HotSqliteOptionsSchema = z
  .object({
    /** Database file, relative to the data dir. */
    file: z.string().min(1).default('comprehensive_metrics.db'),
    /** NORMAL: a committed batch survives a process crash. FULL: it also survives power loss, at a write cost. */
    synchronous: z.enum(['NORMAL', 'FULL']).default('NORMAL'),
    /** How long a write waits for another connection's lock, in ms. */
    busyTimeoutMs: z.number().int().min(0).default(5_000),
    /** SQLite page cache, in MiB. */
    cacheSizeMb: z.number().int().min(1).max(4_096).default(32),
    /** A session counts as converted once it has this many queries or reaches this conversation turn. */
    conversionDepth: z.number().int().min(1).max(1_000).default(3),
    /** `thread`: batches are written on a worker thread, so the host's event loop never waits for SQLite. `inline`: on the caller's thread. */
    writer: z.enum(['thread', 'inline']).default('thread'),
    /** Writer thread: batches queued behind each other are committed together, up to this many events per transaction. */
    groupCommitEvents: z.number().int().min(1).max(1_000_000).default(DEFAULT_GROUP_COMMIT_EVENTS),
  })
  .strict();

export type HotSqliteOptions = z.input<typeof HotSqliteOptionsSchema>;

export const hotSqlitePlugin = definePlugin({
  name: 'hot-sqlite',
  version: '0.1.0',
  options: HotSqliteOptionsSchema,
  setup(context, options) {
    const file = isAbsolute(options.file) ? options.file : join(context.dataDir, options.file);
    const tier = HotSqliteTier.open({
      file,
      synchronous: options.synchronous,
      busyTimeoutMs: options.busyTimeoutMs,
      cacheSizeMb: options.cacheSizeMb,
      conversionDepth: options.conversionDepth,
      writer: options.writer,
      groupCommitEvents: options.groupCommitEvents,
      now: () => context.clock.now(),
    });
    context.logger.debug({ file }, 'hot tier open');
    return { storage: [tier] };
  },
});
