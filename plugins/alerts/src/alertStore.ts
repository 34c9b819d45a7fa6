import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { StorageError, StrataError, describeError, type Alert } from '@strata/core';
import Database from 'better-sqlite3';
import type { AlertHistoryEntry, HistoryQuery, NewHistoryEntry, RuleStatus, TrackedAlert } from './alertTypes.js';
import type { DeliveryLedger } from './deliveryPlanner.js';
import { isSilenceActive, type Silence } from './silence.js';

const SCHEMA_VERSION = 1;
const DEFAULT_HISTORY_LIMIT = 100;
const MAX_HISTORY_LIMIT = 10_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS active_alerts (
  fingerprint TEXT PRIMARY KEY,
  rule TEXT NOT NULL,
  alert TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS resolved_alerts (
  fingerprint TEXT PRIMARY KEY,
  rule TEXT NOT NULL,
  resolved_at INTEGER NOT NULL,
  alert TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rule_status (
  rule TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  since INTEGER NOT NULL,
  evaluated_at INTEGER NOT NULL,
  reason TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS delivery_ledger (
  notifier TEXT NOT NULL,
  group_key TEXT NOT NULL,
  group_labels TEXT NOT NULL,
  notified TEXT NOT NULL,
  last_sent_at INTEGER,
  PRIMARY KEY (notifier, group_key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS silences (
  id TEXT PRIMARY KEY,
  matchers TEXT NOT NULL,
  starts_at INTEGER NOT NULL,
  ends_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  comment TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idx_silences_ends_at ON silences (ends_at);
CREATE TABLE IF NOT EXISTS alert_history (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  rule TEXT NOT NULL,
  fingerprint TEXT,
  labels TEXT NOT NULL,
  from_state TEXT,
  to_state TEXT,
  value REAL,
  notifier TEXT,
  outcome TEXT,
  notification_id TEXT,
  message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_alert_history_at ON alert_history (at);
CREATE INDEX IF NOT EXISTS idx_alert_history_rule_at ON alert_history (rule, at);
`;

/** Everything one evaluation changes, written in one transaction. */
export interface EvaluationChanges {
  upsertActive: readonly TrackedAlert[];
  deleteActive: readonly string[];
  upsertResolved: readonly Alert[];
  ruleStatuses: readonly RuleStatus[];
  history: readonly NewHistoryEntry[];
}

interface HistoryRow {
  id: number;
  at: number;
  kind: AlertHistoryEntry['kind'];
  rule: string;
  fingerprint: string | null;
  labels: string;
  from_state: string | null;
  to_state: string | null;
  value: number | null;
  notifier: string | null;
  outcome: AlertHistoryEntry['outcome'];
  notification_id: string | null;
  message: string;
}

interface SilenceRow {
  id: string;
  matchers: string;
  starts_at: number;
  ends_at: number;
  created_at: number;
  created_by: string;
  comment: string;
}

/**
 * The alerts plugin's SQLite file: the alerts being tracked, rule states, what each notifier was
 * told, silences and the history. WAL mode with a busy timeout, so the CLI can add a silence or
 * read history while a server evaluates. Statements are prepared once.
 */
export class AlertStore {
  private readonly db: Database.Database;
  private readonly statements;
  private closed = false;

  private constructor(
    readonly file: string,
    db: Database.Database,
  ) {
    this.db = db;
    this.statements = {
      activeAlerts: db.prepare<[], { alert: string }>('SELECT alert FROM active_alerts ORDER BY rule, fingerprint'),
      upsertActive: db.prepare<[string, string, string]>('INSERT INTO active_alerts (fingerprint, rule, alert) VALUES (?, ?, ?) ON CONFLICT (fingerprint) DO UPDATE SET rule = excluded.rule, alert = excluded.alert'),
      deleteActive: db.prepare<[string]>('DELETE FROM active_alerts WHERE fingerprint = ?'),
      resolvedAlerts: db.prepare<[], { alert: string }>('SELECT alert FROM resolved_alerts'),
      upsertResolved: db.prepare<[string, string, number, string]>(
        'INSERT INTO resolved_alerts (fingerprint, rule, resolved_at, alert) VALUES (?, ?, ?, ?) ON CONFLICT (fingerprint) DO UPDATE SET rule = excluded.rule, resolved_at = excluded.resolved_at, alert = excluded.alert',
      ),
      deleteResolved: db.prepare<[string]>('DELETE FROM resolved_alerts WHERE fingerprint = ?'),
      ruleStatuses: db.prepare<[], { rule: string; state: RuleStatus['state']; since: number; evaluated_at: number; reason: string | null }>('SELECT rule, state, since, evaluated_at, reason FROM rule_status ORDER BY rule'),
      upsertRuleStatus: db.prepare<[string, string, number, number, string | null]>(
        'INSERT INTO rule_status (rule, state, since, evaluated_at, reason) VALUES (?, ?, ?, ?, ?) ON CONFLICT (rule) DO UPDATE SET state = excluded.state, since = excluded.since, evaluated_at = excluded.evaluated_at, reason = excluded.reason',
      ),
      deleteRuleStatus: db.prepare<[string]>('DELETE FROM rule_status WHERE rule = ?'),
      ledgers: db.prepare<[], { notifier: string; group_key: string; group_labels: string; notified: string; last_sent_at: number | null }>('SELECT notifier, group_key, group_labels, notified, last_sent_at FROM delivery_ledger'),
      upsertLedger: db.prepare<[string, string, string, string, number | null]>(
        'INSERT INTO delivery_ledger (notifier, group_key, group_labels, notified, last_sent_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (notifier, group_key) DO UPDATE SET group_labels = excluded.group_labels, notified = excluded.notified, last_sent_at = excluded.last_sent_at',
      ),
      deleteLedger: db.prepare<[string, string]>('DELETE FROM delivery_ledger WHERE notifier = ? AND group_key = ?'),
      insertHistory: db.prepare<[number, string, string, string | null, string, string | null, string | null, number | null, string | null, string | null, string | null, string]>(
        'INSERT INTO alert_history (at, kind, rule, fingerprint, labels, from_state, to_state, value, notifier, outcome, notification_id, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      pruneHistory: db.prepare<[number]>('DELETE FROM alert_history WHERE at < ?'),
      insertSilence: db.prepare<[string, string, number, number, number, string, string]>('INSERT INTO silences (id, matchers, starts_at, ends_at, created_at, created_by, comment) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      silencesEndingAfter: db.prepare<[number], SilenceRow>('SELECT * FROM silences WHERE ends_at > ? ORDER BY starts_at, id'),
      allSilences: db.prepare<[], SilenceRow>('SELECT * FROM silences ORDER BY starts_at, id'),
      silenceById: db.prepare<[string], SilenceRow>('SELECT * FROM silences WHERE id = ?'),
      silencesByPrefix: db.prepare<[string], SilenceRow>("SELECT * FROM silences WHERE id LIKE ? || '%' LIMIT 2"),
      endSilence: db.prepare<[number, string]>('UPDATE silences SET ends_at = ? WHERE id = ?'),
    };
  }

  /** Opens (creating when missing) the store at `file`. */
  static open(file: string, options: { busyTimeoutMs?: number } = {}): AlertStore {
    let db: Database.Database;
    try {
      mkdirSync(dirname(file), { recursive: true });
      db = new Database(file);
    } catch (error) {
      throw new StorageError(`alerts: cannot open ${file} (${describeError(error)}); set the data dir or the alerts plugin's file option to a writable place`, { cause: error });
    }
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5_000}`);
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) {
        throw new StrataError('STRATA_STORAGE_FAILED', `alerts: ${file} has schema ${version}, newer than this @strata/alerts understands (${SCHEMA_VERSION}); upgrade @strata/alerts`);
      }
      db.exec(SCHEMA);
      if (version < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
      return new AlertStore(file, db);
    } catch (error) {
      db.close();
      if (error instanceof StrataError) throw error;
      throw new StorageError(`alerts: cannot prepare ${file}: ${describeError(error)}`, { cause: error });
    }
  }

  activeAlerts(): TrackedAlert[] {
    return this.statements.activeAlerts.all().map((row) => JSON.parse(row.alert) as TrackedAlert);
  }

  resolvedAlerts(): Alert[] {
    return this.statements.resolvedAlerts.all().map((row) => JSON.parse(row.alert) as Alert);
  }

  ruleStatuses(): RuleStatus[] {
    return this.statements.ruleStatuses.all().map((row) => ({ rule: row.rule, state: row.state, since: row.since, evaluatedAt: row.evaluated_at, reason: row.reason }));
  }

  ledgers(): DeliveryLedger[] {
    return this.statements.ledgers.all().map((row) => ({
      notifier: row.notifier,
      groupKey: row.group_key,
      groupLabels: JSON.parse(row.group_labels) as Record<string, string>,
      notified: JSON.parse(row.notified) as Alert[],
      lastSentAt: row.last_sent_at,
    }));
  }

  /** Writes what one evaluation decided, all or nothing. */
  commitEvaluation(changes: EvaluationChanges): void {
    this.check();
    this.db.transaction(() => {
      for (const alert of changes.upsertActive) this.statements.upsertActive.run(alert.fingerprint, alert.rule, JSON.stringify(alert));
      for (const fingerprint of changes.deleteActive) this.statements.deleteActive.run(fingerprint);
      for (const alert of changes.upsertResolved) this.statements.upsertResolved.run(alert.fingerprint, alert.rule, alert.resolvedAt ?? 0, JSON.stringify(alert));
      for (const status of changes.ruleStatuses) this.statements.upsertRuleStatus.run(status.rule, status.state, status.since, status.evaluatedAt, status.reason);
      this.insertHistory(changes.history);
    })();
  }

  /** Records a delivery's outcome: the notifier's ledger for the group moves forward (or is removed) with the history rows. */
  commitDelivery(notifier: string, groupKey: string, ledger: DeliveryLedger | null | undefined, history: readonly NewHistoryEntry[]): void {
    this.check();
    this.db.transaction(() => {
      if (ledger === null) this.statements.deleteLedger.run(notifier, groupKey);
      else if (ledger) this.statements.upsertLedger.run(notifier, groupKey, JSON.stringify(ledger.groupLabels), JSON.stringify(ledger.notified), ledger.lastSentAt);
      this.insertHistory(history);
    })();
  }

  /** Forgets state of rules and resolved alerts no longer needed (a rule removed from the config, a resolve already sent). */
  forget(options: { rules?: readonly string[]; activeAlerts?: readonly string[]; resolvedAlerts?: readonly string[] }): void {
    this.check();
    this.db.transaction(() => {
      for (const rule of options.rules ?? []) this.statements.deleteRuleStatus.run(rule);
      for (const fingerprint of options.activeAlerts ?? []) this.statements.deleteActive.run(fingerprint);
      for (const fingerprint of options.resolvedAlerts ?? []) this.statements.deleteResolved.run(fingerprint);
    })();
  }

  appendHistory(entries: readonly NewHistoryEntry[]): void {
    this.check();
    this.db.transaction(() => this.insertHistory(entries))();
  }

  /** History, newest first. */
  history(query: HistoryQuery = {}): AlertHistoryEntry[] {
    this.check();
    const limit = Math.min(Math.max(1, Math.floor(query.limit ?? DEFAULT_HISTORY_LIMIT)), MAX_HISTORY_LIMIT);
    const conditions: string[] = [];
    const parameters: Array<string | number> = [];
    if (query.rule !== undefined) {
      conditions.push('rule = ?');
      parameters.push(query.rule);
    }
    if (query.since !== undefined) {
      conditions.push('at >= ?');
      parameters.push(query.since);
    }
    // The filters vary per call, so this one statement is prepared per query; it reads an index either way.
    const sql = `SELECT * FROM alert_history${conditions.length ? ` WHERE ${conditions.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT ?`;
    const rows = this.db.prepare<Array<string | number>, HistoryRow>(sql).all(...parameters, limit);
    return rows.map((row) => ({
      id: row.id,
      at: row.at,
      kind: row.kind,
      rule: row.rule,
      fingerprint: row.fingerprint,
      labels: JSON.parse(row.labels) as Record<string, string>,
      from: row.from_state,
      to: row.to_state,
      value: row.value,
      notifier: row.notifier,
      outcome: row.outcome,
      notificationId: row.notification_id,
      message: row.message,
    }));
  }

  /** Deletes history before `before` (epoch ms); returns rows removed. */
  pruneHistory(before: number): number {
    this.check();
    return this.statements.pruneHistory.run(before).changes;
  }

  addSilence(silence: Silence): Silence {
    this.check();
    this.statements.insertSilence.run(silence.id, JSON.stringify(silence.matchers), silence.startsAt, silence.endsAt, silence.createdAt, silence.createdBy, silence.comment);
    return silence;
  }

  /** Silences in force at `now`. */
  activeSilences(now: number): Silence[] {
    this.check();
    return this.statements.silencesEndingAfter.all(now).map(toSilence).filter((silence) => isSilenceActive(silence, now));
  }

  /** Silences that have not ended by `now` (active or scheduled), or every silence ever made with `all`. */
  silences(now: number, options: { all?: boolean } = {}): Silence[] {
    this.check();
    const rows = options.all ? this.statements.allSilences.all() : this.statements.silencesEndingAfter.all(now);
    return rows.map(toSilence);
  }

  /**
   * Ends a silence now (it stays on record). `id` may be a unique prefix of at least 4 characters.
   * Fails with STRATA_NOT_FOUND when no silence, or more than one, has that id.
   */
  expireSilence(id: string, now: number): Silence {
    this.check();
    const exact = this.statements.silenceById.get(id);
    let row = exact;
    if (!row && id.length >= 4 && /^[0-9a-f]+$/i.test(id)) {
      const candidates = this.statements.silencesByPrefix.all(id.toLowerCase());
      if (candidates.length > 1) throw new StrataError('STRATA_NOT_FOUND', `alerts: more than one silence id starts with "${id}"; give more of it`);
      row = candidates[0];
    }
    if (!row) throw new StrataError('STRATA_NOT_FOUND', `alerts: no silence with id "${id}"; list them with \`strata alerts list\``);
    const silence = toSilence(row);
    if (silence.endsAt > now) {
      this.statements.endSilence.run(now, silence.id);
      silence.endsAt = now;
    }
    return silence;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private insertHistory(entries: readonly NewHistoryEntry[]): void {
    for (const entry of entries) {
      this.statements.insertHistory.run(
        entry.at,
        entry.kind,
        entry.rule,
        entry.fingerprint,
        JSON.stringify(entry.labels),
        entry.from,
        entry.to,
        entry.value !== null && Number.isFinite(entry.value) ? entry.value : null,
        entry.notifier,
        entry.outcome,
        entry.notificationId,
        entry.message,
      );
    }
  }

  private check(): void {
    if (this.closed) throw new StorageError(`alerts: ${this.file} is closed`);
  }
}

function toSilence(row: SilenceRow): Silence {
  return {
    id: row.id,
    matchers: JSON.parse(row.matchers) as Silence['matchers'],
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    createdAt: row.created_at,
    createdBy: row.created_by,
    comment: row.comment,
  };
}
