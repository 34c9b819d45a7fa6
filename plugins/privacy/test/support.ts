import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Logger } from '@strata/core';

const root = join(import.meta.dirname, '..', '..', '..');

/** A temporary directory, removed by the returned cleanup. */
export function temporaryDirectory(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `strata-privacy-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A pino logger (the core's own pino) whose every line is kept in memory, to search the logs. */
export function capturingLogger(): { logger: Logger; text(): string } {
  const pino = createRequire(join(root, 'packages', 'core', 'package.json'))('pino') as (options: object, stream: { write(line: string): void }) => Logger;
  const lines: string[] = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
  return { logger, text: () => lines.join('') };
}

interface SqliteDatabase {
  prepare(sql: string): { all(): Array<Record<string, unknown>> };
  close(): void;
}

/** better-sqlite3 as the hot tier resolves it: the tests read what the tier wrote, not what it says it wrote. */
export function openDatabase(file: string): SqliteDatabase {
  const Database = createRequire(join(root, 'plugins', 'hot-sqlite', 'package.json'))('better-sqlite3') as new (file: string, options: object) => SqliteDatabase;
  return new Database(file, { readonly: true });
}

/** Every file under `directory` (recursively) with its bytes, `.gz` files decompressed. */
export function readEveryFile(directory: string): Array<{ file: string; bytes: Buffer }> {
  const files: Array<{ file: string; bytes: Buffer }> = [];
  for (const entry of readdirSync(directory)) {
    const path = join(directory, entry);
    if (statSync(path).isDirectory()) files.push(...readEveryFile(path));
    else {
      const bytes = readFileSync(path);
      files.push({ file: path, bytes: path.endsWith('.gz') ? gunzipSync(bytes) : bytes });
    }
  }
  return files;
}

/** The raw values found in `haystacks`, each with where: the test expects none. */
export function findLeaks(values: Iterable<string>, haystacks: ReadonlyArray<{ file: string; bytes: Buffer }>): string[] {
  const leaks: string[] = [];
  for (const value of new Set(values)) {
    // Stored text may be the normalised (lower-case) query, and JSON escapes quotes and slashes.
    const forms = new Set([value, value.toLowerCase(), JSON.stringify(value).slice(1, -1)]);
    for (const { file, bytes } of haystacks) {
      for (const form of forms) {
        if (bytes.includes(Buffer.from(form, 'utf8'))) {
          leaks.push(`${JSON.stringify(value)} in ${file}`);
          break;
        }
      }
    }
  }
  return leaks;
}
