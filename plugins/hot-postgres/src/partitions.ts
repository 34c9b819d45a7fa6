import type { Pool, PoolClient } from 'pg';
import { StorageError, describeError, type MonthKey } from '@strata/core';
import { NAME } from './pgConnection.js';
import type { Qualify } from './sqlNames.js';

/**
 * Monthly partitions of `user_interactions`, by UTC calendar month of `timestamp`.
 *
 * A month is named by its index `year * 12 + month0`, which doubles as the second key of the
 * month's advisory lock. Writers hold that lock shared for the months of their batch while they
 * insert (and check the partition exists under it); dropping a month holds it exclusively. So a
 * partition never disappears under a writer that saw it, and a month's ids and rows go together.
 */

const PARTITION_PREFIX = 'user_interactions_p';
const DEFAULT_PARTITION = 'user_interactions_default';
/** How long maintenance waits for a table lock before retrying, so it never queues ingest behind a long reader (pg_dump). */
const LOCK_TIMEOUT = '5s';
const LOCK_ATTEMPTS = 6;

export function monthIndexOf(ms: number): number {
  const date = new Date(ms);
  return date.getUTCFullYear() * 12 + date.getUTCMonth();
}

export function monthIndexOfKey(month: MonthKey): number {
  const match = /^(\d{4})-(\d{2})$/.exec(month);
  const monthNumber = match ? Number(match[2]) : 0;
  if (!match || monthNumber < 1 || monthNumber > 12) throw new StorageError(`${NAME}: month must be YYYY-MM, got ${JSON.stringify(month)}`);
  return Number(match[1]) * 12 + monthNumber - 1;
}

/** `[from, to)` of a month index, in epoch ms. */
export function monthBounds(index: number): { from: number; to: number } {
  const year = Math.floor(index / 12);
  const month = index - year * 12;
  return { from: Date.UTC(year, month, 1), to: Date.UTC(year, month + 1, 1) };
}

export function partitionName(index: number): string {
  const year = Math.floor(index / 12);
  const month = index - year * 12 + 1;
  return `${PARTITION_PREFIX}${String(year).padStart(4, '0')}_${String(month).padStart(2, '0')}`;
}

export function parsePartitionName(name: string): number | undefined {
  const match = /^user_interactions_p(\d{4})_(\d{2})$/.exec(name);
  return match ? Number(match[1]) * 12 + Number(match[2]) - 1 : undefined;
}

export class PartitionManager {
  private readonly monthLockKey: string;
  private readonly createLockKey: string;

  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
    private readonly q: Qualify,
  ) {
    this.monthLockKey = `strata:month:${schema}`;
    this.createLockKey = `strata:partitions:${schema}`;
  }

  /**
   * In the caller's transaction: takes the shared lock of each month (ascending, so two writers
   * never wait on each other in opposite orders) and returns the months that have no partition.
   */
  async lockMonthsShared(client: PoolClient, months: readonly number[]): Promise<number[]> {
    if (months.length === 0) return [];
    const sorted = [...new Set(months)].sort((a, b) => a - b);
    await client.query('SELECT pg_advisory_xact_lock_shared(hashtext($1), m) FROM unnest($2::int4[]) AS m', [this.monthLockKey, sorted]);
    // A statement of its own: its snapshot is taken after the locks were granted, so it sees a drop
    // (or a creation) that committed while this transaction waited for them.
    const { rows } = await client.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relname = ANY($2::text[])`,
      [this.schema, sorted.map(partitionName)],
    );
    const present = new Set(rows.map((row) => row.name));
    return sorted.filter((month) => !present.has(partitionName(month)));
  }

  /** Creates the partitions of these months that do not exist yet, each in its own short transaction. */
  async ensure(months: Iterable<number>): Promise<void> {
    for (const month of [...new Set(months)].sort((a, b) => a - b)) await this.withLockRetry(`creating the partition for ${monthLabel(month)}`, (client) => this.create(client, month));
  }

  /** Month indexes that have a partition, ascending. */
  async list(): Promise<number[]> {
    const { rows } = await this.pool.query<{ relname: string }>(
      `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass($1)`,
      [this.q('user_interactions')],
    );
    return rows.flatMap((row) => parsePartitionName(row.relname) ?? []).sort((a, b) => a - b);
  }

  /**
   * Drops a month: its partition, its rows that sit in the default partition and its event ids,
   * in one transaction under the month's exclusive lock. Returns the rows removed.
   */
  async drop(month: number): Promise<number> {
    return this.withLockRetry(`dropping the partition for ${monthLabel(month)}`, async (client) => {
      const { from, to } = monthBounds(month);
      const name = this.q(partitionName(month));
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1), $2)', [this.monthLockKey, month]);
      if (!(await this.exists(client, month))) return 0;
      const counted = await client.query<{ n: number }>(`SELECT COUNT(*)::int8 AS n FROM ${name}`);
      await client.query(`DELETE FROM ${this.q('interaction_ids')} WHERE timestamp >= $1 AND timestamp < $2`, [from, to]);
      const strays = await client.query(`DELETE FROM ONLY ${this.q(DEFAULT_PARTITION)} WHERE timestamp >= $1 AND timestamp < $2`, [from, to]);
      await client.query(`DROP TABLE ${name}`);
      return (counted.rows[0]?.n ?? 0) + (strays.rowCount ?? 0);
    });
  }

  /**
   * Whether the month's partition exists, read from pg_class with this statement's snapshot (not
   * to_regclass, whose cached lookup may predate a creation or drop this session has not yet seen).
   */
  private async exists(client: PoolClient, month: number): Promise<boolean> {
    const { rows } = await client.query(
      `SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
      [this.schema, partitionName(month)],
    );
    return rows.length > 0;
  }

  private async create(client: PoolClient, month: number): Promise<void> {
    const { from, to } = monthBounds(month);
    const name = this.q(partitionName(month));
    const parent = this.q('user_interactions');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.createLockKey]);
    if (await this.exists(client, month)) return;
    const strays = await client.query(`SELECT 1 FROM ONLY ${this.q(DEFAULT_PARTITION)} WHERE timestamp >= $1 AND timestamp < $2 LIMIT 1`, [from, to]);
    if (strays.rowCount === 0) {
      await client.query(`CREATE TABLE ${name} PARTITION OF ${parent} FOR VALUES FROM (${from}) TO (${to})`);
      return;
    }
    // Rows of this month already sit in the default partition: move them into the new one before
    // attaching it, or PostgreSQL refuses a partition whose rows the default still holds.
    await client.query(`CREATE TABLE ${name} (LIKE ${parent} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
    await client.query(`INSERT INTO ${name} SELECT * FROM ONLY ${this.q(DEFAULT_PARTITION)} WHERE timestamp >= $1 AND timestamp < $2`, [from, to]);
    await client.query(`DELETE FROM ONLY ${this.q(DEFAULT_PARTITION)} WHERE timestamp >= $1 AND timestamp < $2`, [from, to]);
    await client.query(`ALTER TABLE ${parent} ATTACH PARTITION ${name} FOR VALUES FROM (${from}) TO (${to})`);
  }

  /**
   * Runs partition DDL in its own transaction with a short lock_timeout, retried: DDL on a
   * partitioned table needs its parent's exclusive lock, and a request that waited behind a long
   * reader would hold up every writer queued behind it.
   */
  private async withLockRetry<T>(what: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
        await client.query('SET LOCAL statement_timeout = 0');
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        const code = (error as { code?: string }).code;
        if ((code === '55P03' || code === '40P01' || code === '40001') && attempt < LOCK_ATTEMPTS) {
          await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
          continue;
        }
        if (code === '55P03') {
          throw new StorageError(
            `${NAME}: gave up ${what} in schema "${this.schema}" after ${attempt} attempts: another session kept user_interactions locked (a long transaction or pg_dump); retry when it finishes`,
            { cause: error },
          );
        }
        throw new StorageError(`${NAME}: failed ${what} in schema "${this.schema}": ${describeError(error)}`, { cause: error });
      } finally {
        client.release();
      }
    }
  }
}

/** `YYYY-MM` of a month index. */
export function monthLabel(index: number): string {
  const year = Math.floor(index / 12);
  return `${year}-${String(index - year * 12 + 1).padStart(2, '0')}`;
}
