import { isAbsolute, join } from 'node:path';
import type { ScopedStrata, Strata } from '@strata/core';
import {
  FINDING_KINDS,
  InsightStore,
  baselineSourceOf,
  isFindingKind,
  openInsightsService,
  type Finding,
  type FindingKind,
  type FindingsQuery,
  type InsightRun,
  type ResolvedQualityOptions,
  type StoredFinding,
} from '@strata/quality';
import { CliError, withStrata, writeJson, writeLine, type CliIo, type CommandContext } from './commandContext.js';
import { formatTable } from './formatTable.js';
import { historyQueryFromOptions, qualityOptionsOf } from './qualityCommand.js';

export interface InsightsCommandOptions {
  json?: boolean;
  /** Print stored findings instead of running the analysis. */
  history?: boolean;
  kind?: string;
  since?: string;
  limit?: string;
}

/** What `strata insights --history --json` prints. */
export interface InsightsHistoryOutput {
  file: string;
  findings: StoredFinding[];
}

/** Headings of the groups, in the order the rules run. */
const KIND_TITLES: Record<FindingKind, string> = {
  'question-trending-up': 'Questions trending up',
  'question-trending-down': 'Questions trending down',
  'content-low-success': 'Content with low success',
  'content-relevance-falling': 'Content with falling relevance',
  'role-success-dropped': 'Roles whose success rate dropped',
  'role-rating-dropped': 'Roles whose rating dropped',
  'response-time-regression': 'Response-time regressions',
  'unanswered-cluster': 'Unanswered question clusters',
};

/**
 * `strata insights`: runs the automated insights now over the insights API (and the warm tier's
 * baselines), stores the findings in the quality history (the `quality.db` the daily `insights`
 * job writes) and prints them grouped by kind with their numbers. `--history` prints stored
 * findings instead. Uses the quality plugin's options when the config lists it, else its defaults.
 * Exit 0 whatever was found (findings are advice, not failures), 1 on a fatal error.
 */
export async function insightsCommand(context: CommandContext, options: InsightsCommandOptions): Promise<number> {
  if (!options.history && (options.kind !== undefined || options.since !== undefined || options.limit !== undefined)) {
    throw new CliError('--kind, --since and --limit select stored findings; use them with --history');
  }
  const query = options.history ? findingsQueryFromOptions(options, Date.now()) : undefined;

  const outcome = await withStrata(context, async (strata, scoped) => {
    // Findings are summaries of the insights; running them writes only to the quality history.
    scoped.authorize('insights.read', { insights: query ? 'history' : 'run' });
    const service = openInsightsService({
      dataDir: strata.config.dataDir,
      options: qualityOptionsOf(strata.config),
      insights: () => strata.insights,
      baselines: () => baselineSourceOf(strata.storage('warm')),
      now: () => Date.now(),
      logger: strata.logger,
    });
    try {
      if (query) return { history: { file: service.file, findings: service.findings(query) } };
      return { run: await service.run({ trigger: 'cli' }) };
    } finally {
      service.close();
    }
  });

  const { stdout } = context.io;
  if (outcome.history) {
    if (options.json) writeJson(stdout, outcome.history);
    else printHistory(context.io, outcome.history);
    return 0;
  }
  const run = outcome.run!;
  if (options.json) writeJson(stdout, run);
  else writeLine(stdout, renderInsightRun(run));
  return 0;
}

function findingsQueryFromOptions(options: InsightsCommandOptions, now: number): FindingsQuery {
  const { since, limit } = historyQueryFromOptions({ ...(options.since !== undefined ? { since: options.since } : {}), ...(options.limit !== undefined ? { limit: options.limit } : {}) }, now);
  const query: FindingsQuery = { ...(since !== undefined ? { since } : {}), ...(limit !== undefined ? { limit } : {}) };
  if (options.kind !== undefined) {
    if (!isFindingKind(options.kind)) throw new CliError(`--kind must be one of ${FINDING_KINDS.join(', ')}, got ${JSON.stringify(options.kind)}`);
    query.kind = options.kind;
  }
  return query;
}

/** The findings of one run, grouped by kind, each with its summary and numbers. */
export function renderInsightRun(run: InsightRun): string {
  const { recent, baseline } = run.windows;
  const warnings = run.findings.filter((finding) => finding.severity === 'warning').length;
  const lines = [
    `Insights (run ${run.runId}, ${iso(run.finishedAt)}): the ${days(recent)} days to ${day(recent.to - 1)} against the ${days(baseline)} days before: ` +
      `${run.findings.length} finding(s), ${warnings} warning(s)`,
  ];
  if (run.findings.length === 0) lines.push('', 'Nothing crossed a threshold: no finding.');
  for (const kind of FINDING_KINDS) {
    const group = run.findings.filter((finding) => finding.kind === kind);
    if (group.length === 0) continue;
    lines.push('', `${KIND_TITLES[kind]} (${group.length})`);
    for (const finding of group) lines.push(...renderFinding(finding));
  }
  if (run.skipped.length > 0) {
    lines.push('', 'Not checked');
    for (const skipped of run.skipped) lines.push(`  ${skipped.rule}: ${skipped.reason}`);
  }
  return lines.join('\n');
}

function renderFinding(finding: Finding): string[] {
  const numbers = Object.entries(finding.numbers).map(([name, value]) => `${name} ${value}`);
  return [`  ${finding.severity === 'warning' ? 'WARNING' : 'info   '}  ${finding.subject}`, `           ${finding.summary}`, `           ${numbers.join(' · ')}`];
}

function printHistory(io: CliIo, history: InsightsHistoryOutput): void {
  if (history.findings.length === 0) {
    writeLine(io.stdout, `No stored findings match (history in ${history.file}).`);
    return;
  }
  writeLine(io.stdout, `Stored findings (${history.file}), newest first`);
  writeLine(
    io.stdout,
    formatTable(
      [{ header: 'run', align: 'right' }, { header: 'finished' }, { header: 'kind' }, { header: 'severity' }, { header: 'subject', maxWidth: 40 }, { header: 'summary', maxWidth: 120 }],
      history.findings.map((finding) => [finding.runId, iso(finding.at), finding.kind, finding.severity, finding.subject, finding.summary]),
    ),
  );
}

/**
 * The latest stored findings for `strata report`, when the config lists the quality plugin
 * (undefined otherwise); an empty list before the first insights run.
 */
export async function latestFindingsForReport(strata: Strata, scoped: ScopedStrata): Promise<StoredFinding[] | undefined> {
  const quality = strata.config.plugins.find((plugin) => plugin.definition.name === 'quality');
  if (!quality) return undefined;
  scoped.authorize('insights.read', { insights: 'latest' });
  const options = quality.options as ResolvedQualityOptions;
  const store = InsightStore.open({ file: isAbsolute(options.file) ? options.file : join(strata.config.dataDir, options.file), busyTimeoutMs: options.busyTimeoutMs });
  try {
    const run = store.latest();
    return run ? run.findings.map((finding) => ({ ...finding, runId: run.runId, at: run.finishedAt })) : [];
  } finally {
    store.close();
  }
}

/** The report's last section: the latest findings, grouped by kind. */
export function renderReportFindings(findings: readonly StoredFinding[]): string {
  const lines = ['', 'Automated insights'];
  if (findings.length === 0) {
    lines.push('  No stored findings: run `strata insights` (or wait for the daily insights job).');
    return lines.join('\n');
  }
  lines[1] += ` (run ${findings[0]!.runId}, ${iso(findings[0]!.at)})`;
  for (const kind of FINDING_KINDS) {
    const group = findings.filter((finding) => finding.kind === kind);
    if (group.length === 0) continue;
    lines.push(`  ${KIND_TITLES[kind]} (${group.length})`);
    for (const finding of group) lines.push(`    ${finding.severity === 'warning' ? 'WARNING ' : ''}${finding.summary}`);
  }
  return lines.join('\n');
}

function days(range: { from: number; to: number }): number {
  return Math.round((range.to - range.from) / 86_400_000);
}

function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/:\d\d\.\d{3}Z$/, 'Z');
}
