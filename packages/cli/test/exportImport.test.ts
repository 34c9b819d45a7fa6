import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEntry } from '@strata/core';
import { workloadLines } from '@strata/testing';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { databaseFile, lastJson, runInProcess, tempDir } from './helpers.js';

const DAY_MS = 86_400_000;

/** A workload from the last week, with a few texts that CSV and spreadsheets trip on. */
function writeEvents(dir: string, count = 200): string {
  const start = Date.now() - 8 * DAY_MS;
  const lines = [...workloadLines({ events: count, seed: 9, start, days: 7, networkFields: false })];
  const tricky = ['=HYPERLINK("http://x","y")', 'comma, "quote"\nand a newline', '@mention', '-minus'].map((query, index) =>
    JSON.stringify({ eventId: `tricky-${index}`, sessionId: `s-${index}`, timestamp: start + index * 1_000, userRole: 'student', query, queryType: 'general', responseTime: 1, success: true }),
  );
  const file = join(dir, 'events.jsonl');
  writeFileSync(file, `${[...lines, ...tricky].join('\n')}\n`);
  return file;
}

/** The stored interactions, by event id, without the columns that depend on when they were stored. */
function storedRows(cwd: string): unknown[] {
  const db = new Database(databaseFile(join(cwd, 'analytics')), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT * FROM user_interactions ORDER BY event_id').all().map((row) => {
      const { id: _id, created_at: _created, ...rest } = row as Record<string, unknown>;
      return rest;
    });
  } finally {
    db.close();
  }
}

function audit(cwd: string): AuditEntry[] {
  const directory = join(cwd, 'analytics', 'audit');
  return readdirSync(directory).flatMap((file) => readFileSync(join(directory, file), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as AuditEntry));
}

async function seeded(count = 200): Promise<string> {
  const cwd = tempDir();
  const ingest = await runInProcess(['ingest', writeEvents(cwd, count)], { cwd });
  expect(ingest.code, ingest.stderr).toBe(0);
  return cwd;
}

describe('strata export and strata import', () => {
  for (const format of ['csv', 'json', 'jsonl']) {
    it(`round-trips every stored interaction through a ${format} file into an empty data dir`, async () => {
      const cwd = await seeded();
      const out = join(cwd, `export.${format}`);
      const exported = await runInProcess(['export', '--out', out, '--json'], { cwd });
      expect(exported.code, exported.stderr).toBe(0);
      expect(lastJson(exported.stdout)).toMatchObject({ dataset: 'interactions', format, rows: 204, out, interrupted: false, counts: { hot: 204 } });

      const target = tempDir();
      const imported = await runInProcess(['import', out, '--json'], { cwd: target });
      expect(imported.code, imported.stderr).toBe(0);
      expect(lastJson(imported.stdout)).toMatchObject({ format, lines: 204, accepted: 204, stored: 204, duplicates: 0, rejected: 0 });
      expect(storedRows(target)).toEqual(storedRows(cwd));
    });
  }

  it('reports duplicates when the same file is imported twice, with a readable summary', async () => {
    const cwd = await seeded(50);
    expect((await runInProcess(['export', '--out', 'all.csv'], { cwd })).code).toBe(0);
    const target = tempDir();
    await runInProcess(['import', join(cwd, 'all.csv')], { cwd: target });
    const again = await runInProcess(['import', join(cwd, 'all.csv')], { cwd: target });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/accepted +54 \(0 stored, 54 duplicates already stored\)/);
    expect(again.stdout).toMatch(/rejected +0/);
  });

  it('writes to stdout with --out -, the summary going to stderr', async () => {
    const cwd = await seeded(20);
    const run = await runInProcess(['export', '--out', '-', '--format', 'jsonl', '--role', 'student', '--json'], { cwd });
    expect(run.code, run.stderr).toBe(0);
    const rows = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { userRole: string });
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((row) => row.userRole === 'student')).toBe(true);
    expect(lastJson(run.stderr)).toMatchObject({ out: '-', rows: rows.length });
  });

  it('filters by time range and query type, and exports aggregates', async () => {
    const cwd = await seeded();
    const run = await runInProcess(['export', '--out', '-', '--format', 'jsonl', '--from', '4d', '--query-type', 'technical'], { cwd });
    expect(run.code, run.stderr).toBe(0);
    const rows = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { timestamp: number; queryType: string });
    expect(rows.every((row) => row.queryType === 'technical' && row.timestamp >= Date.now() - 4 * DAY_MS - 60_000)).toBe(true);
    for (const dataset of ['sessions', 'queries', 'content', 'business-metrics']) {
      const aggregate = await runInProcess(['export', '--dataset', dataset, '--out', `${dataset}.csv`], { cwd });
      expect(aggregate.code, aggregate.stderr).toBe(0);
      expect(aggregate.stdout).toContain(`${dataset} row(s) as csv`);
      expect(readFileSync(join(cwd, `${dataset}.csv`), 'utf8').split('\r\n').length).toBeGreaterThan(2);
    }
  });

  it('keeps formulas from running in a spreadsheet, and gives the text back exactly on import', async () => {
    const cwd = await seeded(10);
    await runInProcess(['export', '--out', 'all.csv'], { cwd });
    const csv = readFileSync(join(cwd, 'all.csv'), 'utf8');
    expect(csv).toContain(`'=HYPERLINK(""http://x"",""y"")`);
    expect(csv).toContain(`,'@mention,`);
    expect(csv).toContain(`,'-minus,`);
    expect(csv).toContain('"comma, ""quote""\nand a newline"');
  });

  it('lets an analyst export raw interactions but not a viewer or a developer, and audits what was exported', async () => {
    const cwd = await seeded(30);
    const viewer = await runInProcess(['--as', 'viewer', 'export', '--out', 'raw.csv'], { cwd });
    expect(viewer.code).toBe(1);
    expect(viewer.stderr).toMatch(/access denied: cli:\S+ \(role viewer\) lacks the "read" and "export" permission needed for export\.interactions; roles allowed: admin, analyst/);
    const developer = await runInProcess(['--as', 'developer', 'export', '--dataset', 'business-metrics', '--out', 'days.csv'], { cwd });
    expect(developer.stderr).toMatch(/lacks the "export" permission needed for export\.summaries/);
    expect(readdirSync(cwd).filter((name) => name.endsWith('.csv'))).toEqual([]);
    const analyst = await runInProcess(['--as', 'analyst', 'export', '--out', 'raw.csv'], { cwd });
    expect(analyst.code, analyst.stderr).toBe(0);

    const exports = audit(cwd).filter((entry) => entry.operation.startsWith('export.'));
    expect(exports.map((entry) => [entry.role, entry.operation, entry.allowed])).toEqual([
      ['viewer', 'export.interactions', false],
      ['developer', 'export.summaries', false],
      ['analyst', 'export.interactions', true],
      ['analyst', 'export.interactions', true],
    ]);
    expect(exports[3]).toMatchObject({ target: { dataset: 'interactions', format: 'csv', out: join(cwd, 'raw.csv') }, outcome: { rows: 34, bytes: expect.any(Number) } });
    const sessions = await runInProcess(['--as', 'viewer', 'export', '--dataset', 'sessions', '--out', 's.csv'], { cwd });
    expect(sessions.stderr).toContain('needed for export.interactions');
  });

  it('needs the write permission to import', async () => {
    const cwd = await seeded(5);
    await runInProcess(['export', '--out', 'all.jsonl'], { cwd });
    const run = await runInProcess(['--as', 'analyst', 'import', join(cwd, 'all.jsonl')], { cwd: tempDir() });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('lacks the "write" permission needed for interactions.write');
  });

  it('refuses bad flags and inputs with a message that says what to do', async () => {
    const cwd = await seeded(5);
    const cases: Array<[string[], RegExp]> = [
      [['export', '--dataset', 'users', '--out', 'x.csv'], /dataset "users" is not a known dataset; known datasets: interactions, sessions, queries, content, business-metrics/],
      [['export', '--format', 'xlsx', '--out', 'x.xlsx'], /format "xlsx" is not a known format; known formats: jsonl, json, csv/],
      [['export', '--out', 'x.txt'], /cannot tell the format from the name of .*x\.txt; pass --format \(jsonl, json, csv\)/],
      [['export', '--out', '-'], /--format is needed when writing to stdout \(--out -\)/],
      [['export'], /required option '--out <file>' not specified/],
      [['export', '--from', 'last tuesday', '--out', 'x.csv'], /--from must be an ISO-8601 date-time or epoch milliseconds, got "last tuesday"; use a duration back from now such as 30d/],
      [['export', '--from', '1d', '--to', '3d', '--out', 'x.csv'], /--from \(.*\) must be before --to/],
      [['export', '--dataset', 'content', '--query-type', 'technical', '--out', 'x.csv'], /queryType does not apply to the dataset "content"; it can be filtered by range, userRole/],
      [['export', '--out', join(cwd, 'no-such-dir', 'x.csv')], /cannot write the export there: no such file or directory; create the directory first/],
      [['import', 'missing.csv'], /cannot read .*missing\.csv: no such file/],
      [['import', 'events.txt'], /cannot tell the format from the name of .*events\.txt; pass --format \(jsonl, json, csv\)/],
      [['import', '-'], /--format is needed when importing stdin/],
    ];
    writeFileSync(join(cwd, 'events.txt'), '{}\n');
    for (const [args, message] of cases) {
      const run = await runInProcess(args, { cwd });
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr, args.join(' ')).toMatch(message);
      expect(run.stderr, args.join(' ')).not.toContain('unexpected');
    }
  });

  it('imports stdin with --format, and exits 2 naming the dead-letter dir when records are rejected', async () => {
    const cwd = tempDir();
    const good = JSON.stringify({ sessionId: 's', timestamp: new Date(Date.now() - DAY_MS).toISOString(), userRole: 'student', query: 'hi', queryType: 'general', responseTime: 1, success: true });
    const stdin = `sessionId,timestamp,userRole,query,queryType,responseTime,success\r\ns,${new Date(Date.now() - DAY_MS).toISOString()},student,hi,general,-1,true\r\n`;
    const run = await runInProcess(['import', '-', '--format', 'csv'], { cwd, stdin });
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/rejected +1/);
    expect(run.stdout).toMatch(/1 record\(s\) rejected; each is in .*dead-letter with its record number \(line\) and the reason/);
    const json = await runInProcess(['import', '-', '--format', 'jsonl', '--json'], { cwd, stdin: `${good}\n` });
    expect(json.code).toBe(0);
    expect(lastJson(json.stdout)).toMatchObject({ source: 'stdin', stored: 1 });
  });

  it('round-trips the pseudonymised network fields of the embedded default', async () => {
    const cwd = tempDir();
    const file = join(cwd, 'raw.jsonl');
    writeFileSync(file, `${JSON.stringify({ eventId: 'n1', sessionId: 's', timestamp: new Date(Date.now() - DAY_MS).toISOString(), userRole: 'student', query: 'hi', queryType: 'general', responseTime: 1, success: true, ipAddress: '203.0.113.9', userAgent: 'curl/8.0' })}\n`);
    expect((await runInProcess(['import', file], { cwd })).code).toBe(0);
    expect((await runInProcess(['export', '--out', 'out.jsonl'], { cwd })).code).toBe(0);
    const exported = JSON.parse(readFileSync(join(cwd, 'out.jsonl'), 'utf8').trim()) as { ipHash: string; userAgentHash: string };
    expect(exported.ipHash).toMatch(/^ps1\./);
    const other = tempDir();
    const run = await runInProcess(['import', join(cwd, 'out.jsonl')], { cwd: other });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect((await runInProcess(['export', '--out', 'again.jsonl'], { cwd: other })).code).toBe(0);
    const again = JSON.parse(readFileSync(join(other, 'again.jsonl'), 'utf8').trim()) as { ipHash: string; userAgentHash: string };
    expect(again).toMatchObject({ ipHash: exported.ipHash, userAgentHash: exported.userAgentHash });
  });

  it("exports the quality and alerts plugins' history when the config lists them", async () => {
    const cwd = await seeded(40);
    writeFileSync(join(cwd, 'strata.config.json'), JSON.stringify({ plugins: ['hot-sqlite', 'privacy', 'quality', 'alerts'] }));
    const job = await runInProcess(['jobs', 'run', 'quality'], { cwd });
    expect(job.code, job.stderr).toBe(0);
    const quality = await runInProcess(['export', '--dataset', 'quality-history', '--out', 'quality.csv', '--json'], { cwd });
    expect(quality.code, quality.stderr).toBe(0);
    expect(lastJson<{ rows: number }>(quality.stdout).rows).toBeGreaterThan(0);
    expect(readFileSync(join(cwd, 'quality.csv'), 'utf8').split('\r\n')[0]).toBe('runId,at,check,status,observed,unit,threshold,message');
    const alerts = await runInProcess(['export', '--dataset', 'alert-history', '--out', 'alerts.jsonl'], { cwd });
    expect(alerts.code, alerts.stderr).toBe(0);
    const unconfigured = await runInProcess(['export', '--dataset', 'quality-history', '--out', 'q.csv'], { cwd: await seeded(1) });
    expect(unconfigured.stderr).toMatch(/dataset "quality-history" is not a known dataset/);
  });
});
