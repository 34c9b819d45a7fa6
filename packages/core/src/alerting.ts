import type { Logger } from 'pino';

/**
 * The public shape of alerting, for anyone writing a notifier: the alerts plugin (`@strata/alerts`)
 * evaluates rules and decides what to send; a notifier only delivers. A plugin contributes
 * notifiers under `extensions: { [ALERT_NOTIFIERS]: [notifier] }`.
 */
export const ALERT_NOTIFIERS = 'alertNotifiers';

export type AlertSeverity = 'critical' | 'warning' | 'info';

/** How a rule compares a metric's value with its threshold. */
export type AlertComparison = '>' | '>=' | '<' | '<=' | '==' | '!=';

/**
 * A rule as written in a config file. `for` is how long the condition must hold before the alert
 * fires (`'5m'`); until then the alert is pending.
 */
export interface AlertRuleConfig {
  /** Unique among the rules; becomes the `alertname` label. */
  name: string;
  /** Name of a metric some source reports (`insights.success_rate`, `system.database_size_mb`). */
  metric: string;
  /** Only readings whose labels equal these values (`{ check: 'freshness' }`). */
  match?: Record<string, string>;
  op: AlertComparison;
  threshold: number;
  /** Duration such as `30s`, `5m`, `1h`. Default `0s`: fire on the first evaluation that sees the condition. */
  for?: string;
  /** Default `warning`. */
  severity?: AlertSeverity;
  /** Labels added to the alert (routing, grouping, silences). */
  labels?: Record<string, string>;
  /** One line for people: `{{value}}`, `{{threshold}}`, `{{op}}`, `{{metric}}`, `{{rule}}`, `{{severity}}`, `{{for}}`, `{{labels.<name>}}`; `{{value|percent}}` shows a ratio as a percentage. */
  summary?: string;
}

/** Where an alert stands. Pending: the condition holds, for less than the rule's `for`. */
export type AlertStatus = 'pending' | 'firing' | 'resolved';

/** One alert: a rule applied to one series (one set of reading labels). */
export interface Alert {
  /** Stable identity: a hash of the labels (which include `alertname`). */
  fingerprint: string;
  rule: string;
  metric: string;
  status: AlertStatus;
  severity: AlertSeverity;
  /** The reading's labels, the rule's labels, `alertname` and `severity`. */
  labels: Record<string, string>;
  summary: string;
  /** The last value evaluated (for a resolved alert: the value that resolved it, or null when its data stopped). */
  value: number | null;
  op: AlertComparison;
  threshold: number;
  /** Epoch ms the condition started to hold. */
  activeSince: number;
  /** Epoch ms it started firing; null while pending. */
  firingSince: number | null;
  /** Epoch ms it resolved; null unless resolved. */
  resolvedAt: number | null;
}

/**
 * One message for one group of alerts. Alerts are grouped by the plugin's `groupBy` labels; a
 * group is notified when an alert starts firing in it or resolves, and again after the repeat
 * interval while any still fires.
 */
export interface AlertNotification {
  /** Unique per notification; the same id is used for every retry of it (receivers can deduplicate). */
  id: string;
  /** `firing` while any alert of the group fires, `resolved` once none does. */
  status: 'firing' | 'resolved';
  /** True when nothing changed and the notification repeats a firing group after the repeat interval. */
  repeat: boolean;
  /** `severity="critical"`-style key of the group's labels. */
  groupKey: string;
  /** The values of the `groupBy` labels shared by the group's alerts. */
  groupLabels: Record<string, string>;
  /** Every alert of the group that fires and is not silenced. */
  firing: Alert[];
  /** Alerts of the group that resolved since the last notification; each is sent resolved exactly once. */
  resolved: Alert[];
  /** Epoch ms the notification was decided. */
  at: number;
}

export interface AlertNotifierContext {
  /** Aborted when the attempt times out or Strata stops; pass it to network calls. */
  signal: AbortSignal;
  /** The alerts plugin's logger, bound to `{ notifier: name }`. */
  logger: Logger;
  /** 1 for the first attempt at this notification. */
  attempt: number;
}

/** How the alerts plugin retries a notifier; each field overrides the plugin's default. */
export interface NotifierDeliveryOptions {
  /** Attempts per notification, the first included. */
  maxAttempts?: number;
  /** How long one `send` may take before it is aborted and counts as a retryable failure. */
  timeoutMs?: number;
  /** Delay after the first failure; doubles per attempt up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * Delivers notifications somewhere (a log, a webhook, a chat). `send` resolves once delivered;
 * throw `RetryableError` (optionally with `retryAfterMs`) when a later attempt may succeed and
 * `PermanentError` when none can (a 4xx). Any other error counts as retryable. A notification that
 * failed every attempt is tried again at the next evaluation; one that failed permanently is not.
 */
export interface AlertNotifier {
  /** Unique among notifiers: delivery is tracked per notifier name. */
  readonly name: string;
  readonly delivery?: NotifierDeliveryOptions;
  send(notification: AlertNotification, context: AlertNotifierContext): Promise<void>;
}
