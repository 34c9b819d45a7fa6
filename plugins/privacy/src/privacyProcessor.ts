import { describeError, type Interaction, type Processor, type ProcessorResult } from '@strata/core';
import type { Privacy } from './privacy.js';

/** The privacy processor, with the two hooks the core calls outside the batch path. */
export interface PrivacyProcessor extends Processor {
  /** Synchronous: scrubbing a batch does no I/O. */
  process(batch: Interaction[]): ProcessorResult;
  /** The dead-letter scrubber: applied to rejected lines, their reasons and issues before they are written. */
  scrubText(text: string): string;
  /** For erasure: the stored forms of a session id. */
  storedSessionIds(sessionId: string): string[];
}

/**
 * Runs `privacy.scrubInteraction` on every event of a batch, in place. An event that cannot be
 * scrubbed (nothing in this package throws, but a custom validator or a getter might) is rejected
 * rather than stored unscrubbed, after its session id, network fields and query are removed so the
 * dead-letter copy carries none of them.
 */
export function createPrivacyProcessor(privacy: Privacy, name = 'privacy'): PrivacyProcessor {
  return {
    name,
    process(batch: Interaction[]): ProcessorResult {
      let rejected: ProcessorResult['rejected'];
      let kept: Interaction[] | undefined;
      for (let index = 0; index < batch.length; index += 1) {
        const event = batch[index]!;
        try {
          privacy.scrubInteraction(event);
          kept?.push(event);
        } catch (error) {
          kept ??= batch.slice(0, index);
          rejected ??= [];
          delete event.userAgent;
          delete event.ipAddress;
          event.sessionId = '<UNSCRUBBED>';
          event.query = '<UNSCRUBBED>';
          rejected.push({ event, reason: `could not scrub the event, so it was not stored (${describeError(error)})` });
        }
      }
      return kept ? { events: kept, rejected } : { events: batch };
    },
    scrubText: (text) => privacy.scrubDeadLetterLine(text),
    storedSessionIds: (sessionId) => privacy.storedSessionIds(sessionId),
  };
}
