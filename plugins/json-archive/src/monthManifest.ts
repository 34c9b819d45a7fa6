import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArchivePartition, MonthKey } from '@strata/core';
import { z } from 'zod';
import { ARCHIVE_NAME, ArchiveCorruptError } from './archiveErrors.js';
import { MANIFEST_FILE, monthDir } from './archiveLayout.js';
import { writeFileDurably } from './durableFile.js';

/** A manifest entry: the public `ArchivePartition` plus what the archive needs to find and read the file. */
export interface StoredPartition extends ArchivePartition {
  /** File name inside the month's directory. */
  file: string;
  /** 0 as first written; each rewrite (erasure, a range delete) adds one and writes a new file. */
  generation: number;
  /** True when the rows' timestamps never decrease in stored order, so a scan can merge without sorting. */
  timeOrdered: boolean;
}

export const MANIFEST_FORMAT = 'strata-json-archive/month-manifest';
export const MANIFEST_VERSION = 1;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const timestamp = z.number().int().nullable();

const StoredPartitionSchema = z
  .object({
    id: z.string().min(1),
    month: z.string().regex(/^\d{4}-\d{2}$/),
    rows: z.number().int().min(0),
    bytes: z.number().int().min(0),
    fileSha256: hex64,
    rowsSha256: hex64,
    firstTimestamp: timestamp,
    lastTimestamp: timestamp,
    createdAt: z.number().int(),
    file: z.string().min(1).refine((name) => !name.includes('/') && !name.includes('\\') && !name.startsWith('.'), 'must be a plain file name'),
    generation: z.number().int().min(0),
    timeOrdered: z.boolean(),
  })
  .strict();

const MonthManifestSchema = z
  .object({
    format: z.literal(MANIFEST_FORMAT),
    version: z.literal(MANIFEST_VERSION),
    month: z.string(),
    partitions: z.array(StoredPartitionSchema),
  })
  .strict();

export function manifestPath(root: string, month: MonthKey): string {
  return join(monthDir(root, month), MANIFEST_FILE);
}

/** The partitions of a month, in id order; a month without a manifest has none. */
export async function readMonthManifest(root: string, month: MonthKey): Promise<StoredPartition[]> {
  const path = manifestPath(root, month);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  let parsed: z.infer<typeof MonthManifestSchema>;
  try {
    parsed = MonthManifestSchema.parse(JSON.parse(text));
  } catch (error) {
    const reason = error instanceof z.ZodError ? error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).slice(0, 3).join('; ') : (error as Error).message;
    throw new ArchiveCorruptError(`${ARCHIVE_NAME}: manifest ${path} is not a valid archive manifest (${reason}); restore it from a backup`, path, undefined, { cause: error });
  }
  if (parsed.month !== month || parsed.partitions.some((entry) => entry.month !== month)) {
    throw new ArchiveCorruptError(`${ARCHIVE_NAME}: manifest ${path} lists partitions of another month than ${month}; restore it from a backup`, path);
  }
  return parsed.partitions;
}

/** Replaces a month's manifest atomically (temp file, fsync, rename, fsync of the directory). */
export async function writeMonthManifest(root: string, month: MonthKey, partitions: readonly StoredPartition[]): Promise<void> {
  const sorted = [...partitions].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const manifest = { format: MANIFEST_FORMAT, version: MANIFEST_VERSION, month, partitions: sorted.map(storedFields) };
  await writeFileDurably(manifestPath(root, month), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** The contract's fields only, in a fixed order: what callers of the archive see. */
export function publicPartition(entry: StoredPartition): ArchivePartition {
  return {
    id: entry.id,
    month: entry.month,
    rows: entry.rows,
    bytes: entry.bytes,
    fileSha256: entry.fileSha256,
    rowsSha256: entry.rowsSha256,
    firstTimestamp: entry.firstTimestamp,
    lastTimestamp: entry.lastTimestamp,
    createdAt: entry.createdAt,
  };
}

function storedFields(entry: StoredPartition): StoredPartition {
  return { ...publicPartition(entry), file: entry.file, generation: entry.generation, timeOrdered: entry.timeOrdered };
}
