import type Database from 'better-sqlite3';
import { StorageError } from '@strata/core';

/** One forward-only schema change. `up` runs inside a transaction with the version record. */
export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

export interface MigrationResult {
  from: number;
  to: number;
  applied: string[];
}

/**
 * Applies numbered migrations in order, each in its own transaction together with the row that
 * records it, so a crash leaves either the old schema or the new one, never a mix.
 */
export class SchemaMigrator {
  constructor(
    private readonly db: Database.Database,
    private readonly migrations: readonly Migration[],
    private readonly label: string,
  ) {
    migrations.forEach((migration, index) => {
      if (migration.version !== index + 1) throw new Error(`${label}: migration ${migration.name} has version ${migration.version}, expected ${index + 1}`);
    });
  }

  currentVersion(): number {
    this.db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    )`);
    const row = this.db.prepare('SELECT MAX(version) AS version FROM schema_migrations').get() as { version: number | null };
    return row.version ?? 0;
  }

  migrate(now: number = Date.now()): MigrationResult {
    const from = this.currentVersion();
    const latest = this.migrations.length;
    if (from > latest) {
      throw new StorageError(
        `${this.label}: the database is at schema version ${from}, newer than this version of the plugin knows (${latest}); upgrade @strata/hot-sqlite`,
      );
    }
    const applied: string[] = [];
    const record = this.db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const migration of this.migrations.slice(from)) {
      this.db.transaction(() => {
        migration.up(this.db);
        record.run(migration.version, migration.name, now);
      }).immediate();
      applied.push(migration.name);
    }
    return { from, to: latest, applied };
  }
}
