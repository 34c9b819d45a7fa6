import { formatRate, skippedResult, statusAbove, worse, type CheckContext, type CheckResult, type CheckStatus, type QualityCheck } from './checkResult.js';
import type { ResolvedQualityOptions } from './qualityOptions.js';
import { HOUR_MS, betweenSlices, slices } from './timeSlices.js';

const EXAMPLES = 5;

/**
 * Uniqueness: rows of the window whose event id was already stored (ingest is idempotent by event
 * id, so any is a failure), and rows repeating a question (same query hash) already asked in the
 * same session and conversation turn — a client that sent one answer twice without an event id.
 * Read one hour at a time; each row's earlier copy is looked up wherever it is stored.
 */
export function uniquenessCheck(options: ResolvedQualityOptions['uniqueness']): QualityCheck {
  return {
    name: 'uniqueness',
    async run(context: CheckContext): Promise<CheckResult> {
      let rows = 0;
      let eventCopies = 0;
      let queryCopies = 0;
      let eventsAnywhere = true;
      let queriesAnywhere = true;
      const eventExamples: string[] = [];
      const queryExamples: string[] = [];
      for (const [index, hour] of slices(context.window, HOUR_MS).entries()) {
        if (index > 0) await betweenSlices(context.signal);
        rows += await context.source.countRows(hour);
        const events = await context.source.duplicateEventIds(hour);
        const queries = await context.source.duplicateQueriesInTurn(hour);
        eventCopies += events.duplicates;
        queryCopies += queries.duplicates;
        eventsAnywhere &&= events.anywhere;
        queriesAnywhere &&= queries.anywhere;
        eventExamples.push(...events.examples.slice(0, EXAMPLES - eventExamples.length));
        queryExamples.push(...queries.examples.slice(0, EXAMPLES - queryExamples.length));
      }
      if (rows === 0) return skippedResult('uniqueness', 'no interactions in the window');

      const queryRate = queryCopies / rows;
      let status: CheckStatus = eventCopies > 0 ? 'fail' : 'pass';
      status = worse(status, statusAbove(queryRate, options.warnRate, options.failRate));
      const findings: string[] = [];
      if (eventCopies > 0) findings.push(`${eventCopies} row(s) repeat an event id already stored (e.g. ${eventExamples.join(', ')})`);
      if (queryCopies > 0) findings.push(`${queryCopies} row(s) (${formatRate(queryRate)}) repeat a question already asked in the same session turn (e.g. events ${queryExamples.join(', ')})`);
      const scope = (anywhere: boolean) => (anywhere ? 'anywhere in the tier' : 'within the same hour (no index to look further)');
      return {
        check: 'uniqueness',
        status,
        observed: eventCopies + queryCopies,
        unit: 'rows',
        threshold: `repeated event id fails; question repeated in a session turn: > ${options.warnRate} warns, > ${options.failRate} fails`,
        message: findings.length === 0 ? `no repeated event id or question in a session turn among ${rows} row(s)` : findings.join('; '),
        readings: [
          { name: 'quality.duplicate_event_ids', value: eventCopies, unit: 'rows' },
          { name: 'quality.duplicate_queries_in_turn', value: queryCopies, unit: 'rows' },
          { name: 'quality.duplicate_query_rate', value: queryRate, unit: 'ratio' },
        ],
        details: {
          rows,
          duplicateEventIds: eventCopies,
          duplicateQueriesInTurn: queryCopies,
          eventIdExamples: eventExamples,
          queryExampleEventIds: queryExamples,
          eventIdsComparedAgainst: scope(eventsAnywhere),
          queriesComparedAgainst: scope(queriesAnywhere),
        },
      };
    },
  };
}
