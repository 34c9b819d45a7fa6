import { PermanentError, RetryableError, parseDuration, type AlertNotification, type AlertNotifier } from '@strata/core';
import type { WebhookNotifierOptions } from './alertOptions.js';

/** The JSON body a webhook receives: the notification, plus what sent it. */
export interface WebhookPayload extends AlertNotification {
  version: 1;
  source: 'strata';
}

const BODY_EXCERPT = 300;

/**
 * POSTs each notification as JSON. A 2xx answer is delivery. 408, 425, 429 and 5xx, network
 * errors and timeouts are retryable (a `Retry-After` in seconds is honoured); any other status is
 * permanent and not retried, since sending the same body again would get the same answer.
 * Redirects are not followed: a webhook that moved is a config change, not something to guess.
 */
export function createWebhookNotifier(options: Omit<WebhookNotifierOptions, 'type'>): AlertNotifier {
  const url = options.url;
  const target = redact(url);
  return {
    name: options.name,
    delivery: {
      ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
      ...(options.timeout !== undefined ? { timeoutMs: parseDuration(options.timeout)! } : {}),
      ...(options.initialBackoff !== undefined ? { initialBackoffMs: parseDuration(options.initialBackoff)! } : {}),
      ...(options.maxBackoff !== undefined ? { maxBackoffMs: parseDuration(options.maxBackoff)! } : {}),
    },
    async send(notification, context) {
      const payload: WebhookPayload = { version: 1, source: 'strata', ...notification };
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'strata-alerts', ...options.headers },
          body: JSON.stringify(payload),
          redirect: 'manual',
          signal: context.signal,
        });
      } catch (error) {
        if (context.signal.aborted) throw context.signal.reason;
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        throw new RetryableError(`${options.name}: cannot reach ${target} (${cause?.code ?? cause?.message ?? (error as Error).message})`, { cause: error });
      }
      const excerpt = await readExcerpt(response);
      if (response.status >= 200 && response.status < 300) return;
      const answer = `${target} answered ${response.status}${excerpt ? `: ${excerpt}` : ''}`;
      if (response.status === 408 || response.status === 425 || response.status === 429 || response.status >= 500) {
        const retryAfterMs = retryAfter(response.headers.get('retry-after'));
        throw new RetryableError(`${options.name}: ${answer}`, retryAfterMs === undefined ? {} : { retryAfterMs });
      }
      const hint = response.status >= 300 && response.status < 400 ? `; set the webhook url to where it redirects (${response.headers.get('location') ?? 'no location given'})` : '; check the url and headers';
      throw new PermanentError(`${options.name}: ${answer}${hint}`);
    },
  };
}

async function readExcerpt(response: Response): Promise<string> {
  try {
    const text = await response.text();
    return text.replace(/\s+/g, ' ').trim().slice(0, BODY_EXCERPT);
  } catch {
    return '';
  }
}

function retryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1_000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The URL without credentials or query, for messages (tokens often live in either). */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return 'the webhook url';
  }
}
