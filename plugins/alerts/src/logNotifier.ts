import type { Alert, AlertNotification, AlertNotifier } from '@strata/core';

/**
 * Writes each notification to Strata's log (pino): firing critical alerts at `error`, other firing
 * alerts at `warn`, a group that only resolved at `info`. One line per notification, with the
 * alerts as structured fields.
 */
export function createLogNotifier(name = 'log'): AlertNotifier {
  return {
    name,
    // Writing a log line cannot fail in a way a retry fixes.
    delivery: { maxAttempts: 1 },
    async send(notification, context) {
      const level = notification.firing.some((alert) => alert.severity === 'critical') ? 'error' : notification.firing.length > 0 ? 'warn' : 'info';
      context.logger[level](
        {
          notification: notification.id,
          status: notification.status,
          repeat: notification.repeat,
          group: notification.groupLabels,
          firing: notification.firing.map(describeForLog),
          resolved: notification.resolved.map(describeForLog),
        },
        describeNotification(notification),
      );
    },
  };
}

/** One line a person can read: `2 firing (severity="critical"): LowSuccessRate: …; 1 resolved: …`. */
export function describeNotification(notification: AlertNotification): string {
  const parts: string[] = [];
  if (notification.firing.length > 0) {
    parts.push(`${notification.repeat ? 'still ' : ''}${notification.firing.length} firing: ${notification.firing.map((alert) => `${alert.rule}: ${alert.summary}`).join('; ')}`);
  }
  if (notification.resolved.length > 0) parts.push(`${notification.resolved.length} resolved: ${notification.resolved.map((alert) => alert.rule).join(', ')}`);
  return `alerts ${notification.groupKey} ${parts.join(' | ')}`;
}

function describeForLog(alert: Alert): Record<string, unknown> {
  return { rule: alert.rule, severity: alert.severity, value: alert.value, threshold: alert.threshold, labels: alert.labels, summary: alert.summary };
}
