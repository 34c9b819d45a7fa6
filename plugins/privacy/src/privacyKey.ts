import { createHmac } from 'node:crypto';
import { StrataError } from '@strata/core';

/** The shortest key accepted: 256 bits, the output size of SHA-256. */
export const MIN_KEY_BYTES = 32;

/** A privacy key is missing, too short, unreadable, or kept where it must not be. */
export class PrivacyKeyError extends StrataError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('STRATA_PRIVACY_KEY', `privacy: ${message}`, options);
  }
}

/** A secret key and its public id, the first 8 hex digits of HMAC(key, "strata-privacy-key-id"). */
export interface PrivacyKey {
  readonly id: string;
  readonly secret: Buffer;
}

/** The key new pseudonyms are made with, and older keys kept only to find data stored under them. */
export interface PrivacyKeyring {
  readonly current: PrivacyKey;
  readonly previous: readonly PrivacyKey[];
}

export const GENERATE_HINT = 'generate one with `openssl rand -base64 32`';

/** The id of a key: safe to log and to store, reveals nothing about the key. */
export function keyIdOf(secret: Buffer): string {
  return createHmac('sha256', secret).update('strata-privacy-key-id').digest('hex').slice(0, 8);
}

export function privacyKey(secret: Buffer): PrivacyKey {
  return { id: keyIdOf(secret), secret };
}

/**
 * Decodes key text: `hex:…` or `base64:…` explicitly, otherwise an even-length run of hex digits
 * is hex and anything else base64 (standard or URL-safe). `where` names the source in errors
 * (`STRATA_PRIVACY_KEY`, `key file /etc/strata/privacy.key`).
 */
export function decodeKey(text: string, where: string): PrivacyKey {
  const trimmed = text.trim();
  let body = trimmed;
  let encoding: 'hex' | 'base64';
  if (/^hex:/i.test(trimmed)) {
    encoding = 'hex';
    body = trimmed.slice(4).trim();
  } else if (/^base64:/i.test(trimmed)) {
    encoding = 'base64';
    body = trimmed.slice(7).trim();
  } else {
    encoding = /^(?:[0-9a-fA-F]{2})+$/.test(trimmed) ? 'hex' : 'base64';
  }
  if (body === '') throw new PrivacyKeyError(`${where} is empty; ${GENERATE_HINT}`);
  const valid = encoding === 'hex' ? /^(?:[0-9a-fA-F]{2})+$/.test(body) : /^[A-Za-z0-9+/_-]+={0,2}$/.test(body);
  if (!valid) {
    throw new PrivacyKeyError(`${where} is not valid ${encoding === 'hex' ? 'hex' : 'base64'} (a key is hex, base64, or prefixed "hex:"/"base64:"); ${GENERATE_HINT}`);
  }
  const secret = Buffer.from(body, encoding);
  if (secret.length < MIN_KEY_BYTES) {
    throw new PrivacyKeyError(`${where} holds ${secret.length} byte(s); a privacy key needs at least ${MIN_KEY_BYTES} random bytes; ${GENERATE_HINT}`);
  }
  return privacyKey(secret);
}

/** Keys separated by commas or white space (a list of previous keys in one environment variable). */
export function decodeKeyList(text: string, where: string): PrivacyKey[] {
  return text
    .split(/[\s,]+/)
    .filter((part) => part.length > 0)
    .map((part, index) => decodeKey(part, `${where} (key ${index + 1})`));
}
