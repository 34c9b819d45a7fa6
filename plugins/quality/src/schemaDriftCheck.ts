import type { CheckContext, CheckResult, CheckStatus, QualityCheck } from './checkResult.js';
import type { ResolvedQualityOptions } from './qualityOptions.js';
import type { ColumnShape, IndexShape, SchemaSnapshot } from './qualitySource.js';

export type SchemaDifferenceKind =
  | 'missing-table'
  | 'unknown-table'
  | 'missing-column'
  | 'unknown-column'
  | 'changed-column'
  | 'missing-index'
  | 'changed-index'
  | 'version';

export interface SchemaDifference {
  kind: SchemaDifferenceKind;
  severity: 'warn' | 'fail';
  table?: string;
  column?: string;
  index?: string;
  /** What the migrations define and what the store holds, when both exist. */
  expected?: string;
  actual?: string;
}

/**
 * Schema drift: the live store's tables, columns and indexes against what the tier's migrations
 * define (for hot-sqlite: the migrations applied to an empty in-memory database). Something the
 * migrations define that is gone fails (writes or reads will break), as does a unique index gone
 * (ingest stops being idempotent); something added by hand, a changed column type or a missing
 * plain index warns. Indexes added by hand are listed but harmless.
 */
export function schemaDriftCheck(options: ResolvedQualityOptions['schema']): QualityCheck {
  const ignored = new Set(options.ignoreTables);
  return {
    name: 'schema',
    async run(context: CheckContext): Promise<CheckResult> {
      const [actual, expected] = [await context.source.schema(), await context.source.expectedSchema()];
      const { differences, extraIndexes } = compareSchemas(expected, actual, ignored);
      let status: CheckStatus = 'pass';
      for (const difference of differences) {
        if (difference.severity === 'fail') status = 'fail';
        else if (status === 'pass') status = 'warn';
      }
      return {
        check: 'schema',
        status,
        observed: differences.length,
        unit: 'differences',
        threshold: 'missing table, column or unique index fails; other drift warns',
        message:
          differences.length === 0
            ? `${Object.keys(expected.tables).length} table(s) match the migrations (schema version ${actual.version ?? 'none'})`
            : differences.map(describeDifference).join('; '),
        readings: [{ name: 'quality.schema_differences', value: differences.length, unit: 'differences' }],
        details: { version: actual.version, expectedVersion: expected.version, differences, indexesAddedByHand: extraIndexes, ignoredTables: [...ignored] },
      };
    },
  };
}

export function compareSchemas(expected: SchemaSnapshot, actual: SchemaSnapshot, ignoredTables: ReadonlySet<string> = new Set()): { differences: SchemaDifference[]; extraIndexes: string[] } {
  const differences: SchemaDifference[] = [];
  const extraIndexes: string[] = [];
  if (expected.version !== actual.version) {
    differences.push({
      kind: 'version',
      severity: (actual.version ?? 0) < (expected.version ?? 0) ? 'fail' : 'warn',
      expected: String(expected.version),
      actual: String(actual.version),
    });
  }
  for (const [table, want] of Object.entries(expected.tables)) {
    const have = actual.tables[table];
    if (!have) {
      differences.push({ kind: 'missing-table', severity: 'fail', table });
      continue;
    }
    const haveColumns = new Map(have.columns.map((column) => [column.name, column]));
    const wantColumns = new Set(want.columns.map((column) => column.name));
    for (const column of want.columns) {
      const present = haveColumns.get(column.name);
      if (!present) differences.push({ kind: 'missing-column', severity: 'fail', table, column: column.name, expected: describeColumn(column) });
      else if (describeColumn(present) !== describeColumn(column)) {
        differences.push({ kind: 'changed-column', severity: 'warn', table, column: column.name, expected: describeColumn(column), actual: describeColumn(present) });
      }
    }
    for (const column of have.columns) {
      if (!wantColumns.has(column.name)) differences.push({ kind: 'unknown-column', severity: 'warn', table, column: column.name, actual: describeColumn(column) });
    }
    const haveIndexes = new Map(have.indexes.map((index) => [index.name, index]));
    const wantIndexes = new Set(want.indexes.map((index) => index.name));
    for (const index of want.indexes) {
      const present = haveIndexes.get(index.name);
      if (!present) differences.push({ kind: 'missing-index', severity: index.unique ? 'fail' : 'warn', table, index: index.name, expected: describeIndex(index) });
      else if (describeIndex(present) !== describeIndex(index)) {
        differences.push({ kind: 'changed-index', severity: index.unique ? 'fail' : 'warn', table, index: index.name, expected: describeIndex(index), actual: describeIndex(present) });
      }
    }
    for (const index of have.indexes) if (!wantIndexes.has(index.name)) extraIndexes.push(`${index.name} ${describeIndex(index)}`);
  }
  for (const table of Object.keys(actual.tables)) {
    if (!expected.tables[table] && !ignoredTables.has(table)) differences.push({ kind: 'unknown-table', severity: 'warn', table });
  }
  return { differences, extraIndexes };
}

function describeColumn(column: ColumnShape): string {
  return [column.type || 'ANY', column.notNull ? 'NOT NULL' : '', column.primaryKey > 0 ? 'PRIMARY KEY' : '', column.generated ? 'GENERATED' : ''].filter(Boolean).join(' ');
}

function describeIndex(index: IndexShape): string {
  return `${index.unique ? 'UNIQUE ' : ''}(${index.columns.join(', ')})`;
}

function describeDifference(difference: SchemaDifference): string {
  const where = difference.column ? `${difference.table}.${difference.column}` : difference.index ? `${difference.index} on ${difference.table}` : (difference.table ?? '');
  switch (difference.kind) {
    case 'version':
      return `schema version ${difference.actual}, the migrations reach ${difference.expected}`;
    case 'missing-table':
      return `table ${where} is missing`;
    case 'unknown-table':
      return `table ${where} is not defined by the migrations (list it in schema.ignoreTables if it is meant to be there)`;
    case 'missing-column':
      return `column ${where} is missing`;
    case 'unknown-column':
      return `column ${where} (${difference.actual}) is not defined by the migrations`;
    case 'changed-column':
      return `column ${where} is ${difference.actual}, the migrations define ${difference.expected}`;
    case 'missing-index':
      return `index ${where} is missing`;
    case 'changed-index':
      return `index ${where} is ${difference.actual}, the migrations define ${difference.expected}`;
  }
}
