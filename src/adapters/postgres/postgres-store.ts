/**
 * The scale-out Store: PostgreSQL, shared by every Vigil process of a deployment. Signals and
 * CAN frames go in with COPY (binary format, copy-encoder.ts) into day partitions created just
 * before (partitions.ts); the rarer records with one `INSERT ... SELECT FROM unnest(...)` per
 * call that skips ids already stored. Every write is one statement or one transaction, all or
 * nothing: a rejected call writes nothing, and a resolved one is committed (durable as far as
 * the server's `synchronous_commit` makes commits durable).
 *
 * Operations run side by side on pooled connections; PostgreSQL's locks keep concurrent
 * writers (in this process or others) from losing or mixing writes.
 */
import type { SignalBatch } from '../../core/batch.js';
import type { CanFrameBatch } from '../../core/can.js';
import type { Alert, ApiEvent, DeadLetter, SecurityEvent, VehicleRecord } from '../../core/records.js';
import { StaleWriterError, StoreError } from '../../core/errors.js';
import type { Page, Store, StoreCounts, StoredCanFrame, StoredSignal, StreamPosition, StreamSpan, WriteGroup } from '../../core/store.js';
import { isVehicleKey } from '../../core/vehicle-key.js';
import { PgPool, type Client, type PostgresOptions, type Queryable, type SqlParam } from './connection.js';
import {
  FRAME_COPY_SQL,
  checkFrameBatch,
  checkSignalBatch,
  daysOf,
  encodeFramesBinary,
  encodeSignalsBinary,
  encodeSignalsText,
  signalCopySql,
  type CopyFormat,
} from './copy-encoder.js';
import { appliedMigrations, migrate, type AppliedMigration } from './migrations.js';
import { DayPartitions } from './partitions.js';
import { loadSignalDictionary, saveSignalDictionary } from './signal-dict.js';
import {
  UPSERT_VEHICLES,
  alerts,
  apiEvents,
  columnArrays,
  deadLetters,
  insertIgnoringSql,
  securityEvents,
  vehicles,
  type Cell,
  type RecordTable,
} from './tables.js';
import { TenantRegistry } from './tenants.js';
import { bytesParam, bytesValue, msSql, msValue, pageParams, timeParam, vehicleOrderSql, vehicleParam } from './values.js';

/** Where and how to connect, plus the COPY format of the signal path. */
export interface PostgresStoreOptions extends PostgresOptions {
  /** COPY format for signals; binary (default) measured faster, text kept for comparison (bench). */
  readonly copyFormat?: CopyFormat;
  /** Apply pending migrations on open (default true). */
  readonly migrate?: boolean;
}

/** Ids per DELETE statement. */
const ROWS_PER_DELETE = 1000;

/** The tables `counts()` reports, by field. */
const COUNTED: readonly (readonly [keyof StoreCounts, string])[] = [
  ['signals', 'signals'],
  ['canFrames', 'can_frames'],
  ['securityEvents', 'security_events'],
  ['apiEvents', 'api_events'],
  ['alerts', 'alerts'],
  ['vehicles', 'vehicles'],
  ['deadLetters', 'dead_letters'],
];

/** A WHERE clause piece with its one parameter (`$?` is numbered when the clause is built). */
type Filter = readonly [clause: string, value: SqlParam];

/** The PostgreSQL Store adapter. `await PostgresStore.open({ url, schema: 'vigil' })`. */
export class PostgresStore implements Store {
  readonly dialect = 'postgres' as const;
  private readonly tenants: TenantRegistry;
  private readonly partitions: DayPartitions;
  private readonly copyFormat: CopyFormat;

  private constructor(
    private readonly pool: PgPool,
    /** The options this store was opened with (to open it again). */
    readonly options: PostgresStoreOptions,
  ) {
    this.tenants = new TenantRegistry(pool);
    this.partitions = new DayPartitions(pool);
    this.copyFormat = options.copyFormat ?? 'binary';
  }

  /** Connects and (unless `migrate: false`) applies pending migrations. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const store = new PostgresStore(PgPool.open(options), options);
    if (options.migrate === false) return store;
    try {
      await store.migrate();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  migrate(): Promise<number> {
    return migrate(this.pool);
  }

  /** The pool, for the adapters of other ports kept in the same schema (incidents, workflow, access). */
  get connection(): PgPool {
    return this.pool;
  }

  /** The migrations recorded in the schema, oldest first. */
  appliedMigrations(): Promise<AppliedMigration[]> {
    return appliedMigrations(this.pool);
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  signalDictionary(): Promise<Map<string, number>> {
    return loadSignalDictionary(this.pool);
  }

  /** Adds entries; an entry already stored is a no-op, one contradicting a stored id or path rejects the call. */
  saveSignalDictionary(entries: readonly { id: number; path: string }[]): Promise<void> {
    return saveSignalDictionary(this.pool, entries);
  }

  async appendSignals(batch: SignalBatch): Promise<number> {
    if (batch.size === 0) return 0;
    const prepared = await this.prepareSignals(batch);
    // One COPY is one statement: all or nothing without an explicit transaction.
    return this.pool.withClient((client) => this.copySignals(client, prepared));
  }

  async appendCanFrames(vehicle: string, batch: CanFrameBatch): Promise<number> {
    if (batch.size === 0) return 0;
    checkFrameBatch(vehicle, batch);
    const tenant = await this.tenants.ensure(batch.tenant);
    await this.partitions.ensure('can_frames', daysOf(batch.time, batch.size));
    const chunks = encodeFramesBinary(tenant, vehicle, batch);
    return this.pool.withClient((client) => client.copyIn(FRAME_COPY_SQL, chunks));
  }

  async queryCanFrames(q: { tenant: string; vehicle: string; from?: number; to?: number; limit: number }): Promise<StoredCanFrame[]> {
    const [limit] = pageParams({ limit: q.limit });
    const filters: Filter[] = [];
    if (q.from !== undefined) filters.push(['ts >= $?', timeParam(q.from, 'from')]);
    if (q.to !== undefined) filters.push(['ts < $?', timeParam(q.to, 'to')]);
    const where = await this.where(q.tenant, q.vehicle, 'vehicle', filters);
    if (!where) return [];
    const rows = await this.pool.query<{ ts: string; can_id: string; data: Buffer; label: number }>(
      `SELECT ${msSql('ts')} AS ts, can_id, data, label FROM can_frames ${where.sql} ORDER BY ts LIMIT $${where.params.length + 1}`,
      [...where.params, limit],
    );
    return rows.map((r) => ({
      time: msValue(r.ts),
      id: Number(r.can_id),
      data: bytesValue(r.data),
      ...(r.label ? { label: r.label === 2 ? ('attack' as const) : ('normal' as const) } : {}),
    }));
  }

  insertSecurityEvents(events: readonly SecurityEvent[]): Promise<number> {
    return this.insertIgnoringDuplicates(securityEvents, events);
  }

  insertApiEvents(events: readonly ApiEvent[]): Promise<number> {
    return this.insertIgnoringDuplicates(apiEvents, events);
  }

  insertAlerts(list: readonly Alert[]): Promise<number> {
    return this.insertIgnoringDuplicates(alerts, list);
  }

  insertDeadLetters(records: readonly DeadLetter[]): Promise<number> {
    return this.insertIgnoringDuplicates(deadLetters, records);
  }

  async upsertVehicles(list: readonly VehicleRecord[]): Promise<void> {
    if (list.length === 0) return;
    const rows = await this.prepareRecords(vehicles, list);
    await this.pool.run(UPSERT_VEHICLES, columnArrays(vehicles.columns.length, rows) as SqlParam[]);
  }

  async streamPositions(): Promise<StreamPosition[]> {
    return readPositions(this.pool);
  }

  /**
   * Everything is validated, tenants registered and day partitions created first (each commits
   * on its own and is harmless alone); then one transaction locks the spans' position rows
   * (`SELECT ... FOR UPDATE`, so two writers of a partition take turns and the second sees the
   * first's position), checks the fence, writes and advances the positions.
   */
  async writeGroup(g: WriteGroup): Promise<void> {
    checkSpans(g.spans);
    const signals = g.signals !== undefined && g.signals.size > 0 ? await this.prepareSignals(g.signals) : undefined;
    const inserts: [RecordTable<never, unknown>, Cell[][]][] = [];
    for (const [table, records] of [
      [securityEvents, g.securityEvents],
      [apiEvents, g.apiEvents],
      [alerts, g.alerts],
      [deadLetters, g.deadLetters],
    ] as const) {
      if (records?.length) inserts.push([table as RecordTable<never, unknown>, await this.prepareRecords(table as RecordTable<{ tenant?: string }, unknown>, records)]);
    }
    const cars = g.vehicles?.length ? await this.prepareRecords(vehicles, g.vehicles) : undefined;
    await this.pool.transaction(async (client) => {
      const spans = [...g.spans].sort((a, b) => a.partition - b.partition);
      if (spans.length) {
        // A partition never written gets its row now, so FOR UPDATE has a row to lock (a
        // concurrent first writer waits on the insert and then on the lock).
        await client.run(
          'INSERT INTO stream_positions (partition, epoch, seq) SELECT p, -1, -1 FROM unnest($1::integer[]) AS p ON CONFLICT DO NOTHING',
          [spans.map((s) => s.partition)],
        );
        const rows = await client.query<{ partition: number; epoch: string; seq: string }>(
          'SELECT partition, epoch, seq FROM stream_positions WHERE partition = ANY($1::integer[]) ORDER BY partition FOR UPDATE',
          [spans.map((s) => s.partition)],
        );
        const stored = new Map(rows.map((r) => [r.partition, { epoch: Number(r.epoch), seq: Number(r.seq) }]));
        for (const span of spans) {
          const at = stored.get(span.partition);
          if (at && at.epoch > span.epoch) {
            throw new StaleWriterError(`partition ${span.partition} is held at epoch ${at.epoch}; a writer of epoch ${span.epoch} lost its lease`, span.partition);
          }
          if (at && at.seq >= span.from) {
            throw new StaleWriterError(`partition ${span.partition} is written up to sequence ${at.seq}; the span ${span.from}-${span.to} overlaps it`, span.partition);
          }
        }
      }
      if (signals) await this.copySignals(client, signals);
      for (const [table, rows] of inserts) await client.run(insertIgnoringSql(table), columnArrays(table.columns.length, rows) as SqlParam[]);
      if (cars) await client.run(UPSERT_VEHICLES, columnArrays(vehicles.columns.length, cars) as SqlParam[]);
      if (spans.length) {
        await client.run(
          `UPDATE stream_positions p SET epoch = s.epoch, seq = s.seq
           FROM unnest($1::integer[], $2::bigint[], $3::bigint[]) AS s(partition, epoch, seq) WHERE p.partition = s.partition`,
          [spans.map((s) => s.partition), spans.map((s) => s.epoch), spans.map((s) => s.to)],
        );
      }
    });
  }

  async getVehicle(tenant: string, id: string): Promise<VehicleRecord | undefined> {
    const where = await this.where(tenant, id, 'id', []);
    if (!where) return undefined;
    const [row] = await this.pool.query(`SELECT ${vehicles.select} FROM vehicles ${where.sql}`, where.params);
    return row ? vehicles.read(row as never, tenant) : undefined;
  }

  listVehicles(tenant: string, page: Page): Promise<VehicleRecord[]> {
    return this.list(vehicles, tenant, [], vehicleOrderSql('id'), page);
  }

  async querySignals(q: {
    tenant: string;
    vehicle: string;
    signal?: number;
    from?: number;
    to?: number;
    limit: number;
  }): Promise<StoredSignal[]> {
    const [limit] = pageParams({ limit: q.limit });
    const filters: Filter[] = [];
    if (q.signal !== undefined) filters.push(['signal = $?', q.signal]);
    if (q.from !== undefined) filters.push(['ts >= $?', timeParam(q.from, 'from')]);
    if (q.to !== undefined) filters.push(['ts < $?', timeParam(q.to, 'to')]);
    const where = await this.where(q.tenant, q.vehicle, 'vehicle', filters);
    if (!where) return [];
    const rows = await this.pool.query<{ ts: string; signal: string; value: number | null; text: string | null }>(
      `SELECT ${msSql('ts')} AS ts, signal, value, text FROM signals ${where.sql} ORDER BY ts, signal LIMIT $${where.params.length + 1}`,
      [...where.params, limit],
    );
    return rows.map((r) => ({ vehicle: q.vehicle, time: msValue(r.ts), signal: Number(r.signal), value: r.value, text: r.text }));
  }

  listAlerts(q: { tenant: string; vehicle?: string; since?: number } & Page): Promise<Alert[]> {
    const filters: Filter[] = [];
    if (q.since !== undefined) filters.push(['ts >= $?', timeParam(q.since, 'since')]);
    return this.list(alerts, q.tenant, filters, 'ts DESC, id', q, q.vehicle);
  }

  listSecurityEvents(q: { tenant: string; vehicle?: string } & Page): Promise<SecurityEvent[]> {
    return this.list(securityEvents, q.tenant, [], 'ts DESC, id', q, q.vehicle);
  }

  listApiEvents(q: { tenant: string } & Page): Promise<ApiEvent[]> {
    return this.list(apiEvents, q.tenant, [], 'ts DESC, id', q);
  }

  listDeadLetters(q: { tenant?: string; code?: string; source?: string } & Page): Promise<DeadLetter[]> {
    const filters: Filter[] = [];
    if (q.code !== undefined) filters.push(['code = $?', q.code]);
    if (q.source !== undefined) filters.push(['source = $?', q.source]);
    return this.list(deadLetters, q.tenant, filters, 'received_at DESC, id', q);
  }

  async deleteDeadLetters(ids: readonly string[]): Promise<number> {
    let removed = 0;
    for (let i = 0; i < ids.length; i += ROWS_PER_DELETE) {
      removed += await this.pool.run('DELETE FROM dead_letters WHERE id = ANY($1::text[])', [ids.slice(i, i + ROWS_PER_DELETE)]);
    }
    return removed;
  }

  async counts(tenant?: string): Promise<StoreCounts> {
    const where = await this.where(tenant, undefined, 'vehicle', []);
    const zero = Object.fromEntries(COUNTED.map(([field]) => [field, 0])) as unknown as StoreCounts;
    if (!where) return zero;
    const [row] = await this.pool.query<Record<string, string>>(
      `SELECT ${COUNTED.map(([, table]) => `(SELECT count(*) FROM ${table} ${where.sql}) AS ${table}`).join(', ')}`,
      where.params,
    );
    return Object.fromEntries(COUNTED.map(([field, table]) => [field, Number(row?.[table] ?? 0)])) as unknown as StoreCounts;
  }

  async saveCheckpoint(name: string, data: Uint8Array): Promise<void> {
    await this.pool.run(
      `INSERT INTO checkpoints (name, data) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET data = excluded.data, saved_at = now()`,
      [name, bytesParam(data)],
    );
  }

  async loadCheckpoint(name: string): Promise<Uint8Array | undefined> {
    const [row] = await this.pool.query<{ data: Buffer }>('SELECT data FROM checkpoints WHERE name = $1', [name]);
    return row ? bytesValue(row.data) : undefined;
  }

  /** Validates a batch, registers its tenant and creates its day partitions: everything a COPY needs first. */
  private async prepareSignals(batch: SignalBatch): Promise<{ tenant: number; batch: SignalBatch }> {
    checkSignalBatch(batch);
    const tenant = await this.tenants.ensure(batch.tenant);
    await this.partitions.ensure('signals', daysOf(batch.time, batch.size));
    return { tenant, batch };
  }

  private copySignals(client: Client, p: { tenant: number; batch: SignalBatch }): Promise<number> {
    const chunks = this.copyFormat === 'binary' ? encodeSignalsBinary(p.tenant, p.batch) : encodeSignalsText(p.tenant, p.batch);
    return client.copyIn(signalCopySql(this.copyFormat), chunks);
  }

  /** Registers the records' tenants and builds (validating) every row before anything is written. */
  private async prepareRecords<R extends { readonly tenant?: string }>(table: RecordTable<R, unknown>, records: readonly R[]): Promise<Cell[][]> {
    const ids = await this.tenants.ensureAll(records.flatMap((r) => (r.tenant === undefined ? [] : [r.tenant])));
    return records.map((r) => table.params(r, r.tenant === undefined ? null : ids.get(r.tenant)!));
  }

  private async insertIgnoringDuplicates<R extends { readonly tenant?: string }>(
    table: RecordTable<R, unknown>,
    records: readonly R[],
  ): Promise<number> {
    if (records.length === 0) return 0;
    const rows = await this.prepareRecords(table, records);
    return this.pool.run(insertIgnoringSql(table), columnArrays(table.columns.length, rows) as SqlParam[]);
  }

  /** One page of a record table, scoped to `tenant` (every tenant when undefined) and optionally a vehicle. */
  private async list<R, Row>(
    table: RecordTable<R, Row>,
    tenant: string | undefined,
    filters: readonly Filter[],
    order: string,
    page: Page,
    vehicle?: string,
  ): Promise<R[]> {
    const [limit, offset] = pageParams(page);
    const where = await this.where(tenant, vehicle, 'vehicle', filters);
    if (!where) return [];
    const n = where.params.length;
    const rows = await this.pool.query<Row>(
      `SELECT ${table.select} FROM ${table.table} ${where.sql} ORDER BY ${order} LIMIT $${n + 1} OFFSET $${n + 2}`,
      [...where.params, limit, offset],
    );
    return rows.map((row) => table.read(row, tenant ?? ''));
  }

  /**
   * The WHERE clause for `tenant` (every tenant when undefined), a vehicle key in `column`
   * (none when undefined) and `filters`, or undefined when no row can match: a tenant never
   * written, or a malformed vehicle key.
   */
  private async where(
    tenant: string | undefined,
    vehicle: string | undefined,
    column: 'vehicle' | 'id',
    filters: readonly Filter[],
  ): Promise<{ sql: string; params: SqlParam[] } | undefined> {
    const all: Filter[] = [];
    if (tenant !== undefined) {
      const id = await this.tenants.find(tenant);
      if (id === undefined) return undefined;
      all.push(['tenant = $?', id]);
    }
    if (vehicle !== undefined) {
      if (!isVehicleKey(vehicle)) return undefined;
      all.push([`${column} = $?`, vehicleParam(vehicle)]);
    }
    all.push(...filters);
    const params: SqlParam[] = [];
    const clauses = all.map(([clause, value]) => {
      params.push(value);
      return clause.replace('$?', `$${params.length}`);
    });
    return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
  }
}

/** The stored positions, by partition (rows a write group created and rolled back never show). */
async function readPositions(db: Queryable): Promise<StreamPosition[]> {
  const rows = await db.query<{ partition: number; epoch: string; seq: string }>(
    'SELECT partition, epoch, seq FROM stream_positions WHERE epoch >= 0 ORDER BY partition',
  );
  return rows.map((r) => ({ partition: r.partition, epoch: Number(r.epoch), seq: Number(r.seq) }));
}

/** Spans name each partition once, with whole non-negative numbers and `from <= to`. */
function checkSpans(spans: readonly StreamSpan[]): void {
  const seen = new Set<number>();
  for (const s of spans) {
    const whole = [s.partition, s.epoch, s.from, s.to].every((n) => Number.isSafeInteger(n) && n >= 0);
    if (!whole || s.from > s.to || s.partition > 0x7fff_ffff) throw new StoreError(`malformed stream span ${JSON.stringify(s)}`);
    if (seen.has(s.partition)) throw new StoreError(`stream span names partition ${s.partition} twice`);
    seen.add(s.partition);
  }
}
