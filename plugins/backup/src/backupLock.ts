import { hostname } from 'node:os';
import { join } from 'node:path';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { BackupBusyError } from './backupErrors.js';

/** Name of the lock file inside the backups directory. */
export const LOCK_FILE = '.lock';

interface LockOwner {
  pid: number;
  host: string;
  purpose: string;
  since: string;
}

/**
 * Holds the backups directory for one backup, rotation or restore at a time, across processes: the
 * lock is a file created exclusively holding the owner's pid. A lock left by a process that
 * died on this host is taken over; one held by a live process (or another host) is refused with who
 * holds it. Returns the release function.
 */
export async function acquireBackupLock(backupsDir: string, purpose: string): Promise<() => Promise<void>> {
  await mkdir(backupsDir, { recursive: true });
  const path = join(backupsDir, LOCK_FILE);
  const owner: LockOwner = { pid: process.pid, host: hostname(), purpose, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt += 1) {
    // Written whole under a private name, then linked into place: link fails if the lock exists, and
    // a reader never sees a lock file without its owner in it.
    const candidate = `${path}.${process.pid}-${Date.now()}`;
    await writeFile(candidate, JSON.stringify(owner));
    try {
      await linkOrCreate(candidate, path, JSON.stringify(owner));
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        await rm(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await rm(candidate, { force: true });
    }
    const holder = await readOwner(path);
    if (holder && (holder.host !== owner.host || isAlive(holder.pid))) {
      throw new BackupBusyError(
        `backup: ${backupsDir} is in use by ${holder.purpose} (pid ${holder.pid} on ${holder.host}, since ${holder.since}); wait for it to finish, or delete ${path} if that process is gone`,
      );
    }
    // The owner died (or the file is unreadable debris of a crash): the lock is stale.
    await rm(path, { force: true });
  }
  throw new BackupBusyError(`backup: another process keeps taking ${path}; try again`);
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    const owner = JSON.parse(await readFile(path, 'utf8')) as Partial<LockOwner>;
    if (typeof owner.pid === 'number' && typeof owner.host === 'string') {
      return { pid: owner.pid, host: owner.host, purpose: owner.purpose ?? 'another backup', since: owner.since ?? 'unknown' };
    }
  } catch {
    // unreadable: treated as stale below
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `link`, or an exclusive create on file systems without hard links (some network and removable disks). */
async function linkOrCreate(candidate: string, path: string, content: string): Promise<void> {
  try {
    await link(candidate, path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTSUP' && code !== 'EPERM' && code !== 'ENOSYS') throw error;
    await writeFile(path, content, { flag: 'wx' });
  }
}
