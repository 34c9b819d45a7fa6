/** How a column's values are written where a format needs types (CSV) and read back on import. */
export type ColumnType = 'text' | 'number' | 'integer' | 'boolean' | 'timestamp' | 'json';

/** One column of a dataset. JSON formats write the row objects as they are; CSV uses these in order. */
export interface ColumnSpec {
  /** The row object's key and the CSV header. */
  readonly name: string;
  readonly type: ColumnType;
}

/** A dataset's name and columns, as a format sees it. */
export interface DatasetShape {
  readonly name: string;
  readonly columns: readonly ColumnSpec[];
}

/** One exported row: plain data (JSON-compatible values; timestamps are epoch milliseconds). */
export type ExportRow = Readonly<Record<string, unknown>>;

/** Encodes the rows of one export. Each call returns the bytes to write next, in order. */
export interface FormatEncoder {
  /** Written before the first row: a CSV header, the `[` of a JSON array. */
  begin(): string | Uint8Array;
  /** One batch of rows. */
  rows(rows: readonly ExportRow[]): string | Uint8Array;
  /** Written after the last row. */
  end(): string | Uint8Array;
}

export interface DecodeOptions {
  /** The input's name (a path, `stdin`), for error messages. */
  readonly source: string;
  /** The columns an interaction may have (what import accepts), with their types. */
  readonly columns: readonly ColumnSpec[];
}

/**
 * A file format for export, and optionally for import. Built in: `jsonl`, `json`, `csv`. A third
 * party adds one by contributing it under `extensions: { exportFormats: [format] }` from a plugin
 * (or by passing it to `createExportRegistry`).
 */
export interface ExportFormat {
  /** What `--format` names (`csv`); lower case letters, digits and `-`. */
  readonly name: string;
  /** File name endings that select it when `--format` is not given, with the dot (`.csv`). */
  readonly extensions: readonly string[];
  /** One line for `--help` and error messages. */
  readonly description: string;
  /** Starts encoding one export of `dataset`. Called once per export; the encoder may keep state. */
  encoder(dataset: DatasetShape): FormatEncoder;
  /**
   * For import: reads the input and yields each record as the JSON text of one interaction object,
   * in order, pulling input only as records are consumed (so memory stays flat). Throws
   * `ImportFileError` when the input as a whole is malformed. Absent: the format is export-only.
   */
  decode?(input: AsyncIterable<Uint8Array | string>, options: DecodeOptions): AsyncIterable<string>;
}
