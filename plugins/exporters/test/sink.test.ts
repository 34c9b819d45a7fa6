import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PermanentError, RetryableError, type Interaction } from '@strata/core';
import { sampleInteractions } from '@strata/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ExportersOptionsSchema, RotatingJsonlSink, exportersPlugin, importFile, createExportRegistry } from '../src/index.js';
import { bundleChildScript } from './childScript.js';
import { ingestAll, openStrata, tempDir } from './helpers.js';

const signal = new AbortController().signal;
const sinks: RotatingJsonlSink[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const sink of sinks.splice(0)) await sink.close().catch(() => undefined);
});

function openSink(options: ConstructorParameters<typeof RotatingJsonlSink>[0]): RotatingJsonlSink {
  const sink = new RotatingJsonlSink(options);
  sinks.push(sink);
  return sink;
}

function batches(count: number, size: number): Interaction[][] {
  return Array.from({ length: count }, (_, batch) => sampleInteractions(size, batch + 1).map((event, index) => ({ ...event, eventId: `b${batch}-${index}` })));
}

/** Every line of every sealed file, oldest file first (gzip files decompressed). */
function sealedLines(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => !name.startsWith('.'))
    .sort()
    .flatMap((name) => {
      const bytes = readFileSync(join(dir, name));
      return (name.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8').split('\n').filter(Boolean);
    });
}

describe('rotating JSONL sink', () => {
  it('appends each batch as JSON lines and seals a file before a batch would take it past maxBytes', async () => {
    const dir = tempDir();
    const sink = openSink({ dir, maxBytes: 20_000, maxAgeMs: null });
    const input = batches(12, 10);
    for (const batch of input) await sink.consume(batch, signal);
    await sink.close();
    const files = readdirSync(dir);
    expect(files.every((name) => /^interactions-\d{8}T\d{9}Z(-\d+)?\.jsonl$/.test(name))).toBe(true);
    expect(files.length).toBeGreaterThan(2);
    for (const name of files) expect(statSync(join(dir, name)).size).toBeLessThanOrEqual(20_000);
    expect(sealedLines(dir)).toEqual(input.flat().map((event) => JSON.stringify(event)));
  });

  it('gives a batch larger than maxBytes a file of its own rather than splitting it', async () => {
    const dir = tempDir();
    const sink = openSink({ dir, maxBytes: 1_024, maxAgeMs: null });
    for (const batch of batches(3, 10)) await sink.consume(batch, signal);
    await sink.close();
    expect(readdirSync(dir)).toHaveLength(3);
  });

  it('seals a file once it is maxAgeMs old: on the next batch, or by its timer when no batch comes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let now = Date.UTC(2026, 0, 1);
    const dir = tempDir();
    const sink = openSink({ dir, maxAgeMs: 60_000, now: () => now });
    const [first, second, third] = batches(3, 5);
    await sink.consume(first!, signal);
    now += 61_000;
    await sink.consume(second!, signal);
    expect(readdirSync(dir).filter((name) => !name.startsWith('.'))).toHaveLength(1);
    await sink.consume(third!, signal);
    vi.advanceTimersByTime(60_000);
    await sink.flush();
    expect(readdirSync(dir).filter((name) => !name.startsWith('.'))).toHaveLength(2);
    expect(readdirSync(dir).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('compresses sealed files when gzip is on, and keeps only maxFiles of them', async () => {
    const dir = tempDir();
    const sink = openSink({ dir, maxBytes: 4_000, maxAgeMs: null, gzip: true, maxFiles: 2 });
    const input = batches(5, 5);
    for (const batch of input) await sink.consume(batch, signal);
    await sink.close();
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(2);
    expect(files.every((name) => name.endsWith('.jsonl.gz'))).toBe(true);
    expect(sealedLines(dir)).toEqual(input.slice(3).flat().map((event) => JSON.stringify(event)));
  });

  it('removes an empty active file on close and refuses batches after it', async () => {
    const dir = tempDir();
    const sink = openSink({ dir });
    await sink.open();
    await sink.close();
    await sink.close();
    expect(readdirSync(dir)).toEqual([]);
    await expect(sink.consume(batches(1, 1)[0]!, signal)).rejects.toBeInstanceOf(PermanentError);
  });

  it('seals what a crashed process left, cutting off its torn last line, and leaves a running process its file', async () => {
    const dir = tempDir();
    const lines = batches(1, 3)[0]!.map((event) => JSON.stringify(event));
    const deadPid = 2 ** 22 + 12_345;
    writeFileSync(join(dir, `.interactions-20260101T000000000Z-${deadPid}.jsonl.part`), `${lines.join('\n')}\n{"eventId":"torn`);
    const livePart = `.interactions-20260101T000001000Z-${process.ppid}.jsonl.part`;
    writeFileSync(join(dir, livePart), `${lines[0]}\n`);
    writeFileSync(join(dir, '.interactions-20251231T000000000Z.jsonl.gz.tmp'), 'half a gzip');
    const sink = openSink({ dir });
    const recovery = await sink.open();
    expect(recovery).toEqual({ sealed: ['interactions-20260101T000000000Z.jsonl'], truncatedBytes: '{"eventId":"torn'.length });
    expect(readFileSync(join(dir, 'interactions-20260101T000000000Z.jsonl'), 'utf8')).toBe(`${lines.join('\n')}\n`);
    expect(readdirSync(dir).sort()).toEqual([livePart, 'interactions-20260101T000000000Z.jsonl']);
  });

  it('finishes a compression a crash interrupted: the plain copy goes once the gzip one is in place', async () => {
    const dir = tempDir();
    const line = `${JSON.stringify(batches(1, 1)[0]![0])}\n`;
    writeFileSync(join(dir, 'interactions-20260101T000000000Z.jsonl'), line);
    writeFileSync(join(dir, 'interactions-20260102T000000000Z.jsonl'), line);
    const sink = openSink({ dir, gzip: true });
    await sink.open();
    expect(readdirSync(dir).sort()).toEqual(['interactions-20260101T000000000Z.jsonl.gz', 'interactions-20260102T000000000Z.jsonl.gz']);
    expect(sealedLines(dir)).toEqual([line.trim(), line.trim()]);
  });

  it('fails a batch it could not write with a retryable error, keeping the file whole, and takes the retry once', async () => {
    const dir = tempDir();
    const sink = openSink({ dir, maxAgeMs: null });
    const [first, second] = batches(2, 4);
    await sink.consume(first!, signal);
    // Fault injection: the file handle dies under the sink (as on an I/O error).
    await (sink as unknown as { handle: { close(): Promise<void> } }).handle.close();
    const error = await sink.consume(second!, signal).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as Error).message).toMatch(/^exporters: writing a batch in .* failed/);
    await sink.consume(second!, signal);
    await sink.close();
    expect(readdirSync(dir).filter((name) => name.startsWith('.'))).toEqual([]);
    expect(sealedLines(dir)).toEqual([...first!, ...second!].map((event) => JSON.stringify(event)));
  });

  it('loses and repeats nothing a killed writer acknowledged: every line whole, every acknowledged batch there once', async () => {
    const work = tempDir();
    const dir = join(work, 'sink');
    const script = await bundleChildScript(join(import.meta.dirname, 'fixtures', 'sinkWriter.ts'), join(work, 'sinkWriter.mjs'));
    const child = spawn(process.execPath, [script, dir, '30000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let acknowledged = -1;
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        const numbers = chunk.toString().trim().split('\n').map(Number);
        acknowledged = Math.max(acknowledged, ...numbers);
        if (acknowledged >= 20 && !child.killed) child.kill('SIGKILL');
      });
      child.on('exit', () => resolve());
      child.on('error', reject);
    });
    expect(stderr).toBe('');
    const sink = openSink({ dir, maxAgeMs: null });
    await sink.open();
    expect(readdirSync(dir).filter((name) => name.startsWith('.'))).toEqual([]);
    const ids = sealedLines(dir).map((line) => (JSON.parse(line) as Interaction).eventId);
    expect(new Set(ids).size).toBe(ids.length);
    for (let batch = 0; batch <= acknowledged; batch += 1) for (let index = 0; index < 50; index += 1) expect(ids).toContain(`b${batch}-${index}`);
  });
});

describe('the exporters plugin', () => {
  it('streams every stored interaction to rotating files that import back', async () => {
    const dataDir = tempDir();
    const strata = await openStrata(dataDir, { plugins: [exportersPlugin({ sink: { maxBytes: 100_000 } })] });
    const events = sampleInteractions(400, 12);
    // Four ingests: four committed batches of about 55 kB each.
    for (let start = 0; start < 400; start += 100) await ingestAll(strata, events.slice(start, start + 100));
    await strata.close();
    const dir = join(dataDir, 'exports', 'interactions');
    expect(readdirSync(dir).length).toBeGreaterThan(1);
    expect(sealedLines(dir)).toHaveLength(400);

    const target = await openStrata(tempDir());
    const file = join(dir, readdirSync(dir).sort()[0]!);
    const imported = await importFile({ registry: createExportRegistry(), path: file, ingestLines: (lines, options) => target.ingestLines(lines, options) });
    expect(imported.stored).toBeGreaterThan(0);
    expect(imported.rejected).toBe(0);
  });

  it('can be turned off, and refuses bad options naming each field', async () => {
    const dataDir = tempDir();
    const strata = await openStrata(dataDir, { plugins: [exportersPlugin({ sink: { enabled: false } })] });
    await ingestAll(strata, sampleInteractions(10, 1));
    await strata.close();
    expect(existsSync(join(dataDir, 'exports'))).toBe(false);

    const result = ExportersOptionsSchema.safeParse({ sink: { maxBytes: 10, fsync: 'sometimes', rotateEvery: 'soon', filePrefix: 'a.b', extra: 1 } });
    expect(result.success).toBe(false);
    const issues = result.error!.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    expect(issues).toEqual(
      expect.arrayContaining([
        'sink.maxBytes: must be at least 1024 bytes',
        'sink.fsync: expected batch, rotate or never, got "sometimes"',
        'sink.rotateEvery: expected a duration of at least 1s such as 15m, 1h or 1d (or false for size only), got "soon"',
        'sink.filePrefix: must be letters, digits and _ (no - or .), got "a.b"',
      ]),
    );
    expect(ExportersOptionsSchema.safeParse({ sink: { rotateEvery: 5 } }).error!.issues[0]!.message).toBe('expected a duration of at least 1s such as 15m, 1h or 1d (or false for size only), got 5');
    expect(ExportersOptionsSchema.parse({})).toEqual({
      sink: { enabled: true, dir: 'exports/interactions', filePrefix: 'interactions', maxBytes: 64 * 1024 * 1024, rotateEvery: '1h', gzip: false, fsync: 'batch' },
    });
  });
});
