import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleInteractions } from '@strata/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JsonArchive } from '../src/index.js';

const packageDir = join(import.meta.dirname, '..');
const fixture = join(import.meta.dirname, 'fixtures', 'crashingChange.mjs');
const MONTH = '2025-12';

/** The child runs the built package; a build older than the sources would test old code. */
function assertFreshBuild(): void {
  const built = join(packageDir, 'dist', 'index.js');
  let builtAt: number;
  try {
    builtAt = statSync(built).mtimeMs;
  } catch {
    throw new Error(`${built} is missing: run \`pnpm --filter @strata/json-archive build\` before this test`);
  }
  const newest = Math.max(...readdirSync(join(packageDir, 'src')).map((name) => statSync(join(packageDir, 'src', name)).mtimeMs));
  if (newest > builtAt) throw new Error(`${built} is older than src/: run \`pnpm --filter @strata/json-archive build\` before this test`);
}

let directory: string;
let archiveDir: string;
let rowsFile: string;
const rows = sampleInteractions(400, 21, Date.UTC(2025, 11, 2), 20);
const erasedSession = rows[0]!.sessionId;

beforeEach(() => {
  assertFreshBuild();
  directory = mkdtempSync(join(tmpdir(), 'json-archive-crash-'));
  archiveDir = join(directory, 'archive');
  rowsFile = join(directory, 'rows.json');
  writeFileSync(rowsFile, JSON.stringify(rows));
});

afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

/** Runs the change in a child that SIGKILLs itself at `point`; fails if it exits any other way. */
async function crashAt(operation: 'write' | 'rewrite' | 'delete', point: string): Promise<void> {
  const child = spawn(process.execPath, [fixture, archiveDir, operation, point, rowsFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const outcome = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  expect(outcome, `the child should have killed itself at ${point}: ${stderr}`).toEqual({ code: null, signal: 'SIGKILL' });
}

async function rowsOf(archive: JsonArchive, id: string) {
  const out = [];
  for await (const batch of archive.readPartition(id)) out.push(...batch);
  return out;
}

/** Files other than manifests and committed partitions: what a crash could have left behind. */
function strayFiles(archive: JsonArchive, committed: string[]): string[] {
  const stray: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name !== 'manifest.json' && !committed.includes(entry.name)) stray.push(path);
    }
  };
  walk(archive.dir);
  return stray;
}

describe('a partition write killed with SIGKILL', () => {
  for (const point of ['mid-stream', 'temp-synced', 'renamed']) {
    it(`leaves no partition when killed at ${point}, and the id can be written afterwards`, async () => {
      await crashAt('write', point);
      const archive = await JsonArchive.open({ dir: archiveDir });
      expect(await archive.listPartitions()).toEqual([]);
      const recovered = point === 'renamed' ? archive.recovery.removedOrphans : archive.recovery.removedTempFiles;
      expect(recovered).toHaveLength(1);
      expect(strayFiles(archive, [])).toEqual([]);
      const partition = await archive.writePartition('crash-p', MONTH, [rows]);
      expect(partition.rows).toBe(rows.length);
      expect(await rowsOf(archive, 'crash-p')).toEqual(rows);
      await archive.close();
    });
  }

  it('keeps the whole partition when killed right after the manifest commit', async () => {
    await crashAt('write', 'committed');
    const archive = await JsonArchive.open({ dir: archiveDir });
    const [partition] = await archive.listPartitions();
    expect(partition).toMatchObject({ id: 'crash-p', rows: rows.length });
    expect((await archive.verifyPartition('crash-p')).ok).toBe(true);
    expect(await rowsOf(archive, 'crash-p')).toEqual(rows);
    // The retried move is the no-op retention relies on.
    expect(await archive.writePartition('crash-p', MONTH, [rows])).toEqual(partition);
    await archive.close();
  });
});

describe('a rewrite (erasure) killed with SIGKILL', () => {
  async function seed(): Promise<string> {
    const archive = await JsonArchive.open({ dir: archiveDir });
    const partition = await archive.writePartition('crash-p', MONTH, [rows]);
    await archive.close();
    return partition.fileSha256;
  }

  for (const point of ['temp-synced', 'renamed']) {
    it(`leaves the partition as it was when killed at ${point}`, async () => {
      const before = await seed();
      await crashAt('rewrite', point);
      const archive = await JsonArchive.open({ dir: archiveDir });
      const [partition] = await archive.listPartitions();
      expect(partition?.fileSha256).toBe(before);
      expect((await archive.verifyPartition('crash-p')).ok).toBe(true);
      expect(await rowsOf(archive, 'crash-p')).toEqual(rows);
      expect(strayFiles(archive, ['crash-p.jsonl.gz'])).toEqual([]);
      await archive.close();
    });
  }

  for (const point of ['committed', 'old-file-removed']) {
    it(`holds the rewritten partition, verified, when killed at ${point}`, async () => {
      const before = await seed();
      await crashAt('rewrite', point);
      const archive = await JsonArchive.open({ dir: archiveDir });
      const [partition] = await archive.listPartitions();
      expect(partition?.fileSha256).not.toBe(before);
      expect((await archive.verifyPartition('crash-p')).ok).toBe(true);
      expect(await rowsOf(archive, 'crash-p')).toEqual(rows.filter((row) => row.sessionId !== erasedSession));
      expect(strayFiles(archive, ['crash-p~1.jsonl.gz'])).toEqual([]);
      await archive.close();
    });
  }
});

describe('a delete killed with SIGKILL', () => {
  it('leaves the partition deleted, and its file removed on the next open, when killed after the commit', async () => {
    const archive = await JsonArchive.open({ dir: archiveDir });
    await archive.writePartition('crash-p', MONTH, [rows]);
    await archive.close();
    await crashAt('delete', 'committed');
    const reopened = await JsonArchive.open({ dir: archiveDir });
    expect(await reopened.listPartitions()).toEqual([]);
    expect(reopened.recovery.removedOrphans).toHaveLength(1);
    expect(strayFiles(reopened, [])).toEqual([]);
    await reopened.close();
  });
});
