import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HOT_SQLITE_MIGRATIONS, HotSqliteTier } from '../src/index.js';
import { sampleInteractions } from '@strata/testing';

const fixture = join(import.meta.dirname, 'fixtures', 'slowMigration.mjs');
let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'hot-sqlite-migration-crash-'));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

/** Starts the slow migration in a child process and SIGKILLs it once `rows` rows are in. */
async function killMidMigration(file: string, rows: number): Promise<void> {
  const marker = join(directory, `marker-${rows}`);
  const child = spawn(process.execPath, [fixture, file, marker, String(rows)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  const deadline = Date.now() + 20_000;
  while (!existsSync(marker)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the migration never reached ${rows} rows: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
}

describe('a migration killed half-way (SIGKILL)', () => {
  for (const rows of [1, 500, 5_000]) {
    it(`leaves the previous schema whole after ${rows} row(s) of the unfinished migration`, async () => {
      const file = join(directory, 'hot.db');
      const before = HotSqliteTier.open({ file, writer: 'inline' });
      const events = sampleInteractions(200, rows);
      await before.writeInteractions(events);
      await before.close();

      await killMidMigration(file, rows);

      const db = new Database(file);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const version = (db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number }).v;
      const halfDone = db.prepare("SELECT name FROM sqlite_master WHERE name = 'half_done'").all();
      const columns = (db.prepare('PRAGMA table_info(user_interactions)').all() as Array<{ name: string }>).map((column) => column.name);
      db.close();
      expect(version).toBe(HOT_SQLITE_MIGRATIONS.length);
      expect(halfDone).toEqual([]);
      expect(columns).not.toContain('extra');

      const after = HotSqliteTier.open({ file, writer: 'inline' });
      expect(await after.countInteractions()).toBe(200);
      expect((await after.writeInteractions(events)).duplicates).toBe(200);
      await after.close();
    });
  }
});
