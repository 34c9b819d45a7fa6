import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEntry, ErasureReport } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { lastJson, runInProcess, tempDir } from './helpers.js';

function events(): string {
  const now = Date.now();
  const at = (minute: number) => new Date(now - 3_600_000 + minute * 60_000).toISOString();
  const rows = [
    { eventId: 'a1', sessionId: 'keep', timestamp: at(0), userRole: 'student', query: 'How do I profile Node?', queryType: 'technical', responseTime: 1, success: true },
    { eventId: 'b1', sessionId: 'erase-me', timestamp: at(1), userRole: 'student', query: 'how do I profile node', queryType: 'technical', responseTime: 3, success: false },
    { eventId: 'b2', sessionId: 'erase-me', timestamp: at(2), userRole: 'student', query: 'and memory?', queryType: 'technical', responseTime: 2, success: true },
  ];
  return `${rows.map((row) => JSON.stringify(row)).join('\n')}\n`;
}

function audit(cwd: string): AuditEntry[] {
  const directory = join(cwd, 'analytics', 'audit');
  return readdirSync(directory).flatMap((file) => readFileSync(join(directory, file), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as AuditEntry));
}

describe('--as and strata erase', () => {
  it('lets a viewer read the report but not ingest or erase, and audits each decision', async () => {
    const cwd = tempDir();
    const file = join(cwd, 'events.jsonl');
    writeFileSync(file, events());
    const denied = await runInProcess(['--as', 'viewer', 'ingest', file], { cwd });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/access denied: cli:\S+ \(role viewer\) lacks the "write" permission needed for interactions.write/);
    expect((await runInProcess(['ingest', file], { cwd })).code).toBe(0);
    expect((await runInProcess(['--as', 'viewer', 'report', '--json'], { cwd })).code).toBe(0);
    const erase = await runInProcess(['--as', 'analyst', 'erase', '--session', 'erase-me'], { cwd });
    expect(erase.code).toBe(1);
    expect(erase.stderr).toContain('lacks the "delete" permission needed for subject.erase');
    const entries = audit(cwd);
    expect(entries.map((entry) => [entry.role, entry.operation, entry.allowed])).toEqual([
      ['viewer', 'interactions.write', false],
      ['admin', 'interactions.write', true],
      ['viewer', 'report.read', true],
      ['viewer', 'insights.read', true],
      ['viewer', 'insights.read', true],
      ['viewer', 'insights.read', true],
      ['viewer', 'insights.read', true],
      ['viewer', 'insights.read', true],
      ['viewer', 'insights.read', true],
      ['analyst', 'subject.erase', false],
    ]);
  });

  it('erases a session, reports it per tier, and a second erasure finds nothing', async () => {
    const cwd = tempDir();
    const file = join(cwd, 'events.jsonl');
    // One line of the subject is rejected (negative response time): its dead-letter entry goes too.
    const rejected = { eventId: 'b3', sessionId: 'erase-me', timestamp: new Date().toISOString(), userRole: 'student', query: 'q', queryType: 'technical', responseTime: -1, success: true };
    writeFileSync(file, `${events()}${JSON.stringify(rejected)}\n`);
    const ingest = await runInProcess(['ingest', file, '--json'], { cwd });
    expect(lastJson<{ stored: number; deadLetter: number }>(ingest.stdout)).toMatchObject({ stored: 3, deadLetter: 1 });
    const run = await runInProcess(['erase', '--session', 'erase-me', '--json'], { cwd });
    expect(run.code).toBe(0);
    const report = lastJson<ErasureReport>(run.stdout);
    // The embedded default pseudonymises session ids: the report names the stored form, never the raw id.
    expect(report).toMatchObject({ removed: 3, verified: true, deadLetters: { removed: 1, remaining: 0, filesRewritten: 1 } });
    expect(report.storedIds).toHaveLength(1);
    expect(report.storedIds[0]).toMatch(/^ps1\./);
    expect(report.tiers).toEqual([{ tier: 'hot-sqlite', role: 'hot', supported: true, removed: 2, remaining: 0 }]);
    const text = await runInProcess(['erase', '--session', 'erase-me'], { cwd });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('0 row(s) removed');
    expect(text.stdout).toMatch(/dead-letter files\s+-\s+0\s+0/);
    expect(text.stdout).toContain('Verified: nothing of the session remains in any tier, dead-letter file or plugin.');
    const erasures = audit(cwd).filter((entry) => entry.operation === 'subject.erase' && entry.outcome);
    expect(erasures).toHaveLength(2);
    expect(erasures[0]).toMatchObject({ role: 'admin', outcome: { removed: 3, verified: true, deadLetters: { removed: 1, remaining: 0 } } });
  });

  it('rejects an unknown role naming the choices', async () => {
    const cwd = tempDir();
    const run = await runInProcess(['--as', 'root', 'status'], { cwd });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('admin, analyst, developer, viewer');
  });
});
