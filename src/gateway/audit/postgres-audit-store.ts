import { Pool } from 'pg';
import type { PoolClient } from 'pg';

import { StegoGatewayError } from '../../stego/errors';
import { COLUMNS, entryFromRow, extractionRow, storeRow, whereClause } from './audit-rows';
import type { AuditRow, RowValues } from './audit-rows';
import { MIGRATION_LOCK_KEY, MIGRATIONS, MIGRATIONS_TABLE_SQL } from './migrations';
import type { AuditEntry, AuditFilter, AuditStore, ExtractionRecord, StoreRecord } from './types';

const INSERT_SQL = `INSERT INTO audit_events (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`;

/**
 * The audit store shared by several gateway replicas: PostgreSQL through a `pg` pool. Same schema
 * as SQLite; migrations run under an advisory lock so replicas starting together apply each once.
 */
export class PostgresAuditStore implements AuditStore {
  readonly backend = 'postgres' as const;
  private closed = false;

  private constructor(private readonly pool: Pool) {}

  static async open(connectionString: string, poolSize = 4): Promise<PostgresAuditStore> {
    const pool = new Pool({ connectionString, max: poolSize, connectionTimeoutMillis: 10_000 });
    // An idle client's connection error must not crash the process; the next query reports it.
    pool.on('error', () => undefined);
    try {
      const client = await pool.connect();
      try {
        await migrate(client);
      } finally {
        client.release();
      }
    } catch (cause) {
      await pool.end().catch(() => undefined);
      // Never put the connection string in the message: it may hold a password.
      throw new StegoGatewayError('AUDIT_UNAVAILABLE', 'cannot open the PostgreSQL audit store', {
        httpStatus: 503,
        cause,
      });
    }
    return new PostgresAuditStore(pool);
  }

  recordStore(record: StoreRecord): Promise<void> {
    return this.write(() => storeRow(record));
  }

  recordExtraction(record: ExtractionRecord): Promise<void> {
    return this.write(() => extractionRow(record));
  }

  async query(filter: AuditFilter): Promise<readonly AuditEntry[]> {
    this.checkOpen();
    const where = whereClause(
      filter,
      (n) => `$${n}`,
      (at) => at,
    );
    const n = where.params.length;
    try {
      const result = await this.pool.query<AuditRow>(
        `SELECT * FROM audit_events ${where.sql} ORDER BY at DESC, id DESC LIMIT $${n + 1} OFFSET $${n + 2}`,
        [...where.params, filter.limit, filter.offset],
      );
      return result.rows.map(entryFromRow);
    } catch (cause) {
      throw new StegoGatewayError('AUDIT_UNAVAILABLE', 'audit store query failed', {
        httpStatus: 503,
        cause,
      });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private async write(row: () => RowValues): Promise<void> {
    this.checkOpen();
    const values = row();
    try {
      await this.pool.query(INSERT_SQL, [...values]);
    } catch (cause) {
      throw new StegoGatewayError('AUDIT_UNAVAILABLE', 'audit store write failed', {
        httpStatus: 503,
        cause,
      });
    }
  }

  private checkOpen(): void {
    if (this.closed)
      throw new StegoGatewayError('AUDIT_UNAVAILABLE', 'the audit store is closed', {
        httpStatus: 503,
      });
  }
}

async function migrate(client: PoolClient): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(MIGRATIONS_TABLE_SQL);
    const applied = new Set(
      (
        await client.query<{ version: number }>('SELECT version FROM audit_schema_migrations')
      ).rows.map((r) => r.version),
    );
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      for (const sql of migration.postgres) await client.query(sql);
      await client.query(
        'INSERT INTO audit_schema_migrations (version, applied_at) VALUES ($1, $2)',
        [migration.version, new Date().toISOString()],
      );
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
