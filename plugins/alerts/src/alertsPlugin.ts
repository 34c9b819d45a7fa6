import { ALERT_NOTIFIERS, definePlugin } from '@strata/core';
import { AlertEngine } from './alertEngine.js';
import { AlertsOptionsSchema } from './alertOptions.js';
import { alertsFileOf, timingsOf, ALERTS_PLUGIN_NAME } from './alertsSettings.js';
import { AlertStore } from './alertStore.js';
import { compileRules } from './compiledRule.js';
import { EvaluationLoop } from './evaluationLoop.js';
import { createConfiguredNotifiers, notifierRegistry } from './notifierRegistry.js';

/**
 * Threshold alerts over every metric source (system monitor, insights, quality…): rules with a
 * pending duration, grouping, deduplication, repeat interval, one resolve notice, silences,
 * and notifiers (log, webhook, and any a plugin contributes). State and history live in
 * `<dataDir>/alerts.db`, so a restart neither forgets a firing alert nor notifies it again early.
 */
export const alertsPlugin = definePlugin({
  name: ALERTS_PLUGIN_NAME,
  version: '0.1.0',
  options: AlertsOptionsSchema,
  setup(context, options) {
    const timings = timingsOf(options);
    const store = AlertStore.open(alertsFileOf(context.dataDir, options.file));
    let engine: AlertEngine;
    try {
      engine = new AlertEngine({
        rules: compileRules(options),
        store,
        sources: () => context.metricSources(),
        notifiers: notifierRegistry(createConfiguredNotifiers(options.notifiers), () => context.contributions<unknown>(ALERT_NOTIFIERS), context.logger),
        clock: context.clock,
        logger: context.logger,
        groupBy: options.groupBy,
        repeatIntervalMs: timings.repeatIntervalMs,
        sourceTimeoutMs: timings.sourceTimeoutMs,
        historyRetentionMs: timings.historyRetentionMs,
        deliveryDefaults: timings.delivery,
      });
    } catch (error) {
      store.close();
      throw error;
    }
    const loop = new EvaluationLoop(engine, timings.evaluationIntervalMs, context.logger);
    return {
      jobs: [
        {
          name: 'alerts',
          description: 'evaluate every alert rule now and send the notifications that are due',
          run: (job) => engine.evaluate({ signal: job.signal }),
        },
      ],
      start() {
        loop.start();
      },
      flush: () => engine.flush(),
      async stop() {
        try {
          await loop.stop();
          await engine.stop();
        } finally {
          store.close();
        }
      },
    };
  },
});
