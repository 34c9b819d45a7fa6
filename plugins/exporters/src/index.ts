export { CSV_RECORD_END, csvField, protectFormula, unprotectFormula } from './csvCells.js';
export { csvFormat } from './csvFormat.js';
export { ExportOptionError, ExportWriteError, ImportFileError } from './exportErrors.js';
export {
  exportToFile,
  exportToStream,
  prepareExport,
  type ExportEnvironment,
  type ExportRequest,
  type ExportResult,
  type FileExportResult,
  type PreparedExport,
} from './exportDataset.js';
export { exportEnvironmentOf } from './exportEnvironment.js';
export type { ColumnSpec, ColumnType, DatasetShape, DecodeOptions, ExportFormat, ExportRow, FormatEncoder } from './exportFormat.js';
export {
  BUILT_IN_FORMATS,
  BUILT_IN_SOURCES,
  EXPORT_FORMATS,
  EXPORT_SOURCES,
  createExportRegistry,
  type ExportRegistry,
  type ExportRegistryOptions,
} from './exportRegistry.js';
export { exportOperation, type ExportFilter, type ExportQuery, type ExportSource, type ExportSourceContext } from './exportSource.js';
export { ExportersOptionsSchema, RotatingSinkOptionsSchema, type ExportersOptions, type ResolvedExportersOptions, type RotatingSinkOptionsInput } from './exportersOptions.js';
export { exportersPlugin } from './exportersPlugin.js';
export {
  alertHistorySource,
  historyExportSource,
  qualityHistorySource,
  type AlertHistoryEntryLike,
  type HistorySourceOptions,
  type NewestFirstHistory,
  type QualityHistoryEntryLike,
} from './historySources.js';
export { importFile, importRecords, type ImportRequest, type ImportResult, type IngestLines } from './importRecords.js';
export { INTERACTION_COLUMNS, INTERACTION_IMPORT_COLUMNS } from './interactionColumns.js';
export { businessMetricsSource, contentSource, queriesSource } from './insightsSources.js';
export { interactionsSource } from './interactionsSource.js';
export { jsonFormat } from './jsonFormat.js';
export { jsonlFormat } from './jsonlFormat.js';
export { RotatingJsonlSink, type FsyncPolicy, type RotatingJsonlSinkOptions, type SinkRecovery } from './rotatingJsonlSink.js';
export { sessionsSource } from './sessionsSource.js';
export { parseTimeBound } from './timeBounds.js';
export { exportersPlugin as default } from './exportersPlugin.js';
