import cliProgress from 'cli-progress';
import type { CliOutput } from './commandContext.js';
import { formatBytes, formatCount } from './formatTable.js';

/** Where a long command reports how far it got. */
export interface ProgressReporter {
  update(done: number, detail: { lines: number }): void;
  stop(): void;
}

const silent: ProgressReporter = { update: () => undefined, stop: () => undefined };

/**
 * A progress bar over `total` bytes on stderr, drawn only when stderr is a terminal: piped or
 * redirected output (CI logs, `2> file`) never fills with redraw sequences. stdout stays clean for
 * the summary and `--json`.
 */
export function createByteProgress(output: CliOutput, total: number, label: string): ProgressReporter {
  if (output.isTTY !== true || total <= 0) return silent;
  const bar = new cliProgress.SingleBar(
    {
      // cli-progress draws with readline's cursor helpers, which need a real stream; a TTY is one.
      stream: output as unknown as NodeJS.WritableStream,
      format: `${label} {bar} {percentage}% | {done} of {size} | {lines} lines | ETA {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
      fps: 8,
      etaBuffer: 50,
      gracefulExit: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { done: formatBytes(0), size: formatBytes(total), lines: '0' });
  let stopped = false;
  return {
    update(done, detail) {
      if (stopped) return;
      const value = Math.min(done, total);
      bar.update(value, { done: formatBytes(value), size: formatBytes(total), lines: formatCount(detail.lines) });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}
