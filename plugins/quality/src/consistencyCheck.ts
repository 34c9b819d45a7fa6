import { skippedResult, worse, type CheckContext, type CheckResult, type CheckStatus, type QualityCheck } from './checkResult.js';
import type { BucketMeasures, SessionComparison } from './qualitySource.js';
import { DAY_MS, HOUR_MS, betweenSlices, ceilTo, floorTo, formatInstant, slices } from './timeSlices.js';

const SESSION_CHUNK = 500;
const EXAMPLES = 10;

/** Why a rollup and the raw rows disagree; `raw-missing` is the one deletions explain. */
export type MismatchKind = 'missing-from-rollup' | 'raw-missing' | 'values-differ' | 'session-missing';

export interface Mismatch {
  scope: 'hour' | 'day' | 'session';
  kind: MismatchKind;
  /** Bucket start (hour, day) — sessions are named by one of their event ids instead. */
  at?: string;
  userRole?: string;
  queryType?: string;
  eventId?: string;
  /** Measure name → [expected from the rows below, stored in the rollup]. */
  differences: Record<string, [number, number]>;
}

const MEASURES = ['interactions', 'successes', 'ratingSum', 'ratingCount', 'codeSnippets', 'citations', 'followUps', 'sessionsStarted', 'sessionsConverted'] as const;
const SESSION_MEASURES = ['queries', 'successes', 'ratingSum', 'ratingCount', 'codeSnippets', 'citations', 'maxTurn', 'startTime', 'lastActivity'] as const;

/**
 * Consistency: rollups against what they summarise.
 * - Every whole hour of the window: the raw rows counted by role and query type against `rollup_hour`.
 * - Every UTC day the window touches: `rollup_day` against the sum of its `rollup_hour` rows (with
 *   the hours checked against raw rows, this ties the days to the raw rows too).
 * - Every session with a raw row in the window: its stored totals against all its raw rows.
 * Rollups outlive raw rows (retention deletes raw rows only), so hours and sessions are compared
 * only after the oldest raw row's hour: earlier rollups are history with nothing left to compare.
 * Rollups holding more than the raw rows warn (rows deleted by range leave their counts behind;
 * erasing a session takes it out of the rollups too);
 * raw rows the rollups lack, or sums that differ, fail.
 */
export function consistencyCheck(): QualityCheck {
  return {
    name: 'consistency',
    async run(context: CheckContext): Promise<CheckResult> {
      const { source, window } = context;
      const extent = await source.rawExtent();
      if (extent.oldest === null) return skippedResult('consistency', 'no interactions stored yet');
      const comparableFrom = floorTo(extent.oldest, HOUR_MS) + HOUR_MS;
      const hours = { from: Math.max(ceilTo(window.from, HOUR_MS), comparableFrom), to: floorTo(window.to, HOUR_MS) };
      const mismatches: Mismatch[] = [];
      let hoursCompared = 0;
      let first = true;
      const pause = async () => {
        if (!first) await betweenSlices(context.signal);
        first = false;
      };

      if (hours.from < hours.to) {
        for (const hour of slices(hours, HOUR_MS)) {
          await pause();
          const { raw, rollup } = await source.hourAgainstRollup(hour);
          mismatches.push(...compareBuckets('hour', formatInstant(hour.from), raw, rollup));
          hoursCompared += 1;
        }
      }

      let daysCompared = 0;
      for (let day = floorTo(window.from, DAY_MS); day < window.to; day += DAY_MS) {
        await pause();
        const { day: daily, hours: hourly } = await source.dayAgainstHours({ from: day, to: day + DAY_MS });
        mismatches.push(...compareBuckets('day', formatInstant(day).slice(0, 10), hourly, daily));
        daysCompared += 1;
      }

      const sessionIds = new Set<string>();
      for (const hour of slices(window, HOUR_MS)) {
        await pause();
        for (const id of await source.sessionsIn(hour)) sessionIds.add(id);
      }
      let sessionsCompared = 0;
      let sessionsBeforeRawRows = 0;
      const ids = [...sessionIds];
      for (let start = 0; start < ids.length; start += SESSION_CHUNK) {
        await pause();
        for (const comparison of await source.compareSessions(ids.slice(start, start + SESSION_CHUNK))) {
          const startTime = comparison.stored?.startTime ?? comparison.raw?.startTime ?? 0;
          if (startTime < comparableFrom) {
            sessionsBeforeRawRows += 1;
            continue;
          }
          sessionsCompared += 1;
          const mismatch = compareSession(comparison);
          if (mismatch) mismatches.push(mismatch);
        }
      }

      if (hoursCompared === 0 && daysCompared === 0 && sessionsCompared === 0) {
        return skippedResult('consistency', `no whole hour, day or session of the window lies after the oldest raw row (${formatInstant(extent.oldest)})`);
      }
      let status: CheckStatus = 'pass';
      for (const mismatch of mismatches) status = worse(status, mismatch.kind === 'raw-missing' ? 'warn' : 'fail');
      const rollupMismatches = mismatches.filter((mismatch) => mismatch.scope !== 'session').length;
      const sessionMismatches = mismatches.length - rollupMismatches;
      const limitedByRetention =
        comparableFrom > ceilTo(window.from, HOUR_MS)
          ? ` (raw rows start ${formatInstant(extent.oldest)}: earlier hours and sessions are not compared, their rollups are history)`
          : '';
      const compared = `${hoursCompared} hour(s) against raw rows${hoursCompared > 0 ? ` from ${formatInstant(hours.from)}` : ''}${limitedByRetention}, ${daysCompared} day(s) against their hours, ${sessionsCompared} session(s)`;
      return {
        check: 'consistency',
        status,
        observed: mismatches.length,
        unit: 'mismatches',
        threshold: 'rollup lacking raw rows or sums differing fails; rollup above raw rows (deleted) warns',
        message:
          mismatches.length === 0
            ? `rollups match: ${compared}`
            : `${describeMismatches(mismatches)}; compared ${compared}`,
        readings: [
          { name: 'quality.rollup_mismatches', value: rollupMismatches, unit: 'buckets' },
          { name: 'quality.session_mismatches', value: sessionMismatches, unit: 'sessions' },
        ],
        details: {
          rawRowsFrom: formatInstant(extent.oldest),
          comparedFrom: formatInstant(comparableFrom),
          hoursCompared,
          daysCompared,
          sessionsCompared,
          sessionsStartedBeforeRawRows: sessionsBeforeRawRows,
          examples: mismatches.slice(0, EXAMPLES),
        },
      };
    },
  };
}

/** Compares `expected` (what the rollup should hold) with `stored`, by role and query type. */
function compareBuckets(scope: 'hour' | 'day', at: string, expected: readonly BucketMeasures[], stored: readonly BucketMeasures[]): Mismatch[] {
  const key = (measures: BucketMeasures) => `${measures.userRole}\u0000${measures.queryType}`;
  const storedByKey = new Map(stored.map((measures) => [key(measures), measures]));
  const expectedByKey = new Map(expected.map((measures) => [key(measures), measures]));
  const mismatches: Mismatch[] = [];
  for (const bucketKey of new Set([...expectedByKey.keys(), ...storedByKey.keys()])) {
    const want = expectedByKey.get(bucketKey);
    const have = storedByKey.get(bucketKey);
    const reference = (want ?? have)!;
    const differences: Record<string, [number, number]> = {};
    for (const measure of MEASURES) {
      const a = want?.[measure];
      const b = have?.[measure];
      // Session counts exist only between rollups; raw rows do not carry them.
      if (want !== undefined && have !== undefined && (a === undefined || b === undefined)) continue;
      if ((a ?? 0) !== (b ?? 0)) differences[measure] = [a ?? 0, b ?? 0];
    }
    if (Object.keys(differences).length === 0) continue;
    const wantCount = want?.interactions ?? 0;
    const haveCount = have?.interactions ?? 0;
    // Two rollups written in one transaction can only disagree through corruption: no direction excuses it.
    const kind: MismatchKind = scope === 'day' ? 'values-differ' : wantCount > haveCount ? 'missing-from-rollup' : wantCount < haveCount ? 'raw-missing' : 'values-differ';
    mismatches.push({ scope, kind, at, userRole: reference.userRole, queryType: reference.queryType, differences });
  }
  return mismatches;
}

function compareSession(comparison: SessionComparison): Mismatch | undefined {
  const { raw, stored } = comparison;
  const eventId = comparison.exampleEventId;
  if (!raw) return undefined;
  if (!stored) return { scope: 'session', kind: 'session-missing', ...(eventId ? { eventId } : {}), differences: { queries: [raw.queries, 0] } };
  const differences: Record<string, [number, number]> = {};
  for (const measure of SESSION_MEASURES) {
    if (raw[measure] !== stored[measure]) differences[measure] = [raw[measure], stored[measure]];
  }
  if (Object.keys(differences).length === 0) return undefined;
  const kind: MismatchKind = raw.queries > stored.queries ? 'missing-from-rollup' : raw.queries < stored.queries ? 'raw-missing' : 'values-differ';
  return { scope: 'session', kind, ...(eventId ? { eventId } : {}), differences };
}

function describeMismatches(mismatches: readonly Mismatch[]): string {
  const counts = new Map<string, number>();
  for (const mismatch of mismatches) {
    const label = `${SCOPES[mismatch.scope]} ${KINDS[mismatch.kind]}`;
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  return [...counts].map(([label, count]) => `${count} ${label}`).join('; ');
}

const SCOPES: Record<Mismatch['scope'], string> = { hour: 'hourly rollup row(s)', day: 'daily rollup row(s)', session: 'session(s)' };

const KINDS: Record<MismatchKind, string> = {
  'missing-from-rollup': 'lack raw rows (rows stored without updating the rollups)',
  'raw-missing': 'count more than the raw rows left (rows deleted; rollups keep history)',
  'values-differ': 'have sums that differ from what they summarise',
  'session-missing': 'have raw rows but no session row',
};
