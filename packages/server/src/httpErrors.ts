import { StrataError, type Issue, type StrataErrorCode } from '@strata/core';

/**
 * An error the server answers with a 4xx or 503 of its own choosing. Each carries one of the
 * core's stable codes, so a client can branch on `code` whatever the HTTP status.
 */
export class HttpError extends StrataError {
  readonly statusCode: number;
  /** Extra response headers (`Retry-After`, `WWW-Authenticate`). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(statusCode: number, code: StrataErrorCode, message: string, headers: Record<string, string> = {}) {
    super(code, message);
    this.statusCode = statusCode;
    this.headers = headers;
  }
}

/** 400: a query parameter, header or body the server cannot use. Every problem is in `issues`. */
export class BadRequestError extends HttpError {
  readonly issues: readonly Issue[];

  constructor(issues: readonly Issue[]) {
    super(400, 'STRATA_VALIDATION_FAILED', issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join('; '));
    this.issues = issues;
  }
}

/** 401: no token, a malformed `Authorization` header, or a token the server does not know. */
export class UnauthenticatedError extends HttpError {
  constructor(message: string, bearerError?: 'invalid_request' | 'invalid_token') {
    // RFC 6750 §3: a request without credentials gets the bare challenge; a bad one says why.
    const challenge = bearerError ? `Bearer realm="strata", error="${bearerError}", error_description="${message.replace(/["\\]/g, '')}"` : 'Bearer realm="strata"';
    super(401, 'STRATA_ACCESS_DENIED', message, { 'www-authenticate': challenge });
  }
}

/** 404: a route, question or panel that does not exist here. */
export class NotFoundError extends HttpError {
  constructor(message: string) {
    super(404, 'STRATA_NOT_FOUND', message);
  }
}

/** 413: a body or batch over the configured limit. */
export class PayloadTooLargeError extends HttpError {
  constructor(message: string) {
    super(413, 'STRATA_VALIDATION_FAILED', message);
  }
}

/** 415: a body in a format the route does not read. */
export class UnsupportedMediaTypeError extends HttpError {
  constructor(message: string) {
    super(415, 'STRATA_VALIDATION_FAILED', message);
  }
}

/** 429: the ingest queue or the in-flight ingest requests are at their bound; retry after `retryAfterSeconds`. */
export class OverloadedError extends HttpError {
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds: number) {
    super(429, 'STRATA_QUEUE_FULL', message, { 'retry-after': String(retryAfterSeconds) });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** 503: the server is shutting down or a dependency it needs is not ready. */
export class UnavailableError extends HttpError {
  constructor(message: string, retryAfterSeconds?: number) {
    super(503, 'STRATA_CLOSED', message, retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) });
  }
}

/**
 * The HTTP status for an error Strata raised inside a request. Codes that describe the request
 * (bad input, access) are 4xx; codes that describe the server's state are 5xx with a retry hint
 * where retrying helps.
 */
const STATUS_BY_CODE: Partial<Record<StrataErrorCode, number>> = {
  STRATA_VALIDATION_FAILED: 400,
  STRATA_ACCESS_DENIED: 403,
  STRATA_NOT_FOUND: 404,
  STRATA_JOB_BUSY: 409,
  STRATA_QUEUE_FULL: 429,
  STRATA_CLOSED: 503,
  STRATA_STORAGE_FAILED: 503,
  STRATA_DEADLINE_EXCEEDED: 503,
  STRATA_DISK_FULL: 507,
};

export function statusForStrataError(error: StrataError): number {
  if (error instanceof HttpError) return error.statusCode;
  return STATUS_BY_CODE[error.code] ?? 500;
}

/** The body of every error response: Fastify's own shape, so clients see one format for every error. */
export interface ErrorBody {
  statusCode: number;
  /** The HTTP reason phrase (`Bad Request`). */
  error: string;
  /** A stable code: a `STRATA_*` code, or Fastify's `FST_*` code for errors it raised before a route ran. */
  code: string;
  /** What was wrong and what to do. */
  message: string;
  /** For 400s from validation: each problem with its path. */
  issues?: readonly Issue[];
}
