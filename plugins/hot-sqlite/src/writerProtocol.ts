import type { Metric } from '@strata/core';
import type { InteractionWire } from './interactionWire.js';

/** What the writer thread needs to open its own connection to the database. */
export interface WriterSettings {
  file: string;
  synchronous: 'NORMAL' | 'FULL';
  busyTimeoutMs: number;
  cacheSizeMb: number;
  conversionDepth: number;
  /** The most events the thread commits in one transaction when batches queue up behind each other. */
  groupCommitEvents: number;
}

/**
 * A batch travels as `parts` messages with the same id: `append` for all but the last slice, then
 * `write` with the last, which stores the whole batch (committed with the batches queued beside
 * it). The host posts all of one batch's parts before the next batch's, with ids rising. The thread
 * refuses a `write` whose earlier parts it did not receive (a thread restarted in between), so a
 * batch is never committed in part, and drops the slices of an earlier batch that never got its
 * `write`.
 */
export type WriterRequestBody =
  | { kind: 'append'; events: InteractionWire }
  | { kind: 'write'; events: InteractionWire; parts: number; createdAt: number }
  | { kind: 'metrics'; metrics: readonly Metric[]; createdAt: number }
  | { kind: 'close' };

export type WriterRequest = WriterRequestBody & { id: number };

/** `duplicateIds` answers a write; `stored` answers metrics. */
export type WriterResponse =
  | { id: number; ok: true; duplicateIds: string[]; stored: number }
  | { id: number; ok: false; error: { message: string; code?: string } };
