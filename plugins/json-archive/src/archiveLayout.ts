import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { monthRange, type MonthKey } from '@strata/core';
import { ArchiveInputError } from './archiveErrors.js';

/**
 * Where things live under the archive dir:
 * `YYYY/MM/manifest.json`, `YYYY/MM/<id>.jsonl.gz` (a rewrite: `<id>~<generation>.jsonl.gz`),
 * `summaries/YYYY.json`, and `.tmp-<pid>-<random>…` files while something is being written.
 */

/** Safe in a file name on every OS, never `.`-led (hidden, `..`), and without `~` (which marks a rewrite's generation). */
const PARTITION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const MONTH_KEY = /^\d{4}-(0[1-9]|1[0-2])$/;

export const MANIFEST_FILE = 'manifest.json';
export const PARTITION_SUFFIX = '.jsonl.gz';
export const SUMMARIES_DIR = 'summaries';
export const LOCK_FILE = '.lock';
export const TEMP_PREFIX = '.tmp-';

/** Returns the id when it is a valid partition id; throws naming the field otherwise. */
export function checkPartitionId(id: unknown, field = 'id'): string {
  if (typeof id !== 'string') throw new ArchiveInputError(field, `must be a string, got ${id === null ? 'null' : typeof id}`);
  if (!PARTITION_ID.test(id) || id.endsWith('.')) {
    throw new ArchiveInputError(
      field,
      `must be 1–128 characters of A–Z, a–z, 0–9, '.', '_', '-', starting with a letter or digit and not ending with '.' (it names a file), got ${JSON.stringify(id.slice(0, 140))}`,
    );
  }
  return id;
}

/** Returns the month when it is `YYYY-MM`; throws naming the field otherwise. */
export function checkMonth(month: unknown, field = 'month'): MonthKey {
  if (typeof month !== 'string' || !MONTH_KEY.test(month)) {
    throw new ArchiveInputError(field, `must be a month as YYYY-MM (01–12), got ${JSON.stringify(month)}`);
  }
  monthRange(month);
  return month;
}

export function monthDir(root: string, month: MonthKey): string {
  return join(root, month.slice(0, 4), month.slice(5, 7));
}

/** File name of a partition's `generation`-th version (0: as first written; each rewrite adds one). */
export function partitionFileName(id: string, generation: number): string {
  return generation === 0 ? `${id}${PARTITION_SUFFIX}` : `${id}~${generation}${PARTITION_SUFFIX}`;
}

/** A fresh temp file name in the writer's directory; the pid lets a later open tell a dead writer's leftovers from a live one's. */
export function tempFileName(suffix: string): string {
  return `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}${suffix}`;
}

/** The pid that created a temp file, or undefined when the name is not one of ours. */
export function tempFileOwner(name: string): number | undefined {
  const match = /^\.tmp-(\d+)-[0-9a-f]+/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** Months (`YYYY-MM`) whose directories a year and month name make, or undefined for anything else. */
export function monthFromDirNames(year: string, month: string): MonthKey | undefined {
  const key = `${year}-${month}`;
  return /^\d{4}$/.test(year) && MONTH_KEY.test(key) ? key : undefined;
}
