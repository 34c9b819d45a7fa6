import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RetentionBusyError } from './errors.js';

export const LOCK_FILE = 'lock';

/** An empty lock file younger than this may be one its owner is still writing. */
const FRESH_LOCK_MS = 5_000;

interface LockContent {
  pid: number;
  since: number;
}

/**
 * One retention run at a time per data dir, across processes: an assistant server's scheduled run
 * and an operator's `strata jobs run retention` share the journal. The lock is a file created with
 * O_EXCL holding the owner's pid. A lock whose process is gone (killed, crashed) is stale and taken
 * over; so is one carrying this process's own pid that this object does not hold (a previous
 * process with the same pid, as in a container restarted as pid 1).
 */
export class StateLock {
  private held = false;

  constructor(private readonly stateDir: string) {}

  get file(): string {
    return join(this.stateDir, LOCK_FILE);
  }

  /** Takes the lock, or throws RetentionBusyError naming the process that holds it. */
  async acquire(): Promise<() => Promise<void>> {
    if (this.held) throw new RetentionBusyError(`retention: a run is already going in this process (lock ${this.file}); wait for it to finish`);
    await mkdir(this.stateDir, { recursive: true });
    for (let attempt = 0; attempt < 2; attempt += 1) {
      try {
        const handle = await open(this.file, 'wx');
        try {
          await handle.writeFile(JSON.stringify({ pid: process.pid, since: Date.now() } satisfies LockContent));
        } finally {
          await handle.close();
        }
        this.held = true;
        return () => this.release();
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = await this.readOwner();
      if (!owner && (await this.ageMs()) < FRESH_LOCK_MS) {
        throw new RetentionBusyError(`retention: another process is taking the lock ${this.file} right now; try again`);
      }
      if (owner && owner.pid !== process.pid && processIsAlive(owner.pid)) {
        throw new RetentionBusyError(
          `retention: another process (pid ${owner.pid}, since ${new Date(owner.since).toISOString()}) is running retention on this data dir; wait for it, or delete ${this.file} if no such process exists`,
        );
      }
      // Stale: its owner is gone. Remove it and try once more; a racing process may win, which is fine.
      await rm(this.file, { force: true });
    }
    throw new RetentionBusyError(`retention: another process took the lock ${this.file} at the same moment; try again`);
  }

  private async release(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    await rm(this.file, { force: true });
  }

  private async ageMs(): Promise<number> {
    try {
      return Date.now() - (await stat(this.file)).mtimeMs;
    } catch {
      return Number.POSITIVE_INFINITY;
    }
  }

  private async readOwner(): Promise<LockContent | undefined> {
    try {
      const content = JSON.parse(await readFile(this.file, 'utf8')) as Partial<LockContent>;
      return typeof content.pid === 'number' ? { pid: content.pid, since: typeof content.since === 'number' ? content.since : 0 } : undefined;
    } catch {
      // Unreadable or half-written (the owner died between create and write): stale.
      return undefined;
    }
  }
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
