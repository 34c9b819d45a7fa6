import Database from 'better-sqlite3';
import { HOT_SQLITE_MIGRATIONS, SchemaMigrator } from '@strata/hot-sqlite';
import type { IndexShape, SchemaSnapshot, TableShape } from './qualitySource.js';

interface ColumnInfo {
  name: string;
  type: string;
  notnull: number;
  pk: number;
  hidden: number;
}

interface IndexListEntry {
  name: string;
  unique: number;
  origin: string;
}

/** Tables, columns, explicitly created indexes and the migration version of a SQLite database. */
export function readSqliteSchema(db: Database.Database): SchemaSnapshot {
  const names = (
    db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name`).all() as Array<{ name: string }>
  ).map((row) => row.name);
  const tables: Record<string, TableShape> = {};
  for (const name of names) {
    const columns = (db.pragma(`table_xinfo(${quote(name)})`) as ColumnInfo[]).map((column) => ({
      name: column.name,
      type: column.type.toUpperCase(),
      notNull: column.notnull === 1,
      primaryKey: column.pk,
      // 2 and 3 are generated columns (virtual, stored); 1 is a virtual table's hidden column.
      generated: column.hidden === 2 || column.hidden === 3,
    }));
    const indexes: IndexShape[] = [];
    // Indexes from UNIQUE and PRIMARY KEY constraints come with the table's columns; only CREATE INDEX ones are listed.
    for (const entry of db.pragma(`index_list(${quote(name)})`) as IndexListEntry[]) {
      if (entry.origin !== 'c') continue;
      const columnsOfIndex = (db.pragma(`index_info(${quote(entry.name)})`) as Array<{ seqno: number; name: string | null }>)
        .sort((a, b) => a.seqno - b.seqno)
        .map((column) => column.name ?? '<expression>');
      indexes.push({ name: entry.name, unique: entry.unique === 1, columns: columnsOfIndex });
    }
    indexes.sort((a, b) => a.name.localeCompare(b.name));
    tables[name] = { columns, indexes };
  }
  let version: number | null = null;
  if (tables.schema_migrations) {
    version = (db.prepare('SELECT MAX(version) AS version FROM schema_migrations').get() as { version: number | null }).version;
  }
  return { version, tables };
}

/** The hot tier's schema as its migrations define it: they are applied to an empty in-memory database and read back. */
export function expectedHotSqliteSchema(): SchemaSnapshot {
  const memory = new Database(':memory:');
  try {
    new SchemaMigrator(memory, HOT_SQLITE_MIGRATIONS, 'hot-sqlite (expected schema)').migrate(0);
    return readSqliteSchema(memory);
  } finally {
    memory.close();
  }
}

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}
