import { createHash } from 'node:crypto';

/** A schema name used unquoted-safe in SQL: lower case letters, digits and underscores, 63 bytes at most. */
export const SCHEMA_NAME_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

/** `"schema".name`: every statement names its schema, so pooled connections never depend on search_path. */
export type Qualify = (name: string) => string;

export function qualifier(schema: string): Qualify {
  const prefix = `"${schema.replace(/"/g, '""')}".`;
  return (name) => prefix + name;
}

/** A SQL literal for a string (identifiers and constants in DDL, where parameters are not allowed). */
export function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export interface NamedStatement {
  name: string;
  text: string;
}

/**
 * A prepared statement named after its text: each pooled connection parses and plans it once, then
 * only binds parameters. Statements are per connection in PostgreSQL, so the name only has to be
 * unique per text.
 */
export class StatementNames {
  private readonly byText = new Map<string, NamedStatement>();

  get(text: string): NamedStatement {
    let statement = this.byText.get(text);
    if (!statement) {
      statement = { name: `hp_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`, text };
      this.byText.set(text, statement);
    }
    return statement;
  }
}
