/**
 * The audit schema, as ordered migrations in code (one list per dialect, same shape). A database
 * records the versions it has applied in `audit_schema_migrations`; opening a store applies the
 * missing ones. Never edit a released migration: append a new one.
 */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sqlite: readonly string[];
  readonly postgres: readonly string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'audit_events: one row per stored instance and per extraction',
    sqlite: [
      `CREATE TABLE audit_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL CHECK (kind IN ('store', 'extraction')),
        at TEXT NOT NULL,
        caller TEXT NOT NULL,
        outcome TEXT NOT NULL,
        rule TEXT,
        profile TEXT,
        key_id TEXT,
        study_uid TEXT,
        series_uid TEXT,
        sop_uid TEXT,
        failure_reason INTEGER,
        destination TEXT,
        detail TEXT
      )`,
      'CREATE INDEX audit_events_at ON audit_events (at, id)',
      'CREATE INDEX audit_events_caller_at ON audit_events (caller, at)',
      'CREATE INDEX audit_events_study ON audit_events (study_uid)',
    ],
    postgres: [
      `CREATE TABLE audit_events (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('store', 'extraction')),
        at TIMESTAMPTZ NOT NULL,
        caller TEXT NOT NULL,
        outcome TEXT NOT NULL,
        rule TEXT,
        profile TEXT,
        key_id TEXT,
        study_uid TEXT,
        series_uid TEXT,
        sop_uid TEXT,
        failure_reason INTEGER,
        destination TEXT,
        detail TEXT
      )`,
      'CREATE INDEX audit_events_at ON audit_events (at, id)',
      'CREATE INDEX audit_events_caller_at ON audit_events (caller, at)',
      'CREATE INDEX audit_events_study ON audit_events (study_uid)',
    ],
  },
];

export const MIGRATIONS_TABLE_SQL =
  'CREATE TABLE IF NOT EXISTS audit_schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)';

/** Key of the PostgreSQL advisory lock that serialises migrations across gateway replicas. */
export const MIGRATION_LOCK_KEY = 0x5367_7741; // "SgwA"
