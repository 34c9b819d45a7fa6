import type { Alert, AlertNotification, AlertSeverity } from '@strata/core';
import { groupOf } from './alertIdentity.js';
import type { TrackedAlert } from './alertTypes.js';
import { snapshot } from './ruleEvaluation.js';
import { silencesMatching, type Silence } from './silence.js';

/**
 * What one notifier was told about one group: the firing alerts it has been notified of (and not
 * yet told resolved) and when it last received a notification for the group. Only a delivered (or
 * permanently refused) notification moves it forward, so a failed one is tried again.
 */
export interface DeliveryLedger {
  notifier: string;
  groupKey: string;
  groupLabels: Record<string, string>;
  notified: Alert[];
  lastSentAt: number | null;
}

/** One decision for one notifier and group. */
export interface PlannedDelivery {
  notifier: string;
  groupKey: string;
  /** What to send; null when the only change is resolves held back by a silence. */
  notification: AlertNotification | null;
  /** Alerts that resolved while silenced: their resolve notice is not sent. */
  suppressed: Alert[];
  /** The ledger once this is delivered (or refused for good); null when nothing is left to track. */
  nextLedger: DeliveryLedger | null;
}

export interface PlanInput {
  notifier: string;
  /** This notifier's ledgers, by group key. */
  ledgers: ReadonlyMap<string, DeliveryLedger>;
  active: readonly TrackedAlert[];
  /** Alerts that resolved and may still owe a resolve notice, by fingerprint. */
  resolved: ReadonlyMap<string, Alert>;
  /** Silences active now. */
  silences: readonly Silence[];
  groupBy: readonly string[];
  repeatIntervalMs: number;
  now: number;
  newId(): string;
}

/**
 * Decides what one notifier must be sent, per group. A group is notified when an alert starts
 * firing in it (new to this notifier), when an alert it was told about resolved, or — unchanged
 * but still firing — once the repeat interval has passed since its last notification. Each
 * notification lists every unsilenced firing alert of the group, so two rules firing together
 * make one notification. Silenced alerts are neither listed nor counted as new; one that was
 * notified and is silenced stays known, so the silence ending does not make it new again.
 */
export function planDeliveries(input: PlanInput): PlannedDelivery[] {
  const activeByFingerprint = new Map(input.active.map((alert) => [alert.fingerprint, alert]));
  const groups = new Map<string, { labels: Record<string, string>; firing: Alert[] }>();
  for (const alert of input.active) {
    if (alert.status !== 'firing' || alert.silencedBy.length > 0) continue;
    const group = groupOf(alert.labels, input.groupBy);
    const entry = groups.get(group.key) ?? { labels: group.labels, firing: [] };
    entry.firing.push(snapshot(alert));
    groups.set(group.key, entry);
  }

  const plans: PlannedDelivery[] = [];
  for (const groupKey of new Set([...groups.keys(), ...input.ledgers.keys()])) {
    const ledger = input.ledgers.get(groupKey);
    const group = groups.get(groupKey);
    const firing = (group?.firing ?? []).sort(byImportance);
    const known = new Set((ledger?.notified ?? []).map((alert) => alert.fingerprint));
    const stillSilenced: Alert[] = [];
    const resolved: Alert[] = [];
    const suppressed: Alert[] = [];
    for (const told of ledger?.notified ?? []) {
      const current = activeByFingerprint.get(told.fingerprint);
      if (current?.status === 'firing') {
        if (current.silencedBy.length > 0) stillSilenced.push(snapshot(current));
        continue;
      }
      const done = input.resolved.get(told.fingerprint) ?? { ...told, status: 'resolved' as const, value: null, resolvedAt: input.now };
      if (silencesMatching(input.silences, done.labels).length > 0) suppressed.push(done);
      else resolved.push(done);
    }
    const newlyFiring = firing.filter((alert) => !known.has(alert.fingerprint));
    const repeatDue = firing.length > 0 && (ledger?.lastSentAt == null || input.now - ledger.lastSentAt >= input.repeatIntervalMs);
    const due = newlyFiring.length > 0 || resolved.length > 0 || repeatDue;
    if (!due && suppressed.length === 0) continue;

    const stillKnown = [...firing, ...stillSilenced];
    const groupLabels = group?.labels ?? ledger!.groupLabels;
    plans.push({
      notifier: input.notifier,
      groupKey,
      notification: due
        ? {
            id: input.newId(),
            status: firing.length > 0 ? 'firing' : 'resolved',
            repeat: newlyFiring.length === 0 && resolved.length === 0,
            groupKey,
            groupLabels,
            firing,
            resolved: resolved.sort(byImportance),
            at: input.now,
          }
        : null,
      suppressed,
      nextLedger:
        stillKnown.length > 0
          ? { notifier: input.notifier, groupKey, groupLabels, notified: stillKnown, lastSentAt: due ? input.now : (ledger?.lastSentAt ?? null) }
          : null,
    });
  }
  return plans;
}

const SEVERITY_RANK: Record<AlertSeverity, number> = { critical: 0, warning: 1, info: 2 };

function byImportance(a: Alert, b: Alert): number {
  return SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || a.rule.localeCompare(b.rule) || a.fingerprint.localeCompare(b.fingerprint);
}
