import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createLogger, type Clock, type Interaction, type JobContext, type JobProgress } from '@strata/core';
import { HotSqliteTier } from '@strata/hot-sqlite';
import { sampleInteractions } from '@strata/testing';
import { afterEach } from 'vitest';

export const DAY_MS = 86_400_000;
/** "Now" in most tests: Jan–Mar 2025 are past the 90-day horizon (it falls on 2025-04-16), April onward is not. */
export const NOW = Date.UTC(2025, 6, 15);

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-retention-'));
  made.push(dir);
  return dir;
}

export function openHot(dataDir: string, clock: Clock): HotSqliteTier {
  return HotSqliteTier.open({ file: join(dataDir, 'comprehensive_metrics.db'), writer: 'inline', now: () => clock.now() });
}

/** 600 interactions from 2025-01-10 to 2025-03-25 (to be archived) and 120 from 2025-06-20 on (to stay). */
export function pastAndRecentEvents(): { old: Interaction[]; recent: Interaction[] } {
  return {
    old: sampleInteractions(600, 5, Date.UTC(2025, 0, 10), 74),
    recent: sampleInteractions(120, 6, Date.UTC(2025, 5, 20), 20),
  };
}

export interface RecordedContext extends JobContext {
  progressUpdates: JobProgress[];
}

export function jobContext(clock: Clock, signal: AbortSignal = new AbortController().signal): RecordedContext {
  const progressUpdates: JobProgress[] = [];
  return {
    signal,
    logger: createLogger('silent'),
    clock,
    progress: (progress) => progressUpdates.push(progress),
    progressUpdates,
  };
}

export async function hotEventIds(hot: HotSqliteTier): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const batch of hot.scanInteractions({}, { batchSize: 1_000 })) for (const row of batch) ids.add(row.eventId);
  return ids;
}

/** SHA-256 of every file under `dir` except those whose path matches `skip`, by relative path. */
export function fileDigests(dir: string, skip: RegExp): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (current: string): void => {
    for (const name of readdirSync(current)) {
      const path = join(current, name);
      const rel = relative(dir, path);
      if (skip.test(rel)) continue;
      if (statSync(path).isDirectory()) walk(path);
      else out[rel] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

export function countBy<T>(items: Iterable<T>, key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}
