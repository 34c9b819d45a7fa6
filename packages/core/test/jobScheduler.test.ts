import { ConfigError, StrataError, type Job, type JobContext, type JobLock } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { gate, openStrata, rejectionOf } from './fixtures.js';

function job(name: string, run: (context: JobContext) => Promise<string>, schedule?: string): Job {
  return { name, description: `test job ${name}`, schedule, run: async (context) => ({ summary: await run(context) }) };
}

async function eventually(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('jobs', () => {
  it('runs a job by hand, reports progress and remembers the outcome', async () => {
    const { strata } = await openStrata({
      extras: {
        jobs: [
          job('count', async ({ progress }) => {
            progress({ done: 1, total: 2, unit: 'rows' });
            progress({ done: 2, total: 2, unit: 'rows' });
            return 'counted 2 rows';
          }),
        ],
      },
    });
    const seen: number[] = [];
    const report = await strata.runJob('count', { onProgress: (progress) => seen.push(progress.done) });
    expect(report.summary).toBe('counted 2 rows');
    expect(seen).toEqual([1, 2]);
    const [status] = strata.jobStatus();
    expect(status).toMatchObject({ name: 'count', schedule: null, running: false, lastRun: { ok: true, trigger: 'manual', summary: 'counted 2 rows' } });
  });

  it('names the known jobs when asked for an unknown one', async () => {
    const { strata } = await openStrata({ extras: { jobs: [job('a', async () => 'ok'), job('b', async () => 'ok')] } });
    const error = await rejectionOf(strata.runJob('c'));
    expect(error).toBeInstanceOf(StrataError);
    expect((error as StrataError).code).toBe('STRATA_NOT_FOUND');
    expect(error.message).toContain('known jobs: a, b');
  });

  it('refuses a second run of a job that is still running, and records a failure', async () => {
    const hold = gate();
    const { strata } = await openStrata({
      extras: {
        jobs: [
          job('slow', async () => {
            await hold.promise;
            throw new Error('disk on fire');
          }),
        ],
      },
    });
    const first = rejectionOf(strata.runJob('slow'));
    await eventually(() => strata.jobStatus()[0]!.running);
    const second = await rejectionOf(strata.runJob('slow'));
    expect((second as StrataError).code).toBe('STRATA_JOB_BUSY');
    hold.open();
    expect((await first).message).toBe('disk on fire');
    expect(strata.jobStatus()[0]).toMatchObject({ running: false, lastRun: { ok: false, summary: 'disk on fire' } });
  });

  it('rejects an invalid cron expression and duplicate job names at start, naming them', async () => {
    const error = await rejectionOf(openStrata({ extras: { jobs: [job('nightly', async () => 'ok', 'every night'), job('dup', async () => 'ok'), job('dup', async () => 'ok')] } }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('jobs.nightly.schedule: "every night" is not a cron expression');
    expect(error.message).toContain('jobs.dup: two plugins contribute a job with this name');
  });

  it('runs scheduled jobs on their schedule and skips a tick while the previous run is going', async () => {
    const hold = gate();
    let started = 0;
    const { strata } = await openStrata({
      extras: {
        jobs: [
          job(
            'every-second',
            async () => {
              started += 1;
              await hold.promise;
              return 'done';
            },
            '* * * * * *',
          ),
        ],
      },
    });
    await eventually(() => started === 1);
    // Several ticks pass while the first run is held; none starts a second run.
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    expect(started).toBe(1);
    hold.open();
    await eventually(() => strata.jobStatus()[0]!.lastRun?.trigger === 'schedule');
    await strata.close();
  });

  it('aborts a running job on close and waits for it', async () => {
    let aborted = false;
    let finished = false;
    const { strata } = await openStrata({
      extras: {
        jobs: [
          job('long', async ({ signal }) => {
            await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
            aborted = signal.aborted;
            await new Promise((resolve) => setTimeout(resolve, 50));
            finished = true;
            return 'stopped early';
          }),
        ],
      },
    });
    const run = strata.runJob('long');
    await eventually(() => strata.jobStatus()[0]!.running);
    await strata.close();
    expect(aborted).toBe(true);
    expect(finished).toBe(true);
    expect((await run).summary).toBe('stopped early');
    expect((await rejectionOf(strata.runJob('long'))).message).toMatch(/closed/i);
  });

  it('takes the job lock around each run and refuses when another process holds it', async () => {
    const held = new Set<string>();
    const events: string[] = [];
    const lock: JobLock = {
      async acquire(name) {
        if (held.has(name)) return null;
        held.add(name);
        events.push(`acquire ${name}`);
        return async () => {
          held.delete(name);
          events.push(`release ${name}`);
        };
      },
    };
    const { strata } = await openStrata({ extras: { jobLock: lock, jobs: [job('locked', async () => { events.push('run'); return 'ok'; })] } });
    await strata.runJob('locked');
    expect(events).toEqual(['acquire locked', 'run', 'release locked']);
    held.add('locked'); // another process has it
    const error = await rejectionOf(strata.runJob('locked'));
    expect((error as StrataError).code).toBe('STRATA_JOB_BUSY');
    expect(error.message).toContain('another process');
  });
});
