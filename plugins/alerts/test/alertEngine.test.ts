import { PermanentError, RetryableError } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { buildSilence } from '../src/index.js';
import { MINUTE, RecordingNotifier, engineHarness } from './helpers.js';

const responseRule = { name: 'SlowAnswers', metric: 'insights.avg_response_time_seconds', op: '>' as const, threshold: 5, for: '2m', severity: 'critical' as const };
const errorRule = { name: 'ManyErrors', metric: 'insights.error_rate', op: '>' as const, threshold: 0.05, for: '2m', severity: 'critical' as const };
const sizeRule = { name: 'BigDatabase', metric: 'system.database_size_mb', op: '>' as const, threshold: 1000, for: '0s', severity: 'warning' as const };

/** Evaluates `times` times, one minute apart: each evaluation at the current time, then the clock moves a minute on. */
async function tick(harness: ReturnType<typeof engineHarness>, times = 1) {
  let report;
  for (let index = 0; index < times; index += 1) {
    report = await harness.engine.evaluate();
    harness.clock.advance(MINUTE);
  }
  return report!;
}

describe('grouping, deduplication, repeat and resolve', () => {
  it('sends one notification listing both rules when two rules of one group fire together', async () => {
    const harness = engineHarness({ rules: [responseRule, errorRule] });
    harness.source.set('insights.avg_response_time_seconds', 7).set('insights.error_rate', 0.2);
    await tick(harness, 3);
    expect(harness.notifier.sent).toHaveLength(1);
    const [notification] = harness.notifier.sent;
    expect(notification).toMatchObject({ status: 'firing', repeat: false, groupKey: '{severity="critical"}', groupLabels: { severity: 'critical' } });
    expect(notification!.firing.map((alert) => alert.rule)).toEqual(['ManyErrors', 'SlowAnswers']);
    expect(notification!.resolved).toEqual([]);
  });

  it('notifies separate groups separately', async () => {
    const harness = engineHarness({ rules: [{ ...responseRule, for: '0s' }, sizeRule] });
    harness.source.set('insights.avg_response_time_seconds', 7).set('system.database_size_mb', 2048);
    await tick(harness);
    expect(harness.notifier.sent.map((notification) => notification.groupKey).sort()).toEqual(['{severity="critical"}', '{severity="warning"}']);
  });

  it('groups by the configured labels: by alertname, each rule is its own group', async () => {
    const harness = engineHarness({ rules: [responseRule, errorRule], groupBy: ['alertname'] });
    harness.source.set('insights.avg_response_time_seconds', 7).set('insights.error_rate', 0.2);
    await tick(harness, 3);
    expect(harness.notifier.sent.map((notification) => notification.firing.map((alert) => alert.rule)).sort()).toEqual([['ManyErrors'], ['SlowAnswers']]);
  });

  it('does not notify an alert again while it keeps firing, until the repeat interval has passed', async () => {
    const harness = engineHarness({ rules: [sizeRule], repeatInterval: '1h' });
    harness.source.set('system.database_size_mb', 2048);
    await tick(harness, 59);
    expect(harness.notifier.sent).toHaveLength(1);
    await tick(harness, 2);
    expect(harness.notifier.sent).toHaveLength(2);
    expect(harness.notifier.sent[1]).toMatchObject({ status: 'firing', repeat: true });
    await tick(harness, 30);
    expect(harness.notifier.sent).toHaveLength(2);
  });

  it('notifies again at once when a new alert joins a group that was already notified', async () => {
    const harness = engineHarness({ rules: [{ ...responseRule, for: '0s' }, { ...errorRule, for: '0s' }] });
    harness.source.set('insights.avg_response_time_seconds', 7);
    await tick(harness);
    harness.source.set('insights.error_rate', 0.3);
    await tick(harness, 2);
    expect(harness.notifier.sent).toHaveLength(2);
    expect(harness.notifier.sent[1]!.firing.map((alert) => alert.rule)).toEqual(['ManyErrors', 'SlowAnswers']);
    expect(harness.notifier.sent[1]!.repeat).toBe(false);
  });

  it('sends exactly one resolve notice after an alert stops firing', async () => {
    const harness = engineHarness({ rules: [sizeRule] });
    harness.source.set('system.database_size_mb', 2048);
    await tick(harness, 2);
    harness.source.set('system.database_size_mb', 10);
    await tick(harness, 20);
    harness.clock.advance(24 * 60 * MINUTE);
    await tick(harness);
    expect(harness.notifier.sent.map((notification) => notification.status)).toEqual(['firing', 'resolved']);
    const resolve = harness.notifier.sent[1]!;
    expect(resolve.firing).toEqual([]);
    expect(resolve.resolved).toHaveLength(1);
    expect(resolve.resolved[0]).toMatchObject({ rule: 'BigDatabase', status: 'resolved', value: 10 });
  });

  it('lists a resolved alert beside the ones still firing in its group, once', async () => {
    const harness = engineHarness({ rules: [{ ...responseRule, for: '0s' }, { ...errorRule, for: '0s' }] });
    harness.source.set('insights.avg_response_time_seconds', 7).set('insights.error_rate', 0.3);
    await tick(harness);
    harness.source.set('insights.error_rate', 0.01);
    await tick(harness, 3);
    expect(harness.notifier.sent).toHaveLength(2);
    expect(harness.notifier.sent[1]).toMatchObject({ status: 'firing', repeat: false });
    expect(harness.notifier.sent[1]!.firing.map((alert) => alert.rule)).toEqual(['SlowAnswers']);
    expect(harness.notifier.sent[1]!.resolved.map((alert) => alert.rule)).toEqual(['ManyErrors']);
  });

  it('sends nothing for an alert that was pending and stopped holding', async () => {
    const harness = engineHarness({ rules: [responseRule] });
    harness.source.set('insights.avg_response_time_seconds', 7);
    await tick(harness, 2);
    harness.source.set('insights.avg_response_time_seconds', 1);
    await tick(harness, 5);
    expect(harness.notifier.sent).toEqual([]);
    const transitions = harness.store.history({ rule: 'SlowAnswers' }).map((entry) => `${entry.from}->${entry.to}`);
    expect(transitions).toEqual(['pending->inactive', 'inactive->pending']);
  });
});

describe('metrics nobody reports', () => {
  it('puts a rule whose metric no source reports in "no data", warns once, and keeps evaluating the others', async () => {
    const harness = engineHarness({ rules: [{ ...responseRule, metric: 'insights.avg_respons_time' }, sizeRule] });
    harness.source.set('system.database_size_mb', 2048);
    const report = await tick(harness, 5);
    expect(report.rules.find((rule) => rule.rule === 'SlowAnswers')).toMatchObject({ state: 'no data', reason: expect.stringContaining('no source reports insights.avg_respons_time') });
    const warnings = harness.logger.lines.filter((line) => line.level === 'warn' && line.message.includes('SlowAnswers'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toContain('insights.avg_respons_time');
    expect(harness.notifier.sent).toHaveLength(1);
    expect(report.summary).toContain('1 without data (SlowAnswers)');
  });

  it('keeps a firing alert firing (no false resolve) while its source fails, and resolves normally after', async () => {
    const harness = engineHarness({ rules: [sizeRule] });
    harness.source.set('system.database_size_mb', 2048);
    await tick(harness);
    harness.source.fail = 'disk unreadable';
    const during = await tick(harness, 3);
    expect(during.firing).toBe(1);
    expect(during.rules[0]).toMatchObject({ state: 'no data', reason: expect.stringContaining('disk unreadable') });
    expect(harness.logger.lines.filter((line) => line.level === 'warn' && line.message.includes('disk unreadable'))).toHaveLength(1);
    harness.source.fail = undefined;
    harness.source.set('system.database_size_mb', 5);
    await tick(harness, 2);
    expect(harness.notifier.sent.map((notification) => notification.status)).toEqual(['firing', 'resolved']);
  });
});

describe('silences', () => {
  it('holds back notifications of matching alerts but still tracks and records them', async () => {
    const harness = engineHarness({ rules: [{ ...responseRule, for: '0s' }, sizeRule] });
    harness.store.addSilence(buildFor(harness, ['alertname=SlowAnswers'], 60 * MINUTE));
    harness.source.set('insights.avg_response_time_seconds', 7).set('system.database_size_mb', 2048);
    const report = await tick(harness);
    expect(report).toMatchObject({ firing: 2, silenced: 1 });
    expect(harness.notifier.sent.flatMap((notification) => notification.firing.map((alert) => alert.rule))).toEqual(['BigDatabase']);
    const silencedHistory = harness.store.history({ rule: 'SlowAnswers' });
    expect(silencedHistory.map((entry) => entry.kind).sort()).toEqual(['silence', 'state']);
    expect(silencedHistory.find((entry) => entry.kind === 'silence')!.to).toBe('silenced');
  });

  it('matches by regex and negation', async () => {
    const harness = engineHarness({ rules: [{ ...responseRule, for: '0s' }, { ...errorRule, for: '0s' }, sizeRule] });
    harness.store.addSilence(buildFor(harness, ['alertname=~Slow.*|Many.*', 'severity!=warning'], 60 * MINUTE));
    harness.source.set('insights.avg_response_time_seconds', 7).set('insights.error_rate', 0.5).set('system.database_size_mb', 2048);
    await tick(harness);
    expect(harness.notifier.sent.flatMap((notification) => notification.firing.map((alert) => alert.rule))).toEqual(['BigDatabase']);
  });

  it('only applies inside its time window: a silence starting later does not hold back today', async () => {
    const harness = engineHarness({ rules: [sizeRule] });
    const start = harness.clock.now() + 30 * MINUTE;
    harness.store.addSilence(buildFor(harness, ['alertname=BigDatabase'], 60 * MINUTE, start));
    harness.source.set('system.database_size_mb', 2048);
    await tick(harness);
    expect(harness.notifier.sent).toHaveLength(1);
  });

  it('resumes notifications when the silence expires', async () => {
    const harness = engineHarness({ rules: [sizeRule] });
    harness.store.addSilence(buildFor(harness, ['alertname=BigDatabase'], 10 * MINUTE));
    harness.source.set('system.database_size_mb', 2048);
    await tick(harness, 10);
    expect(harness.notifier.sent).toEqual([]);
    await tick(harness);
    expect(harness.notifier.sent).toHaveLength(1);
    expect(harness.notifier.sent[0]).toMatchObject({ status: 'firing', repeat: false });
    expect(harness.store.history({ rule: 'BigDatabase' }).some((entry) => entry.kind === 'silence' && entry.to === 'unsilenced')).toBe(true);
  });

  it('resumes notifications when the silence is ended by hand', async () => {
    const harness = engineHarness({ rules: [sizeRule] });
    const silence = harness.store.addSilence(buildFor(harness, ['severity=warning'], 600 * MINUTE));
    harness.source.set('system.database_size_mb', 2048);
    await tick(harness, 3);
    expect(harness.notifier.sent).toEqual([]);
    harness.store.expireSilence(silence.id.slice(0, 6), harness.clock.now());
    await tick(harness);
    expect(harness.notifier.sent).toHaveLength(1);
  });

  it('does not re-announce an alert notified before the silence, when the silence ends before the repeat interval', async () => {
    const harness = engineHarness({ rules: [sizeRule], repeatInterval: '4h' });
    harness.source.set('system.database_size_mb', 2048);
    await tick(harness);
    harness.store.addSilence(buildFor(harness, ['alertname=BigDatabase'], 30 * MINUTE));
    await tick(harness, 40);
    expect(harness.notifier.sent).toHaveLength(1);
  });

  it('suppresses the resolve notice of an alert that resolves while silenced', async () => {
    const harness = engineHarness({ rules: [sizeRule] });
    harness.source.set('system.database_size_mb', 2048);
    await tick(harness);
    harness.store.addSilence(buildFor(harness, ['alertname=BigDatabase'], 60 * MINUTE));
    harness.source.set('system.database_size_mb', 1);
    await tick(harness, 2);
    expect(harness.notifier.sent).toHaveLength(1);
    const suppressed = harness.store.history({ rule: 'BigDatabase' }).filter((entry) => entry.outcome === 'suppressed');
    expect(suppressed).toHaveLength(1);
    expect(suppressed[0]).toMatchObject({ notifier: 'recorder', to: 'resolved' });
  });
});

describe('delivery failures', () => {
  it('tries a failed notification again at the next evaluation, and records both attempts', async () => {
    const harness = engineHarness({ rules: [sizeRule] });
    harness.notifier.failWith = () => new RetryableError('receiver busy');
    harness.source.set('system.database_size_mb', 2048);
    const first = await tick(harness);
    expect(first.notifications).toMatchObject([{ outcome: 'failed', error: 'receiver busy' }]);
    harness.notifier.failWith = undefined;
    await tick(harness, 2);
    expect(harness.notifier.sent).toHaveLength(1);
    const outcomes = harness.store.history({ rule: 'BigDatabase' }).filter((entry) => entry.kind === 'notification').map((entry) => entry.outcome);
    expect(outcomes).toEqual(['sent', 'failed']);
  });

  it('does not retry a notification the notifier refused for good', async () => {
    const harness = engineHarness({ rules: [sizeRule] });
    harness.notifier.failWith = () => new PermanentError('bad request');
    harness.source.set('system.database_size_mb', 2048);
    const report = await tick(harness);
    expect(report.notifications).toMatchObject([{ outcome: 'refused' }]);
    await tick(harness, 5);
    expect(harness.notifier.attempts).toBe(1);
  });

  it('keeps delivering to one notifier when another fails', async () => {
    const broken = new RecordingNotifier('broken');
    broken.failWith = () => new Error('socket hang up');
    const working = new RecordingNotifier('working');
    const harness = engineHarness({ rules: [sizeRule], notifiers: [broken, working] });
    harness.source.set('system.database_size_mb', 2048);
    await tick(harness, 3);
    expect(working.sent).toHaveLength(1);
    expect(broken.attempts).toBe(3);
  });
});

describe('history and restarts', () => {
  it('records transitions and notifications, queryable by rule, time and limit, newest first', async () => {
    const harness = engineHarness({ rules: [responseRule, sizeRule] });
    harness.source.set('insights.avg_response_time_seconds', 7).set('system.database_size_mb', 2048);
    const start = harness.clock.now();
    await tick(harness, 3);
    const slow = harness.store.history({ rule: 'SlowAnswers' });
    expect(slow.map((entry) => [entry.kind, entry.to])).toEqual([
      ['notification', 'firing'],
      ['state', 'firing'],
      ['state', 'pending'],
    ]);
    expect(slow[0]).toMatchObject({ notifier: 'recorder', outcome: 'sent', notificationId: expect.any(String) });
    expect(harness.store.history({ since: start + 2 * MINUTE }).every((entry) => entry.at >= start + 2 * MINUTE)).toBe(true);
    expect(harness.store.history({ limit: 2 })).toHaveLength(2);
  });

  it('keeps a firing alert firing across a restart and does not notify it again before the repeat interval', async () => {
    const first = engineHarness({ rules: [sizeRule], repeatInterval: '1h' });
    first.source.set('system.database_size_mb', 2048);
    await tick(first);
    expect(first.notifier.sent).toHaveLength(1);
    const firingSince = first.store.activeAlerts()[0]!.firingSince;

    const second = await first.restart();
    const report = await tick(second, 30);
    expect(report.firing).toBe(1);
    expect(second.store.activeAlerts()[0]!.firingSince).toBe(firingSince);
    expect(second.notifier.sent).toHaveLength(1);
    await tick(second, 31);
    expect(second.notifier.sent).toHaveLength(2);
    expect(second.notifier.sent[1]!.repeat).toBe(true);
  });

  it('sends the resolve after a restart for an alert notified before it', async () => {
    const first = engineHarness({ rules: [sizeRule] });
    first.source.set('system.database_size_mb', 2048);
    await tick(first);
    const second = await first.restart();
    second.source.set('system.database_size_mb', 1);
    await tick(second, 3);
    expect(second.notifier.sent.map((notification) => notification.status)).toEqual(['firing', 'resolved']);
  });

  it('keeps the pending clock across a restart', async () => {
    const first = engineHarness({ rules: [{ ...responseRule, for: '5m' }] });
    first.source.set('insights.avg_response_time_seconds', 7);
    await tick(first, 3);
    const second = await first.restart();
    await tick(second, 2);
    expect(second.notifier.sent).toEqual([]);
    await tick(second);
    expect(second.notifier.sent).toHaveLength(1);
  });

  it('sees what another process evaluated on the same file, and does not notify twice', async () => {
    const server = engineHarness({ rules: [sizeRule] });
    const cli = engineHarness({ rules: [sizeRule], file: server.file, clock: server.clock, source: server.source, notifier: server.notifier });
    server.source.set('system.database_size_mb', 2048);
    await server.engine.evaluate();
    server.clock.advance(MINUTE);
    await cli.engine.evaluate();
    server.clock.advance(MINUTE);
    await server.engine.evaluate();
    expect(server.notifier.sent).toHaveLength(1);
    expect(cli.store.history({ rule: 'BigDatabase' }).filter((entry) => entry.kind === 'state').map((entry) => entry.to)).toEqual(['firing']);
  });

  it('forgets the state of a rule removed from the config, without a resolve notice', async () => {
    const first = engineHarness({ rules: [sizeRule] });
    first.source.set('system.database_size_mb', 2048);
    await tick(first);
    await first.engine.stop();
    first.store.close();
    const second = engineHarness({ file: first.file, clock: first.clock, source: first.source, notifier: first.notifier, rules: [responseRule] });
    await tick(second, 3);
    expect(second.store.activeAlerts()).toEqual([]);
    expect(second.notifier.sent).toHaveLength(1);
  });
});

function buildFor(harness: ReturnType<typeof engineHarness>, matchers: string[], durationMs: number, startsAt?: number) {
  return buildSilence({ matchers, durationMs, ...(startsAt === undefined ? {} : { startsAt }), createdBy: 'test' }, harness.clock.now());
}
