import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { StrataError, describeError } from '@strata/core';

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/** What `inspectSqliteFile` found. */
export interface SqliteInspection {
  /** `PRAGMA integrity_check` lines: `['ok']` for a sound database, else up to 100 problems. */
  integrity: string[];
  /** Rows per table (SQLite's own and virtual tables excluded); empty when the integrity check failed. */
  tables: Record<string, number>;
}

/** True when the file starts with SQLite's header. */
export async function isSqliteFile(path: string): Promise<boolean> {
  const header = await readHeader(path, 16);
  return header.length === 16 && header.equals(SQLITE_MAGIC);
}

/**
 * True when the header marks the database as WAL (format bytes 18 and 19 are 2). Such a file cannot be
 * opened read-only without SQLite creating `-wal` and `-shm` files beside it, which a backup must not
 * acquire after its checksums were taken.
 */
export async function isWalModeFile(path: string): Promise<boolean> {
  const header = await readHeader(path, 20);
  return header.length === 20 && (header[18] === 2 || header[19] === 2);
}

async function readHeader(path: string, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

// Runs on a worker thread: an integrity check or a count of a large table can take seconds, and a
// backup job runs inside the assistant's server, whose event loop must not wait for it.
// `normalize` rewrites a fresh copy as a rollback-journal database (folding in any WAL), so it is one
// self-contained file that later read-only checks open without creating anything beside it.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
function run() {
  if (workerData.normalize) {
    const writable = new Database(workerData.file, { fileMustExist: true, timeout: 5000 });
    try { writable.pragma('journal_mode = DELETE'); } finally { writable.close(); }
  }
  const db = new Database(workerData.file, { readonly: true, fileMustExist: true });
  try {
    const integrity = db.prepare('PRAGMA integrity_check(100)').pluck().all().map(String);
    const tables = {};
    if (integrity.length === 1 && integrity[0] === 'ok') {
      const names = db
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\\\_%' ESCAPE '\\\\' AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name")
        .pluck()
        .all();
      for (const name of names) tables[name] = db.prepare('SELECT COUNT(*) FROM "' + name.replace(/"/g, '""') + '"').pluck().get();
    }
    return { integrity, tables };
  } finally {
    db.close();
  }
}
try {
  parentPort.postMessage({ ok: true, result: run() });
} catch (error) {
  parentPort.postMessage({ ok: false, message: String((error && error.message) || error), code: error && error.code });
}
`;

interface WorkerAnswer {
  ok: boolean;
  result?: SqliteInspection;
  message?: string;
  code?: string;
}

/**
 * Runs `PRAGMA integrity_check` and counts the rows of every table, on a worker thread, opening the
 * file read-only. A file SQLite cannot read at all (not a database, truncated header) is reported as a
 * failed integrity check rather than thrown, so verification can name it with the other problems.
 * With `normalize`, the file is first converted to a rollback-journal database (see above).
 */
export async function inspectSqliteFile(file: string, options: { signal?: AbortSignal; normalize?: boolean } = {}): Promise<SqliteInspection> {
  options.signal?.throwIfAborted();
  if (!options.normalize && (await isWalModeFile(file))) {
    return { integrity: ['the header marks the file as a WAL database; a backup copy is always a rollback-journal database, so it is not the file that was written'], tables: {} };
  }
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, file, normalize: options.normalize === true } });
  try {
    const answer = await new Promise<WorkerAnswer>((resolve, reject) => {
      const onAbort = (): void => reject(new StrataError('STRATA_JOB_FAILED', `backup: checking ${file} was aborted`, { cause: options.signal?.reason }));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      worker.once('message', (message: WorkerAnswer) => {
        options.signal?.removeEventListener('abort', onAbort);
        resolve(message);
      });
      worker.once('error', (error) => {
        options.signal?.removeEventListener('abort', onAbort);
        reject(new StrataError('STRATA_STORAGE_FAILED', `backup: checking ${file} failed: ${describeError(error)}`, { cause: error }));
      });
    });
    if (answer.ok) return answer.result!;
    if (options.normalize && answer.code !== 'SQLITE_CORRUPT' && answer.code !== 'SQLITE_NOTADB') {
      throw new StrataError('STRATA_STORAGE_FAILED', `backup: cannot prepare the copy ${file}: ${answer.message ?? 'unknown error'}${answer.code === 'SQLITE_FULL' ? ' (the disk is full)' : ''}`);
    }
    return { integrity: [`SQLite cannot read the file: ${answer.message ?? 'unknown error'}${answer.code ? ` (${answer.code})` : ''}`], tables: {} };
  } finally {
    await worker.terminate();
  }
}
