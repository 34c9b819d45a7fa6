import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Operation, Principal } from './access.js';

/** One line of the audit log. */
export interface AuditEntry {
  /** ISO-8601. */
  at: string;
  principal: string;
  role: string;
  operation: Operation;
  allowed: boolean;
  /** What was asked for: a range, a job name, a pseudonymised subject… never raw personal data. */
  target?: Record<string, unknown>;
  /** For an allowed operation that then ran: what it did (rows removed…). */
  outcome?: Record<string, unknown>;
  /** Why it was denied. */
  reason?: string;
}

/**
 * Appends who did what and when, allowed or denied, to `<dataDir>/audit/YYYY-MM.jsonl`, in order,
 * off the caller's path. `flush` waits until everything appended so far is on disk.
 */
export class AuditLog {
  readonly directory: string;
  private pending: Array<{ file: string; line: string }> = [];
  private writing: Promise<void> = Promise.resolve();
  private failure: Error | undefined;

  constructor(
    dataDir: string,
    private readonly now: () => number,
  ) {
    this.directory = join(dataDir, 'audit');
  }

  record(principal: Principal, operation: Operation, details: Omit<AuditEntry, 'at' | 'principal' | 'role' | 'operation'>): void {
    const at = this.now();
    const entry: AuditEntry = { at: new Date(at).toISOString(), principal: principal.name, role: principal.role, operation, ...details };
    this.pending.push({ file: join(this.directory, `${entry.at.slice(0, 7)}.jsonl`), line: `${JSON.stringify(entry)}\n` });
    if (this.pending.length === 1) queueMicrotask(() => this.schedule());
  }

  /** Resolves when every entry recorded so far is written; rejects if a write failed. */
  async flush(): Promise<void> {
    this.schedule();
    await this.writing;
    if (this.failure) throw this.failure;
  }

  private schedule(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.writing = this.writing.then(async () => {
      try {
        await mkdir(this.directory, { recursive: true });
        // Entries of one file are appended together; a batch spanning a month boundary writes two files.
        const byFile = new Map<string, string[]>();
        for (const { file, line } of batch) byFile.set(file, [...(byFile.get(file) ?? []), line]);
        for (const [file, lines] of byFile) await appendFile(file, lines.join(''), { mode: 0o600 });
      } catch (error) {
        this.failure ??= new Error(`cannot write the audit log under ${this.directory}: ${(error as Error).message}`);
      }
    });
  }
}
