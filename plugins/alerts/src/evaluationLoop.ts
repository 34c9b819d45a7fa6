import { describeError, type Logger } from '@strata/core';
import type { AlertEngine } from './alertEngine.js';

/**
 * Evaluates on an interval from `start` until `stop`. The next evaluation is scheduled when the
 * previous one ends (a slow source never stacks evaluations up), a tick that finds one already
 * running (a manual run of the `alerts` job) is skipped, and the timer is unref'd so it never keeps
 * the process alive. The first evaluation comes one interval after start, once every plugin started.
 */
export class EvaluationLoop {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly engine: Pick<AlertEngine, 'evaluate' | 'evaluating'>,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.stopped || this.timer) return;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.current;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  private tick(): void {
    this.timer = undefined;
    if (this.stopped) return;
    if (this.engine.evaluating) {
      this.logger.debug('alerts: evaluation skipped, the previous one is still running');
      this.schedule();
      return;
    }
    this.current = this.engine
      .evaluate({ waitForDelivery: false })
      .catch((error: unknown) => {
        if (!this.stopped) this.logger.error({ err: error }, `alerts: evaluation failed: ${describeError(error)}`);
      })
      .finally(() => {
        this.current = undefined;
        this.schedule();
      });
  }
}
