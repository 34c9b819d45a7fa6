import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interactionLine } from '@strata/core';
import { sampleInteractions } from '@strata/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_GZIP_LEVEL, JsonArchive } from '../src/index.js';

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'json-archive-size-'));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

// Realistic events from the workload generator, normalised as a tier stores them, one month of them.
const rows = sampleInteractions(5_000, 42, Date.UTC(2025, 11, 1), 30);
const rawJsonlBytes = rows.reduce((sum, row) => sum + Buffer.byteLength(`${interactionLine(row)}\n`), 0);

describe('compressed size', () => {
  for (const gzipLevel of [DEFAULT_GZIP_LEVEL, 1]) {
    it(`stores 5,000 generated events in under 15% of their raw JSONL at gzip level ${gzipLevel}`, async () => {
      const archive = await JsonArchive.open({ dir: join(directory, `level-${gzipLevel}`), gzipLevel });
      const partition = await archive.writePartition('size', '2025-12', [rows.slice(0, 2_500), rows.slice(2_500)]);
      await archive.close();
      expect(partition.rows).toBe(5_000);
      expect(partition.bytes / rawJsonlBytes).toBeLessThan(0.15);
    });
  }
});
