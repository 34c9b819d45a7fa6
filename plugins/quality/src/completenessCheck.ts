import { formatRate, skippedResult, statusAbove, worse, type CheckContext, type CheckResult, type CheckStatus, type QualityCheck, type QualityReading } from './checkResult.js';
import { OPTIONAL_FIELDS, REQUIRED_FIELDS } from './interactionFields.js';
import type { ResolvedQualityOptions } from './qualityOptions.js';
import { HOUR_MS, betweenSlices, slices } from './timeSlices.js';

/**
 * Completeness: among the window's raw rows, the share where each field is null or blank (text of
 * only whitespace). Required fields are held to `warnRate`/`failRate`; optional ones are measured and
 * held to their own ceiling when one is configured. Read one hour at a time.
 */
export function completenessCheck(options: ResolvedQualityOptions['completeness']): QualityCheck {
  return {
    name: 'completeness',
    async run(context: CheckContext): Promise<CheckResult> {
      const fields = [...REQUIRED_FIELDS, ...OPTIONAL_FIELDS];
      const missing = new Map<string, number>(fields.map((field) => [field, 0]));
      let rows = 0;
      for (const [index, hour] of slices(context.window, HOUR_MS).entries()) {
        if (index > 0) await betweenSlices(context.signal);
        const counted = await context.source.missingValues(hour, fields);
        rows += counted.rows;
        for (const field of fields) missing.set(field, missing.get(field)! + (counted.missing[field] ?? 0));
      }
      if (rows === 0) return skippedResult('completeness', 'no interactions in the window');

      const rate = (field: string) => missing.get(field)! / rows;
      const readings: QualityReading[] = [
        { name: 'quality.rows_checked', value: rows, unit: 'rows', labels: { check: 'completeness' } },
        ...fields.map((field) => ({ name: 'quality.null_rate', value: rate(field), unit: 'ratio', labels: { field } })),
      ];
      let status: CheckStatus = 'pass';
      const problems: string[] = [];
      let worstRequired = { field: REQUIRED_FIELDS[0]!, rate: 0 };
      for (const field of REQUIRED_FIELDS) {
        const value = rate(field);
        if (value > worstRequired.rate) worstRequired = { field, rate: value };
        const fieldStatus = statusAbove(value, options.warnRate, options.failRate);
        if (fieldStatus !== 'pass') problems.push(`${field} missing in ${missing.get(field)} row(s) (${formatRate(value)})`);
        status = worse(status, fieldStatus);
      }
      for (const field of OPTIONAL_FIELDS) {
        const ceiling = options.optionalFields[field];
        if (ceiling === undefined || rate(field) <= ceiling) continue;
        problems.push(`optional ${field} null in ${formatRate(rate(field))} of rows (ceiling ${formatRate(ceiling)})`);
        status = worse(status, 'warn');
      }
      const ceilings = Object.entries(options.optionalFields).map(([field, ceiling]) => `${field} null > ${ceiling} warns`);
      return {
        check: 'completeness',
        status,
        observed: worstRequired.rate,
        unit: 'ratio',
        threshold: [`required field null/blank rate > ${options.warnRate} warns, > ${options.failRate} fails`, ...ceilings].join('; '),
        message:
          problems.length === 0
            ? `every required field present in all ${rows} row(s) of the window`
            : `${problems.join('; ')} (of ${rows} row(s) in the window)`,
        readings,
        details: {
          rows,
          missing: Object.fromEntries(missing),
          worstRequiredField: worstRequired.rate > 0 ? worstRequired.field : null,
        },
      };
    },
  };
}
