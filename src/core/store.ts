/**
 * The Store port. The embedded default is DuckDB; PostgreSQL follows for scale-out. Every
 * adapter passes the same contract suite (test/contract/store-contract.ts) unchanged.
 *
 * Writes are idempotent where records carry ids (security events, API events, alerts, dead
 * letters): writing the same id twice has one effect, and the insert methods return the number
 * of rows actually inserted. A resolved write is durable; a rejected one wrote nothing.
 * Lists are newest first; an unknown tenant or a malformed vehicle key reads as "no rows".
 */
import type { SignalBatch } from './batch.js';
import type { CanFrameBatch } from './can.js';
import type { Alert, ApiEvent, DeadLetter, SecurityEvent, VehicleRecord } from './records.js';

export interface Page {
  readonly limit: number;
  readonly offset?: number;
}

export interface StoredSignal {
  readonly vehicle: string;
  readonly time: number;
  readonly signal: number;
  readonly value: number | null;
  readonly text: string | null;
}

export interface StoredCanFrame {
  readonly time: number;
  readonly id: number;
  readonly data: Uint8Array;
  /** Ground truth when the source had it. */
  readonly label?: 'normal' | 'attack';
}

export interface StoreCounts {
  readonly signals: number;
  readonly canFrames: number;
  readonly securityEvents: number;
  readonly apiEvents: number;
  readonly alerts: number;
  readonly vehicles: number;
  readonly deadLetters: number;
}

/** One partition's stretch of a JetStream stream covered by a write group (scale-out). */
export interface StreamSpan {
  readonly partition: number;
  /** The lease epoch of the worker writing (grows by one at every change of owner). */
  readonly epoch: number;
  /** First and last stream sequence of this partition's messages in the group. */
  readonly from: number;
  readonly to: number;
}

/** Where each partition's durable writes stand. */
export interface StreamPosition {
  readonly partition: number;
  readonly epoch: number;
  readonly seq: number;
}

/** One group of a scale-out worker's output, written with `Store.writeGroup`. */
export interface WriteGroup {
  readonly signals?: SignalBatch;
  readonly securityEvents?: readonly SecurityEvent[];
  readonly apiEvents?: readonly ApiEvent[];
  readonly alerts?: readonly Alert[];
  readonly deadLetters?: readonly DeadLetter[];
  readonly vehicles?: readonly VehicleRecord[];
  readonly spans: readonly StreamSpan[];
}

export interface Store {
  readonly dialect: 'duckdb' | 'postgres';
  /** Apply pending migrations; returns the schema version now in force. */
  migrate(): Promise<number>;
  close(): Promise<void>;

  /** The persisted signal-id dictionary (path -> id), to keep catalog ids stable. */
  signalDictionary(): Promise<Map<string, number>>;
  saveSignalDictionary(entries: readonly { id: number; path: string }[]): Promise<void>;

  /** Append a columnar batch; resolves when durable. Returns rows written. */
  appendSignals(batch: SignalBatch): Promise<number>;
  /** Append raw CAN frames of one vehicle (`vehicle` is its key; the batch's VIN is not stored). Returns frames written. */
  appendCanFrames(vehicle: string, batch: CanFrameBatch): Promise<number>;
  /** Raw frames of a vehicle, oldest first; `data` is the payload as bytes. */
  queryCanFrames(q: { tenant: string; vehicle: string; from?: number; to?: number; limit: number }): Promise<StoredCanFrame[]>;
  insertSecurityEvents(events: readonly SecurityEvent[]): Promise<number>;
  insertApiEvents(events: readonly ApiEvent[]): Promise<number>;
  insertAlerts(alerts: readonly Alert[]): Promise<number>;
  insertDeadLetters(records: readonly DeadLetter[]): Promise<number>;
  /** Insert or update vehicles by (tenant, id); `firstSeen` keeps the earliest, counts add up. */
  upsertVehicles(vehicles: readonly VehicleRecord[]): Promise<void>;

  getVehicle(tenant: string, id: string): Promise<VehicleRecord | undefined>;
  /** Ordered by vehicle key, so pages stay stable while vehicles update. */
  listVehicles(tenant: string, page: Page): Promise<VehicleRecord[]>;
  /** One vehicle's signals, oldest first; `from` inclusive, `to` exclusive (epoch ms). */
  querySignals(q: {
    tenant: string;
    vehicle: string;
    signal?: number;
    from?: number;
    to?: number;
    limit: number;
  }): Promise<StoredSignal[]>;
  /** Newest first by `time`; `since` (epoch ms) is inclusive. */
  listAlerts(q: { tenant: string; vehicle?: string; since?: number } & Page): Promise<Alert[]>;
  listSecurityEvents(q: { tenant: string; vehicle?: string } & Page): Promise<SecurityEvent[]>;
  listApiEvents(q: { tenant: string } & Page): Promise<ApiEvent[]>;
  /** Dead letters, newest first; `tenant` undefined lists all (admin). */
  listDeadLetters(q: { tenant?: string; code?: string; source?: string } & Page): Promise<DeadLetter[]>;
  /** Remove dead letters by id (after a successful replay); returns how many were removed. */
  deleteDeadLetters(ids: readonly string[]): Promise<number>;
  counts(tenant?: string): Promise<StoreCounts>;

  /**
   * Save a named checkpoint of worker state (twins: src/twin/checkpoint.ts), replacing the one
   * saved under that name before, all or nothing. Checkpoints are internal state, not tenant data.
   */
  saveCheckpoint(name: string, data: Uint8Array): Promise<void>;
  /** The checkpoint last saved under `name`, byte for byte; undefined when there is none. */
  loadCheckpoint(name: string): Promise<Uint8Array | undefined>;

  /** Scale-out: the stored position of every partition written so far, by partition. */
  streamPositions(): Promise<StreamPosition[]>;
  /**
   * Scale-out: write one group of a worker's output and advance its partitions' positions, in ONE
   * transaction, all or nothing. For each span, the stored position must have epoch <= span.epoch and
   * seq < span.from; otherwise nothing is written and a StaleWriterError (src/core/errors.ts) is thrown
   * naming the partition (a worker that lost its lease, or a replay already written). On success each
   * partition's position becomes { epoch: span.epoch, seq: span.to }. Idempotent records (events,
   * alerts, dead letters by id) keep their skip-duplicates semantics inside the group.
   */
  writeGroup(g: WriteGroup): Promise<void>;
}
