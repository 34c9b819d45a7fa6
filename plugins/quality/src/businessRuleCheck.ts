import { formatRate, skippedResult, statusAbove, type CheckContext, type CheckResult, type QualityCheck } from './checkResult.js';
import type { BusinessRuleOptions } from './qualityOptions.js';
import { parseRule } from './ruleLanguage.js';
import { betweenSlices } from './timeSlices.js';

/** Rows read per page; each page is one short statement, with a turn of the event loop after it. */
export const RULE_PAGE_SIZE = 5_000;
const EXAMPLES = 5;

/**
 * A business rule from config (`responseTime < 60`) run over every raw row of the window, a page
 * at a time, reading only the fields the rule names. A row whose answer is unknown (a field it
 * needs is null) is counted apart and is not a violation, as with an SQL CHECK constraint.
 */
export function businessRuleCheck(options: BusinessRuleOptions): QualityCheck {
  const rule = parseRule(options.name, options.rule);
  const check = `rule:${options.name}`;
  return {
    name: check,
    async run(context: CheckContext): Promise<CheckResult> {
      let rows = 0;
      let violations = 0;
      let unknown = 0;
      const examples: string[] = [];
      let cursor: string | null = null;
      do {
        if (rows > 0) await betweenSlices(context.signal);
        const page = await context.source.readFields(context.window, rule.fields, { cursor, limit: RULE_PAGE_SIZE });
        for (const row of page.rows) {
          const outcome = rule.evaluate(row);
          if (outcome === null) unknown += 1;
          else if (!outcome) {
            violations += 1;
            if (examples.length < EXAMPLES) examples.push(String(row.eventId));
          }
        }
        rows += page.rows.length;
        cursor = page.cursor;
      } while (cursor !== null);
      if (rows === 0) return skippedResult(check, 'no interactions in the window');

      const rate = violations / rows;
      const status = statusAbove(rate, options.warnRate, options.failRate);
      const about = options.description ? ` (${options.description})` : '';
      return {
        check,
        status,
        observed: rate,
        unit: 'ratio',
        threshold: `violation rate > ${options.warnRate} warns, > ${options.failRate} fails`,
        message:
          violations === 0
            ? `all ${rows - unknown} row(s) with the fields it needs meet ${rule.text}${about}${unknown > 0 ? `; ${unknown} row(s) lacked a field and were not judged` : ''}`
            : `${violations} of ${rows} row(s) (${formatRate(rate)}) break ${rule.text}${about}, e.g. events ${examples.join(', ')}`,
        readings: [
          { name: 'quality.rule_violation_rate', value: rate, unit: 'ratio', labels: { rule: options.name } },
          { name: 'quality.rule_violations', value: violations, unit: 'rows', labels: { rule: options.name } },
        ],
        details: { rule: rule.text, rows, violations, unknown, exampleEventIds: examples },
      };
    },
  };
}
