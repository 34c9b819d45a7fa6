import { readFile, readdir } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { StrataError } from '@strata/core';
import { MANIFEST_FILE, parseManifest, type BackupManifest } from './backupManifest.js';

/** Suffix of a backup still being written (or abandoned by a crash); renamed away when complete. */
export const PARTIAL_SUFFIX = '.partial';
/** Suffix of a backup rotation is deleting: renamed first, so a half-deleted backup never looks complete. */
export const DELETING_SUFFIX = '.deleting';

const ID_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z(?:-\d+)?$/;

/** The id of a backup started at `epochMs`: its UTC time, sortable as text, safe as a file name on every OS. */
export function backupIdFor(epochMs: number, attempt = 0): string {
  const base = new Date(epochMs).toISOString().replace(/[:.]/g, '-');
  return attempt === 0 ? base : `${base}-${attempt}`;
}

export function isBackupId(name: string): boolean {
  return ID_PATTERN.test(name);
}

/** The backups directory for a data dir and the `dir` option. */
export function resolveBackupsDir(dataDir: string, dir: string): string {
  return isAbsolute(dir) ? dir : resolve(dataDir, dir);
}

/**
 * - `complete`: its manifest is present and intact (written only after the backup verified).
 * - `incomplete`: no manifest, or still under its temporary name: never restored or kept by rotation.
 * - `damaged`: a manifest is there but cannot be trusted: restore refuses it and rotation leaves it for a person to look at.
 */
export type BackupStatus = 'complete' | 'incomplete' | 'damaged';

export interface BackupEntry {
  id: string;
  /** Absolute path of the backup directory. */
  path: string;
  status: BackupStatus;
  manifest?: BackupManifest;
  /** Why it is incomplete or damaged. */
  problem?: string;
}

/** Every backup in `backupsDir`, oldest first (ids sort by time). A missing directory holds none. */
export async function listBackups(backupsDir: string): Promise<BackupEntry[]> {
  let names: string[];
  try {
    names = await readdir(backupsDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new StrataError('STRATA_STORAGE_FAILED', `backup: cannot list ${backupsDir}: ${(error as Error).message}`, { cause: error });
  }
  const entries: BackupEntry[] = [];
  for (const name of names.sort()) {
    const path = join(backupsDir, name);
    for (const [suffix, problem] of [
      [PARTIAL_SUFFIX, 'never finished (still running, or interrupted by a crash)'],
      [DELETING_SUFFIX, 'was being deleted by rotation'],
    ] as const) {
      if (name.endsWith(suffix) && isBackupId(name.slice(0, -suffix.length))) {
        entries.push({ id: name.slice(0, -suffix.length), path, status: 'incomplete', problem });
      }
    }
    if (isBackupId(name)) entries.push(await readEntry(name, path));
  }
  return entries;
}

/** Reads one backup directory's manifest and classifies it. */
export async function readBackupEntry(path: string): Promise<BackupEntry> {
  const id = path.split(/[\\/]/).filter(Boolean).pop() ?? path;
  return readEntry(id, path);
}

async function readEntry(id: string, path: string): Promise<BackupEntry> {
  let text: string;
  try {
    text = await readFile(join(path, MANIFEST_FILE), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { id, path, status: 'incomplete', problem: `has no ${MANIFEST_FILE}: it never finished` };
    return { id, path, status: 'damaged', problem: `${MANIFEST_FILE} cannot be read: ${(error as Error).message}` };
  }
  const parsed = parseManifest(text);
  if (!parsed.ok) return { id, path, status: 'damaged', problem: `${MANIFEST_FILE} ${parsed.problem}` };
  return { id, path, status: 'complete', manifest: parsed.manifest };
}
