import { PSEUDONYM_FORMAT, type PseudonymField } from './pseudonymiser.js';
import { scrubText } from './scrubber.js';

/** How a dead-letter scrubber treats the identifiers of an event. */
export interface DeadLetterIdentifiers {
  /** Stored form of an identifier: its pseudonym, or undefined to drop it (no key available). */
  pseudonymise(field: PseudonymField, value: string): string | undefined;
  /** The session id to write (its pseudonym, a placeholder, or the id itself when sessions are not pseudonymised). */
  sessionId(value: string): string;
}

/** Without a key: network identifiers are dropped and session ids replaced by `<SESSION>`. */
const KEYLESS: DeadLetterIdentifiers = {
  pseudonymise: () => undefined,
  sessionId: (value) => (PSEUDONYM_FORMAT.test(value) ? value : '<SESSION>'),
};

const HASH_FIELD: Record<'ipAddress' | 'userAgent', 'ipHash' | 'userAgentHash'> = { ipAddress: 'ipHash', userAgent: 'userAgentHash' };

/**
 * Scrubs one line Strata is about to write outside the tiers (a dead-letter `original`, a reason,
 * an issue message). A JSON line is scrubbed as data: `ipAddress` and `userAgent` are replaced by
 * `ipHash`/`userAgentHash` pseudonyms (or dropped), `sessionId` is pseudonymised, and every other
 * string and number, keys included, goes through the text scrubber. Anything else (a truncated or
 * malformed line, a sentence) is scrubbed as text, after the values of those three fields are
 * replaced wherever they appear as `"field": "value"`. Never throws.
 */
export function scrubDeadLetterText(line: string, scrub: (text: string) => string = scrubText, identifiers: DeadLetterIdentifiers = KEYLESS): string {
  const trimmed = line.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[') || trimmed.startsWith('"')) {
    try {
      const parsed: unknown = JSON.parse(line);
      return JSON.stringify(scrubJson(parsed, scrub, identifiers));
    } catch {
      // Not JSON (or too deeply nested to walk): scrubbed as text below.
    }
  }
  return scrub(replaceIdentifierValues(line, identifiers));
}

/** The keyless dead-letter scrubber: every built-in recogniser, identifiers dropped or replaced by placeholders. */
export function scrubDeadLetterLine(line: string): string {
  return scrubDeadLetterText(line);
}

/** Identifier fields are recognised in every object, not only at the top: a caller may have passed an array of events or a wrapper. */
function scrubJson(value: unknown, scrub: (text: string) => string, identifiers: DeadLetterIdentifiers): unknown {
  if (typeof value === 'string') return PSEUDONYM_FORMAT.test(value) ? value : scrub(value);
  if (typeof value === 'number') {
    const text = String(value);
    const scrubbed = scrub(text);
    return scrubbed === text ? value : scrubbed;
  }
  if (Array.isArray(value)) return value.map((item) => scrubJson(item, scrub, identifiers));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'ipAddress' || key === 'userAgent') {
      const pseudonym = typeof inner === 'string' ? identifiers.pseudonymise(key, inner) : undefined;
      if (pseudonym !== undefined) out[HASH_FIELD[key]] = pseudonym;
      continue;
    }
    if (key === 'sessionId' && typeof inner === 'string') {
      out.sessionId = identifiers.sessionId(inner);
      continue;
    }
    out[scrub(key)] = scrubJson(inner, scrub, identifiers);
  }
  return out;
}

function replaceIdentifierValues(text: string, identifiers: DeadLetterIdentifiers): string {
  if (!text.includes('"sessionId"') && !text.includes('"ipAddress"') && !text.includes('"userAgent"')) return text;
  // `"field": "value"` in text that is not valid JSON; the closing quote may be cut off.
  const identifierValue = /"(sessionId|ipAddress|userAgent)"[ \t]{0,16}:[ \t]{0,16}"((?:[^"\\\n]|\\.){0,4096})"?/g;
  return text.replace(identifierValue, (_match, field: 'sessionId' | 'ipAddress' | 'userAgent', escaped: string) => {
    const value = unescapeJson(escaped);
    if (field === 'sessionId') return `"sessionId":${JSON.stringify(identifiers.sessionId(value))}`;
    const pseudonym = identifiers.pseudonymise(field, value);
    return `"${HASH_FIELD[field]}":${JSON.stringify(pseudonym ?? '<REMOVED>')}`;
  });
}

function unescapeJson(escaped: string): string {
  try {
    return JSON.parse(`"${escaped}"`) as string;
  } catch {
    return escaped;
  }
}
