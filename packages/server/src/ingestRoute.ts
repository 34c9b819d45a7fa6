import { ClosedError, QueueFullError, StorageError, StrataError, ValidationError, describeError, missingPermissions, type RecordOutcome } from '@strata/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BadRequestError, PayloadTooLargeError } from './httpErrors.js';
import type { IngestAdmission } from './ingestAdmission.js';
import { NDJSON_TYPES, entriesFromJson, entriesFromNdjson, jsonTextParser, type BatchEntry } from './ingestBody.js';
import type { RequestScopes } from './requestScopes.js';

/** What happened to one event of a batch. */
export interface IngestEventResult {
  /** Position in the batch: the array index (JSON), or the line number minus one (NDJSON). */
  index: number;
  /** The event's id: the one it carried, or the one derived for it. Absent when it could not be read. */
  eventId?: string;
  status: 'stored' | 'duplicate' | 'rejected';
  /** Why it was rejected: the field and the problem, or the server's state. */
  reason?: string;
  /** True when sending the same event again later may succeed (the server was busy or stopping); false for bad data. */
  retryable?: boolean;
}

/** The answer to `POST /v1/interactions`: 200 with one result per event, in batch order. */
export interface IngestResponse {
  /** Events in the batch (blank NDJSON lines not counted). */
  received: number;
  /** Newly stored: committed by the hot tier. */
  stored: number;
  /** Already stored under the same `eventId`: nothing changed. */
  duplicates: number;
  rejected: number;
  results: IngestEventResult[];
}

/** A parsed body, told apart from anything else a parser could leave in `request.body`. */
class ParsedBatch {
  constructor(readonly entries: BatchEntry[]) {}
}

export interface IngestRouteOptions {
  scopes: RequestScopes;
  admission: IngestAdmission;
  bodyLimitBytes: number;
  maxEventsPerBatch: number;
}

/**
 * `POST /v1/interactions`: a batch of interactions as a JSON array or NDJSON. The caller's role is
 * checked and the ingest queue's room is taken before the body is read; each event then goes
 * through `recordStrict` of the caller's scoped Strata, and the answer holds each one's outcome
 * once the hot tier committed it (its commit is the acknowledgement).
 */
export async function registerIngestRoute(app: FastifyInstance, options: IngestRouteOptions): Promise<void> {
  const { scopes, admission } = options;
  const parseText = jsonTextParser(app.getDefaultJsonParser('error', 'error'));
  // Only the batch formats are read here; anything else (text/plain included) is a 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: options.bodyLimitBytes }, (_request, body, done) => {
    const parsed = parseText(body as string);
    if (!parsed.ok) {
      done(new BadRequestError([{ path: 'body', message: `is ${parsed.reason}; send a JSON array of interactions` }]), undefined);
      return;
    }
    try {
      done(null, new ParsedBatch(entriesFromJson(parsed.value)));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.addContentTypeParser([...NDJSON_TYPES], { parseAs: 'string', bodyLimit: options.bodyLimitBytes }, (_request, body, done) => {
    done(null, new ParsedBatch(entriesFromNdjson(body as string, parseText)));
  });

  const admitted = new WeakSet<FastifyRequest>();
  const release = async (request: FastifyRequest): Promise<void> => {
    if (admitted.delete(request)) admission.release();
  };

  app.post(
    '/v1/interactions',
    {
      bodyLimit: options.bodyLimitBytes,
      onRequest: async (request) => {
        const scoped = scopes.of(request);
        // Refused before the body is read: a role without `write` costs no parsing. The denial is audited.
        if (missingPermissions(scoped.principal.role, 'interactions.write').length > 0) scoped.authorize('interactions.write', { route: 'POST /v1/interactions' });
        admission.admit();
        admitted.add(request);
      },
      onResponse: release,
      onRequestAbort: release,
    },
    async (request, reply) => {
      const batch = request.body;
      if (!(batch instanceof ParsedBatch)) {
        throw new BadRequestError([{ path: 'body', message: 'is missing; send a JSON array of interactions (Content-Type: application/json) or one per line (Content-Type: application/x-ndjson)' }]);
      }
      if (batch.entries.length > options.maxEventsPerBatch) {
        throw new PayloadTooLargeError(`the batch has ${batch.entries.length} events; the limit is ${options.maxEventsPerBatch} per request: split it`);
      }
      admission.assertRoomFor(batch.entries.length);
      const scoped = scopes.of(request);
      // Every event is queued in this one synchronous pass (recordStrict enqueues before it awaits),
      // so the room checked above is the room used.
      const outcomes = batch.entries.map((entry) =>
        'unparsable' in entry ? Promise.reject(new ValidationError([{ path: '', message: entry.unparsable }])) : scoped.recordStrict(entry.event),
      );
      const settled = await Promise.allSettled(outcomes);
      const response: IngestResponse = { received: batch.entries.length, stored: 0, duplicates: 0, rejected: 0, results: [] };
      settled.forEach((outcome, position) => {
        const entry = batch.entries[position]!;
        const result = resultOf(entry, outcome);
        if (result.status === 'stored') response.stored += 1;
        else if (result.status === 'duplicate') response.duplicates += 1;
        else response.rejected += 1;
        response.results.push(result);
      });
      return reply.code(200).send(response);
    },
  );
}

function resultOf(entry: BatchEntry, outcome: PromiseSettledResult<RecordOutcome>): IngestEventResult {
  if (outcome.status === 'fulfilled') return { index: entry.index, eventId: outcome.value.eventId, status: outcome.value.status };
  const error = outcome.reason as unknown;
  const carried = 'event' in entry ? carriedEventId(entry.event) : undefined;
  const retryable = error instanceof QueueFullError || error instanceof ClosedError || error instanceof StorageError || (error instanceof StrataError && error.code === 'STRATA_DISK_FULL');
  return {
    index: entry.index,
    ...(carried !== undefined ? { eventId: carried } : {}),
    status: 'rejected',
    reason: error instanceof ValidationError ? error.message : describeError(error),
    retryable,
  };
}

function carriedEventId(event: unknown): string | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const id = (event as { eventId?: unknown }).eventId;
  return typeof id === 'string' ? id : undefined;
}
