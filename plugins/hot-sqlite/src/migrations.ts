import type { Migration } from './schemaMigrator.js';

/**
 * The hot tier's schema history. Never edit a released migration: add a new one.
 *
 * Times are INTEGER epoch ms (compact, indexable, no time-zone parsing); booleans are 0/1;
 * `content` is the JSON array of knowledge items used for the answer.
 */
export const HOT_SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'user_interactions',
    up(db) {
      db.exec(`
        CREATE TABLE user_interactions (
          id INTEGER PRIMARY KEY,
          event_id TEXT NOT NULL,
          session_id TEXT NOT NULL,
          timestamp INTEGER NOT NULL,
          user_role TEXT NOT NULL,
          query TEXT NOT NULL,
          query_hash TEXT NOT NULL,
          query_type TEXT NOT NULL,
          response_time REAL NOT NULL CHECK (response_time >= 0),
          response_length INTEGER,
          code_snippets_shown INTEGER NOT NULL DEFAULT 0,
          citations_provided INTEGER NOT NULL DEFAULT 0,
          success INTEGER NOT NULL CHECK (success IN (0, 1)),
          user_rating INTEGER CHECK (user_rating BETWEEN 1 AND 5),
          follow_up_query INTEGER NOT NULL DEFAULT 0 CHECK (follow_up_query IN (0, 1)),
          conversation_turn INTEGER NOT NULL DEFAULT 1 CHECK (conversation_turn >= 1),
          ip_hash TEXT,
          user_agent_hash TEXT,
          content TEXT NOT NULL DEFAULT '[]',
          created_at INTEGER NOT NULL
        );
        CREATE UNIQUE INDEX idx_user_interactions_event_id ON user_interactions (event_id);
        CREATE INDEX idx_user_interactions_timestamp ON user_interactions (timestamp);
        CREATE INDEX idx_user_interactions_session ON user_interactions (session_id);
      `);
    },
  },
];
