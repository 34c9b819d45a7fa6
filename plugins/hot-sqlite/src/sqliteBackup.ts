import { rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { StorageError, describeError } from '@strata/core';

// The worker opens its own read-only connection and copies every page in one backup step: one
// read transaction, so the copy is a consistent snapshot however fast the writer commits (WAL readers
// never block writers, and a single step cannot be restarted by them). Running it on a thread keeps
// the host's event loop free while a large file is copied.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.source, { readonly: true, fileMustExist: true, timeout: workerData.busyTimeoutMs });
db.backup(workerData.target, { progress: () => 0x7fffffff })
  .then((progress) => { db.close(); parentPort.postMessage({ ok: true, pages: progress.totalPages }); })
  .catch((error) => { try { db.close(); } catch {} parentPort.postMessage({ ok: false, message: String(error && error.message || error), code: error && error.code }); });
`;

/**
 * Copies a live SQLite database to `target` with SQLite's online backup API, off the caller's
 * thread, while other connections keep writing. Returns the size of the copy in bytes. On failure or
 * abort the partial copy is removed.
 */
export async function backupSqliteFile(source: string, target: string, options: { signal?: AbortSignal; busyTimeoutMs?: number } = {}): Promise<number> {
  options.signal?.throwIfAborted();
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, source, target, busyTimeoutMs: options.busyTimeoutMs ?? 5_000 } });
  const removePartial = (): void => rmSync(target, { force: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        void worker.terminate();
        reject(new StorageError(`backup of ${source} was aborted`, { cause: options.signal?.reason }));
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      worker.once('message', (message: { ok: boolean; message?: string; code?: string }) => {
        options.signal?.removeEventListener('abort', onAbort);
        if (message.ok) resolve();
        else reject(new StorageError(`cannot back up ${source} to ${target}: ${message.message ?? 'unknown error'}${message.code === 'SQLITE_FULL' ? ' (the disk is full)' : ''}`));
      });
      worker.once('error', (error) => {
        options.signal?.removeEventListener('abort', onAbort);
        reject(new StorageError(`cannot back up ${source} to ${target}: ${describeError(error)}`, { cause: error }));
      });
    });
  } catch (error) {
    removePartial();
    throw error;
  } finally {
    await worker.terminate();
  }
  return statSync(target).size;
}
