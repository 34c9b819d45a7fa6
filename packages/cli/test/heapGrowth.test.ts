import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { limitHeapGrowth } from '../src/heapGrowth.js';

describe('the CLI heap growth limit', () => {
  it('leaves a heap-growing-percent the user gave node alone', () => {
    expect(limitHeapGrowth(['--heap-growing-percent=30'])).toBe(false);
  });

  it('applies itself when node was started without one', () => {
    expect(limitHeapGrowth([])).toBe(process.env.NODE_OPTIONS?.includes('heap-growing-percent') !== true);
  });

  it('is applied by the binary before any command runs', () => {
    // V8 flags cannot be read back from JavaScript, so check the order in what `strata` runs.
    const bin = readFileSync(new URL('../dist/bin.js', import.meta.url), 'utf8');
    const limited = bin.indexOf('limitHeapGrowth()');
    expect(limited).toBeGreaterThan(-1);
    expect(limited).toBeLessThan(bin.indexOf('await runCli('));
  });
});
