export { createWebhookForwarderSink, type WebhookForwarderOptions } from './webhookForwarderSink.js';
export { WebhookForwarderOptionsSchema, webhookForwarderPlugin } from './webhookForwarderPlugin.js';
export { webhookForwarderPlugin as default } from './webhookForwarderPlugin.js';
