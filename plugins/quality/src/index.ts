export { businessRuleCheck, RULE_PAGE_SIZE } from './businessRuleCheck.js';
export {
  formatRate,
  skippedResult,
  statusAbove,
  statusValue,
  worse,
  type CheckContext,
  type CheckResult,
  type CheckStatus,
  type QualityCheck,
  type QualityReading,
} from './checkResult.js';
export { completenessCheck } from './completenessCheck.js';
export { consistencyCheck, type Mismatch, type MismatchKind } from './consistencyCheck.js';
export { baselineSourceOf, type BaselineSource, type MonthlyBaseline } from './findings/baselineSource.js';
export { FINDING_KINDS, isFindingKind, type Finding, type FindingKind, type FindingSeverity, type FindingWindow, type SkippedRule } from './findings/finding.js';
export { boundedMeanDropZ, proportionDropZ } from './findings/findingStatistics.js';
export { FINDING_RULES, findInsights, type FindInsightsInput, type InsightsAnalysis } from './findings/findInsights.js';
export { DEFAULT_INSIGHTS_SCHEDULE, InsightsOptionsSchema, type InsightsOptions, type ResolvedInsightsOptions } from './findings/insightsOptions.js';
export { openInsightsService, type InsightsService, type InsightsServiceOptions, type RunInsightsOptions } from './findings/insightsService.js';
export { DEFAULT_FINDINGS_LIMIT, InsightStore, MAX_FINDINGS_LIMIT, type FindingsQuery, type InsightRun, type StoredFinding } from './findings/insightStore.js';
export { countFindings, summarizeInsightRun } from './findings/insightSummary.js';
export { findingsErasureParticipant, type QuestionLookup } from './findings/findingsErasure.js';
export { QUOTING_KINDS, quotedQuestionHashes } from './findings/quotedQuestions.js';
export { insightWindows, type InsightWindows } from './findings/insightWindows.js';
export { questionTokens } from './findings/unansweredClusterRule.js';
export { freshnessCheck } from './freshnessCheck.js';
export { HotSqliteQualitySource, hotSqliteFileOf, hotSqliteQualitySource, type HotSqliteQualitySourceOptions } from './hotSqliteQualitySource.js';
export { INTERACTION_FIELDS, OPTIONAL_FIELDS, REQUIRED_FIELDS, interactionField, type FieldType, type FieldValues, type InteractionField, type OptionalField } from './interactionFields.js';
export { QualitySetupError, QualityStoreError, RuleSyntaxError } from './qualityErrors.js';
export { qualityMetricSource } from './qualityMetricSource.js';
export {
  DEFAULT_QUALITY_SCHEDULE,
  QualityOptionsSchema,
  type BusinessRuleOptions,
  type QualityOptions,
  type ResolvedQualityOptions,
} from './qualityOptions.js';
export { qualityPlugin } from './qualityPlugin.js';
export {
  countStatuses,
  overallStatus,
  summarizeReport,
  type QualityHistoryEntry,
  type QualityHistoryQuery,
  type QualityReport,
  type QualityTrigger,
} from './qualityReport.js';
export { QualityRunner, type QualityRunnerOptions, type RunQualityOptions } from './qualityRunner.js';
export { openQualityService, type QualityService, type QualityServiceOptions } from './qualityService.js';
export type {
  BucketMeasures,
  ColumnShape,
  DuplicateCount,
  FieldPage,
  IndexShape,
  MissingValues,
  QualitySource,
  RawExtent,
  SchemaSnapshot,
  SessionComparison,
  SessionTotals,
  TableShape,
} from './qualitySource.js';
export { DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT, QUALITY_MIGRATIONS, QualityStore } from './qualityStore.js';
export { MAD_SCALE, median, medianAbsoluteDeviation, pooledDispersion, robustScore, type RobustScore } from './robustBaseline.js';
export { MAX_RULE_DEPTH, MAX_RULE_LENGTH, parseRule, type CompiledRule } from './ruleLanguage.js';
export { compareSchemas, schemaDriftCheck, type SchemaDifference, type SchemaDifferenceKind } from './schemaDriftCheck.js';
export { expectedHotSqliteSchema, readSqliteSchema } from './sqliteSchema.js';
export { uniquenessCheck } from './uniquenessCheck.js';
export { volumeCheck } from './volumeCheck.js';
export { qualityPlugin as default } from './qualityPlugin.js';
