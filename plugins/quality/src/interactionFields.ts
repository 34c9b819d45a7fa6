/** The kind of value a stored interaction field holds. */
export type FieldType = 'number' | 'string' | 'boolean';

/** A field of a stored interaction, as checks and rules name it (the API's camelCase). */
export interface InteractionField {
  readonly name: string;
  readonly type: FieldType;
  /** May be absent (null) in a valid interaction. */
  readonly nullable: boolean;
  /** Computed from other fields rather than stored (`contentCount`); never checked for completeness. */
  readonly derived?: boolean;
}

/**
 * Every field checks and business rules may read. `queryHash` is derived at ingest but stored;
 * `contentCount` is the number of knowledge items the answer used. Raw IPs and user agents are
 * never stored, so only their keyed hashes are here.
 */
export const INTERACTION_FIELDS: readonly InteractionField[] = [
  { name: 'eventId', type: 'string', nullable: false },
  { name: 'sessionId', type: 'string', nullable: false },
  { name: 'timestamp', type: 'number', nullable: false },
  { name: 'userRole', type: 'string', nullable: false },
  { name: 'query', type: 'string', nullable: false },
  { name: 'queryHash', type: 'string', nullable: false },
  { name: 'queryType', type: 'string', nullable: false },
  { name: 'responseTime', type: 'number', nullable: false },
  { name: 'responseLength', type: 'number', nullable: true },
  { name: 'codeSnippetsShown', type: 'number', nullable: false },
  { name: 'citationsProvided', type: 'number', nullable: false },
  { name: 'success', type: 'boolean', nullable: false },
  { name: 'userRating', type: 'number', nullable: true },
  { name: 'followUpQuery', type: 'boolean', nullable: false },
  { name: 'conversationTurn', type: 'number', nullable: false },
  { name: 'ipHash', type: 'string', nullable: true },
  { name: 'userAgentHash', type: 'string', nullable: true },
  { name: 'contentCount', type: 'number', nullable: false, derived: true },
];

const BY_NAME = new Map(INTERACTION_FIELDS.map((field) => [field.name, field]));

export function interactionField(name: string): InteractionField | undefined {
  return BY_NAME.get(name);
}

/** Fields every stored interaction must carry: the completeness check's "required" set. */
export const REQUIRED_FIELDS: readonly string[] = INTERACTION_FIELDS.filter((field) => !field.nullable && !field.derived).map((field) => field.name);

/** Fields an interaction may leave out; their null rates are measured and can be given a ceiling. */
export const OPTIONAL_FIELDS = ['responseLength', 'userRating', 'ipHash', 'userAgentHash'] as const;
export type OptionalField = (typeof OPTIONAL_FIELDS)[number];

/** A row as rules see it: field name to value; absent optional values are null. */
export type FieldValues = Readonly<Record<string, number | string | boolean | null>>;
