import type { FieldValues } from './interactionFields.js';
import type { ClosedRange } from './timeSlices.js';

/**
 * Everything the checks read, behind one interface, so the checks hold no SQL and a tier other
 * than hot-sqlite (PostgreSQL) only needs its own source. Every method only reads; each covers a
 * bounded range the caller chose (an hour, a day, a page), so the checks decide the slices and
 * yield to the event loop between them. Field names are the API's camelCase.
 */
export interface QualitySource {
  /** The tier read, for messages (`hot-sqlite`). */
  readonly name: string;
  /** Oldest and newest `timestamp` among the raw interactions; null when there are none. */
  rawExtent(): Promise<RawExtent>;
  /** Raw rows in the range. */
  countRows(range: ClosedRange): Promise<number>;
  /** Rows in the range and, per field, how many have it null or blank (text of only whitespace). */
  missingValues(range: ClosedRange, fields: readonly string[]): Promise<MissingValues>;
  /** Rows in the range whose `eventId` was stored before (copies beyond the first). */
  duplicateEventIds(range: ClosedRange): Promise<DuplicateCount>;
  /** Rows in the range whose query hash was already stored for the same session and conversation turn. */
  duplicateQueriesInTurn(range: ClosedRange): Promise<DuplicateCount>;
  /** One hour's raw rows counted by role and query type, and its hourly rollup rows, read in one snapshot. */
  hourAgainstRollup(hour: ClosedRange): Promise<{ raw: BucketMeasures[]; rollup: BucketMeasures[] }>;
  /** One day's daily rollup rows and the sum of its hourly rollup rows, by role and query type, in one snapshot. */
  dayAgainstHours(day: ClosedRange): Promise<{ day: BucketMeasures[]; hours: BucketMeasures[] }>;
  /** Distinct sessions with a raw row in the range. */
  sessionsIn(range: ClosedRange): Promise<string[]>;
  /** For each session: its totals recomputed from every raw row, and the stored session row (null when missing). */
  compareSessions(sessionIds: readonly string[]): Promise<SessionComparison[]>;
  /** Start of the first hour the hourly rollups hold (they outlive raw rows), or null when empty. */
  firstRollupHour(): Promise<number | null>;
  /** Interactions per hour from the hourly rollups, for hours in the range that have any (others are 0). */
  hourlyVolume(range: ClosedRange): Promise<Map<number, number>>;
  /** A page of raw rows in the range (oldest first) with the named fields; pass `cursor` back for the next page. */
  readFields(range: ClosedRange, fields: readonly string[], page: { cursor: string | null; limit: number }): Promise<FieldPage>;
  /** Tables, columns, indexes and schema version of the live store. */
  schema(): Promise<SchemaSnapshot>;
  /** The same, as the tier's migrations define it. */
  expectedSchema(): Promise<SchemaSnapshot>;
  /** Releases what the source opened (a read-only connection). Idempotent. */
  close(): Promise<void>;
}

export interface RawExtent {
  oldest: number | null;
  newest: number | null;
}

export interface MissingValues {
  rows: number;
  /** Field name → rows where it is null or blank. */
  missing: Record<string, number>;
}

export interface DuplicateCount {
  duplicates: number;
  /** A few of the duplicated keys, for the report. */
  examples: string[];
  /**
   * True when an earlier copy is found wherever it is stored (an index serves the lookup); false
   * when the store has no index for it and only copies within the same range were compared.
   */
  anywhere: boolean;
}

/** Counts and sums of one (bucket, role, query type). */
export interface BucketMeasures {
  userRole: string;
  queryType: string;
  interactions: number;
  successes: number;
  ratingSum: number;
  ratingCount: number;
  codeSnippets: number;
  citations: number;
  followUps: number;
  /** Only between rollups (day against hours): raw rows carry no session counts. */
  sessionsStarted?: number;
  sessionsConverted?: number;
}

export interface SessionTotals {
  queries: number;
  successes: number;
  ratingSum: number;
  ratingCount: number;
  codeSnippets: number;
  citations: number;
  maxTurn: number;
  startTime: number;
  lastActivity: number;
}

export interface SessionComparison {
  sessionId: string;
  /** One event id of the session's raw rows: reports name events, never sessions (see the README). */
  exampleEventId?: string;
  /** From the raw rows; null when the session has none left. */
  raw: SessionTotals | null;
  /** The stored session row; null when missing. */
  stored: SessionTotals | null;
}

export interface FieldPage {
  rows: FieldValues[];
  cursor: string | null;
}

export interface ColumnShape {
  name: string;
  /** Declared type, upper case (`INTEGER`, `TEXT`). */
  type: string;
  notNull: boolean;
  /** Position in the primary key (1-based), 0 when not part of it. */
  primaryKey: number;
  /** A generated (computed) column. */
  generated: boolean;
}

export interface IndexShape {
  name: string;
  unique: boolean;
  columns: string[];
}

export interface TableShape {
  columns: ColumnShape[];
  indexes: IndexShape[];
}

export interface SchemaSnapshot {
  /** Highest migration applied, or null when the store records none. */
  version: number | null;
  tables: Record<string, TableShape>;
}
