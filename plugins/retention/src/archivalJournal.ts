import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { MonthKey } from '@strata/core';
import { writeFileAtomic } from './atomicFile.js';
import { RetentionJobError } from './errors.js';

/**
 * How far one partition's move got. `planned`: the id was chosen and the partition may be being
 * written; `written`: the archive holds it with `rows`/`rowsSha256`; `aggregated`: the warm tier
 * holds its aggregates, and hot-tier deletes may have started.
 */
export type JournalPhase = 'planned' | 'written' | 'aggregated';

/** A partition planned but not yet settled (its rows may still be in the hot tier). */
export interface JournalEntry {
  id: string;
  month: MonthKey;
  phase: JournalPhase;
  /** Known from `written` on: what the archive must hold. */
  rows?: number;
  rowsSha256?: string;
  /** Epoch ms (job clock). */
  plannedAt: number;
}

interface JournalFile {
  version: 1;
  pending: JournalEntry[];
}

export const JOURNAL_FILE = 'journal.json';

/**
 * The list of partitions whose move is in progress, in `<stateDir>/journal.json`. Each change
 * rewrites the file atomically (temp file, fsync, rename, fsync of the directory), so after a crash
 * it holds the state before or after the last change. An entry is written before its partition is,
 * and removed only once its rows are gone from the hot tier, so every partition that may share rows
 * with the hot tier is listed.
 */
export class ArchivalJournal {
  private entries: JournalEntry[];

  private constructor(
    readonly file: string,
    entries: JournalEntry[],
  ) {
    this.entries = entries;
  }

  static async open(stateDir: string): Promise<ArchivalJournal> {
    const file = join(stateDir, JOURNAL_FILE);
    await removeStaleTemporaries(stateDir);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new ArchivalJournal(file, []);
      throw new RetentionJobError(`retention: cannot read the archival journal ${file} (${(error as Error).message}); make the data dir readable`, { cause: error });
    }
    return new ArchivalJournal(file, parseJournal(text, file));
  }

  get pending(): readonly JournalEntry[] {
    return this.entries;
  }

  find(id: string): JournalEntry | undefined {
    return this.entries.find((entry) => entry.id === id);
  }

  /** Adds the entry, or replaces the one with its id. */
  async put(entry: JournalEntry): Promise<void> {
    const others = this.entries.filter((existing) => existing.id !== entry.id);
    await this.save([...others, entry]);
  }

  async remove(id: string): Promise<void> {
    if (!this.find(id)) return;
    await this.save(this.entries.filter((entry) => entry.id !== id));
  }

  private async save(entries: JournalEntry[]): Promise<void> {
    const content: JournalFile = { version: 1, pending: entries };
    await writeFileAtomic(this.file, `${JSON.stringify(content, null, 2)}\n`);
    this.entries = entries;
  }
}

function parseJournal(text: string, file: string): JournalEntry[] {
  const broken = (why: string): never => {
    throw new RetentionJobError(
      `retention: the archival journal ${file} is not valid (${why}); it is only ever replaced whole, so it was edited or damaged by something else — restore it from a backup, or, if no archival run can have been interrupted, delete it`,
    );
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return broken((error as Error).message);
  }
  const content = parsed as Partial<JournalFile> | null;
  if (!content || content.version !== 1 || !Array.isArray(content.pending)) return broken('expected { "version": 1, "pending": [...] }');
  content.pending.forEach((entry, index) => {
    const valid =
      typeof entry?.id === 'string' &&
      typeof entry.month === 'string' &&
      ['planned', 'written', 'aggregated'].includes(entry.phase) &&
      typeof entry.plannedAt === 'number' &&
      (entry.rows === undefined || typeof entry.rows === 'number') &&
      (entry.rowsSha256 === undefined || typeof entry.rowsSha256 === 'string');
    if (!valid) broken(`pending[${index}] is not an entry { id, month, phase, plannedAt, rows?, rowsSha256? }`);
  });
  return content.pending;
}

/** A crash between writing a temporary file and renaming it leaves the temporary behind. */
async function removeStaleTemporaries(stateDir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(stateDir);
  } catch {
    return;
  }
  await Promise.all(names.filter((name) => name.startsWith(`.${JOURNAL_FILE}.`) && name.endsWith('.tmp')).map((name) => rm(join(stateDir, name), { force: true })));
}
