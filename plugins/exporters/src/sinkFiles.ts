import { createReadStream, createWriteStream } from 'node:fs';
import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

/**
 * File names and durable file steps of the rotating sink. The active file is hidden
 * (`.interactions-<opened>-<pid>.jsonl.part`); sealing renames it to `interactions-<opened>.jsonl`
 * (and gzip turns that into `….jsonl.gz`), so a reader that lists `*.jsonl` / `*.jsonl.gz` only
 * ever sees complete files. Names sort in the order the files were opened.
 */

const PART = /^\.(.+)-(\d+)\.jsonl\.part$/;

/** `20261125T162547123Z`: sortable, and valid in file names everywhere. */
export function fileStamp(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/[-:.]/g, '');
}

export function partFileName(prefix: string, openedAt: number, pid: number): string {
  return `.${prefix}-${fileStamp(openedAt)}-${pid}.jsonl.part`;
}

/** The active file's pid and the stem its sealed file is named after (`interactions-<stamp>`). */
export function parsePartFileName(name: string): { stem: string; pid: number } | undefined {
  const match = PART.exec(name);
  return match ? { stem: match[1]!, pid: Number(match[2]) } : undefined;
}

/** Whether a process with this pid is running (one we may not signal still is). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A sealed name for `stem` not taken yet (`stem.jsonl`, else `stem-1.jsonl`…), checking the gzip name too. */
export async function freeSealedName(dir: string, stem: string): Promise<string> {
  const names = new Set(await readdir(dir));
  for (let attempt = 0; ; attempt += 1) {
    const base = attempt === 0 ? stem : `${stem}-${attempt}`;
    if (!names.has(`${base}.jsonl`) && !names.has(`${base}.jsonl.gz`)) return `${base}.jsonl`;
  }
}

/** Makes renames, creations and removals in `dir` durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * The length of the file up to and including its last `\n`: what is left after a torn last line
 * (a crash in the middle of a write) is cut off. Reads backwards from the end, a block at a time.
 */
export async function completeLinesLength(path: string): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const block = Buffer.alloc(64 * 1024);
    for (let end = size; end > 0; ) {
      const start = Math.max(0, end - block.length);
      const { bytesRead } = await handle.read(block, 0, end - start, start);
      const newline = block.subarray(0, bytesRead).lastIndexOf(10);
      if (newline !== -1) return start + newline + 1;
      end = start;
    }
    return 0;
  } finally {
    await handle.close();
  }
}

/**
 * Compresses `dir/name` to `dir/name.gz` through a temp file (synced, renamed), then removes the
 * original: at every instant one complete copy exists under a final name.
 */
export async function gzipSealedFile(dir: string, name: string, durable: boolean): Promise<string> {
  const source = join(dir, name);
  const target = `${source}.gz`;
  const temp = join(dir, `.${name}.gz.tmp`);
  try {
    await pipeline(createReadStream(source), createGzip(), createWriteStream(temp));
    if (durable) {
      const handle = await open(temp, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
  if (durable) await syncDirectory(dir);
  await rm(source, { force: true });
  return `${name}.gz`;
}

/** Sealed files of `prefix`, oldest first. */
export async function sealedFiles(dir: string, prefix: string): Promise<string[]> {
  const names = await readdir(dir);
  return names.filter((name) => name.startsWith(`${prefix}-`) && (name.endsWith('.jsonl') || name.endsWith('.jsonl.gz'))).sort();
}

export async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}
