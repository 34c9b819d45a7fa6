import type { Pool, PoolClient } from 'pg';

/** serialization_failure and deadlock_detected: the transaction did nothing and may simply run again. */
const RETRYABLE = new Set(['40001', '40P01']);

export function isRetryable(error: unknown): boolean {
  return RETRYABLE.has((error as { code?: string }).code ?? '');
}

export interface TransactionOptions {
  /** Runs of the whole transaction before a retryable failure is given up. Default 5. */
  attempts?: number;
  /** Statements run right after BEGIN (SET LOCAL …). */
  settings?: readonly string[];
}

/**
 * Runs `work` in one READ COMMITTED transaction on a pooled connection, and runs it again from the
 * start (after a short, growing, jittered pause) when PostgreSQL aborts it as a deadlock victim or
 * a serialization failure: nothing of an aborted attempt was kept, so a retry is safe.
 */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt += 1) {
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      for (const setting of options.settings ?? []) await client.query(setting);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        // The connection itself failed: it must not go back to the pool.
        broken = true;
      }
      if (isRetryable(error) && attempt < attempts) {
        await new Promise((resolve) => setTimeout(resolve, (10 + Math.random() * 20) * 2 ** (attempt - 1)));
        continue;
      }
      throw error;
    } finally {
      client.release(broken ? true : undefined);
    }
  }
}
