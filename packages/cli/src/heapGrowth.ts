import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the heap grow past what the last full collection kept, in percent. Left to
 * itself V8 grows it up to 4× for a busy process: a 1M-line `strata ingest` kept ~30 MB live on its
 * main thread but held 120 MB, and peaked at 330–410 MB in all. At 75% it peaks at 270–280 MB for
 * 4–8% of its throughput. Only the CLI sets it: an application embedding Strata owns its V8 flags.
 */
export const CLI_HEAP_GROWING_PERCENT = 75;

/** Applies the CLI's heap growth, unless the user started node with their own setting. */
export function limitHeapGrowth(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((flag) => flag.includes('heap-growing-percent')) || process.env.NODE_OPTIONS?.includes('heap-growing-percent')) return false;
  setFlagsFromString(`--heap-growing-percent=${CLI_HEAP_GROWING_PERCENT}`);
  return true;
}
