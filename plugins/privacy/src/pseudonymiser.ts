import { createHmacSha256, type HmacSha256 } from './hmacSha256.js';
import { canonicalIp } from './ipAddress.js';
import { createPseudonymCache, type PseudonymCache } from './pseudonymCache.js';
import type { PrivacyKey, PrivacyKeyring } from './privacyKey.js';

/** The identifiers that are pseudonymised; each is hashed in its own domain, so equal strings in two fields do not match. */
export type PseudonymField = 'sessionId' | 'ipAddress' | 'userAgent';

/**
 * `ps1.<key id>.<22 base64url characters>`: format version, the id of the key that made it (so old
 * and new pseudonyms are told apart after a rotation), and the first 132 bits of
 * HMAC-SHA-256(key, "strata/<field>\0<value>").
 */
export const PSEUDONYM_FORMAT = /^ps1\.([0-9a-f]{8})\.[A-Za-z0-9_-]{22}$/;
/** Every pseudonym has this length and prefix: a cheap test before the regex, which most values (raw session ids) fail. */
const PSEUDONYM_LENGTH = 35;
const PSEUDONYM_PREFIX = 'ps1.';

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

/** The hash domain of each field: `strata/<field>\0`, so equal strings in two fields hash apart. */
const DOMAINS: Readonly<Record<PseudonymField, string>> = {
  sessionId: 'strata/sessionId\u0000',
  ipAddress: 'strata/ipAddress\u0000',
  userAgent: 'strata/userAgent\u0000',
};

function pseudonymUnder(hmac: HmacSha256, keyId: string, field: PseudonymField, value: string): string {
  const domain = DOMAINS[field] ?? `strata/${field}\u0000`;
  // The template turns a non-string into text exactly as the template that built the HMAC message always did.
  return `ps1.${keyId}.${hmac.base64url(domain, `${pseudonymInput(field, value)}`).slice(0, 22)}`;
}

/** The pseudonym of `value` under `key` (prepares the key each call: a pseudonymiser prepares its keys once). */
export function pseudonymWith(key: PrivacyKey, field: PseudonymField, value: string): string {
  return pseudonymUnder(createHmacSha256(key.secret), key.id, field, value);
}

export function createPseudonymiser(keys: PrivacyKeyring, options: PseudonymiserOptions = {}): Pseudonymiser {
  const cacheSize = options.cacheSize ?? 10_000;
  const knownIds = new Set([keys.current.id, ...keys.previous.map((key) => key.id)]);
  const allKeys = [keys.current, ...keys.previous].map((key) => ({ id: key.id, hmac: createHmacSha256(key.secret) }));
  const { id: currentId, hmac: current } = allKeys[0]!;
  const caches: Record<PseudonymField, PseudonymCache> = {
    sessionId: createPseudonymCache(cacheSize),
    ipAddress: createPseudonymCache(cacheSize),
    // User agents are long and few: a scan of the last 8 seen saves hashing the whole string per event.
    userAgent: createPseudonymCache(cacheSize, 8),
  };
  return {
    keyId: currentId,
    pseudonymise(field, value) {
      const cache = caches[field];
      let pseudonym = cache.get(value);
      if (pseudonym === undefined) {
        pseudonym = pseudonymUnder(current, currentId, field, value);
        cache.add(value, pseudonym);
      }
      return pseudonym;
    },
    candidates(field, value) {
      return allKeys.map((key) => pseudonymUnder(key.hmac, key.id, field, value));
    },
    isPseudonym(value) {
      // A non-string (only from an unvalidated caller) goes to the regex, which reads it as text, as it always did.
      if (typeof value === 'string' && (value.length !== PSEUDONYM_LENGTH || !value.startsWith(PSEUDONYM_PREFIX))) return false;
      const match = PSEUDONYM_FORMAT.exec(value);
      return match !== null && knownIds.has(match[1]!);
    },
  };
}
