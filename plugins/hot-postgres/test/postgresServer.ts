import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { HotPostgresTier, type HotPostgresTierOptions } from '../src/index.js';

/**
 * The PostgreSQL server the tests use: STRATA_TEST_PG_URL, or the local development server. A test
 * that needs it and cannot reach it is skipped with the reason printed, except in CI
 * (CI=true), where it runs and fails.
 */
export const TEST_PG_URL = process.env.STRATA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let probe: Promise<string | false> | undefined;

/** `false` when the server answers (or when in CI, so the tests fail loudly); otherwise why the tests are skipped. */
export function postgresSkipReason(): Promise<string | false> {
  probe ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 3_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return false;
    } catch (error) {
      const reason = `PostgreSQL is not reachable at ${TEST_PG_URL} (${(error as Error).message}); set STRATA_TEST_PG_URL or start a server`;
      if (process.env.CI === 'true') {
        console.error(`[hot-postgres tests] ${reason}; running anyway because CI=true, so they fail`);
        return false;
      }
      console.warn(`[hot-postgres tests] skipped: ${reason}`);
      return reason;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return probe;
}

/** A schema name no other test run uses. */
export function uniqueSchema(label: string): string {
  return `t_${label}_${process.pid}_${randomBytes(4).toString('hex')}`.toLowerCase().slice(0, 63);
}

/** Drops the schemas (and everything in them) that a test created. Never touches anything else. */
export async function dropSchemas(...schemas: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    for (const schema of schemas) {
      if (!/^t_[a-z0-9_]+$/.test(schema)) throw new Error(`refusing to drop ${schema}: not a test schema`);
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  } finally {
    await client.end();
  }
}

/** Opens a tier on a test schema. */
export function openTier(schema: string, options: Partial<HotPostgresTierOptions> = {}): Promise<HotPostgresTier> {
  return HotPostgresTier.open({ connectionString: TEST_PG_URL, schema, poolSize: 4, ...options });
}

/** A plain client on the test server, for checks the tier does not expose. */
export async function adminClient(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  // int8 as numbers, as the tier reads them.
  client.setTypeParser(20, (value: string) => Number(value));
  return client;
}
