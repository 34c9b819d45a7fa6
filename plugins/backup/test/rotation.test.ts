import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeepPolicySchema, MANIFEST_FILE, applyRotation, createBackup, isoWeekKey, listBackups, planRotation, type KeepPolicy } from '../src/index.js';
import { fakeTier, tempDir, testConfiguration } from './helpers.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const policy = (keep: Partial<KeepPolicy>): KeepPolicy => ({ last: 0, daily: 0, weekly: 0, monthly: 0, ...keep });
const at = (iso: string) => Date.parse(iso);

describe('planRotation', () => {
  it('keeps the newest backup of each of the last N days that have one', () => {
    const candidates = [
      { id: 'mon-early', createdAt: at('2026-01-05T01:00:00Z') },
      { id: 'mon-late', createdAt: at('2026-01-05T23:00:00Z') },
      { id: 'tue', createdAt: at('2026-01-06T12:00:00Z') },
      { id: 'thu-early', createdAt: at('2026-01-08T03:00:00Z') },
      { id: 'thu-late', createdAt: at('2026-01-08T15:00:00Z') },
    ];
    const plan = planRotation(candidates, policy({ daily: 2 }));
    expect(plan.keep.map((kept) => kept.id)).toEqual(['thu-late', 'tue']);
    expect(plan.keep[0]!.reasons).toEqual(['newest', 'daily 2026-01-08']);
    expect(plan.remove).toEqual(['thu-early', 'mon-late', 'mon-early']);
  });

  it('combines last, daily, weekly and monthly; a backup kept by any rule stays', () => {
    // One backup a day at 03:00 for 70 days, from Thursday 2026-01-01.
    const candidates = Array.from({ length: 70 }, (_, day) => ({ id: `d${day}`, createdAt: Date.UTC(2026, 0, 1 + day, 3) }));
    const plan = planRotation(candidates, policy({ last: 2, daily: 7, weekly: 4, monthly: 3 }));
    const kept = plan.keep.map((entry) => entry.id);
    // daily: the 7 newest days (d63-d69); weekly: each ISO week's newest (d69, d66 already kept, then the
    // Sundays d59 and d52); monthly: each month's newest (d69, then 28 Feb = d58 and 31 Jan = d30).
    expect(kept).toEqual(['d69', 'd68', 'd67', 'd66', 'd65', 'd64', 'd63', 'd59', 'd58', 'd52', 'd30']);
    expect(plan.keep.find((entry) => entry.id === 'd69')!.reasons).toEqual(['newest', 'last 1', 'daily 2026-03-11', 'weekly 2026-W11', 'monthly 2026-03']);
    expect(plan.keep.find((entry) => entry.id === 'd30')!.reasons).toEqual(['monthly 2026-01']);
    expect(kept.length + plan.remove.length).toBe(70);
  });

  it('never removes the newest backup, even when every count is zero', () => {
    const plan = planRotation([{ id: 'old', createdAt: 1 }, { id: 'new', createdAt: 2 }], policy({}));
    expect(plan.keep).toEqual([{ id: 'new', reasons: ['newest'] }]);
    expect(plan.remove).toEqual(['old']);
  });

  it('holds its guarantees for any backups and any policy', () => {
    const candidates = fc.uniqueArray(fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }), { minLength: 1, maxLength: 60 }).map((times) =>
      times.map((createdAt, index) => ({ id: `b${index}`, createdAt })),
    );
    const keep = fc.record({ last: fc.nat(5), daily: fc.nat(10), weekly: fc.nat(6), monthly: fc.nat(6) });
    fc.assert(
      fc.property(candidates, keep, (backups, rules) => {
        const plan = planRotation(backups, rules);
        const kept = new Set(plan.keep.map((entry) => entry.id));
        const newest = [...backups].sort((a, b) => b.createdAt - a.createdAt)[0]!;
        expect(kept.has(newest.id)).toBe(true);
        expect(plan.remove.every((id) => !kept.has(id))).toBe(true);
        expect(kept.size + plan.remove.length).toBe(backups.length);
        expect(kept.size).toBeLessThanOrEqual(1 + rules.last + rules.daily + rules.weekly + rules.monthly);
        // Each of the most recent `daily` days that has a backup keeps one.
        const days = [...new Set([...backups].sort((a, b) => b.createdAt - a.createdAt).map((b) => new Date(b.createdAt).toISOString().slice(0, 10)))].slice(0, rules.daily);
        const keptDays = new Set(backups.filter((b) => kept.has(b.id)).map((b) => new Date(b.createdAt).toISOString().slice(0, 10)));
        expect(days.every((day) => keptDays.has(day))).toBe(true);
      }),
    );
  });
});

describe('isoWeekKey', () => {
  it('follows ISO 8601 at year boundaries', () => {
    expect(isoWeekKey(at('2026-01-01T00:00:00Z'))).toBe('2026-W01');
    expect(isoWeekKey(at('2024-12-30T12:00:00Z'))).toBe('2025-W01');
    expect(isoWeekKey(at('2021-01-03T23:59:59Z'))).toBe('2020-W53');
    expect(isoWeekKey(at('2026-03-09T00:00:00Z'))).toBe('2026-W11');
    expect(isoWeekKey(at('2026-03-08T23:59:59Z'))).toBe('2026-W10');
  });
});

describe('applyRotation', () => {
  async function backupsOn(times: readonly number[]): Promise<{ backupsDir: string; ids: string[] }> {
    const dataDir = tempDir('strata-rotation-');
    const backupsDir = join(dataDir, 'backups');
    const tier = fakeTier('tiny', 'hot', (targetDir) => {
      writeFileSync(join(targetDir, 'data.bin'), 'tiny');
      return { files: [{ path: 'data.bin', restoreTo: join(dataDir, 'data.bin'), bytes: 4 }] };
    });
    const ids: string[] = [];
    for (const time of times) ids.push((await createBackup({ tiers: [tier], dataDir, backupsDir, configuration: testConfiguration(dataDir), now: () => time })).id);
    return { backupsDir, ids };
  }

  it('deletes what the policy does not keep, and only that', async () => {
    const start = Date.UTC(2026, 0, 10, 3);
    // Two backups a day for five days.
    const { backupsDir, ids } = await backupsOn(Array.from({ length: 10 }, (_, index) => start + Math.floor(index / 2) * DAY + (index % 2) * 6 * HOUR));
    const report = await applyRotation(backupsDir, policy({ last: 1, daily: 3 }));
    const expected = [ids[9]!, ids[7]!, ids[5]!];
    expect(report.kept.map((entry) => entry.id)).toEqual(expected);
    expect(report.removed.sort()).toEqual(ids.filter((id) => !expected.includes(id)).sort());
    expect(readdirSync(backupsDir).sort()).toEqual([...expected].sort());
  });

  it('cleans incomplete backups and leaves a damaged one in place, never counting either', async () => {
    const start = Date.UTC(2026, 0, 10, 3);
    const { backupsDir, ids } = await backupsOn([start, start + DAY]);
    mkdirSync(join(backupsDir, '2026-01-12T03-00-00-000Z.partial', 'hot'), { recursive: true });
    mkdirSync(join(backupsDir, '2026-01-13T03-00-00-000Z'));
    mkdirSync(join(backupsDir, '2026-01-09T03-00-00-000Z.deleting'));
    mkdirSync(join(backupsDir, '2026-01-14T03-00-00-000Z'));
    writeFileSync(join(backupsDir, '2026-01-14T03-00-00-000Z', MANIFEST_FILE), '{"format":"strata-backup"');
    mkdirSync(join(backupsDir, 'not-a-backup'));

    const report = await applyRotation(backupsDir, policy({ daily: 1 }));
    // The newest complete backup stays; the damaged one, though newer, does not count as a backup.
    expect(report.kept.map((entry) => entry.id)).toEqual([ids[1]]);
    expect(report.removed).toEqual([ids[0]]);
    expect(report.removedIncomplete.sort()).toEqual(['2026-01-09T03-00-00-000Z.deleting', '2026-01-12T03-00-00-000Z.partial', '2026-01-13T03-00-00-000Z']);
    expect(report.damaged).toEqual([{ id: '2026-01-14T03-00-00-000Z', problem: expect.stringMatching(/^manifest\.json is not valid JSON/) }]);
    expect(readdirSync(backupsDir).sort()).toEqual([ids[1], '2026-01-14T03-00-00-000Z', 'not-a-backup'].sort());
    expect((await listBackups(backupsDir)).map((entry) => entry.status)).toEqual(['complete', 'damaged']);
  });

  it('rotates after each backup when asked, keeping the newest verified backup', async () => {
    const dataDir = tempDir('strata-rotation-');
    const backupsDir = join(dataDir, 'backups');
    const tier = fakeTier('tiny', 'hot', (targetDir) => {
      writeFileSync(join(targetDir, 'data.bin'), 'tiny');
      return { files: [{ path: 'data.bin', restoreTo: join(dataDir, 'data.bin'), bytes: 4 }] };
    });
    const keep = KeepPolicySchema.parse({ last: 0, daily: 0, weekly: 0, monthly: 0 });
    let last = '';
    for (let day = 0; day < 4; day += 1) {
      const result = await createBackup({ tiers: [tier], dataDir, backupsDir, configuration: testConfiguration(dataDir), rotate: keep, now: () => Date.UTC(2026, 0, 1 + day) });
      expect(result.rotation?.kept).toEqual([{ id: result.id, reasons: ['newest'] }]);
      last = result.id;
    }
    expect(readdirSync(backupsDir)).toEqual([last]);
  });
});
