import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, open, readdir } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import type { TierBackup } from '@strata/core';
import { ArchiveCorruptError, abortError, archiveWriteError } from './archiveErrors.js';
import { SUMMARIES_DIR } from './archiveLayout.js';
import { ensureDirectory, removeQuietly } from './durableFile.js';
import { manifestPath, readMonthManifest } from './monthManifest.js';
import type { PartitionStore } from './partitionStore.js';

/**
 * Copies the archive into `targetDir/<archive dir name>/` with the same layout: every committed
 * partition file (its SHA-256 checked against the manifest while copying, so a damaged file is never
 * backed up silently), then the month manifests, then the yearly summaries. Holds the archive lock,
 * so no commit happens during the copy and the manifests match the files. Partition files come
 * first in the result so a restore that copies in order never has a manifest naming a missing file.
 * An aborted or failed backup removes what it copied.
 */
export async function backupArchive(store: PartitionStore, targetDir: string, signal?: AbortSignal): Promise<TierBackup> {
  const root = join(targetDir, basename(store.dir));
  const files: TierBackup['files'] = [];
  const manifests: TierBackup['files'] = [];
  const created: string[] = [];
  const targetOf = (source: string) => join(root, relative(store.dir, source));
  /** Copies one file and records it; `copy` returns the bytes written. */
  const backUp = async (list: TierBackup['files'], source: string, copy: (target: string) => Promise<number>) => {
    if (signal?.aborted) throw abortError(signal);
    const target = targetOf(source);
    await ensureDirectory(dirname(target));
    created.push(target);
    const bytes = await copy(target);
    list.push({ path: relative(targetDir, target).split(sep).join('/'), restoreTo: source, bytes });
  };
  try {
    return await store.exclusive(async () => {
      for (const month of await store.months()) {
        const entries = await readMonthManifest(store.dir, month);
        if (entries.length === 0) continue;
        for (const entry of entries) {
          await backUp(files, store.path(entry), (target) => copyVerified(store.path(entry), target, entry.fileSha256, entry.id));
        }
        const manifest = manifestPath(store.dir, month);
        await backUp(manifests, manifest, (target) => copyDurably(manifest, target));
      }
      const summariesDir = join(store.dir, SUMMARIES_DIR);
      for (const name of await listSummaries(summariesDir)) {
        await backUp(manifests, join(summariesDir, name), (target) => copyDurably(join(summariesDir, name), target));
      }
      return { files: [...files, ...manifests] };
    });
  } catch (error) {
    for (const target of created) await removeQuietly(target);
    throw archiveWriteError(error, 'backing up the archive', targetDir);
  }
}

async function listSummaries(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((name) => /^\d{4}\.json$/.test(name)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Copies while hashing what was read; a source that no longer matches its manifest fails the backup. */
async function copyVerified(source: string, target: string, expectedSha256: string, id: string): Promise<number> {
  const hash = createHash('sha256');
  let bytes = 0;
  const handle = await open(target, 'w');
  try {
    for await (const chunk of createReadStream(source)) {
      const buffer = chunk as Buffer;
      hash.update(buffer);
      bytes += buffer.length;
      for (let offset = 0; offset < buffer.length; ) offset += (await handle.write(buffer, offset, buffer.length - offset)).bytesWritten;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  const actual = hash.digest('hex');
  if (actual !== expectedSha256) {
    throw new ArchiveCorruptError(
      `json-archive: partition "${id}" (${source}) does not match its manifest (SHA-256 ${actual}, expected ${expectedSha256}); it was not backed up; restore it from an earlier backup`,
      source,
      id,
    );
  }
  return bytes;
}

async function copyDurably(source: string, target: string): Promise<number> {
  await copyFile(source, target);
  const handle = await open(target, 'r+');
  try {
    await handle.sync();
    return (await handle.stat()).size;
  } finally {
    await handle.close();
  }
}
