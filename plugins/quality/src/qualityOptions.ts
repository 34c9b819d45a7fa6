import { parseDuration } from '@strata/core';
import { z } from 'zod';
import { DEFAULT_INSIGHTS_SCHEDULE, InsightsOptionsSchema } from './findings/insightsOptions.js';
import { RuleSyntaxError } from './qualityErrors.js';
import { parseRule } from './ruleLanguage.js';

/** 03:15 every day (the host's local time): after retention's 02:30 run, before the working day. */
export const DEFAULT_QUALITY_SCHEDULE = '15 3 * * *';

const HOUR_MS = 3_600_000;

/** A duration such as `24h`, `7d`, `90m`, checked and turned into milliseconds. */
const duration = (min: number, max: number, example: string) =>
  z.string().transform((text, context) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      context.addIssue({ code: 'custom', message: `expected a duration such as ${example}, got ${JSON.stringify(text)}` });
      return z.NEVER;
    }
    if (ms < min || ms > max) {
      context.addIssue({ code: 'custom', message: `must be between ${describeMs(min)} and ${describeMs(max)}, got ${text}` });
      return z.NEVER;
    }
    return ms;
  });

/** A share of rows, from 0 to 1. */
const rate = z.number().min(0).max(1);
const enabled = z.boolean().default(true);

const CompletenessOptionsSchema = z
  .object({
    enabled,
    /** A required field null or blank in more than this share of the window's rows warns. */
    warnRate: rate.default(0),
    /** … and in more than this share fails (the plan's < 0.1 % error rate). */
    failRate: rate.default(0.001),
    /** Ceilings of the null rate of optional fields; above one, the check warns. Unlisted fields are only measured. */
    optionalFields: z
      .object({ responseLength: rate.optional(), userRating: rate.optional(), ipHash: rate.optional(), userAgentHash: rate.optional() })
      .strict()
      .default({}),
  })
  .strict()
  .refine((options) => options.warnRate <= options.failRate, { message: 'warnRate must not exceed failRate', path: ['warnRate'] });

const UniquenessOptionsSchema = z
  .object({
    enabled,
    /** Share of the window's rows repeating a question already asked in the same session and turn above which it warns. */
    warnRate: rate.default(0),
    /** … and above which it fails. A repeated event id always fails: ingest is idempotent by event id. */
    failRate: rate.default(0.01),
  })
  .strict()
  .refine((options) => options.warnRate <= options.failRate, { message: 'warnRate must not exceed failRate', path: ['warnRate'] });

const FreshnessOptionsSchema = z
  .object({
    enabled,
    /** Newest event older than this warns. */
    warnAfter: duration(60_000, 365 * 24 * HOUR_MS, '6h').default(6 * HOUR_MS),
    /** Newest event older than this fails. */
    failAfter: duration(60_000, 365 * 24 * HOUR_MS, '24h').default(24 * HOUR_MS),
  })
  .strict()
  .refine((options) => options.warnAfter <= options.failAfter, { message: 'warnAfter must not be longer than failAfter', path: ['warnAfter'] });

const VolumeOptionsSchema = z
  .object({
    enabled,
    /** Which past hours an hour is compared with: the same weekday and hour, or the same hour of earlier days. */
    seasonality: z.enum(['hour-of-week', 'hour-of-day']).default('hour-of-week'),
    /** How many past periods (weeks or days) form the baseline. */
    baselinePeriods: z.number().int().min(2).max(52).default(8),
    /** Fewest past periods with data before an hour is scored; until then the check is skipped. */
    minHistory: z.number().int().min(2).max(52).default(4),
    /** |robust z-score| at or above this warns (Iglewicz and Hoaglin's outlier cut-off). */
    warnScore: z.number().positive().default(3.5),
    /** |robust z-score| at or above this fails. */
    failScore: z.number().positive().default(5),
  })
  .strict()
  .refine((options) => options.minHistory <= options.baselinePeriods, { message: 'minHistory must not exceed baselinePeriods', path: ['minHistory'] })
  .refine((options) => options.warnScore <= options.failScore, { message: 'warnScore must not exceed failScore', path: ['warnScore'] });

const SchemaOptionsSchema = z
  .object({
    enabled,
    /** Tables other plugins or people added to the hot database on purpose; they are not reported as unknown. */
    ignoreTables: z.array(z.string().min(1)).default([]),
  })
  .strict();

const RuleOptionsSchema = z
  .object({
    /** Names the rule in reports and metrics (`rule:<name>`, `quality.rule_violation_rate{rule=<name>}`). */
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'use 1–64 letters, digits, _, . or -, starting with a letter or digit'),
    /** The condition every interaction must meet, in the rule language (README), e.g. `responseTime < 60`. */
    rule: z.string(),
    /** What the rule protects, shown in reports. */
    description: z.string().max(500).optional(),
    /** Share of the window's rows violating the rule above which it warns. */
    warnRate: rate.default(0),
    /** … and above which it fails. */
    failRate: rate.default(0.01),
  })
  .strict()
  .superRefine((options, context) => {
    try {
      parseRule(options.name, options.rule);
    } catch (error) {
      if (!(error instanceof RuleSyntaxError)) throw error;
      context.addIssue({ code: 'custom', path: ['rule'], message: error.message });
    }
    if (options.warnRate > options.failRate) context.addIssue({ code: 'custom', path: ['warnRate'], message: 'warnRate must not exceed failRate' });
  });

/** Options of the quality plugin (every field has a default; see the README's table). */
export const QualityOptionsSchema = z
  .object({
    /** node-cron expression of the daily run, in the host's local time; `false` runs it only when asked. */
    schedule: z.union([z.string().min(1), z.literal(false)]).default(DEFAULT_QUALITY_SCHEDULE),
    /** node-cron expression of the daily insights run (job `insights`); `false` runs it only when asked. */
    insightsSchedule: z.union([z.string().min(1), z.literal(false)]).default(DEFAULT_INSIGHTS_SCHEDULE),
    /** Thresholds and minimum evidence of the automated insights (README, "Automated insights"). */
    insights: InsightsOptionsSchema.prefault({}),
    /** The history database, relative to the data dir (or absolute). */
    file: z.string().min(1).default('quality.db'),
    /** How far back checks over raw rows look: `[now − window, now)`. */
    window: duration(HOUR_MS, 366 * 24 * HOUR_MS, '24h').default(24 * HOUR_MS),
    /** Runs older than this many days are removed from the history after each run. */
    historyDays: z.number().int().min(1).max(36_500).default(365),
    /** How long a read or a history write waits on another connection's lock, in ms. */
    busyTimeoutMs: z.number().int().min(0).max(600_000).default(5_000),
    completeness: CompletenessOptionsSchema.prefault({}),
    uniqueness: UniquenessOptionsSchema.prefault({}),
    consistency: z.object({ enabled }).strict().prefault({}),
    freshness: FreshnessOptionsSchema.prefault({}),
    volume: VolumeOptionsSchema.prefault({}),
    schema: SchemaOptionsSchema.prefault({}),
    /** Business rules from config, each a check of its own. */
    rules: z
      .array(RuleOptionsSchema)
      .default([])
      .superRefine((rules, context) => {
        const seen = new Set<string>();
        rules.forEach((rule, index) => {
          if (seen.has(rule.name)) context.addIssue({ code: 'custom', path: [index, 'name'], message: `two rules are named "${rule.name}"; names must be unique` });
          seen.add(rule.name);
        });
      }),
  })
  .strict();

export type QualityOptions = z.input<typeof QualityOptionsSchema>;
export type ResolvedQualityOptions = z.output<typeof QualityOptionsSchema>;
export type BusinessRuleOptions = ResolvedQualityOptions['rules'][number];

function describeMs(ms: number): string {
  if (ms % (24 * HOUR_MS) === 0) return `${ms / (24 * HOUR_MS)}d`;
  if (ms % HOUR_MS === 0) return `${ms / HOUR_MS}h`;
  return `${ms / 60_000}m`;
}
