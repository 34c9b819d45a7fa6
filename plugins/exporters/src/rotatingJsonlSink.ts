import { mkdir, open, readdir, rename, rm, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { PermanentError, RetryableError, interactionLine, type Interaction, type Sink } from '@strata/core';
import { EXPORTERS_NAME, describeFsError } from './exportErrors.js';
import {
  completeLinesLength,
  fileSize,
  freeSealedName,
  gzipSealedFile,
  parsePartFileName,
  partFileName,
  processAlive,
  sealedFiles,
  syncDirectory,
} from './sinkFiles.js';

/**
 * When the active file is synced to disk:
 * - `batch`: after every batch, before `consume` resolves: a batch the sink took survives a power loss;
 * - `rotate`: when a file is sealed (and on flush/close): a process crash loses nothing (the OS has
 *   the writes), a power loss may lose the active file's last batches;
 * - `never`: the OS decides (fastest; a power loss may lose recent files' tails).
 */
export type FsyncPolicy = 'batch' | 'rotate' | 'never';

export interface RotatingJsonlSinkOptions {
  /** Absolute directory of the files (created when missing). */
  dir: string;
  /** The sink's name in counters and the config's `pipeline.sinks`. Default `exporters`. */
  name?: string;
  /** File names start with it: `interactions-20261125T162547123Z.jsonl`. Default `interactions`. */
  filePrefix?: string;
  /** A file is sealed before a batch would take it past this size (a single larger batch gets a file of its own). Default 64 MiB. */
  maxBytes?: number;
  /** A file is sealed this long after it was opened, even when small (null: only by size). Default 1 h. */
  maxAgeMs?: number | null;
  /** Compress sealed files to `.jsonl.gz`. Default false. */
  gzip?: boolean;
  /** Default `batch`. */
  fsync?: FsyncPolicy;
  /** Keep at most this many sealed files, removing the oldest (null: keep all; a shipper removes them). */
  maxFiles?: number | null;
  now?: () => number;
  /** Told about recovery after a crash and files removed by `maxFiles`. */
  onEvent?(message: string, details: Record<string, unknown>): void;
}

/** What start-up recovery found of a previous process that did not close the sink. */
export interface SinkRecovery {
  /** Active files sealed under their final names. */
  sealed: string[];
  /** Bytes of torn last lines cut off them. */
  truncatedBytes: number;
}

/**
 * A sink that appends every committed batch, one JSON line per interaction (`interactionLine`, as
 * the cold archive writes it), to the active file, and seals files by size and age with an atomic
 * rename. See the README for the file layout, the fsync policy and what a crash leaves behind.
 */
export class RotatingJsonlSink implements Sink {
  readonly name: string;
  private readonly options: Required<Omit<RotatingJsonlSinkOptions, 'onEvent' | 'now' | 'name'>> & Pick<RotatingJsonlSinkOptions, 'onEvent'>;
  private readonly now: () => number;
  private handle: FileHandle | undefined;
  private partName = '';
  private stem = '';
  private size = 0;
  private openedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Every file operation runs in this chain, one at a time: batches, timed rotation, flush, close. */
  private chain: Promise<unknown> = Promise.resolve();
  private opened: Promise<SinkRecovery> | undefined;
  private closed = false;
  /** Files sealed by this instance, for tests and status. */
  sealedCount = 0;

  constructor(options: RotatingJsonlSinkOptions) {
    this.name = options.name ?? EXPORTERS_NAME;
    this.now = options.now ?? Date.now;
    this.options = {
      dir: options.dir,
      filePrefix: options.filePrefix ?? 'interactions',
      maxBytes: options.maxBytes ?? 64 * 1024 * 1024,
      maxAgeMs: options.maxAgeMs === undefined ? 3_600_000 : options.maxAgeMs,
      gzip: options.gzip ?? false,
      fsync: options.fsync ?? 'batch',
      maxFiles: options.maxFiles ?? null,
      onEvent: options.onEvent,
    };
  }

  /** Creates the directory and seals what a crashed process left (idempotent; `consume` calls it too). */
  open(): Promise<SinkRecovery> {
    this.opened ??= this.serially(() => this.recover());
    return this.opened;
  }

  async consume(batch: readonly Interaction[], signal: AbortSignal): Promise<void> {
    if (batch.length === 0) return;
    await this.open();
    let text = '';
    for (const event of batch) text += `${interactionLine(event)}\n`;
    const data = Buffer.from(text);
    await this.serially(async () => {
      if (this.closed) throw new PermanentError(`${this.name}: the sink is closed; the batch was not written`);
      if (signal.aborted) throw new RetryableError(`${this.name}: stopped before writing the batch`);
      if (this.handle && this.size > 0 && (this.size + data.length > this.options.maxBytes || this.dueByAge())) await this.seal();
      if (!this.handle) await this.openActive();
      await this.append(data);
    });
  }

  /** Syncs the active file (unless the policy is `never`). */
  flush(): Promise<void> {
    return this.serially(async () => {
      if (this.handle && this.options.fsync !== 'never') await this.handle.sync();
    });
  }

  /** Seals the active file (an empty one is removed). Idempotent. */
  close(): Promise<void> {
    return this.serially(async () => {
      if (this.closed) return;
      this.closed = true;
      this.clearTimer();
      if (!this.handle) return;
      if (this.size > 0) await this.seal();
      else {
        await this.handle.close();
        this.handle = undefined;
        await rm(join(this.options.dir, this.partName), { force: true });
      }
    });
  }

  /** Seals the active file now, whatever its size and age (nothing happens when it is empty). */
  rotate(): Promise<void> {
    return this.serially(async () => {
      if (this.handle && this.size > 0) await this.seal();
    });
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.catch(() => undefined).then(task);
    this.chain = run;
    return run;
  }

  private dueByAge(): boolean {
    return this.options.maxAgeMs !== null && this.now() - this.openedAt >= this.options.maxAgeMs;
  }

  private async openActive(): Promise<void> {
    this.openedAt = this.now();
    this.partName = partFileName(this.options.filePrefix, this.openedAt, process.pid);
    this.stem = parsePartFileName(this.partName)!.stem;
    try {
      this.handle = await open(join(this.options.dir, this.partName), 'wx');
    } catch (error) {
      throw this.writeError(error, 'opening a new file');
    }
    this.size = 0;
    if (this.options.maxAgeMs !== null) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.rotate().catch((error: unknown) => this.options.onEvent?.('timed rotation failed; the next batch retries it', { error: describeFsError(error) }));
      }, this.options.maxAgeMs);
      this.timer.unref();
    }
  }

  /** Writes at the file's known end; on any failure cuts the file back, so a retried batch is never written twice. */
  private async append(data: Buffer): Promise<void> {
    const handle = this.handle!;
    const before = this.size;
    try {
      let written = 0;
      while (written < data.length) {
        const { bytesWritten } = await handle.write(data, written, data.length - written, before + written);
        written += bytesWritten;
      }
      if (this.options.fsync === 'batch') await handle.datasync();
      this.size = before + data.length;
    } catch (error) {
      try {
        await handle.truncate(before);
      } catch {
        // The file cannot be cut back: seal what it holds up to its last whole line and start a new one.
        await this.abandonActive();
      }
      throw this.writeError(error, 'writing a batch');
    }
  }

  /** Syncs, closes and renames the active file to its sealed name; then gzip and `maxFiles`. */
  private async seal(): Promise<void> {
    const handle = this.handle!;
    this.handle = undefined;
    this.clearTimer();
    const durable = this.options.fsync !== 'never';
    const part = join(this.options.dir, this.partName);
    try {
      if (durable) await handle.sync();
      await handle.close();
      const sealed = await freeSealedName(this.options.dir, this.stem);
      await rename(part, join(this.options.dir, sealed));
      if (durable) await syncDirectory(this.options.dir);
      this.sealedCount += 1;
      if (this.options.gzip) await gzipSealedFile(this.options.dir, sealed, durable);
      await this.enforceMaxFiles();
    } catch (error) {
      throw this.writeError(error, 'sealing a file');
    }
  }

  private async abandonActive(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    this.clearTimer();
    await handle?.close().catch(() => undefined);
    const part = join(this.options.dir, this.partName);
    try {
      await truncate(part, await completeLinesLength(part));
      await rename(part, join(this.options.dir, await freeSealedName(this.options.dir, this.stem)));
    } catch {
      // Left as a .part file; the next start seals it (its pid is then no longer running).
    }
  }

  private async enforceMaxFiles(): Promise<void> {
    if (this.options.maxFiles === null) return;
    const files = await sealedFiles(this.options.dir, this.options.filePrefix);
    const excess = files.slice(0, Math.max(0, files.length - this.options.maxFiles));
    for (const name of excess) await rm(join(this.options.dir, name), { force: true });
    if (excess.length > 0) this.options.onEvent?.(`removed ${excess.length} oldest file(s) beyond maxFiles`, { removed: excess });
  }

  /**
   * Active files of processes no longer running are cut back to their last whole line and sealed;
   * a compression that did not finish is redone (its temp file removed, or the plain file removed
   * when the `.gz` was already renamed into place).
   */
  private async recover(): Promise<SinkRecovery> {
    const { dir } = this.options;
    const recovery: SinkRecovery = { sealed: [], truncatedBytes: 0 };
    try {
      await mkdir(dir, { recursive: true });
      for (const name of await readdir(dir)) {
        const part = parsePartFileName(name);
        if (part && (part.pid === process.pid || !processAlive(part.pid)) && name.startsWith(`.${this.options.filePrefix}-`)) {
          const path = join(dir, name);
          const size = await fileSize(path);
          const keep = await completeLinesLength(path);
          if (keep < size) await truncate(path, keep);
          recovery.truncatedBytes += size - keep;
          if (keep === 0) {
            await rm(path, { force: true });
            continue;
          }
          const sealed = await freeSealedName(dir, part.stem);
          await rename(path, join(dir, sealed));
          recovery.sealed.push(sealed);
        } else if (name.startsWith(`.${this.options.filePrefix}-`) && name.endsWith('.gz.tmp')) {
          await rm(join(dir, name), { force: true });
        }
      }
      const names = new Set(await readdir(dir));
      for (const name of names) {
        if (!name.startsWith(`${this.options.filePrefix}-`) || !name.endsWith('.jsonl')) continue;
        if (names.has(`${name}.gz`)) await rm(join(dir, name), { force: true });
        else if (this.options.gzip) await gzipSealedFile(dir, name, this.options.fsync !== 'never');
      }
      if (this.options.fsync !== 'never') await syncDirectory(dir);
    } catch (error) {
      throw this.writeError(error, 'recovering files a previous process left');
    }
    if (recovery.sealed.length > 0 || recovery.truncatedBytes > 0) {
      this.options.onEvent?.('sealed the files of a previous process that stopped without closing the sink', { ...recovery });
    }
    return recovery;
  }

  private clearTimer(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** A full disk may clear up (retried with backoff); a path that cannot be written never will (the batch is dropped and counted). */
  private writeError(error: unknown, what: string): Error {
    if (error instanceof RetryableError || error instanceof PermanentError) return error;
    const code = (error as NodeJS.ErrnoException).code;
    const message = `${this.name}: ${what} in ${this.options.dir} failed: ${describeFsError(error)}`;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOTDIR' || code === 'EISDIR') {
      return new PermanentError(`${message}; make the directory writable or set the sink's dir option`, { cause: error });
    }
    if (code === 'ENOSPC' || code === 'EDQUOT') return new RetryableError(`${message}; free space, the batch will be retried`, { cause: error, retryAfterMs: 5_000 });
    return new RetryableError(message, { cause: error });
  }
}
