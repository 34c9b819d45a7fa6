import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import type { PluginCatalog } from '@strata/core';
import Database from 'better-sqlite3';
import { afterEach } from 'vitest';
import { runCli } from '../src/index.js';

export const packageDir = resolve(import.meta.dirname, '..');
export const binPath = join(packageDir, 'dist', 'bin.js');
export const fixture = (name: string) => join(packageDir, 'test', 'fixtures', name);

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * A fresh directory removed after the test. `inPackage` puts it under packages/cli so a config file
 * in it can import `@strata/core` through node_modules, as it would in a real project.
 */
export function tempDir(options: { inPackage?: boolean } = {}): string {
  const parent = options.inPackage ? join(packageDir, 'test', '.tmp') : tmpdir();
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, 'strata-cli-'));
  made.push(dir);
  return dir;
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in this process (fast), capturing what it prints. */
export function runInProcess(args: string[], options: { cwd: string; stdin?: string }): Promise<CliRun> {
  return runCaptured(args, options);
}

/** Like runInProcess, with extra plugins resolvable by name. */
export async function runCaptured(args: string[], options: { cwd: string; stdin?: string; catalog?: PluginCatalog }): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['node', 'strata', ...args], {
    cwd: options.cwd,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: Readable.from(options.stdin === undefined ? [] : [options.stdin]),
    handleSignals: false,
    ...(options.catalog ? { catalog: options.catalog } : {}),
  });
  return { code, stdout, stderr };
}

export interface SpawnedCli {
  child: ReturnType<typeof spawn>;
  done: Promise<CliRun & { signal: NodeJS.Signals | null }>;
}

/** Starts the built `strata` binary as a child process. */
export function spawnCli(args: string[], options: { cwd: string; input?: string; nodeArgs?: string[] }): SpawnedCli {
  if (!existsSync(binPath)) throw new Error(`${binPath} is missing; run \`pnpm build\` (or \`npx tsup\` in packages/cli) first`);
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), binPath, ...args], { cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  if (options.input !== undefined) child.stdin!.end(options.input);
  else child.stdin!.end();
  const done = new Promise<CliRun & { signal: NodeJS.Signals | null }>((resolvePromise, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolvePromise({ code: code ?? -1, signal, stdout, stderr }));
  });
  return { child, done };
}

export function runBin(args: string[], options: { cwd: string; input?: string; nodeArgs?: string[] }): Promise<CliRun & { signal: NodeJS.Signals | null }> {
  return spawnCli(args, options).done;
}

/** The last non-empty stdout line, parsed: what `--json` promises. */
export function lastJson<T = Record<string, unknown>>(stdout: string): T {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as T;
}

export interface DeadLetterLine {
  source: { kind: string; file?: string; line?: number };
  reason: string;
  issues?: Array<{ path: string; message: string }>;
  original: string;
}

export function readDeadLetters(dataDir: string): DeadLetterLine[] {
  const dir = join(dataDir, 'dead-letter');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.jsonl'))
    .flatMap((name) => readFileSync(join(dir, name), 'utf8').split('\n').filter(Boolean))
    .map((line) => JSON.parse(line) as DeadLetterLine);
}

export const databaseFile = (dataDir: string) => join(dataDir, 'comprehensive_metrics.db');

/** Rows in the hot tier, read straight from SQLite (read-only), or undefined while the file or table does not exist yet. */
export function countRows(dataDir: string): number | undefined {
  const file = databaseFile(dataDir);
  if (!existsSync(file)) return undefined;
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    return (db.prepare('SELECT COUNT(*) AS n FROM user_interactions').get() as { n: number }).n;
  } catch {
    return undefined;
  } finally {
    db?.close();
  }
}

export function inspectDatabase(dataDir: string): { rows: number; distinctEventIds: number; integrity: string } {
  const db = new Database(databaseFile(dataDir), { readonly: true, fileMustExist: true });
  try {
    const rows = (db.prepare('SELECT COUNT(*) AS n FROM user_interactions').get() as { n: number }).n;
    const distinctEventIds = (db.prepare('SELECT COUNT(DISTINCT event_id) AS n FROM user_interactions').get() as { n: number }).n;
    const integrity = (db.prepare('PRAGMA integrity_check').all() as Array<{ integrity_check: string }>).map((row) => row.integrity_check).join('; ');
    return { rows, distinctEventIds, integrity };
  } finally {
    db.close();
  }
}

export const sleep = (ms: number) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
