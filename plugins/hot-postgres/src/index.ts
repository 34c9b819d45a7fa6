export { HotPostgresTier, type HotPostgresTierOptions, type PgQueryable } from './hotPostgresTier.js';
export { CONNECTION_STRING_ENV, HotPostgresOptionsSchema, hotPostgresPlugin, type HotPostgresOptions } from './hotPostgresPlugin.js';
export { hotPostgresPlugin as default } from './hotPostgresPlugin.js';
export { probePostgres } from './probe.js';
