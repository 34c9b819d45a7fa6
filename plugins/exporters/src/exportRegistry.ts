import { basename } from 'node:path';
import { ExportOptionError } from './exportErrors.js';
import type { ExportFormat } from './exportFormat.js';
import type { ExportSource } from './exportSource.js';
import { csvFormat } from './csvFormat.js';
import { jsonFormat } from './jsonFormat.js';
import { jsonlFormat } from './jsonlFormat.js';
import { interactionsSource } from './interactionsSource.js';
import { sessionsSource } from './sessionsSource.js';
import { businessMetricsSource, contentSource, queriesSource } from './insightsSources.js';

/** The `extensions` key under which a plugin contributes export formats. */
export const EXPORT_FORMATS = 'exportFormats';
/** The `extensions` key under which a plugin contributes export sources (datasets). */
export const EXPORT_SOURCES = 'exportSources';

export const BUILT_IN_FORMATS: readonly ExportFormat[] = [jsonlFormat, jsonFormat, csvFormat];
export const BUILT_IN_SOURCES: readonly ExportSource[] = [interactionsSource, sessionsSource, queriesSource, contentSource, businessMetricsSource];

/** The formats and datasets an export can use. */
export interface ExportRegistry {
  readonly formats: readonly ExportFormat[];
  readonly sources: readonly ExportSource[];
  /** The format named `name`; throws naming the known ones. */
  format(name: string): ExportFormat;
  /** The source of `dataset`; throws naming the known ones. */
  source(dataset: string): ExportSource;
  /** The format a file name's ending selects (`.csv`, `.jsonl.gz`), if any. */
  formatForFile(path: string): ExportFormat | undefined;
}

export interface ExportRegistryOptions {
  /** Extra formats; an invalid one, or one whose name is taken, throws. */
  formats?: readonly ExportFormat[];
  /** Extra sources; an invalid one, or one whose dataset is taken, throws. */
  sources?: readonly ExportSource[];
  /**
   * Reads plugin contributions: `PluginContext.contributions` inside a plugin, `strata.contributions`
   * outside. Formats under `exportFormats` and sources under `exportSources` are added; an invalid
   * one, or one whose name is taken, is skipped and passed to `onSkipped` (a third party's mistake
   * must not stop every export).
   */
  contributions?: <T>(key: string) => T[];
  onSkipped?(kind: 'format' | 'source', reason: string): void;
}

const NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** The built-in formats and sources, plus the ones given and contributed. */
export function createExportRegistry(options: ExportRegistryOptions = {}): ExportRegistry {
  const formats = new Map<string, ExportFormat>(BUILT_IN_FORMATS.map((format) => [format.name, format]));
  const sources = new Map<string, ExportSource>(BUILT_IN_SOURCES.map((source) => [source.dataset, source]));
  const addFormat = (candidate: unknown, where: string): void => {
    const problem = formatProblem(candidate) ?? (formats.has((candidate as ExportFormat).name) ? `a format named "${(candidate as ExportFormat).name}" is already registered` : undefined);
    if (problem) throw new ExportOptionError(where, problem);
    formats.set((candidate as ExportFormat).name, candidate as ExportFormat);
  };
  const addSource = (candidate: unknown, where: string): void => {
    const problem = sourceProblem(candidate) ?? (sources.has((candidate as ExportSource).dataset) ? `a dataset named "${(candidate as ExportSource).dataset}" is already registered` : undefined);
    if (problem) throw new ExportOptionError(where, problem);
    sources.set((candidate as ExportSource).dataset, candidate as ExportSource);
  };
  options.formats?.forEach((format, index) => addFormat(format, `formats[${index}]`));
  options.sources?.forEach((source, index) => addSource(source, `sources[${index}]`));
  if (options.contributions) {
    const contributed = (kind: 'format' | 'source', key: string, add: (candidate: unknown, where: string) => void) => {
      options.contributions!<unknown>(key).forEach((candidate, index) => {
        try {
          add(candidate, `extensions.${key}[${index}]`);
        } catch (error) {
          options.onSkipped?.(kind, (error as Error).message);
        }
      });
    };
    contributed('format', EXPORT_FORMATS, addFormat);
    contributed('source', EXPORT_SOURCES, addSource);
  }

  const formatList = [...formats.values()];
  const sourceList = [...sources.values()];
  return {
    formats: formatList,
    sources: sourceList,
    format(name) {
      const format = formats.get(name);
      if (!format) throw new ExportOptionError('format', `${JSON.stringify(name)} is not a known format; known formats: ${[...formats.keys()].join(', ')}`);
      return format;
    },
    source(dataset) {
      const source = sources.get(dataset);
      if (!source) throw new ExportOptionError('dataset', `${JSON.stringify(dataset)} is not a known dataset; known datasets: ${[...sources.keys()].join(', ')}`);
      return source;
    },
    formatForFile(path) {
      const name = basename(path).toLowerCase().replace(/\.gz$/, '');
      return formatList.find((format) => format.extensions.some((extension) => name.endsWith(extension.toLowerCase())));
    },
  };
}

function formatProblem(candidate: unknown): string | undefined {
  if (typeof candidate !== 'object' || candidate === null) return 'must be an ExportFormat object { name, extensions, description, encoder, decode? }';
  const format = candidate as Partial<ExportFormat>;
  if (typeof format.name !== 'string' || !NAME.test(format.name)) return `name must be lower case letters, digits and -, got ${JSON.stringify(format.name)}`;
  if (!Array.isArray(format.extensions) || !format.extensions.every((extension) => typeof extension === 'string' && /^\.[A-Za-z0-9.]+$/.test(extension))) {
    return `format "${format.name}": extensions must be file endings with their dot, such as [".parquet"]`;
  }
  if (typeof format.description !== 'string') return `format "${format.name}": description must be a string`;
  if (typeof format.encoder !== 'function') return `format "${format.name}": encoder must be a function (dataset) => { begin, rows, end }`;
  if (format.decode !== undefined && typeof format.decode !== 'function') return `format "${format.name}": decode must be a function or absent`;
  return undefined;
}

function sourceProblem(candidate: unknown): string | undefined {
  if (typeof candidate !== 'object' || candidate === null) return 'must be an ExportSource object { dataset, description, access, columns, filters, rows }';
  const source = candidate as Partial<ExportSource>;
  if (typeof source.dataset !== 'string' || !NAME.test(source.dataset)) return `dataset must be lower case letters, digits and -, got ${JSON.stringify(source.dataset)}`;
  const name = `source "${source.dataset}"`;
  if (typeof source.description !== 'string') return `${name}: description must be a string`;
  if (source.access !== 'interactions' && source.access !== 'summaries') return `${name}: access must be "interactions" or "summaries", got ${JSON.stringify(source.access)}`;
  const types = ['text', 'number', 'integer', 'boolean', 'timestamp', 'json'];
  if (!Array.isArray(source.columns) || source.columns.length === 0 || !source.columns.every((column) => typeof column?.name === 'string' && column.name !== '' && types.includes(column.type))) {
    return `${name}: columns must be a non-empty array of { name, type } with type one of ${types.join(', ')}`;
  }
  if (typeof source.filters !== 'object' || source.filters === null || Object.keys(source.filters).some((key) => !['range', 'userRole', 'queryType'].includes(key))) {
    return `${name}: filters must be an object whose keys are among range, userRole, queryType`;
  }
  if (typeof source.rows !== 'function') return `${name}: rows must be a function (query, context) => AsyncIterable of row batches`;
  return undefined;
}
