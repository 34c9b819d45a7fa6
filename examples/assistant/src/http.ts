import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What a route answers. */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** The request itself is wrong; its message names the field and the reason. */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const MAX_BODY_BYTES = 64 * 1024;
/** Strata's own limit for `sessionId`. */
const MAX_SESSION_ID_LENGTH = 256;

export async function readJsonObject(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new RequestError(413, `body: larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new RequestError(400, 'body: expected JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RequestError(400, 'body: expected a JSON object');
  return value as Record<string, unknown>;
}

/**
 * The caller's session: the `x-session-id` header (API clients), else the `sid` cookie (browsers),
 * else a new one that the reply sets as a cookie.
 */
export function sessionOf(request: IncomingMessage): { id: string; isNew: boolean } {
  const header = request.headers['x-session-id'];
  const cookie = /(?:^|;\s*)sid=([^;]*)/.exec(request.headers.cookie ?? '')?.[1];
  const id = typeof header === 'string' && header !== '' ? header : cookie ? decodeURIComponent(cookie) : undefined;
  if (id === undefined) return { id: randomUUID(), isNew: true };
  if (id.length > MAX_SESSION_ID_LENGTH) throw new RequestError(400, `session id: longer than ${MAX_SESSION_ID_LENGTH} characters`);
  return { id, isNew: false };
}

export function sessionCookie(id: string): string {
  return `sid=${encodeURIComponent(id)}; Path=/; HttpOnly; SameSite=Lax`;
}

export function send(response: ServerResponse, reply: Reply): void {
  const body = JSON.stringify(reply.body);
  response.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...reply.headers });
  response.end(body);
}
