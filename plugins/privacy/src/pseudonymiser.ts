import { createHmac } from 'node:crypto';
import { canonicalIp } from './ipAddress.js';
import type { PrivacyKey, PrivacyKeyring } from './privacyKey.js';

/** The identifiers that are pseudonymised; each is hashed in its own domain, so equal strings in two fields do not match. */
export type PseudonymField = 'sessionId' | 'ipAddress' | 'userAgent';

/**
 * `ps1.<key id>.<22 base64url characters>`: format version, the id of the key that made it (so old
 * and new pseudonyms are told apart after a rotation), and the first 132 bits of
 * HMAC-SHA-256(key, "strata/<field>\0<value>").
 */
export const PSEUDONYM_FORMAT = /^ps1\.([0-9a-f]{8})\.[A-Za-z0-9_-]{22}$/;

export interface PseudonymiserOptions {
  /** Raw values remembered per field (memory only), so repeated sessions, addresses and agents skip the HMAC. Default 10,000. */
  cacheSize?: number;
}

/** Keyed, deterministic pseudonyms: the same value and key give the same pseudonym; without the key nothing links them to the value. */
export interface Pseudonymiser {
  /** Id of the key new pseudonyms are made with. */
  readonly keyId: string;
  /** The pseudonym of `value` under the current key. */
  pseudonymise(field: PseudonymField, value: string): string;
  /** Its pseudonyms under the current key and every previous key: what to look for in stored data. */
  candidates(field: PseudonymField, value: string): string[];
  /** True when `value` is already a pseudonym made with a known key (replayed dead letters, re-imported data). */
  isPseudonym(value: string): boolean;
}

/** What is hashed: addresses in one canonical spelling (`::ffff:10.0.0.1` is `10.0.0.1`), user agents trimmed, session ids as given. */
export function pseudonymInput(field: PseudonymField, value: string): string {
  if (field === 'ipAddress') return canonicalIp(value) ?? value.trim();
  if (field === 'userAgent') return value.trim();
  return value;
}

export function pseudonymWith(key: PrivacyKey, field: PseudonymField, value: string): string {
  const digest = createHmac('sha256', key.secret).update(`strata/${field}\u0000${pseudonymInput(field, value)}`).digest('base64url');
  return `ps1.${key.id}.${digest.slice(0, 22)}`;
}

export function createPseudonymiser(keys: PrivacyKeyring, options: PseudonymiserOptions = {}): Pseudonymiser {
  const cacheSize = options.cacheSize ?? 10_000;
  const knownIds = new Set([keys.current.id, ...keys.previous.map((key) => key.id)]);
  const caches: Record<PseudonymField, Map<string, string>> = { sessionId: new Map(), ipAddress: new Map(), userAgent: new Map() };
  return {
    keyId: keys.current.id,
    pseudonymise(field, value) {
      const cache = caches[field];
      let pseudonym = cache.get(value);
      if (pseudonym === undefined) {
        pseudonym = pseudonymWith(keys.current, field, value);
        if (cacheSize > 0) {
          // Oldest entry out (a Map keeps insertion order): O(1), bounded.
          if (cache.size >= cacheSize) cache.delete(cache.keys().next().value!);
          cache.set(value, pseudonym);
        }
      }
      return pseudonym;
    },
    candidates(field, value) {
      return [keys.current, ...keys.previous].map((key) => pseudonymWith(key, field, value));
    },
    isPseudonym(value) {
      const match = PSEUDONYM_FORMAT.exec(value);
      return match !== null && knownIds.has(match[1]!);
    },
  };
}
