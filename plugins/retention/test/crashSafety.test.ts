import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFakeClock, createRandom } from '@strata/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleChildScript } from './childBundle.js';
import { NOW, hotEventIds, pastAndRecentEvents } from './helpers.js';
import { archivedRows, openRealTiers, rawTotals, warmTotals } from './realTiers.js';

// Small partitions and batches so one run has well over a hundred steps to die at.
const PARTITION_ROWS = 90;
const BATCH_SIZE = 40;
const FAULT_POINTS = 30;

let work: string;
let childScript: string;
let template: string;
const { old, recent } = pastAndRecentEvents();

interface ChildOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runChild(dataDir: string, faultAt: number): Promise<ChildOutcome> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [childScript, dataDir, String(NOW), String(faultAt), String(PARTITION_ROWS), String(BATCH_SIZE)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.once('error', reject);
    child.once('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}

function parseOutcome(outcome: ChildOutcome): { steps: string[]; status: string; rowsMoved: number } {
  expect(outcome.code, outcome.stderr).toBe(0);
  return JSON.parse(outcome.stdout.trim().split('\n').pop()!) as { steps: string[]; status: string; rowsMoved: number };
}

function freshCopy(): string {
  const dataDir = mkdtempSync(join(work, 'case-'));
  cpSync(template, dataDir, { recursive: true });
  return dataDir;
}

/**
 * The first occurrence of every kind of step (so each kind is killed at least once), then points
 * spread over the whole run with a seeded jitter, up to `count` distinct points.
 */
function chooseFaultPoints(steps: readonly string[], count: number): number[] {
  const points = new Set<number>();
  steps.forEach((name, index) => {
    if (steps.indexOf(name) === index) points.add(index + 1);
  });
  const random = createRandom(2025);
  const fill = Math.max(0, count - points.size);
  const stride = steps.length / Math.max(1, fill);
  for (let slot = 0; slot < fill; slot += 1) {
    points.add(Math.min(steps.length, Math.floor(slot * stride) + 1 + random.int(0, Math.max(0, Math.floor(stride) - 1))));
  }
  return [...points].sort((a, b) => a - b);
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'strata-retention-crash-'));
  childScript = await bundleChildScript(join(import.meta.dirname, 'fixtures', 'retentionChild.ts'), join(work, 'retentionChild.mjs'));
  template = join(work, 'template');
  mkdirSync(template);
  const tiers = await openRealTiers(template, createFakeClock(NOW));
  await tiers.hot.writeInteractions([...old, ...recent]);
  await tiers.close();
}, 60_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('retention killed with SIGKILL (child processes, real hot-sqlite, historical-sqlite and json-archive files)', () => {
  it('loses nothing, duplicates nothing and keeps the aggregates exact whichever step it dies at', async () => {
    const probe = parseOutcome(await runChild(freshCopy(), 0));
    expect(probe.rowsMoved).toBe(old.length);
    const points = chooseFaultPoints(probe.steps, FAULT_POINTS);
    expect(points.length).toBeGreaterThanOrEqual(20);
    for (const kind of ['journal:planned', 'write:batch', 'archive:temp-synced', 'archive:committed', 'journal:written', 'aggregate:batch', 'journal:aggregated', 'delete:chunk', 'journal:settled', 'prune:done', 'cleanup:marked']) {
      expect(probe.steps, `a clean run passes through ${kind}`).toContain(kind);
    }

    for (const faultAt of points) {
      const where = `killed at step ${faultAt} (${probe.steps[faultAt - 1]})`;
      const dataDir = freshCopy();
      const killed = await runChild(dataDir, faultAt);
      expect(killed.signal, `${where}: ${killed.stderr}`).toBe('SIGKILL');

      const recovery = parseOutcome(await runChild(dataDir, 0));
      expect(recovery.status, where).toBe('ok');
      const again = parseOutcome(await runChild(dataDir, 0));
      expect(again.rowsMoved, `${where}: the run after recovery moves nothing`).toBe(0);

      const tiers = await openRealTiers(dataDir, createFakeClock(NOW));
      const inHot = await hotEventIds(tiers.hot);
      const archived = await archivedRows(tiers.archive);
      await tiers.close();
      const archivedIds = archived.map((row) => row.eventId);
      expect(new Set(archivedIds).size, `${where}: no event archived twice`).toBe(archivedIds.length);
      expect([...archivedIds].sort(), `${where}: every old event archived`).toEqual(old.map((event) => event.eventId).sort());
      expect([...inHot].sort(), `${where}: only recent events left in hot`).toEqual(recent.map((event) => event.eventId).sort());
      expect(warmTotals(dataDir), `${where}: warm aggregates equal the archived rows`).toEqual(rawTotals(archived));
      expect(JSON.parse(readFileSync(join(dataDir, 'retention', 'journal.json'), 'utf8')), where).toEqual({ version: 1, pending: [] });
      expect(existsSync(join(dataDir, 'retention', 'lock')), `${where}: lock released`).toBe(false);
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 600_000);
});
