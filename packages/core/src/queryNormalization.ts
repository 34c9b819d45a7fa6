import { createHash } from 'node:crypto';

/**
 * The form of a query used to group repeats: lower case, Unicode-normalised, whitespace folded,
 * trailing punctuation dropped. "How do I deploy?" and "how do i  deploy" group together.
 */
export function normalizeQuery(query: string): string {
  return query
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[\s?!.,;:]+$/u, '');
}

/** A short stable hash of the normalised query, for dedup and popularity counts. */
export function hashQuery(normalizedQuery: string): string {
  return createHash('sha256').update(normalizedQuery).digest('hex').slice(0, 16);
}
