import type { AlertRuleInput } from './alertOptions.js';

/**
 * The metrics the `plan` preset reads, and which source reports each. Insights rates are over the
 * core's recent window and are absent while no interaction arrived in it (the rules then show
 * "no data" rather than alerting on a made-up value).
 */
export const PLAN_PRESET_METRICS = {
  'insights.avg_response_time_seconds': 'insights source: mean answer time in seconds over the recent window',
  'insights.success_rate': 'insights source: share of successful answers over the recent window, 0–1',
  'insights.error_rate': 'insights source: share of failed answers over the recent window, 0–1',
  'system.database_size_mb': 'system monitor: total size of the storage tiers\' database files, in MB (the WAL is system.wal_size_mb)',
  'system.concurrent_sessions': 'system monitor: sessions with an event in the last few minutes',
} as const;

/**
 * The data-management plan's `ALERT_THRESHOLDS` as rules: average response time > 5 s, success
 * rate < 95 %, database size > 1000 MB, concurrent users > 100, error rate > 5 %. Rates and
 * latency must hold for 5 minutes so one slow answer never pages anyone.
 */
export const PLAN_PRESET_RULES: readonly AlertRuleInput[] = [
  {
    name: 'HighAverageResponseTime',
    metric: 'insights.avg_response_time_seconds',
    op: '>',
    threshold: 5,
    for: '5m',
    severity: 'warning',
    summary: 'Average response time is {{value}} s (threshold {{threshold}} s)',
  },
  {
    name: 'LowSuccessRate',
    metric: 'insights.success_rate',
    op: '<',
    threshold: 0.95,
    for: '5m',
    severity: 'critical',
    summary: 'Success rate is {{value|percent}} (threshold {{threshold|percent}})',
  },
  {
    name: 'DatabaseTooLarge',
    metric: 'system.database_size_mb',
    op: '>',
    threshold: 1000,
    for: '0s',
    severity: 'warning',
    summary: 'Databases hold {{value}} MB (threshold {{threshold}} MB); check that retention runs',
  },
  {
    name: 'TooManyConcurrentUsers',
    metric: 'system.concurrent_sessions',
    op: '>',
    threshold: 100,
    for: '5m',
    severity: 'warning',
    summary: '{{value}} concurrent sessions (threshold {{threshold}})',
  },
  {
    name: 'HighErrorRate',
    metric: 'insights.error_rate',
    op: '>',
    threshold: 0.05,
    for: '5m',
    severity: 'critical',
    summary: 'Error rate is {{value|percent}} (threshold {{threshold|percent}})',
  },
];
