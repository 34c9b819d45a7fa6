import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { StrataError, describeError } from '@strata/core';
import { isBackupId, listBackups, readBackupEntry, type BackupEntry } from './backupCatalog.js';
import { BackupBusyError, BackupCorruptError } from './backupErrors.js';
import { acquireBackupLock } from './backupLock.js';
import type { ManifestFile } from './backupManifest.js';
import type { ProgressListener } from './backupProgress.js';
import { findDatabasesInUse } from './databaseInUse.js';
import { copyFileDurably, fsyncDirectory, sha256File } from './durableFiles.js';
import { verifyBackup } from './verifyBackup.js';

export interface RestoreOptions {
  /** A backup id, a path to a backup directory, or `latest` (the newest backup that has a manifest). */
  backup: string;
  /** Where backups are kept (ids and `latest` are looked up here). */
  backupsDir: string;
  /**
   * The data dir to restore into. Files that lived inside the data dir at backup time go to the same
   * place inside this one; files that lived elsewhere go back to their absolute path. Default: the
   * data dir recorded in the backup.
   */
  dataDir?: string;
  now?: () => number;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

/** One file put back. */
export interface RestoredFile {
  /** Path inside the backup. */
  file: string;
  restoreTo: string;
  bytes: number;
  /** Where the files that were in the way now are (`<file>.pre-restore-<time>`, its `-wal` beside it). */
  setAside: string[];
  /** Rows per table, for SQLite databases. */
  tables?: Record<string, number>;
}

export interface RestoreReport {
  id: string;
  path: string;
  /** Epoch ms the backup was taken. */
  createdAt: number;
  restored: RestoredFile[];
  /** Stale `-shm` files removed (derived data SQLite rebuilds). */
  removed: string[];
  /** The configuration copy in the backup (absolute paths); restore never overwrites the config in use. */
  configFiles: string[];
  bytes: number;
  durationMs: number;
}

/** Companions SQLite may keep beside a database. A `-wal` or `-journal` holds data of the file it sits beside, so it moves with it. */
const MOVED_COMPANIONS = ['-wal', '-journal'];
const REMOVED_COMPANIONS = ['-shm'];

/**
 * Restores a backup, refusing rather than making things worse:
 * 1. finds it (an id, a path, or `latest`) and takes the backups lock, so rotation cannot delete it meanwhile;
 * 2. refuses when a process has one of the databases open (stop the server first);
 * 3. verifies the whole backup — manifest, SHA-256 of every file, integrity check and row counts of
 *    every database — and refuses a corrupt one, naming each file and check that failed;
 * 4. copies every file next to its destination under a temporary name, flushed and checksummed again;
 * 5. only then, file by file, moves what is in the way aside (`<file>.pre-restore-<time>`, with its
 *    `-wal`; nothing is deleted but the stale `-shm` index), and renames the copy into place.
 * A failure before step 5 changes nothing in the data dir.
 */
export async function restoreBackup(options: RestoreOptions): Promise<RestoreReport> {
  const started = performance.now();
  const now = options.now ?? Date.now;
  const release = await acquireBackupLock(options.backupsDir, 'a restore');
  const staged: Array<{ temporary: string; target: string }> = [];
  try {
    const entry = await locateBackup(options.backupsDir, options.backup);
    if (entry.status === 'incomplete') {
      throw new StrataError('STRATA_NOT_FOUND', `backup: ${entry.path} is incomplete (${entry.problem ?? 'no manifest'}) and cannot be restored; choose a complete backup (strata backup list)`);
    }
    const manifest = entry.manifest;
    const tierFiles = (manifest?.files ?? []).filter((file) => file.kind === 'tier' && file.restoreTo);
    const targets = new Map(tierFiles.map((file) => [file.path, targetOf(file, options.dataDir)]));
    await refuseWhileInUse([...targets.values()]);

    const verification = await verifyBackup(entry, { signal: options.signal, onProgress: options.onProgress });
    if (!verification.ok) {
      throw new BackupCorruptError(entry.id, verification.problems, 'refusing to restore it, and nothing in the data dir was changed; restore another backup (strata backup list)');
    }

    const stamp = new Date(now()).toISOString().replace(/[:.]/g, '-');
    const totalBytes = tierFiles.reduce((sum, file) => sum + file.bytes, 0);
    let done = 0;
    for (const file of tierFiles) {
      options.signal?.throwIfAborted();
      const target = targets.get(file.path)!;
      await mkdir(dirname(target), { recursive: true });
      const temporary = `${target}.restore-${stamp}.tmp`;
      staged.push({ temporary, target });
      await copyFileDurably(join(entry.path, file.path), temporary);
      const copied = await sha256File(temporary, {
        onBytes: (bytes) => {
          done += bytes;
          options.onProgress?.({ phase: 'restore', item: file.path, bytes: done, totalBytes });
        },
      });
      if (copied !== file.sha256) {
        throw new BackupCorruptError(entry.id, [{ file: file.path, check: 'sha256', message: `its copy at ${temporary} hashes to ${copied}, not ${file.sha256}: the copy was damaged on the way (check the disk holding ${dirname(target)})` }], 'refusing to restore it, and nothing in the data dir was changed');
      }
    }
    // A server may have started while the files were copied.
    await refuseWhileInUse([...targets.values()]);

    const restored: RestoredFile[] = [];
    const removed: string[] = [];
    // No abort from here on: stopping between two renames would leave a mix of old and restored files.
    for (const file of tierFiles) {
      const { temporary, target } = staged.find((item) => item.target === targets.get(file.path))!;
      const setAside: string[] = [];
      for (const suffix of ['', ...MOVED_COMPANIONS]) {
        const current = `${target}${suffix}`;
        if (!existsSync(current)) continue;
        const aside = `${target}.pre-restore-${stamp}${suffix}`;
        await rename(current, aside);
        setAside.push(aside);
      }
      for (const suffix of REMOVED_COMPANIONS) {
        if (!existsSync(`${target}${suffix}`)) continue;
        await rm(`${target}${suffix}`, { force: true });
        removed.push(`${target}${suffix}`);
      }
      await rename(temporary, target);
      await fsyncDirectory(dirname(target));
      restored.push({ file: file.path, restoreTo: target, bytes: file.bytes, setAside, ...(file.sqlite ? { tables: file.sqlite.tables } : {}) });
    }
    staged.length = 0;
    return {
      id: entry.id,
      path: entry.path,
      createdAt: manifest!.createdAt,
      restored,
      removed,
      configFiles: manifest!.config.files.map((file) => join(entry.path, file)),
      bytes: totalBytes,
      durationMs: performance.now() - started,
    };
  } catch (error) {
    for (const { temporary } of staged) await rm(temporary, { force: true }).catch(() => undefined);
    if (options.signal?.aborted && !(error instanceof StrataError)) {
      throw new StrataError('STRATA_JOB_FAILED', `backup: restore aborted (${describeError(options.signal.reason)}); nothing in the data dir was changed`, { cause: error });
    }
    throw error;
  } finally {
    await release();
  }
}

/** Finds a backup by id, by path, or `latest`: the newest one that has a manifest (incomplete ones are never candidates). */
export async function locateBackup(backupsDir: string, reference: string): Promise<BackupEntry> {
  if (reference === 'latest') {
    const candidates = (await listBackups(backupsDir)).filter((entry) => entry.status !== 'incomplete');
    const newest = candidates[candidates.length - 1];
    if (!newest) throw new StrataError('STRATA_NOT_FOUND', `backup: there is no complete backup in ${backupsDir}; take one with \`strata backup\``);
    return newest;
  }
  if (isBackupId(reference)) {
    const path = join(backupsDir, reference);
    if (existsSync(path)) return readBackupEntry(path);
    const partial = (await listBackups(backupsDir)).find((entry) => entry.id === reference);
    if (partial) return partial;
  }
  const path = isAbsolute(reference) ? reference : resolve(reference);
  if (!existsSync(path)) {
    throw new StrataError('STRATA_NOT_FOUND', `backup: no backup "${reference}" in ${backupsDir} and no such directory; list them with \`strata backup list\``);
  }
  return readBackupEntry(path);
}

/** Where a file goes: the same place inside the target data dir when it lived inside the recorded one. */
export function targetOf(file: ManifestFile, dataDir: string | undefined): string {
  if (dataDir && file.dataDirPath) return join(dataDir, ...file.dataDirPath.split('/'));
  return file.restoreTo!;
}

async function refuseWhileInUse(targets: readonly string[]): Promise<void> {
  const inUse = await findDatabasesInUse(targets);
  if (inUse.length === 0) return;
  const list = inUse.map((item) => `${item.path} (${item.reason})`).join(', ');
  throw new BackupBusyError(`backup: cannot restore while the data is in use: ${list}; stop the Strata server and every other process using the data dir, then run the restore again`);
}
