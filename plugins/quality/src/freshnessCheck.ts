import { skippedResult, type CheckContext, type CheckResult, type CheckStatus, type QualityCheck } from './checkResult.js';
import type { ResolvedQualityOptions } from './qualityOptions.js';
import { formatAge, formatInstant } from './timeSlices.js';

/**
 * Freshness: how old the newest stored interaction is (one index lookup). An assistant that answers
 * questions but whose events stop arriving — a broken pipeline, a full disk, a dead writer — shows
 * up here first. An event dated in the future (a client's clock) counts as age 0 and is named.
 */
export function freshnessCheck(options: ResolvedQualityOptions['freshness']): QualityCheck {
  return {
    name: 'freshness',
    async run(context: CheckContext): Promise<CheckResult> {
      const { newest } = await context.source.rawExtent();
      if (newest === null) return skippedResult('freshness', 'no interactions stored yet');
      const ageMs = Math.max(0, context.now - newest);
      const status: CheckStatus = ageMs > options.failAfter ? 'fail' : ageMs > options.warnAfter ? 'warn' : 'pass';
      const future = newest > context.now ? ` (dated ${formatAge(newest - context.now)} in the future: check the sender's clock)` : '';
      return {
        check: 'freshness',
        status,
        observed: ageMs / 1_000,
        unit: 's',
        threshold: `older than ${formatAge(options.warnAfter)} warns, older than ${formatAge(options.failAfter)} fails`,
        message: `newest interaction is ${formatAge(ageMs)} old (${formatInstant(newest)})${future}`,
        readings: [{ name: 'quality.freshness_seconds', value: ageMs / 1_000, unit: 's' }],
        details: { newest: formatInstant(newest) },
      };
    },
  };
}
