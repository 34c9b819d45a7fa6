// The writer thread: owns the database's write connection and runs each batch (raw rows and
// rollups, one transaction) off the host's event loop. Built as its own entry (dist/writerWorker.js).
import { parentPort, workerData } from 'node:worker_threads';
import type { Interaction } from '@strata/core';
import Database from 'better-sqlite3';
import { prepareBatchWriter, prepareMetricWriter } from './batchWriter.js';
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
const writeBatch = prepareBatchWriter(db, { conversionDepth: settings.conversionDepth });
const writeMetrics = prepareMetricWriter(db);

/** The slices of each batch received so far, by request id (see WriterRequestBody). */
const assembling = new Map<number, { events: Interaction[]; parts: number }>();

/** Joins a batch's slices; a batch missing a slice is refused whole, never committed in part. */
function assembled(request: Extract<WriterRequest, { kind: 'write' }>): Interaction[] {
  const earlier = assembling.get(request.id) ?? { events: [], parts: 0 };
  assembling.delete(request.id);
  if (earlier.parts !== request.parts - 1) {
    throw new Error(`writer thread received ${earlier.parts + 1} of the ${request.parts} parts of batch ${request.id}; the batch was not written`);
  }
  return decodeInteractions(request.events, earlier.events);
}

port.on('message', (request: WriterRequest) => {
  if (request.kind === 'append') {
    const batch = assembling.get(request.id) ?? { events: [], parts: 0 };
    assembling.set(request.id, batch);
    decodeInteractions(request.events, batch.events);
    batch.parts += 1;
    return;
  }
  let response: WriterResponse;
  try {
    if (request.kind === 'close') {
      db.close();
      port.postMessage({ id: request.id, ok: true, duplicateIds: [], stored: 0 } satisfies WriterResponse);
      port.close();
      return;
    }
    response =
      request.kind === 'write'
        ? { id: request.id, ok: true, duplicateIds: writeBatch(assembled(request), request.createdAt).duplicateIds, stored: 0 }
        : { id: request.id, ok: true, duplicateIds: [], stored: writeMetrics(request.metrics, request.createdAt) };
  } catch (error) {
    const err = error as { message?: string; code?: string };
    response = { id: request.id, ok: false, error: { message: err.message ?? String(error), ...(err.code ? { code: err.code } : {}) } };
  }
  port.postMessage(response);
});
