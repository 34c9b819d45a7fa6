import { describeError } from '@strata/core';
import { connectionError, createClient, describeTarget, loadPg } from './pgConnection.js';

/**
 * Connects, runs `SELECT 1` and disconnects, creating nothing: what `strata validate` uses to say
 * whether the configured server answers, and if not, why and how to fix it.
 */
export async function probePostgres(connectionString: string, timeoutMs = 5_000): Promise<{ ok: boolean; detail: string }> {
  const target = describeTarget(connectionString);
  const pg = await loadPg();
  const client = createClient(pg, { connectionString, poolSize: 1, statementTimeoutMs: timeoutMs, connectTimeoutMs: timeoutMs });
  try {
    await client.connect();
    const { rows } = await client.query<{ version: string }>('SELECT version() AS version');
    return { ok: true, detail: `PostgreSQL at ${target.host}:${target.port}, database ${target.database}, answers (${(rows[0]?.version ?? '').split(' ').slice(0, 2).join(' ')})` };
  } catch (error) {
    return { ok: false, detail: connectionError(error, target).message || describeError(error) };
  } finally {
    await client.end().catch(() => undefined);
  }
}
