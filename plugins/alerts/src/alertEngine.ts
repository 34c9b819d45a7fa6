import { randomUUID } from 'node:crypto';
import { StrataError, type Alert, type AlertNotification, type AlertNotifier, type Clock, type Logger, type MetricSource } from '@strata/core';
import { formatLabels } from './formatLabels.js';
import type { AlertStore } from './alertStore.js';
import type { NewHistoryEntry, RuleStatus, TrackedAlert } from './alertTypes.js';
import type { CompiledRule } from './compiledRule.js';
import { planDeliveries, type DeliveryLedger, type PlannedDelivery } from './deliveryPlanner.js';
import { MetricReader, type MetricSnapshot } from './metricReader.js';
import { deliverNotification, policyFor, type DeliveryPolicy, type Sleep } from './notificationDelivery.js';
import { evaluateRule, type RuleInput } from './ruleEvaluation.js';
import { silencesMatching, type Silence } from './silence.js';
import { formatNumber } from './summaryTemplate.js';

export interface AlertEngineOptions {
  rules: readonly CompiledRule[];
  store: AlertStore;
  sources: () => MetricSource[];
  /** Read at every evaluation, so notifiers contributed by plugins are picked up as they start. */
  notifiers: () => AlertNotifier[];
  clock: Clock;
  logger: Logger;
  groupBy: readonly string[];
  repeatIntervalMs: number;
  sourceTimeoutMs: number;
  historyRetentionMs: number;
  deliveryDefaults: DeliveryPolicy;
  sleep?: Sleep;
}

/** What happened to one notification. `refused`: the notifier rejected it for good and it is not retried. */
export interface DeliveryReport {
  notifier: string;
  notificationId: string;
  groupKey: string;
  status: AlertNotification['status'];
  repeat: boolean;
  firing: number;
  resolved: number;
  outcome: 'sent' | 'failed' | 'refused';
  attempts: number;
  error?: string;
}

/** What one evaluation committed, and its deliveries (already started). */
interface Evaluation {
  now: number;
  ruleStatuses: RuleStatus[];
  deliveries: Promise<DeliveryReport[]>;
}

export interface EvaluationReport {
  summary: string;
  evaluatedAt: number;
  rules: RuleStatus[];
  firing: number;
  pending: number;
  silenced: number;
  /** Deliveries finished during this evaluation (empty when it did not wait for them). */
  notifications: DeliveryReport[];
  [detail: string]: unknown;
}

/**
 * Evaluates every rule against every metric source, keeps alert state (in memory and in the
 * store, so a restart resumes where it was), and hands notifications to notifiers. Evaluations run
 * one at a time. Deliveries run per notifier, one plan after another, beside evaluations: a slow
 * webhook never delays evaluation or the other notifiers, and a notifier still busy is planned for
 * again at the next evaluation after it finished.
 */
export class AlertEngine {
  private readonly active = new Map<string, TrackedAlert>();
  private readonly resolved = new Map<string, Alert>();
  private readonly statuses = new Map<string, RuleStatus>();
  private readonly ledgers = new Map<string, Map<string, DeliveryLedger>>();
  private readonly warnedNoData = new Set<string>();
  private readonly busy = new Map<string, Promise<DeliveryReport[]>>();
  private readonly reader: MetricReader;
  private readonly controller = new AbortController();
  private queue: Promise<unknown> = Promise.resolve();
  private running = 0;
  private stopped = false;

  constructor(private readonly options: AlertEngineOptions) {
    this.reader = new MetricReader(options.sources, options.sourceTimeoutMs, options.logger);
    this.load();
  }

  /** True while an evaluation runs or waits to run. */
  get evaluating(): boolean {
    return this.running > 0;
  }

  /**
   * Evaluates every rule now. With `waitForDelivery` (the default) it first lets earlier deliveries
   * finish and then waits for the ones it starts, so the report lists them; the periodic loop does
   * not wait.
   */
  evaluate(options: { signal?: AbortSignal; waitForDelivery?: boolean } = {}): Promise<EvaluationReport> {
    if (this.stopped) return Promise.reject(new StrataError('STRATA_CLOSED', 'alerts: the plugin is stopped; evaluate with a running Strata'));
    const waitForDelivery = options.waitForDelivery ?? true;
    this.running += 1;
    // Only the evaluation itself (reading metrics, committing state) goes through the queue that
    // flush() waits on; waiting for deliveries happens outside it, so a webhook that hangs never
    // holds up strata.flush() or shutdown, whoever started the evaluation.
    const start = (): Promise<Evaluation> => {
      const evaluation = this.queue.then(() => this.evaluateNow(options.signal));
      this.queue = evaluation.then(
        () => undefined,
        () => undefined,
      );
      return evaluation;
    };
    const run = (async () => {
      const evaluation = waitForDelivery ? untilAborted(Promise.allSettled(this.busy.values()), this.signalFor(options.signal)).then(start) : start();
      const { now, ruleStatuses, deliveries } = await evaluation;
      return this.report(now, ruleStatuses, waitForDelivery ? await deliveries : []);
    })().finally(() => (this.running -= 1));
    return run;
  }

  private signalFor(callerSignal: AbortSignal | undefined): AbortSignal {
    return callerSignal ? AbortSignal.any([this.controller.signal, callerSignal]) : this.controller.signal;
  }

  /**
   * Waits for the running evaluation, so its state is in the store. Deliveries in flight are not
   * waited for: a webhook retrying for a minute must not hold up `strata.flush()` or shutdown, and
   * what they have not delivered is sent again after a restart.
   */
  async flush(): Promise<void> {
    await this.queue;
  }

  /** Waits for the running evaluation and every delivery in flight. */
  async idle(): Promise<void> {
    await this.queue;
    await Promise.allSettled(this.busy.values());
  }

  /** Aborts deliveries in flight (they are tried again after a restart) and waits for everything to settle. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.controller.abort(new StrataError('STRATA_CLOSED', 'alerts: Strata is stopping'));
    await this.idle();
  }

  /**
   * Reads the state from the store. Done at every evaluation, not only at start: the store is the
   * truth, so a manual evaluation from another process (`strata jobs run alerts`) is seen here.
   */
  private load(): void {
    const { store, rules, logger } = this.options;
    this.active.clear();
    this.resolved.clear();
    this.statuses.clear();
    this.ledgers.clear();
    const known = new Set(rules.map((rule) => rule.name));
    const forgottenActive: string[] = [];
    const forgottenResolved: string[] = [];
    for (const alert of store.activeAlerts()) {
      if (known.has(alert.rule)) this.active.set(alert.fingerprint, alert);
      else forgottenActive.push(alert.fingerprint);
    }
    for (const alert of store.resolvedAlerts()) {
      if (known.has(alert.rule)) this.resolved.set(alert.fingerprint, alert);
      else forgottenResolved.push(alert.fingerprint);
    }
    const forgottenRules = store.ruleStatuses().flatMap((status) => {
      if (known.has(status.rule)) {
        this.statuses.set(status.rule, status);
        return [];
      }
      return [status.rule];
    });
    store.forget({ rules: forgottenRules, activeAlerts: forgottenActive, resolvedAlerts: forgottenResolved });
    for (const ledger of store.ledgers()) {
      // A rule removed from the config owes no resolve notice: nothing says its condition ended.
      const notified = ledger.notified.filter((alert) => known.has(alert.rule));
      const kept = notified.length > 0 ? { ...ledger, notified } : null;
      if (notified.length !== ledger.notified.length) store.commitDelivery(ledger.notifier, ledger.groupKey, kept, []);
      if (kept) this.ledgersOf(ledger.notifier).set(ledger.groupKey, kept);
    }
    if (forgottenRules.length > 0) logger.info({ rules: forgottenRules }, `alerts: forgot the state of ${forgottenRules.length} rule(s) no longer in the config`);
  }

  private async evaluateNow(callerSignal: AbortSignal | undefined): Promise<Evaluation> {
    const signal = this.signalFor(callerSignal);
    this.load();
    this.collectResolved();
    const now = this.options.clock.now();
    const snapshot = await this.reader.read(now, signal);
    if (this.stopped) throw new StrataError('STRATA_CLOSED', 'alerts: stopped during evaluation; nothing was recorded');
    const silences = this.options.store.activeSilences(now);
    const history: NewHistoryEntry[] = [];
    const upsertActive: TrackedAlert[] = [];
    const deleteActive: string[] = [];
    const upsertResolved: Alert[] = [];
    const ruleStatuses: RuleStatus[] = [];

    for (const rule of this.options.rules) {
      const previous = [...this.active.values()].filter((alert) => alert.rule === rule.name);
      const input = this.inputFor(rule, snapshot);
      const result = evaluateRule(rule, previous, input, now);
      const before = new Map(previous.map((alert) => [alert.fingerprint, alert]));

      for (const alert of result.active) {
        alert.silencedBy = silencesMatching(silences, alert.labels);
        const wasSilenced = (before.get(alert.fingerprint)?.silencedBy.length ?? 0) > 0;
        const isSilenced = alert.silencedBy.length > 0;
        if (wasSilenced !== isSilenced) {
          history.push({
            ...entryFor(alert, now, 'silence'),
            to: isSilenced ? 'silenced' : 'unsilenced',
            message: isSilenced ? `silenced by ${alert.silencedBy.join(', ')}: tracked and recorded, not notified` : 'no longer silenced: notifications resume',
          });
        }
        this.active.set(alert.fingerprint, alert);
        upsertActive.push(alert);
        before.delete(alert.fingerprint);
      }
      for (const gone of before.keys()) {
        this.active.delete(gone);
        deleteActive.push(gone);
      }
      for (const alert of result.resolved) {
        this.resolved.set(alert.fingerprint, alert);
        upsertResolved.push(alert);
      }
      for (const transition of result.transitions) {
        history.push({
          ...entryFor(transition.alert, now, 'state'),
          from: transition.from,
          to: transition.to,
          message: describeTransition(transition.from, transition.to, transition.alert, rule),
        });
      }
      ruleStatuses.push(this.updateStatus(rule, result.state, input, now, history));
    }

    this.options.store.commitEvaluation({ upsertActive, deleteActive, upsertResolved, ruleStatuses, history });
    this.options.store.pruneHistory(now - this.options.historyRetentionMs);
    // Deliveries this evaluation starts stop with it (a job aborted by shutdown or Ctrl-C); what they
    // did not deliver is sent again by a later evaluation.
    const deliveries = this.dispatch(now, silences, signal);
    // Settled even when nobody waits for it, so a failed delivery never surfaces as an unhandled rejection.
    deliveries.catch(() => undefined);
    return { now, ruleStatuses, deliveries };
  }

  private inputFor(rule: CompiledRule, snapshot: MetricSnapshot): RuleInput & { reason?: string } {
    const readings = snapshot.byMetric.get(rule.metric);
    const unknown = snapshot.unknown.get(rule.metric);
    if (!readings) {
      if (unknown !== undefined) return { kind: 'unknown', reason: unknown };
      const sources = this.options.sources().map((source) => source.name);
      return { kind: 'absent', reason: `no source reports ${rule.metric} (sources: ${sources.join(', ') || 'none'})` };
    }
    const matchers = Object.entries(rule.match);
    const matching = matchers.length === 0 ? readings : readings.filter((reading) => matchers.every(([label, value]) => reading.labels?.[label] === value));
    if (matching.length === 0) return { kind: 'absent', reason: `no reading of ${rule.metric} has the labels ${formatLabels(rule.match)}` };
    return { kind: 'readings', readings: matching };
  }

  private updateStatus(rule: CompiledRule, state: RuleStatus['state'], input: RuleInput & { reason?: string }, now: number, history: NewHistoryEntry[]): RuleStatus {
    const previous = this.statuses.get(rule.name);
    const reason = input.kind === 'readings' ? null : (input.reason ?? null);
    const status: RuleStatus = { rule: rule.name, state, since: previous?.state === state ? previous.since : now, evaluatedAt: now, reason };
    this.statuses.set(rule.name, status);
    const base = { at: now, rule: rule.name, fingerprint: null, labels: { alertname: rule.name, severity: rule.severity }, value: null, notifier: null, outcome: null, notificationId: null } as const;
    if (state === 'no data') {
      // Once per process while it lasts: enough to notice a misnamed metric, never a log flood. A
      // failed source was already reported by the reader.
      if (input.kind === 'absent' && !this.warnedNoData.has(rule.name)) {
        this.warnedNoData.add(rule.name);
        this.options.logger.warn({ rule: rule.name, metric: rule.metric }, `alert rule ${rule.name}: no data: ${reason}; the rule cannot fire until its metric is reported`);
      }
      if (previous?.state !== 'no data') history.push({ ...base, kind: 'state', from: previous?.state ?? 'inactive', to: 'no data', message: `no data: ${reason}` });
    } else {
      if (this.warnedNoData.delete(rule.name)) this.options.logger.info({ rule: rule.name }, `alert rule ${rule.name}: ${rule.metric} is reported again`);
      if (previous?.state === 'no data') history.push({ ...base, kind: 'state', from: 'no data', to: state, message: `${rule.metric} is reported again` });
    }
    return status;
  }

  /** Starts delivery for every notifier not already busy; resolves with what each delivery did. */
  private dispatch(now: number, silences: readonly Silence[], signal: AbortSignal): Promise<DeliveryReport[]> {
    const started: Array<Promise<DeliveryReport[]>> = [];
    for (const notifier of this.options.notifiers()) {
      if (this.busy.has(notifier.name)) continue;
      const plans = planDeliveries({
        notifier: notifier.name,
        ledgers: this.ledgersOf(notifier.name),
        active: [...this.active.values()],
        resolved: this.resolved,
        silences,
        groupBy: this.options.groupBy,
        repeatIntervalMs: this.options.repeatIntervalMs,
        now,
        newId: randomUUID,
      });
      if (plans.length === 0) continue;
      const work = this.deliverPlans(notifier, plans, signal).finally(() => this.busy.delete(notifier.name));
      this.busy.set(notifier.name, work);
      started.push(work);
    }
    return Promise.all(started).then((reports) => reports.flat());
  }

  private async deliverPlans(notifier: AlertNotifier, plans: readonly PlannedDelivery[], signal: AbortSignal): Promise<DeliveryReport[]> {
    const reports: DeliveryReport[] = [];
    const logger = this.options.logger;
    let failed = false;
    for (const plan of plans) {
      const now = this.options.clock.now();
      const suppressed = plan.suppressed.map((alert) => ({
        ...entryFor(alert, now, 'notification'),
        to: 'resolved',
        notifier: notifier.name,
        outcome: 'suppressed' as const,
        message: `resolve notice not sent to ${notifier.name}: silenced`,
      }));
      if (!plan.notification) {
        this.commitLedger(notifier.name, plan.groupKey, plan.nextLedger, suppressed);
        continue;
      }
      // After a failure the notifier is likely down: the rest wait for the next evaluation.
      if (failed) continue;
      const notification = plan.notification;
      const outcome = await deliverNotification(notifier, notification, {
        policy: policyFor(notifier, this.options.deliveryDefaults),
        signal,
        logger,
        ...(this.options.sleep ? { sleep: this.options.sleep } : {}),
      });
      const result: DeliveryReport['outcome'] = outcome.ok ? 'sent' : outcome.permanent ? 'refused' : 'failed';
      const done = this.options.clock.now();
      const rows: NewHistoryEntry[] = [...notification.firing, ...notification.resolved].map((alert) => ({
        ...entryFor(alert, done, 'notification'),
        to: alert.status,
        notifier: notifier.name,
        outcome: outcome.ok ? ('sent' as const) : ('failed' as const),
        notificationId: notification.id,
        message: outcome.ok
          ? `${notification.repeat ? 'repeat ' : ''}${alert.status} notice sent to ${notifier.name}${outcome.attempts > 1 ? ` after ${outcome.attempts} attempts` : ''}`
          : `${notifier.name} ${outcome.permanent ? 'refused' : 'failed'} the ${alert.status} notice after ${outcome.attempts} attempt(s): ${outcome.error}${outcome.permanent ? ' (not retried)' : ' (tried again at the next evaluation)'}`,
      }));
      if (outcome.ok || outcome.permanent) {
        this.commitLedger(notifier.name, plan.groupKey, plan.nextLedger, [...rows, ...suppressed]);
      } else {
        failed = true;
        this.options.store.appendHistory(rows);
      }
      if (!outcome.ok) logger.error({ notifier: notifier.name, notification: notification.id, group: plan.groupKey }, rows[0]?.message ?? outcome.error);
      reports.push({
        notifier: notifier.name,
        notificationId: notification.id,
        groupKey: plan.groupKey,
        status: notification.status,
        repeat: notification.repeat,
        firing: notification.firing.length,
        resolved: notification.resolved.length,
        outcome: result,
        attempts: outcome.attempts,
        ...(outcome.ok ? {} : { error: outcome.error }),
      });
    }
    return reports;
  }

  private commitLedger(notifier: string, groupKey: string, ledger: DeliveryLedger | null, history: readonly NewHistoryEntry[]): void {
    if (ledger) this.ledgersOf(notifier).set(groupKey, ledger);
    else this.ledgersOf(notifier).delete(groupKey);
    this.options.store.commitDelivery(notifier, groupKey, ledger, history);
  }

  /** Forgets resolved alerts no notifier still owes a resolve notice for. */
  private collectResolved(): void {
    // A busy notifier may be about to record an alert as notified; wait until it is done.
    if (this.busy.size > 0 || this.resolved.size === 0) return;
    const owed = new Set<string>();
    for (const ledgers of this.ledgers.values()) for (const ledger of ledgers.values()) for (const alert of ledger.notified) owed.add(alert.fingerprint);
    const done = [...this.resolved.keys()].filter((fingerprint) => !owed.has(fingerprint));
    if (done.length === 0) return;
    for (const fingerprint of done) this.resolved.delete(fingerprint);
    this.options.store.forget({ resolvedAlerts: done });
  }

  private ledgersOf(notifier: string): Map<string, DeliveryLedger> {
    let ledgers = this.ledgers.get(notifier);
    if (!ledgers) {
      ledgers = new Map();
      this.ledgers.set(notifier, ledgers);
    }
    return ledgers;
  }

  private report(now: number, rules: RuleStatus[], notifications: DeliveryReport[]): EvaluationReport {
    const alerts = [...this.active.values()];
    const firing = alerts.filter((alert) => alert.status === 'firing').length;
    const pending = alerts.length - firing;
    const silenced = alerts.filter((alert) => alert.silencedBy.length > 0).length;
    const noData = rules.filter((rule) => rule.state === 'no data').map((rule) => rule.rule);
    const sent = notifications.filter((delivery) => delivery.outcome === 'sent').length;
    const failed = notifications.length - sent;
    const parts = [`${rules.length} rule(s)`, `${firing} firing`, `${pending} pending`];
    if (silenced > 0) parts.push(`${silenced} silenced`);
    if (noData.length > 0) parts.push(`${noData.length} without data (${noData.join(', ')})`);
    let summary = `alerts: ${parts.join(', ')}`;
    if (notifications.length > 0) summary += `; ${sent} notification(s) sent${failed > 0 ? `, ${failed} failed` : ''}`;
    return { summary, evaluatedAt: now, rules, firing, pending, silenced, notifications };
  }
}

/** Resolves when `work` settles or `signal` aborts, whichever comes first. */
function untilAborted(work: Promise<unknown>, signal: AbortSignal): Promise<unknown> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', done);
      resolve(undefined);
    };
    signal.addEventListener('abort', done, { once: true });
    work.then(done, done);
  });
}

function entryFor(alert: Alert, at: number, kind: NewHistoryEntry['kind']): NewHistoryEntry {
  return {
    at,
    kind,
    rule: alert.rule,
    fingerprint: alert.fingerprint,
    labels: alert.labels,
    from: null,
    to: null,
    value: alert.value,
    notifier: null,
    outcome: null,
    notificationId: null,
    message: '',
  };
}

function describeTransition(from: string, to: string, alert: Alert, rule: CompiledRule): string {
  const value = alert.value === null ? 'no value' : formatNumber(alert.value);
  switch (to) {
    case 'pending':
      return `condition holds (${value} ${rule.op} ${rule.threshold}); fires if it still holds after ${rule.forText}`;
    case 'firing':
      return from === 'inactive' ? `firing: ${alert.summary}` : `firing after holding for ${rule.forText}: ${alert.summary}`;
    case 'inactive':
      return `condition stopped holding before ${rule.forText} (${value}); never fired`;
    default:
      return alert.value === null ? 'resolved: the series is no longer reported' : `resolved: ${value} no longer ${rule.op} ${rule.threshold}`;
  }
}
