import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PermanentError, RetryableError, type Alert, type AlertNotification, type AlertNotifier, type AlertSeverity } from '@strata/core';

export interface IncidentJournalOptions {
  /** Absolute path of the journal (one JSON line per notification). */
  file: string;
  /** Alerts below this severity are left out; a notification with nothing left is skipped. */
  minSeverity: AlertSeverity;
  /** Name the alerts plugin tracks deliveries under. */
  name?: string;
}

/** One line of the journal. */
export interface JournalEntry {
  at: string;
  status: AlertNotification['status'];
  repeat: boolean;
  group: Record<string, string>;
  notification: string;
  firing: Array<{ rule: string; severity: AlertSeverity; summary: string; since: string | null }>;
  resolved: Array<{ rule: string; severity: AlertSeverity; resolvedAt: string | null }>;
}

const RANK: Record<AlertSeverity, number> = { info: 0, warning: 1, critical: 2 };

/**
 * A notifier is an object with a unique `name` and a `send` that resolves once the notification is
 * delivered. This one appends a line to a file an on-call rota reads. It shows the three things a
 * notifier decides: what to keep (here: alerts at or above a severity), how to format it, and
 * which failures are worth a retry (a full disk may clear; a read-only file never will).
 */
export function createIncidentJournalNotifier(options: IncidentJournalOptions): AlertNotifier {
  return {
    name: options.name ?? 'incident-journal',
    // Local file: a retry after a second is plenty; the alerts plugin does the retrying.
    delivery: { maxAttempts: 3, initialBackoffMs: 1_000 },
    async send(notification) {
      const keep = (alert: Alert) => RANK[alert.severity] >= RANK[options.minSeverity];
      const firing = notification.firing.filter(keep);
      const resolved = notification.resolved.filter(keep);
      if (firing.length === 0 && resolved.length === 0) return;
      const entry: JournalEntry = {
        at: new Date(notification.at).toISOString(),
        status: firing.length > 0 ? 'firing' : 'resolved',
        repeat: notification.repeat,
        group: notification.groupLabels,
        notification: notification.id,
        firing: firing.map((alert) => ({ rule: alert.rule, severity: alert.severity, summary: alert.summary, since: iso(alert.firingSince) })),
        resolved: resolved.map((alert) => ({ rule: alert.rule, severity: alert.severity, resolvedAt: iso(alert.resolvedAt) })),
      };
      try {
        await mkdir(dirname(options.file), { recursive: true });
        await appendFile(options.file, `${JSON.stringify(entry)}\n`, 'utf8');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const message = `incident-journal: cannot append to ${options.file} (${code ?? (error as Error).message})`;
        if (code === 'EACCES' || code === 'EROFS' || code === 'EISDIR') throw new PermanentError(`${message}; point file at a writable place`, { cause: error });
        throw new RetryableError(message, { cause: error });
      }
    },
  };
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
