import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StrataError, createStrata, definePlugin, type InteractionInput } from '@strata/core';
import { generateWorkload } from '@strata/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { hotPostgresPlugin } from '../src/index.js';
import { TEST_PG_URL, adminClient, dropSchemas, openTier, postgresSkipReason, uniqueSchema } from './postgresServer.js';
import { expectedRollups, storedRollups } from './rollupOracle.js';

const skip = await postgresSkipReason();
const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** A child `node` process running a fixture script, with its stdout collected line by line. */
class Child {
  readonly process: ChildProcessWithoutNullStreams;
  readonly lines: string[] = [];
  private stderr = '';
  private readonly waiters: Array<() => void> = [];
  readonly exited: Promise<number | null>;

  constructor(script: string, args: string[], env: Record<string, string> = {}) {
    this.process = spawn(process.execPath, [join(fixtures, script), ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let pending = '';
    this.process.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const parts = pending.split('\n');
      pending = parts.pop()!;
      this.lines.push(...parts);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.process.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    this.exited = new Promise((resolve) => this.process.on('exit', (code) => {
      for (const wake of this.waiters.splice(0)) wake();
      resolve(code);
    }));
  }

  /** Resolves with the first line matching, or rejects (with the child's stderr) if it exits first. */
  async line(match: RegExp): Promise<string> {
    for (;;) {
      const found = this.lines.find((line) => match.test(line));
      if (found) return found;
      if (this.process.exitCode !== null || this.process.signalCode !== null) throw new Error(`child exited (${this.process.exitCode ?? this.process.signalCode}) before printing ${match}: ${this.stderr}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  get errors(): string {
    return this.stderr;
  }
}

describe.skipIf(skip)('many writer processes', () => {
  const schema = uniqueSchema('writers');
  const directory = mkdtempSync(join(tmpdir(), 'hot-postgres-writers-'));
  afterAll(async () => {
    rmSync(directory, { recursive: true, force: true });
    await dropSchemas(schema);
  });

  it('store every event exactly once and keep rollups equal to the raw rows, with overlapping workloads from four processes', async () => {
    // Created before the writers start, so the test measures concurrent ingest, not concurrent creation (tested elsewhere).
    await (await openTier(schema)).close();
    const events: InteractionInput[] = [...generateWorkload({ events: 4_000, seed: 77, start: Date.UTC(2025, 10, 25), days: 12 })];
    const quarter = events.length / 4;
    // Writer i sends its quarter and the first half of the next one: half the events (same eventIds,
    // same sessions, buckets, questions and items) come from two processes at once; odd writers send
    // theirs in reverse, so sessions' earlier events arrive late.
    const shares = [0, 1, 2, 3].map((index) => {
      const own = events.slice(index * quarter, (index + 1) * quarter);
      const next = events.slice(((index + 1) % 4) * quarter, ((index + 1) % 4) * quarter + quarter / 2);
      const share = index % 2 === 0 ? [...next, ...own] : [...own, ...next].reverse();
      const file = join(directory, `share-${index}.json`);
      writeFileSync(file, JSON.stringify(share));
      return { file, sent: share.length };
    });
    const children = shares.map(({ file }, index) => new Child('ingestProcess.mjs', [TEST_PG_URL, schema, file], { STRATA_TEST_DATA_DIR: join(directory, `data-${index}`) }));
    try {
      await Promise.all(children.map((child) => child.line(/^ready$/)));
      for (const child of children) child.process.stdin.end('go\n');
      const codes = await Promise.all(children.map((child) => child.exited));
      expect(codes, children.map((child) => child.errors).join('\n')).toEqual([0, 0, 0, 0]);
    } finally {
      for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGKILL');
    }
    const counters = await Promise.all(children.map(async (child) => JSON.parse(await child.line(/^\{/)) as { stored: number; duplicates: number; rejected: number }));
    // Each event was stored by exactly one process; every other send of it was answered "duplicate".
    expect(counters.reduce((sum, counter) => sum + counter.stored, 0)).toBe(events.length);
    expect(counters.reduce((sum, counter) => sum + counter.stored + counter.duplicates, 0)).toBe(shares.reduce((sum, share) => sum + share.sent, 0));
    expect(counters.every((counter) => counter.rejected === 0)).toBe(true);

    const client = await adminClient();
    try {
      const stored = await client.query<{ event_id: string }>(`SELECT event_id FROM "${schema}".user_interactions`);
      expect(stored.rows).toHaveLength(events.length);
      expect(new Set(stored.rows.map((row) => row.event_id))).toEqual(new Set(events.map((event) => event.eventId)));
      expect((await client.query(`SELECT COUNT(*)::int8 AS n FROM "${schema}".interaction_ids`)).rows[0].n).toBe(events.length);
      expect(await storedRollups(client, schema)).toEqual(await expectedRollups(client, schema, 3));
      expect((await client.query(`SELECT COUNT(*)::int8 AS n FROM "${schema}".session_analytics`)).rows[0].n).toBe(new Set(events.map((event) => event.sessionId)).size);
    } finally {
      await client.end();
    }
  }, 180_000);
});

describe.skipIf(skip)('loading pg', () => {
  const schema = uniqueSchema('pgload');
  afterAll(() => dropSchemas(schema));

  it('happens when a tier opens, not when the package is imported', async () => {
    const child = new Child('pgLoading.mjs', [TEST_PG_URL, schema]);
    const line = await child.line(/^\{/);
    expect(await child.exited).toBe(0);
    expect(JSON.parse(line)).toEqual({ afterImport: false, afterOpen: true });
  }, 60_000);
});

describe.skipIf(skip)('the job lock across processes', () => {
  const schema = uniqueSchema('joblock');
  const directory = mkdtempSync(join(tmpdir(), 'hot-postgres-joblock-'));
  afterAll(async () => {
    rmSync(directory, { recursive: true, force: true });
    await dropSchemas(schema);
  });

  it('lets one process run a job at a time, and frees it when the holder is killed with SIGKILL', async () => {
    const tier = await openTier(schema);
    const runs: string[] = [];
    const probePlugin = definePlugin({
      name: 'probe-job',
      version: '0.0.0',
      options: z.object({}).strict(),
      setup: () => ({ jobs: [{ name: 'probe', description: 'records that it ran', run: async () => (runs.push('probe'), { summary: 'ran' }) }] }),
    });
    const strata = await createStrata({
      config: { plugins: [{ name: 'hot-postgres', options: { connectionString: TEST_PG_URL, schema } }, 'probe-job'] },
      catalog: { 'hot-postgres': () => hotPostgresPlugin, 'probe-job': () => probePlugin },
      cwd: directory,
      logLevel: 'silent',
      monitor: false,
      scheduleJobs: false,
    });
    const holder = new Child('lockHolder.mjs', [TEST_PG_URL, schema, 'probe']);
    try {
      expect(await holder.line(/^(locked|busy)$/)).toBe('locked');
      const lock = tier.jobLock();
      expect(await lock.acquire('probe')).toBeNull();
      const busy = await strata.runJob('probe').catch((error: unknown) => error);
      expect(busy).toBeInstanceOf(StrataError);
      expect((busy as StrataError).code).toBe('STRATA_JOB_BUSY');
      expect(runs).toEqual([]);
      // Another job is not held up by it.
      const other = await lock.acquire('another-job');
      expect(other).not.toBeNull();
      await other!();

      holder.process.kill('SIGKILL');
      await holder.exited;
      // The server ends the dead process's session when it sees the connection close; until then the lock is held.
      let release: (() => Promise<void>) | null = null;
      for (let attempt = 0; attempt < 300 && !release; attempt += 1) {
        release = await lock.acquire('probe');
        if (!release) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(release).not.toBeNull();
      expect(await tier.jobLock().acquire('probe')).toBeNull();
      await release!();
      await release!();
      expect(await strata.runJob('probe')).toEqual({ summary: 'ran' });
      expect(runs).toEqual(['probe']);
    } finally {
      if (holder.process.exitCode === null && holder.process.signalCode === null) holder.process.kill('SIGKILL');
      await strata.close();
      await tier.close();
    }
  }, 120_000);
});
