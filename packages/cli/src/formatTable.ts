export interface TableColumn {
  header: string;
  /** Numbers read best right-aligned. Default `left`. */
  align?: 'left' | 'right';
  /** Longer cells are cut and end with `…`. */
  maxWidth?: number;
}

export interface TableOptions {
  /** Spaces between columns. Default 2. */
  gap?: number;
  /** Prefix of every line. Default two spaces. */
  indent?: string;
}

/**
 * Renders rows as a plain-text table with a header and a rule, columns padded to their widest cell.
 * Widths count code points, so accented and most non-Latin text lines up; control characters in
 * cells are shown as spaces so one odd value cannot break the layout.
 */
export function formatTable(columns: readonly TableColumn[], rows: ReadonlyArray<ReadonlyArray<string | number>>, options: TableOptions = {}): string {
  const gap = ' '.repeat(options.gap ?? 2);
  const indent = options.indent ?? '  ';
  const cells = rows.map((row) => columns.map((column, index) => fitCell(String(row[index] ?? ''), column.maxWidth)));
  const widths = columns.map((column, index) => Math.max(displayWidth(column.header), ...cells.map((row) => displayWidth(row[index]!))));
  const render = (row: readonly string[]) =>
    `${indent}${row.map((cell, index) => pad(cell, widths[index]!, columns[index]!.align ?? 'left', index === row.length - 1)).join(gap)}`.trimEnd();
  const lines = [render(columns.map((column) => column.header)), render(widths.map((width) => '-'.repeat(width))), ...cells.map(render)];
  return lines.join('\n');
}

/** Two columns of label and value, for totals. */
export function formatPairs(pairs: ReadonlyArray<readonly [string, string | number]>, indent = '  '): string {
  const width = Math.max(0, ...pairs.map(([label]) => displayWidth(label)));
  return pairs.map(([label, value]) => `${indent}${label}${' '.repeat(width - displayWidth(label))}  ${value}`).join('\n');
}

function fitCell(text: string, maxWidth: number | undefined): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ');
  if (maxWidth === undefined) return clean;
  const points = [...clean];
  return points.length <= maxWidth ? clean : `${points.slice(0, Math.max(0, maxWidth - 1)).join('')}…`;
}

function displayWidth(text: string): number {
  return [...text].length;
}

function pad(text: string, width: number, align: 'left' | 'right', last: boolean): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(text)));
  if (align === 'right') return fill + text;
  return last ? text : text + fill;
}

/** 12345 → `12,345`. */
export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}

/** 0.934 → `93.4%`; null → `-`. */
export function formatPercent(value: number | null): string {
  return value === null ? '-' : `${(value * 100).toFixed(1)}%`;
}

/** Seconds with a unit; null → `-`. */
export function formatSeconds(value: number | null): string {
  return value === null ? '-' : `${value.toFixed(2)} s`;
}

/** A duration in ms for people: `850 ms`, `12.3 s`, `4 min 05 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1_000);
  return `${minutes} min ${String(seconds).padStart(2, '0')} s`;
}

/** Bytes for people: `512 B`, `1.5 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
