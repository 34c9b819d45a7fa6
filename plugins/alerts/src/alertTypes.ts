import type { Alert } from '@strata/core';

/** A rule's state: the worst state of its alerts, or `no data` when no source reports its metric. */
export type RuleState = 'inactive' | 'pending' | 'firing' | 'no data';

/** An alert being tracked: pending or firing, with the silences that match it now. */
export interface TrackedAlert extends Alert {
  status: 'pending' | 'firing';
  /** Ids of the silences that match the alert; empty when it is not silenced. */
  silencedBy: string[];
}

/** What the plugin knows about one rule after its last evaluation. */
export interface RuleStatus {
  rule: string;
  state: RuleState;
  /** Epoch ms the rule entered this state. */
  since: number;
  evaluatedAt: number;
  /** Why there is no data (`no source reports insights.success_rate`), else null. */
  reason: string | null;
}

/** One step of an alert's life. `inactive` is where alerts start and where a pending one that stops holding goes. */
export interface StateTransition {
  alert: Alert;
  from: 'inactive' | 'pending' | 'firing';
  to: 'pending' | 'firing' | 'inactive' | 'resolved';
}

/**
 * One row of alert history. `state`: a transition (from → to; a rule entering or leaving `no data`
 * has no fingerprint). `silence`: an alert became silenced or not (`to` is `silenced`/`unsilenced`).
 * `notification`: a notification listing the alert was sent, failed, or was suppressed by a silence.
 */
export interface AlertHistoryEntry {
  id: number;
  at: number;
  kind: 'state' | 'silence' | 'notification';
  rule: string;
  fingerprint: string | null;
  labels: Record<string, string>;
  from: string | null;
  to: string | null;
  value: number | null;
  notifier: string | null;
  outcome: 'sent' | 'failed' | 'suppressed' | null;
  notificationId: string | null;
  message: string;
}

export type NewHistoryEntry = Omit<AlertHistoryEntry, 'id'>;

export interface HistoryQuery {
  /** Only this rule's entries. */
  rule?: string;
  /** Only entries at or after this epoch ms. */
  since?: number;
  /** Most entries returned, newest first. Default 100, at most 10,000. */
  limit?: number;
}
