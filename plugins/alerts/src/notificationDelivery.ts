import { PermanentError, RetryableError, describeError, type AlertNotification, type AlertNotifier, type Logger } from '@strata/core';

/** The retry policy in force for one notifier (its own `delivery`, else the plugin's defaults). */
export interface DeliveryPolicy {
  maxAttempts: number;
  timeoutMs: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export type DeliveryOutcome =
  | { ok: true; attempts: number }
  | {
      ok: false;
      /** True when the notifier refused it for good (PermanentError): it is not tried again. */
      permanent: boolean;
      attempts: number;
      error: string;
    };

/** Waits `ms`, or less when `signal` aborts. Tests replace it to record delays instead of sleeping. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });

export function policyFor(notifier: AlertNotifier, defaults: DeliveryPolicy): DeliveryPolicy {
  const own = notifier.delivery ?? {};
  return {
    maxAttempts: own.maxAttempts ?? defaults.maxAttempts,
    timeoutMs: own.timeoutMs ?? defaults.timeoutMs,
    initialBackoffMs: own.initialBackoffMs ?? defaults.initialBackoffMs,
    maxBackoffMs: own.maxBackoffMs ?? defaults.maxBackoffMs,
  };
}

/**
 * Sends one notification through one notifier, retrying retryable failures with exponential
 * backoff (a `retryAfterMs` the notifier gives is honoured, up to `maxBackoffMs`). Each attempt
 * gets its own signal that aborts after `timeoutMs`; an attempt that ignores it still counts as
 * timed out then. Never throws: the outcome says what happened.
 */
export async function deliverNotification(
  notifier: AlertNotifier,
  notification: AlertNotification,
  options: { policy: DeliveryPolicy; signal: AbortSignal; logger: Logger; sleep?: Sleep },
): Promise<DeliveryOutcome> {
  const { policy, signal, logger } = options;
  const sleep = options.sleep ?? realSleep;
  let lastError = 'not attempted';
  for (let attempt = 1; attempt <= policy.maxAttempts; attempt += 1) {
    if (signal.aborted) return { ok: false, permanent: false, attempts: attempt - 1, error: `stopped before attempt ${attempt}: ${describeError(signal.reason)}` };
    let retryAfterMs: number | undefined;
    try {
      await attemptOnce(notifier, notification, attempt, policy.timeoutMs, signal, logger);
      return { ok: true, attempts: attempt };
    } catch (error) {
      lastError = describeError(error);
      if (error instanceof PermanentError) return { ok: false, permanent: true, attempts: attempt, error: lastError };
      if (error instanceof RetryableError) retryAfterMs = error.retryAfterMs;
      logger.warn({ notifier: notifier.name, attempt, of: policy.maxAttempts, notification: notification.id }, `notification attempt failed: ${lastError}`);
    }
    if (attempt < policy.maxAttempts) {
      const backoff = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (attempt - 1));
      await sleep(retryAfterMs !== undefined ? Math.min(policy.maxBackoffMs, Math.max(backoff, retryAfterMs)) : backoff, signal);
    }
  }
  return { ok: false, permanent: false, attempts: policy.maxAttempts, error: lastError };
}

async function attemptOnce(notifier: AlertNotifier, notification: AlertNotification, attempt: number, timeoutMs: number, outer: AbortSignal, logger: Logger): Promise<void> {
  const controller = new AbortController();
  const abortFromOuter = () => controller.abort(outer.reason);
  outer.addEventListener('abort', abortFromOuter, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const stopped = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const timeout = new RetryableError(`${notifier.name}: no answer within ${timeoutMs} ms`);
      controller.abort(timeout);
    }, timeoutMs);
    timer.unref();
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason instanceof Error ? controller.signal.reason : new RetryableError(`${notifier.name}: aborted`)), { once: true });
  });
  // A rejection nobody awaits (the send won the race) must not surface as unhandled.
  stopped.catch(() => undefined);
  try {
    await Promise.race([notifier.send(notification, { signal: controller.signal, logger: logger.child({ notifier: notifier.name }), attempt }), stopped]);
  } catch (error) {
    // A send that failed because it was aborted says so vaguely ("operation was aborted"); the reason says why.
    if (controller.signal.aborted && controller.signal.reason instanceof Error) throw controller.signal.reason;
    throw error;
  } finally {
    clearTimeout(timer);
    outer.removeEventListener('abort', abortFromOuter);
  }
}
