/** What a summary can refer to, besides `labels.<name>`. */
export const SUMMARY_FIELDS = ['value', 'threshold', 'op', 'metric', 'rule', 'severity', 'for'] as const;

const PLACEHOLDER = /\{\{\s*([^}|]*?)\s*(?:\|\s*([^}]*?)\s*)?\}\}/g;
const FILTERS = ['percent'] as const;

export interface SummaryValues {
  value: number | null;
  threshold: number;
  op: string;
  metric: string;
  rule: string;
  severity: string;
  for: string;
  labels: Readonly<Record<string, string>>;
}

/** Why a summary template cannot be rendered (an unknown placeholder or filter), or undefined. */
export function checkSummaryTemplate(template: string): string | undefined {
  for (const match of template.matchAll(PLACEHOLDER)) {
    const [placeholder, field = '', filter] = match;
    const known = (SUMMARY_FIELDS as readonly string[]).includes(field) || /^labels\.[A-Za-z_][A-Za-z0-9_]*$/.test(field);
    if (!known) return `unknown placeholder ${placeholder}; use ${SUMMARY_FIELDS.map((name) => `{{${name}}}`).join(', ')} or {{labels.<name>}}`;
    if (filter !== undefined && !(FILTERS as readonly string[]).includes(filter)) return `unknown filter "${filter}" in ${placeholder}; the only filter is percent ({{value|percent}})`;
  }
  return undefined;
}

/** Fills a template checked by `checkSummaryTemplate`. A missing label renders as the empty string. */
export function renderSummary(template: string, values: SummaryValues): string {
  return template.replace(PLACEHOLDER, (_placeholder, field: string, filter: string | undefined) => {
    const raw: unknown = field.startsWith('labels.') ? (values.labels[field.slice('labels.'.length)] ?? '') : values[field as (typeof SUMMARY_FIELDS)[number]];
    if (typeof raw === 'number') return filter === 'percent' ? formatPercent(raw) : formatNumber(raw);
    if (raw === null) return 'no value';
    return String(raw);
  });
}

/** Up to three decimals, without trailing zeros: `5.25`, `1000`, `0.953`. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return String(Number(value.toFixed(3)));
}

/** A ratio as a percentage with up to one decimal: 0.9531 → `95.3%`. */
export function formatPercent(value: number): string {
  return `${Number((value * 100).toFixed(1))}%`;
}
