import { definePlugin } from '@strata/core';
import { z } from 'zod';
import { createWebhookForwarderSink } from './webhookForwarderSink.js';

export const WebhookForwarderOptionsSchema = z
  .object({
    /** Receives each request as a JSON POST `{ "events": [...] }`. */
    url: z.url({ protocol: /^https?$/, error: (issue) => `expected an http:// or https:// URL, got ${JSON.stringify(issue.input)}` }),
    /** Sent with every request, e.g. `{ "authorization": "Bearer …" }`. */
    headers: z.record(z.string(), z.string()).default({}),
    /** Most events in one request. */
    maxEventsPerRequest: z.number().int().min(1).max(10_000).default(500),
    /** How long one request may take before it is retried. */
    requestTimeoutMs: z.number().int().min(100).max(120_000).default(5_000),
  })
  .strict();

/**
 * The plugin a team adds to its config, by object (`webhookForwarderPlugin({ url })`) or by name
 * (`{ "name": "webhook-forwarder", "package": "@strata/example-custom-sink", "options": { "url": … } }`).
 * It contributes one sink; the core runs it. Nothing to start or stop: each request stands alone.
 */
export const webhookForwarderPlugin = definePlugin({
  name: 'webhook-forwarder',
  version: '0.0.0',
  options: WebhookForwarderOptionsSchema,
  setup(_context, options) {
    return { sinks: [createWebhookForwarderSink({ ...options, name: 'webhook-forwarder' })] };
  },
});
