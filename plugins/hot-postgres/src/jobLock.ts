import type { Client } from 'pg';
import type { JobLock } from '@strata/core';

/**
 * Runs each job in one process at a time across every process sharing the schema:
 * `pg_try_advisory_lock(hashtext('strata:job:<schema>:<job>'))` on a connection of its own, held
 * for the job's duration and unlocked (and closed) by the release function. The lock belongs to
 * that connection's session, so a process that dies (even by SIGKILL) releases it when the server
 * sees the connection close.
 */
export class PgJobLock implements JobLock {
  constructor(
    private readonly schema: string,
    /** Opens a connection of its own (not from the pool), with its error events already handled. */
    private readonly connect: () => Promise<Client>,
  ) {}

  async acquire(jobName: string): Promise<(() => Promise<void>) | null> {
    const key = `strata:job:${this.schema}:${jobName}`;
    const client = await this.connect();
    let locked = false;
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [key]);
      locked = rows[0]?.locked === true;
    } finally {
      if (!locked) await client.end().catch(() => undefined);
    }
    if (!locked) return null;
    let released: Promise<void> | undefined;
    return () => {
      released ??= (async () => {
        try {
          await client.query('SELECT pg_advisory_unlock(hashtext($1))', [key]);
        } catch {
          // The connection failed: its session, and the lock with it, are gone already.
        } finally {
          await client.end().catch(() => undefined);
        }
      })();
      return released;
    };
  }
}
