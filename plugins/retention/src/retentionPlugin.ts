import { isAbsolute, join } from 'node:path';
import { definePlugin, type Job } from '@strata/core';
import { resolveArchivalTiers, type ArchivalTiers } from './archivalTiers.js';
import { RetentionOptionsSchema } from './retentionOptions.js';
import { runRetention } from './retentionRun.js';

/** Directory of the journal and the lock, under the data dir. */
export const RETENTION_STATE_DIR = 'retention';

/**
 * Retention: applies the per-table policies and runs the plan's daily archival as the job
 * `retention` (hot → warm aggregates + cold archive, verified, then deleted from hot; expiry of
 * warm and cold data past their horizons; a JSON report per run).
 *
 * It needs a hot tier that deletes by event id, a warm tier with monthly aggregates
 * (historical-sqlite) and a cold tier with an archive (json-archive). They are looked up when
 * Strata starts, after every plugin was set up, so their order in the config does not matter; a
 * missing one fails the start with a message naming the plugin to add.
 */
export const retentionPlugin = definePlugin({
  name: 'retention',
  version: '0.1.0',
  options: RetentionOptionsSchema,
  setup(context, options) {
    let tiers: ArchivalTiers | undefined;
    const reportDir = isAbsolute(options.reportDir) ? options.reportDir : join(context.dataDir, options.reportDir);
    const job: Job = {
      name: 'retention',
      description: 'archive hot interactions past their policy into cold partitions and warm monthly aggregates (verified before deleting), expire warm and cold data, write a report',
      ...(options.schedule === false ? {} : { schedule: options.schedule }),
      run: (jobContext) => {
        tiers ??= resolveArchivalTiers((role) => context.storage(role));
        return runRetention(
          tiers,
          {
            policies: options.policies,
            batchSize: options.batchSize,
            partitionRows: options.partitionRows,
            stateDir: join(context.dataDir, RETENTION_STATE_DIR),
            reportDir,
          },
          jobContext,
        );
      },
    };
    return {
      jobs: [job],
      start() {
        tiers = resolveArchivalTiers((role) => context.storage(role));
      },
    };
  },
});
