import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StrataConfigSchema, definePlugin, type StorageTier } from '@strata/core';
import { workloadLines } from '@strata/testing';
import { describe, expect, it } from 'vitest';
import { countRows, lastJson, readDeadLetters, runBin, runCaptured, runInProcess, tempDir } from './helpers.js';

/** A hot tier whose disk is gone: every write fails. */
const brokenHotPlugin = definePlugin({
  name: 'broken-hot',
  version: '0.0.0',
  // An empty, strict options schema (zod is not a dependency of the CLI).
  options: StrataConfigSchema.pick({}),
  setup: () => {
    const tier: StorageTier = {
      name: 'broken-hot',
      role: 'hot',
      writeInteractions: () => Promise.reject(new Error('SQLITE_IOERR: disk I/O error')),
      queryInteractions: () => Promise.resolve({ items: [], nextCursor: null }),
      scanInteractions: async function* () {},
      countInteractions: () => Promise.resolve(0),
      deleteInteractions: () => Promise.resolve(0),
      health: () => Promise.resolve({ ok: false, details: {}, problem: 'disk I/O error' }),
      close: () => Promise.resolve(),
    };
    return { storage: [tier] };
  },
});

const DAY_MS = 86_400_000;

function writeWorkload(dir: string, events: number, options: { separator?: string; seed?: number } = {}): { file: string; lines: string[] } {
  const lines = [...workloadLines({ events, seed: options.seed ?? 7, start: Date.now() - 8 * DAY_MS, days: 7 })];
  const file = join(dir, 'events.jsonl');
  writeFileSync(file, `${lines.join(options.separator ?? '\n')}\n`);
  return { file, lines };
}

describe('strata ingest', () => {
  it('stores every line of a clean file and exits 0', async () => {
    const cwd = tempDir();
    const { file } = writeWorkload(cwd, 300);
    const run = await runInProcess(['ingest', file, '--json'], { cwd });
    expect(run.code).toBe(0);
    expect(lastJson(run.stdout)).toMatchObject({ lines: 300, blank: 0, accepted: 300, stored: 300, duplicates: 0, rejected: 0, failed: 0, deadLetter: 0, interrupted: null });
    expect(countRows(join(cwd, 'analytics'))).toBe(300);
  });

  it('counts every event as a duplicate when the same file is ingested again', async () => {
    const cwd = tempDir();
    const { file } = writeWorkload(cwd, 250);
    expect((await runInProcess(['ingest', file, '--json'], { cwd })).code).toBe(0);
    const again = await runInProcess(['ingest', file, '--json'], { cwd });
    expect(again.code).toBe(0);
    expect(lastJson(again.stdout)).toMatchObject({ accepted: 250, stored: 0, duplicates: 250, rejected: 0 });
    expect(countRows(join(cwd, 'analytics'))).toBe(250);
  });

  it('reads stdin when the file is -', async () => {
    const cwd = tempDir();
    const lines = [...workloadLines({ events: 40, seed: 3, start: Date.now() - 3 * DAY_MS, days: 2 })];
    const run = await runInProcess(['ingest', '-', '--json'], { cwd, stdin: `${lines.join('\n')}\n` });
    expect(run.code).toBe(0);
    expect(lastJson(run.stdout)).toMatchObject({ source: 'stdin', lines: 40, stored: 40 });
  });

  it('skips blank and whitespace-only lines, and accepts CRLF line endings', async () => {
    const cwd = tempDir();
    const { lines } = writeWorkload(cwd, 20);
    const file = join(cwd, 'gappy.jsonl');
    writeFileSync(file, ['', ...lines.slice(0, 10), '', '   ', '\t', ...lines.slice(10), ''].join('\r\n'));
    const run = await runInProcess(['ingest', file, '--json'], { cwd });
    expect(run.code).toBe(0);
    expect(lastJson(run.stdout)).toMatchObject({ lines: 24, blank: 4, stored: 20, rejected: 0 });
    expect(readDeadLetters(join(cwd, 'analytics'))).toEqual([]);
  });

  it('prints a readable summary by default', async () => {
    const cwd = tempDir();
    const { file } = writeWorkload(cwd, 30);
    const run = await runInProcess(['ingest', file], { cwd });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Ingested ${file}`);
    expect(run.stdout).toMatch(/stored\s+30\n/);
    expect(run.stdout).toMatch(/rejected\s+0\n/);
  });

  it('honours --data-dir written after the command', async () => {
    const cwd = tempDir();
    const { file } = writeWorkload(cwd, 10);
    const dataDir = join(cwd, 'elsewhere');
    const run = await runInProcess(['ingest', file, '--json', '--data-dir', dataDir], { cwd });
    expect(run.code).toBe(0);
    expect(countRows(dataDir)).toBe(10);
  });

  it('exits 1 with one readable line when the file does not exist', async () => {
    const cwd = tempDir();
    const run = await runBin(['ingest', 'missing.jsonl'], { cwd });
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe(`strata: cannot read ${join(cwd, 'missing.jsonl')}: no such file`);
    expect(run.stdout).toBe('');
  });

  it('exits 1 and names the path of every bad field when the config is invalid', async () => {
    const cwd = tempDir();
    writeFileSync(
      join(cwd, 'strata.config.json'),
      JSON.stringify({ plugins: [{ name: 'hot-sqlite', options: { synchronous: 'SOMETIMES' } }], pipeline: { maxBatchSize: 'lots' } }),
    );
    const { file } = writeWorkload(cwd, 5);
    const run = await runBin(['ingest', file], { cwd });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`strata: invalid configuration in ${join(cwd, 'strata.config.json')}`);
    expect(run.stderr).toMatch(/^\s+- plugins\[0\]\.options\.synchronous: /m);
    expect(run.stderr).toMatch(/^\s+- pipeline\.maxBatchSize: expected number/m);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 1 when the data dir cannot be created', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'a-file'), 'not a folder');
    const { file } = writeWorkload(cwd, 5);
    const run = await runBin(['ingest', file, '--data-dir', join(cwd, 'a-file', 'data')], { cwd });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^strata: .*a-file/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('shows the stack of an expected error only with --debug', async () => {
    const cwd = tempDir();
    const run = await runInProcess(['ingest', 'missing.jsonl', '--debug'], { cwd });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/\n\s+at /);
  });

  it('exits 1 when the storage cannot write valid events, and keeps them in the dead-letter store', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'strata.config.json'), JSON.stringify({ plugins: ['broken-hot'], logLevel: 'silent' }));
    const { file } = writeWorkload(cwd, 12);
    const run = await runCaptured(['ingest', file, '--json', '--log-level', 'silent'], { cwd, catalog: { 'broken-hot': () => brokenHotPlugin } });
    expect(run.code).toBe(1);
    expect(lastJson(run.stdout)).toMatchObject({ accepted: 0, stored: 0, failed: 12, deadLetter: 12 });
    expect(run.stderr).toMatch(/^strata: 12 valid event\(s\) could not be stored/m);
    expect(readDeadLetters(join(cwd, 'analytics')).map((entry) => entry.reason)).toEqual(Array(12).fill(expect.stringContaining('disk I/O error')));
  });
});
