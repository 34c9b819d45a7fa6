import type { Interaction } from '@strata/core';

/** What the writer thread needs to open its own connection to the database. */
export interface WriterSettings {
  file: string;
  synchronous: 'NORMAL' | 'FULL';
  busyTimeoutMs: number;
  cacheSizeMb: number;
  conversionDepth: number;
}

export type WriterRequest = { id: number; kind: 'write'; events: readonly Interaction[]; createdAt: number } | { id: number; kind: 'close' };

export type WriterResponse =
  | { id: number; ok: true; duplicateIds: string[] }
  | { id: number; ok: false; error: { message: string; code?: string } };
