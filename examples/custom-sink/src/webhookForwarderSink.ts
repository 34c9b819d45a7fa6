import { createHash } from 'node:crypto';
import { PermanentError, RetryableError, type Interaction, type Sink } from '@strata/core';

export interface WebhookForwarderOptions {
  /** Receives each request as a JSON POST: `{ "events": [...] }`. */
  url: string;
  /** Sent with every request (authorization, a tenant id…). */
  headers?: Record<string, string>;
  /** Most events in one request; a larger committed batch is sent as several requests. */
  maxEventsPerRequest: number;
  /** How long one request may take before it counts as failed (and is retried). */
  requestTimeoutMs: number;
  /** Name Strata counts the sink under in `metrics().sinks`. Default `webhook-forwarder`. */
  name?: string;
}

/** Statuses that say "try again later" although they are not 5xx. */
const RETRY_LATER = new Set([408, 425, 429]);
/** A receiver asking to wait longer than this would hold every later batch behind it. */
const MAX_RETRY_AFTER_MS = 60_000;

/**
 * A sink is an object with a `name` and a `consume(batch, signal)` that resolves once the batch is
 * delivered. Strata calls it after the hot tier committed the batch, one batch at a time, off the
 * ingest path; it retries with backoff when `consume` throws `RetryableError` and drops (and
 * counts) the batch when it throws `PermanentError`. The sink decides only which is which.
 */
export function createWebhookForwarderSink(options: WebhookForwarderOptions): Sink {
  const name = options.name ?? 'webhook-forwarder';
  // Strata retries a failed batch by calling consume again with the same array: remember how far
  // it got, so the requests the receiver already accepted are not sent twice.
  const sentSoFar = new WeakMap<readonly Interaction[], number>();

  async function post(events: readonly Interaction[], signal: AbortSignal): Promise<void> {
    const body = JSON.stringify({ events });
    let response: Response;
    try {
      response = await fetch(options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          // The same events give the same key, so a receiver can ignore a request it already has.
          'idempotency-key': createHash('sha256').update(events.map((event) => event.eventId).join('\n')).digest('hex').slice(0, 32),
          ...options.headers,
        },
        body,
        signal: AbortSignal.any([signal, AbortSignal.timeout(options.requestTimeoutMs)]),
      });
    } catch (error) {
      if (signal.aborted) throw error; // Strata is closing; it counts what is left itself
      const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${options.requestTimeoutMs} ms` : describeFetchError(error);
      throw new RetryableError(`${name}: POST ${options.url} failed (${reason})`, { cause: error });
    }
    await response.body?.cancel(); // only the status matters; free the connection
    if (response.ok) return;

    const what = `${name}: ${options.url} answered ${response.status} to ${events.length} event(s)`;
    if (response.status >= 500 || RETRY_LATER.has(response.status)) {
      throw new RetryableError(what, { retryAfterMs: retryAfterMs(response.headers.get('retry-after')) });
    }
    // Any other 4xx: sending the same request again would get the same answer.
    throw new PermanentError(`${what}; the batch is dropped: check url and headers, or what the receiver accepts`);
  }

  return {
    name,
    async consume(batch, signal) {
      let sent = sentSoFar.get(batch) ?? 0;
      while (sent < batch.length) {
        const events = batch.slice(sent, sent + options.maxEventsPerRequest);
        await post(events, signal);
        sent += events.length;
        sentSoFar.set(batch, sent);
      }
      sentSoFar.delete(batch);
    },
  };
}

/** `Retry-After` in seconds or as an HTTP date; undefined lets Strata's backoff decide. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const ms = /^\d+$/.test(header.trim()) ? Number(header) * 1_000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS) : undefined;
}

function describeFetchError(error: unknown): string {
  // fetch wraps the network error (ECONNREFUSED, ENOTFOUND…) in a TypeError("fetch failed").
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
