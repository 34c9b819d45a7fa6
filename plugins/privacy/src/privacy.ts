import type { Interaction } from '@strata/core';
import { scrubDeadLetterText, type DeadLetterIdentifiers } from './deadLetterScrubber.js';
import type { Pseudonymiser } from './pseudonymiser.js';
import { createScrubber, type Scrubber } from './scrubber.js';

/**
 * Text fields of an interaction that can be scrubbed. `query` is what users type and is scrubbed
 * by default. `content.id`, `content.type` and `userRole` are labels the application chooses
 * (knowledge-base ids, role names); scrub them only if yours can carry user data, since a changed
 * content id no longer joins with the knowledge item it names.
 */
export const SCRUBBABLE_FIELDS = ['query', 'content.id', 'content.type', 'userRole'] as const;

export type ScrubbableField = (typeof SCRUBBABLE_FIELDS)[number];

export interface PrivacyConfig {
  pseudonymiser: Pseudonymiser;
  /** Default: every built-in recogniser. */
  scrubber?: Scrubber;
  /** Default `['query']`. */
  fields?: readonly ScrubbableField[];
  /** Replace `sessionId` by its pseudonym. Default true. */
  pseudonymiseSessionId?: boolean;
}

/** Everything the privacy processor does, as plain functions the core and tools can call. */
export interface Privacy {
  /** Id of the key new pseudonyms are made with. */
  readonly keyId: string;
  readonly scrubber: Scrubber;
  readonly pseudonymiser: Pseudonymiser;
  scrubText(text: string): string;
  /**
   * Makes an interaction storable, in place: `sessionId` pseudonymised, `ipAddress`/`userAgent`
   * turned into `ipHash`/`userAgentHash` and deleted, configured text fields scrubbed. Returns it.
   */
  scrubInteraction(event: Interaction): Interaction;
  /** Scrubs a line written outside the tiers (dead letters): see `scrubDeadLetterText`. */
  scrubDeadLetterLine(line: string): string;
  /** How a session id the application knows is stored: its pseudonyms under every known key (or itself when sessions are not pseudonymised). */
  storedSessionIds(sessionId: string): string[];
}

export function createPrivacy(config: PrivacyConfig): Privacy {
  const { pseudonymiser } = config;
  const scrubber = config.scrubber ?? createScrubber();
  const fields = new Set(config.fields ?? ['query']);
  const pseudonymiseSessionId = config.pseudonymiseSessionId ?? true;
  const scrub = (text: string) => scrubber.scrub(text);
  const scrubQuery = fields.has('query');
  const scrubRole = fields.has('userRole');
  const scrubContentId = fields.has('content.id');
  const scrubContentType = fields.has('content.type');

  const sessionIdOf = (value: string) => (!pseudonymiseSessionId || pseudonymiser.isPseudonym(value) ? value : pseudonymiser.pseudonymise('sessionId', value));
  const identifiers: DeadLetterIdentifiers = {
    pseudonymise: (field, value) => pseudonymiser.pseudonymise(field, value),
    sessionId: sessionIdOf,
  };

  return {
    keyId: pseudonymiser.keyId,
    scrubber,
    pseudonymiser,
    scrubText: scrub,
    scrubInteraction(event) {
      event.sessionId = sessionIdOf(event.sessionId);
      // userAgent first: the core adds ipAddress then userAgent last, and V8 removes the last-added
      // property of an object by undoing its shape transition (~30 ns), while deleting an earlier one
      // turns the object into a slow dictionary (~700 ns per event, measured).
      //
      // Stored forms sent back in (a re-import) are kept when they are our pseudonyms; anything else
      // in those fields could be a raw value, so it is pseudonymised like one. A hash made here from
      // the raw field is always our pseudonym, so only a hash that came in is checked (a regex less
      // per field and event).
      const userAgent = event.userAgent;
      if (userAgent !== undefined) delete event.userAgent;
      if (userAgent !== undefined && userAgent !== '') event.userAgentHash = pseudonymiser.pseudonymise('userAgent', userAgent);
      else if (event.userAgentHash && !pseudonymiser.isPseudonym(event.userAgentHash)) event.userAgentHash = pseudonymiser.pseudonymise('userAgent', event.userAgentHash);
      const ipAddress = event.ipAddress;
      if (ipAddress !== undefined) delete event.ipAddress;
      if (ipAddress !== undefined && ipAddress !== '') event.ipHash = pseudonymiser.pseudonymise('ipAddress', ipAddress);
      else if (event.ipHash && !pseudonymiser.isPseudonym(event.ipHash)) event.ipHash = pseudonymiser.pseudonymise('ipAddress', event.ipHash);
      if (scrubQuery) event.query = scrubber.scrub(event.query);
      if (scrubRole) event.userRole = scrubber.scrub(event.userRole);
      if (scrubContentId || scrubContentType) {
        for (const item of event.content) {
          if (scrubContentId) item.id = scrubber.scrub(item.id);
          if (scrubContentType) item.type = scrubber.scrub(item.type);
        }
      }
      return event;
    },
    scrubDeadLetterLine: (line) => scrubDeadLetterText(line, scrub, identifiers),
    storedSessionIds: (sessionId) => (pseudonymiseSessionId && !pseudonymiser.isPseudonym(sessionId) ? pseudonymiser.candidates('sessionId', sessionId) : [sessionId]),
  };
}
