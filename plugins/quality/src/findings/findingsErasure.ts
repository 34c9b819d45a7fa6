import type { ErasureParticipant } from '@strata/core';
import type { InsightsService } from './insightsService.js';

/** What the participant asks of the hot tier: whether it still holds a question. */
export interface QuestionLookup {
  questionHeld(queryHash: string): boolean;
  close(): void | Promise<void>;
}

/**
 * The quality plugin's part in `strata.erase`: stored findings quote question texts (a trending
 * question, an unanswered cluster's examples), and a question only the erased subject asked is
 * deleted from the hot tier with its text, so every finding quoting a question the hot tier no
 * longer holds is deleted too. Safe to repeat: it compares with what the hot tier holds now.
 */
export function findingsErasureParticipant(insights: () => InsightsService, openLookup: () => QuestionLookup): ErasureParticipant {
  return {
    name: 'quality',
    async eraseSubject() {
      const lookup = openLookup();
      try {
        return insights().forgetQuestions((hash) => lookup.questionHeld(hash));
      } finally {
        await lookup.close();
      }
    },
  };
}
