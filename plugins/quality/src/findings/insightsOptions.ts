import { z } from 'zod';

/** 03:45 every day (the host's local time): after the quality run at 03:15, before the working day. */
export const DEFAULT_INSIGHTS_SCHEDULE = '45 3 * * *';

const count = (fallback: number) => z.number().int().min(1).max(1_000_000).default(fallback);
const share = (fallback: number) => z.number().gt(0).lt(1).default(fallback);

/**
 * Thresholds and minimum evidence of the automated insights (README, "Automated insights"). A
 * finding needs every minimum met: no finding comes from a handful of events.
 */
export const InsightsOptionsSchema = z
  .object({
    /** Length of the recent window, in days (the trending convention: 7). */
    recentDays: z.number().int().min(1).max(90).default(7),
    /** Length of the baseline just before it, in days (28). */
    baselineDays: z.number().int().min(1).max(365).default(28),
    /** Where levels are measured (content success, unanswered questions): the last this many days. */
    levelDays: z.number().int().min(1).max(365).default(28),
    /** Smallest z-score of a comparison test for a finding. 3 rather than 2: each run tests every role and item, and at 2 about one steady subject in 40 would be flagged by chance. */
    minZ: z.number().positive().max(50).default(3),
    /** Most findings of one kind per run, strongest first. */
    maxPerKind: z.number().int().min(1).max(1_000).default(20),
    trendingUp: z
      .object({
        /** Smallest trending score (Poisson standard deviations above the question's own history). */
        minScore: z.number().positive().default(4),
        /** Fewest asks in the recent window. */
        minRecentAsks: count(10),
        /** Recent asks must be at least this many times the expected asks. */
        minRatio: z.number().gt(1).default(1.5),
      })
      .strict()
      .prefault({}),
    trendingDown: z
      .object({
        /** Score at or below which a question is falling (the trending score, negative). */
        maxScore: z.number().negative().default(-4),
        /** Fewest asks in the baseline window. */
        minBaselineAsks: count(20),
        /** Recent asks must be at most this share of the expected asks. */
        maxRatio: share(0.5),
      })
      .strict()
      .prefault({}),
    contentSuccess: z
      .object({
        /** Fewest uses of the item in the level window. */
        minUses: count(20),
        /** Success rate of the answers using it at or below which it is low. */
        maxSuccessRate: share(0.5),
      })
      .strict()
      .prefault({}),
    contentRelevance: z
      .object({
        /** Fewest uses reporting a relevance, in each window. */
        minScored: count(10),
        /** Smallest fall of the mean relevance (0–1 scale). */
        minDrop: share(0.15),
      })
      .strict()
      .prefault({}),
    roleSuccess: z
      .object({
        /** Fewest interactions of the role, in each window. */
        minInteractions: count(30),
        /** Smallest fall of the success rate (0.05 = 5 points). */
        minDrop: share(0.05),
      })
      .strict()
      .prefault({}),
    roleRating: z
      .object({
        /** Fewest rated interactions of the role, in each window. */
        minRated: count(20),
        /** Smallest fall of the average rating, in stars. */
        minDrop: z.number().positive().max(4).default(0.3),
      })
      .strict()
      .prefault({}),
    responseTime: z
      .object({
        /** Fewest interactions of the role in the recent window. */
        minRecent: count(50),
        /** Fewest interactions behind the baseline (a warm month, or the hot baseline window). */
        minBaseline: count(100),
        /** Recent p95 must be at least this many times the baseline p95 … */
        minRatio: z.number().gt(1).default(1.5),
        /** … and at least this many seconds longer. */
        minIncreaseSeconds: z.number().min(0).default(0.5),
      })
      .strict()
      .prefault({}),
    unanswered: z
      .object({
        /** Fewest asks of a question in the level window before its success rate counts. */
        minAsks: count(5),
        /** A question answered successfully less often than this is unanswered. */
        maxSuccessRate: share(0.5),
        /** Fewest distinct questions in a cluster. */
        minQuestions: z.number().int().min(2).max(1_000).default(2),
        /** Fewest failed asks in a cluster. */
        minFailedAsks: count(10),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type InsightsOptions = z.input<typeof InsightsOptionsSchema>;
export type ResolvedInsightsOptions = z.output<typeof InsightsOptionsSchema>;
