import { parseDuration } from '@strata/core';
import { z } from 'zod';

const MIN_FILE_BYTES = 1_024;

/** A duration written as text (`15m`, `1h`, `1d`), at least one second. */
const rotateEveryRule = 'expected a duration of at least 1s such as 15m, 1h or 1d (or false for size only)';
const rotateEvery = z.union(
  [
    z.literal(false),
    z.string().refine((text) => (parseDuration(text) ?? 0) >= 1_000, { error: (issue) => `${rotateEveryRule}, got ${JSON.stringify(issue.input)}` }),
  ],
  { error: (issue) => `${rotateEveryRule}, got ${JSON.stringify(issue.input)}` },
);

/** The rotating JSONL sink: every committed batch appended to files sealed by size and age. */
export const RotatingSinkOptionsSchema = z
  .object({
    /** false: no sink (export and import work without it). */
    enabled: z.boolean({ error: 'must be true or false' }).default(true),
    /** Directory of the files, relative to the data dir (or absolute). */
    dir: z.string().min(1, { error: 'must not be empty' }).default('exports/interactions'),
    /** File names start with it (`interactions-20261125T162547123Z.jsonl`). */
    filePrefix: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_]*$/, { error: (issue) => `must be letters, digits and _ (no - or .), got ${JSON.stringify(issue.input)}` })
      .default('interactions'),
    /** A file is sealed before a batch would take it past this many bytes. */
    maxBytes: z
      .number({ error: `must be a whole number of bytes (at least ${MIN_FILE_BYTES})` })
      .int({ error: `must be a whole number of bytes (at least ${MIN_FILE_BYTES})` })
      .min(MIN_FILE_BYTES, { error: `must be at least ${MIN_FILE_BYTES} bytes` })
      .default(64 * 1024 * 1024),
    /** A file is sealed this long after it was opened, even when small; false: only by size. */
    rotateEvery: rotateEvery.default('1h'),
    /** Compress sealed files to `.jsonl.gz`. */
    gzip: z.boolean({ error: 'must be true or false' }).default(false),
    /** When the active file is synced: after every batch, when a file is sealed, or never (see the README). */
    fsync: z.enum(['batch', 'rotate', 'never'], { error: (issue) => `expected batch, rotate or never, got ${JSON.stringify(issue.input)}` }).default('batch'),
    /** Keep at most this many sealed files (oldest removed first); absent: keep all. */
    maxFiles: z.number({ error: 'must be a whole number of files (at least 1)' }).int({ error: 'must be a whole number of files (at least 1)' }).min(1, { error: 'must be at least 1' }).optional(),
  })
  .strict();

export const ExportersOptionsSchema = z
  .object({
    /** The rotating JSONL sink. */
    sink: RotatingSinkOptionsSchema.prefault({}),
  })
  .strict();

export type ExportersOptions = z.input<typeof ExportersOptionsSchema>;
export type ResolvedExportersOptions = z.output<typeof ExportersOptionsSchema>;
export type RotatingSinkOptionsInput = z.input<typeof RotatingSinkOptionsSchema>;
