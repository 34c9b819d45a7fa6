import { createReadStream } from 'node:fs';
import { open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** What erasing a subject did to the dead-letter files. */
export interface DeadLetterErasure {
  /** Entries removed. */
  removed: number;
  /** Entries of the subject a fresh scan found after the rewrite: the follow-up check (0 when erased). */
  remaining: number;
  /** Files rewritten without the subject's entries. */
  filesRewritten: number;
}

/** Deep enough for any event a caller could send; deeper values are not walked. */
const MAX_DEPTH = 32;
/** Rewrites in progress are written beside the file under this suffix, then renamed over it. */
const REWRITE_SUFFIX = '.erasing';

/**
 * Decides whether a dead-letter line holds one of `storedIds` as a session id: in the entry's
 * `original` (the event or line as received, scrubbed), at any depth, as the value of a
 * `sessionId` field. A session id is matched as a whole value, never as a substring, so erasing
 * `s1` leaves `s10`'s entries alone. An original that is not JSON (a malformed or truncated
 * line) and a line that is not an entry at all are matched on the text `"sessionId": "<id>"`.
 */
export function createSessionMatcher(storedIds: readonly string[]): (line: string) => boolean {
  const ids = new Set(storedIds);
  // The field as JSON text, also when escaped once more inside an entry's `original` string.
  const patterns = storedIds.map((id) => new RegExp(`\\\\?"sessionId\\\\?"\\s*:\\s*\\\\?${escapeRegExp(JSON.stringify(id).slice(0, -1))}\\\\?"`));
  const inText = (text: string) => patterns.some((pattern) => pattern.test(text));
  return (line) => {
    let original: unknown;
    try {
      original = (JSON.parse(line) as { original?: unknown }).original;
    } catch {
      return inText(line);
    }
    if (typeof original !== 'string') return inText(line);
    let event: unknown;
    try {
      event = JSON.parse(original);
    } catch {
      return inText(original);
    }
    return holdsSessionId(event, ids, 0);
  };
}

function holdsSessionId(value: unknown, ids: ReadonlySet<string>, depth: number): boolean {
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return false;
  if (Array.isArray(value)) return value.some((item) => holdsSessionId(item, ids, depth + 1));
  const record = value as Record<string, unknown>;
  if (typeof record.sessionId === 'string' && ids.has(record.sessionId)) return true;
  return Object.values(record).some((inner) => holdsSessionId(inner, ids, depth + 1));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Removes every entry of the given stored session ids from the dead-letter files in `directory`,
 * so a replay can never bring the subject back. Each file holding one is rewritten beside itself,
 * synced, and renamed over the original: a crash leaves the old file or the new one, never a mix.
 * Files without one are not touched. Ends with a fresh scan of every file (the follow-up check).
 * The caller must keep appends to these files out while this runs (DeadLetterStore does).
 */
export async function eraseFromDeadLetters(directory: string, storedIds: readonly string[]): Promise<DeadLetterErasure> {
  const names = await deadLetterFiles(directory);
  if (names === undefined) return { removed: 0, remaining: 0, filesRewritten: 0 };
  // A rewrite cut short by a crash left its partial copy behind; the original is intact.
  for (const name of names.partial) await rm(join(directory, name), { force: true });
  const matches = createSessionMatcher(storedIds);
  let removed = 0;
  let filesRewritten = 0;
  for (const name of names.entries) {
    const file = join(directory, name);
    const found = await countMatching(file, matches);
    if (found === 0) continue;
    await rewriteWithout(file, matches);
    removed += found;
    filesRewritten += 1;
  }
  let remaining = 0;
  for (const name of names.entries) remaining += await countMatching(join(directory, name), matches);
  return { removed, remaining, filesRewritten };
}

async function deadLetterFiles(directory: string): Promise<{ entries: string[]; partial: string[] } | undefined> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return {
    entries: names.filter((name) => name.endsWith('.jsonl')).sort(),
    partial: names.filter((name) => name.endsWith(REWRITE_SUFFIX)),
  };
}

async function* linesOf(file: string): AsyncGenerator<string> {
  const input = createReadStream(file, { encoding: 'utf8' });
  try {
    yield* createInterface({ input, crlfDelay: Infinity });
  } finally {
    input.destroy();
  }
}

async function countMatching(file: string, matches: (line: string) => boolean): Promise<number> {
  let count = 0;
  for await (const line of linesOf(file)) if (line !== '' && matches(line)) count += 1;
  return count;
}

async function rewriteWithout(file: string, matches: (line: string) => boolean): Promise<void> {
  const partial = `${file}${REWRITE_SUFFIX}`;
  const handle = await open(partial, 'w', 0o600);
  try {
    let chunk: string[] = [];
    let size = 0;
    for await (const line of linesOf(file)) {
      if (line !== '' && matches(line)) continue;
      chunk.push(line, '\n');
      size += line.length;
      if (size >= 1 << 20) {
        await handle.write(chunk.join(''));
        chunk = [];
        size = 0;
      }
    }
    await handle.write(chunk.join(''));
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(partial, { force: true });
    throw error;
  }
  await handle.close();
  await rename(partial, file);
}
