import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StorageTier, TierBackup } from '@strata/core';
import { HotSqliteTier } from '@strata/hot-sqlite';
import { sampleInteractions } from '@strata/testing';
import Database from 'better-sqlite3';
import { afterEach } from 'vitest';
import type { ConfigurationSnapshot } from '../src/index.js';

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory removed after the test. */
export function tempDir(prefix = 'strata-backup-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export const HOT_FILE = 'comprehensive_metrics.db';

/** A real hot tier in `dataDir`, holding `rows` sample interactions. */
export async function openHotTier(dataDir: string, rows = 0, writer: 'inline' | 'thread' = 'inline'): Promise<HotSqliteTier> {
  const tier = HotSqliteTier.open({ file: join(dataDir, HOT_FILE), writer });
  if (rows > 0) {
    const events = sampleInteractions(rows, 11);
    for (let start = 0; start < events.length; start += 1_000) await tier.writeInteractions(events.slice(start, start + 1_000));
  }
  return tier;
}

export const testConfiguration = (dataDir: string): ConfigurationSnapshot => ({
  source: null,
  dataDir,
  plugins: [{ name: 'hot-sqlite', options: { synchronous: 'NORMAL' } }],
});

/** Reads a SQLite file read-only; the file must not be in WAL mode (backup copies never are). */
export function withDatabase<T>(file: string, read: (db: Database.Database) => T): T {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

export function count(db: Database.Database, sql: string): number {
  return Number(db.prepare(sql).pluck().get() ?? 0);
}

/** Flips every bit of the byte at `position` and returns a function that puts it back. */
export function flipByte(file: string, position: number): () => void {
  const bytes = readFileSync(file);
  const original = bytes[position]!;
  bytes[position] = original ^ 0xff;
  writeFileSync(file, bytes);
  return () => {
    const again = readFileSync(file);
    again[position] = original;
    writeFileSync(file, again);
  };
}

/**
 * A minimal tier for fault cases: `backup` writes what `write` says into the target directory. Its
 * other methods are never called by the backup plugin.
 */
export function fakeTier(name: string, role: StorageTier['role'], write?: (targetDir: string) => TierBackup | Promise<TierBackup>): StorageTier {
  const unused = () => {
    throw new Error(`${name}: not used by these tests`);
  };
  return {
    name,
    role,
    writeInteractions: unused,
    queryInteractions: unused,
    scanInteractions: unused,
    countInteractions: unused,
    deleteInteractions: unused,
    health: async () => ({ ok: true, details: {} }),
    close: async () => undefined,
    ...(write ? { backup: async (targetDir: string) => write(targetDir) } : {}),
  };
}
