import { z } from 'zod';
import { cronExpressionProblem } from './cronExpression.js';

/** How many backups rotation keeps; a backup kept by any rule stays. The newest complete backup always stays. */
export const KeepPolicySchema = z
  .object({
    /** The newest N backups, whenever they were taken. */
    last: z.number().int().min(0).max(1_000).default(3),
    /** The newest backup of each of the last N days (UTC) that have one. */
    daily: z.number().int().min(0).max(10_000).default(7),
    /** The newest backup of each of the last N ISO weeks (UTC) that have one. */
    weekly: z.number().int().min(0).max(1_000).default(4),
    /** The newest backup of each of the last N months (UTC) that have one. */
    monthly: z.number().int().min(0).max(1_000).default(6),
  })
  .strict();

export type KeepPolicy = z.output<typeof KeepPolicySchema>;

const ROLES = ['hot', 'warm', 'cold'] as const;

/** Options of the backup plugin (see the README's options table). */
export const BackupOptionsSchema = z
  .object({
    /** Where backups are kept: relative to the data dir, or absolute. Put it on another disk to survive the loss of the data disk. */
    dir: z.string().min(1).default('backups'),
    /**
     * When the `backup` job runs (cron, server local time); `null` runs it only on demand
     * (`strata backup`, `strata jobs run backup`). Default 03:00 daily.
     */
    schedule: z
      .string()
      .min(1)
      .nullable()
      .default('0 3 * * *')
      .superRefine((value, context) => {
        if (value === null) return;
        const problem = cronExpressionProblem(value);
        if (problem) context.addIssue({ code: 'custom', message: `"${value}" is not a cron expression: ${problem}` });
      }),
    /** Which tiers to back up, by role. Tiers without a `backup` method are listed as skipped. */
    tiers: z
      .array(z.enum(ROLES))
      .min(1)
      .default([...ROLES])
      .refine((roles) => new Set(roles).size === roles.length, { message: 'lists a role twice' }),
    /** Delete backups the `keep` policy no longer selects, after each successful backup. */
    rotate: z.boolean().default(true),
    keep: KeepPolicySchema.prefault({}),
  })
  .strict();

export type BackupOptions = z.input<typeof BackupOptionsSchema>;
export type ResolvedBackupOptions = z.output<typeof BackupOptionsSchema>;
