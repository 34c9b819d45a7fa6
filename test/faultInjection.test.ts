import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlertStore, LogNotifierSchema, alertsSettingsOf, buildSilence, type AlertHistoryEntry, type AlertRuleInput, type AlertsOptions, type EvaluationReport } from '@strata/alerts';
import { ALERT_NOTIFIERS, createStrata, definePlugin, type AlertNotification, type AlertNotifier, type InteractionInput, type Strata } from '@strata/core';
import type { HotSqliteTier } from '@strata/hot-sqlite';
import type { QualityOptions, QualityReport } from '@strata/quality';
import { createFakeClock, generateWorkload, type FakeClock } from '@strata/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

/*
 * Issue 6, end to end: a clean 30-day workload through createStrata with the real hot-sqlite,
 * quality and alerts plugins on a fake clock; each fault injected into a fresh copy of it must
 * raise exactly its quality finding and its alert (after the rule's `for`), and resolve once when
 * cleared. Evaluation is driven by running the `quality` and `alerts` jobs at fake times; the
 * alerts plugin's own timer is set to an hour of real time so it never ticks during a test.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** 40 minutes into an hour, so the quality window's last whole hour (23:00–00:00) is full of events. */
const NOW = Date.UTC(2026, 0, 1, 0, 40);
const DAYS = 30;
/** Enough traffic that half of it is a clear volume anomaly: z ≈ −75 / √151 ≈ −6 per hour. */
const PER_HOUR = 150;
/** The workload's last session starts here; its later turns land up to ~10 minutes after. */
const WORKLOAD_END = NOW - 35 * MINUTE;
/**
 * Events before this are ingested once into a template data dir; the rest (the quality window's
 * day) is ingested by each test, faulty or not, into its own copy of the template.
 */
const RECENT_FROM = NOW - 26 * HOUR;
const CHECKS = ['completeness', 'uniqueness', 'consistency', 'freshness', 'volume', 'schema'] as const;
type CheckName = (typeof CHECKS)[number];
type CheckStatus = 'pass' | 'warn' | 'fail' | 'skipped';
/** The workload's answers take about 1.4 s on average (over an hour of it, within ±0.2 s); twice that is a slow-down. */
const SLOW_AVERAGE_SECONDS = 2;

/** One alert rule per quality check (a warning or a failure alerts), and one on the answers' speed. */
const QUALITY_RULES: AlertRuleInput[] = [
  { name: 'IncompleteData', metric: 'quality.check_status', match: { check: 'completeness' }, op: '>=', threshold: 1, for: '15m' },
  { name: 'DuplicateInteractions', metric: 'quality.check_status', match: { check: 'uniqueness' }, op: '>=', threshold: 1, for: '15m' },
  { name: 'RollupMismatch', metric: 'quality.check_status', match: { check: 'consistency' }, op: '>=', threshold: 1, for: '15m' },
  { name: 'StaleData', metric: 'quality.check_status', match: { check: 'freshness' }, op: '>=', threshold: 1, for: '15m' },
  { name: 'TrafficAnomaly', metric: 'quality.check_status', match: { check: 'volume' }, op: '>=', threshold: 1, for: '15m' },
  { name: 'SchemaDrift', metric: 'quality.check_status', match: { check: 'schema' }, op: '>=', threshold: 1, for: '15m' },
];
const SLOW_ANSWERS_RULE: AlertRuleInput = {
  name: 'SlowAnswers',
  metric: 'insights.avg_response_time_seconds',
  op: '>',
  threshold: SLOW_AVERAGE_SECONDS,
  for: '10m',
  summary: 'answers take {{value}} s on average',
};
const ALL_RULES = [...QUALITY_RULES, SLOW_ANSWERS_RULE];

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let templateDir: string;
/** The quality window's day of the clean workload, as each test ingests it. */
let recent: InteractionInput[];

/** Events as an assistant would send them, numbers for timestamps so the tests can pick by time. */
function workload(options: { events: number; start: number; days: number; seed: number; idPrefix: string }): Generator<InteractionInput> {
  return generateWorkload({ ...options, networkFields: false, isoTimestamps: false });
}

/** Clean traffic at the workload's rate from `start` for `hours`, as a later part of the same service. */
function moreTraffic(start: number, hours: number, seed: number): InteractionInput[] {
  return [...workload({ events: Math.round(hours * PER_HOUR), start, days: hours / 24, seed, idPrefix: `more${seed}` })];
}

function timeOf(event: InteractionInput): number {
  return event.timestamp as number;
}

beforeAll(async () => {
  templateDir = mkdtempSync(join(tmpdir(), 'strata-faults-template-'));
  recent = [];
  const history: string[] = [];
  for (const event of workload({ events: DAYS * 24 * PER_HOUR, start: WORKLOAD_END - DAYS * DAY, days: DAYS, seed: 11, idPrefix: 'ev' })) {
    if (timeOf(event) < RECENT_FROM) history.push(JSON.stringify(event));
    else recent.push(event);
  }
  const strata = await createStrata({ dataDir: templateDir, clock: createFakeClock(NOW), logLevel: 'silent', scheduleJobs: false, monitor: false, config: { plugins: ['hot-sqlite'] } });
  try {
    const summary = await strata.ingestLines(linesOf(history), { source: 'history' });
    expect(summary).toMatchObject({ stored: history.length, rejected: 0, failed: 0 });
  } finally {
    await strata.close();
  }
}, 120_000);

afterAll(() => {
  rmSync(templateDir, { recursive: true, force: true });
});

async function* linesOf(lines: Iterable<string>): AsyncGenerator<string> {
  yield* lines;
}

/** A notifier contributed by a plugin, as a third party would write one; it keeps what it is sent. */
function capturingNotifierPlugin(sent: AlertNotification[]) {
  const notifier: AlertNotifier = {
    name: 'capture',
    async send(notification) {
      sent.push(structuredClone(notification));
    },
  };
  return definePlugin({
    name: 'capture-notifier',
    version: '0.0.0',
    // The root test folder has no zod of its own: an empty strict object, borrowed from a schema the alerts plugin exports.
    options: LogNotifierSchema.pick({}),
    setup: () => ({ extensions: { [ALERT_NOTIFIERS]: [notifier] } }),
  });
}

interface Harness {
  strata: Strata;
  clock: FakeClock;
  dataDir: string;
  /** Every notification the capturing notifier received, in order. */
  sent: AlertNotification[];
  hot: HotSqliteTier;
  ingest(events: Iterable<InteractionInput>): Promise<void>;
  quality(): Promise<QualityReport>;
  alerts(): Promise<EvaluationReport>;
  /** Every check's status in the latest quality run. */
  statuses(report: QualityReport): Record<string, CheckStatus>;
  history(rule?: string): AlertHistoryEntry[];
  /** Notifications received since the last call. */
  takeSent(): AlertNotification[];
}

/** A fresh copy of the 30-day template with hot-sqlite, quality, alerts and the capturing notifier, on a fake clock at NOW. */
async function open(options: { quality?: QualityOptions; alerts?: AlertsOptions; capture?: boolean } = {}): Promise<Harness> {
  const dataDir = tempDir('strata-faults-');
  cpSync(templateDir, dataDir, { recursive: true });
  const clock = createFakeClock(NOW);
  const sent: AlertNotification[] = [];
  const strata = await createStrata({
    dataDir,
    clock,
    logLevel: 'silent',
    scheduleJobs: false,
    monitor: false,
    config: {
      monitor: { enabled: false, insightsWindowMs: HOUR },
      plugins: [
        'hot-sqlite',
        { name: 'quality', options: { schedule: false, ...options.quality } },
        {
          name: 'alerts',
          options: { preset: 'none', rules: ALL_RULES, notifiers: [], groupBy: ['alertname'], evaluationInterval: '1h', ...options.alerts },
        },
        ...(options.capture === false ? [] : [capturingNotifierPlugin(sent)]),
      ],
    },
  });
  cleanups.push(() => strata.close());
  const alertsFile = alertsSettingsOf(strata.config)!.file;
  let taken = 0;
  return {
    strata,
    clock,
    dataDir,
    sent,
    hot: strata.storage('hot') as HotSqliteTier,
    async ingest(events) {
      const lines = [...events].map((event) => JSON.stringify(event));
      const summary = await strata.ingestLines(linesOf(lines), { source: 'test' });
      expect(summary).toMatchObject({ stored: lines.length, rejected: 0, failed: 0, duplicates: 0 });
    },
    quality: async () => (await strata.runJob('quality')) as unknown as QualityReport,
    alerts: async () => (await strata.runJob('alerts')) as unknown as EvaluationReport,
    statuses: (report) => Object.fromEntries(report.results.map((result) => [result.check, result.status])),
    history(rule) {
      const store = AlertStore.open(alertsFile);
      try {
        return store.history({ ...(rule ? { rule } : {}), limit: 10_000 }).reverse();
      } finally {
        store.close();
      }
    },
    takeSent() {
      const fresh = sent.slice(taken);
      taken = sent.length;
      return fresh;
    },
  };
}

/** Every check passes except the ones named, which have exactly the given status. */
function expectFindings(statuses: Record<string, CheckStatus>, findings: Partial<Record<CheckName, CheckStatus>>): void {
  const expected = Object.fromEntries(CHECKS.map((check) => [check, findings[check] ?? 'pass']));
  expect(statuses).toEqual(expected);
}

/** One notification, firing, for exactly these rules (one alert each, unless `alerts` says otherwise). */
function expectFiring(notifications: AlertNotification[], rule: string, alerts = 1): AlertNotification {
  expect(notifications.map((n) => ({ status: n.status, repeat: n.repeat, rules: [...new Set(n.firing.map((a) => a.rule))], firing: n.firing.length, resolved: n.resolved.length }))).toEqual([
    { status: 'firing', repeat: false, rules: [rule], firing: alerts, resolved: 0 },
  ]);
  return notifications[0]!;
}

function expectResolved(notifications: AlertNotification[], rule: string, alerts = 1): void {
  expect(notifications.map((n) => ({ status: n.status, repeat: n.repeat, firing: n.firing.length, rules: [...new Set(n.resolved.map((a) => a.rule))], resolved: n.resolved.length }))).toEqual([
    { status: 'resolved', repeat: false, firing: 0, rules: [rule], resolved: alerts },
  ]);
}

/**
 * The common course of a fault: the quality run finds it, the alert goes pending at the first
 * evaluation and fires (one notification) once its `for` has passed, and stays quiet after that.
 */
async function expectAlertAfterFor(h: Harness, rule: string, forMs: number, alerts = 1): Promise<AlertNotification> {
  const first = await h.alerts();
  expect(first.rules.find((status) => status.rule === rule)?.state).toBe('pending');
  expect(first.firing).toBe(0);
  h.clock.advance(forMs - MINUTE);
  await h.alerts();
  expect(h.takeSent(), 'nothing is sent while the alert is pending').toEqual([]);
  h.clock.advance(MINUTE);
  const fired = await h.alerts();
  expect(fired.firing).toBe(alerts);
  expect(fired.rules.filter((status) => status.state === 'firing').map((status) => status.rule)).toEqual([rule]);
  const notification = expectFiring(h.takeSent(), rule, alerts);
  h.clock.advance(MINUTE);
  await h.alerts();
  expect(h.takeSent(), 'a firing alert is not notified again at the next evaluation').toEqual([]);
  return notification;
}

/** After the fault is cleared: one resolve notice at the next evaluation, and nothing after it. */
async function expectOneResolve(h: Harness, rule: string, alerts = 1): Promise<void> {
  const report = await h.alerts();
  expect(report.firing).toBe(0);
  expectResolved(h.takeSent(), rule, alerts);
  for (let i = 0; i < 3; i += 1) {
    h.clock.advance(5 * MINUTE);
    await h.alerts();
  }
  expect(h.takeSent(), 'exactly one resolve notice').toEqual([]);
}

describe('fault injection into a clean 30-day workload', () => {
  it('the clean workload passes every check and raises no alert', async () => {
    const h = await open();
    await h.ingest(recent);
    const report = await h.quality();
    expectFindings(h.statuses(report), {});
    expect(report.status).toBe('pass');
    for (let i = 0; i < 4; i += 1) {
      const evaluation = await h.alerts();
      expect(evaluation.firing + evaluation.pending).toBe(0);
      expect(evaluation.rules.map((status) => [status.rule, status.state])).toEqual(ALL_RULES.map((rule) => [rule.name, 'inactive']));
      h.clock.advance(10 * MINUTE);
    }
    expect(h.sent).toEqual([]);
  });

  it('nulls: blanked required fields fail completeness and fire IncompleteData once, then resolve once when repaired', async () => {
    const h = await open();
    await h.ingest(recent);
    // A buggy producer writes blanks that NOT NULL does not stop: 1 % of the window's rows lose their query.
    const db = h.hot.database;
    const victims = db
      .prepare('SELECT id, query FROM user_interactions WHERE timestamp >= ? AND id % 100 = 0')
      .all(NOW - 24 * HOUR) as Array<{ id: number; query: string }>;
    expect(victims.length).toBeGreaterThan(20);
    const blank = db.prepare(`UPDATE user_interactions SET query = '' WHERE id = ?`);
    for (const victim of victims) blank.run(victim.id);

    const report = await h.quality();
    expectFindings(h.statuses(report), { completeness: 'fail' });
    const completeness = report.results.find((result) => result.check === 'completeness')!;
    expect(completeness.message).toMatch(/^query missing in \d+ row\(s\)/);
    expect(completeness.readings).toContainEqual(expect.objectContaining({ name: 'quality.null_rate', labels: { field: 'query' }, value: expect.closeTo(victims.length / (completeness.details.rows as number), 6) }));
    const notification = await expectAlertAfterFor(h, 'IncompleteData', 15 * MINUTE);
    expect(notification.firing[0]!.labels).toMatchObject({ alertname: 'IncompleteData', check: 'completeness', severity: 'warning' });

    const restore = db.prepare('UPDATE user_interactions SET query = ? WHERE id = ?');
    for (const victim of victims) restore.run(victim.query, victim.id);
    expectFindings(h.statuses(await h.quality()), {});
    await expectOneResolve(h, 'IncompleteData');
  });

  it('duplicate ids: answers re-sent without their event id fail uniqueness and fire DuplicateInteractions once; resolved once they leave the window', async () => {
    const h = await open();
    await h.ingest(recent);
    // A re-sent event that keeps its id is deduplicated on the way in and is no finding…
    const resentWithId = await h.strata.recordStrict(recent[recent.length - 1]);
    expect(resentWithId.status).toBe('duplicate');
    // …but a client that retries without its id, 30 s later, stores the same question in the same turn twice: 2 % of the window.
    const window = recent.filter((event) => timeOf(event) >= NOW - 24 * HOUR);
    const resent = window.filter((_, index) => index % 50 === 0).map(({ eventId: _id, ...event }) => ({ ...event, timestamp: timeOf(event) + 30_000 }));
    await h.ingest(resent);

    const report = await h.quality();
    expectFindings(h.statuses(report), { uniqueness: 'fail' });
    const uniqueness = report.results.find((result) => result.check === 'uniqueness')!;
    expect(uniqueness.details).toMatchObject({ duplicateEventIds: 0, duplicateQueriesInTurn: resent.length });
    await expectAlertAfterFor(h, 'DuplicateInteractions', 15 * MINUTE);

    // The rows are history and stay (deleting raw rows would break the rollups): the finding ends when they leave the 24 h window.
    h.clock.set(NOW + DAY);
    await h.ingest(moreTraffic(WORKLOAD_END, 24, 21));
    expectFindings(h.statuses(await h.quality()), {});
    await expectOneResolve(h, 'DuplicateInteractions');
  });

  it('a 6-hour gap: freshness warns and StaleData fires once (the empty hours are also a volume anomaly); a backfill resolves both once', async () => {
    const h = await open();
    await h.ingest(recent);
    h.clock.advance(6 * HOUR);

    const report = await h.quality();
    // Six hours without an event at 150 an hour is also a traffic anomaly: both findings are expected.
    expectFindings(h.statuses(report), { freshness: 'warn', volume: 'fail' });
    expect(report.results.find((result) => result.check === 'freshness')!.observed).toBeGreaterThan(6 * 3_600);
    expect(report.results.find((result) => result.check === 'volume')!.observed).toBeLessThan(-5);

    const first = await h.alerts();
    expect(first.rules.filter((status) => status.state === 'pending').map((status) => status.rule)).toEqual(['StaleData', 'TrafficAnomaly']);
    h.clock.advance(15 * MINUTE);
    await h.alerts();
    const sent = h.takeSent();
    // groupBy alertname: one notification per rule, each with its one alert.
    expect(sent.map((n) => [n.status, n.firing.map((alert) => `${alert.rule}{check=${alert.labels.check}}`)])).toEqual([
      ['firing', ['StaleData{check=freshness}']],
      ['firing', ['TrafficAnomaly{check=volume}']],
    ]);

    // The stuck sender delivers its backlog: the hours fill in and the newest event is recent again.
    await h.ingest(moreTraffic(WORKLOAD_END, 6.5, 31));
    expectFindings(h.statuses(await h.quality()), {});
    await h.alerts();
    expect(h.takeSent().map((n) => [n.status, n.resolved.map((alert) => alert.rule)])).toEqual([
      ['resolved', ['StaleData']],
      ['resolved', ['TrafficAnomaly']],
    ]);
    h.clock.advance(10 * MINUTE);
    await h.alerts();
    expect(h.takeSent()).toEqual([]);
  });

  it('a 50 % volume drop fails the volume check and fires TrafficAnomaly once; resolved once traffic is back for a whole window', async () => {
    const h = await open();
    // Half the traffic is lost for the last 12 hours.
    const dropFrom = NOW - 12 * HOUR;
    const halved = recent.filter((event, index) => timeOf(event) < dropFrom || index % 2 === 0);
    await h.ingest(halved);

    const report = await h.quality();
    expectFindings(h.statuses(report), { volume: 'fail' });
    const volume = report.results.find((result) => result.check === 'volume')!;
    expect(volume.observed).toBeLessThanOrEqual(-5);
    expect(volume.details.count as number).toBeLessThan((volume.details.baselineMedian as number) * 0.6);
    await expectAlertAfterFor(h, 'TrafficAnomaly', 15 * MINUTE);

    h.clock.set(NOW + DAY);
    await h.ingest(moreTraffic(WORKLOAD_END, 24, 41));
    expectFindings(h.statuses(await h.quality()), {});
    await expectOneResolve(h, 'TrafficAnomaly');
  });

  it('a new unknown field: a column added by hand warns schema drift and fires SchemaDrift once; dropping it resolves once', async () => {
    const h = await open();
    await h.ingest(recent);
    h.hot.database.exec('ALTER TABLE user_interactions ADD COLUMN sentiment REAL');
    // The tier keeps storing events with the extra column in place.
    await h.ingest(moreTraffic(NOW - 5 * MINUTE, 0.05, 51));

    const report = await h.quality();
    expectFindings(h.statuses(report), { schema: 'warn' });
    expect(report.results.find((result) => result.check === 'schema')!.message).toBe('column user_interactions.sentiment (REAL) is not defined by the migrations');
    await expectAlertAfterFor(h, 'SchemaDrift', 15 * MINUTE);

    h.hot.database.exec('ALTER TABLE user_interactions DROP COLUMN sentiment');
    expectFindings(h.statuses(await h.quality()), {});
    await expectOneResolve(h, 'SchemaDrift');
  });

  it('a slow-down: answers twice as slow raise no quality finding but fire SlowAnswers once; resolved once answers are fast again', async () => {
    const h = await open();
    const slowFrom = NOW - 2 * HOUR;
    await h.ingest(recent.map((event) => (timeOf(event) >= slowFrom ? { ...event, responseTime: (event.responseTime as number) * 2 } : event)));

    expectFindings(h.statuses(await h.quality()), {});
    const notification = await expectAlertAfterFor(h, 'SlowAnswers', 10 * MINUTE);
    expect(notification.firing[0]!.value).toBeGreaterThan(SLOW_AVERAGE_SECONDS);

    // An hour later the insights window holds only answers at the usual speed.
    h.clock.set(NOW + HOUR);
    await h.ingest(moreTraffic(WORKLOAD_END, 1.5, 61));
    expectFindings(h.statuses(await h.quality()), {});
    await expectOneResolve(h, 'SlowAnswers');
  });
});

/** Blanks the query of 1 % of the window's rows (a producer bug NOT NULL does not stop); returns the repair. */
function blankQueries(h: Harness): () => void {
  const db = h.hot.database;
  const victims = db.prepare('SELECT id, query FROM user_interactions WHERE timestamp >= ? AND id % 100 = 0').all(h.clock.now() - 24 * HOUR) as Array<{ id: number; query: string }>;
  const blank = db.prepare(`UPDATE user_interactions SET query = '' WHERE id = ?`);
  for (const victim of victims) blank.run(victim.id);
  return () => {
    const restore = db.prepare('UPDATE user_interactions SET query = ? WHERE id = ?');
    for (const victim of victims) restore.run(victim.query, victim.id);
  };
}

const INCOMPLETE_DATA = QUALITY_RULES.find((rule) => rule.name === 'IncompleteData')!;

describe('alert delivery, end to end', () => {
  it('a flap shorter than `for` sends nothing, and holding again starts the `for` clock from zero', async () => {
    const h = await open({ alerts: { rules: [INCOMPLETE_DATA] } });
    await h.ingest(recent);
    const t0 = h.clock.now();

    let repair = blankQueries(h);
    expect(h.statuses(await h.quality()).completeness).toBe('fail');
    expect((await h.alerts()).pending).toBe(1);
    h.clock.set(t0 + 10 * MINUTE);
    repair();
    expect(h.statuses(await h.quality()).completeness).toBe('pass');
    expect((await h.alerts()).pending).toBe(0);

    // Broken again 12 minutes after the first time: at t0 + 20 min the condition has held 18 of the
    // last 20 minutes, but only 8 without a break, so the 15-minute rule still only waits.
    h.clock.set(t0 + 12 * MINUTE);
    repair = blankQueries(h);
    expect(h.statuses(await h.quality()).completeness).toBe('fail');
    await h.alerts();
    h.clock.set(t0 + 20 * MINUTE);
    const later = await h.alerts();
    expect(later).toMatchObject({ pending: 1, firing: 0 });
    h.clock.set(t0 + 22 * MINUTE);
    repair();
    expect(h.statuses(await h.quality()).completeness).toBe('pass');
    expect((await h.alerts()).pending).toBe(0);
    for (let i = 0; i < 6; i += 1) {
      h.clock.advance(10 * MINUTE);
      await h.alerts();
    }

    expect(h.sent).toEqual([]);
    const transitions = h.history('IncompleteData').filter((entry) => entry.kind === 'state' && entry.fingerprint !== null);
    expect(transitions.map((entry) => [entry.from, entry.to, entry.at - t0])).toEqual([
      ['inactive', 'pending', 0],
      ['pending', 'inactive', 10 * MINUTE],
      ['inactive', 'pending', 12 * MINUTE],
      ['pending', 'inactive', 22 * MINUTE],
    ]);
    expect(h.history().filter((entry) => entry.kind === 'notification')).toEqual([]);
  });

  it('50 alerts of one group firing together arrive as one notification, and resolve in one notice', async () => {
    // Fifty business rules (answers under 60 s, 61 s, … 109 s) and one alert rule over their
    // violation rates: one alert per quality rule, all in the `warning` group.
    const limits = Array.from({ length: 50 }, (_, index) => 60 + index);
    const h = await open({
      quality: { rules: limits.map((limit) => ({ name: `under-${limit}s`, rule: `responseTime < ${limit}` })) },
      alerts: {
        groupBy: ['severity'],
        rules: [{ name: 'AnswerTimeRuleBroken', metric: 'quality.rule_violation_rate', op: '>', threshold: 0.01, for: '15m', summary: '{{labels.rule}}: {{value|percent}} of answers' }],
      },
    });
    // The model backend times out for a while: 5 % of the window's answers take 300 s.
    await h.ingest(recent.map((event, index) => (timeOf(event) >= NOW - 24 * HOUR && index % 20 === 0 ? { ...event, responseTime: 300 } : event)));

    const report = await h.quality();
    expect(h.statuses(report)).toEqual({
      ...Object.fromEntries(CHECKS.map((check) => [check, 'pass'])),
      ...Object.fromEntries(limits.map((limit) => [`rule:under-${limit}s`, 'fail'])),
    });
    const notification = await expectAlertAfterFor(h, 'AnswerTimeRuleBroken', 15 * MINUTE, 50);
    expect(notification.groupLabels).toEqual({ severity: 'warning' });
    expect(new Set(notification.firing.map((alert) => alert.fingerprint)).size).toBe(50);
    expect(notification.firing.map((alert) => alert.labels.rule).sort()).toEqual(limits.map((limit) => `under-${limit}s`).sort());
    expect(notification.firing[0]!.summary).toMatch(/^under-\d+s: 5(\.\d+)?% of answers$/);

    h.clock.set(NOW + DAY);
    await h.ingest(moreTraffic(WORKLOAD_END, 24, 71));
    expect(Object.values(h.statuses(await h.quality())).every((status) => status === 'pass')).toBe(true);
    await expectOneResolve(h, 'AnswerTimeRuleBroken', 50);
  });

  it('a firing alert is not repeated before the repeat interval, then once per interval with repeat: true, then resolves exactly once', async () => {
    const h = await open({ alerts: { rules: [INCOMPLETE_DATA], repeatInterval: '4h' } });
    await h.ingest(recent);
    const repair = blankQueries(h);
    await h.quality();
    await expectAlertAfterFor(h, 'IncompleteData', 15 * MINUTE);
    const firedAt = h.clock.now() - MINUTE;

    for (const after of [30 * MINUTE, 2 * HOUR, 4 * HOUR - MINUTE]) {
      h.clock.set(firedAt + after);
      await h.alerts();
    }
    expect(h.takeSent(), 'no repeat before 4 h').toEqual([]);
    h.clock.set(firedAt + 4 * HOUR);
    await h.alerts();
    const repeats = h.takeSent();
    expect(repeats.map((n) => [n.status, n.repeat, n.firing.map((alert) => alert.rule)])).toEqual([['firing', true, ['IncompleteData']]]);
    h.clock.set(firedAt + 8 * HOUR - MINUTE);
    await h.alerts();
    expect(h.takeSent()).toEqual([]);
    h.clock.set(firedAt + 8 * HOUR);
    await h.alerts();
    expect(h.takeSent().map((n) => n.repeat)).toEqual([true]);

    repair();
    await h.quality();
    await expectOneResolve(h, 'IncompleteData');
    expect(h.history('IncompleteData').filter((entry) => entry.kind === 'notification').map((entry) => [entry.to, entry.outcome])).toEqual([
      ['firing', 'sent'],
      ['firing', 'sent'],
      ['firing', 'sent'],
      ['resolved', 'sent'],
    ]);
  });

  it('a silenced alert sends nothing; it is announced when the silence ends, and a resolve under a silence is suppressed', async () => {
    const h = await open({ alerts: { rules: [INCOMPLETE_DATA] } });
    await h.ingest(recent);
    const alertsFile = alertsSettingsOf(h.strata.config)!.file;
    // As `strata alerts silence alertname=IncompleteData --for 2h` does: straight into alerts.db, read at the next evaluation.
    const silence = (durationMs: number) => {
      const store = AlertStore.open(alertsFile);
      try {
        store.addSilence(buildSilence({ matchers: ['alertname=IncompleteData'], durationMs, comment: 'known producer bug' }, h.clock.now()));
      } finally {
        store.close();
      }
    };
    silence(2 * HOUR);
    const silencedAt = h.clock.now();
    const repair = blankQueries(h);
    await h.quality();
    await h.alerts();
    h.clock.advance(15 * MINUTE);
    const fired = await h.alerts();
    expect(fired).toMatchObject({ firing: 1, silenced: 1 });
    for (let i = 0; i < 5; i += 1) {
      h.clock.advance(20 * MINUTE);
      await h.alerts();
    }
    expect(h.clock.now()).toBeLessThan(silencedAt + 2 * HOUR);
    expect(h.sent, 'nothing is sent while silenced').toEqual([]);
    const recorded = h.history('IncompleteData');
    expect(recorded.filter((entry) => entry.kind === 'silence').map((entry) => entry.to)).toEqual(['silenced']);
    expect(recorded.some((entry) => entry.kind === 'state' && entry.to === 'firing')).toBe(true);

    h.clock.set(silencedAt + 2 * HOUR + MINUTE);
    await h.alerts();
    expectFiring(h.takeSent(), 'IncompleteData');

    silence(HOUR);
    repair();
    await h.quality();
    await h.alerts();
    h.clock.advance(HOUR + MINUTE);
    await h.alerts();
    expect(h.takeSent(), 'a resolve while silenced is not sent, not even after the silence ends').toEqual([]);
    expect(h.history('IncompleteData').filter((entry) => entry.kind === 'notification').map((entry) => [entry.to, entry.outcome])).toEqual([
      ['firing', 'sent'],
      ['resolved', 'suppressed'],
    ]);
  });
});

interface WebhookRequest {
  body: { id: string; status: string; firing: Array<{ rule: string }> };
  answer(status: number): void;
}

/** A webhook receiver on a real port: each request waits until the test answers it. */
async function webhookServer(): Promise<{ url: string; requests: WebhookRequest[]; next(): Promise<WebhookRequest> }> {
  const requests: WebhookRequest[] = [];
  const waiting: Array<(request: WebhookRequest) => void> = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const received: WebhookRequest = {
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookRequest['body'],
        answer: (status) => response.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'down'),
      };
      requests.push(received);
      const waiter = waiting.shift();
      if (waiter) waiter(received);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  let taken = 0;
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/strata`,
    requests,
    next() {
      const index = taken;
      taken += 1;
      if (requests[index]) return Promise.resolve(requests[index]);
      return withRealTimeout(new Promise<WebhookRequest>((resolve) => waiting.push(resolve)), `webhook request ${index + 1} never arrived`);
    },
  };
}

/** Real waiting, only for I/O: fails after a generous 10 s instead of hanging the suite. */
function withRealTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what)), 10_000);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

describe('a failing webhook', () => {
  /** Strata with one rule that fires at once on blanked queries, notifying only the webhook; the fault injected and found. */
  async function firingIntoWebhook(url: string): Promise<Harness> {
    const h = await open({
      capture: false,
      alerts: {
        rules: [{ ...INCOMPLETE_DATA, for: '0s' }],
        notifiers: [{ type: 'webhook', name: 'pager', url, maxAttempts: 3, initialBackoff: '10ms', maxBackoff: '10ms', timeout: '30s' }],
      },
    });
    await h.ingest(recent);
    blankQueries(h);
    expect(h.statuses(await h.quality()).completeness).toBe('fail');
    return h;
  }

  /** Events sent while the webhook is down, each with its own id. */
  function outageEvent(index: number, prefix: string): InteractionInput {
    return { ...recent[index]!, eventId: `${prefix}-${index}`, timestamp: NOW - index * 1_000 };
  }

  function countStored(h: Harness, prefix: string): number {
    return (h.hot.database.prepare('SELECT COUNT(*) AS n FROM user_interactions WHERE event_id LIKE ?').get(`${prefix}-%`) as { n: number }).n;
  }

  it('is retried with the same notification id, delivered at a later evaluation, and never blocks ingestion', async () => {
    const webhook = await webhookServer();
    const h = await firingIntoWebhook(webhook.url);

    const evaluation = h.alerts();
    const first = await webhook.next();
    // The webhook holds its first request: ingestion goes on regardless, record and recordStrict alike.
    for (let index = 0; index < 50; index += 1) expect(h.strata.record(outageEvent(index, 'outage'))).toBe(true);
    const stored = await Promise.all(Array.from({ length: 50 }, (_, index) => h.strata.recordStrict(outageEvent(50 + index, 'outage'))));
    expect(stored.map((outcome) => outcome.status)).toEqual(Array.from({ length: 50 }, () => 'stored'));
    // Batches commit in order, so the record() events queued before are stored too.
    expect(countStored(h, 'outage')).toBe(100);
    expect(webhook.requests).toHaveLength(1);

    first.answer(500);
    (await webhook.next()).answer(500);
    (await webhook.next()).answer(500);
    expect((await evaluation).notifications).toEqual([expect.objectContaining({ notifier: 'pager', outcome: 'failed', attempts: 3, status: 'firing' })]);
    expect(webhook.requests.map((request) => request.body.id)).toEqual([first.body.id, first.body.id, first.body.id]);
    expect(first.body).toMatchObject({ status: 'firing', firing: [expect.objectContaining({ rule: 'IncompleteData' })] });
    await expect(h.strata.recordStrict(outageEvent(100, 'after-failure'))).resolves.toMatchObject({ status: 'stored' });

    // The next evaluation tries again: one more failure, then the receiver is back.
    h.clock.advance(30_000);
    const retry = h.alerts();
    (await webhook.next()).answer(500);
    (await webhook.next()).answer(200);
    expect((await retry).notifications).toEqual([expect.objectContaining({ notifier: 'pager', outcome: 'sent', attempts: 2 })]);
    const [fourth, fifth] = webhook.requests.slice(3);
    expect(fourth!.body.id).toBe(fifth!.body.id);
    expect(fifth!.body).toMatchObject({ status: 'firing', repeat: false, firing: [expect.objectContaining({ rule: 'IncompleteData' })] });

    h.clock.advance(30_000);
    await h.alerts();
    expect(webhook.requests, 'delivered once: not sent again').toHaveLength(5);
    expect(h.history('IncompleteData').filter((entry) => entry.kind === 'notification').map((entry) => [entry.notifier, entry.outcome])).toEqual([
      ['pager', 'failed'],
      ['pager', 'sent'],
    ]);
  });

  it('does not hold up strata.flush() while its delivery is in flight (README: flush does not wait for deliveries)', async () => {
    const webhook = await webhookServer();
    const h = await firingIntoWebhook(webhook.url);
    const evaluation = h.alerts();
    const held = await webhook.next();
    for (let index = 0; index < 20; index += 1) h.strata.record(outageEvent(index, 'flushed'));
    // Real waiting, as a liveness bound only: a flush that does not wait on the webhook takes milliseconds.
    const flushed = await Promise.race([h.strata.flush().then(() => 'flushed'), new Promise((resolve) => setTimeout(() => resolve('still waiting on the webhook'), 3_000))]);
    // Release the webhook whatever happened, so the evaluation ends before Strata closes.
    held.answer(200);
    await evaluation;
    expect(countStored(h, 'flushed')).toBe(20);
    expect(flushed, 'strata.flush() during an `alerts` job whose webhook hangs').toBe('flushed');
  });
});
