import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeWorkloadFile } from '@strata/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, inspectDatabase, lastJson, readDeadLetters, runBin, sleep, spawnCli, tempDir } from './helpers.js';

// These tests run the built binary as a child process and kill it, as an operator (or the OOM killer) would.
const EVENTS = 200_000;
const DAY_MS = 86_400_000;
let workDir: string;
let bigFile: string;

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'strata-cli-crash-'));
  bigFile = join(workDir, 'big.jsonl');
  // Every event has an eventId (ev-<seed>-<n>), so "stored exactly once" is checkable.
  await writeWorkloadFile(bigFile, { events: EVENTS, seed: 11, start: Date.now() - 31 * DAY_MS, days: 30 });
}, 60_000);

afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** Polls the hot tier's row count (read-only, from another connection) until it reaches `atLeast`. */
async function waitForRows(dataDir: string, atLeast: number, child: { exitCode: number | null }): Promise<number> {
  for (;;) {
    const rows = countRows(dataDir);
    if (rows !== undefined && rows >= atLeast) return rows;
    if (child.exitCode !== null) throw new Error(`strata ingest exited (${child.exitCode}) before ${atLeast} rows were committed`);
    await sleep(25);
  }
}

describe('crash safety of strata ingest', () => {
  it('stores every event exactly once when a run is SIGKILLed mid-way and then run again', async () => {
    const cwd = tempDir();
    const dataDir = join(cwd, 'analytics');
    const first = spawnCli(['ingest', bigFile, '--json'], { cwd });
    const committed = await waitForRows(dataDir, 20_000, first.child);
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.signal).toBe('SIGKILL');
    const afterKill = inspectDatabase(dataDir);
    expect(afterKill.integrity).toBe('ok');
    expect(afterKill.rows).toBeGreaterThanOrEqual(committed);
    expect(afterKill.rows, 'the kill must land before the ingest finished').toBeLessThan(EVENTS);

    // The re-run reads the whole file (over 100 MB) again with the JS heap capped far below the file's size: memory stays flat.
    const second = await runBin(['ingest', bigFile, '--json'], { cwd, nodeArgs: ['--max-old-space-size=48'] });
    expect(second.code, second.stderr).toBe(0);
    const summary = lastJson(second.stdout);
    expect(summary).toMatchObject({ lines: EVENTS, accepted: EVENTS, rejected: 0, failed: 0, deadLetter: 0 });
    expect(summary.stored).toBe(EVENTS - afterKill.rows);
    expect(summary.duplicates).toBe(afterKill.rows);

    const final = inspectDatabase(dataDir);
    expect(final).toEqual({ rows: EVENTS, distinctEventIds: EVENTS, integrity: 'ok' });
    expect(readDeadLetters(dataDir)).toEqual([]);
  }, 60_000);

  for (const [signal, exitCode] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`on ${signal} stops reading, keeps what it accepted, and exits ${exitCode}`, async () => {
      const cwd = tempDir();
      const dataDir = join(cwd, 'analytics');
      const run = spawnCli(['ingest', bigFile, '--json'], { cwd });
      await waitForRows(dataDir, 5_000, run.child);
      run.child.kill(signal);
      const result = await run.done;
      expect(result.code, result.stderr).toBe(exitCode);
      expect(result.stderr).toContain(`${signal} received`);
      const summary = lastJson(result.stdout);
      expect(summary.interrupted).toBe(signal);
      expect(summary.lines as number).toBeLessThan(EVENTS);
      expect(summary).toMatchObject({ rejected: 0, failed: 0 });
      // Everything accepted before the signal was written before exit, and nothing else.
      expect(summary.accepted).toBe(summary.lines);
      const database = inspectDatabase(dataDir);
      expect(database).toEqual({ rows: summary.stored, distinctEventIds: summary.stored, integrity: 'ok' });
    }, 60_000);
  }
});
