import { defineConfig } from '@strata/core';
import { alertsPlugin } from '@strata/alerts';
import { cachePlugin } from '@strata/cache';
import { hotPostgresPlugin } from '@strata/hot-postgres';
import { privacyPlugin } from '@strata/privacy';

// The servers every assistant process shares; the defaults are a local development setup.
const postgresUrl = process.env.STRATA_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const postgresSchema = process.env.STRATA_PG_SCHEMA ?? 'strata';
const redisUrl = process.env.STRATA_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Many assistant processes sharing one dataset: the hot tier in PostgreSQL (jobs take a lock there,
 * so each runs in one process at a time) and the insights cache in Redis (an answer computed by one
 * process serves them all). The application code is the same as on one machine. The data dir keeps
 * what stays per process: the alerts state, the audit log and the dead letters.
 */
export default defineConfig({
  dataDir: './data/postgres-redis',
  plugins: [
    hotPostgresPlugin({ connectionString: postgresUrl, schema: postgresSchema }),
    // Every process must pseudonymise with the same key: set STRATA_PRIVACY_KEY on all of them.
    privacyPlugin(),
    // One key prefix per dataset: processes sharing answers must use the same one.
    cachePlugin({ store: 'redis', redis: { url: redisUrl, keyPrefix: `strata:${postgresSchema}:` } }),
    alertsPlugin({ preset: 'plan', notifiers: [{ type: 'log' }] }),
    // quality is left out: its checks read hot-sqlite only for now, and it refuses to start over
    // another hot tier (see @strata/quality). Add qualityPlugin() here once it reads PostgreSQL.
  ],
});
