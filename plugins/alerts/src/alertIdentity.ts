import { createHash } from 'node:crypto';
import type { CompiledRule } from './compiledRule.js';

/** An alert's labels: the reading's, then the rule's, then `alertname` and `severity` (later ones win). */
export function alertLabels(rule: CompiledRule, readingLabels: Readonly<Record<string, string>> | undefined): Record<string, string> {
  return sortedLabels({ ...readingLabels, ...rule.labels, alertname: rule.name, severity: rule.severity });
}

/** A stable identity for a label set: the same labels always give the same 16 hex digits. */
export function fingerprintOf(labels: Readonly<Record<string, string>>): string {
  const canonical = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

/** The group an alert belongs to: the values of the `groupBy` labels (a missing label is ''). */
export function groupOf(labels: Readonly<Record<string, string>>, groupBy: readonly string[]): { key: string; labels: Record<string, string> } {
  const groupLabels: Record<string, string> = {};
  for (const name of groupBy) groupLabels[name] = labels[name] ?? '';
  const key = groupBy.length === 0 ? '{}' : `{${groupBy.map((name) => `${name}=${JSON.stringify(groupLabels[name])}`).join(',')}}`;
  return { key, labels: groupLabels };
}

function sortedLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
