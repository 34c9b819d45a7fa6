import { ALERT_NOTIFIERS, type AlertNotifier, type Logger } from '@strata/core';
import type { NotifierOptions } from './alertOptions.js';
import { createLogNotifier } from './logNotifier.js';
import { createWebhookNotifier } from './webhookNotifier.js';

export function createConfiguredNotifiers(options: readonly NotifierOptions[]): AlertNotifier[] {
  return options.map((notifier) => (notifier.type === 'log' ? createLogNotifier(notifier.name) : createWebhookNotifier(notifier)));
}

/**
 * The notifiers in force: the configured ones, then those plugins contribute under
 * `extensions.alertNotifiers`. A contribution that is not a notifier, or reuses a name, is skipped
 * with one warning (delivery is tracked per name, so two notifiers cannot share one).
 */
export function notifierRegistry(configured: readonly AlertNotifier[], contributed: () => unknown[], logger: Logger): () => AlertNotifier[] {
  const warned = new Set<string>();
  const warnOnce = (key: string, message: string) => {
    if (warned.has(key)) return;
    warned.add(key);
    logger.warn(message);
  };
  return () => {
    const byName = new Map(configured.map((notifier) => [notifier.name, notifier]));
    for (const [index, candidate] of contributed().entries()) {
      if (!isNotifier(candidate)) {
        warnOnce(`shape:${index}`, `alerts: ignoring ${ALERT_NOTIFIERS}[${index}]: a notifier needs a string name and a send(notification, context) function`);
        continue;
      }
      const existing = byName.get(candidate.name);
      if (existing && existing !== candidate) {
        warnOnce(`name:${candidate.name}`, `alerts: ignoring a contributed notifier named "${candidate.name}": that name is taken; give it another name`);
        continue;
      }
      byName.set(candidate.name, candidate);
    }
    return [...byName.values()];
  };
}

function isNotifier(value: unknown): value is AlertNotifier {
  return typeof value === 'object' && value !== null && typeof (value as AlertNotifier).name === 'string' && (value as AlertNotifier).name !== '' && typeof (value as AlertNotifier).send === 'function';
}
