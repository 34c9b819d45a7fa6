import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import { ConfigError, StrataError, describeError, type Issue } from './errors.js';
import type { Job, JobLock, JobProgress, JobReport } from './types.js';

export interface RunJobOptions {
  signal?: AbortSignal;
  onProgress?(progress: JobProgress): void;
}

/** A job's last outcome, for status pages and alerts. */
export interface JobRunRecord {
  job: string;
  trigger: 'schedule' | 'manual';
  startedAt: number;
  finishedAt: number;
  ok: boolean;
  summary: string;
}

/** What `strata.jobStatus()` says about each job. */
export interface JobStatus {
  name: string;
  description: string;
  schedule: string | null;
  running: boolean;
  lastRun: JobRunRecord | null;
}

/**
 * Runs plugin jobs by hand and on their cron schedules. One job never runs twice at once in this
 * process (a scheduled tick that finds it running is skipped and logged; a manual run fails with
 * STRATA_JOB_BUSY), and, when a plugin contributes a `JobLock`, not in two processes either.
 * `stop` cancels the schedules, aborts running jobs and waits for them until the deadline.
 */
export class JobScheduler {
  private readonly byName = new Map<string, Job>();
  private readonly running = new Map<string, { controller: AbortController; done: Promise<unknown> }>();
  private readonly lastRuns = new Map<string, JobRunRecord>();
  private readonly tasks: ScheduledTask[] = [];
  private stopped = false;

  constructor(
    jobs: readonly Job[],
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly lock?: JobLock,
    /** Called after every run, finished or failed (jobs move and delete data: cached answers must go). */
    private readonly afterRun?: (job: string) => Promise<void> | void,
  ) {
    const issues: Issue[] = [];
    for (const job of jobs) {
      if (this.byName.has(job.name)) issues.push({ path: `jobs.${job.name}`, message: 'two plugins contribute a job with this name; rename one' });
      if (job.schedule !== undefined && !cron.validate(job.schedule)) {
        issues.push({ path: `jobs.${job.name}.schedule`, message: `"${job.schedule}" is not a cron expression (five or six fields, e.g. "30 2 * * *" for 02:30 daily)` });
      }
      this.byName.set(job.name, job);
    }
    if (issues.length > 0) throw new ConfigError(issues);
  }

  get jobs(): Job[] {
    return [...this.byName.values()];
  }

  /** Starts the cron schedules of every job that has one. */
  start(): void {
    if (this.stopped) return;
    for (const job of this.byName.values()) {
      if (job.schedule === undefined) continue;
      const task = cron.schedule(job.schedule, () => this.runScheduled(job), { name: `strata:${job.name}` });
      this.tasks.push(task);
    }
  }

  status(): JobStatus[] {
    return this.jobs.map((job) => ({
      name: job.name,
      description: job.description,
      schedule: job.schedule ?? null,
      running: this.running.has(job.name),
      lastRun: this.lastRuns.get(job.name) ?? null,
    }));
  }

  async run(name: string, options: RunJobOptions = {}): Promise<JobReport> {
    const job = this.byName.get(name);
    if (!job) {
      const known = this.jobs.map((candidate) => candidate.name);
      throw new StrataError('STRATA_NOT_FOUND', `no job named "${name}"; ${known.length ? `known jobs: ${known.join(', ')}` : 'no plugin in the config provides jobs'}`);
    }
    if (this.stopped) throw new StrataError('STRATA_CLOSED', `cannot run job "${name}": Strata is closing`);
    return this.execute(job, 'manual', options);
  }

  /** Cancels schedules, aborts running jobs and waits for them to settle, up to `timeoutMs`. */
  async stop(timeoutMs: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const task of this.tasks) await task.destroy();
    this.tasks.length = 0;
    const runs = [...this.running.values()];
    for (const run of runs) run.controller.abort(new StrataError('STRATA_CLOSED', 'Strata is closing'));
    if (runs.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), Math.max(0, timeoutMs));
    });
    const outcome = await Promise.race([Promise.allSettled(runs.map((run) => run.done)).then(() => 'done' as const), deadline]);
    clearTimeout(timer);
    if (outcome === 'late') {
      throw new StrataError('STRATA_DEADLINE_EXCEEDED', `jobs ${[...this.running.keys()].join(', ')} did not stop before the shutdown deadline after being aborted; their next run resumes the work`);
    }
  }

  private async runScheduled(job: Job): Promise<void> {
    if (this.running.has(job.name)) {
      this.logger.warn({ job: job.name }, 'scheduled run skipped: the previous run is still going');
      return;
    }
    try {
      await this.execute(job, 'schedule', {});
    } catch (error) {
      if (error instanceof StrataError && error.code === 'STRATA_JOB_BUSY') {
        this.logger.info({ job: job.name }, `scheduled run skipped: ${error.message}`);
      } else {
        this.logger.error({ job: job.name, err: error }, `scheduled job failed: ${describeError(error)}`);
      }
    }
  }

  private async execute(job: Job, trigger: JobRunRecord['trigger'], options: RunJobOptions): Promise<JobReport> {
    if (this.running.has(job.name)) {
      throw new StrataError('STRATA_JOB_BUSY', `job "${job.name}" is already running in this process; wait for it to finish`);
    }
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) controller.abort(options.signal.reason);
    const startedAt = this.clock.now();
    const work = this.runUnderLock(job, controller.signal, options);
    this.running.set(job.name, { controller, done: work.catch(() => undefined) });
    try {
      const report = await work;
      this.lastRuns.set(job.name, { job: job.name, trigger, startedAt, finishedAt: this.clock.now(), ok: true, summary: report.summary });
      this.logger.info({ job: job.name, trigger }, report.summary);
      return report;
    } catch (error) {
      if (!(error instanceof StrataError && error.code === 'STRATA_JOB_BUSY')) {
        this.lastRuns.set(job.name, { job: job.name, trigger, startedAt, finishedAt: this.clock.now(), ok: false, summary: describeError(error) });
      }
      throw error;
    } finally {
      this.running.delete(job.name);
      options.signal?.removeEventListener('abort', onAbort);
      await this.afterRun?.(job.name);
    }
  }

  private async runUnderLock(job: Job, signal: AbortSignal, options: RunJobOptions): Promise<JobReport> {
    const release = this.lock ? await this.lock.acquire(job.name) : undefined;
    if (this.lock && !release) {
      throw new StrataError('STRATA_JOB_BUSY', `job "${job.name}" is running in another process sharing this database; it runs once at a time`);
    }
    try {
      return await job.run({
        signal,
        logger: this.logger.child({ job: job.name }),
        clock: this.clock,
        progress: (progress) => options.onProgress?.(progress),
      });
    } finally {
      await release?.();
    }
  }
}
