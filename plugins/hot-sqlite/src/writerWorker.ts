// The writer thread: owns the database's write connection and writes batches (raw rows and
// rollups in one transaction, several batches to a transaction when they queue up: group commit)
// off the host's event loop. Built as its own entry (dist/writerWorker.js).
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { PreparedInteraction } from './batchAggregation.js';
import { prepareGroupWriter, prepareMetricWriter } from './batchWriter.js';
import { decodeInteractions } from './interactionWire.js';
import { WAL_AUTOCHECKPOINT_PAGES } from './walSettings.js';
import type { WriterRequest, WriterResponse, WriterSettings } from './writerProtocol.js';

const settings = workerData as WriterSettings;
const port = parentPort!;
const db = new Database(settings.file, { timeout: settings.busyTimeoutMs });
db.pragma('journal_mode = WAL');
db.pragma(`synchronous = ${settings.synchronous}`);
db.pragma(`cache_size = -${settings.cacheSizeMb * 1024}`);
db.pragma('temp_store = MEMORY');
// Checkpoint the WAL every ~40 MB instead of SQLite's 4 MB: a tenth of the checkpoints (each an fsync)
// during bulk ingest; durability is unchanged (the WAL is still synced at each checkpoint).
db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
const group = prepareGroupWriter(db, { conversionDepth: settings.conversionDepth });
/** A group commits once it holds this many events, or as soon as no batch is waiting behind it. */
const GROUP_COMMIT_EVENTS = settings.groupCommitEvents;
const writeMetrics = prepareMetricWriter(db);

/** The slices of each batch received so far, by request id (see WriterRequestBody). */
const assembling = new Map<number, { events: PreparedInteraction[]; parts: number }>();

/** Joins a batch's slices; a batch missing a slice is refused whole, never committed in part. */
function assembled(request: Extract<WriterRequest, { kind: 'write' }>): PreparedInteraction[] {
  const earlier = assembling.get(request.id) ?? { events: [], parts: 0 };
  assembling.delete(request.id);
  // The host posts batches one after another, so slices of an earlier batch still here were
  // abandoned (its encoding failed part-way) and will never be completed: drop them.
  for (const id of assembling.keys()) if (id < request.id) assembling.delete(id);
  if (earlier.parts !== request.parts - 1) {
    throw new Error(`writer thread received ${earlier.parts + 1} of the ${request.parts} parts of batch ${request.id}; the batch was not written`);
  }
  return decodeInteractions(request.events, earlier.events);
}

/** Batches stored in the open group, answered once it commits. */
let waiting: Array<{ id: number; duplicateIds: string[] }> = [];
let commitScheduled = false;

function failure(id: number, error: unknown): WriterResponse {
  const err = error as { message?: string; code?: string };
  return { id, ok: false, error: { message: err.message ?? String(error), ...(err.code ? { code: err.code } : {}) } };
}

/** Commits the open group and answers its batches: all stored, or all failed (nothing of them kept). */
function commitGroup(): void {
  commitScheduled = false;
  const answered = waiting;
  waiting = [];
  if (answered.length === 0) return;
  try {
    group.commit();
  } catch (error) {
    for (const { id } of answered) port.postMessage(failure(id, error));
    return;
  }
  for (const { id, duplicateIds } of answered) port.postMessage({ id, ok: true, duplicateIds, stored: 0 } satisfies WriterResponse);
}

function write(request: Extract<WriterRequest, { kind: 'write' }>): void {
  try {
    waiting.push({ id: request.id, duplicateIds: group.add(assembled(request), request.createdAt).duplicateIds });
  } catch (error) {
    port.postMessage(failure(request.id, error));
    // SQLite ended the transaction (disk full, I/O error): the group's earlier batches went with it.
    if (!group.open && waiting.length > 0) {
      const lost = waiting;
      waiting = [];
      for (const { id } of lost) port.postMessage(failure(id, error));
    }
    return;
  }
  // Batches already queued behind this one are handled before the immediate runs, so they join
  // the group; an idle writer commits at once.
  if (group.events >= GROUP_COMMIT_EVENTS) commitGroup();
  else if (!commitScheduled) {
    commitScheduled = true;
    setImmediate(commitGroup);
  }
}

port.on('message', (request: WriterRequest) => {
  if (request.kind === 'append') {
    const batch = assembling.get(request.id) ?? { events: [], parts: 0 };
    assembling.set(request.id, batch);
    decodeInteractions(request.events, batch.events);
    batch.parts += 1;
    return;
  }
  if (request.kind === 'write') {
    write(request);
    return;
  }
  // Metrics and close come after the batches posted before them.
  commitGroup();
  let response: WriterResponse;
  try {
    if (request.kind === 'close') {
      db.close();
      port.postMessage({ id: request.id, ok: true, duplicateIds: [], stored: 0 } satisfies WriterResponse);
      port.close();
      return;
    }
    response = { id: request.id, ok: true, duplicateIds: [], stored: writeMetrics(request.metrics, request.createdAt) };
  } catch (error) {
    response = failure(request.id, error);
  }
  port.postMessage(response);
});
