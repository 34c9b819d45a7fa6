import { createHash } from 'node:crypto';
import { interactionLine, type Interaction } from '@strata/core';

/**
 * `InteractionDigest`'s checksum (SHA-256 over `interactionLine` + `\n` per row) that also counts
 * the bytes of those lines, serialising each row once: the archival report states the JSONL size
 * of what it moved, and archival is bound by this per-row work.
 */
export class LineDigest {
  private readonly hash = createHash('sha256');
  rows = 0;
  bytes = 0;

  add(rows: readonly Interaction[]): void {
    for (const row of rows) {
      const line = `${interactionLine(row)}\n`;
      this.hash.update(line);
      this.bytes += Buffer.byteLength(line);
      this.rows += 1;
    }
  }

  /** Hex digest; can be read once. */
  hex(): string {
    return this.hash.digest('hex');
  }
}
