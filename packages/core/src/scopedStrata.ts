import { AccessDeniedError, isAccessRole, missingPermissions, ACCESS_ROLES, type Operation, type Principal } from './access.js';
import type { AuditLog } from './auditLog.js';
import { ClosedError, StrataError } from './errors.js';
import type { ErasureReport, ErasureRequest } from './erasure.js';
import type { InsightsProvider } from './insights.js';
import type { Interaction } from './interaction.js';
import type { RecordOutcome } from './ingestPipeline.js';
import type { RunJobOptions } from './jobScheduler.js';
import type { InteractionQuery, JobReport, Page, Report, ReportQuery, ScanOptions, TimeRange } from './types.js';
import type { IngestLinesOptions, IngestSummary, RatingFeedback, RatingResult, StrataStatus } from './createStrata.js';

/**
 * Strata as one principal sees it: every read, write, export, delete and erase path checks the
 * principal's role first and writes the decision to the audit log. Servers, dashboards and the CLI
 * hand this out; the object `createStrata()` returns is the owning application's and is not checked.
 */
export interface ScopedStrata {
  readonly principal: Principal;
  readonly insights: InsightsProvider;
  report(query?: ReportQuery): Promise<Report>;
  status(): Promise<StrataStatus>;
  queryInteractions(query: InteractionQuery): Promise<Page<Interaction>>;
  scanInteractions(range: TimeRange, options?: ScanOptions): AsyncIterable<Interaction[]>;
  /** Throws AccessDeniedError for a role without `write` (unlike the owner's `record`, which never throws). */
  record(event: unknown): boolean;
  recordStrict(event: unknown): Promise<RecordOutcome>;
  ingestLines(lines: AsyncIterable<string>, options: IngestLinesOptions): Promise<IngestSummary>;
  deleteInteractions(range: TimeRange): Promise<number>;
  erase(request: ErasureRequest): Promise<ErasureReport>;
  /** A rating given after the fact; needs `write`. */
  rate(feedback: RatingFeedback): Promise<RatingResult>;
  runJob(name: string, options?: RunJobOptions): Promise<JobReport>;
  /**
   * Checks `operation` for this principal and audits the decision; throws AccessDeniedError when it
   * is not allowed. For paths outside the core (exporters, backup) that must obey the same rules.
   */
  authorize(operation: Operation, target?: Record<string, unknown>): void;
  /** Records what an authorized operation did (rows removed, files written) in the audit log. */
  audit(operation: Operation, target: Record<string, unknown> | undefined, outcome: Record<string, unknown>): void;
}

/** What the scoped view needs from the owning instance. */
export interface ScopeTarget {
  /** True once close() began: nothing is checked or audited any more, every call fails with STRATA_CLOSED. */
  readonly closed: boolean;
  readonly insights: InsightsProvider;
  report(query?: ReportQuery): Promise<Report>;
  status(): Promise<StrataStatus>;
  record(event: unknown): boolean;
  recordStrict(event: unknown): Promise<RecordOutcome>;
  ingestLines(lines: AsyncIterable<string>, options: IngestLinesOptions): Promise<IngestSummary>;
  erase(request: ErasureRequest): Promise<ErasureReport>;
  rate(feedback: RatingFeedback): Promise<RatingResult>;
  runJob(name: string, options?: RunJobOptions): Promise<JobReport>;
  hotTier(): {
    queryInteractions(query: InteractionQuery): Promise<Page<Interaction>>;
    scanInteractions(range: TimeRange, options?: ScanOptions): AsyncIterable<Interaction[]>;
    deleteInteractions(range: TimeRange): Promise<number>;
  };
}

export function validatePrincipal(principal: Principal): Principal {
  if (typeof principal !== 'object' || principal === null) throw new StrataError('STRATA_CONFIG_INVALID', 'principal must be an object { name, role }');
  if (typeof principal.name !== 'string' || principal.name.trim() === '') {
    throw new StrataError('STRATA_CONFIG_INVALID', 'principal.name must be a non-empty string (it is what the audit log records)');
  }
  if (!isAccessRole(principal.role)) {
    throw new StrataError('STRATA_CONFIG_INVALID', `principal.role must be one of ${ACCESS_ROLES.join(', ')}, got ${JSON.stringify(principal.role)}`);
  }
  return { name: principal.name, role: principal.role };
}

export function createScopedStrata(target: ScopeTarget, principal: Principal, audit: AuditLog): ScopedStrata {
  const who = validatePrincipal(principal);
  const authorize = (operation: Operation, details?: Record<string, unknown>, auditAllowed = true): void => {
    // A closed Strata writes nothing more, the audit log included (its files may already be gone).
    if (target.closed) throw new ClosedError();
    const missing = missingPermissions(who.role, operation);
    if (missing.length > 0) {
      const error = new AccessDeniedError(who, operation, missing);
      audit.record(who, operation, { allowed: false, ...(details ? { target: details } : {}), reason: error.message });
      throw error;
    }
    if (auditAllowed) audit.record(who, operation, { allowed: true, ...(details ? { target: details } : {}) });
  };
  const rangeOf = (range: TimeRange | undefined): Record<string, unknown> | undefined => (range ? { from: range.from ?? null, to: range.to ?? null } : undefined);

  const guardedInsights = new Proxy(target.insights, {
    get(provider, property, receiver) {
      const value = Reflect.get(provider, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const query = args[0] as { range?: TimeRange; userRole?: string } | undefined;
        authorize('insights.read', { question: String(property), ...(query?.range ? { range: rangeOf(query.range) } : {}), ...(query?.userRole ? { userRole: query.userRole } : {}) });
        return (value as (...all: unknown[]) => unknown).apply(provider, args);
      };
    },
  });

  return {
    principal: who,
    insights: guardedInsights,
    async report(query) {
      authorize('report.read', query?.range ? { range: rangeOf(query.range) } : undefined);
      return target.report(query);
    },
    async status() {
      authorize('status.read');
      return target.status();
    },
    async queryInteractions(query) {
      authorize('interactions.read', { range: rangeOf(query.range), userRole: query.userRole ?? null, queryType: query.queryType ?? null });
      return target.hotTier().queryInteractions(query);
    },
    scanInteractions(range, options) {
      authorize('interactions.read', { range: rangeOf(range), scan: true });
      return target.hotTier().scanInteractions(range, options);
    },
    record(event) {
      // Allowed single events are not audited one by one: the log would grow with the traffic.
      authorize('interactions.write', undefined, false);
      return target.record(event);
    },
    async recordStrict(event) {
      authorize('interactions.write', undefined, false);
      return target.recordStrict(event);
    },
    async ingestLines(lines, options) {
      authorize('interactions.write', { source: options.source });
      return target.ingestLines(lines, options);
    },
    async deleteInteractions(range) {
      authorize('interactions.delete', { range: rangeOf(range) });
      const removed = await target.hotTier().deleteInteractions(range);
      audit.record(who, 'interactions.delete', { allowed: true, target: { range: rangeOf(range) }, outcome: { removed } });
      return removed;
    },
    async erase(request) {
      // The raw id is never written to the audit log; the report's stored (pseudonymised) ids are.
      authorize('subject.erase');
      const report = await target.erase(request);
      audit.record(who, 'subject.erase', {
        allowed: true,
        target: { storedIds: report.storedIds },
        outcome: { removed: report.removed, verified: report.verified, tiers: report.tiers.map((tier) => ({ tier: tier.tier, removed: tier.removed, remaining: tier.remaining })), deadLetters: report.deadLetters, participants: report.participants },
      });
      return report;
    },
    async rate(feedback) {
      authorize('interactions.write', undefined, false);
      return target.rate(feedback);
    },
    async runJob(name, options) {
      authorize('jobs.run', { job: name });
      return target.runJob(name, options);
    },
    authorize(operation, details) {
      authorize(operation, details);
    },
    audit(operation, details, outcome) {
      audit.record(who, operation, { allowed: true, ...(details ? { target: details } : {}), outcome });
    },
  };
}
