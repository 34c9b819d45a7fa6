import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  definePlugin,
  type AlertNotification,
  type AlertNotifier,
  type Interaction,
  type Logger,
  type MetricReading,
  type MetricSource,
  type StorageTier,
} from '@strata/core';
import { createFakeClock, type FakeClock } from '@strata/testing';
import { afterEach } from 'vitest';
import { z } from 'zod';
import { AlertEngine, AlertStore, AlertsOptionsSchema, compileRules, type AlertRuleInput, type AlertsOptions, type DeliveryPolicy } from '../src/index.js';

const directories: string[] = [];
const cleanups: Array<() => void | Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

/** A fresh directory, removed after the test. */
export function tempDir(): string {
  const directory = mkdtempSync(join(tmpdir(), 'strata-alerts-'));
  directories.push(directory);
  return directory;
}

/** Runs after the test (before temp dirs are removed), last registered first. */
export function onCleanup(cleanup: () => void | Promise<void>): void {
  cleanups.push(cleanup);
}

export interface LogLine {
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

/** A logger that keeps what it is asked to log, for tests that check a warning is given (once). */
export function recordingLogger(lines: LogLine[] = [], bound: Record<string, unknown> = {}): Logger & { lines: LogLine[] } {
  const write =
    (level: string) =>
    (first: unknown, second?: unknown): void => {
      const fields = typeof first === 'object' && first !== null ? (first as Record<string, unknown>) : {};
      const message = typeof first === 'string' ? first : typeof second === 'string' ? second : '';
      lines.push({ level, message, fields: { ...bound, ...fields } });
    };
  const logger = {
    lines,
    trace: write('trace'),
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    fatal: write('fatal'),
    child: (fields: Record<string, unknown>) => recordingLogger(lines, { ...bound, ...fields }),
  };
  return logger as unknown as Logger & { lines: LogLine[] };
}

/** A metric source whose readings the test sets; `fail` makes it throw. */
export class ScriptedSource implements MetricSource {
  readings: Array<Omit<MetricReading, 'at'> & { at?: number }> = [];
  fail: string | undefined;

  constructor(readonly name = 'scripted') {}

  set(name: string, value: number, labels?: Record<string, string>): this {
    this.readings = this.readings.filter((reading) => !(reading.name === name && JSON.stringify(reading.labels ?? {}) === JSON.stringify(labels ?? {})));
    this.readings.push({ name, value, ...(labels ? { labels } : {}) });
    return this;
  }

  remove(name: string): this {
    this.readings = this.readings.filter((reading) => reading.name !== name);
    return this;
  }

  async read({ now }: { now: number }): Promise<MetricReading[]> {
    if (this.fail) throw new Error(this.fail);
    return this.readings.map((reading) => ({ ...reading, at: reading.at ?? now }));
  }
}

/** A notifier that keeps every notification it was sent; `failWith` makes its sends throw. */
export class RecordingNotifier implements AlertNotifier {
  readonly sent: AlertNotification[] = [];
  failWith: (() => Error) | undefined;
  attempts = 0;
  readonly delivery = { maxAttempts: 1 };

  constructor(readonly name = 'recorder') {}

  async send(notification: AlertNotification): Promise<void> {
    this.attempts += 1;
    if (this.failWith) throw this.failWith();
    this.sent.push(structuredClone(notification));
  }
}

export const MINUTE = 60_000;

export const NO_RETRY: DeliveryPolicy = { maxAttempts: 1, timeoutMs: 5_000, initialBackoffMs: 1, maxBackoffMs: 1 };

export interface EngineHarness {
  engine: AlertEngine;
  store: AlertStore;
  clock: FakeClock;
  source: ScriptedSource;
  notifier: RecordingNotifier;
  logger: Logger & { lines: LogLine[] };
  file: string;
  /** Stops the engine and closes the store, then builds both again on the same file (a restart). */
  restart(): Promise<EngineHarness>;
}

export interface EngineHarnessOptions extends Partial<Omit<AlertsOptions, 'rules' | 'notifiers'>> {
  rules?: AlertRuleInput[];
  file?: string;
  clock?: FakeClock;
  source?: ScriptedSource;
  notifier?: RecordingNotifier;
  notifiers?: AlertNotifier[];
}

/** An engine on a real SQLite file in a temp dir, a fake clock, a scripted source and a recording notifier. */
export function engineHarness(options: EngineHarnessOptions = {}): EngineHarness {
  const file = options.file ?? join(tempDir(), 'alerts.db');
  const clock = options.clock ?? createFakeClock(Date.UTC(2026, 0, 1, 12));
  const source = options.source ?? new ScriptedSource();
  const notifier = options.notifier ?? new RecordingNotifier();
  const logger = recordingLogger();
  const { rules, file: _file, clock: _clock, source: _source, notifier: _notifier, notifiers, ...rest } = options;
  const resolved = AlertsOptionsSchema.parse({ preset: 'none', rules: rules ?? [], ...rest });
  const store = AlertStore.open(file);
  const engine = new AlertEngine({
    rules: compileRules(resolved),
    store,
    sources: () => [source],
    notifiers: () => notifiers ?? [notifier],
    clock,
    logger,
    groupBy: resolved.groupBy,
    repeatIntervalMs: parseMs(resolved.repeatInterval),
    sourceTimeoutMs: parseMs(resolved.sourceTimeout),
    historyRetentionMs: parseMs(resolved.historyRetention),
    deliveryDefaults: NO_RETRY,
    sleep: async () => undefined,
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await engine.stop();
    store.close();
  };
  onCleanup(stop);
  return {
    engine,
    store,
    clock,
    source,
    notifier,
    logger,
    file,
    async restart() {
      await stop();
      return engineHarness({ ...options, file, clock, source, notifier });
    },
  };
}

function parseMs(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!match) throw new Error(`test helper cannot parse ${text}`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

/** A hot tier that stores nothing: enough for createStrata to start, for tests about plugins around it. */
export function nullHotTierPlugin() {
  return definePlugin({
    name: 'null-hot',
    version: '0.0.0-test',
    options: z.object({}).strict(),
    setup() {
      const tier: StorageTier = {
        name: 'null-hot',
        role: 'hot',
        async writeInteractions(batch: readonly Interaction[]) {
          return { inserted: batch.length, duplicates: 0, duplicateIds: [] };
        },
        async queryInteractions() {
          return { items: [], nextCursor: null };
        },
        async *scanInteractions() {
          // holds nothing
        },
        async countInteractions() {
          return 0;
        },
        async deleteInteractions() {
          return 0;
        },
        async health() {
          return { ok: true, details: {} };
        },
        async close() {},
      };
      return { storage: [tier] };
    },
  });
}

/** A plugin contributing one metric source, for createStrata tests. */
export function metricSourcePlugin(source: MetricSource) {
  return definePlugin({ name: 'test-metrics', version: '0.0.0-test', options: z.object({}).strict(), setup: () => ({ metricSources: [source] }) });
}
