import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DELETING_SUFFIX, listBackups } from './backupCatalog.js';
import type { KeepPolicy } from './backupOptions.js';
import { fsyncDirectory } from './durableFiles.js';

/** A complete backup as rotation sees it. */
export interface RotationCandidate {
  id: string;
  /** Epoch ms the backup was taken (from its manifest). */
  createdAt: number;
}

export interface RotationPlan {
  /** Backups to keep, newest first, each with the rules that keep it. */
  keep: Array<{ id: string; reasons: string[] }>;
  /** Backups no rule selects, newest first. */
  remove: string[];
}

/**
 * Decides which complete backups a policy keeps. Newest first: `last` keeps the N newest; `daily`
 * keeps the newest backup of each of the N most recent UTC days that have one; `weekly` (ISO weeks)
 * and `monthly` likewise. A backup kept by any rule stays. The newest backup always stays, whatever
 * the policy says, so rotation can never leave no backup behind.
 */
export function planRotation(candidates: readonly RotationCandidate[], keep: KeepPolicy): RotationPlan {
  const newestFirst = [...candidates].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
  const reasons = new Map<string, string[]>(newestFirst.map((candidate) => [candidate.id, []]));
  if (newestFirst[0]) reasons.get(newestFirst[0].id)!.push('newest');
  newestFirst.slice(0, keep.last).forEach((candidate, index) => reasons.get(candidate.id)!.push(`last ${index + 1}`));
  const periodRules: Array<[string, number, (epochMs: number) => string]> = [
    ['daily', keep.daily, dayKey],
    ['weekly', keep.weekly, isoWeekKey],
    ['monthly', keep.monthly, monthKey],
  ];
  for (const [rule, count, keyOf] of periodRules) {
    const seen = new Set<string>();
    for (const candidate of newestFirst) {
      if (seen.size >= count) break;
      const key = keyOf(candidate.createdAt);
      if (seen.has(key)) continue;
      seen.add(key);
      reasons.get(candidate.id)!.push(`${rule} ${key}`);
    }
  }
  const plan: RotationPlan = { keep: [], remove: [] };
  for (const candidate of newestFirst) {
    const why = reasons.get(candidate.id)!;
    if (why.length > 0) plan.keep.push({ id: candidate.id, reasons: why });
    else plan.remove.push(candidate.id);
  }
  return plan;
}

function dayKey(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

function monthKey(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 7);
}

/** ISO 8601 week (`2026-W01`), in UTC: weeks start on Monday; week 1 holds the year's first Thursday. */
export function isoWeekKey(epochMs: number): string {
  const date = new Date(epochMs);
  const day = date.getUTCDay() || 7;
  // The Thursday of this week decides the ISO year.
  const thursday = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 4 - day);
  const year = new Date(thursday).getUTCFullYear();
  const week = Math.floor((thursday - Date.UTC(year, 0, 1)) / 86_400_000 / 7) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** What a rotation did. */
export interface RotationReport {
  kept: Array<{ id: string; reasons: string[] }>;
  /** Complete backups removed because no rule keeps them. */
  removed: string[];
  /** Incomplete backups removed (no manifest, or interrupted while being written or deleted). */
  removedIncomplete: string[];
  /** Backups whose manifest cannot be trusted: left in place for a person to look at, never counted. */
  damaged: Array<{ id: string; problem: string }>;
}

/**
 * Applies the policy in `backupsDir`. The caller holds the backups lock, so no backup is being
 * written there: every incomplete one is debris of a crash and is removed. A backup is deleted by
 * renaming it to `<id>.deleting` first, so one half-deleted by a crash is never mistaken for complete.
 */
export async function applyRotation(backupsDir: string, keep: KeepPolicy): Promise<RotationReport> {
  const entries = await listBackups(backupsDir);
  const complete = entries.filter((entry) => entry.status === 'complete');
  const plan = planRotation(
    complete.map((entry) => ({ id: entry.id, createdAt: entry.manifest!.createdAt })),
    keep,
  );
  const report: RotationReport = { kept: plan.keep, removed: [], removedIncomplete: [], damaged: [] };
  for (const id of plan.remove) {
    const entry = complete.find((candidate) => candidate.id === id)!;
    await removeBackupDirectory(backupsDir, entry.path, id);
    report.removed.push(id);
  }
  for (const entry of entries) {
    if (entry.status === 'incomplete') {
      await removeBackupDirectory(backupsDir, entry.path, entry.id);
      report.removedIncomplete.push(entry.path.slice(backupsDir.length + 1));
    } else if (entry.status === 'damaged') {
      report.damaged.push({ id: entry.id, problem: entry.problem ?? 'damaged' });
    }
  }
  return report;
}

async function removeBackupDirectory(backupsDir: string, path: string, id: string): Promise<void> {
  let doomed = path;
  if (!path.endsWith(DELETING_SUFFIX)) {
    doomed = join(backupsDir, `${id}${DELETING_SUFFIX}`);
    await rm(doomed, { recursive: true, force: true });
    await rename(path, doomed);
    await fsyncDirectory(backupsDir);
  }
  await rm(doomed, { recursive: true, force: true });
}
