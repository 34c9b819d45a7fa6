import type { PluginCatalog } from '@strata/core';

/**
 * Plugins the CLI can load by name from its own dependencies, so the embedded default (hot SQLite + privacy)
 * works wherever the CLI is installed, even in a project that never installed `@strata/hot-sqlite`.
 * Loaded lazily: commands that never start Strata never load SQLite.
 */
export const cliCatalog: PluginCatalog = {
  'hot-sqlite': async () => (await import('@strata/hot-sqlite')).hotSqlitePlugin,
  'hot-postgres': async () => (await import('@strata/hot-postgres')).hotPostgresPlugin,
  privacy: async () => (await import('@strata/privacy')).privacyPlugin,
  alerts: async () => (await import('@strata/alerts')).alertsPlugin,
  cache: async () => (await import('@strata/cache')).cachePlugin,
  exporters: async () => (await import('@strata/exporters')).exportersPlugin,
  backup: async () => (await import('@strata/backup')).backupPlugin,
  quality: async () => (await import('@strata/quality')).qualityPlugin,
  'historical-sqlite': async () => (await import('@strata/historical-sqlite')).historicalSqlitePlugin,
  'json-archive': async () => (await import('@strata/json-archive')).jsonArchivePlugin,
  retention: async () => (await import('@strata/retention')).retentionPlugin,
};
