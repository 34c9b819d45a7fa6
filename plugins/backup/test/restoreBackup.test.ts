import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { BackupBusyError, MANIFEST_FILE, createBackup, restoreBackup, type BackupResult } from '../src/index.js';
import { HOT_FILE, count, fakeTier, openHotTier, tempDir, testConfiguration } from './helpers.js';

const driver = createRequire(import.meta.url).resolve('better-sqlite3');

/** Commits rows in a separate process that then dies without closing the database, as a crash would: its WAL stays behind. */
function crashAfterWriting(file: string, rows: number): void {
  const script = `
    const Database = require(${JSON.stringify(driver)});
    const db = new Database(${JSON.stringify(file)});
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE IF NOT EXISTS crash_marker (n INTEGER)');
    const insert = db.prepare('INSERT INTO crash_marker VALUES (?)');
    db.transaction(() => { for (let n = 0; n < ${rows}; n += 1) insert.run(n); })();
    process.exit(0);
  `;
  execFileSync(process.execPath, ['-e', script]);
}

async function backedUpDataDir(rows: number): Promise<{ dataDir: string; backupsDir: string; backup: BackupResult }> {
  const dataDir = tempDir('strata-restore-');
  const backupsDir = join(dataDir, 'backups');
  const tier = await openHotTier(dataDir, rows);
  const backup = await createBackup({ tiers: [tier], dataDir, backupsDir, configuration: testConfiguration(dataDir) });
  await tier.close();
  return { dataDir, backupsDir, backup };
}

describe('restoreBackup', () => {
  it('brings back a deleted hot database with every row: the restore drill', async () => {
    const { dataDir, backupsDir, backup } = await backedUpDataDir(3_000);
    const before = await openHotTier(dataDir);
    const expectedCount = await before.countInteractions();
    const expectedPage = await before.queryInteractions({ limit: 200 });
    const expectedReport = await before.report();
    await before.close();

    for (const suffix of ['', '-wal', '-shm']) rmSync(join(dataDir, `${HOT_FILE}${suffix}`), { force: true });
    const report = await restoreBackup({ backup: 'latest', backupsDir });
    expect(report.id).toBe(backup.id);
    expect(report.restored).toEqual([
      expect.objectContaining({ file: `hot-sqlite/${HOT_FILE}`, restoreTo: join(dataDir, HOT_FILE), setAside: [], tables: expect.objectContaining({ user_interactions: 3_000 }) }),
    ]);
    expect(report.configFiles).toEqual([join(backup.path, 'config', 'resolved-config.json')]);

    const after = await openHotTier(dataDir);
    expect(await after.countInteractions()).toBe(expectedCount);
    expect(await after.queryInteractions({ limit: 200 })).toEqual(expectedPage);
    expect(await after.report()).toEqual(expectedReport);
    const health = await after.health();
    await after.close();
    expect(health.ok).toBe(true);
    expect(readdirSync(dataDir).filter((name) => name.includes('.restore-'))).toEqual([]);
  });

  it('never replays the stale WAL of a deleted database into the restored one', async () => {
    const { dataDir, backupsDir } = await backedUpDataDir(500);
    crashAfterWriting(join(dataDir, HOT_FILE), 100);
    expect(existsSync(join(dataDir, `${HOT_FILE}-wal`))).toBe(true);
    // Only the database file is deleted; its WAL and shared-memory index stay behind.
    rmSync(join(dataDir, HOT_FILE));

    const report = await restoreBackup({ backup: 'latest', backupsDir, now: () => Date.UTC(2026, 1, 3, 4, 5, 6) });
    const aside = join(dataDir, `${HOT_FILE}.pre-restore-2026-02-03T04-05-06-000Z-wal`);
    expect(report.restored[0]?.setAside).toEqual([aside]);
    expect(report.removed).toEqual([join(dataDir, `${HOT_FILE}-shm`)]);
    expect(existsSync(join(dataDir, `${HOT_FILE}-wal`))).toBe(false);

    const db = new Database(join(dataDir, HOT_FILE));
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE name = 'crash_marker'").all();
    const rows = count(db, 'SELECT COUNT(*) FROM user_interactions');
    const integrity = db.pragma('integrity_check', { simple: true });
    db.close();
    expect(tables).toEqual([]);
    expect(rows).toBe(500);
    expect(integrity).toBe('ok');
  });

  it('sets the current database aside with what a crashed writer committed, instead of deleting it', async () => {
    const { dataDir, backupsDir } = await backedUpDataDir(500);
    crashAfterWriting(join(dataDir, HOT_FILE), 100);

    const report = await restoreBackup({ backup: 'latest', backupsDir, now: () => Date.UTC(2026, 1, 3) });
    const aside = join(dataDir, `${HOT_FILE}.pre-restore-2026-02-03T00-00-00-000Z`);
    expect(report.restored[0]?.setAside[0]).toBe(aside);
    const previous = new Database(aside);
    const committedByTheCrashedWriter = count(previous, 'SELECT COUNT(*) FROM crash_marker');
    previous.close();
    expect(committedByTheCrashedWriter).toBe(100);

    const restored = new Database(join(dataDir, HOT_FILE), { readonly: true });
    const markers = restored.prepare("SELECT name FROM sqlite_schema WHERE name = 'crash_marker'").all();
    restored.close();
    expect(markers).toEqual([]);
  });

  it('refuses while a process has the database open, and changes nothing', async () => {
    const { dataDir, backupsDir, backup } = await backedUpDataDir(200);
    const running = await openHotTier(dataDir, 0, 'thread');
    await running.writeInteractions([]);
    try {
      const error = await restoreBackup({ backup: backup.id, backupsDir }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(BackupBusyError);
      expect((error as Error).message).toContain(`${join(dataDir, HOT_FILE)} (another process has it open)`);
      expect((error as Error).message).toMatch(/stop the Strata server/);
    } finally {
      await running.close();
    }
    expect(readdirSync(dataDir).filter((name) => name.includes('pre-restore') || name.includes('.restore-'))).toEqual([]);
  });

  it('refuses while another process (a server) has the database open', async () => {
    const { dataDir, backupsDir, backup } = await backedUpDataDir(200);
    const script = `
      const Database = require(${JSON.stringify(driver)});
      const db = new Database(${JSON.stringify(join(dataDir, HOT_FILE))});
      db.pragma('journal_mode = WAL');
      db.prepare('SELECT COUNT(*) FROM user_interactions').get();
      process.stdout.write('open\\n');
      process.stdin.resume();
      process.stdin.on('end', () => { db.close(); process.exit(0); });
    `;
    const server = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => server.once('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        server.stdout!.once('data', () => resolve());
        server.once('error', reject);
      });
      await expect(restoreBackup({ backup: backup.id, backupsDir })).rejects.toThrow(/another process has it open/);
    } finally {
      server.stdin!.end();
      await exited;
    }
    // Once it stopped, the same restore goes through.
    expect((await restoreBackup({ backup: backup.id, backupsDir })).restored).toHaveLength(1);
  });

  it('restores into another data dir, placing each file where it lived relative to the data dir', async () => {
    const { backupsDir, backup } = await backedUpDataDir(300);
    const elsewhere = join(tempDir('strata-restore-target-'), 'analytics');
    const report = await restoreBackup({ backup: backup.path, backupsDir, dataDir: elsewhere });
    expect(report.restored[0]?.restoreTo).toBe(join(elsewhere, HOT_FILE));
    const tier = await openHotTier(elsewhere);
    expect(await tier.countInteractions()).toBe(300);
    await tier.close();
  });

  it('puts back the files of every tier, nested ones included', async () => {
    const dataDir = tempDir('strata-restore-');
    const backupsDir = join(dataDir, 'backups');
    const archiveFile = join(dataDir, 'archive', '2025-12', 'part-1.jsonl.gz');
    const cold = fakeTier('json-archive', 'cold', (targetDir) => {
      mkdirSync(join(targetDir, '2025-12'), { recursive: true });
      writeFileSync(join(targetDir, '2025-12', 'part-1.jsonl.gz'), 'archived rows');
      return { files: [{ path: join('2025-12', 'part-1.jsonl.gz'), restoreTo: archiveFile, bytes: 13 }] };
    });
    const hot = await openHotTier(dataDir, 50);
    await createBackup({ tiers: [hot, cold], dataDir, backupsDir, configuration: testConfiguration(dataDir) });
    await hot.close();
    rmSync(join(dataDir, HOT_FILE));

    const report = await restoreBackup({ backup: 'latest', backupsDir });
    expect(report.restored.map((file) => file.restoreTo)).toEqual([join(dataDir, HOT_FILE), archiveFile]);
    expect(readFileSync(archiveFile, 'utf8')).toBe('archived rows');
  });

  it('ignores incomplete backups when restoring the latest, and refuses one named explicitly', async () => {
    const { dataDir, backupsDir, backup } = await backedUpDataDir(100);
    // Two later attempts that never finished: one still under its temporary name, one without a manifest.
    mkdirSync(join(backupsDir, '2999-01-01T00-00-00-000Z.partial', 'hot-sqlite'), { recursive: true });
    mkdirSync(join(backupsDir, '2999-01-02T00-00-00-000Z', 'hot-sqlite'), { recursive: true });
    writeFileSync(join(backupsDir, '2999-01-02T00-00-00-000Z', 'hot-sqlite', HOT_FILE), 'half a database');

    const report = await restoreBackup({ backup: 'latest', backupsDir });
    expect(report.id).toBe(backup.id);
    await expect(restoreBackup({ backup: '2999-01-02T00-00-00-000Z', backupsDir })).rejects.toThrow(/is incomplete \(has no manifest\.json: it never finished\) and cannot be restored/);
    await expect(restoreBackup({ backup: '2999-01-01T00-00-00-000Z', backupsDir })).rejects.toThrow(/is incomplete/);
    const tier = await openHotTier(dataDir);
    expect(await tier.countInteractions()).toBe(100);
    await tier.close();
  });

  it('refuses a backup whose manifest was damaged, naming the manifest', async () => {
    const { backupsDir, backup } = await backedUpDataDir(10);
    const manifestFile = join(backup.path, MANIFEST_FILE);
    writeFileSync(manifestFile, readFileSync(manifestFile, 'utf8').replace('"bytes": ', '"bytes":  '));
    await expect(restoreBackup({ backup: 'latest', backupsDir })).rejects.toThrow(/manifest\.json: manifest failed: manifest\.json its text was altered/);
  });

  it('says what to do when there is no backup, or no such backup', async () => {
    const dataDir = tempDir('strata-restore-');
    const backupsDir = join(dataDir, 'backups');
    await expect(restoreBackup({ backup: 'latest', backupsDir })).rejects.toThrow(/no complete backup in .*take one with `strata backup`/);
    await expect(restoreBackup({ backup: '2020-01-01T00-00-00-000Z', backupsDir })).rejects.toThrow(/no backup "2020-01-01T00-00-00-000Z".*strata backup list/);
  });
});
