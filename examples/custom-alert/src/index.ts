export { createIncidentJournalNotifier, type IncidentJournalOptions, type JournalEntry } from './incidentJournalNotifier.js';
export { IncidentJournalOptionsSchema, incidentJournalPlugin } from './incidentJournalPlugin.js';
export { incidentJournalPlugin as default } from './incidentJournalPlugin.js';
