/**
 * Versioned schema migrations. `schema_migrations` records every version applied; `migrate()`
 * applies the pending ones in order, each with its bookkeeping row in one transaction, so a
 * crash leaves the schema at a whole version. Migrations are append-only: never edit one that
 * has shipped, add the next version instead.
 *
 * Conventions: every row carries its tenant as a small integer (`tenants.id`; dead letters may
 * have none); vehicle keys are UBIGINT (16 hex digits = 64 bits); times are TIMESTAMP (UTC,
 * microseconds); maps and lists are JSON.
 */
import { StoreError } from '../../core/errors.js';
import type { SerialConnection } from './connection.js';

/** One schema version: statements applied together with its bookkeeping row. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
}

/** An applied migration as recorded in `schema_migrations`. */
export interface AppliedMigration {
  readonly version: number;
  readonly name: string;
  /** Epoch ms. */
  readonly appliedAt: number;
}

const SEVERITY_CHECK = `CHECK (severity IN ('info', 'low', 'medium', 'high', 'critical'))`;

/** The schema, oldest first. Versions are 1, 2, 3, ... without gaps. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    statements: [
      `CREATE TABLE tenants (
        id USMALLINT PRIMARY KEY,
        name VARCHAR NOT NULL UNIQUE
      )`,
      `CREATE TABLE signal_dict (
        id UINTEGER PRIMARY KEY,
        path VARCHAR NOT NULL UNIQUE
      )`,
      // No key and no index: written only by the appender, read by scans pruned by zone maps.
      // Column order is the appender's chunk layout (see signal-writer.ts).
      `CREATE TABLE signals (
        tenant USMALLINT NOT NULL,
        vehicle UBIGINT NOT NULL,
        ts TIMESTAMP NOT NULL,
        signal UINTEGER NOT NULL,
        value DOUBLE,
        text VARCHAR
      )`,
      `CREATE TABLE security_events (
        tenant USMALLINT NOT NULL,
        id VARCHAR NOT NULL,
        vehicle UBIGINT NOT NULL,
        ts TIMESTAMP NOT NULL,
        event_id UINTEGER NOT NULL,
        name VARCHAR NOT NULL,
        sensor VARCHAR NOT NULL,
        count BIGINT NOT NULL,
        severity VARCHAR NOT NULL ${SEVERITY_CHECK},
        context JSON,
        source VARCHAR NOT NULL,
        PRIMARY KEY (tenant, id)
      )`,
      `CREATE TABLE api_events (
        tenant USMALLINT NOT NULL,
        id VARCHAR NOT NULL,
        ts TIMESTAMP NOT NULL,
        service VARCHAR NOT NULL,
        vehicle UBIGINT,
        actor VARCHAR,
        method VARCHAR,
        endpoint VARCHAR NOT NULL,
        status INTEGER,
        source_ip VARCHAR,
        user_agent VARCHAR,
        source VARCHAR NOT NULL,
        PRIMARY KEY (tenant, id)
      )`,
      `CREATE TABLE alerts (
        tenant USMALLINT NOT NULL,
        id VARCHAR NOT NULL,
        vehicle UBIGINT,
        ts TIMESTAMP NOT NULL,
        detected_at TIMESTAMP NOT NULL,
        rule VARCHAR NOT NULL,
        title VARCHAR NOT NULL,
        severity VARCHAR NOT NULL ${SEVERITY_CHECK},
        tags JSON NOT NULL,
        details JSON NOT NULL,
        PRIMARY KEY (tenant, id)
      )`,
      `CREATE TABLE vehicles (
        tenant USMALLINT NOT NULL,
        id UBIGINT NOT NULL,
        make VARCHAR,
        model VARCHAR,
        year INTEGER,
        trim VARCHAR,
        region VARCHAR,
        software JSON,
        -- NULL until the vehicle is first seen (a registered vehicle that has sent nothing).
        first_seen TIMESTAMP,
        last_seen TIMESTAMP,
        signal_count BIGINT NOT NULL,
        PRIMARY KEY (tenant, id)
      )`,
      // Keyed by id alone: a record rejected before its tenant was known has none.
      `CREATE TABLE dead_letters (
        id VARCHAR PRIMARY KEY,
        tenant USMALLINT,
        source VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        code VARCHAR NOT NULL,
        reason VARCHAR NOT NULL,
        received_at TIMESTAMP NOT NULL,
        raw BLOB NOT NULL
      )`,
    ],
  },
  {
    version: 2,
    name: 'raw CAN frames',
    statements: [
      // Written only by the appender (frame-writer.ts); column order is its chunk layout.
      // data: classic CAN bytes 0..7 packed big-endian; data_fd: the whole payload of CAN FD frames.
      // label: 0 unlabelled, 1 labelled normal, 2 labelled attack (ground truth of research traces).
      `CREATE TABLE can_frames (
        tenant USMALLINT NOT NULL,
        vehicle UBIGINT NOT NULL,
        ts TIMESTAMP NOT NULL,
        can_id UINTEGER NOT NULL,
        dlc UTINYINT NOT NULL,
        data UBIGINT NOT NULL,
        label UTINYINT NOT NULL,
        data_fd BLOB
      )`,
    ],
  },
  {
    version: 3,
    name: 'worker checkpoints',
    statements: [
      // Worker state snapshots (twins), split in parts so no single value grows past DuckDB's limits.
      `CREATE TABLE checkpoints (
        name VARCHAR NOT NULL,
        part INTEGER NOT NULL,
        data BLOB NOT NULL,
        saved_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
        PRIMARY KEY (name, part)
      )`,
    ],
  },
];

const BOOKKEEPING = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name VARCHAR NOT NULL,
  applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
)`;

/**
 * Applies the migrations of `list` newer than the database's version; returns the version now
 * in force. Refuses a database whose version is newer than `list` knows (a newer build wrote it).
 * The caller holds the connection's turn.
 */
export async function migrate(db: SerialConnection, list: readonly Migration[] = MIGRATIONS): Promise<number> {
  checkOrder(list);
  await db.run(BOOKKEEPING);
  const [row] = await db.all<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations');
  const current = row?.version ?? 0;
  const latest = list.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new StoreError(`database schema version ${current} is newer than this build knows (${latest})`);
  }
  for (const migration of list) {
    if (migration.version <= current) continue;
    await db.transaction(async () => {
      for (const sql of migration.statements) await db.run(sql);
      await db.run('INSERT INTO schema_migrations (version, name) VALUES (?, ?)', [
        migration.version,
        migration.name,
      ]);
    });
  }
  return Math.max(current, latest);
}

/** What `schema_migrations` holds, oldest first. The caller holds the connection's turn. */
export async function appliedMigrations(db: SerialConnection): Promise<AppliedMigration[]> {
  const rows = await db.all<{ version: number; name: string; applied_at: bigint }>(
    'SELECT version, name, epoch_ms(applied_at) AS applied_at FROM schema_migrations ORDER BY version',
  );
  return rows.map((r) => ({ version: r.version, name: r.name, appliedAt: Number(r.applied_at) }));
}

function checkOrder(list: readonly Migration[]): void {
  list.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new StoreError(`migration '${m.name}' has version ${m.version}; expected ${i + 1} (no gaps, ascending)`);
    }
  });
}
