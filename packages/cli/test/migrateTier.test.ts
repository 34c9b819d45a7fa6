import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { workloadLines } from '@strata/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastJson, packageDir, runInProcess, tempDir } from './helpers.js';

// pg is the hot-postgres plugin's dependency; the test borrows it to probe the server and clean up.
interface PgClient {
  connect(): Promise<void>;
  query(sql: string): Promise<unknown>;
  end(): Promise<void>;
}
const pg = createRequire(join(packageDir, '..', '..', 'plugins', 'hot-postgres', 'package.json'))('pg') as {
  Client: new (options: { connectionString: string; connectionTimeoutMillis?: number }) => PgClient;
};
const PG_URL = process.env.STRATA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `t_migrate_${process.pid}_${randomBytes(4).toString('hex')}`;

let skipReason: string | false = false;
beforeAll(async () => {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
  } catch (error) {
    skipReason = `PostgreSQL is not reachable at ${PG_URL} (${(error as Error).message})`;
    if (process.env.CI === 'true') throw new Error(`${skipReason}; CI=true, so this fails`);
    console.warn(`[migrate-tier tests] skipped: ${skipReason}`);
  } finally {
    await client.end().catch(() => undefined);
  }
});
afterAll(async () => {
  if (skipReason) return;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
});

interface Report {
  rows: number;
  written: number;
  alreadyThere: number;
  verified: boolean;
}

describe('strata migrate-tier', () => {
  it('copies hot-sqlite into hot-postgres with counts and checksums verified, refuses a non-empty target, and resumes', async (context) => {
    if (skipReason) return context.skip();
    const cwd = tempDir();
    const file = join(cwd, 'events.jsonl');
    writeFileSync(file, `${[...workloadLines({ events: 1_500, seed: 9 })].join('\n')}\n`);
    writeFileSync(join(cwd, 'strata.config.json'), JSON.stringify({ plugins: ['hot-sqlite'] }));
    expect((await runInProcess(['ingest', file], { cwd })).code).toBe(0);
    const sqliteReport = lastJson<{ totals: { interactions: number; sessions: number } }>((await runInProcess(['report', '--json'], { cwd })).stdout);

    // The team switches its config to PostgreSQL, then migrates before restarting.
    writeFileSync(join(cwd, 'strata.config.json'), JSON.stringify({ plugins: [{ name: 'hot-postgres', options: { connectionString: PG_URL, schema } }] }));
    const run = await runInProcess(['migrate-tier', '--from', 'hot-sqlite', '--to', 'hot-postgres', '--json'], { cwd });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(lastJson<Report>(run.stdout)).toMatchObject({ rows: 1_500, written: 1_500, alreadyThere: 0, verified: true });

    const postgresReport = lastJson<{ totals: { interactions: number; sessions: number } }>((await runInProcess(['report', '--json'], { cwd })).stdout);
    expect(postgresReport.totals).toEqual(sqliteReport.totals);

    const again = await runInProcess(['migrate-tier', '--from', 'hot-sqlite', '--to', 'hot-postgres'], { cwd });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already holds 1500 interaction(s)');
    const resumed = await runInProcess(['migrate-tier', '--from', 'hot-sqlite', '--to', 'hot-postgres', '--resume', '--json'], { cwd });
    expect(resumed.code).toBe(0);
    expect(lastJson<Report>(resumed.stdout)).toMatchObject({ rows: 1_500, written: 0, alreadyThere: 1_500, verified: true });
  });

  it('refuses the same plugin on both sides and a role that may not move data', async () => {
    const cwd = tempDir();
    const same = await runInProcess(['migrate-tier', '--from', 'hot-sqlite', '--to', 'hot-sqlite'], { cwd });
    expect(same.code).toBe(1);
    expect(same.stderr).toContain('--from and --to name the same plugin');
    const denied = await runInProcess(['--as', 'analyst', 'migrate-tier', '--from', 'hot-sqlite', '--to', 'hot-postgres'], { cwd });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('role analyst');
  });
});
