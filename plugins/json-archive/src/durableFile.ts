import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { tempFileName } from './archiveLayout.js';

/**
 * File-system steps that survive a crash or power loss: a new file is written to a temp name,
 * synced, renamed over its final name, and the directory is synced so the rename itself is on disk.
 */

/** Makes a rename, creation or removal in `dir` durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Creates `dir` (and parents) and syncs each new entry into its parent, so the directory survives a power loss. */
export async function ensureDirectory(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let current = dir; ; current = dirname(current)) {
    try {
      await stat(current);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(current) === current) throw error;
      missing.push(current);
    }
  }
  if (missing.length === 0) return;
  await mkdir(dir, { recursive: true });
  for (const created of missing.reverse()) await syncDirectory(dirname(created));
}

/** Writes `content` to `path` atomically: readers see the old file or the new one, never a mix. */
export async function writeFileDurably(path: string, content: string | Uint8Array): Promise<void> {
  const temp = join(dirname(path), tempFileName(`.${basename(path)}`));
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await removeQuietly(temp);
    throw error;
  }
  await syncDirectory(dirname(path));
}

/** Removes a file if it exists; cleanup must not hide the error that made it necessary. */
export async function removeQuietly(path: string): Promise<void> {
  try {
    await rm(path, { force: true });
  } catch {
    // Best effort: a leftover temp file is removed again the next time the archive opens.
  }
}
