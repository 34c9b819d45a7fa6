import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { eraseFromDeadLetters, type DeadLetterErasure } from './deadLetterErasure.js';
import type { Issue } from './errors.js';

/** Where a rejected event came from. */
export type EventSource = { kind: 'file'; file: string; line: number } | { kind: 'api'; method: string } | { kind: 'stream'; name: string; line: number };

export interface DeadLetter {
  /** When it was rejected (ISO-8601). */
  at: string;
  source: EventSource;
  /** One sentence: why it was rejected. */
  reason: string;
  /** Per-field problems, when validation rejected it. */
  issues?: Issue[];
  /** The original line or event as received (scrubbed, when a scrubber is configured). */
  original: string;
  /** True when `original` was cut to the size limit. */
  truncated?: boolean;
}

const MAX_ORIGINAL_CHARS = 256 * 1024;

/**
 * Appends rejected events to `<dataDir>/dead-letter/YYYY-MM-DD.jsonl`, in order, off the caller's
 * path. `flush` waits until everything appended so far is on disk.
 */
export class DeadLetterStore {
  readonly directory: string;
  private pending: string[] = [];
  private pendingFile: string | undefined;
  private writing: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private count = 0;

  constructor(
    dataDir: string,
    private readonly now: () => number,
    /** Applied to `original` and `reason` before they are written, e.g. a PII scrubber. */
    private scrub: (text: string) => string = (text) => text,
  ) {
    this.directory = join(dataDir, 'dead-letter');
  }

  /** How many entries were appended since start. */
  get written(): number {
    return this.count;
  }

  setScrubber(scrub: (text: string) => string): void {
    this.scrub = scrub;
  }

  append(entry: Omit<DeadLetter, 'at' | 'original' | 'truncated'> & { original: string }): void {
    let original = this.scrub(entry.original);
    let truncated: boolean | undefined;
    if (original.length > MAX_ORIGINAL_CHARS) {
      original = original.slice(0, MAX_ORIGINAL_CHARS);
      truncated = true;
    }
    const line: DeadLetter = { at: new Date(this.now()).toISOString(), source: entry.source, reason: this.scrub(entry.reason), original };
    if (entry.issues) line.issues = entry.issues.map((issue) => ({ path: issue.path, message: this.scrub(issue.message) }));
    if (truncated) line.truncated = true;
    const file = this.fileFor(this.now());
    if (this.pendingFile !== undefined && this.pendingFile !== file) this.schedule();
    this.pendingFile = file;
    this.pending.push(`${JSON.stringify(line)}\n`);
    this.count += 1;
    if (this.pending.length === 1) queueMicrotask(() => this.schedule());
  }

  /** Resolves when every appended entry is written; rejects if a write failed. */
  async flush(): Promise<void> {
    this.schedule();
    await this.writing;
    if (this.failure) {
      const failure = this.failure;
      this.failure = undefined;
      throw failure;
    }
  }

  /**
   * Removes every entry of these stored session ids (see `eraseFromDeadLetters`). Entries appended
   * before the call are written first and erased with the rest; entries appended while it runs are
   * written after it.
   */
  async eraseSessions(storedIds: readonly string[]): Promise<DeadLetterErasure> {
    await this.flush();
    const erasure = this.writing.then(() => eraseFromDeadLetters(this.directory, storedIds));
    this.writing = erasure.then(
      () => undefined,
      () => undefined,
    );
    return erasure;
  }

  fileFor(ms: number): string {
    return join(this.directory, `${new Date(ms).toISOString().slice(0, 10)}.jsonl`);
  }

  private schedule(): void {
    if (this.pending.length === 0 || this.pendingFile === undefined) return;
    const text = this.pending.join('');
    const file = this.pendingFile;
    this.pending = [];
    this.writing = this.writing.then(async () => {
      try {
        await mkdir(this.directory, { recursive: true });
        await appendFile(file, text, 'utf8');
      } catch (error) {
        this.failure = error instanceof Error ? error : new Error(String(error));
      }
    });
  }
}

/** JSON.stringify that survives cycles and BigInt, for recording what a caller passed. */
export function safeStringify(value: unknown): string {
  const seen = new WeakSet<object>();
  try {
    return (
      JSON.stringify(value, (_key, inner: unknown) => {
        if (typeof inner === 'bigint') return inner.toString();
        if (typeof inner === 'object' && inner !== null) {
          if (seen.has(inner)) return '[Circular]';
          seen.add(inner);
        }
        return inner;
      }) ?? String(value)
    );
  } catch (error) {
    // String() throws too for some values (an object without a prototype); the record must still be written.
    try {
      return String(value);
    } catch {
      return `[unserializable value: ${error instanceof Error ? error.message : 'unknown error'}]`;
    }
  }
}
