import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EvaluationLoop, type EvaluationReport } from '../src/index.js';
import { recordingLogger } from './helpers.js';

/** An engine stand-in that counts evaluations and can be held mid-evaluation. */
function fakeEngine() {
  let release: (() => void) | undefined;
  const engine = {
    calls: 0,
    hold: false,
    evaluating: false,
    fail: false,
    async evaluate(): Promise<EvaluationReport> {
      engine.calls += 1;
      engine.evaluating = true;
      try {
        if (engine.hold) await new Promise<void>((resolve) => (release = resolve));
        if (engine.fail) throw new Error('source exploded');
        return { summary: 'ok', evaluatedAt: 0, rules: [], firing: 0, pending: 0, silenced: 0, notifications: [] };
      } finally {
        engine.evaluating = false;
      }
    },
    release: () => release?.(),
  };
  return engine;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the evaluation loop', () => {
  it('evaluates once per interval from start, and not before the first interval', async () => {
    const engine = fakeEngine();
    const loop = new EvaluationLoop(engine, 30_000, recordingLogger());
    loop.start();
    await vi.advanceTimersByTimeAsync(29_999);
    expect(engine.calls).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(engine.calls).toBe(1);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(engine.calls).toBe(3);
    await loop.stop();
  });

  it('leaves no timer behind once stopped, and never evaluates after stop', async () => {
    const engine = fakeEngine();
    const loop = new EvaluationLoop(engine, 1_000, recordingLogger());
    loop.start();
    await vi.advanceTimersByTimeAsync(1_000);
    await loop.stop();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(engine.calls).toBe(1);
    // Stopping again, or starting after stop, does nothing.
    await loop.stop();
    loop.start();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('waits for a running evaluation on stop', async () => {
    const engine = fakeEngine();
    engine.hold = true;
    const loop = new EvaluationLoop(engine, 1_000, recordingLogger());
    loop.start();
    await vi.advanceTimersByTimeAsync(1_000);
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    engine.release();
    await stopping;
    expect(stopped).toBe(true);
  });

  it('unrefs its timer so it never keeps the process alive', async () => {
    const unref = vi.spyOn(globalThis, 'setTimeout');
    const loop = new EvaluationLoop(fakeEngine(), 1_000, recordingLogger());
    loop.start();
    const timer = unref.mock.results.at(-1)!.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    unref.mockRestore();
    await loop.stop();
  });

  it('logs a failed evaluation and keeps going', async () => {
    const engine = fakeEngine();
    engine.fail = true;
    const logger = recordingLogger();
    const loop = new EvaluationLoop(engine, 1_000, logger);
    loop.start();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(engine.calls).toBe(2);
    expect(logger.lines.filter((line) => line.level === 'error' && line.message.includes('source exploded'))).toHaveLength(2);
    await loop.stop();
  });

  it('skips a tick while a manual evaluation runs', async () => {
    const engine = fakeEngine();
    engine.hold = true;
    const manual = engine.evaluate();
    const loop = new EvaluationLoop(engine, 1_000, recordingLogger());
    loop.start();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(engine.calls).toBe(1);
    engine.release();
    await manual;
    engine.hold = false;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(engine.calls).toBe(2);
    await loop.stop();
  });
});
