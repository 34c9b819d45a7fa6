import { DiskFullError, StorageError, StrataError, describeError } from '@strata/core';

// The disk-full error is the core's, so every tier reports a full disk with the same code and class.
export { DiskFullError } from '@strata/core';

const NAME = 'historical-sqlite';

/**
 * A SQLite failure as the caller should see it. `what` completes "while …" (`adding source
 * 2025-03-a1b2`) and `retry` says what running again means for this operation.
 */
export function wrapWriteError(error: unknown, file: string, what: string, retry: string): StrataError {
  if (error instanceof StrataError) return error;
  const code = (error as { code?: string }).code ?? '';
  if (code === 'SQLITE_FULL') {
    return new DiskFullError(file, `${NAME}: the disk (or the database size limit) is full while ${what} in ${file}; nothing of it was stored; free space, then ${retry}`, { cause: error });
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new StorageError(`${NAME}: ${file} is read-only while ${what}; make it writable or set dataDir to a writable folder`, { cause: error });
  }
  if (code.startsWith('SQLITE_BUSY')) {
    return new StorageError(`${NAME}: ${file} is locked by another process while ${what}; raise busyTimeoutMs or stop the other writer`, { cause: error });
  }
  return new StorageError(`${NAME}: failed ${what} in ${file}: ${describeError(error)}`, { cause: error });
}
