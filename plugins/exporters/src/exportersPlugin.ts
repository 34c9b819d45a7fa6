import { isAbsolute, join } from 'node:path';
import { definePlugin, parseDuration } from '@strata/core';
import { ExportersOptionsSchema } from './exportersOptions.js';
import { createExportRegistry } from './exportRegistry.js';
import { RotatingJsonlSink } from './rotatingJsonlSink.js';

/**
 * The exporters plugin: the rotating JSONL sink (every committed batch appended to files sealed by
 * size and age), and a check at start-up of the export formats and sources other plugins contribute
 * (`extensions.exportFormats`, `extensions.exportSources`), so a broken contribution is reported
 * once, in the log, naming what is wrong. Export and import themselves (`strata export`,
 * `exportToFile`, `importFile`) need no plugin: they read the tiers and contributions of any Strata.
 */
export const exportersPlugin = definePlugin({
  name: 'exporters',
  version: '0.1.0',
  options: ExportersOptionsSchema,
  setup(context, options) {
    const settings = options.sink;
    const sink =
      !settings.enabled
        ? undefined
        : new RotatingJsonlSink({
            dir: isAbsolute(settings.dir) ? settings.dir : join(context.dataDir, settings.dir),
            filePrefix: settings.filePrefix,
            maxBytes: settings.maxBytes,
            maxAgeMs: settings.rotateEvery === false ? null : parseDuration(settings.rotateEvery)!,
            gzip: settings.gzip,
            fsync: settings.fsync,
            maxFiles: settings.maxFiles ?? null,
            now: () => context.clock.now(),
            onEvent: (message, details) => context.logger.warn(details, message),
          });
    return {
      ...(sink ? { sinks: [sink] } : {}),
      async start() {
        createExportRegistry({
          contributions: (key) => context.contributions(key),
          onSkipped: (kind, reason) => context.logger.error(`skipped a contributed export ${kind}: ${reason}`),
        });
        await sink?.open();
      },
    };
  },
});
