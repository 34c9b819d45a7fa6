import { validateDetailed } from 'node-cron';
import { z } from 'zod';
import { policyOrderIssues } from './retentionPolicies.js';

/** 02:30 every day (the host's local time): after midnight's traffic, before the working day. */
export const DEFAULT_SCHEDULE = '30 2 * * *';

const days = z.number().int().min(1).max(36_500).nullable();

const PolicyOverrideSchema = z
  .object({
    /** Days an interaction (or sample) stays in detail in the hot tier; `null`: never archived. */
    archiveAfterDays: days.optional(),
    /** Days monthly aggregates stay in the warm tier; `null`: permanent. */
    warmRetentionDays: days.optional(),
    /** Days the data is kept at all, cold archive included; `null`: permanent. */
    retentionDays: days.optional(),
    /** `false` leaves the table alone. */
    cleanupEnabled: z.boolean().optional(),
    /** Stored in `data_retention_policy.description`; generated from the days when they change and this is absent. */
    description: z.string().min(1).max(500).optional(),
  })
  .strict()
  .superRefine((policy, context) => {
    for (const issue of policyOrderIssues(policy, '')) {
      context.addIssue({ code: 'custom', path: [issue.path.slice(1)], message: issue.message });
    }
  });

/** Options of the retention plugin. */
export const RetentionOptionsSchema = z
  .object({
    /**
     * node-cron expression of the daily archival run, in the host's local time; `false` runs it only
     * when asked (`strata jobs run retention`, `strata.runJob('retention')`).
     */
    schedule: z
      .union([z.string(), z.literal(false)])
      .default(DEFAULT_SCHEDULE)
      .superRefine((schedule, context) => {
        if (schedule === false) return;
        const checked = validateDetailed(schedule);
        if (!checked.valid) {
          const why = checked.errors.map((error) => error.message).join('; ');
          context.addIssue({ code: 'custom', message: `"${schedule}" is not a cron expression (${why}); use five fields such as "${DEFAULT_SCHEDULE}" (02:30 daily), or false to run only on demand` });
        }
      }),
    /** Per-table overrides of the policies stored in `data_retention_policy`. */
    policies: z
      .object({
        user_interactions: PolicyOverrideSchema.optional(),
        session_analytics: PolicyOverrideSchema.optional(),
        system_performance: PolicyOverrideSchema.optional(),
        /** Not configurable: present only to explain why. */
        rollup_day: z
          .unknown()
          .optional()
          .superRefine((value, context) => {
            if (value === undefined) return;
            context.addIssue({ code: 'custom', message: 'business metrics (the daily rollups) are kept permanently and retention never deletes them; remove this entry' });
          }),
      })
      .strict()
      .default({}),
    /** Rows per read from a tier and per delete from the hot tier: each is one short transaction. */
    batchSize: z.number().int().min(100).max(100_000).default(5_000),
    /**
     * Most rows in one archive partition. A month larger than this is archived as several partitions;
     * the ids of one partition are held in memory until it is settled (about 80 bytes a row).
     */
    partitionRows: z.number().int().min(1_000).max(10_000_000).default(250_000),
    /** Where the JSON archival reports go, relative to the data dir (or absolute). */
    reportDir: z.string().min(1).default('reports'),
  })
  .strict();

export type RetentionOptions = z.input<typeof RetentionOptionsSchema>;
export type ResolvedRetentionOptions = z.output<typeof RetentionOptionsSchema>;
