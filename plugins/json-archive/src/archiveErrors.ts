import { StorageError, StrataError, describeError } from '@strata/core';

/** Prefix of every message, so a line in a log says which plugin wrote it. */
export const ARCHIVE_NAME = 'json-archive';

/** A partition file does not match its manifest entry (truncated, altered, missing) or cannot be decoded. */
export class ArchiveCorruptError extends StrataError {
  /** The partition, when the problem belongs to one. */
  readonly partitionId: string | undefined;
  readonly file: string;

  constructor(message: string, file: string, partitionId?: string, options: { cause?: unknown } = {}) {
    super('STRATA_ARCHIVE_CORRUPT', message, options);
    this.file = file;
    this.partitionId = partitionId;
  }
}

/** An argument or option is invalid; `field` names it. */
export class ArchiveInputError extends StrataError {
  readonly field: string;

  constructor(field: string, reason: string) {
    super('STRATA_VALIDATION_FAILED', `${ARCHIVE_NAME}: ${field} ${reason}`);
    this.field = field;
  }
}

/** No partition has this id. */
export class PartitionNotFoundError extends StrataError {
  readonly partitionId: string;

  constructor(id: string, dir: string) {
    super('STRATA_NOT_FOUND', `${ARCHIVE_NAME}: no partition "${id}" in ${dir}; list the partitions with listPartitions()`);
    this.partitionId = id;
  }
}

/** A partition id is already stored with other rows (or in another month): ids are never reused for different data. */
export class PartitionConflictError extends StorageError {
  readonly partitionId: string;

  constructor(id: string, reason: string) {
    super(`${ARCHIVE_NAME}: partition "${id}" already exists ${reason}; a partition is immutable, so choose a new id for different rows`);
    this.partitionId = id;
  }
}

/** The disk (or quota) filled up while writing; nothing of the write was committed. */
export class ArchiveDiskFullError extends StrataError {
  constructor(what: string, path: string, cause: unknown) {
    super('STRATA_DISK_FULL', `${ARCHIVE_NAME}: the disk is full while ${what} (${path}); nothing of it was committed; free space and run it again`, { cause });
  }
}

/** Turns a file-system error met while `what` (e.g. `writing partition "x"`) into an error that says what to do. */
export function archiveWriteError(error: unknown, what: string, path: string): Error {
  // Only file-system errors are explained here; anything else (an abort, an error thrown by the
  // caller's rows) reaches the caller as it was thrown.
  if (error instanceof StrataError || typeof (error as NodeJS.ErrnoException | undefined)?.syscall !== 'string') {
    return error instanceof Error ? error : new StorageError(`${ARCHIVE_NAME}: failed ${what} (${path}): ${describeError(error)}`, { cause: error });
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new ArchiveDiskFullError(what, path, error);
  if (code === 'ENOTDIR') {
    return new StorageError(`${ARCHIVE_NAME}: ${path} (or a folder above it) is a file, not a directory, while ${what}; set the dir option to a folder`, { cause: error });
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new StorageError(`${ARCHIVE_NAME}: cannot write ${path} while ${what} (${code}); make the archive dir writable or set the dir option to a writable folder`, { cause: error });
  }
  return new StorageError(`${ARCHIVE_NAME}: failed ${what} (${path}): ${describeError(error)}`, { cause: error });
}

/** The error an aborted operation rejects with: the signal's reason when it is an Error. */
export function abortError(signal: AbortSignal): Error {
  if (signal.reason instanceof Error) return signal.reason;
  return new DOMException('the operation was aborted', 'AbortError');
}
