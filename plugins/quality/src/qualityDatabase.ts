import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { describeError } from '@strata/core';
import { SchemaMigrator, type Migration } from '@strata/hot-sqlite';
import { QualityStoreError } from './qualityErrors.js';

/** Opens (creating and migrating when needed) the quality history database, `quality.db`. */
export function openQualityDatabase(file: string, busyTimeoutMs: number, migrations: readonly Migration[]): Database.Database {
  let db: Database.Database;
  try {
    mkdirSync(dirname(file), { recursive: true });
    db = new Database(file, { timeout: busyTimeoutMs });
  } catch (error) {
    throw new QualityStoreError(`cannot open the history database ${file} (${describeError(error)}); set the quality plugin's file option to a writable path`, { cause: error });
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    new SchemaMigrator(db, migrations, 'quality').migrate();
    return db;
  } catch (error) {
    db.close();
    throw new QualityStoreError(`cannot prepare the history database ${file}: ${describeError(error)}`, { cause: error });
  }
}
