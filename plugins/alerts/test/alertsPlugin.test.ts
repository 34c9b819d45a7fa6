import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ALERT_NOTIFIERS, createStrata, definePlugin, type Strata, type StrataConfig } from '@strata/core';
import { createFakeClock } from '@strata/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AlertStore, PLAN_PRESET_METRICS, PLAN_PRESET_RULES, alertsPlugin, type EvaluationReport } from '../src/index.js';
import { MINUTE, RecordingNotifier, ScriptedSource, metricSourcePlugin, nullHotTierPlugin, onCleanup, recordingLogger, tempDir } from './helpers.js';

const queueRule = { name: 'QueueBackedUp', metric: 'app.queue_depth', op: '>' as const, threshold: 1_000, severity: 'critical' as const, summary: '{{value}} events waiting' };

async function open(config: StrataConfig, options: { dataDir: string; clock?: ReturnType<typeof createFakeClock>; logger?: ReturnType<typeof recordingLogger> }): Promise<Strata> {
  const strata = await createStrata({
    config,
    dataDir: options.dataDir,
    clock: options.clock ?? createFakeClock(Date.UTC(2026, 0, 1, 12)),
    ...(options.logger ? { logger: options.logger } : { logLevel: 'silent' as const }),
    scheduleJobs: false,
  });
  onCleanup(() => strata.close());
  return strata;
}

function pagerPlugin(notifier: RecordingNotifier) {
  return definePlugin({ name: 'pager', version: '0.0.0-test', options: z.object({}), setup: () => ({ extensions: { [ALERT_NOTIFIERS]: [notifier] } }) });
}

describe('the alerts plugin under createStrata', () => {
  it('delivers to a third-party notifier a plugin contributes through definePlugin', async () => {
    const source = new ScriptedSource().set('app.queue_depth', 5_000);
    const pager = new RecordingNotifier('pager');
    const strata = await open(
      { plugins: [nullHotTierPlugin(), metricSourcePlugin(source), alertsPlugin({ preset: 'none', notifiers: [], rules: [queueRule] }), pagerPlugin(pager)] },
      { dataDir: tempDir() },
    );
    const report = (await strata.runJob('alerts')) as EvaluationReport;
    expect(report.firing).toBe(1);
    expect(pager.sent).toHaveLength(1);
    expect(pager.sent[0]!.firing[0]).toMatchObject({ rule: 'QueueBackedUp', summary: '5000 events waiting', labels: { alertname: 'QueueBackedUp', severity: 'critical' } });
  });

  it('logs notifications through Strata’s logger with the default log notifier', async () => {
    const logger = recordingLogger();
    const source = new ScriptedSource().set('app.queue_depth', 5_000);
    const strata = await open({ plugins: [nullHotTierPlugin(), metricSourcePlugin(source), alertsPlugin({ preset: 'none', rules: [queueRule] })] }, { dataDir: tempDir(), logger });
    await strata.runJob('alerts');
    const line = logger.lines.find((entry) => entry.message.includes('QueueBackedUp'));
    expect(line).toMatchObject({ level: 'error', fields: { plugin: 'alerts', notifier: 'log', status: 'firing' } });
    expect(line!.message).toContain('5000 events waiting');
  });

  it('posts to a webhook configured in a JSON config file', async () => {
    const bodies: string[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        bodies.push(body);
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`;
    const cwd = tempDir();
    writeFileSync(
      join(cwd, 'strata.config.json'),
      JSON.stringify({ plugins: ['null-hot', 'test-metrics', { name: 'alerts', options: { preset: 'none', rules: [queueRule], notifiers: [{ type: 'webhook', url, timeout: '5s' }] } }] }),
    );
    const source = new ScriptedSource().set('app.queue_depth', 5_000);
    const strata = await createStrata({
      cwd,
      catalog: { 'null-hot': () => nullHotTierPlugin(), 'test-metrics': () => metricSourcePlugin(source), alerts: () => alertsPlugin },
      logLevel: 'silent',
      scheduleJobs: false,
    });
    onCleanup(() => strata.close());
    await strata.runJob('alerts');
    expect(bodies).toHaveLength(1);
    expect(JSON.parse(bodies[0]!)).toMatchObject({ version: 1, status: 'firing', firing: [{ rule: 'QueueBackedUp' }] });
  });

  it('ships the plan preset, names the metrics it expects, and reports the ones nobody provides as no data', async () => {
    const logger = recordingLogger();
    const source = new ScriptedSource().set('insights.error_rate', 0.2);
    const pager = new RecordingNotifier('pager');
    const clock = createFakeClock(Date.UTC(2026, 0, 1, 12));
    const strata = await open({ plugins: [nullHotTierPlugin(), metricSourcePlugin(source), alertsPlugin(), pagerPlugin(pager)] }, { dataDir: tempDir(), logger, clock });
    let report = (await strata.runJob('alerts')) as EvaluationReport;
    expect(report.rules.map((rule) => rule.rule)).toEqual(PLAN_PRESET_RULES.map((rule) => rule.name));
    expect(Object.keys(PLAN_PRESET_METRICS).sort()).toEqual([...new Set(PLAN_PRESET_RULES.map((rule) => rule.metric))].sort());
    for (let minute = 0; minute < 5; minute += 1) {
      clock.advance(MINUTE);
      report = (await strata.runJob('alerts')) as EvaluationReport;
    }
    expect(report.rules.find((rule) => rule.rule === 'HighErrorRate')?.state).toBe('firing');
    expect(pager.sent[0]!.firing.map((alert) => alert.summary)).toEqual(['Error rate is 20% (threshold 5%)']);
    // With a hot tier that keeps no rollups, the core's insights source cannot answer: those rules say why.
    expect(report.rules.find((rule) => rule.rule === 'LowSuccessRate')?.state).toBe('no data');
  });

  it('keeps a firing alert across a restart of Strata and does not notify it again early', async () => {
    const dataDir = tempDir();
    const clock = createFakeClock(Date.UTC(2026, 0, 1, 12));
    const source = new ScriptedSource().set('app.queue_depth', 5_000);
    const pager = new RecordingNotifier('pager');
    const config = (): StrataConfig => ({ plugins: [nullHotTierPlugin(), metricSourcePlugin(source), alertsPlugin({ preset: 'none', notifiers: [], rules: [queueRule] }), pagerPlugin(pager)] });
    const first = await open(config(), { dataDir, clock });
    await first.runJob('alerts');
    await first.close();
    clock.advance(10 * MINUTE);
    const second = await open(config(), { dataDir, clock });
    const report = (await second.runJob('alerts')) as EvaluationReport;
    await second.close();
    expect(report.firing).toBe(1);
    expect(pager.sent).toHaveLength(1);
    const store = AlertStore.open(join(dataDir, 'alerts.db'));
    try {
      expect(store.activeAlerts()).toMatchObject([{ rule: 'QueueBackedUp', status: 'firing', firingSince: Date.UTC(2026, 0, 1, 12) }]);
      expect(store.history({ rule: 'QueueBackedUp' }).filter((entry) => entry.kind === 'notification')).toHaveLength(1);
    } finally {
      store.close();
    }
  });

  it('closes promptly while a webhook hangs, and delivers the notification after the next start', async () => {
    let hang = true;
    let received!: () => void;
    const firstRequest = new Promise<void>((resolve) => (received = resolve));
    const bodies: string[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        received();
        if (hang) return;
        bodies.push(body);
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onCleanup(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`;
    const dataDir = tempDir();
    const source = new ScriptedSource().set('app.queue_depth', 5_000);
    const config = (): StrataConfig => ({
      plugins: [nullHotTierPlugin(), metricSourcePlugin(source), alertsPlugin({ preset: 'none', rules: [queueRule], notifiers: [{ type: 'webhook', url, timeout: '1h', maxAttempts: 5 }] })],
      shutdownTimeoutMs: 60_000,
    });
    const first = await open(config(), { dataDir });
    const job = first.runJob('alerts');
    await firstRequest;
    await first.close();
    const report = (await job) as EvaluationReport;
    expect(report.notifications).toMatchObject([{ notifier: 'webhook', outcome: 'failed' }]);

    hang = false;
    const second = await open(config(), { dataDir });
    await second.runJob('alerts');
    expect(bodies).toHaveLength(1);
    expect(JSON.parse(bodies[0]!)).toMatchObject({ status: 'firing', repeat: false, firing: [{ rule: 'QueueBackedUp' }] });
  });

  it('closes cleanly when started and stopped without ever evaluating', async () => {
    const strata = await open({ plugins: [nullHotTierPlugin(), alertsPlugin({ evaluationInterval: '1s' })] }, { dataDir: tempDir() });
    await strata.close();
    await strata.close();
    expect(strata.jobs().map((job) => job.name)).toContain('alerts');
  });
});

describe('bad alert configuration', () => {
  async function configError(options: unknown): Promise<string> {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'strata.config.json'), JSON.stringify({ plugins: ['null-hot', { name: 'alerts', options }] }));
    try {
      await createStrata({ cwd, catalog: { 'null-hot': () => nullHotTierPlugin(), alerts: () => alertsPlugin }, logLevel: 'silent', scheduleJobs: false });
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('expected a config error');
  }

  it('names the path of a bad rule duration', async () => {
    const message = await configError({ rules: [{ ...queueRule, for: 'five minutes' }] });
    expect(message).toContain('plugins[1].options.rules[0].for: expected a duration such as 30s, 5m or 1h, got "five minutes"');
  });

  it('reports every problem at once, each with its path', async () => {
    const message = await configError({
      rules: [
        { name: 'A', metric: 'app.queue_depth', op: '=>', threshold: 1 },
        { name: 'A', metric: 'app.queue_depth', op: '>', threshold: 'high', treshold: 3 },
        { name: 'B', metric: 'app.queue_depth', op: '>', threshold: 1, labels: { severity: 'low' }, summary: 'at {{valu}}' },
      ],
      notifiers: [{ type: 'webhook', url: 'ftp://example.com' }, { type: 'pigeon' }, { type: 'webhook', name: 'second', url: 'https://user:pw@hooks.example.com/x' }],
      groupBy: ['not a label'],
      evaluationInterval: '10ms',
    });
    expect(message).toContain('plugins[1].options.rules[0].op: expected one of >, >=, <, <=, ==, !=, got "=>"');
    expect(message).toContain('plugins[1].options.rules[1].threshold: expected number, got string');
    expect(message).toContain('plugins[1].options.rules[1]: unknown key(s) "treshold"');
    expect(message).toContain('plugins[1].options.rules[2].labels: must not set alertname or severity');
    expect(message).toContain('plugins[1].options.rules[2].summary: unknown placeholder {{valu}}');
    expect(message).toContain('plugins[1].options.notifiers[0].url: expected an http:// or https:// URL, got "ftp://example.com"');
    expect(message).toContain('plugins[1].options.notifiers[1].type');
    expect(message).toContain('plugins[1].options.notifiers[2].url: must not hold a user or password; send credentials in headers');
    expect(message).toContain('plugins[1].options.groupBy[0]: "not a label" is not a label name');
    expect(message).toContain('plugins[1].options.evaluationInterval: must be at least 1000 ms, got "10ms"');
  });

  it('rejects two rules with one name', async () => {
    const message = await configError({ rules: [queueRule, queueRule] });
    expect(message).toContain('plugins[1].options.rules[1].name: "QueueBackedUp" is already the name of rules[0]; rule names must be unique');
  });

  it('rejects two notifiers with one name', async () => {
    const message = await configError({ notifiers: [{ type: 'webhook', url: 'https://a.example/hook' }, { type: 'webhook', url: 'https://b.example/hook' }] });
    expect(message).toContain('plugins[1].options.notifiers[1].name: "webhook" is already the name of notifiers[0]; give each notifier its own name');
  });
});
