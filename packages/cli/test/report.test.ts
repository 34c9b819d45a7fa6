import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Report } from '@strata/core';
import type { ReportInsights } from '../src/reportCommand.js';
import { describe, expect, it } from 'vitest';
import { lastJson, runInProcess, tempDir } from './helpers.js';

const DAY_MS = 86_400_000;

/** Five recent interactions and one old one, with totals worked out by hand in the tests below. */
function knownWorkload(now: number): string {
  const at = (daysAgo: number, minute: number) => new Date(now - daysAgo * DAY_MS + minute * 60_000).toISOString();
  const base = { responseLength: 500 };
  const events = [
    { ...base, eventId: 'k1', sessionId: 'A', timestamp: at(2, 0), userRole: 'student', query: 'How do I profile Node?', queryType: 'technical', responseTime: 1, success: true, userRating: 5 },
    { ...base, eventId: 'k2', sessionId: 'A', timestamp: at(2, 1), userRole: 'student', query: 'how do I profile node', queryType: 'technical', responseTime: 3, success: false },
    { ...base, eventId: 'k3', sessionId: 'A', timestamp: at(2, 2), userRole: 'student', query: 'How do I profile Node?', queryType: 'technical', responseTime: 2, success: true },
    { ...base, eventId: 'k4', sessionId: 'B', timestamp: at(1, 0), userRole: 'recruiter', query: 'Is Noah open to relocation?', queryType: 'career', responseTime: 2, success: true, userRating: 3 },
    { ...base, eventId: 'k5', sessionId: 'C', timestamp: at(1, 5), userRole: 'recruiter', query: "What is Noah's notice period?", queryType: 'career', responseTime: 2, success: true },
    // Outside `--since 30d`.
    { ...base, eventId: 'old', sessionId: 'D', timestamp: at(45, 0), userRole: 'casual_visitor', query: 'Tell me a joke', queryType: 'fun', responseTime: 9, success: false },
  ];
  return `${events.map((event) => JSON.stringify(event)).join('\n')}\n`;
}

async function ingestKnownWorkload(): Promise<string> {
  const cwd = tempDir();
  const file = join(cwd, 'known.jsonl');
  writeFileSync(file, knownWorkload(Date.now()));
  const run = await runInProcess(['ingest', file, '--json'], { cwd });
  expect(run.code).toBe(0);
  return cwd;
}

describe('strata report', () => {
  it('--json prints the totals of a known workload', async () => {
    const cwd = await ingestKnownWorkload();
    const run = await runInProcess(['report', '--since', '30d', '--json'], { cwd });
    expect(run.code).toBe(0);
    const report = lastJson<Report>(run.stdout);
    expect(report.totals).toMatchObject({ interactions: 5, sessions: 3, ratedInteractions: 2 });
    expect(report.totals.successRate).toBeCloseTo(0.8, 6);
    expect(report.totals.avgResponseTime).toBeCloseTo(2, 6);
    expect(report.totals.avgRating).toBeCloseTo(4, 6);
    expect(report.totals.p95ResponseTime).toBeGreaterThanOrEqual(2);
    expect(report.totals.p95ResponseTime).toBeLessThanOrEqual(3);
    const student = report.byRole.find((row) => row.userRole === 'student')!;
    expect(student.interactions).toBe(3);
    expect(student.successRate).toBeCloseTo(2 / 3, 6);
    expect(report.byQueryType.map((row) => [row.queryType, row.interactions])).toEqual([
      ['technical', 3],
      ['career', 2],
    ]);
    expect(report.topQueries[0]).toMatchObject({ count: 3 });
  });

  it('--json adds every insight, for the same range', async () => {
    const cwd = await ingestKnownWorkload();
    const run = await runInProcess(['report', '--since', '30d', '--json'], { cwd });
    const { insights } = lastJson<Report & { insights: ReportInsights }>(run.stdout);
    expect(insights.businessMetrics.reduce((sum, day) => sum + day.interactions, 0)).toBe(5);
    expect(insights.businessMetrics.reduce((sum, day) => sum + day.sessions, 0)).toBe(3);
    expect(insights.userBehaviour.map((role) => [role.userRole, role.interactions, role.sessions])).toEqual([
      ['student', 3, 1],
      ['recruiter', 2, 2],
    ]);
    expect(insights.commonQuestions[0]).toMatchObject({ query: 'how do i profile node', asks: 3, popularRoles: ['student'] });
    expect(insights.trendingQueries.items.map((query) => query.recentAsks).sort()).toEqual([1, 1, 3]);
    expect(insights.contentEffectiveness).toEqual([]);
    expect(insights.systemPerformance).toEqual([]);
  });

  it('prints business metrics per day, behaviour by role and trending queries as tables', async () => {
    const cwd = await ingestKnownWorkload();
    const run = await runInProcess(['report', '--since', '30d'], { cwd });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Business metrics by day (UTC)');
    expect(run.stdout).toMatch(/^\s+student\s+1\s+3\.00\s+100\.0%/m);
    expect(run.stdout).toMatch(/^\s+1\s+how do i profile node\s+3\s+60\.0%\s+66\.7%/m);
    expect(run.stdout).toContain('Trending queries');
    expect(run.stdout).not.toContain('Content effectiveness');
  });

  it('covers all stored data when --since is not given', async () => {
    const cwd = await ingestKnownWorkload();
    const report = lastJson<Report>((await runInProcess(['report', '--json'], { cwd })).stdout);
    expect(report.totals.interactions).toBe(6);
    expect(report.range.from).toBeNull();
  });

  it('narrows to one role with --role and to a window with --until', async () => {
    const cwd = await ingestKnownWorkload();
    const byRole = lastJson<Report>((await runInProcess(['report', '--role', 'recruiter', '--json'], { cwd })).stdout);
    expect(byRole.totals.interactions).toBe(2);
    const until = new Date(Date.now() - 1.5 * DAY_MS).toISOString();
    const window = lastJson<Report>((await runInProcess(['report', '--since', '30d', '--until', until, '--json'], { cwd })).stdout);
    expect(window.totals.interactions).toBe(3);
  });

  it('prints aligned tables with the same totals', async () => {
    const cwd = await ingestKnownWorkload();
    const run = await runInProcess(['report', '--since', '30d', '--top', '2'], { cwd });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\s+interactions\s+5$/m);
    expect(run.stdout).toMatch(/^\s+sessions\s+3$/m);
    expect(run.stdout).toMatch(/^\s+success rate\s+80\.0%$/m);
    expect(run.stdout).toMatch(/^\s+avg response\s+2\.00 s$/m);
    expect(run.stdout).toMatch(/^\s+student\s+3\s+60\.0%\s+66\.7%\s+2\.00 s$/m);
    expect(run.stdout).toMatch(/^\s+technical\s+3\s+60\.0%/m);
    expect(run.stdout).toContain('Top 2 queries');
    // Columns line up: every row of a table is as long as its rule (trailing spaces trimmed aside).
    const byRole = run.stdout.split('By role\n')[1]!.split('\n\n')[0]!.split('\n');
    const header = byRole[0]!;
    for (const row of byRole.slice(2)) expect(row.lastIndexOf('s')).toBe(header.length - 1);
  });

  it('rejects a --since that is neither a duration nor a date, naming the flag', async () => {
    const cwd = tempDir();
    const run = await runInProcess(['report', '--since', 'last tuesday'], { cwd });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^strata: --since .*30d/);
  });

  it('rejects a --top that is not a positive whole number', async () => {
    const cwd = tempDir();
    const run = await runInProcess(['report', '--top', '0'], { cwd });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('--top must be a whole number');
  });
});
