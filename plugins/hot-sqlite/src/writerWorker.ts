// The writer thread: owns the database's write connection and runs each batch (raw rows and
// rollups, one transaction) off the host's event loop. Built as its own entry (dist/writerWorker.js).
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { prepareBatchWriter } from './batchWriter.js';
import type { WriterRequest, WriterResponse, WriterSettings } from './writerProtocol.js';

const settings = workerData as WriterSettings;
const port = parentPort!;
const db = new Database(settings.file, { timeout: settings.busyTimeoutMs });
db.pragma('journal_mode = WAL');
db.pragma(`synchronous = ${settings.synchronous}`);
db.pragma(`cache_size = -${settings.cacheSizeMb * 1024}`);
db.pragma('temp_store = MEMORY');
const writeBatch = prepareBatchWriter(db, { conversionDepth: settings.conversionDepth });

port.on('message', (request: WriterRequest) => {
  let response: WriterResponse;
  if (request.kind === 'close') {
    db.close();
    response = { id: request.id, ok: true, duplicateIds: [] };
    port.postMessage(response);
    port.close();
    return;
  }
  try {
    response = { id: request.id, ok: true, duplicateIds: writeBatch(request.events, request.createdAt).duplicateIds };
  } catch (error) {
    const err = error as { message?: string; code?: string };
    response = { id: request.id, ok: false, error: { message: err.message ?? String(error), ...(err.code ? { code: err.code } : {}) } };
  }
  port.postMessage(response);
});
