import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createInteractionValidator, type Interaction } from '@strata/core';
import { HotSqliteTier } from '@strata/hot-sqlite';
import { generateWorkload } from '@strata/testing';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';
import { countRows, lastJson, runInProcess, tempDir } from './helpers.js';

const DAY_MS = 86_400_000;

const TIERED_CONFIG = {
  plugins: [{ name: 'hot-sqlite', options: { writer: 'inline' } }, 'historical-sqlite', 'json-archive', 'retention'],
  logLevel: 'silent',
};

/** A project with the tiered config, its hot tier holding `old` interactions from 200 days ago and `recent` from the last week. */
async function tieredProject(old: number, recent: number): Promise<{ cwd: string; dataDir: string }> {
  const cwd = tempDir();
  writeFileSync(join(cwd, 'strata.config.json'), JSON.stringify(TIERED_CONFIG));
  const dataDir = join(cwd, 'analytics');
  const validate = createInteractionValidator(undefined, () => Date.now());
  const events: Interaction[] = [];
  for (const [count, start, days, seed] of [[old, Date.now() - 200 * DAY_MS, 20, 1], [recent, Date.now() - 8 * DAY_MS, 7, 2]] as const) {
    for (const input of generateWorkload({ events: count, seed, start, days, networkFields: false })) {
      const checked = validate(input);
      if (!checked.ok) throw new Error('the workload produced an invalid event');
      events.push(checked.value);
    }
  }
  const hot = HotSqliteTier.open({ file: join(dataDir, 'comprehensive_metrics.db'), writer: 'inline' });
  await hot.writeInteractions(events);
  await hot.close();
  return { cwd, dataDir };
}

describe('strata jobs', () => {
  it('lists the jobs of the configured plugins with their schedules', async () => {
    const { cwd } = await tieredProject(0, 0);
    const run = await runInProcess(['jobs', 'list'], { cwd });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/job\s+schedule\s+what it does/);
    expect(run.stdout).toMatch(/retention\s+30 2 \* \* \*\s+archive hot interactions/);

    const json = await runInProcess(['jobs', 'list', '--json'], { cwd });
    expect(lastJson(json.stdout)).toEqual({ jobs: [{ name: 'retention', schedule: '30 2 * * *', description: expect.stringContaining('archive') }] });
  });

  it('says so when no plugin contributes a job', async () => {
    const run = await runInProcess(['jobs', 'list', '--log-level', 'silent'], { cwd: tempDir() });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('No jobs: no plugin in the config contributes one');
  });

  it('runs retention by hand and prints rows moved, bytes written and time taken as JSON', async () => {
    const { cwd, dataDir } = await tieredProject(400, 50);
    const run = await runInProcess(['jobs', 'run', 'retention', '--json'], { cwd });
    expect(run.code, run.stderr).toBe(0);
    const output = lastJson<{ job: string; durationMs: number; interrupted: null; report: Record<string, unknown> }>(run.stdout);
    expect(output).toMatchObject({ job: 'retention', interrupted: null, report: { status: 'ok', rowsMoved: 400, summary: expect.stringContaining('moved 400 interaction(s)') } });
    expect(output.report.bytesWritten).toBeGreaterThan(0);
    expect(output.report.durationMs).toEqual(expect.any(Number));
    expect(output.durationMs).toEqual(expect.any(Number));
    expect(countRows(dataDir)).toBe(50);
  });

  it('prints a readable summary, and moves nothing on a second run', async () => {
    const { cwd } = await tieredProject(120, 0);
    const first = await runInProcess(['jobs', 'run', 'retention'], { cwd });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('retention: moved 120 interaction(s)');
    expect(first.stdout).toMatch(/rows moved\s+120/);
    expect(first.stdout).toMatch(/bytes written\s+\d+(\.\d)? (B|KB)/);
    expect(first.stdout).toMatch(/time taken\s+\d/);
    expect(first.stdout).toMatch(/step\s+rows\s+bytes\s+partitions\s+time/);
    expect(first.stdout).toMatch(/archive\s+120/);

    const second = await runInProcess(['jobs', 'run', 'retention'], { cwd });
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/rows moved\s+0\n/);
  });

  it('draws progress on a terminal only, on stderr', async () => {
    const { cwd } = await tieredProject(300, 0);
    let stdout = '';
    let stderr = '';
    const code = await runCli(['node', 'strata', 'jobs', 'run', 'retention'], {
      cwd,
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text), isTTY: true, columns: 120 },
      stdin: Readable.from([]),
      handleSignals: false,
    });
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/retention .*\| [\d,]+ of 300 rows/);
    expect(stdout).not.toMatch(/\x1b\[/);
  });

  it('fails with the known jobs when the name is unknown', async () => {
    const { cwd } = await tieredProject(0, 0);
    const run = await runInProcess(['jobs', 'run', 'vacuum'], { cwd });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('strata: no job named "vacuum"; known jobs: retention');
  });

  it('names the missing plugin when retention is configured without a warm tier', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'strata.config.json'), JSON.stringify({ plugins: ['hot-sqlite', 'json-archive', 'retention'], logLevel: 'silent' }));
    const run = await runInProcess(['jobs', 'list'], { cwd });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('retention: failed to start: no warm storage tier is configured; add historical-sqlite to plugins');
  });
});

describe('access to jobs', () => {
  it('lets a viewer list jobs but only an admin run one', async () => {
    const cwd = tempDir();
    expect((await runInProcess(['--as', 'viewer', 'jobs', 'list'], { cwd })).code).toBe(0);
    const run = await runInProcess(['--as', 'analyst', 'jobs', 'run', 'anything'], { cwd });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('lacks the "write" and "delete" permission needed for jobs.run');
  });
});
