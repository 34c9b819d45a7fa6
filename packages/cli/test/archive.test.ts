import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { workloadLines } from '@strata/testing';
import { describe, expect, it } from 'vitest';
import { lastJson, runInProcess, tempDir } from './helpers.js';

const DAY_MS = 86_400_000;

describe('strata archive', () => {
  it('lists the partitions retention wrote and restores a month into the hot tier without counting it twice', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'strata.config.json'), JSON.stringify({ plugins: ['hot-sqlite', 'historical-sqlite', 'json-archive', 'retention'] }));
    const file = join(cwd, 'events.jsonl');
    // Thirty days that ended 200 days ago: past the 90-day hot horizon.
    writeFileSync(file, `${[...workloadLines({ events: 2_000, seed: 5, start: Date.now() - 230 * DAY_MS, days: 30 })].join('\n')}\n`);
    expect((await runInProcess(['ingest', file], { cwd })).code).toBe(0);
    const before = lastJson<{ totals: { interactions: number; sessions: number } }>((await runInProcess(['report', '--json'], { cwd })).stdout).totals;
    expect((await runInProcess(['jobs', 'run', 'retention'], { cwd })).code).toBe(0);
    const status = lastJson<{ interactions: number }>((await runInProcess(['status', '--json'], { cwd })).stdout);
    expect(status.interactions).toBe(0);

    const listed = lastJson<{ partitions: Array<{ id: string; month: string; rows: number }> }>((await runInProcess(['archive', 'list', '--json'], { cwd })).stdout);
    expect(listed.partitions.reduce((sum, partition) => sum + partition.rows, 0)).toBe(2_000);
    const month = listed.partitions[0]!.month;
    const inMonth = listed.partitions.filter((partition) => partition.month === month).reduce((sum, partition) => sum + partition.rows, 0);

    const restored = await runInProcess(['archive', 'restore', '--month', month, '--json'], { cwd });
    expect(restored.code).toBe(0);
    expect(lastJson<{ rows: number; restored: number }>(restored.stdout)).toMatchObject({ rows: inMonth, restored: inMonth });
    expect(lastJson<{ interactions: number }>((await runInProcess(['status', '--json'], { cwd })).stdout).interactions).toBe(inMonth);
    // The rollups never stopped counting those rows: the report is what it was.
    const after = lastJson<{ totals: { interactions: number; sessions: number } }>((await runInProcess(['report', '--json'], { cwd })).stdout).totals;
    expect(after).toEqual(before);
    // Restoring again changes nothing.
    const again = lastJson<{ restored: number }>((await runInProcess(['archive', 'restore', '--month', month, '--json'], { cwd })).stdout);
    expect(again.restored).toBe(0);
  });

  it('explains what is missing: no cold tier, a bad month, no selection', async () => {
    const cwd = tempDir();
    const none = await runInProcess(['archive', 'list'], { cwd });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('add "json-archive" to plugins');
    expect((await runInProcess(['archive', 'restore', '--month', '2026-13'], { cwd })).stderr).toContain('--month must be YYYY-MM');
    expect((await runInProcess(['archive', 'restore'], { cwd })).stderr).toContain('give --month YYYY-MM or one or more --partition');
  });
});
