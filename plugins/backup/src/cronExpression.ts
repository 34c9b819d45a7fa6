/**
 * A structural check of a cron expression, so a bad `schedule` is reported with the option's path
 * when the config is validated rather than later, when the core schedules jobs. The core's scheduler
 * (node-cron) remains the judge of the finer syntax (`L`, `W`, `#`, wrap-around ranges): this check
 * accepts everything node-cron accepts and catches what is plainly wrong — the number of fields, a
 * value out of range, an unknown name, a stray character.
 */

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const MONTH_NAMES = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const NICKNAMES = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

const SECOND: FieldSpec = { name: 'second', min: 0, max: 59 };
const FIVE_FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES },
  // 7 is Sunday too, as in most crons.
  { name: 'day-of-week', min: 0, max: 7, names: DAY_NAMES },
];

/** Why `expression` is not a cron expression, or undefined when it may be one. */
export function cronExpressionProblem(expression: string): string | undefined {
  const trimmed = expression.trim();
  if (trimmed.startsWith('@')) {
    return NICKNAMES.includes(trimmed.toLowerCase()) ? undefined : `"${trimmed}" is not one of ${NICKNAMES.join(', ')}`;
  }
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    return `has ${fields.length} field(s); a cron expression has five (minute hour day-of-month month day-of-week) or six (seconds first), e.g. "0 3 * * *" for 03:00 daily`;
  }
  const specs = fields.length === 6 ? [SECOND, ...FIVE_FIELDS] : FIVE_FIELDS;
  for (const [index, field] of fields.entries()) {
    const spec = specs[index]!;
    const problem = fieldProblem(field, spec);
    if (problem) return `${spec.name} field "${field}" ${problem}`;
  }
  return undefined;
}

function fieldProblem(field: string, spec: FieldSpec): string | undefined {
  if (!/^[A-Za-z0-9*,/\-?#]+$/.test(field)) return 'has a character a cron field cannot hold';
  for (const item of field.split(',')) {
    if (item === '') return 'has an empty list item';
    // What follows `/` (a step) or `#` (the nth weekday) is a count, not a value of the field.
    const [base, ...counts] = item.split(/[/#]/);
    if (counts.some((count) => !/^\d+$/.test(count))) return `has "${item}": what follows / or # must be a number`;
    for (const number of base!.match(/\d+/g) ?? []) {
      const value = Number(number);
      if (value < spec.min || value > spec.max) return `has ${number}, outside ${spec.min}-${spec.max}`;
    }
    for (const word of base!.match(/[a-z]+/gi) ?? []) {
      const lower = word.toLowerCase();
      // L (last) and W (nearest weekday) are node-cron's own letters.
      if (lower === 'l' || lower === 'w' || lower === 'lw') continue;
      if (spec.names?.some((name) => name === lower || name.slice(0, 3) === lower)) continue;
      return `has "${word}", which is not a ${spec.name}${spec.names ? ` (${spec.min}-${spec.max} or a name like ${spec.names[0]!.slice(0, 3)})` : ` (${spec.min}-${spec.max})`}`;
    }
  }
  return undefined;
}
