import { StrataError } from '@strata/core';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** A half-open range `[from, to)` in epoch ms with both ends known. */
export interface ClosedRange {
  from: number;
  to: number;
}

export function floorTo(ms: number, size: number): number {
  return ms - (((ms % size) + size) % size);
}

export function ceilTo(ms: number, size: number): number {
  const floor = floorTo(ms, size);
  return floor === ms ? ms : floor + size;
}

/** `[from, to)` cut into consecutive pieces of at most `size` ms, aligned to multiples of `size`. */
export function slices(range: ClosedRange, size: number): ClosedRange[] {
  const pieces: ClosedRange[] = [];
  let start = range.from;
  while (start < range.to) {
    const end = Math.min(range.to, floorTo(start, size) + size);
    pieces.push({ from: start, to: end });
    start = end;
  }
  return pieces;
}

/**
 * Gives the event loop a turn between slices of work, so a long check never stalls the host's
 * server for more than one slice, and stops when the run is aborted (Strata closing).
 */
export async function betweenSlices(signal: AbortSignal | undefined): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  throwIfAborted(signal);
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  const reason: unknown = signal.reason;
  throw reason instanceof Error ? reason : new StrataError('STRATA_CLOSED', 'quality: the run was aborted');
}

/** `2026-01-01T03:00Z` style, for messages. */
export function formatInstant(ms: number): string {
  return new Date(ms).toISOString().replace(':00.000Z', 'Z').replace('.000Z', 'Z');
}

/** A duration in ms for messages: `45 s`, `12 min`, `3.5 h`, `2.0 d`. */
export function formatAge(ms: number): string {
  const seconds = ms / 1_000;
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7_200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${(seconds / 3_600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}
