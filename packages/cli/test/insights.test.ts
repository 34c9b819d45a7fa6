import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEntry } from '@strata/core';
import type { InsightRun, StoredFinding } from '@strata/quality';
import { generateWorkload } from '@strata/testing';
import { describe, expect, it } from 'vitest';
import type { InsightsHistoryOutput } from '../src/insightsCommand.js';
import { lastJson, runInProcess, tempDir } from './helpers.js';

const DAY_MS = 86_400_000;
const TRENDING = 'How do I configure Terraform state locking?';
const SUBJECT = 'how do i configure terraform state locking';

/**
 * Five weeks of steady generated traffic ending an hour ago, plus one question asked 60 times in
 * the last five days and never before, ingested through the CLI.
 */
async function ingestedWorkload(config?: unknown): Promise<string> {
  const cwd = tempDir();
  if (config !== undefined) writeFileSync(join(cwd, 'strata.config.json'), JSON.stringify(config));
  const end = Date.now() - 3_600_000;
  const lines = [...generateWorkload({ events: 35 * 120, seed: 9, start: end - 35 * DAY_MS, days: 35, networkFields: false })].map((event) => JSON.stringify(event));
  for (let index = 0; index < 60; index += 1) {
    lines.push(
      JSON.stringify({
        eventId: `trend-${index}`,
        sessionId: `trend-session-${index}`,
        timestamp: end - 5 * DAY_MS + index * ((5 * DAY_MS) / 60),
        userRole: 'software_engineer',
        query: TRENDING,
        queryType: 'technical',
        responseTime: 2,
        success: true,
      }),
    );
  }
  const file = join(cwd, 'events.jsonl');
  writeFileSync(file, `${lines.join('\n')}\n`);
  const ingest = await runInProcess(['ingest', file, '--json'], { cwd });
  expect(ingest.code).toBe(0);
  return cwd;
}

function auditEntries(cwd: string): AuditEntry[] {
  const directory = join(cwd, 'analytics', 'audit');
  return readdirSync(directory).flatMap((file) => readFileSync(join(directory, file), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as AuditEntry));
}

describe('strata insights', () => {
  it('--json runs the analysis now, stores it and prints the run with its findings', async () => {
    const cwd = await ingestedWorkload();
    const run = await runInProcess(['insights', '--json'], { cwd });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const result = lastJson<InsightRun>(run.stdout);
    expect(result).toMatchObject({ runId: 1, trigger: 'cli', skipped: [] });
    expect(result.findings).toContainEqual(
      expect.objectContaining({ kind: 'question-trending-up', severity: 'info', subject: SUBJECT, numbers: expect.objectContaining({ recentAsks: 60, baselineAsks: 0 }) }),
    );
    expect(result.windows.recent.to - result.windows.recent.from).toBe(7 * DAY_MS);
  });

  it('prints the findings grouped by kind with their numbers', async () => {
    const cwd = await ingestedWorkload();
    const run = await runInProcess(['insights'], { cwd });
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^Insights \(run 1, \S+\): the 7 days to \d{4}-\d\d-\d\d against the 28 days before: \d+ finding\(s\), \d+ warning\(s\)$/);
    const heading = lines.indexOf('Questions trending up (1)');
    expect(heading).toBeGreaterThan(0);
    expect(lines.slice(heading + 1, heading + 4)).toEqual([
      `  info     ${SUBJECT}`,
      `           "${SUBJECT}" was asked 60 times in the last 7 days and never in the 28 days before, trending score 60.0: check that the assistant answers it well.`,
      '           recentAsks 60 · baselineAsks 0 · expectedAsks 0 · trendingScore 60',
    ]);
  });

  it('--history prints stored findings, newest run first, filtered by kind', async () => {
    const cwd = await ingestedWorkload();
    expect((await runInProcess(['insights', '--json'], { cwd })).code).toBe(0);
    expect((await runInProcess(['insights', '--json'], { cwd })).code).toBe(0);
    const history = await runInProcess(['insights', '--history', '--kind', 'question-trending-up', '--since', '1d', '--json'], { cwd });
    expect(history.code).toBe(0);
    const output = lastJson<InsightsHistoryOutput>(history.stdout);
    expect(output.file).toBe(join(cwd, 'analytics', 'quality.db'));
    expect(output.findings.map((finding) => [finding.runId, finding.kind, finding.subject])).toEqual([
      [2, 'question-trending-up', SUBJECT],
      [1, 'question-trending-up', SUBJECT],
    ]);
    const table = await runInProcess(['insights', '--history', '--limit', '1'], { cwd });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^Stored findings \(.*quality\.db\), newest first\n {2}run +finished +kind +severity +subject +summary\n/);
    expect(table.stdout.trim().split('\n')).toHaveLength(4);
  });

  it('lets a viewer run it and audits the decision as an insights read', async () => {
    const cwd = await ingestedWorkload();
    expect((await runInProcess(['--as', 'viewer', 'insights', '--json'], { cwd })).code).toBe(0);
    expect(auditEntries(cwd).at(-1)).toMatchObject({ role: 'viewer', operation: 'insights.read', allowed: true, target: { insights: 'run' } });
  });

  it('exits 1 on flags it cannot use', async () => {
    const cwd = tempDir();
    const kind = await runInProcess(['insights', '--history', '--kind', 'slow-stuff'], { cwd });
    expect(kind.code).toBe(1);
    expect(kind.stderr).toContain('--kind must be one of question-trending-up, question-trending-down, content-low-success, content-relevance-falling, role-success-dropped, role-rating-dropped, response-time-regression, unanswered-cluster, got "slow-stuff"');
    const misplaced = await runInProcess(['insights', '--kind', 'unanswered-cluster'], { cwd });
    expect(misplaced.code).toBe(1);
    expect(misplaced.stderr).toContain('--kind, --since and --limit select stored findings; use them with --history');
    const limit = await runInProcess(['insights', '--history', '--limit', '0'], { cwd });
    expect(limit.code).toBe(1);
    expect(limit.stderr).toContain('--limit must be a whole number from 1 to 10000, got "0"');
  });
});

describe('strata report with the quality plugin', () => {
  it('ends with the latest stored findings, and carries them in --json', async () => {
    const cwd = await ingestedWorkload({ plugins: ['hot-sqlite', 'quality'] });
    const before = await runInProcess(['report'], { cwd });
    expect(before.code).toBe(0);
    expect(before.stdout.trimEnd().endsWith('Automated insights\n  No stored findings: run `strata insights` (or wait for the daily insights job).')).toBe(true);

    expect((await runInProcess(['insights', '--json'], { cwd })).code).toBe(0);
    const text = await runInProcess(['report'], { cwd });
    expect(text.code).toBe(0);
    const section = text.stdout.slice(text.stdout.lastIndexOf('\nAutomated insights'));
    expect(section).toMatch(/^\nAutomated insights \(run 1, \S+\)\n/);
    expect(section).toContain(`  Questions trending up (1)\n    "${SUBJECT}" was asked 60 times in the last 7 days and never in the 28 days before`);

    const json = await runInProcess(['report', '--json'], { cwd });
    expect(json.code).toBe(0);
    const report = lastJson<{ findings: StoredFinding[]; insights: unknown; totals: unknown }>(json.stdout);
    expect(report.insights).toBeDefined();
    expect(report.totals).toBeDefined();
    expect(report.findings).toContainEqual(expect.objectContaining({ runId: 1, kind: 'question-trending-up', subject: SUBJECT }));
  });

  it('has no findings section or field when the config does not list the quality plugin', async () => {
    const cwd = await ingestedWorkload();
    const text = await runInProcess(['report'], { cwd });
    expect(text.code).toBe(0);
    expect(text.stdout).not.toContain('Automated insights');
    const json = await runInProcess(['report', '--json'], { cwd });
    expect(Object.keys(lastJson(json.stdout))).not.toContain('findings');
  });
});
