import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRandom } from '@strata/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackupCorruptError, MANIFEST_FILE, createBackup, readBackupEntry, restoreBackup, verifyBackup, type BackupResult } from '../src/index.js';
import { HOT_FILE, flipByte, openHotTier, testConfiguration } from './helpers.js';

describe('verifying a backup', () => {
  let dataDir: string;
  let backupsDir: string;
  let backup: BackupResult;
  let databaseFile: string;

  beforeAll(async () => {
    // Created once for the many trials below; each trial puts back the byte it changed.
    dataDir = mkdtempSync(join(tmpdir(), 'strata-verify-'));
    backupsDir = join(dataDir, 'backups');
    const tier = await openHotTier(dataDir, 1_500);
    backup = await createBackup({ tiers: [tier], dataDir, backupsDir, configuration: testConfiguration(dataDir) });
    await tier.close();
    databaseFile = join(backup.path, 'hot-sqlite', HOT_FILE);
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const verify = async () => verifyBackup(await readBackupEntry(backup.path));

  it('passes on an untouched backup', async () => {
    const report = await verify();
    expect(report).toMatchObject({ ok: true, problems: [], files: 2 });
  });

  it('fails for a flipped byte anywhere in the database copy, naming the file and the SHA-256 check', async () => {
    const size = statSync(databaseFile).size;
    const random = createRandom(2026);
    // The header bytes SQLite reads first (magic, page size, WAL flags, page count, schema cookie), then positions spread over every page.
    const positions = [0, 15, 16, 18, 19, 28, 40, 96, 100, size - 1];
    for (let index = 0; index < 40; index += 1) positions.push(Math.floor(random.next() * size));
    for (const position of positions) {
      const restore = flipByte(databaseFile, position);
      try {
        const report = await verify();
        expect(report.ok, `byte ${position} flipped`).toBe(false);
        expect(report.problems, `byte ${position} flipped`).toContainEqual(expect.objectContaining({ file: `hot-sqlite/${HOT_FILE}`, check: 'sha256' }));
      } finally {
        restore();
      }
    }
    expect((await verify()).ok).toBe(true);
  });

  it('runs the integrity check too, so a damaged page is named as such', async () => {
    const pageSize = readFileSync(databaseFile).readUInt16BE(16);
    const bytes = readFileSync(databaseFile);
    const original = Buffer.from(bytes);
    // The b-tree header of page 2: garbage there is structural damage, not just a changed value.
    bytes.fill(0xee, pageSize, pageSize + 12);
    writeFileSync(databaseFile, bytes);
    try {
      const report = await verify();
      expect(report.problems.map((problem) => problem.check)).toEqual(expect.arrayContaining(['sha256', 'integrity_check']));
    } finally {
      writeFileSync(databaseFile, original);
    }
  });

  it('fails for a flipped byte anywhere in the configuration copy', async () => {
    const configFile = join(backup.path, 'config', 'resolved-config.json');
    const size = statSync(configFile).size;
    for (let position = 0; position < size; position += Math.max(1, Math.floor(size / 25))) {
      const restore = flipByte(configFile, position);
      try {
        expect((await verify()).problems, `byte ${position} flipped`).toContainEqual(expect.objectContaining({ file: 'config/resolved-config.json', check: 'sha256' }));
      } finally {
        restore();
      }
    }
  });

  it('fails for a flipped byte at every position of the manifest', async () => {
    const manifestFile = join(backup.path, MANIFEST_FILE);
    const size = statSync(manifestFile).size;
    for (let position = 0; position < size; position += 1) {
      const restore = flipByte(manifestFile, position);
      try {
        const entry = await readBackupEntry(backup.path);
        expect(entry.status, `byte ${position} flipped`).toBe('damaged');
        const report = await verifyBackup(entry);
        expect(report.problems[0], `byte ${position} flipped`).toMatchObject({ file: MANIFEST_FILE, check: 'manifest' });
      } finally {
        restore();
      }
    }
    expect((await verify()).ok).toBe(true);
  });

  it('names a missing and a truncated file', async () => {
    const configFile = join(backup.path, 'config', 'resolved-config.json');
    const saved = readFileSync(configFile);
    const database = readFileSync(databaseFile);
    rmSync(configFile);
    truncateSync(databaseFile, database.length - 4_096);
    try {
      const report = await verify();
      expect(report.problems).toEqual([
        expect.objectContaining({ file: `hot-sqlite/${HOT_FILE}`, check: 'size', message: `is ${database.length - 4_096} bytes; the manifest recorded ${database.length}` }),
        expect.objectContaining({ file: 'config/resolved-config.json', check: 'missing' }),
      ]);
    } finally {
      writeFileSync(configFile, saved);
      writeFileSync(databaseFile, database);
    }
  });

  it('makes restore refuse a corrupt backup, saying which file and which check, and change nothing', async () => {
    const liveFile = join(dataDir, HOT_FILE);
    const live = readFileSync(liveFile);
    const size = statSync(databaseFile).size;
    for (const [file, position] of [
      [databaseFile, 18],
      [databaseFile, Math.floor(size / 2)],
      [join(backup.path, 'config', 'resolved-config.json'), 3],
    ] as const) {
      const restore = flipByte(file, position);
      try {
        const error = await restoreBackup({ backup: backup.id, backupsDir }).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(BackupCorruptError);
        const inside = file.slice(backup.path.length + 1);
        expect((error as Error).message).toContain(`${inside}: sha256 failed`);
        expect((error as Error).message).toMatch(/refusing to restore it, and nothing in the data dir was changed/);
      } finally {
        restore();
      }
    }
    expect(readFileSync(liveFile).equals(live)).toBe(true);
    expect(readdirSync(dataDir).filter((name) => name.includes('pre-restore') || name.endsWith('.tmp'))).toEqual([]);
  });
});
