import { createHash } from 'node:crypto';
import { StrataError, type Interaction, type StorageTier } from '@strata/core';

/**
 * An order-independent fingerprint of a set of interactions: the count and the sum (mod 2^128) of
 * the first 16 bytes of each row's SHA-256. Two tiers return rows with equal timestamps in different
 * orders (their internal ids differ), so an ordered digest could not compare them; a sum can. Each row
 * is hashed in a canonical form (keys sorted), so key order does not matter either.
 */
export class RowSetFingerprint {
  rows = 0;
  private sum = 0n;
  private static readonly MODULUS = 1n << 128n;

  add(batch: readonly Interaction[]): void {
    for (const row of batch) {
      const digest = createHash('sha256').update(canonicalJson(row)).digest();
      this.sum = (this.sum + BigInt(`0x${digest.subarray(0, 16).toString('hex')}`)) % RowSetFingerprint.MODULUS;
      this.rows += 1;
    }
  }

  get hex(): string {
    return this.sum.toString(16).padStart(32, '0');
  }
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, inner]) => inner !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonicalJson(inner)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export interface TierMigrationOptions {
  batchSize: number;
  /** Continue a migration that stopped half-way: the target already holds some of the source's rows. */
  resume: boolean;
  signal?: AbortSignal;
  onProgress?(copied: number, total: number): void;
}

export interface TierMigrationReport {
  from: string;
  to: string;
  /** Rows in the source. */
  rows: number;
  /** Rows newly written to the target (the rest were already there: a resumed run). */
  written: number;
  alreadyThere: number;
  verified: boolean;
  source: { rows: number; fingerprint: string };
  target: { rows: number; fingerprint: string };
  durationMs: number;
}

/**
 * Copies every interaction of `source` into `target` through the target's own write path (so its
 * rollups are built as ingest builds them), then reads both back and compares counts and
 * fingerprints. The target must be empty unless `resume` is set: a migration runs before traffic is
 * switched, and a target that already serves traffic could not be verified against the source.
 */
export async function migrateTier(source: StorageTier, target: StorageTier, options: TierMigrationOptions): Promise<TierMigrationReport> {
  const started = performance.now();
  const total = await source.countInteractions();
  const before = await target.countInteractions();
  if (before > 0 && !options.resume) {
    throw new StrataError(
      'STRATA_CONFIG_INVALID',
      `${target.name} already holds ${before} interaction(s); migrate into an empty tier before switching traffic to it, or pass --resume to finish a migration that stopped half-way`,
    );
  }
  const sourcePrint = new RowSetFingerprint();
  let written = 0;
  let alreadyThere = 0;
  for await (const batch of source.scanInteractions({}, { batchSize: options.batchSize, signal: options.signal })) {
    options.signal?.throwIfAborted();
    const result = await target.writeInteractions(batch);
    written += result.inserted;
    alreadyThere += result.duplicates;
    sourcePrint.add(batch);
    options.onProgress?.(sourcePrint.rows, total);
  }
  options.signal?.throwIfAborted();
  const targetPrint = new RowSetFingerprint();
  for await (const batch of target.scanInteractions({}, { batchSize: options.batchSize, signal: options.signal })) targetPrint.add(batch);
  return {
    from: source.name,
    to: target.name,
    rows: sourcePrint.rows,
    written,
    alreadyThere,
    verified: sourcePrint.rows === targetPrint.rows && sourcePrint.hex === targetPrint.hex,
    source: { rows: sourcePrint.rows, fingerprint: sourcePrint.hex },
    target: { rows: targetPrint.rows, fingerprint: targetPrint.hex },
    durationMs: performance.now() - started,
  };
}
