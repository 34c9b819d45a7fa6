import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEntry } from '@strata/core';
import type { QualityReport } from '@strata/quality';
import { writeWorkloadFile } from '@strata/testing';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { QualityHistoryOutput } from '../src/qualityCommand.js';
import { databaseFile, lastJson, runInProcess, tempDir } from './helpers.js';

const DAY_MS = 86_400_000;

/** Two days of generated traffic ending about 45 minutes ago, ingested through the CLI. */
async function ingestedWorkload(config?: unknown): Promise<string> {
  const cwd = tempDir();
  if (config !== undefined) writeFileSync(join(cwd, 'strata.config.json'), JSON.stringify(config));
  const file = join(cwd, 'events.jsonl');
  await writeWorkloadFile(file, { events: 1_500, seed: 5, start: Date.now() - 2 * DAY_MS - 45 * 60_000, days: 2 });
  const ingest = await runInProcess(['ingest', file, '--json'], { cwd });
  expect(ingest.code).toBe(0);
  return cwd;
}

function blankOneQuery(cwd: string): void {
  const db = new Database(databaseFile(join(cwd, 'analytics')));
  try {
    db.prepare(`UPDATE user_interactions SET query = '' WHERE id = (SELECT MAX(id) FROM user_interactions)`).run();
  } finally {
    db.close();
  }
}

describe('strata quality', () => {
  it('--json runs every check on clean data, stores the report and exits 0', async () => {
    const cwd = await ingestedWorkload();
    const run = await runInProcess(['quality', '--json'], { cwd });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = lastJson<QualityReport>(run.stdout);
    expect(report).toMatchObject({ runId: 1, trigger: 'cli', source: 'hot-sqlite', status: 'pass' });
    expect(report.results.map((result) => [result.check, result.status])).toEqual([
      ['completeness', 'pass'],
      ['uniqueness', 'pass'],
      ['consistency', 'pass'],
      ['freshness', 'pass'],
      ['volume', 'skipped'],
      ['schema', 'pass'],
    ]);
    expect(report.results[4]!.message).toMatch(/^needs 4 week\(s\) of history/);
    expect(existsSync(join(cwd, 'analytics', 'quality.db'))).toBe(true);
  });

  it('prints a table of checks and exits 2 when a check fails', async () => {
    const cwd = await ingestedWorkload();
    blankOneQuery(cwd);
    const run = await runInProcess(['quality'], { cwd });
    expect(run.code).toBe(2);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^Data quality \(run 1, hot-sqlite, window \S+ – \S+\): FAIL$/);
    expect(lines[1]).toBe('  4 pass, 0 warn, 1 fail, 1 skipped');
    expect(lines[3]).toMatch(/^ {2}check +status +observed +threshold +finding$/);
    expect(lines.find((line) => line.trimStart().startsWith('completeness'))).toMatch(/^ {2}completeness +FAIL +\d\.\d{3} % +required field null\/blank rate > 0 warns, > 0\.001 fails +query missing in 1 row\(s\)/);
    expect(lines.find((line) => line.trimStart().startsWith('volume'))).toMatch(/skipped +- +- +needs 4 week\(s\) of history/);
  });

  it('uses the quality plugin\'s options from the config, business rules included', async () => {
    const cwd = await ingestedWorkload({ plugins: ['hot-sqlite', { name: 'quality', options: { rules: [{ name: 'snappy', rule: 'responseTime < 1', failRate: 0.99 }] } }] });
    const run = await runInProcess(['quality', '--json', '--window', '48h'], { cwd });
    expect(run.code).toBe(2);
    const report = lastJson<QualityReport>(run.stdout);
    expect(report.window.to - report.window.from).toBe(2 * DAY_MS);
    expect(report.results.find((result) => result.check === 'rule:snappy')).toMatchObject({ status: 'warn', message: expect.stringMatching(/break responseTime < 1/) });
  });

  it('--history lists past results of a check, newest first', async () => {
    const cwd = await ingestedWorkload();
    expect((await runInProcess(['quality', '--json'], { cwd })).code).toBe(0);
    blankOneQuery(cwd);
    expect((await runInProcess(['quality', '--json'], { cwd })).code).toBe(2);
    const run = await runInProcess(['quality', '--history', '--check', 'completeness', '--since', '1d', '--json'], { cwd });
    expect(run.code).toBe(0);
    const history = lastJson<QualityHistoryOutput>(run.stdout);
    expect(history.file).toBe(join(cwd, 'analytics', 'quality.db'));
    expect(history.entries.map((entry) => [entry.runId, entry.check, entry.status])).toEqual([
      [2, 'completeness', 'fail'],
      [1, 'completeness', 'pass'],
    ]);
    const table = await runInProcess(['quality', '--history', '--limit', '3'], { cwd });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^Quality history \(.*quality\.db\), newest first\n {2}run +finished +check +status +observed +finding\n/);
    // Title, header, rule, then the three newest results.
    expect(table.stdout.trim().split('\n')).toHaveLength(6);
  });

  it('lets a viewer run it (a summary read) and audits the decision', async () => {
    const cwd = await ingestedWorkload();
    expect((await runInProcess(['--as', 'viewer', 'quality', '--json'], { cwd })).code).toBe(0);
    const directory = join(cwd, 'analytics', 'audit');
    const entries = readdirSync(directory).flatMap((file) => readFileSync(join(directory, file), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as AuditEntry));
    expect(entries.at(-1)).toMatchObject({ role: 'viewer', operation: 'report.read', allowed: true, target: { quality: 'run' } });
  });

  it('exits 1 naming the rule and the position when a business rule does not parse', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'strata.config.json'), JSON.stringify({ plugins: ['hot-sqlite', { name: 'quality', options: { rules: [{ name: 'bad', rule: 'responseTime < 60 &' }] } }] }));
    const run = await runInProcess(['quality'], { cwd });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('plugins[1].options.rules[0].rule: quality: rule "bad" at position 19: unexpected character "&"');
  });

  it('exits 1 on flags it cannot use', async () => {
    const cwd = tempDir();
    const window = await runInProcess(['quality', '--window', 'soon'], { cwd });
    expect(window.code).toBe(1);
    expect(window.stderr).toContain('--window must be a duration from 1h to 366d such as 24h or 7d, got "soon"');
    const misplaced = await runInProcess(['quality', '--check', 'freshness'], { cwd });
    expect(misplaced.code).toBe(1);
    expect(misplaced.stderr).toContain('--check, --since and --limit select past results; use them with --history');
    const limit = await runInProcess(['quality', '--history', '--limit', '0'], { cwd });
    expect(limit.code).toBe(1);
    expect(limit.stderr).toContain('--limit must be a whole number from 1 to 10000, got "0"');
  });
});
