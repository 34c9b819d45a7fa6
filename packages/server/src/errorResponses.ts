import { STATUS_CODES } from 'node:http';
import { StrataError, ValidationError, describeError } from '@strata/core';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError, statusForStrataError, type ErrorBody } from './httpErrors.js';
import { formatBytes } from './serverOptions.js';

/** Seconds a client is told to wait when a core `QueueFullError` reaches a route. */
const QUEUE_FULL_RETRY_SECONDS = 1;

/**
 * One error handler for every route: Strata's errors keep their code and get the status it maps
 * to; Fastify's own request errors (body too large, bad media type, schema validation) keep their
 * 4xx with a message that says what to do; anything else is a 500 whose details go to the log only.
 */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const { status, body, headers } = describeFailure(error, request);
    if (status >= 500) request.log.error({ err: error }, `request failed: ${describeError(error)}`);
    else request.log.debug({ code: body.code, status }, body.message);
    for (const [name, value] of Object.entries(headers)) void reply.header(name, value);
    return reply.code(status).type('application/json; charset=utf-8').send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    const body: ErrorBody = {
      statusCode: 404,
      error: STATUS_CODES[404]!,
      code: 'STRATA_NOT_FOUND',
      message: `no route ${request.method} ${pathOf(request.url)}; the endpoints are listed in the @strata/server README (GET /v1/insights/:question, POST /v1/interactions, …)`,
    };
    return reply.code(404).send(body);
  });
}

function describeFailure(error: FastifyError | Error, request: FastifyRequest): { status: number; body: ErrorBody; headers: Record<string, string> } {
  const make = (status: number, code: string, message: string, extra: Partial<ErrorBody> = {}): ErrorBody => ({
    statusCode: status,
    error: STATUS_CODES[status] ?? 'Error',
    code,
    message,
    ...extra,
  });
  if (error instanceof HttpError) {
    const extra = 'issues' in error ? { issues: (error as HttpError & { issues: ErrorBody['issues'] }).issues } : {};
    return { status: error.statusCode, body: make(error.statusCode, error.code, error.message, extra), headers: { ...error.headers } };
  }
  if (error instanceof StrataError) {
    const status = statusForStrataError(error);
    const headers: Record<string, string> = status === 429 ? { 'retry-after': String(QUEUE_FULL_RETRY_SECONDS) } : {};
    const extra = error instanceof ValidationError ? { issues: error.issues } : {};
    return { status, body: make(status, error.code, error.message, extra), headers };
  }
  const fastifyError = error as FastifyError;
  const code = typeof fastifyError.code === 'string' ? fastifyError.code : undefined;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      const limit = request.routeOptions.bodyLimit;
      return {
        status: 413,
        body: make(413, code, `request body is larger than the ${formatBytes(limit)} limit (${limit} bytes); send the events in smaller batches, or raise the server's bodyLimit (--body-limit)`),
        headers: {},
      };
    }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        status: 415,
        body: make(415, code, `content type ${JSON.stringify(request.headers['content-type'] ?? '')} is not accepted by ${request.method} ${pathOf(request.url)}; send application/json (an array of interactions) or application/x-ndjson (one interaction per line)`),
        headers: {},
      };
    case 'FST_ERR_CTP_EMPTY_TYPE':
      return { status: 415, body: make(415, code, 'the request has a body but no Content-Type; set Content-Type: application/json or application/x-ndjson'), headers: {} };
    case 'FST_ERR_VALIDATION':
      return { status: 400, body: make(400, 'STRATA_VALIDATION_FAILED', fastifyError.message), headers: {} };
    default:
      break;
  }
  const status = typeof fastifyError.statusCode === 'number' ? fastifyError.statusCode : 500;
  if (status >= 400 && status < 500) return { status, body: make(status, code ?? 'STRATA_VALIDATION_FAILED', fastifyError.message), headers: {} };
  return {
    status: 500,
    body: make(500, 'STRATA_INTERNAL', `the server failed to answer ${request.method} ${pathOf(request.url)} (request ${request.id}); its log has the details`),
    headers: {},
  };
}

/** The path of a URL without its query string, which may hold secrets and is not the client's question. */
export function pathOf(url: string): string {
  const end = url.indexOf('?');
  return end === -1 ? url : url.slice(0, end);
}
