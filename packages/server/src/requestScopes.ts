import type { Principal, ScopedStrata, Strata } from '@strata/core';
import type { FastifyRequest } from 'fastify';
import { UnauthenticatedError } from './httpErrors.js';
import type { TokenAuthenticator } from './tokenAuth.js';

const FAILURE_MESSAGES = {
  missing: 'this endpoint needs a bearer token: send Authorization: Bearer <token>',
  malformed: 'the Authorization header is not "Bearer <token>"',
  unknown: 'the bearer token is not one this server accepts; check the token, or ask for one to be added to the server\'s tokens',
} as const;

/**
 * Which principal each request acts as. A request is authenticated once, in an `onRequest` hook;
 * routes then read its scoped Strata. One scoped Strata is kept per configured token, since a
 * token's principal never changes while the server runs.
 */
export class RequestScopes {
  private readonly byRequest = new WeakMap<FastifyRequest, ScopedStrata>();
  private readonly byPrincipal = new Map<string, ScopedStrata>();

  constructor(
    private readonly strata: Strata,
    private readonly authenticator: TokenAuthenticator,
  ) {}

  /** Authenticates the request from its `Authorization` header; throws a 401 with `WWW-Authenticate` when it cannot. */
  authenticate(request: FastifyRequest): ScopedStrata {
    const header = request.headers.authorization;
    const outcome = this.authenticator.authenticate(Array.isArray(header) ? header[0] : header);
    if ('failure' in outcome) {
      throw new UnauthenticatedError(FAILURE_MESSAGES[outcome.failure], outcome.failure === 'missing' ? undefined : outcome.failure === 'malformed' ? 'invalid_request' : 'invalid_token');
    }
    const scoped = this.scopeOf(outcome.principal);
    this.byRequest.set(request, scoped);
    return scoped;
  }

  /** The scoped Strata of an authenticated request. */
  of(request: FastifyRequest): ScopedStrata {
    const scoped = this.byRequest.get(request);
    if (!scoped) throw new UnauthenticatedError(FAILURE_MESSAGES.missing);
    return scoped;
  }

  private scopeOf(principal: Principal): ScopedStrata {
    let scoped = this.byPrincipal.get(principal.name);
    if (!scoped) {
      scoped = this.strata.as(principal);
      this.byPrincipal.set(principal.name, scoped);
    }
    return scoped;
  }
}
