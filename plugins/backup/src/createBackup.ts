import { hostname } from 'node:os';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { StrataError, describeError, type StorageTier, type TierRole } from '@strata/core';
import { PARTIAL_SUFFIX, backupIdFor } from './backupCatalog.js';
import { BackupCorruptError, type BackupProblem } from './backupErrors.js';
import { acquireBackupLock } from './backupLock.js';
import { MANIFEST_FILE, MANIFEST_FORMAT, MANIFEST_VERSION, serializeManifest, type BackupManifest, type ManifestBody, type ManifestFile } from './backupManifest.js';
import type { KeepPolicy } from './backupOptions.js';
import type { ProgressListener } from './backupProgress.js';
import { writeConfigurationCopy, type ConfigurationSnapshot } from './configurationCopy.js';
import { directoryBytes, fsyncDirectory, fsyncFile, pathExists, sha256File, writeFileAtomically } from './durableFiles.js';
import { applyRotation, type RotationReport } from './rotation.js';
import { inspectSqliteFile, isSqliteFile } from './sqliteInspection.js';
import { unsafePath } from './verifyBackup.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from './packageInfo.js';

export interface CreateBackupOptions {
  /** The tiers to back up, in order; those without `backup` are recorded as skipped. */
  tiers: readonly StorageTier[];
  /** The data dir in force: recorded so a restore elsewhere can map the files into its own data dir. */
  dataDir: string;
  /** Absolute path of the directory backups are kept in. */
  backupsDir: string;
  configuration: ConfigurationSnapshot;
  /** Rotate after the backup completed, under the same lock. Absent: no rotation. */
  rotate?: KeepPolicy;
  now?: () => number;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

/** What `createBackup` did. */
export interface BackupResult {
  id: string;
  /** Absolute path of the completed backup. */
  path: string;
  manifest: BackupManifest;
  /** Bytes written into the backup (every file, manifest excluded). */
  bytes: number;
  files: number;
  durationMs: number;
  /** Tiers that could not be backed up (no `backup` method), with the reason. */
  skippedTiers: Array<{ name: string; role: TierRole; reason: string }>;
  /** Present when rotation ran. */
  rotation?: RotationReport;
}

const COPY_POLL_MS = 500;

/**
 * Takes one backup: every tier copies its files (online: writes continue) into
 * `<backupsDir>/<id>.partial/<tier>/`; every SQLite copy is made a self-contained file, must pass
 * `PRAGMA integrity_check`, and has its rows per table counted; the configuration in force is copied;
 * every file is flushed to disk and checksummed; the manifest is written last, atomically; and only
 * then is the directory renamed to `<id>`. Anything short of that leaves no backup behind: a failure
 * or an abort removes the partial directory, and a crash leaves a `.partial` that rotation removes
 * and restore never considers. Holds the backups lock throughout, so two backups (or a backup and a
 * restore) never run at once on one directory.
 */
export async function createBackup(options: CreateBackupOptions): Promise<BackupResult> {
  const now = options.now ?? Date.now;
  const started = performance.now();
  const createdAt = now();
  options.signal?.throwIfAborted();
  const release = await acquireBackupLock(options.backupsDir, 'a backup');
  let partialDir: string | undefined;
  try {
    const id = await freeId(options.backupsDir, createdAt);
    partialDir = join(options.backupsDir, `${id}${PARTIAL_SUFFIX}`);
    await mkdir(partialDir, { recursive: true });

    const { tiers, skippedTiers, files: tierFiles } = await copyTiers(partialDir, options);
    const configFiles = await writeConfigurationCopy(partialDir, options.configuration);
    const entries = [...tierFiles, ...configFiles.map((path): PendingFile => ({ path, kind: 'config' }))];
    const files = await sealFiles(partialDir, id, entries, options);

    const totalBytes = files.reduce((sum, file) => sum + file.bytes, 0);
    const body: ManifestBody = {
      format: MANIFEST_FORMAT,
      version: MANIFEST_VERSION,
      id,
      createdAt,
      createdAtIso: new Date(createdAt).toISOString(),
      completedAt: now(),
      durationMs: Math.round(performance.now() - started),
      dataDir: options.dataDir,
      host: hostname(),
      writer: { name: PACKAGE_NAME, version: PACKAGE_VERSION },
      tiers: tiers.map((tier) => {
        const own = files.filter((file) => file.kind === 'tier' && file.path.startsWith(`${tier.dir}/`));
        return { ...tier, files: own.length, bytes: own.reduce((sum, file) => sum + file.bytes, 0) };
      }),
      skippedTiers,
      config: { source: options.configuration.source, files: configFiles },
      files,
      totals: { files: files.length, bytes: totalBytes },
    };
    options.signal?.throwIfAborted();
    const manifestText = serializeManifest(body);
    await writeFileAtomically(join(partialDir, MANIFEST_FILE), manifestText);
    const finalDir = join(options.backupsDir, id);
    await rename(partialDir, finalDir);
    partialDir = undefined;
    await fsyncDirectory(options.backupsDir);

    let rotation: RotationReport | undefined;
    try {
      rotation = options.rotate ? await applyRotation(options.backupsDir, options.rotate) : undefined;
    } catch (error) {
      throw new StrataError('STRATA_JOB_FAILED', `backup: ${id} was written and verified, but rotating old backups in ${options.backupsDir} failed: ${describeError(error)}; fix that, then the next backup rotates again`, { cause: error });
    }
    return {
      id,
      path: finalDir,
      manifest: { ...body, manifestSha256: (JSON.parse(manifestText) as BackupManifest).manifestSha256 },
      bytes: totalBytes,
      files: files.length,
      durationMs: performance.now() - started,
      skippedTiers,
      ...(rotation ? { rotation } : {}),
    };
  } catch (error) {
    if (partialDir) await rm(partialDir, { recursive: true, force: true }).catch(() => undefined);
    throw explain(error, options);
  } finally {
    await release();
  }
}

interface PendingFile {
  path: string;
  kind: 'tier' | 'config';
  tier?: string;
  role?: TierRole;
  restoreTo?: string;
}

interface CopiedTiers {
  tiers: Array<{ name: string; role: TierRole; dir: string }>;
  skippedTiers: Array<{ name: string; role: TierRole; reason: string }>;
  files: PendingFile[];
}

async function copyTiers(partialDir: string, options: CreateBackupOptions): Promise<CopiedTiers> {
  const result: CopiedTiers = { tiers: [], skippedTiers: [], files: [] };
  const usedDirs = new Set<string>();
  let copiedBytes = 0;
  for (const tier of options.tiers) {
    options.signal?.throwIfAborted();
    if (!tier.backup) {
      result.skippedTiers.push({ name: tier.name, role: tier.role, reason: `${tier.name} has no backup() method` });
      continue;
    }
    const dir = usedDirs.has(tier.name) ? `${tier.name}-${tier.role}` : tier.name;
    usedDirs.add(dir);
    const tierDir = join(partialDir, dir);
    await mkdir(tierDir, { recursive: true });
    const written = await withCopyProgress(tierDir, (bytes) => options.onProgress?.({ phase: 'copy', item: tier.name, bytes: copiedBytes + bytes }), () =>
      tier.backup!(tierDir, { signal: options.signal }),
    );
    result.tiers.push({ name: tier.name, role: tier.role, dir });
    for (const file of written.files) {
      const problem = unsafePath(file.path.split(sep).join('/')) ?? (isAbsolute(file.restoreTo) ? undefined : `restoreTo ${JSON.stringify(file.restoreTo)} is not absolute`);
      if (problem) throw new StrataError('STRATA_STORAGE_FAILED', `backup: ${tier.name} reported the file ${JSON.stringify(file.path)}, which ${problem}; this is a bug in that tier's backup()`);
      const path = `${dir}/${file.path.split(sep).join('/')}`;
      if (!(await pathExists(join(partialDir, path)))) {
        throw new StrataError('STRATA_STORAGE_FAILED', `backup: ${tier.name} reported ${file.path}, but its backup() did not write it into ${tierDir}; this is a bug in that tier's backup()`);
      }
      result.files.push({ path, kind: 'tier', tier: tier.name, role: tier.role, restoreTo: file.restoreTo });
    }
    copiedBytes += await directoryBytes(tierDir);
  }
  if (result.tiers.length === 0) {
    const names = options.tiers.map((tier) => `${tier.name} (${tier.role})`).join(', ') || 'none';
    throw new StrataError('STRATA_JOB_FAILED', `backup: no tier can be backed up (tiers: ${names}); add a storage plugin whose tier implements backup(), such as hot-sqlite`);
  }
  return result;
}

/** Reports the size of what a tier has written so far while its (opaque) copy runs. */
async function withCopyProgress<T>(directory: string, report: (bytes: number) => void, work: () => Promise<T>): Promise<T> {
  let polling = false;
  const timer = setInterval(() => {
    if (polling) return;
    polling = true;
    directoryBytes(directory)
      .then(report, () => undefined)
      .finally(() => (polling = false));
  }, COPY_POLL_MS);
  timer.unref();
  try {
    return await work();
  } finally {
    clearInterval(timer);
    report(await directoryBytes(directory).catch(() => 0));
  }
}

/**
 * Checks, flushes and checksums every file. SQLite copies first become self-contained
 * rollback-journal files (a WAL beside them is folded in, and the `-wal`/`-shm` entries a tier may
 * have listed disappear), then must pass the integrity check; their row counts go into the manifest.
 */
async function sealFiles(partialDir: string, id: string, pending: PendingFile[], options: CreateBackupOptions): Promise<ManifestFile[]> {
  const problems: BackupProblem[] = [];
  const inspected = new Map<string, ManifestFile['sqlite']>();
  const databases = new Set<string>();
  for (const file of pending) {
    if (file.kind !== 'tier' || !(await isSqliteFile(join(partialDir, file.path)))) continue;
    options.signal?.throwIfAborted();
    databases.add(file.path);
    const inspection = await inspectSqliteFile(join(partialDir, file.path), { signal: options.signal, normalize: true });
    if (inspection.integrity.length !== 1 || inspection.integrity[0] !== 'ok') {
      problems.push({ file: file.path, check: 'integrity_check', message: inspection.integrity.slice(0, 3).join('; ') });
      continue;
    }
    inspected.set(file.path, { integrityCheck: 'ok', tables: inspection.tables });
  }
  if (problems.length > 0) {
    throw new BackupCorruptError(id, problems, 'the copy of a live database is not sound, so nothing was kept; run `PRAGMA integrity_check` on the live database, whose copy this is');
  }
  const kept = pending.filter((file) => !isFoldedCompanion(file.path, databases));
  for (const file of pending) {
    if (!kept.includes(file)) await rm(join(partialDir, file.path), { force: true });
  }
  const sizes = await Promise.all(kept.map((file) => stat(join(partialDir, file.path)).then((stats) => stats.size)));
  const totalBytes = sizes.reduce((sum, bytes) => sum + bytes, 0);
  let done = 0;
  const sealed: ManifestFile[] = [];
  for (const [index, file] of kept.entries()) {
    const absolute = join(partialDir, file.path);
    await fsyncFile(absolute);
    const sha256 = await sha256File(absolute, {
      signal: options.signal,
      onBytes: (bytes) => {
        done += bytes;
        options.onProgress?.({ phase: 'verify', item: file.path, bytes: done, totalBytes });
      },
    });
    const sqlite = inspected.get(file.path);
    sealed.push({
      path: file.path,
      bytes: sizes[index]!,
      sha256,
      kind: file.kind,
      ...(file.tier ? { tier: file.tier } : {}),
      ...(file.role ? { role: file.role } : {}),
      ...(file.restoreTo ? { restoreTo: file.restoreTo, dataDirPath: insideDataDir(options.dataDir, file.restoreTo) } : {}),
      ...(sqlite ? { sqlite } : {}),
    });
  }
  for (const directory of await listDirectories(partialDir)) await fsyncDirectory(directory);
  return sealed;
}

function isFoldedCompanion(path: string, databases: Set<string>): boolean {
  const match = /^(.*)-(wal|shm)$/.exec(path);
  return match !== null && databases.has(match[1]!);
}

function insideDataDir(dataDir: string, restoreTo: string): string | null {
  const inside = relative(dataDir, restoreTo);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) return null;
  return inside.split(sep).join('/');
}

async function listDirectories(root: string): Promise<string[]> {
  const found = [root];
  for (const entry of await readdir(root, { withFileTypes: true })) {
    if (entry.isDirectory()) found.push(...(await listDirectories(join(root, entry.name))));
  }
  return found;
}

async function freeId(backupsDir: string, createdAt: number): Promise<string> {
  for (let attempt = 0; ; attempt += 1) {
    const id = backupIdFor(createdAt, attempt);
    if (!(await pathExists(join(backupsDir, id))) && !(await pathExists(join(backupsDir, `${id}${PARTIAL_SUFFIX}`)))) return id;
  }
}

/** Turns low-level failures into errors that say what happened to the backup and what to do. */
function explain(error: unknown, options: CreateBackupOptions): unknown {
  if (options.signal?.aborted) {
    return new StrataError('STRATA_JOB_FAILED', `backup: aborted (${describeError(options.signal.reason)}); the partial backup was removed and no existing backup was touched`, { cause: error });
  }
  const code = (error as NodeJS.ErrnoException).code;
  const message = describeError(error);
  if (code === 'ENOSPC' || code === 'SQLITE_FULL' || /disk is full|SQLITE_FULL|ENOSPC/.test(message)) {
    return new StrataError('STRATA_DISK_FULL', `backup: the disk holding ${options.backupsDir} is full (${message}); the partial backup was removed; free space or set the backup plugin's dir to another disk`, { cause: error });
  }
  if (error instanceof StrataError) return error;
  return new StrataError('STRATA_STORAGE_FAILED', `backup: failed writing into ${options.backupsDir}: ${message}; the partial backup was removed`, { cause: error });
}
