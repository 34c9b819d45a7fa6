import { isAbsolute, join } from 'node:path';
import { AlertStore, alertsSettingsOf } from '@strata/alerts';
import type { Strata } from '@strata/core';
import { EXPORT_SOURCES, alertHistorySource, qualityHistorySource, type ExportSource } from '@strata/exporters';
import { QualityStore, type ResolvedQualityOptions } from '@strata/quality';

/**
 * Export sources over the history of the quality and alerts plugins, when the config lists them
 * and they do not contribute `quality-history` / `alert-history` sources themselves (once they do,
 * theirs are used). Each export opens the plugin's SQLite file, reads the history and closes it:
 * both files are in WAL mode, so this works while a server writes them.
 */
export function pluginHistorySources(strata: Strata): ExportSource[] {
  const contributed = new Set(strata.contributions<{ dataset?: unknown } | null>(EXPORT_SOURCES).map((source) => source?.dataset));
  const sources: ExportSource[] = [];
  const alerts = alertsSettingsOf(strata.config);
  if (alerts && !contributed.has('alert-history')) {
    sources.push(
      alertHistorySource((query) => {
        const store = AlertStore.open(alerts.file);
        try {
          return store.history(query);
        } finally {
          store.close();
        }
      }),
    );
  }
  const quality = strata.config.plugins.find((plugin) => plugin.definition.name === 'quality');
  if (quality && !contributed.has('quality-history')) {
    const options = quality.options as ResolvedQualityOptions;
    const file = isAbsolute(options.file) ? options.file : join(strata.config.dataDir, options.file);
    sources.push(
      qualityHistorySource((query) => {
        const store = QualityStore.open({ file, busyTimeoutMs: options.busyTimeoutMs });
        try {
          return store.history(query);
        } finally {
          store.close();
        }
      }),
    );
  }
  return sources;
}
