/** What a finding is about. Each kind is one rule with its own thresholds (README, "Automated insights"). */
export const FINDING_KINDS = [
  'question-trending-up',
  'question-trending-down',
  'content-low-success',
  'content-relevance-falling',
  'role-success-dropped',
  'role-rating-dropped',
  'response-time-regression',
  'unanswered-cluster',
] as const;

export type FindingKind = (typeof FINDING_KINDS)[number];

export type FindingSeverity = 'info' | 'warning';

/** The time a finding looked at, epoch ms, half-open. */
export interface FindingWindow {
  /** The period the finding describes: the recent week, or the level window for levels. */
  from: number;
  to: number;
  /** The period it was compared with, when it is a comparison. */
  baseline?: { from: number; to: number };
}

/** One thing a person can act on, with the figures behind it. */
export interface Finding {
  kind: FindingKind;
  severity: FindingSeverity;
  /** What it is about: a question's text, `type:id` of a content item, a role, a cluster's token. */
  subject: string;
  /** One sentence with the numbers, saying what to look at. */
  summary: string;
  /** The figures the rule decided on (asks, rates, z-scores, seconds…). */
  numbers: Record<string, number>;
  /** Named facts that are not numbers: a question's hash, a baseline's source, a cluster's questions. */
  details: Record<string, string | string[]>;
  window: FindingWindow;
}

/** A rule that could not run this time (its question is not answered by the tier, a read failed), and why. */
export interface SkippedRule {
  rule: string;
  reason: string;
}

export function isFindingKind(value: string): value is FindingKind {
  return (FINDING_KINDS as readonly string[]).includes(value);
}
