import { StrataError } from '@strata/core';
import type { ImportResult } from './importRecords.js';

/** Prefix of every message, so a line in a log says which plugin wrote it. */
export const EXPORTERS_NAME = 'exporters';

/** An option, flag or argument of an export or import is invalid; `field` names it. */
export class ExportOptionError extends StrataError {
  readonly field: string;

  constructor(field: string, reason: string) {
    super('STRATA_VALIDATION_FAILED', `${EXPORTERS_NAME}: ${field} ${reason}`);
    this.field = field;
  }
}

/**
 * A file being imported is malformed as a whole (a CSV quote never closed, a JSON file that is not
 * an array, a CSV header with an unknown column), so reading cannot go on. Records read before the
 * problem were imported; importing the fixed file again skips them as duplicates.
 */
export class ImportFileError extends StrataError {
  readonly file: string;
  /** 1-based line of the problem, when known. */
  readonly line: number | undefined;
  /** What was imported before the problem (set by `importRecords`). */
  partial: ImportResult | undefined;

  constructor(file: string, line: number | undefined, reason: string, options: { cause?: unknown } = {}) {
    super('STRATA_VALIDATION_FAILED', `${EXPORTERS_NAME}: ${file}${line === undefined ? '' : ` line ${line}`}: ${reason}`, options);
    this.file = file;
    this.line = line;
  }
}

/** Writing an export or a sink file failed; the message names the file and what to do. */
export class ExportWriteError extends StrataError {
  readonly file: string;

  constructor(file: string, reason: string, options: { cause?: unknown } = {}) {
    const code = (options.cause as NodeJS.ErrnoException | undefined)?.code;
    super(code === 'ENOSPC' || code === 'EDQUOT' ? 'STRATA_DISK_FULL' : 'STRATA_STORAGE_FAILED', `${EXPORTERS_NAME}: ${reason} (${file})`, options);
    this.file = file;
  }
}

/** Why a file-system call failed, in words a user can act on. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'the disk is full';
    case 'EROFS':
      return 'the file system is read-only';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
