import { defineConfig } from '@strata/core';
import { alertsPlugin } from '@strata/alerts';
import { backupPlugin } from '@strata/backup';
import { cachePlugin } from '@strata/cache';
import { exportersPlugin } from '@strata/exporters';
import { historicalSqlitePlugin } from '@strata/historical-sqlite';
import { hotSqlitePlugin } from '@strata/hot-sqlite';
import { jsonArchivePlugin } from '@strata/json-archive';
import { privacyPlugin } from '@strata/privacy';
import { qualityPlugin } from '@strata/quality';
import { retentionPlugin } from '@strata/retention';

// Alerts go to the log; set STRATA_ALERT_WEBHOOK_URL to have them POSTed to a webhook as well.
const alertWebhook = process.env.STRATA_ALERT_WEBHOOK_URL;

/**
 * Everything on one machine, in one process: three tiers in SQLite files and gzip archives under
 * ./data/single-machine, the daily jobs run by the process itself (retention 02:30, backup 03:00,
 * quality 03:15), alerts on the plan's thresholds, an insights cache in memory, and a rolling
 * JSONL copy of every committed batch for a log shipper.
 */
export default defineConfig({
  dataDir: './data/single-machine',
  plugins: [
    // Hot tier: the last 90 days of raw interactions and the rollups every dashboard reads.
    hotSqlitePlugin({ synchronous: 'NORMAL' }),
    // Pseudonyms for session ids, IPs and user agents, PII scrubbed from queries, before anything is
    // stored. The key comes from STRATA_PRIVACY_KEY, else ~/.config/strata/privacy.key (created once).
    privacyPlugin(),
    // Warm tier: monthly aggregates, kept 2 years. Cold tier: raw rows as gzip JSONL by month, 3 years.
    historicalSqlitePlugin(),
    jsonArchivePlugin({ gzipLevel: 6 }),
    // Moves hot → warm + cold (copy, verify, then delete) under the plan's per-table policies.
    retentionPlugin({ schedule: '30 2 * * *' }),
    // Verified online backups beside the data; point `dir` at another disk to survive losing this one.
    backupPlugin({ schedule: '0 3 * * *', keep: { last: 3, daily: 7, weekly: 4, monthly: 6 } }),
    qualityPlugin({
      schedule: '15 3 * * *',
      rules: [
        { name: 'answers-within-a-minute', rule: 'responseTime < 60', failRate: 0.001 },
        { name: 'ratings-in-range', rule: 'userRating is null or (userRating >= 1 and userRating <= 5)' },
      ],
    }),
    alertsPlugin({
      preset: 'plan',
      notifiers: [{ type: 'log' }, ...(alertWebhook ? [{ type: 'webhook' as const, url: alertWebhook }] : [])],
    }),
    cachePlugin({ store: 'memory', ttls: { commonQuestions: '2m' } }),
    exportersPlugin({ sink: { rotateEvery: '1h', gzip: true, maxFiles: 168 } }),
  ],
});
