import type { FastifyBodyParser } from 'fastify';
import { BadRequestError } from './httpErrors.js';

/** Media types read as one interaction per line. */
export const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines'] as const;

/** One entry of a batch: the parsed event, or why its line could not be parsed (NDJSON only). */
export type BatchEntry = { index: number; event: unknown } | { index: number; unparsable: string };

/** Parses JSON text, refusing `__proto__` and `constructor.prototype` keys (Fastify's secure parser). */
export type JsonTextParser = (text: string) => { ok: true; value: unknown } | { ok: false; reason: string };

/**
 * A JSON body: an array of interactions, or one interaction (a batch of one). Each entry's `index`
 * is its position in the array.
 */
export function entriesFromJson(body: unknown): BatchEntry[] {
  if (Array.isArray(body)) return body.map((event, index) => ({ index, event }));
  if (typeof body === 'object' && body !== null) return [{ index: 0, event: body }];
  throw new BadRequestError([{ path: 'body', message: `expected a JSON array of interactions (or one interaction object), got ${body === null ? 'null' : typeof body}` }]);
}

/**
 * An NDJSON body: one interaction per line. A blank line is skipped; a line that is not JSON is
 * answered as rejected on its own, so one bad line does not cost the rest of the batch. An entry's
 * `index` is its line number minus one (blank lines count), so a client can find the line.
 */
export function entriesFromNdjson(text: string, parse: JsonTextParser): BatchEntry[] {
  const entries: BatchEntry[] = [];
  let start = 0;
  let index = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const line = text.slice(start, end).trim();
    if (line !== '') {
      const parsed = parse(line);
      entries.push(parsed.ok ? { index, event: parsed.value } : { index, unparsable: `line ${index + 1}: ${parsed.reason}` });
    }
    index += 1;
    start = end + 1;
  }
  return entries;
}

/** Wraps Fastify's default JSON parser (which guards against prototype poisoning) as a plain function with a reason. */
export function jsonTextParser(fastifyParser: FastifyBodyParser<string>): JsonTextParser {
  return (text) => {
    let result: ReturnType<JsonTextParser> = { ok: false, reason: 'not valid JSON' };
    // The default parser answers synchronously and never reads the request.
    void fastifyParser(undefined as never, text, (error, value) => {
      result = error ? { ok: false, reason: describeJsonProblem(text) } : { ok: true, value };
    });
    return result;
  };
}

/** Why text is not acceptable JSON, in words: the parser's own message, or the refused key. */
export function describeJsonProblem(text: string): string {
  if (text.trim() === '') return 'empty; expected JSON';
  try {
    JSON.parse(text);
  } catch (error) {
    return `not valid JSON (${(error as Error).message})`;
  }
  return 'holds a "__proto__" or "constructor.prototype" key, which is refused';
}
