import { PermanentError, RetryableError, type AlertNotification, type AlertNotifier } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { createLogNotifier, deliverNotification, notifierRegistry, type DeliveryPolicy } from '../src/index.js';
import { RecordingNotifier, recordingLogger } from './helpers.js';

const notification: AlertNotification = { id: 'n', status: 'resolved', repeat: false, groupKey: '{}', groupLabels: {}, firing: [], resolved: [], at: 0 };
const policy: DeliveryPolicy = { maxAttempts: 4, timeoutMs: 50, initialBackoffMs: 10, maxBackoffMs: 25 };

function scripted(results: Array<'ok' | 'retry' | 'permanent' | 'hang' | 'throw'>): AlertNotifier & { calls: number } {
  const notifier = {
    name: 'scripted',
    calls: 0,
    async send() {
      const result = results[notifier.calls] ?? 'ok';
      notifier.calls += 1;
      if (result === 'retry') throw new RetryableError('busy', { retryAfterMs: 20 });
      if (result === 'permanent') throw new PermanentError('never');
      if (result === 'throw') throw new TypeError('bug in notifier');
      // Ignores its signal on purpose: the attempt must still end.
      if (result === 'hang') await new Promise(() => undefined);
    },
  };
  return notifier;
}

async function run(notifier: AlertNotifier) {
  const delays: number[] = [];
  const outcome = await deliverNotification(notifier, notification, { policy, signal: new AbortController().signal, logger: recordingLogger(), sleep: async (ms) => void delays.push(ms) });
  return { outcome, delays };
}

describe('notification delivery', () => {
  it('backs off exponentially up to maxBackoff, honouring retryAfter', async () => {
    const { outcome, delays } = await run(scripted(['throw', 'throw', 'retry', 'ok']));
    expect(outcome).toEqual({ ok: true, attempts: 4 });
    expect(delays).toEqual([10, 20, 25]);
  });

  it('ends an attempt that ignores its signal at the timeout', async () => {
    const notifier = scripted(['hang', 'ok']);
    const { outcome } = await run(notifier);
    expect(outcome).toEqual({ ok: true, attempts: 2 });
  });

  it('stops at a permanent failure', async () => {
    const notifier = scripted(['retry', 'permanent', 'ok']);
    const { outcome } = await run(notifier);
    expect(outcome).toEqual({ ok: false, permanent: true, attempts: 2, error: 'never' });
    expect(notifier.calls).toBe(2);
  });

  it('stops retrying once stopped', async () => {
    const controller = new AbortController();
    const notifier = scripted(['retry', 'retry', 'retry', 'retry']);
    const outcome = await deliverNotification(notifier, notification, {
      policy,
      signal: controller.signal,
      logger: recordingLogger(),
      sleep: async () => controller.abort(new Error('shutting down')),
    });
    expect(outcome).toMatchObject({ ok: false, permanent: false, attempts: 1 });
    expect(notifier.calls).toBe(1);
  });
});

describe('notifiers in force', () => {
  it('adds contributed notifiers to the configured ones, skipping malformed ones and taken names with one warning each', () => {
    const logger = recordingLogger();
    const pager = new RecordingNotifier('pager');
    const contributions: unknown[] = [pager, { name: 'no-send' }, new RecordingNotifier('log'), 'nonsense'];
    const notifiers = notifierRegistry([createLogNotifier()], () => contributions, logger);
    expect(notifiers().map((notifier) => notifier.name)).toEqual(['log', 'pager']);
    expect(notifiers().map((notifier) => notifier.name)).toEqual(['log', 'pager']);
    const warnings = logger.lines.filter((line) => line.level === 'warn').map((line) => line.message);
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toContain('alertNotifiers[1]: a notifier needs a string name and a send(notification, context) function');
    expect(warnings[1]).toContain('named "log": that name is taken');
  });
});
