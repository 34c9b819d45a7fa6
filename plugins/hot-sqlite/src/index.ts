export { HotSqliteTier, type HotSqliteTierOptions, type SynchronousMode } from './hotSqliteTier.js';
export { HotSqliteOptionsSchema, hotSqlitePlugin, type HotSqliteOptions } from './hotSqlitePlugin.js';
export { HOT_SQLITE_MIGRATIONS } from './migrations.js';
export { SchemaMigrator, type Migration, type MigrationResult } from './schemaMigrator.js';
export { hotSqlitePlugin as default } from './hotSqlitePlugin.js';
