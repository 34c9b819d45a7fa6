import type { ClientBase } from 'pg';
import { StorageError } from '@strata/core';
import type { PgMigration } from './migrations.js';
import { NAME } from './pgConnection.js';
import { literal, qualifier } from './sqlNames.js';

export interface PgMigrationResult {
  from: number;
  to: number;
  applied: string[];
}

/**
 * Applies numbered migrations in order, each in its own transaction together with the row that
 * records it (PostgreSQL DDL is transactional: a crash leaves the old schema or the new one).
 * The whole run holds a session advisory lock keyed by the schema name, so processes opening the
 * tier at the same time migrate once: the others wait, then find nothing left to apply. A process
 * that dies while migrating releases the lock with its session.
 */
export async function migrateSchema(client: ClientBase, schema: string, migrations: readonly PgMigration[], now: number): Promise<PgMigrationResult> {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) throw new Error(`${NAME}: migration ${migration.name} has version ${migration.version}, expected ${index + 1}`);
  });
  const q = qualifier(schema);
  const lockKey = `strata:migrate:${schema}`;
  await client.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
  try {
    // Inside the lock: CREATE ... IF NOT EXISTS is not safe against a concurrent identical CREATE.
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${q('schema_migrations')} (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at bigint NOT NULL
    )`);
    const { rows } = await client.query<{ version: number | null }>(`SELECT MAX(version) AS version FROM ${q('schema_migrations')}`);
    const from = rows[0]?.version ?? 0;
    const latest = migrations.length;
    if (from > latest) {
      throw new StorageError(
        `${NAME}: schema ${literal(schema)} is at version ${from}, newer than this version of the plugin knows (${latest}); upgrade @strata/hot-postgres in every process that shares it`,
      );
    }
    const applied: string[] = [];
    for (const migration of migrations.slice(from)) {
      await client.query('BEGIN');
      try {
        await migration.up(client, q);
        await client.query(`INSERT INTO ${q('schema_migrations')} (version, name, applied_at) VALUES ($1, $2, $3)`, [migration.version, migration.name, now]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
      applied.push(migration.name);
    }
    return { from, to: latest, applied };
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]).catch(() => undefined);
  }
}
