import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { isSqliteFile } from './sqliteInspection.js';

/** A database another process has open, or one whose state could not be probed. */
export interface DatabaseInUse {
  path: string;
  reason: string;
}

/**
 * Finds SQLite databases among `paths` that another connection has open — a running Strata server,
 * a `strata ingest`, a dashboard. Each is probed by asking SQLite for an exclusive lock without
 * waiting: in WAL mode every open connection holds a shared lock, so the request fails at once while
 * any process has the file open, and succeeds (and is dropped again) when none has. Files that do not
 * exist or are not SQLite cannot be probed this way and are not reported.
 */
export async function findDatabasesInUse(paths: readonly string[]): Promise<DatabaseInUse[]> {
  const inUse: DatabaseInUse[] = [];
  for (const path of paths) {
    if (!existsSync(path) || !(await isSqliteFile(path))) continue;
    const reason = probe(path);
    if (reason) inUse.push({ path, reason });
  }
  return inUse;
}

function probe(path: string): string | undefined {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { fileMustExist: true, timeout: 0 });
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('ROLLBACK');
    return undefined;
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'another process has it open';
    // A damaged database is a reason to restore, not a sign that someone uses it.
    if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') return undefined;
    return `cannot be probed (${(error as Error).message})`;
  } finally {
    try {
      db?.close();
    } catch {
      // closing a connection that failed to open has nothing to release
    }
  }
}
