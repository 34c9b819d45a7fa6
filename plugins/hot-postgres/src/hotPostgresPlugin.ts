import { ConfigError, definePlugin } from '@strata/core';
import { z } from 'zod';
import { HotPostgresTier } from './hotPostgresTier.js';
import { SCHEMA_NAME_PATTERN } from './sqlNames.js';

/** The environment variable read when `connectionString` is not set in the options. */
export const CONNECTION_STRING_ENV = 'STRATA_PG_URL';

/** Options of the hot-postgres plugin (see the README for the guarantees behind each). */
export const HotPostgresOptionsSchema = z
  .object({
    /**
     * `postgres://user:password@host:5432/database`. Absent: read from STRATA_PG_URL, so the secret
     * can stay out of the config file. One of the two is required: there is no default server.
     */
    connectionString: z.string().min(1).optional(),
    /** Schema holding the tier's tables; created on first open. Several deployments can share a database with different schemas. */
    schema: z
      .string()
      .regex(SCHEMA_NAME_PATTERN, { error: 'must be lower-case letters, digits and underscores, starting with a letter or underscore (at most 63)' })
      .default('strata'),
    /** Most pooled connections this process opens (plus one per running job lock). */
    poolSize: z.number().int().min(1).max(1_000).default(10),
    /** Longest one statement may run, in ms; 0 disables. Migrations and partition maintenance lift it for themselves. */
    statementTimeoutMs: z.number().int().min(0).default(30_000),
    /** How long to wait for a connection to the server, in ms. */
    connectTimeoutMs: z.number().int().min(1).default(10_000),
    /** A session counts as converted once it has this many queries or reaches this conversation turn. */
    conversionDepth: z.number().int().min(1).max(1_000).default(3),
    /** Monthly partitions of user_interactions created ahead of the current month when the tier opens. */
    partitionMonthsAhead: z.number().int().min(0).max(36).default(2),
  })
  .strict();

export type HotPostgresOptions = z.input<typeof HotPostgresOptionsSchema>;

export const hotPostgresPlugin = definePlugin({
  name: 'hot-postgres',
  version: '0.1.0',
  options: HotPostgresOptionsSchema,
  async setup(context, options) {
    const connectionString = options.connectionString ?? process.env[CONNECTION_STRING_ENV];
    if (!connectionString) {
      throw new ConfigError([
        {
          path: 'connectionString',
          message: `is required: set it in the hot-postgres options or set ${CONNECTION_STRING_ENV} (e.g. postgres://strata:secret@db.internal:5432/analytics)`,
        },
      ]);
    }
    const tier = await HotPostgresTier.open({
      connectionString,
      schema: options.schema,
      poolSize: options.poolSize,
      statementTimeoutMs: options.statementTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs,
      conversionDepth: options.conversionDepth,
      partitionMonthsAhead: options.partitionMonthsAhead,
      now: () => context.clock.now(),
      onError: (error) => context.logger.warn({ err: error.message }, 'hot-postgres: an idle connection failed; the pool opens a new one on the next query'),
    });
    context.logger.debug({ schema: options.schema }, 'hot tier open');
    return { storage: [tier], jobLock: tier.jobLock() };
  },
});
