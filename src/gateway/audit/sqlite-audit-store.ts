import Database from 'better-sqlite3';

import { StegoGatewayError } from '../../stego/errors';
import { COLUMNS, entryFromRow, extractionRow, storeRow, whereClause } from './audit-rows';
import type { AuditRow, RowValues } from './audit-rows';
import { MIGRATIONS, MIGRATIONS_TABLE_SQL } from './migrations';
import type { AuditEntry, AuditFilter, AuditStore, ExtractionRecord, StoreRecord } from './types';

/**
 * The default audit store: one SQLite file (better-sqlite3 12; 13 needs Node 22) in WAL mode, so
 * readers (GET /audit) never block the writer. synchronous=NORMAL: a committed row survives a
 * process crash; a power cut may lose the last few commits but never corrupts the file, and no
 * fsync per row stalls the event loop (better-sqlite3 is synchronous). One process only: several
 * gateway replicas share PostgreSQL instead.
 */
export class SqliteAuditStore implements AuditStore {
  readonly backend = 'sqlite' as const;
  private readonly insert: Database.Statement<unknown[]>;
  private closed = false;

  private constructor(private readonly db: Database.Database) {
    this.insert = db.prepare(
      `INSERT INTO audit_events (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`,
    );
  }

  static open(path: string): SqliteAuditStore {
    let db: Database.Database;
    try {
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      migrate(db);
    } catch (cause) {
      throw new StegoGatewayError(
        'AUDIT_UNAVAILABLE',
        `cannot open the SQLite audit store [${path}]`,
        {
          httpStatus: 503,
          cause,
        },
      );
    }
    return new SqliteAuditStore(db);
  }

  recordStore(record: StoreRecord): Promise<void> {
    return this.write(() => storeRow(record));
  }

  recordExtraction(record: ExtractionRecord): Promise<void> {
    return this.write(() => extractionRow(record));
  }

  query(filter: AuditFilter): Promise<readonly AuditEntry[]> {
    return new Promise((resolve, reject) => {
      try {
        this.checkOpen();
        const where = whereClause(
          filter,
          () => '?',
          (at) => at.toISOString(),
        );
        const rows = this.db
          .prepare(
            `SELECT * FROM audit_events ${where.sql} ORDER BY at DESC, id DESC LIMIT ? OFFSET ?`,
          )
          .all(...where.params, filter.limit, filter.offset) as AuditRow[];
        resolve(rows.map(entryFromRow));
      } catch (error) {
        reject(wrap(error, 'query'));
      }
    });
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.db.close();
    }
    return Promise.resolve();
  }

  private write(row: () => RowValues): Promise<void> {
    try {
      this.checkOpen();
      const values = row();
      this.insert.run(values[0], values[1].toISOString(), ...values.slice(2));
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(wrap(error, 'write'));
    }
  }

  private checkOpen(): void {
    if (this.closed)
      throw new StegoGatewayError('AUDIT_UNAVAILABLE', 'the audit store is closed', {
        httpStatus: 503,
      });
  }
}

function wrap(error: unknown, what: string): StegoGatewayError {
  if (error instanceof StegoGatewayError) return error;
  return new StegoGatewayError('AUDIT_UNAVAILABLE', `audit store ${what} failed`, {
    httpStatus: 503,
    cause: error,
  });
}

function migrate(db: Database.Database): void {
  db.exec(MIGRATIONS_TABLE_SQL);
  // IMMEDIATE: take the write lock before reading the applied versions (another process may migrate).
  db.transaction(() => {
    const applied = new Set(
      (
        db.prepare('SELECT version FROM audit_schema_migrations').all() as { version: number }[]
      ).map((r) => r.version),
    );
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      for (const sql of migration.sqlite) db.exec(sql);
      db.prepare('INSERT INTO audit_schema_migrations (version, applied_at) VALUES (?, ?)').run(
        migration.version,
        new Date().toISOString(),
      );
    }
  }).immediate();
}
