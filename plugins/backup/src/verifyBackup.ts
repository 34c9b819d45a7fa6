import { stat } from 'node:fs/promises';
import { isAbsolute, join, normalize, sep } from 'node:path';
import type { BackupEntry } from './backupCatalog.js';
import type { BackupProblem } from './backupErrors.js';
import { MANIFEST_FILE, type BackupManifest, type ManifestFile } from './backupManifest.js';
import type { ProgressListener } from './backupProgress.js';
import { sha256File } from './durableFiles.js';
import { inspectSqliteFile } from './sqliteInspection.js';

/** The outcome of verifying one backup. */
export interface VerificationReport {
  id: string;
  path: string;
  ok: boolean;
  /** Every failed check, each naming its file; empty when ok. */
  problems: BackupProblem[];
  /** Files checked and their total size. */
  files: number;
  bytes: number;
  durationMs: number;
  /** The manifest, when it could be read. */
  manifest?: BackupManifest;
}

export interface VerifyOptions {
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

/**
 * Checks a backup against its manifest: the manifest itself (intact, see `parseManifest`), then every
 * file — present, the recorded size, the recorded SHA-256 — and every SQLite database again with
 * `PRAGMA integrity_check` and the rows of each table against the counts recorded when it was taken.
 * Every problem is collected; nothing stops at the first.
 */
export async function verifyBackup(entry: BackupEntry, options: VerifyOptions = {}): Promise<VerificationReport> {
  const started = performance.now();
  const report = (problems: BackupProblem[], manifest?: BackupManifest): VerificationReport => ({
    id: entry.id,
    path: entry.path,
    ok: problems.length === 0,
    problems,
    files: manifest?.files.length ?? 0,
    bytes: manifest?.totals.bytes ?? 0,
    durationMs: performance.now() - started,
    ...(manifest ? { manifest } : {}),
  });
  if (entry.status !== 'complete' || !entry.manifest) {
    return report([{ file: MANIFEST_FILE, check: 'manifest', message: entry.problem ?? 'missing' }]);
  }
  const manifest = entry.manifest;
  const problems: BackupProblem[] = [];
  const totalBytes = manifest.files.reduce((sum, file) => sum + file.bytes, 0);
  let done = 0;
  for (const file of manifest.files) {
    options.signal?.throwIfAborted();
    const before = done;
    problems.push(
      ...(await verifyFile(entry.path, file, {
        signal: options.signal,
        onBytes: (bytes) => {
          done += bytes;
          options.onProgress?.({ phase: 'verify', item: file.path, bytes: done, totalBytes });
        },
      })),
    );
    done = before + file.bytes;
  }
  return report(problems, manifest);
}

/** The problems of one file of a backup (empty when it is sound). */
export async function verifyFile(backupDir: string, file: ManifestFile, options: { signal?: AbortSignal; onBytes?(bytes: number): void } = {}): Promise<BackupProblem[]> {
  const pathProblem = unsafePath(file.path);
  if (pathProblem) return [{ file: file.path, check: 'path', message: pathProblem }];
  const absolute = join(backupDir, file.path);
  let size: number;
  try {
    const stats = await stat(absolute);
    if (!stats.isFile()) return [{ file: file.path, check: 'missing', message: 'is not a regular file' }];
    size = stats.size;
  } catch (error) {
    return [{ file: file.path, check: 'missing', message: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file is not there' : (error as Error).message }];
  }
  if (size !== file.bytes) return [{ file: file.path, check: 'size', message: `is ${size} bytes; the manifest recorded ${file.bytes}` }];
  const problems: BackupProblem[] = [];
  const actual = await sha256File(absolute, options);
  if (actual !== file.sha256) problems.push({ file: file.path, check: 'sha256', message: `content hashes to ${actual}; the manifest recorded ${file.sha256}` });
  if (file.sqlite) problems.push(...(await checkDatabase(absolute, file, options.signal)));
  return problems;
}

async function checkDatabase(absolute: string, file: ManifestFile, signal: AbortSignal | undefined): Promise<BackupProblem[]> {
  const inspection = await inspectSqliteFile(absolute, { signal });
  if (inspection.integrity.length !== 1 || inspection.integrity[0] !== 'ok') {
    const shown = inspection.integrity.slice(0, 3).join('; ');
    const more = inspection.integrity.length > 3 ? ` (and ${inspection.integrity.length - 3} more)` : '';
    return [{ file: file.path, check: 'integrity_check', message: `${shown}${more}` }];
  }
  const recorded = file.sqlite!.tables;
  const differences: string[] = [];
  for (const table of new Set([...Object.keys(recorded), ...Object.keys(inspection.tables)])) {
    const expected = recorded[table];
    const found = inspection.tables[table];
    if (expected === found) continue;
    differences.push(`${table}: ${found ?? 'missing'} rows, recorded ${expected ?? 'none (table not recorded)'}`);
  }
  return differences.length ? [{ file: file.path, check: 'row_counts', message: differences.join('; ') }] : [];
}

/** A manifest path must stay inside the backup: relative, normalised, no `..`. */
export function unsafePath(path: string): string | undefined {
  if (isAbsolute(path) || /^[a-zA-Z]:/.test(path)) return 'is absolute; a backup holds only relative paths';
  const native = path.split('/').join(sep);
  if (normalize(native) !== native || path.split('/').some((part) => part === '..' || part === '.' || part === '')) {
    return 'is not a plain relative path inside the backup';
  }
  return undefined;
}
