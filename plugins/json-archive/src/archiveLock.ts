import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { StorageError } from '@strata/core';
import { ARCHIVE_NAME } from './archiveErrors.js';
import { tempFileName } from './archiveLayout.js';
import { removeQuietly } from './durableFile.js';

interface LockOwner {
  pid: number;
  host: string;
  since: number;
}

/**
 * Serialises the archive's commits (manifest changes, renames, recovery): first within the process
 * (a promise queue), then between processes on the same host (a lock file). A lock file left by a
 * process that died is taken over; one held by a live process is waited for up to `timeoutMs`.
 */
export class ArchiveLock {
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly timeoutMs: number,
  ) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    try {
      await previous;
      await this.acquireFile();
      try {
        return await task();
      } finally {
        await removeQuietly(this.file);
      }
    } finally {
      release();
    }
  }

  /**
   * Like `run`, but returns undefined at once when another process holds the lock (a lock left by a
   * dead process is still taken over).
   */
  async tryRun<T>(task: () => Promise<T>): Promise<T | undefined> {
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    try {
      await previous;
      if (!(await this.acquireFile(false))) return undefined;
      try {
        return await task();
      } finally {
        await removeQuietly(this.file);
      }
    } finally {
      release();
    }
  }

  /** Resolves once every task queued so far has finished. */
  async idle(): Promise<void> {
    await this.tail;
  }

  /** Takes the lock file; with `wait` false, gives up (returning false) as soon as a live process holds it. */
  private async acquireFile(wait = true): Promise<boolean> {
    const deadline = Date.now() + this.timeoutMs;
    let delay = 10;
    for (;;) {
      if (await this.tryCreate()) return true;
      const owner = await this.readOwner();
      if (owner && owner.host === hostname() && !isProcessAlive(owner.pid)) {
        // Re-read just before removing, so a lock another process took over meanwhile is left alone.
        const again = await this.readOwner();
        if (again && again.pid === owner.pid && again.since === owner.since) await removeQuietly(this.file);
        continue;
      }
      if (!wait) return false;
      if (Date.now() >= deadline) {
        const who = owner ? `process ${owner.pid} on ${owner.host} since ${new Date(owner.since).toISOString()}` : 'another process';
        throw new StorageError(
          `${ARCHIVE_NAME}: ${dirname(this.file)} is locked by ${who}, which is changing the archive; wait for it to finish, raise lockTimeoutMs, or delete ${this.file} if no such process runs`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 200);
    }
  }

  /** Creates the lock file with its content in one step: `link` fails if the name exists, so nobody ever sees an empty lock. */
  private async tryCreate(): Promise<boolean> {
    const temp = join(dirname(this.file), tempFileName('.lock'));
    const owner: LockOwner = { pid: process.pid, host: hostname(), since: Date.now() };
    await writeFile(temp, JSON.stringify(owner));
    try {
      await link(temp, this.file);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw new StorageError(`${ARCHIVE_NAME}: cannot create the lock file ${this.file}: ${(error as Error).message}; make the archive dir writable`, { cause: error });
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  private async readOwner(): Promise<LockOwner | undefined> {
    try {
      const parsed = JSON.parse(await readFile(this.file, 'utf8')) as Partial<LockOwner>;
      if (typeof parsed.pid === 'number' && typeof parsed.host === 'string' && typeof parsed.since === 'number') {
        return { pid: parsed.pid, host: parsed.host, since: parsed.since };
      }
    } catch {
      // Gone (released meanwhile) or unreadable: the next attempt tells.
    }
    return undefined;
  }
}

/** True when a process with this pid exists (EPERM: it exists but belongs to another user). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
