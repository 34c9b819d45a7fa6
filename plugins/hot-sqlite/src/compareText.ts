/**
 * Orders strings by Unicode code point, which is the order SQLite's default BINARY collation gives
 * their UTF-8 bytes. JavaScript's `<` compares UTF-16 code units instead, which disagrees for
 * characters above U+FFFF against U+E000–U+FFFF; ties decided in JS and in SQL must agree, or a
 * rollup would depend on how events were split into batches.
 */
export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index += 1) {
    const x = a.charCodeAt(index);
    const y = b.charCodeAt(index);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Surrogates (U+D800–U+DFFF) start code points above U+FFFF, so they sort after U+E000–U+FFFF. */
function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

/** Role (or other key) counts as stored: `[[key, count], …]`, most first, ties by key. */
export type RankedCounts = Array<[string, number]>;

export function rankCounts(counts: ReadonlyMap<string, number>): RankedCounts {
  return [...counts].filter(([, count]) => count !== 0).sort((a, b) => b[1] - a[1] || compareText(a[0], b[0]));
}

/** Merges two stored `RankedCounts` JSON texts into one, canonically ranked. */
export function mergeRankedCounts(a: string | null, b: string | null): string {
  const counts = new Map<string, number>();
  for (const text of [a, b]) {
    if (!text) continue;
    for (const [key, count] of JSON.parse(text) as RankedCounts) counts.set(key, (counts.get(key) ?? 0) + count);
  }
  return JSON.stringify(rankCounts(counts));
}
