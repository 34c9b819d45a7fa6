import { parseDuration } from '@strata/core';
import { z } from 'zod';
import { LABEL_NAME_PATTERN } from './labelMatcher.js';
import { checkSummaryTemplate } from './summaryTemplate.js';

/** A duration written as text (`30s`, `5m`, `4h`, `90d`), kept as text and parsed when rules are compiled. */
function duration(minimumMs: number, example: string) {
  return z.string().refine(
    (text) => {
      const ms = parseDuration(text);
      return ms !== undefined && ms >= minimumMs;
    },
    {
      error: (issue) => {
        const ms = typeof issue.input === 'string' ? parseDuration(issue.input) : undefined;
        return ms === undefined
          ? `expected a duration such as ${example}, got ${JSON.stringify(issue.input)}`
          : `must be at least ${minimumMs} ms, got ${JSON.stringify(issue.input)}`;
      },
    },
  );
}

const labelName = z.string().regex(LABEL_NAME_PATTERN, { error: (issue) => `${JSON.stringify(issue.input)} is not a label name (letters, digits and _, not starting with a digit)` });
const labelSet = z.record(labelName, z.string());

/** Labels the plugin sets on every alert itself. */
export const RESERVED_LABELS = ['alertname', 'severity'] as const;

/** One alert rule, as in a config file. Unknown keys are errors, so a typo (`treshold`) is caught. */
export const AlertRuleSchema = z
  .object({
    /** Unique among the rules; becomes the `alertname` label. */
    name: z.string().min(1).max(200),
    /** The metric's name as a source reports it (`insights.success_rate`). */
    metric: z.string().regex(/^[A-Za-z_][A-Za-z0-9_.:-]*$/, { error: (issue) => `${JSON.stringify(issue.input)} is not a metric name (such as insights.success_rate)` }),
    /** Only readings whose labels equal these values. */
    match: labelSet.optional(),
    op: z.enum(['>', '>=', '<', '<=', '==', '!='], { error: (issue) => `expected one of >, >=, <, <=, ==, !=, got ${JSON.stringify(issue.input)}` }),
    threshold: z.number().refine(Number.isFinite, { error: 'must be a finite number' }),
    /** How long the condition must hold before the alert fires. */
    for: duration(0, '30s, 5m or 1h').default('0s'),
    severity: z.enum(['critical', 'warning', 'info'], { error: (issue) => `expected critical, warning or info, got ${JSON.stringify(issue.input)}` }).default('warning'),
    /** Labels added to the alert; `alertname` and `severity` are set by the plugin. */
    labels: labelSet
      .refine((labels) => !RESERVED_LABELS.some((name) => name in labels), {
        error: `must not set ${RESERVED_LABELS.join(' or ')}: the plugin sets them from the rule's name and severity`,
      })
      .optional(),
    summary: z
      .string()
      .min(1)
      .max(1_000)
      .superRefine((template, context) => {
        const problem = checkSummaryTemplate(template);
        if (problem) context.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
  })
  .strict();

export type AlertRuleInput = z.input<typeof AlertRuleSchema>;
export type AlertRuleOptions = z.output<typeof AlertRuleSchema>;

const deliveryFields = {
  /** Attempts per notification, the first included. */
  maxAttempts: z.number().int().min(1).max(20).optional(),
  /** How long one attempt may take. */
  timeout: duration(1, '5s or 500ms').optional(),
  /** Delay after the first failed attempt; doubles per attempt up to `maxBackoff`. */
  initialBackoff: duration(0, '1s or 500ms').optional(),
  maxBackoff: duration(0, '30s or 1m').optional(),
};

export const LogNotifierSchema = z
  .object({
    type: z.literal('log'),
    /** Name the notifier's deliveries are tracked and recorded under. */
    name: z.string().min(1).max(100).default('log'),
  })
  .strict();

export const WebhookNotifierSchema = z
  .object({
    type: z.literal('webhook'),
    name: z.string().min(1).max(100).default('webhook'),
    /** Receives each notification as a JSON POST. */
    url: z
      .url({ protocol: /^https?$/, error: (issue) => `expected an http:// or https:// URL, got ${JSON.stringify(issue.input)}` })
      // fetch refuses URLs with credentials; saying so now beats a webhook that fails at every alert.
      .refine((url) => !/^https?:\/\/[^/]*@/i.test(url), { error: 'must not hold a user or password; send credentials in headers (such as authorization)' }),
    /** Extra request headers, such as `Authorization`. */
    headers: z.record(z.string().min(1), z.string()).default({}),
    ...deliveryFields,
  })
  .strict();

export const NotifierOptionsSchema = z.discriminatedUnion('type', [LogNotifierSchema, WebhookNotifierSchema]);
export type NotifierOptions = z.output<typeof NotifierOptionsSchema>;
export type WebhookNotifierOptions = z.output<typeof WebhookNotifierSchema>;

export const AlertsOptionsSchema = z
  .object({
    /** SQLite file holding alert state, deliveries, silences and history, relative to the data dir. */
    file: z.string().min(1).default('alerts.db'),
    /** Rules shipped with the plugin: `plan` (the data-management plan's thresholds) or `none`. */
    preset: z.enum(['plan', 'none']).default('plan'),
    /** Your rules; one named like a preset rule replaces it. */
    rules: z.array(AlertRuleSchema).default([]),
    /** How often rules are evaluated. */
    evaluationInterval: duration(1_000, '30s or 1m').default('30s'),
    /** Alerts sharing the values of these labels go out in one notification. */
    groupBy: z.array(labelName).default(['severity']),
    /** A group that still fires is notified again after this long. */
    repeatInterval: duration(1_000, '4h or 30m').default('4h'),
    /** Built-in notifiers; plugins may contribute more. */
    notifiers: z.array(NotifierOptionsSchema).default([{ type: 'log', name: 'log' }]),
    /** Retry policy for notifiers that set none of their own (contributed ones, log). */
    delivery: z
      .object(deliveryFields)
      .strict()
      .default({}),
    /** How long one metric source may take to answer before its metrics count as missing. */
    sourceTimeout: duration(1, '10s').default('10s'),
    /** History older than this is deleted. */
    historyRetention: duration(60_000, '90d or 30d').default('90d'),
  })
  .strict()
  .superRefine((options, context) => {
    const seenRules = new Map<string, number>();
    for (const [index, rule] of options.rules.entries()) {
      const earlier = seenRules.get(rule.name);
      if (earlier !== undefined) context.addIssue({ code: 'custom', path: ['rules', index, 'name'], message: `"${rule.name}" is already the name of rules[${earlier}]; rule names must be unique` });
      else seenRules.set(rule.name, index);
    }
    const seenNotifiers = new Map<string, number>();
    for (const [index, notifier] of options.notifiers.entries()) {
      const earlier = seenNotifiers.get(notifier.name);
      if (earlier !== undefined) {
        context.addIssue({ code: 'custom', path: ['notifiers', index, 'name'], message: `"${notifier.name}" is already the name of notifiers[${earlier}]; give each notifier its own name` });
      } else seenNotifiers.set(notifier.name, index);
    }
  });

export type AlertsOptions = z.input<typeof AlertsOptionsSchema>;
export type ResolvedAlertsOptions = z.output<typeof AlertsOptionsSchema>;
