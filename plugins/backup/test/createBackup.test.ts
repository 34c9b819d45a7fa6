import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StrataError } from '@strata/core';
import { sampleInteractions } from '@strata/testing';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import {
  BackupBusyError,
  BackupCorruptError,
  LOCK_FILE,
  MANIFEST_FILE,
  acquireBackupLock,
  createBackup,
  listBackups,
  parseManifest,
  verifyBackup,
  type BackupProgress,
} from '../src/index.js';
import { HOT_FILE, count, fakeTier, openHotTier, tempDir, testConfiguration, withDatabase } from './helpers.js';

function setup(): { dataDir: string; backupsDir: string } {
  const dataDir = tempDir();
  return { dataDir, backupsDir: join(dataDir, 'backups') };
}

describe('createBackup with the hot-sqlite tier', () => {
  it('writes the tier copy, the configuration and a manifest, under the final name only when complete', async () => {
    const { dataDir, backupsDir } = setup();
    const tier = await openHotTier(dataDir, 2_000);
    const progress: BackupProgress[] = [];
    const result = await createBackup({ tiers: [tier], dataDir, backupsDir, configuration: testConfiguration(dataDir), onProgress: (event) => progress.push(event) });
    await tier.close();

    expect(readdirSync(backupsDir).sort()).toEqual([result.id]);
    expect(readdirSync(result.path).sort()).toEqual(['config', 'hot-sqlite', MANIFEST_FILE]);
    // The copy is one self-contained file: no -wal or -shm beside it, before or after verification.
    expect(readdirSync(join(result.path, 'hot-sqlite'))).toEqual([HOT_FILE]);
    expect(readdirSync(join(result.path, 'config'))).toEqual(['resolved-config.json']);

    const manifest = parseManifest(readFileSync(join(result.path, MANIFEST_FILE), 'utf8'));
    if (!manifest.ok) throw new Error(manifest.problem);
    const database = manifest.manifest.files.find((file) => file.path === `hot-sqlite/${HOT_FILE}`)!;
    expect(database).toMatchObject({ kind: 'tier', tier: 'hot-sqlite', role: 'hot', restoreTo: join(dataDir, HOT_FILE), dataDirPath: HOT_FILE });
    expect(database.sqlite?.integrityCheck).toBe('ok');
    const copyCounts = withDatabase(join(result.path, database.path), (db) => ({
      interactions: count(db, 'SELECT COUNT(*) FROM user_interactions'),
      sessions: count(db, 'SELECT COUNT(*) FROM session_analytics'),
    }));
    expect(copyCounts.interactions).toBe(2_000);
    expect(database.sqlite?.tables.user_interactions).toBe(copyCounts.interactions);
    expect(database.sqlite?.tables.session_analytics).toBe(copyCounts.sessions);
    expect(manifest.manifest.totals.bytes).toBe(result.bytes);

    expect((await verifyBackup((await listBackups(backupsDir))[0]!)).problems).toEqual([]);
    expect(readdirSync(join(result.path, 'hot-sqlite'))).toEqual([HOT_FILE]);
    expect(existsSync(join(backupsDir, LOCK_FILE))).toBe(false);
    expect(progress.some((event) => event.phase === 'verify' && event.bytes === event.totalBytes)).toBe(true);
  });

  it('takes a consistent backup while another writer keeps inserting: the copy verifies and its rollups equal its rows', async () => {
    const { dataDir, backupsDir } = setup();
    const tier = await openHotTier(dataDir, 20_000, 'thread');
    let batches = 0;
    let stop = false;
    // Writes until told to stop, each batch with ids and sessions of its own (the seed is in them).
    const writer = (async () => {
      for (let seed = 100; !stop; seed += 1) {
        await tier.writeInteractions(sampleInteractions(200, seed, Date.UTC(2025, 11, 20), 5));
        batches += 1;
      }
    })();
    const waitForBatches = async (target: number) => {
      while (batches < target) await new Promise((resolve) => setTimeout(resolve, 5));
    };

    let before: number;
    let after: number;
    let result: Awaited<ReturnType<typeof createBackup>>;
    try {
      await waitForBatches(1);
      before = await tier.countInteractions();
      result = await createBackup({ tiers: [tier], dataDir, backupsDir, configuration: testConfiguration(dataDir) });
      // The writer went on after the backup finished, so the copy was taken in the middle of its run.
      await waitForBatches(batches + 1);
      after = await tier.countInteractions();
    } finally {
      stop = true;
      await writer;
      await tier.close();
    }

    const verification = await verifyBackup((await listBackups(backupsDir))[0]!);
    expect(verification.problems).toEqual([]);
    const copy = withDatabase(join(result.path, 'hot-sqlite', HOT_FILE), (db) => ({
      rows: count(db, 'SELECT COUNT(*) FROM user_interactions'),
      dayRollup: count(db, 'SELECT COALESCE(SUM(interactions), 0) FROM rollup_day'),
      hourRollup: count(db, 'SELECT COALESCE(SUM(interactions), 0) FROM rollup_hour'),
      sessions: count(db, 'SELECT COUNT(*) FROM session_analytics'),
      sessionsStarted: count(db, 'SELECT COALESCE(SUM(sessions_started), 0) FROM rollup_day'),
      distinctSessions: count(db, 'SELECT COUNT(DISTINCT session_id) FROM user_interactions'),
    }));
    expect(copy.rows).toBeGreaterThanOrEqual(before);
    expect(copy.rows).toBeLessThanOrEqual(after);
    expect(copy.dayRollup).toBe(copy.rows);
    expect(copy.hourRollup).toBe(copy.rows);
    expect(copy.sessions).toBe(copy.distinctSessions);
    expect(copy.sessionsStarted).toBe(copy.sessions);
    expect(verification.manifest?.files[0]?.sqlite?.tables.user_interactions).toBe(copy.rows);
  });

  it('copies the text of the config file in force', async () => {
    const { dataDir, backupsDir } = setup();
    const configFile = join(dataDir, 'strata.config.ts');
    const text = "import { defineConfig } from '@strata/core';\nexport default defineConfig({ plugins: ['hot-sqlite', 'backup'] });\n";
    writeFileSync(configFile, text);
    const tier = await openHotTier(dataDir, 10);
    const result = await createBackup({ tiers: [tier], dataDir, backupsDir, configuration: { source: configFile, dataDir, plugins: [] } });
    await tier.close();
    expect(readFileSync(join(result.path, 'config', 'strata.config.ts'), 'utf8')).toBe(text);
    expect(result.manifest.config).toEqual({ source: configFile, files: ['config/strata.config.ts'] });
    expect(result.manifest.files.find((file) => file.kind === 'config')?.path).toBe('config/strata.config.ts');
  });

  it('writes the plugin list without secrets when no config file is in force', async () => {
    const { dataDir, backupsDir } = setup();
    const tier = await openHotTier(dataDir, 10);
    const result = await createBackup({
      tiers: [tier],
      dataDir,
      backupsDir,
      configuration: { source: null, dataDir, plugins: [{ name: 'privacy', options: { hmacKey: 'very-secret', keys: [{ id: 'k1', secret: 'also-secret' }], scrub: true } }] },
    });
    await tier.close();
    const text = readFileSync(join(result.path, 'config', 'resolved-config.json'), 'utf8');
    expect(text).not.toContain('very-secret');
    expect(text).not.toContain('also-secret');
    expect(JSON.parse(text)).toMatchObject({ source: null, dataDir, plugins: [{ name: 'privacy', options: { hmacKey: '[redacted]', keys: [{ id: 'k1', secret: '[redacted]' }], scrub: true } }] });
  });

  it('backs up every tier into its own directory, non-SQLite files included, and lists tiers without backup() as skipped', async () => {
    const { dataDir, backupsDir } = setup();
    const hot = await openHotTier(dataDir, 100);
    const cold = fakeTier('json-archive', 'cold', (targetDir) => {
      mkdirSync(join(targetDir, 'partitions', '2025-12'), { recursive: true });
      writeFileSync(join(targetDir, 'partitions', '2025-12', 'part-1.jsonl.gz'), 'compressed rows');
      writeFileSync(join(targetDir, 'manifest.json'), '{"partitions":1}');
      return {
        files: [
          { path: join('partitions', '2025-12', 'part-1.jsonl.gz'), restoreTo: join(dataDir, 'archive', '2025-12', 'part-1.jsonl.gz'), bytes: 15 },
          { path: 'manifest.json', restoreTo: join(dataDir, 'archive', 'manifest.json'), bytes: 16 },
        ],
      };
    });
    const warm = fakeTier('historical-sqlite', 'warm');
    const result = await createBackup({ tiers: [hot, warm, cold], dataDir, backupsDir, configuration: testConfiguration(dataDir) });
    await hot.close();
    expect(result.manifest.tiers.map((tier) => [tier.name, tier.role, tier.dir, tier.files])).toEqual([
      ['hot-sqlite', 'hot', 'hot-sqlite', 1],
      ['json-archive', 'cold', 'json-archive', 2],
    ]);
    expect(result.skippedTiers).toEqual([{ name: 'historical-sqlite', role: 'warm', reason: 'historical-sqlite has no backup() method' }]);
    expect(result.manifest.files.map((file) => file.path)).toContain('json-archive/partitions/2025-12/part-1.jsonl.gz');
    expect(result.manifest.files.find((file) => file.path === 'json-archive/manifest.json')?.sqlite).toBeUndefined();
    expect((await verifyBackup((await listBackups(backupsDir))[0]!)).ok).toBe(true);
  });
});

describe('createBackup failures leave no backup behind', () => {
  it('refuses a copy that fails the integrity check, naming the file and the check', async () => {
    const { dataDir, backupsDir } = setup();
    const source = join(dataDir, 'source.db');
    const db = new Database(source);
    db.exec('CREATE TABLE t (x TEXT); CREATE INDEX t_x ON t (x)');
    const insert = db.prepare('INSERT INTO t VALUES (?)');
    db.transaction(() => {
      for (let index = 0; index < 2_000; index += 1) insert.run(`row ${index} ${'x'.repeat(50)}`);
    })();
    db.close();
    const damaged = readFileSync(source);
    // Page 3 onwards holds table and index b-tree pages; garbage there breaks their structure.
    damaged.fill(0x5a, 4_096 * 2 + 8, 4_096 * 2 + 400);
    const tier = fakeTier('warm-db', 'warm', (targetDir) => {
      writeFileSync(join(targetDir, 'warm.db'), damaged);
      return { files: [{ path: 'warm.db', restoreTo: join(dataDir, 'warm.db'), bytes: damaged.length }] };
    });
    const error = await createBackup({ tiers: [tier], dataDir, backupsDir, configuration: testConfiguration(dataDir) }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BackupCorruptError);
    expect((error as BackupCorruptError).problems[0]).toMatchObject({ file: 'warm-db/warm.db', check: 'integrity_check' });
    expect((error as Error).message).toMatch(/warm-db\/warm\.db: integrity_check failed/);
    expect(readdirSync(backupsDir)).toEqual([]);
  });

  it('removes the partial backup and releases the lock when a tier fails', async () => {
    const { dataDir, backupsDir } = setup();
    const tier = fakeTier('broken', 'hot', (targetDir) => {
      writeFileSync(join(targetDir, 'half.db'), 'half');
      throw new Error('the source went away');
    });
    await expect(createBackup({ tiers: [tier], dataDir, backupsDir, configuration: testConfiguration(dataDir) })).rejects.toThrow(/the source went away.*partial backup was removed/);
    expect(readdirSync(backupsDir)).toEqual([]);
  });

  it('says the disk is full and where, when a tier runs out of space', async () => {
    const { dataDir, backupsDir } = setup();
    const tier = fakeTier('full', 'hot', () => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    });
    const error = await createBackup({ tiers: [tier], dataDir, backupsDir, configuration: testConfiguration(dataDir) }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'STRATA_DISK_FULL' });
    expect((error as Error).message).toContain(backupsDir);
    expect((error as Error).message).toMatch(/free space or set the backup plugin's dir to another disk/);
    expect(readdirSync(backupsDir)).toEqual([]);
  });

  it('stops when aborted and keeps nothing', async () => {
    const { dataDir, backupsDir } = setup();
    const controller = new AbortController();
    const tier = fakeTier('slow', 'hot', (targetDir) => {
      writeFileSync(join(targetDir, 'data.bin'), 'some bytes');
      controller.abort(new Error('shutting down'));
      return { files: [{ path: 'data.bin', restoreTo: join(dataDir, 'data.bin'), bytes: 10 }] };
    });
    await expect(createBackup({ tiers: [tier], dataDir, backupsDir, configuration: testConfiguration(dataDir), signal: controller.signal })).rejects.toThrow(
      /aborted \(shutting down\); the partial backup was removed/,
    );
    expect(readdirSync(backupsDir)).toEqual([]);
  });

  it('refuses when no tier can be backed up, naming the tiers', async () => {
    const { dataDir, backupsDir } = setup();
    await expect(createBackup({ tiers: [fakeTier('memory', 'hot')], dataDir, backupsDir, configuration: testConfiguration(dataDir) })).rejects.toThrow(
      /no tier can be backed up \(tiers: memory \(hot\)\)/,
    );
  });

  it('refuses a tier that reports a file outside its directory or one it did not write', async () => {
    const { dataDir, backupsDir } = setup();
    const escaping = fakeTier('escaping', 'hot', () => ({ files: [{ path: '../outside.db', restoreTo: join(dataDir, 'x.db'), bytes: 1 }] }));
    await expect(createBackup({ tiers: [escaping], dataDir, backupsDir, configuration: testConfiguration(dataDir) })).rejects.toThrow(/escaping reported the file "\.\.\/outside\.db"/);
    const lying = fakeTier('lying', 'hot', () => ({ files: [{ path: 'never-written.db', restoreTo: join(dataDir, 'x.db'), bytes: 1 }] }));
    await expect(createBackup({ tiers: [lying], dataDir, backupsDir, configuration: testConfiguration(dataDir) })).rejects.toThrow(/did not write it/);
    expect(readdirSync(backupsDir)).toEqual([]);
  });

  it('refuses to start while another backup holds the directory, and takes over a lock left by a dead process', async () => {
    const { dataDir, backupsDir } = setup();
    const tier = await openHotTier(dataDir, 10);
    const release = await acquireBackupLock(backupsDir, 'a test');
    const error = await createBackup({ tiers: [tier], dataDir, backupsDir, configuration: testConfiguration(dataDir) }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BackupBusyError);
    expect((error as StrataError).code).toBe('STRATA_JOB_BUSY');
    expect((error as Error).message).toMatch(new RegExp(`in use by a test \\(pid ${process.pid}`));
    await release();

    // A pid far above any live process: the lock's owner is gone.
    writeFileSync(join(backupsDir, LOCK_FILE), JSON.stringify({ pid: 2 ** 22 + 12_345, host: (await import('node:os')).hostname(), purpose: 'a backup', since: 'earlier' }));
    const result = await createBackup({ tiers: [tier], dataDir, backupsDir, configuration: testConfiguration(dataDir) });
    await tier.close();
    expect(result.files).toBe(2);
    expect(existsSync(join(backupsDir, LOCK_FILE))).toBe(false);
  });

  it('gives two backups taken in the same millisecond different ids', async () => {
    const { dataDir, backupsDir } = setup();
    const tier = await openHotTier(dataDir, 10);
    const now = () => Date.UTC(2026, 0, 2, 3, 0, 0);
    const first = await createBackup({ tiers: [tier], dataDir, backupsDir, configuration: testConfiguration(dataDir), now });
    const second = await createBackup({ tiers: [tier], dataDir, backupsDir, configuration: testConfiguration(dataDir), now });
    await tier.close();
    expect(first.id).toBe('2026-01-02T03-00-00-000Z');
    expect(second.id).toBe('2026-01-02T03-00-00-000Z-1');
  });
});
