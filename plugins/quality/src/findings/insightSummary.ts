import { FINDING_KINDS, type FindingKind } from './finding.js';
import type { InsightRun } from './insightStore.js';

/** Findings per kind, every kind listed (0 when none). */
export function countFindings(findings: ReadonlyArray<{ kind: FindingKind }>): Record<FindingKind, number> {
  const counts = Object.fromEntries(FINDING_KINDS.map((kind) => [kind, 0])) as Record<FindingKind, number>;
  for (const finding of findings) counts[finding.kind] += 1;
  return counts;
}

/** One line a person reads: `insights: 3 findings (2 warning): 1 question-trending-up, 2 role-success-dropped (run 4)`. */
export function summarizeInsightRun(run: Pick<InsightRun, 'runId' | 'findings' | 'skipped'>): string {
  const counts = Object.entries(countFindings(run.findings)).filter(([, count]) => count > 0);
  const warnings = run.findings.filter((finding) => finding.severity === 'warning').length;
  const kinds = counts.length > 0 ? `: ${counts.map(([kind, count]) => `${count} ${kind}`).join(', ')}` : '';
  const skipped = run.skipped.length > 0 ? `; ${run.skipped.length} rule(s) skipped (${run.skipped.map((rule) => rule.rule).join(', ')})` : '';
  return `insights: ${run.findings.length} finding(s), ${warnings} warning(s)${kinds}${skipped} (run ${run.runId})`;
}
