import type { Metric } from '@strata/core';
import type { InteractionWire } from './interactionWire.js';

/** What the writer thread needs to open its own connection to the database. */
export interface WriterSettings {
  file: string;
  synchronous: 'NORMAL' | 'FULL';
  busyTimeoutMs: number;
  cacheSizeMb: number;
  conversionDepth: number;
}

export type WriterRequestBody =
  | { kind: 'write'; events: InteractionWire; createdAt: number }
  | { kind: 'metrics'; metrics: readonly Metric[]; createdAt: number }
  | { kind: 'close' };

export type WriterRequest = WriterRequestBody & { id: number };

/** `duplicateIds` answers a write; `stored` answers metrics. */
export type WriterResponse =
  | { id: number; ok: true; duplicateIds: string[]; stored: number }
  | { id: number; ok: false; error: { message: string; code?: string } };
