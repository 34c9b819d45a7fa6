export { AlertEngine, type AlertEngineOptions, type DeliveryReport, type EvaluationReport } from './alertEngine.js';
export { alertLabels, fingerprintOf, groupOf } from './alertIdentity.js';
export {
  AlertRuleSchema,
  AlertsOptionsSchema,
  LogNotifierSchema,
  NotifierOptionsSchema,
  RESERVED_LABELS,
  WebhookNotifierSchema,
  type AlertRuleInput,
  type AlertRuleOptions,
  type AlertsOptions,
  type NotifierOptions,
  type ResolvedAlertsOptions,
  type WebhookNotifierOptions,
} from './alertOptions.js';
export {
  ALERTS_PLUGIN_NAME,
  alertsFileOf,
  alertsOverview,
  alertsSettingsOf,
  timingsOf,
  type AlertsOverview,
  type AlertsSettings,
  type RuleOverview,
} from './alertsSettings.js';
export { AlertStore, type EvaluationChanges } from './alertStore.js';
export type { AlertHistoryEntry, HistoryQuery, NewHistoryEntry, RuleState, RuleStatus, StateTransition, TrackedAlert } from './alertTypes.js';
export { compileRules, type CompiledRule } from './compiledRule.js';
export { planDeliveries, type DeliveryLedger, type PlanInput, type PlannedDelivery } from './deliveryPlanner.js';
export { formatLabels } from './formatLabels.js';
export { formatLabelMatcher, matchesAll, parseLabelMatcher, type LabelMatcher, type MatchOperator } from './labelMatcher.js';
export { createLogNotifier, describeNotification } from './logNotifier.js';
export { createConfiguredNotifiers, notifierRegistry } from './notifierRegistry.js';
export { deliverNotification, policyFor, realSleep, type DeliveryOutcome, type DeliveryPolicy, type Sleep } from './notificationDelivery.js';
export { PLAN_PRESET_METRICS, PLAN_PRESET_RULES } from './planPreset.js';
export { evaluateRule, type RuleEvaluation, type RuleInput } from './ruleEvaluation.js';
export { buildSilence, isSilenceActive, silencesMatching, type Silence, type SilenceInput } from './silence.js';
export { checkSummaryTemplate, formatNumber, formatPercent, renderSummary } from './summaryTemplate.js';
export { createWebhookNotifier, type WebhookPayload } from './webhookNotifier.js';
export { EvaluationLoop } from './evaluationLoop.js';
export { alertsPlugin } from './alertsPlugin.js';
export { alertsPlugin as default } from './alertsPlugin.js';
