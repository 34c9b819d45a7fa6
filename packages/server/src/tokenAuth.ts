import { createHash, timingSafeEqual } from 'node:crypto';
import { ACCESS_ROLES, isAccessRole, type AccessRole, type Issue, type Principal } from '@strata/core';

/**
 * One bearer token the server accepts, as written in a tokens file or passed in code. `token` is
 * never the secret itself: it is the SHA-256 of the token (64 hex digits), or the name of an
 * environment variable that holds the token, so a config file can be committed without a secret in it.
 */
export interface TokenSpec {
  /** SHA-256 of the token as 64 hex digits (`printf %s "$TOKEN" | sha256sum`), or the name of an environment variable holding the token. */
  token: string;
  /** Who the token stands for: what the audit log records for every request made with it. */
  name: string;
  /** What the token may do (the plan's role table: admin, analyst, developer, viewer). */
  role: AccessRole;
}

/** A token ready to check requests against: only its hash is kept. */
export interface ResolvedToken {
  principal: Principal;
  /** SHA-256 of the token. */
  hash: Buffer;
  /** Where the hash came from (`sha256` or `env:NAME`), for messages; never the token. */
  origin: string;
}

const SHA256_HEX = /^[0-9a-f]{64}$/i;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** SHA-256 of a token, as bytes. */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * Compares two secrets in time that depends on neither their content nor their lengths: both are
 * hashed to 32 bytes first, so `timingSafeEqual` always compares equal-length buffers.
 */
export function constantTimeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right);
}

/**
 * Turns token specs into hashes, reading environment variables once. Every problem is collected
 * with its path (`tokens[1].token: …`) and returned rather than thrown, so the caller can report
 * them together with its other option problems.
 */
export function resolveTokens(specs: unknown, env: NodeJS.ProcessEnv, path = 'tokens'): { tokens: ResolvedToken[]; issues: Issue[] } {
  const issues: Issue[] = [];
  const tokens: ResolvedToken[] = [];
  if (!Array.isArray(specs)) {
    issues.push({ path, message: `expected an array of { token, name, role }, got ${specs === null ? 'null' : typeof specs}` });
    return { tokens, issues };
  }
  if (specs.length === 0) {
    issues.push({ path, message: 'no tokens: every request needs a bearer token, so at least one { token, name, role } is required' });
  }
  const names = new Map<string, number>();
  for (const [index, spec] of specs.entries()) {
    const at = `${path}[${index}]`;
    if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
      issues.push({ path: at, message: 'expected an object { token, name, role }' });
      continue;
    }
    const { token, name, role, ...rest } = spec as Record<string, unknown>;
    for (const key of Object.keys(rest)) issues.push({ path: `${at}.${key}`, message: 'unknown key; a token has only token, name and role' });
    let ok = true;
    if (typeof name !== 'string' || name.trim() === '') {
      issues.push({ path: `${at}.name`, message: 'must be a non-empty string (the audit log records it for every request made with the token)' });
      ok = false;
    } else if (names.has(name)) {
      issues.push({ path: `${at}.name`, message: `"${name}" is already the name of tokens[${names.get(name)}]; give each token its own name so the audit log tells them apart` });
      ok = false;
    } else {
      names.set(name, index);
    }
    if (!isAccessRole(role)) {
      issues.push({ path: `${at}.role`, message: `must be one of ${ACCESS_ROLES.join(', ')}, got ${JSON.stringify(role)}` });
      ok = false;
    }
    const hashed = tokenHash(token, env);
    if ('problem' in hashed) {
      issues.push({ path: `${at}.token`, message: hashed.problem });
      ok = false;
    }
    if (ok && 'hash' in hashed) tokens.push({ principal: { name: name as string, role: role as AccessRole }, hash: hashed.hash, origin: hashed.origin });
  }
  for (const [index, token] of tokens.entries()) {
    const earlier = tokens.slice(0, index).find((other) => other.hash.equals(token.hash));
    if (earlier) {
      issues.push({ path, message: `tokens "${earlier.principal.name}" and "${token.principal.name}" are the same secret; a request could not tell which role applies` });
    }
  }
  return { tokens, issues };
}

function tokenHash(token: unknown, env: NodeJS.ProcessEnv): { hash: Buffer; origin: string } | { problem: string } {
  if (typeof token !== 'string' || token === '') {
    return { problem: 'must be the SHA-256 of the token (64 hex digits) or the name of an environment variable holding it' };
  }
  if (SHA256_HEX.test(token)) return { hash: Buffer.from(token, 'hex'), origin: 'sha256' };
  if (!ENV_NAME.test(token)) {
    return { problem: 'is neither 64 hex digits (a SHA-256) nor an environment variable name; never put the token itself in a config file: put its SHA-256 (printf %s "$TOKEN" | sha256sum) or the name of a variable holding it' };
  }
  const value = env[token];
  if (value === undefined || value === '') return { problem: `environment variable ${token} is not set (or is empty); export it with the token before starting the server` };
  if (value.length < 16) return { problem: `the token in environment variable ${token} has ${value.length} characters; use at least 16 (e.g. openssl rand -hex 32)` };
  return { hash: hashToken(value), origin: `env:${token}` };
}

/** Why a request was not authenticated; becomes a 401 with `WWW-Authenticate`. */
export type AuthenticationFailure = 'missing' | 'malformed' | 'unknown';

/**
 * Maps `Authorization: Bearer <token>` to the principal of a configured token. The presented token
 * is hashed and compared with every configured hash in constant time, without stopping at a match,
 * so response time says nothing about which token (or how much of one) was right.
 */
export class TokenAuthenticator {
  constructor(private readonly tokens: readonly ResolvedToken[]) {}

  authenticate(authorization: string | undefined): { principal: Principal } | { failure: AuthenticationFailure } {
    if (authorization === undefined || authorization.trim() === '') return { failure: 'missing' };
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    if (!match) return { failure: 'malformed' };
    const presented = hashToken(match[1]!);
    let found: ResolvedToken | undefined;
    for (const token of this.tokens) {
      if (timingSafeEqual(token.hash, presented) && found === undefined) found = token;
    }
    return found ? { principal: found.principal } : { failure: 'unknown' };
  }

  get principals(): Principal[] {
    return this.tokens.map((token) => token.principal);
  }
}
