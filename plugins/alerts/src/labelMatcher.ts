/** How a matcher compares a label: equal, not equal, matches a regex, does not match it. */
export type MatchOperator = '=' | '!=' | '=~' | '!~';

/** One condition on an alert's labels, as in Alertmanager (`severity=critical`, `alertname=~High.*`). */
export interface LabelMatcher {
  label: string;
  op: MatchOperator;
  value: string;
}

export const LABEL_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

// `s`: a quoted value may hold any character, line separators included.
const MATCHER_PATTERN = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/s;

/**
 * Parses `label=value`, `label!=value`, `label=~regex` or `label!~regex`. A value may be quoted
 * (`summary="disk full"`). Returns a reason instead of throwing, so callers can name the field.
 */
export function parseLabelMatcher(text: string): LabelMatcher | { problem: string } {
  const match = MATCHER_PATTERN.exec(text);
  if (!match) return { problem: `${JSON.stringify(text)} is not a matcher; write label=value, label!=value, label=~regex or label!~regex` };
  const [, label, op, raw] = match as unknown as [string, string, MatchOperator, string];
  const value = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? unquote(raw) : raw;
  const matcher: LabelMatcher = { label, op, value };
  const problem = checkLabelMatcher(matcher);
  return problem ? { problem } : matcher;
}

/** Why a matcher cannot be used (a bad label name or regex), or undefined when it can. */
export function checkLabelMatcher(matcher: LabelMatcher): string | undefined {
  if (!LABEL_NAME_PATTERN.test(matcher.label)) return `${JSON.stringify(matcher.label)} is not a label name (letters, digits and _, not starting with a digit)`;
  if (matcher.op === '=~' || matcher.op === '!~') {
    try {
      new RegExp(`^(?:${matcher.value})$`);
    } catch (error) {
      return `${JSON.stringify(matcher.value)} is not a regular expression (${(error as Error).message})`;
    }
  }
  return undefined;
}

/** The text `parseLabelMatcher` reads back as the same matcher; values that could be misread are quoted. */
export function formatLabelMatcher(matcher: LabelMatcher): string {
  const ambiguous = matcher.value === '' || /^[~="]|[\s,"\\]/.test(matcher.value);
  return `${matcher.label}${matcher.op}${ambiguous ? JSON.stringify(matcher.value) : matcher.value}`;
}

function unquote(quoted: string): string {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return quoted.slice(1, -1);
  }
}

/**
 * True when every matcher holds. A missing label counts as the empty string, so `team!=db` holds for
 * an alert without a team. Regexes are anchored: `=~High` matches `High` only, `=~High.*` its prefix.
 */
export function matchesAll(matchers: readonly LabelMatcher[], labels: Readonly<Record<string, string>>): boolean {
  return matchers.every((matcher) => matchesOne(matcher, labels[matcher.label] ?? ''));
}

function matchesOne(matcher: LabelMatcher, actual: string): boolean {
  switch (matcher.op) {
    case '=':
      return actual === matcher.value;
    case '!=':
      return actual !== matcher.value;
    case '=~':
      return new RegExp(`^(?:${matcher.value})$`).test(actual);
    case '!~':
      return !new RegExp(`^(?:${matcher.value})$`).test(actual);
  }
}
