import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createQueryKeyer, type Interaction, type Metric } from '@strata/core';
import { encodeInteractions } from './interactionWire.js';
import type { WriterRequest, WriterRequestBody, WriterResponse, WriterSettings } from './writerProtocol.js';

type Answer = Extract<WriterResponse, { ok: true }>;

/** Events per message to the writer thread. */
const WRITE_SLICE_EVENTS = 256;

interface Pending {
  resolve(answer: Answer): void;
  reject(error: Error): void;
}

/** Where the built worker script is: beside this module once built, or in dist/ when running from source. */
function workerScript(): URL {
  const candidates = [new URL('./writerWorker.js', import.meta.url), new URL('../dist/writerWorker.js', import.meta.url)];
  const found = candidates.find((candidate) => existsSync(fileURLToPath(candidate)));
  if (!found) throw new Error(`hot-sqlite: writer thread script not found (looked for ${candidates.map((c) => fileURLToPath(c)).join(', ')}); build @strata/hot-sqlite`);
  return found;
}

/**
 * The main-thread side of the writer thread. Batches are posted in order and answered in order;
 * if the thread dies, pending batches fail (the pipeline retries them) and the next write starts a new one.
 */
export class WriterThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closing: Promise<void> | undefined;
  /** Query keys are worked out here, on the host, so the writer thread (which bounds ingest) does not. */
  private readonly queryKey = createQueryKeyer();
  /** Each slice is encoded into this array and posted (copied) at once, so it is reused: see encodeInteractions. */
  private readonly wire: unknown[] = [];
  /** Settles once the last batch handed to `write` is fully posted. */
  private postingTail: Promise<void> = Promise.resolve();

  constructor(private readonly settings: WriterSettings) {}

  /**
   * Writes a batch on the thread; resolves with the ids that were already stored, once the
   * transaction holding it (alone or grouped with the batches queued beside it) has committed.
   * The batch is encoded and posted in slices with the host's event loop running between them:
   * encoding and cloning 1,500 events in one go held it for 1.3 ms on average and up to 5 ms.
   * Batches are posted one after the other, so the thread stores them in the order they were given.
   */
  async write(events: readonly Interaction[], createdAt: number): Promise<string[]> {
    const posted = this.postingTail.then(() => this.postInSlices(events, createdAt));
    this.postingTail = posted.then(
      () => undefined,
      () => undefined,
    );
    const { answer } = await posted;
    return (await answer).duplicateIds;
  }

  private async postInSlices(events: readonly Interaction[], createdAt: number): Promise<{ answer: Promise<Answer> }> {
    const id = this.nextId++;
    let start = 0;
    let parts = 1;
    for (; events.length - start > WRITE_SLICE_EVENTS; start += WRITE_SLICE_EVENTS, parts += 1) {
      this.ensureWorker().postMessage({ id, kind: 'append', events: encodeInteractions(events, start, start + WRITE_SLICE_EVENTS, this.queryKey, this.wire) } satisfies WriterRequest);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    // Wrapped, so awaiting the posting does not also wait for the commit.
    return { answer: this.request({ kind: 'write', events: encodeInteractions(events, start, events.length, this.queryKey, this.wire), parts, createdAt }, id) };
  }

  async writeMetrics(metrics: readonly Metric[], createdAt: number): Promise<number> {
    return (await this.request({ kind: 'metrics', metrics, createdAt })).stored;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (!this.worker) return;
      const worker = this.worker;
      // A batch still being posted goes ahead of the close.
      await this.postingTail;
      await this.request({ kind: 'close' }).catch(() => undefined);
      await worker.terminate();
    })();
    return this.closing;
  }

  private request(body: WriterRequestBody, id = this.nextId++): Promise<Answer> {
    const worker = this.ensureWorker();
    return new Promise<Answer>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // While a batch is in flight the thread keeps the process alive; idle, it never does.
      worker.ref();
      worker.postMessage({ id, ...body } as WriterRequest);
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(workerScript(), { workerData: this.settings });
    worker.unref();
    worker.on('message', (response: WriterResponse) => {
      const waiter = this.pending.get(response.id);
      if (!waiter) return;
      this.pending.delete(response.id);
      if (this.pending.size === 0) worker.unref();
      if (response.ok) waiter.resolve(response);
      else waiter.reject(Object.assign(new Error(response.error.message), response.error.code ? { code: response.error.code } : {}));
    });
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
    };
    worker.on('error', (error) => fail(error));
    worker.on('exit', (code) => fail(new Error(`writer thread exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }
}
