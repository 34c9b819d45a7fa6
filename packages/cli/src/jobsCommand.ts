import cliProgress from 'cli-progress';
import type { JobProgress, JobReport, JobStatus } from '@strata/core';
import { withStrata, writeJson, writeLine, type CliOutput, type CommandContext } from './commandContext.js';
import { formatBytes, formatCount, formatDuration, formatPairs, formatTable } from './formatTable.js';
import { SIGNAL_EXIT_CODES, watchInterruption, type StopSignal } from './interruption.js';

export interface JobsCommandOptions {
  json?: boolean;
}

/** What `strata jobs run <name> --json` prints. */
export interface JobRunOutput {
  job: string;
  /** Wall time of the run as the CLI measured it. */
  durationMs: number;
  /** The signal that asked the job to stop, or null. */
  interrupted: StopSignal | null;
  report: JobReport;
}

/** `strata jobs list`: every job the configured plugins contribute, with its schedule. */
export async function jobsListCommand(context: CommandContext, options: JobsCommandOptions): Promise<number> {
  const jobs = await withStrata(context, async (strata, scoped): Promise<JobStatus[]> => {
    scoped.authorize('status.read');
    return strata.jobStatus();
  });
  const { stdout } = context.io;
  if (options.json) {
    writeJson(stdout, { jobs: jobs.map(({ name, description, schedule }) => ({ name, description, schedule })) });
    return 0;
  }
  if (jobs.length === 0) {
    writeLine(stdout, 'No jobs: no plugin in the config contributes one (retention and backup do).');
    return 0;
  }
  writeLine(
    stdout,
    formatTable(
      [{ header: 'job' }, { header: 'schedule' }, { header: 'what it does', maxWidth: 100 }],
      jobs.map((job) => [job.name, job.schedule ?? 'on demand', job.description]),
    ),
  );
  writeLine(stdout, '');
  writeLine(stdout, 'Run one now with `strata jobs run <job>`. Schedules run inside a long-lived Strata (createStrata), never from CLI commands.');
  return 0;
}

/**
 * `strata jobs run <name>`: runs the job now, shows its progress on a terminal, and prints what it
 * did. SIGINT/SIGTERM ask the job to stop at its next safe point (exit 130/143); jobs resume on
 * their next run.
 */
export async function jobsRunCommand(context: CommandContext, name: string, options: JobsCommandOptions): Promise<number> {
  const { io } = context;
  const interruption = watchInterruption(io);
  const progress = createJobProgress(io.stderr, name);
  const started = performance.now();
  let report: JobReport;
  try {
    report = await withStrata(context, (_strata, scoped) => scoped.runJob(name, { signal: interruption.signal, onProgress: (update) => progress.update(update) }));
  } finally {
    progress.stop();
    interruption.dispose();
  }
  const output: JobRunOutput = { job: name, durationMs: Math.round(performance.now() - started), interrupted: interruption.received ?? null, report };
  if (options.json) writeJson(io.stdout, output);
  else printJobRun(io.stdout, output);
  return output.interrupted ? SIGNAL_EXIT_CODES[output.interrupted] : 0;
}

function printJobRun(stdout: CliOutput, output: JobRunOutput): void {
  const { report } = output;
  writeLine(stdout, report.summary);
  const pairs: Array<[string, string]> = [];
  if (typeof report.rowsMoved === 'number') pairs.push(['rows moved', formatCount(report.rowsMoved)]);
  if (typeof report.bytesWritten === 'number') pairs.push(['bytes written', formatBytes(report.bytesWritten)]);
  if (typeof report.partitionsWritten === 'number') pairs.push(['partitions written', formatCount(report.partitionsWritten)]);
  pairs.push(['time taken', formatDuration(typeof report.durationMs === 'number' ? report.durationMs : output.durationMs)]);
  if (typeof report.reportFile === 'string') pairs.push(['report', report.reportFile]);
  writeLine(stdout, formatPairs(pairs));
  if (Array.isArray(report.steps) && report.steps.length > 0) {
    writeLine(stdout, '');
    writeLine(
      stdout,
      formatTable(
        [{ header: 'step' }, { header: 'rows', align: 'right' }, { header: 'bytes', align: 'right' }, { header: 'partitions', align: 'right' }, { header: 'time', align: 'right' }],
        (report.steps as Array<Record<string, unknown>>).map((step) => [
          String(step.step ?? ''),
          formatCount(Number(step.rows ?? 0)),
          formatBytes(Number(step.bytes ?? 0)),
          formatCount(Number(step.partitions ?? 0)),
          formatDuration(Number(step.durationMs ?? 0)),
        ]),
      ),
    );
  }
  if (output.interrupted) writeLine(stdout, `Stopped by ${output.interrupted} at a safe point; run the same command again to finish.`);
}

interface JobProgressReporter {
  update(progress: JobProgress): void;
  stop(): void;
}

/**
 * A progress bar on stderr fed by `JobContext.progress`, drawn only on a terminal (like ingest's):
 * piped output and `--json` stay free of redraw sequences.
 */
function createJobProgress(output: CliOutput, label: string): JobProgressReporter {
  if (output.isTTY !== true) return { update: () => undefined, stop: () => undefined };
  let bar: cliProgress.SingleBar | undefined;
  return {
    update(progress) {
      const total = Math.max(progress.total ?? 0, progress.done, 1);
      const payload = { done: formatCount(progress.done), size: progress.total === undefined ? '?' : formatCount(progress.total), unit: progress.unit };
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            stream: output as unknown as NodeJS.WritableStream,
            format: `${label} {bar} {percentage}% | {done} of {size} {unit} | ETA {eta_formatted}`,
            hideCursor: true,
            clearOnComplete: true,
            fps: 8,
            etaBuffer: 50,
            gracefulExit: false,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, progress.done, payload);
        return;
      }
      bar.setTotal(total);
      bar.update(progress.done, payload);
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
