import type { Client, ClientConfig, Pool, PoolConfig } from 'pg';
import { StorageError, describeError } from '@strata/core';

export const NAME = 'hot-postgres';

/** The `pg` module, loaded on first use so that projects without PostgreSQL never load it. */
export type PgModule = typeof import('pg');

export async function loadPg(): Promise<PgModule> {
  try {
    const module = (await import('pg')) as PgModule & { default?: PgModule };
    return module.default ?? module;
  } catch (error) {
    throw new StorageError(`${NAME}: cannot load the "pg" package (${describeError(error)}); install it next to @strata/hot-postgres (npm install pg)`, { cause: error });
  }
}

/** Where a connection string points, for messages (never the password). */
export interface PgTarget {
  host: string;
  port: string;
  database: string;
  user: string;
}

export function describeTarget(connectionString: string): PgTarget {
  try {
    const url = new URL(connectionString);
    const query = url.searchParams;
    return {
      host: query.get('host') ?? (decodeURIComponent(url.hostname) || 'localhost'),
      port: query.get('port') ?? (url.port || '5432'),
      database: decodeURIComponent(url.pathname.replace(/^\//, '')) || decodeURIComponent(url.username) || 'postgres',
      user: decodeURIComponent(url.username) || process.env.PGUSER || 'postgres',
    };
  } catch {
    // A key=value connection string: name what libpq would use by default.
    const field = (key: string) => new RegExp(`(?:^|\\s)${key}=([^\\s]+)`).exec(connectionString)?.[1];
    return { host: field('host') ?? 'localhost', port: field('port') ?? '5432', database: field('dbname') ?? 'postgres', user: field('user') ?? 'postgres' };
  }
}

export interface ConnectionSettings {
  connectionString: string;
  /** Most connections the tier opens (plus one per running job lock). */
  poolSize: number;
  /** Per statement; 0 disables. Long maintenance (migrations, partition drops) lifts it for its own transaction. */
  statementTimeoutMs: number;
  connectTimeoutMs: number;
}

/** int8 as a JS number: every stored count, sum and time fits in 2^53 (a sum of microseconds would need 285 years of response time to overflow). */
function parseInt8(value: string): number {
  return Number(value);
}

function clientConfig(pg: PgModule, settings: ConnectionSettings): ClientConfig {
  return {
    connectionString: settings.connectionString,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    application_name: 'strata-hot-postgres',
    ...(settings.statementTimeoutMs > 0 ? { statement_timeout: settings.statementTimeoutMs } : {}),
    // Per connection, not pg's global type registry: another library in the process keeps its own parsing.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === pg.types.builtins.INT8 && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  };
}

export function createPool(pg: PgModule, settings: ConnectionSettings, onIdleError: (error: Error) => void): Pool {
  const config: PoolConfig = { ...clientConfig(pg, settings), max: settings.poolSize, idleTimeoutMillis: 30_000 };
  const pool = new pg.Pool(config);
  // An idle connection the server closes (restart, idle timeout) emits here; unhandled it would crash the host.
  pool.on('error', onIdleError);
  return pool;
}

/** A connection outside the pool, for work that holds a session (migrations, job locks). */
export function createClient(pg: PgModule, settings: ConnectionSettings): Client {
  return new pg.Client(clientConfig(pg, settings));
}

/**
 * Turns a failure to connect into an error that names the server and the fix: not reachable,
 * login refused, database missing, or full.
 */
export function connectionError(error: unknown, target: PgTarget): StorageError {
  const code = (error as { code?: string }).code ?? '';
  const where = `${target.host}:${target.port}`;
  const reason = describeError(error) || code;
  if (['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EAI_AGAIN', 'ECONNRESET', 'ENOENT'].includes(code) || /timeout|terminated unexpectedly/i.test(reason)) {
    return new StorageError(
      `${NAME}: cannot reach PostgreSQL at ${where} (${reason}); start PostgreSQL there, or fix connectionString (or STRATA_PG_URL) to point at a running server`,
      { cause: error },
    );
  }
  if (code === '28P01' || code === '28000' || /password|SASL|SCRAM/i.test(reason)) {
    return new StorageError(
      `${NAME}: PostgreSQL at ${where} refused the login of user "${target.user}" (${reason}); check the user and password in connectionString (or STRATA_PG_URL) and the server's pg_hba.conf`,
      { cause: error },
    );
  }
  if (code === '3D000') {
    return new StorageError(
      `${NAME}: database "${target.database}" does not exist on ${where}; create it (createdb -h ${target.host} -p ${target.port} ${target.database}) or fix the database name in connectionString`,
      { cause: error },
    );
  }
  if (code === '53300') {
    return new StorageError(`${NAME}: PostgreSQL at ${where} has no free connections (${reason}); lower poolSize or raise the server's max_connections`, { cause: error });
  }
  if (code === '57P03') {
    return new StorageError(`${NAME}: PostgreSQL at ${where} is starting up or shutting down (${reason}); retry in a moment`, { cause: error });
  }
  return new StorageError(`${NAME}: cannot use PostgreSQL at ${where}/${target.database}: ${reason}`, { cause: error });
}
