import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { workloadLines } from '@strata/testing';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';
import { countRows, databaseFile, inspectDatabase, lastJson, runInProcess, tempDir } from './helpers.js';

const DAY_MS = 86_400_000;

/** A project directory with `events` interactions ingested into `data/`, through the CLI. */
async function ingestedProject(events: number): Promise<{ cwd: string; dataDir: string }> {
  const cwd = tempDir();
  const file = join(cwd, 'events.jsonl');
  writeFileSync(file, `${[...workloadLines({ events, seed: 5, start: Date.now() - 8 * DAY_MS, days: 7 })].join('\n')}\n`);
  const ingest = await runInProcess(['ingest', file, '--data-dir', 'data'], { cwd });
  expect(ingest.code, ingest.stderr).toBe(0);
  return { cwd, dataDir: join(cwd, 'data') };
}

interface BackupJson {
  id: string;
  path: string;
  files: number;
  bytesWritten: number;
  durationMs: number;
  rotation: { kept: Array<{ id: string }>; removed: string[] } | null;
}

function flipByte(file: string, position: number): () => void {
  const bytes = readFileSync(file);
  const original = bytes[position]!;
  bytes[position] = original ^ 0xff;
  writeFileSync(file, bytes);
  return () => {
    bytes[position] = original;
    writeFileSync(file, bytes);
  };
}

describe('strata backup, verify and restore', () => {
  it('backs up, verifies, refuses a corrupted backup, and restores a deleted database with every row', async () => {
    const { cwd, dataDir } = await ingestedProject(2_000);
    const rows = countRows(dataDir);
    expect(rows).toBe(2_000);

    const backup = await runInProcess(['backup', '--data-dir', 'data', '--json'], { cwd });
    expect(backup.code, backup.stderr).toBe(0);
    const taken = lastJson<BackupJson>(backup.stdout);
    expect(taken.path).toBe(join(dataDir, 'backups', taken.id));
    expect(taken.files).toBe(2);
    expect(taken.bytesWritten).toBe(statSync(join(taken.path, 'hot-sqlite', 'comprehensive_metrics.db')).size + statSync(join(taken.path, 'config', 'resolved-config.json')).size);

    const list = await runInProcess(['backup', 'list', '--data-dir', 'data'], { cwd });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${taken.id}\\s+complete\\s+hot-sqlite\\s+2`));

    const verified = await runInProcess(['backup', 'verify', '--data-dir', 'data'], { cwd });
    expect(verified.code, verified.stdout).toBe(0);
    expect(verified.stdout).toMatch(new RegExp(`^ok   ${taken.id}: 2 file\\(s\\)`));

    const copy = join(taken.path, 'hot-sqlite', 'comprehensive_metrics.db');
    const putBack = flipByte(copy, Math.floor(statSync(copy).size / 3));
    const failed = await runInProcess(['backup', 'verify', taken.id, '--data-dir', 'data', '--json'], { cwd });
    expect(failed.code).toBe(1);
    const failure = lastJson<{ ok: boolean; backups: Array<{ problems: Array<{ file: string; check: string }> }> }>(failed.stdout);
    expect(failure.ok).toBe(false);
    // The checksum always catches the flip; the integrity check may too, depending on the page it hit.
    expect(failure.backups[0]!.problems).toContainEqual(expect.objectContaining({ file: 'hot-sqlite/comprehensive_metrics.db', check: 'sha256' }));
    const refused = await runInProcess(['restore', taken.id, '--data-dir', 'data'], { cwd });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/hot-sqlite\/comprehensive_metrics\.db: sha256 failed/);
    expect(refused.stderr).toMatch(/refusing to restore it, and nothing in the data dir was changed/);
    expect(refused.stderr).not.toMatch(/unexpected/);
    putBack();

    // The drill: the database and its WAL and shared-memory files are lost.
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${databaseFile(dataDir)}${suffix}`, { force: true });
    const restored = await runInProcess(['restore', 'latest', '--data-dir', 'data'], { cwd });
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain(`Restored backup ${taken.id}`);
    expect(restored.stdout).toContain(databaseFile(dataDir));
    expect(restored.stdout).toMatch(/bytes restored\s+[\d.]+ (KB|MB)/);
    expect(restored.stdout).toMatch(/time taken\s+\d/);
    expect(inspectDatabase(dataDir)).toEqual({ rows: 2_000, distinctEventIds: 2_000, integrity: 'ok' });

    const status = await runInProcess(['status', '--data-dir', 'data', '--json'], { cwd });
    expect(lastJson<{ interactions: number }>(status.stdout).interactions).toBe(2_000);
  });

  it('restoring over an existing database keeps the previous one beside it', async () => {
    const { cwd, dataDir } = await ingestedProject(300);
    const backup = await runInProcess(['backup', '--data-dir', 'data', '--json'], { cwd });
    const { id } = lastJson<BackupJson>(backup.stdout);
    const restored = await runInProcess(['restore', join('data', 'backups', id), '--data-dir', 'data', '--json'], { cwd });
    expect(restored.code, restored.stderr).toBe(0);
    const report = lastJson<{ restored: Array<{ setAside: string[] }> }>(restored.stdout);
    expect(report.restored[0]!.setAside).toHaveLength(1);
    expect(existsSync(report.restored[0]!.setAside[0]!)).toBe(true);
    expect(countRows(dataDir)).toBe(300);
  });

  it('uses the backup options and copies the config file when the config lists the plugin', async () => {
    const cwd = tempDir();
    const configText = `${JSON.stringify({ dataDir: './data', plugins: ['hot-sqlite', { name: 'backup', options: { dir: 'snapshots', keep: { last: 1, daily: 0, weekly: 0, monthly: 0 } } }] }, null, 2)}\n`;
    writeFileSync(join(cwd, 'strata.config.json'), configText);
    const first = await runInProcess(['backup', '--json'], { cwd });
    expect(first.code, first.stderr).toBe(0);
    const second = await runInProcess(['backup'], { cwd });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/rotation\s+kept 1, removed 1/);
    expect(second.stdout).toMatch(/bytes written\s+[\d.]+ KB/);
    expect(second.stdout).toMatch(/hot-sqlite\/comprehensive_metrics\.db\s+[\d.]+ KB\s+integrity ok, sha256/);
    const backups = readdirSync(join(cwd, 'data', 'snapshots'));
    expect(backups).toHaveLength(1);
    expect(backups[0]).not.toBe(lastJson<BackupJson>(first.stdout).id);
    expect(readFileSync(join(cwd, 'data', 'snapshots', backups[0]!, 'config', 'strata.config.json'), 'utf8')).toBe(configText);

    const kept = await runInProcess(['backup', '--no-rotate', '--json'], { cwd });
    expect(lastJson<BackupJson>(kept.stdout).rotation).toBeNull();
    expect(readdirSync(join(cwd, 'data', 'snapshots'))).toHaveLength(2);
  });

  it('reports bad backup options with their path, and bad references with what to do', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'strata.config.json'), JSON.stringify({ plugins: ['hot-sqlite', { name: 'backup', options: { schedule: 'every night', keep: { weekly: 1.5 } } }] }));
    const bad = await runInProcess(['backup'], { cwd });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('plugins[1].options.schedule: "every night" is not a cron expression');
    expect(bad.stderr).toContain('plugins[1].options.keep.weekly: expected int, got number');

    const empty = tempDir();
    const nothing = await runInProcess(['backup', 'verify', '--data-dir', 'data'], { cwd: empty });
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(/there is no backup to verify in .*take one with `strata backup`/);
    const missing = await runInProcess(['restore', 'latest', '--data-dir', 'data'], { cwd: empty });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no complete backup in/);
    const noArgument = await runInProcess(['restore'], { cwd: empty });
    expect(noArgument.code).toBe(1);
    expect(noArgument.stderr).toMatch(/missing required argument 'backup'/);
    const unknown = await runInProcess(['backup', 'verify', 'no-such-backup', '--data-dir', 'data'], { cwd: empty });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no backup ".*no-such-backup".*strata backup list/);
  });

  it('shows progress on a terminal, and only there', async () => {
    const { cwd } = await ingestedProject(500);
    let terminal = '';
    let stdout = '';
    const code = await runCli(['node', 'strata', 'backup', '--data-dir', 'data'], {
      cwd,
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { isTTY: true, columns: 100, write: (text: string) => (terminal += text) },
      stdin: Readable.from([]),
      handleSignals: false,
    });
    expect(code).toBe(0);
    // The first update and the last are always drawn; those in between are throttled.
    expect(terminal).toMatch(/^\r\x1b\[2Kcopying hot-sqlite: [\d.]+ KB/);
    expect(terminal).toMatch(/verifying [^:]+: 100% \(([\d.]+ KB) of \1\)/);
    // The status line is cleared at the end, so the summary on stdout is all that stays.
    expect(terminal.endsWith('\r\x1b[2K')).toBe(true);
    expect(stdout).not.toContain('\r');
    expect(stdout).toMatch(/bytes written\s+[\d.]+ KB\n\s+time taken\s+\d/);
  });
});

describe('access to backup and restore', () => {
  it('lets an analyst take a backup but not restore one, and refuses a viewer both', async () => {
    const cwd = tempDir();
    const file = join(cwd, 'events.jsonl');
    writeFileSync(file, `${JSON.stringify({ eventId: 'x1', sessionId: 's', timestamp: new Date().toISOString(), userRole: 'student', query: 'q', queryType: 'technical', responseTime: 1, success: true })}\n`);
    expect((await runInProcess(['ingest', file], { cwd })).code).toBe(0);
    const viewer = await runInProcess(['--as', 'viewer', 'backup'], { cwd });
    expect(viewer.code).toBe(1);
    expect(viewer.stderr).toContain('lacks the "read" and "export" permission needed for backup.create');
    expect((await runInProcess(['--as', 'analyst', 'backup'], { cwd })).code).toBe(0);
    const restore = await runInProcess(['--as', 'analyst', 'restore', 'latest'], { cwd });
    expect(restore.code).toBe(1);
    expect(restore.stderr).toContain('lacks the "write" and "delete" permission needed for backup.restore');
  });
});

describe('the backup KPI in strata status', () => {
  it('counts completed backups of the last 30 days and ignores interrupted ones by name', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'strata.config.json'), JSON.stringify({ plugins: ['hot-sqlite', 'backup'] }));
    const file = join(cwd, 'events.jsonl');
    writeFileSync(file, `${JSON.stringify({ eventId: 'k1', sessionId: 's', timestamp: new Date().toISOString(), userRole: 'student', query: 'q', queryType: 'technical', responseTime: 1, success: true })}\n`);
    expect((await runInProcess(['ingest', file], { cwd })).code).toBe(0);
    expect((await runInProcess(['backup'], { cwd })).code).toBe(0);
    const status = lastJson<{ kpis: Array<{ name: string; value: number | null; status: string }> }>((await runInProcess(['status', '--json'], { cwd })).stdout);
    expect(status.kpis.find((kpi) => kpi.name === 'backup_success')).toMatchObject({ value: 100, status: 'ok' });
    expect(status.kpis.find((kpi) => kpi.name === 'data_freshness')).toMatchObject({ status: 'ok' });
  });
});
