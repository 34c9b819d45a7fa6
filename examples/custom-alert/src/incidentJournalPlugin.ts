import { isAbsolute, join } from 'node:path';
import { ALERT_NOTIFIERS, definePlugin } from '@strata/core';
import { z } from 'zod';
import { createIncidentJournalNotifier } from './incidentJournalNotifier.js';

export const IncidentJournalOptionsSchema = z
  .object({
    /** Journal file, relative to Strata's data dir. */
    file: z.string().min(1).default('incidents.jsonl'),
    /** Leave out alerts below this severity. */
    minSeverity: z.enum(['info', 'warning', 'critical']).default('warning'),
  })
  .strict();

/**
 * The plugin a team adds to `strata.config.ts`. It contributes its notifier under
 * `extensions.alertNotifiers`; the alerts plugin picks it up at its next evaluation. Nothing to
 * start or stop: the notifier opens the file per notification.
 */
export const incidentJournalPlugin = definePlugin({
  name: 'incident-journal',
  version: '0.0.0',
  options: IncidentJournalOptionsSchema,
  setup(context, options) {
    const file = isAbsolute(options.file) ? options.file : join(context.dataDir, options.file);
    return { extensions: { [ALERT_NOTIFIERS]: [createIncidentJournalNotifier({ file, minSeverity: options.minSeverity })] } };
  },
});
