import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStrata, definePlugin, type DeadLetter, type PluginContribution, type Strata, type StrataConfig } from '@strata/core';
import { afterEach } from 'vitest';
import { z } from 'zod';
import { MemoryTier, memoryTierPlugin } from './memoryTier.js';

/** A complete, valid interaction as a caller would send it. */
export function interaction(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    sessionId: 'session-1',
    timestamp: '2025-06-01T12:00:00.000Z',
    userRole: 'developer',
    query: 'How do I deploy a Node service?',
    queryType: 'technical',
    responseTime: 1.25,
    success: true,
    ...overrides,
  };
}

/** `count` valid interactions with distinct eventIds. */
export function interactions(count: number, prefix = 'e'): Array<Record<string, unknown>> {
  return Array.from({ length: count }, (_, index) => interaction({ eventId: `${prefix}-${index}`, query: `question ${index}` }));
}

const directories: string[] = [];
const instances: Strata[] = [];

/** A fresh temp directory, removed after the test. */
export function tempDir(): string {
  const directory = mkdtempSync(join(tmpdir(), 'strata-core-'));
  directories.push(directory);
  return directory;
}

afterEach(async () => {
  // Close what a test left open (close is idempotent, so tests may also close themselves).
  await Promise.allSettled(instances.splice(0).map((strata) => strata.close()));
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

/** Every dead-letter entry written under `dataDir`, oldest file first. */
export function readDeadLetters(dataDir: string): DeadLetter[] {
  const directory = join(dataDir, 'dead-letter');
  if (!existsSync(directory)) return [];
  return readdirSync(directory)
    .sort()
    .flatMap((file) =>
      readFileSync(join(directory, file), 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as DeadLetter),
    );
}

export interface TestStrata {
  strata: Strata;
  tier: MemoryTier;
  dataDir: string;
}

export interface OpenStrataOptions {
  pipeline?: StrataConfig['pipeline'];
  limits?: StrataConfig['limits'];
  /** Sinks, processors and hooks contributed by a second plugin named `test-extras`. */
  extras?: Omit<PluginContribution, 'storage'>;
  shutdownTimeoutMs?: number;
  /** A tier prepared by the test (e.g. with stand-in insights); default a fresh MemoryTier. */
  tier?: MemoryTier;
}

/**
 * A Strata instance on a MemoryTier (registered as `hot-sqlite` in the catalogue), with its data
 * dir in a temp directory. Small batch delays keep tests fast. Closed after the test.
 */
export async function openStrata(options: OpenStrataOptions = {}): Promise<TestStrata> {
  const tier = options.tier ?? new MemoryTier();
  const dataDir = tempDir();
  const plugins: StrataConfig['plugins'] = ['hot-sqlite'];
  const catalog: Record<string, () => ReturnType<typeof memoryTierPlugin>> = { 'hot-sqlite': () => memoryTierPlugin(tier) };
  if (options.extras) {
    const extras = options.extras;
    plugins.push('test-extras');
    catalog['test-extras'] = () =>
      definePlugin({ name: 'test-extras', version: '0.0.0-test', dependsOn: ['hot-sqlite'], options: z.object({}), setup: () => extras });
  }
  const strata = await createStrata({
    config: {
      plugins,
      pipeline: { maxBatchDelayMs: 5, ...options.pipeline },
      ...(options.limits ? { limits: options.limits } : {}),
      shutdownTimeoutMs: options.shutdownTimeoutMs ?? 5_000,
    },
    catalog,
    dataDir,
    logLevel: 'silent',
  });
  instances.push(strata);
  return { strata, tier, dataDir };
}

/** An async iterable over lines, as a file reader would yield them. */
export async function* linesOf(lines: readonly string[]): AsyncIterable<string> {
  for (const line of lines) yield line;
}

/** A promise with its resolve function, for holding a fake component at a chosen point. */
export function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** The error a promise rejects with; fails the test if it resolves. */
export async function rejectionOf(work: Promise<unknown>): Promise<Error> {
  try {
    await work;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}
