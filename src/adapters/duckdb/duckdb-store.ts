/**
 * The embedded Store: DuckDB in this process, one connection, operations one at a time (see
 * connection.ts). Signals go through the columnar appender (signal-writer.ts); the rarer
 * records through multi-row INSERTs that skip ids already stored. Every write commits once, all
 * or nothing: a rejected call writes nothing, and a resolved one is durable.
 */
import type { SignalBatch } from '../../core/batch.js';
import type { CanFrameBatch } from '../../core/can.js';
import type { Alert, ApiEvent, DeadLetter, SecurityEvent, VehicleRecord } from '../../core/records.js';
import { StaleWriterError, StoreError } from '../../core/errors.js';
import type { Page, Store, StoreCounts, StoredCanFrame, StoredSignal, StreamPosition, StreamSpan, WriteGroup } from '../../core/store.js';
import { SerialConnection, storeError, type SqlParam } from './connection.js';
import { appliedMigrations, migrate, type AppliedMigration } from './migrations.js';
import { loadSignalDictionary, saveSignalDictionary } from './signal-dict.js';
import { FrameWriter } from './frame-writer.js';
import { CHUNK_ROWS, SignalWriter } from './signal-writer.js';
import { NO_MATCH, insertRows, keyFilter, type Filter } from './sql.js';
import { alerts, apiEvents, deadLetters, securityEvents, vehicles, VEHICLE_MERGE, type RecordTable } from './tables.js';
import { STAGED_INSERT_MIN_ROWS, stagedInsertIgnoringDuplicates } from './staged-insert.js';
import { bulkUpsertVehicles } from './vehicle-upsert.js';
import { TenantRegistry } from './tenants.js';
import { blobParam, pageParams, timeParam, timeValue } from './values.js';

/**
 * The largest signal batch appended without an explicit transaction: well below DuckDB's
 * appender auto-flush (100 chunks = 204,800 rows), so it commits exactly once, at our flush.
 */
const ONE_COMMIT_ROWS = 64 * CHUNK_ROWS;

/** Where and how to open the database. */
export interface DuckDBStoreOptions {
  /** Database file, or `:memory:`. A missing parent directory is created. */
  readonly path: string;
  /** DuckDB worker threads; DuckDB's default is one per core. */
  readonly threads?: number;
}

/** The DuckDB Store adapter. `await DuckDBStore.open({ path: 'vigil-data/vigil.duckdb' })`. */
/** Upserts of more vehicles than this go through the staging table (vehicle-upsert.ts). */
const SMALL_UPSERT = 200;
/** Ids per DELETE statement. */
const ROWS_PER_DELETE = 500;
/** Bytes per stored part of a checkpoint. */
const CHECKPOINT_PART = 16 << 20;

export class DuckDBStore implements Store {
  readonly dialect = 'duckdb' as const;
  private readonly tenants: TenantRegistry;
  private readonly signals = new SignalWriter();
  private readonly frames = new FrameWriter();

  private constructor(
    private readonly db: SerialConnection,
    /** The database file (or `:memory:`) this store was opened on. */
    readonly path: string,
  ) {
    this.tenants = new TenantRegistry(db);
  }

  /** Opens the database and applies pending migrations. */
  static async open(options: DuckDBStoreOptions): Promise<DuckDBStore> {
    const store = new DuckDBStore(await SerialConnection.open(options.path, options.threads), options.path);
    try {
      await store.migrate();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  migrate(): Promise<number> {
    return this.db.exclusive(() => migrate(this.db));
  }

  /**
   * The connection, for the adapters of other ports kept in the same database (tokens and
   * audit, incidents and workflow). They take turns on it with `exclusive()` like this store.
   */
  get connection(): SerialConnection {
    return this.db;
  }

  /** The migrations recorded in the database, oldest first. */
  appliedMigrations(): Promise<AppliedMigration[]> {
    return this.db.exclusive(() => appliedMigrations(this.db));
  }

  close(): Promise<void> {
    return this.db.close();
  }

  signalDictionary(): Promise<Map<string, number>> {
    return this.db.exclusive(() => loadSignalDictionary(this.db));
  }

  /** Adds entries; an entry already stored is a no-op, one contradicting a stored id or path rejects the call. */
  saveSignalDictionary(entries: readonly { id: number; path: string }[]): Promise<void> {
    return this.db.exclusive(() => saveSignalDictionary(this.db, entries));
  }

  appendSignals(batch: SignalBatch): Promise<number> {
    return this.db.exclusive(async () => {
      if (batch.size === 0) return 0;
      const tenant = await this.tenants.ensure(batch.tenant);
      // An appender commits once per flush, and flushes by itself only past ~200k rows: a batch
      // below ONE_COMMIT_ROWS is all-or-nothing without BEGIN/COMMIT, which would cost a fifth
      // of a 10k-row append. Larger batches get the transaction so they stay all-or-nothing.
      const append = (): Promise<void> => this.appendRows(tenant, batch);
      if (batch.size <= ONE_COMMIT_ROWS) await append();
      else await this.db.transaction(append);
      return batch.size;
    });
  }

  /** Appends and flushes one batch; on failure nothing of it stays in the appender. */
  private async appendRows(tenant: number, batch: SignalBatch): Promise<void> {
    const appender = await this.db.appender('signals');
    let failure: unknown;
    try {
      this.signals.write(appender, tenant, batch);
      appender.flushSync();
    } catch (error) {
      failure = error;
      appender.clear();
    }
    try {
      appender.closeSync();
    } catch (error) {
      failure ??= error;
    }
    if (failure !== undefined) throw storeError('APPEND signals', [batch.tenant, batch.size], failure);
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

  upsertVehicles(list: readonly VehicleRecord[]): Promise<void> {
    return this.db.exclusive(async () => {
      if (list.length === 0) return;
      const ids = await this.tenants.ensureAll(list.map((v) => v.tenant));
      await this.db.transaction(this.vehicleUpsert(list, ids));
    });
  }

  /**
   * Validates every record now (a rejected call writes nothing) and returns the upsert, to run
   * inside a transaction with the connection's turn held.
   */
  private vehicleUpsert(list: readonly VehicleRecord[], ids: ReadonlyMap<string, number>): () => Promise<void> {
    const rows = list.map((v) => vehicles.params(v, ids.get(v.tenant)!));
    if (list.length > SMALL_UPSERT) return () => bulkUpsertVehicles(this.db, list, ids);
    // Few rows: plain multi-row upserts beat the staging table's fixed cost. ON CONFLICT
    // may touch a row once per statement, so repeats of a vehicle go to later rounds.
    const rounds: SqlParam[][][] = [];
    const seen = new Map<string, number>();
    list.forEach((v, i) => {
      const key = `${v.tenant}\u0000${v.id}`;
      const round = seen.get(key) ?? 0;
      seen.set(key, round + 1);
      (rounds[round] ??= []).push(rows[i]!);
    });
    return async () => {
      for (const r of rounds) await insertRows(this.db, vehicles.table, vehicles.columns, r, VEHICLE_MERGE);
    };
  }

  async getVehicle(tenant: string, id: string): Promise<VehicleRecord | undefined> {
    const [found] = await this.list(vehicles, tenant, [keyFilter('id', id)], 'id', { limit: 1 });
    return found;
  }

  listVehicles(tenant: string, page: Page): Promise<VehicleRecord[]> {
    return this.list(vehicles, tenant, [], 'id', page);
  }

  querySignals(q: {
    tenant: string;
    vehicle: string;
    signal?: number;
    from?: number;
    to?: number;
    limit: number;
  }): Promise<StoredSignal[]> {
    const filters: Filter[] = [keyFilter('vehicle', q.vehicle)];
    if (q.signal !== undefined) filters.push(['signal = ?', q.signal]);
    if (q.from !== undefined) filters.push(['ts >= ?', timeParam(q.from, 'from')]);
    if (q.to !== undefined) filters.push(['ts < ?', timeParam(q.to, 'to')]);
    return this.db.exclusive(async () => {
      const [limit] = pageParams({ limit: q.limit });
      const where = await this.where(q.tenant, filters);
      if (!where) return [];
      const rows = await this.db.all<{ ts: bigint; signal: number; value: number | null; text: string | null }>(
        `SELECT epoch_us(ts) AS ts, signal, value, text FROM signals ${where.sql} ORDER BY ts, signal LIMIT ?`,
        [...where.params, limit],
      );
      return rows.map((r) => ({
        vehicle: q.vehicle,
        time: timeValue(r.ts),
        signal: r.signal,
        value: r.value,
        text: r.text,
      }));
    });
  }

  appendCanFrames(vehicle: string, batch: CanFrameBatch): Promise<number> {
    return this.db.exclusive(async () => {
      if (batch.size === 0) return 0;
      const tenant = await this.tenants.ensure(batch.tenant);
      const append = async (): Promise<void> => {
        const appender = await this.db.appender('can_frames');
        let failure: unknown;
        try {
          this.frames.write(appender, tenant, vehicle, batch);
          appender.flushSync();
        } catch (error) {
          failure = error;
          appender.clear();
        }
        try {
          appender.closeSync();
        } catch (error) {
          failure ??= error;
        }
        if (failure !== undefined) throw storeError('APPEND can_frames', [batch.tenant, batch.size], failure);
      };
      if (batch.size <= ONE_COMMIT_ROWS) await append();
      else await this.db.transaction(append);
      return batch.size;
    });
  }

  queryCanFrames(q: { tenant: string; vehicle: string; from?: number; to?: number; limit: number }): Promise<StoredCanFrame[]> {
    const filters: Filter[] = [keyFilter('vehicle', q.vehicle)];
    if (q.from !== undefined) filters.push(['ts >= ?', timeParam(q.from, 'from')]);
    if (q.to !== undefined) filters.push(['ts < ?', timeParam(q.to, 'to')]);
    return this.db.exclusive(async () => {
      const [limit] = pageParams({ limit: q.limit });
      const where = await this.where(q.tenant, filters);
      if (!where) return [];
      const rows = await this.db.all<{ ts: bigint; can_id: number; dlc: number; data: bigint; label: number; data_fd: Uint8Array | null }>(
        `SELECT epoch_us(ts) AS ts, can_id, dlc, data, label, data_fd FROM can_frames ${where.sql} ORDER BY ts LIMIT ?`,
        [...where.params, limit],
      );
      return rows.map((r) => {
        let data: Uint8Array;
        if (r.data_fd) data = new Uint8Array(r.data_fd);
        else {
          data = new Uint8Array(r.dlc);
          for (let b = 0; b < r.dlc; b++) data[b] = Number((BigInt.asUintN(64, r.data) >> BigInt(56 - 8 * b)) & 0xffn);
        }
        return { time: timeValue(r.ts), id: r.can_id, data, ...(r.label ? { label: r.label === 2 ? ('attack' as const) : ('normal' as const) } : {}) };
      });
    });
  }

  listAlerts(q: { tenant: string; vehicle?: string; since?: number } & Page): Promise<Alert[]> {
    const filters: Filter[] = [];
    if (q.vehicle !== undefined) filters.push(keyFilter('vehicle', q.vehicle));
    if (q.since !== undefined) filters.push(['ts >= ?', timeParam(q.since, 'since')]);
    return this.list(alerts, q.tenant, filters, 'ts DESC, id', q);
  }

  listSecurityEvents(q: { tenant: string; vehicle?: string } & Page): Promise<SecurityEvent[]> {
    const filters = q.vehicle === undefined ? [] : [keyFilter('vehicle', q.vehicle)];
    return this.list(securityEvents, q.tenant, filters, 'ts DESC, id', q);
  }

  listApiEvents(q: { tenant: string } & Page): Promise<ApiEvent[]> {
    return this.list(apiEvents, q.tenant, [], 'ts DESC, id', q);
  }

  listDeadLetters(q: { tenant?: string; code?: string; source?: string } & Page): Promise<DeadLetter[]> {
    const filters: Filter[] = [];
    if (q.code !== undefined) filters.push(['code = ?', q.code]);
    if (q.source !== undefined) filters.push(['source = ?', q.source]);
    return this.list(deadLetters, q.tenant, filters, 'received_at DESC, id', q);
  }

  deleteDeadLetters(ids: readonly string[]): Promise<number> {
    return this.db.exclusive(async () => {
      let removed = 0;
      for (let i = 0; i < ids.length; i += ROWS_PER_DELETE) {
        const part = ids.slice(i, i + ROWS_PER_DELETE);
        removed += await this.db.run(`DELETE FROM dead_letters WHERE id IN (${part.map(() => '?').join(', ')})`, part);
      }
      return removed;
    });
  }

  counts(tenant?: string): Promise<StoreCounts> {
    return this.db.exclusive(async () => {
      const where = await this.where(tenant, []);
      if (!where) return { signals: 0, canFrames: 0, securityEvents: 0, apiEvents: 0, alerts: 0, vehicles: 0, deadLetters: 0 };
      const tables = ['signals', 'can_frames', 'security_events', 'api_events', 'alerts', 'vehicles', 'dead_letters'];
      const [row] = await this.db.all<Record<string, bigint>>(
        `SELECT ${tables.map((name) => `(SELECT count(*) FROM ${name} ${where.sql}) AS ${name}`).join(', ')}`,
        tables.flatMap(() => where.params),
      );
      const n = (name: string): number => Number(row?.[name] ?? 0);
      return {
        signals: n('signals'),
        canFrames: n('can_frames'),
        securityEvents: n('security_events'),
        apiEvents: n('api_events'),
        alerts: n('alerts'),
        vehicles: n('vehicles'),
        deadLetters: n('dead_letters'),
      };
    });
  }

  saveCheckpoint(name: string, data: Uint8Array): Promise<void> {
    return this.db.exclusive(async () => {
      await this.db.transaction(async () => {
        await this.db.run('DELETE FROM checkpoints WHERE name = ?', [name]);
        // At least one part, so an empty checkpoint reads back as empty, not as missing.
        for (let at = 0, part = 0; part === 0 || at < data.length; at += CHECKPOINT_PART, part++) {
          await this.db.run('INSERT INTO checkpoints (name, part, data) VALUES (?, ?, ?)', [name, part, blobParam(data.subarray(at, at + CHECKPOINT_PART))]);
        }
      });
    });
  }

  loadCheckpoint(name: string): Promise<Uint8Array | undefined> {
    return this.db.exclusive(async () => {
      const rows = await this.db.all<{ data: Uint8Array }>('SELECT data FROM checkpoints WHERE name = ? ORDER BY part', [name]);
      if (rows.length === 0) return undefined;
      const out = new Uint8Array(rows.reduce((n, r) => n + r.data.length, 0));
      let at = 0;
      for (const r of rows) {
        out.set(r.data, at);
        at += r.data.length;
      }
      return out;
    });
  }

  private insertIgnoringDuplicates<R extends { readonly tenant?: string }>(
    table: RecordTable<R, unknown>,
    records: readonly R[],
  ): Promise<number> {
    return this.db.exclusive(async () => {
      if (records.length === 0) return 0;
      const ids = await this.tenants.ensureAll(records.flatMap((r) => (r.tenant === undefined ? [] : [r.tenant])));
      return this.db.transaction(this.recordInsert(table, records, ids));
    });
  }

  /**
   * Builds (and so validates) the parameters now, so a bad record writes nothing, and returns the
   * insert skipping stored ids, to run inside a transaction with the connection's turn held.
   */
  private recordInsert<R extends { readonly tenant?: string }>(
    table: RecordTable<R, unknown>,
    records: readonly R[],
    ids: ReadonlyMap<string, number>,
  ): () => Promise<number> {
    const rows = records.map((r) => table.params(r, r.tenant === undefined ? null : ids.get(r.tenant)!));
    if (rows.length === 0) return async () => 0;
    if (rows.length < STAGED_INSERT_MIN_ROWS) return () => insertRows(this.db, table.table, table.columns, rows, 'ON CONFLICT DO NOTHING');
    const key = table.table === deadLetters.table ? ['id'] : ['tenant', 'id'];
    return () => stagedInsertIgnoringDuplicates(this.db, table.table, table.columns, key, rows);
  }

  streamPositions(): Promise<StreamPosition[]> {
    return this.db.exclusive(() => this.readPositions());
  }

  writeGroup(g: WriteGroup): Promise<void> {
    return this.db.exclusive(async () => {
      checkSpans(g.spans);
      const signals = g.signals !== undefined && g.signals.size > 0 ? g.signals : undefined;
      const events = g.securityEvents ?? [];
      const api = g.apiEvents ?? [];
      const alertList = g.alerts ?? [];
      const dead = g.deadLetters ?? [];
      const cars = g.vehicles ?? [];
      // Tenants are registered outside the transaction (tenants.ts: a rolled-back write must not
      // leave a cached id); every record is validated before anything is written.
      const tenantNames = [
        ...(signals ? [signals.tenant] : []),
        ...[...events, ...api, ...alertList, ...dead, ...cars].flatMap((r) => (r.tenant === undefined ? [] : [r.tenant])),
      ];
      const ids = await this.tenants.ensureAll(tenantNames);
      const writes = [
        this.recordInsert(securityEvents, events, ids),
        this.recordInsert(apiEvents, api, ids),
        this.recordInsert(alerts, alertList, ids),
        this.recordInsert(deadLetters, dead, ids),
        ...(cars.length ? [this.vehicleUpsert(cars, ids)] : []),
      ];
      await this.db.transaction(async () => {
        const stored = new Map((await this.readPositions()).map((p) => [p.partition, p]));
        for (const span of g.spans) {
          const at = stored.get(span.partition);
          if (at && at.epoch > span.epoch) {
            throw new StaleWriterError(`partition ${span.partition} is held at epoch ${at.epoch}; a writer of epoch ${span.epoch} lost its lease`, span.partition);
          }
          if (at && at.seq >= span.from) {
            throw new StaleWriterError(`partition ${span.partition} is written up to sequence ${at.seq}; the span ${span.from}-${span.to} overlaps it`, span.partition);
          }
        }
        if (signals) await this.appendRows(ids.get(signals.tenant)!, signals);
        for (const write of writes) await write();
        if (g.spans.length) {
          await insertRows(this.db, 'stream_positions', ['part', 'epoch', 'seq'], g.spans.map((s) => [s.partition, s.epoch, s.to]),
            'ON CONFLICT (part) DO UPDATE SET epoch = excluded.epoch, seq = excluded.seq');
        }
      });
    });
  }

  /** The stored positions, by partition; the caller holds the connection's turn. */
  private async readPositions(): Promise<StreamPosition[]> {
    const rows = await this.db.all<{ part: number; epoch: bigint; seq: bigint }>('SELECT part, epoch, seq FROM stream_positions ORDER BY part');
    return rows.map((r) => ({ partition: r.part, epoch: Number(r.epoch), seq: Number(r.seq) }));
  }

  /** One page of a record table, scoped to `tenant` (every tenant when undefined). */
  private list<R, Row>(
    table: RecordTable<R, Row>,
    tenant: string | undefined,
    filters: readonly Filter[],
    order: string,
    page: Page,
  ): Promise<R[]> {
    return this.db.exclusive(async () => {
      const [limit, offset] = pageParams(page);
      const where = await this.where(tenant, filters);
      if (!where) return [];
      const rows = await this.db.all<Row>(
        `SELECT ${table.select} FROM ${table.table} ${where.sql} ORDER BY ${order} LIMIT ? OFFSET ?`,
        [...where.params, limit, offset],
      );
      return rows.map((row) => table.read(row, tenant ?? ''));
    });
  }

  /**
   * The WHERE clause for `tenant` (every tenant when undefined) and `filters`, or undefined when
   * no row can match: a tenant never written, or a filter marked NO_MATCH.
   */
  private async where(
    tenant: string | undefined,
    filters: readonly Filter[],
  ): Promise<{ sql: string; params: SqlParam[] } | undefined> {
    const clauses: string[] = [];
    const params: SqlParam[] = [];
    if (tenant !== undefined) {
      const id = await this.tenants.find(tenant);
      if (id === undefined) return undefined;
      clauses.push('tenant = ?');
      params.push(id);
    }
    for (const [clause, value] of filters) {
      if (value === NO_MATCH) return undefined;
      clauses.push(clause);
      params.push(value);
    }
    return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
  }
}

/** Spans name each partition once, with whole non-negative numbers and `from <= to`. */
function checkSpans(spans: readonly StreamSpan[]): void {
  const seen = new Set<number>();
  for (const s of spans) {
    const whole = [s.partition, s.epoch, s.from, s.to].every((n) => Number.isSafeInteger(n) && n >= 0);
    if (!whole || s.from > s.to) throw new StoreError(`malformed stream span ${JSON.stringify(s)}`);
    if (seen.has(s.partition)) throw new StoreError(`stream span names partition ${s.partition} twice`);
    seen.add(s.partition);
  }
}
