/**
 * How each record kind maps to its PostgreSQL table: the insert columns with their types, one
 * row's values, the SELECT list and the record read back. Inserts pass one array per column
 * and `unnest` them (tables-insert in postgres-store.ts), so a call is one statement however
 * many rows it has, and a column is named in exactly one place besides its migration.
 */
import type { Alert, ApiEvent, DeadLetter, SecurityEvent, Severity, VehicleRecord } from '../../core/records.js';
import {
  bytesParam,
  bytesValue,
  jsonParam,
  msSql,
  msValue,
  opt,
  optionalTimeParam,
  optionalVehicleParam,
  present,
  timeParam,
  vehicleParam,
  vehicleSql,
} from './values.js';

/** A column value before it goes into its column's array. */
export type Cell = string | number | Buffer | null;

/** A record table: what the store needs to insert and read back one kind of record. */
export interface RecordTable<R, Row> {
  readonly table: string;
  /** Insert columns and their PostgreSQL types; `params` returns values in this order. */
  readonly columns: readonly (readonly [name: string, type: string])[];
  /** The key ON CONFLICT refers to. */
  readonly key: readonly string[];
  params(record: R, tenant: number | null): Cell[];
  /** SELECT list producing `Row`. */
  readonly select: string;
  /** The record of a row; `tenant` is the name the query was scoped to (not used by dead letters). */
  read(row: Row, tenant: string): R;
}

interface SecurityEventRow {
  id: string;
  vehicle: string;
  ts: string;
  event_id: string;
  name: string;
  sensor: string;
  count: string;
  severity: Severity;
  context: Record<string, unknown> | null;
  source: string;
}

/** IdsM security events; key (tenant, id). */
export const securityEvents: RecordTable<SecurityEvent, SecurityEventRow> = {
  table: 'security_events',
  columns: [
    ['tenant', 'integer'], ['id', 'text'], ['vehicle', 'bigint'], ['ts', 'timestamptz'], ['event_id', 'bigint'],
    ['name', 'text'], ['sensor', 'text'], ['count', 'bigint'], ['severity', 'text'], ['context', 'jsonb'], ['source', 'text'],
  ],
  key: ['tenant', 'id'],
  params: (e, tenant) => [
    tenant,
    e.id,
    vehicleParam(e.vehicle),
    timeParam(e.time, 'time'),
    e.eventId,
    e.name,
    e.sensor,
    e.count,
    e.severity,
    jsonParam(e.context),
    e.source,
  ],
  select: `id, ${vehicleSql('vehicle')} AS vehicle, ${msSql('ts')} AS ts, event_id, name, sensor, count, severity, context, source`,
  read: (r, tenant) => ({
    id: r.id,
    tenant,
    vehicle: r.vehicle,
    time: msValue(r.ts),
    eventId: Number(r.event_id),
    name: r.name,
    sensor: r.sensor,
    count: Number(r.count),
    severity: r.severity,
    ...present('context', r.context),
    source: r.source,
  }),
};

interface ApiEventRow {
  id: string;
  ts: string;
  service: string;
  vehicle: string | null;
  actor: string | null;
  method: string | null;
  endpoint: string;
  status: number | null;
  source_ip: string | null;
  user_agent: string | null;
  source: string;
}

/** Back-end API and log events; key (tenant, id). */
export const apiEvents: RecordTable<ApiEvent, ApiEventRow> = {
  table: 'api_events',
  columns: [
    ['tenant', 'integer'], ['id', 'text'], ['ts', 'timestamptz'], ['service', 'text'], ['vehicle', 'bigint'],
    ['actor', 'text'], ['method', 'text'], ['endpoint', 'text'], ['status', 'integer'], ['source_ip', 'text'],
    ['user_agent', 'text'], ['source', 'text'],
  ],
  key: ['tenant', 'id'],
  params: (e, tenant) => [
    tenant,
    e.id,
    timeParam(e.time, 'time'),
    e.service,
    optionalVehicleParam(e.vehicle),
    opt(e.actor),
    opt(e.method),
    e.endpoint,
    opt(e.status),
    opt(e.sourceIp),
    opt(e.userAgent),
    e.source,
  ],
  select: `id, ${msSql('ts')} AS ts, service, ${vehicleSql('vehicle')} AS vehicle, actor, method, endpoint, status,
    source_ip, user_agent, source`,
  read: (r, tenant) => ({
    id: r.id,
    tenant,
    time: msValue(r.ts),
    service: r.service,
    ...present('vehicle', r.vehicle),
    ...present('actor', r.actor),
    ...present('method', r.method),
    endpoint: r.endpoint,
    ...present('status', r.status),
    ...present('sourceIp', r.source_ip),
    ...present('userAgent', r.user_agent),
    source: r.source,
  }),
};

interface AlertRow {
  id: string;
  vehicle: string | null;
  ts: string;
  detected_at: string;
  rule: string;
  title: string;
  severity: Severity;
  tags: string[];
  details: Record<string, unknown>;
}

/** Raw detections; key (tenant, id). */
export const alerts: RecordTable<Alert, AlertRow> = {
  table: 'alerts',
  columns: [
    ['tenant', 'integer'], ['id', 'text'], ['vehicle', 'bigint'], ['ts', 'timestamptz'], ['detected_at', 'timestamptz'],
    ['rule', 'text'], ['title', 'text'], ['severity', 'text'], ['tags', 'jsonb'], ['details', 'jsonb'],
  ],
  key: ['tenant', 'id'],
  params: (a, tenant) => [
    tenant,
    a.id,
    optionalVehicleParam(a.vehicle),
    timeParam(a.time, 'time'),
    timeParam(a.detectedAt, 'detectedAt'),
    a.rule,
    a.title,
    a.severity,
    jsonParam(a.tags),
    jsonParam(a.details),
  ],
  select: `id, ${vehicleSql('vehicle')} AS vehicle, ${msSql('ts')} AS ts, ${msSql('detected_at')} AS detected_at, rule,
    title, severity, tags, details`,
  read: (r, tenant) => ({
    id: r.id,
    tenant,
    ...present('vehicle', r.vehicle),
    time: msValue(r.ts),
    detectedAt: msValue(r.detected_at),
    rule: r.rule,
    title: r.title,
    severity: r.severity,
    tags: r.tags,
    details: r.details,
  }),
};

interface DeadLetterRow {
  id: string;
  tenant_name: string | null;
  source: string;
  kind: DeadLetter['kind'];
  code: string;
  reason: string;
  received_at: string;
  raw: Buffer;
}

/** Rejected records with raw bytes; key (id), since the tenant may be unknown. */
export const deadLetters: RecordTable<DeadLetter, DeadLetterRow> = {
  table: 'dead_letters',
  columns: [
    ['id', 'text'], ['tenant', 'integer'], ['source', 'text'], ['kind', 'text'], ['code', 'text'], ['reason', 'text'],
    ['received_at', 'timestamptz'], ['raw', 'bytea'],
  ],
  key: ['id'],
  params: (d, tenant) => [d.id, tenant, d.source, d.kind, d.code, d.reason, timeParam(d.receivedAt, 'receivedAt'), bytesParam(d.raw)],
  select: `id, (SELECT name FROM tenants WHERE tenants.id = dead_letters.tenant) AS tenant_name, source, kind, code,
    reason, ${msSql('received_at')} AS received_at, raw`,
  read: (r) => ({
    id: r.id,
    ...present('tenant', r.tenant_name),
    source: r.source,
    kind: r.kind,
    code: r.code,
    reason: r.reason,
    receivedAt: msValue(r.received_at),
    raw: bytesValue(r.raw),
  }),
};

interface VehicleRow {
  id: string;
  make: string | null;
  model: string | null;
  year: number | null;
  trim: string | null;
  region: string | null;
  software: Record<string, string> | null;
  first_seen: string | null;
  last_seen: string | null;
  signal_count: string;
}

/** Vehicle summaries; key (tenant, id). Upserted with `upsertVehiclesSql` instead of insert-or-ignore. */
export const vehicles: RecordTable<VehicleRecord, VehicleRow> = {
  table: 'vehicles',
  columns: [
    ['tenant', 'integer'], ['id', 'bigint'], ['make', 'text'], ['model', 'text'], ['year', 'integer'], ['trim', 'text'],
    ['region', 'text'], ['software', 'jsonb'], ['first_seen', 'timestamptz'], ['last_seen', 'timestamptz'],
    ['signal_count', 'bigint'],
  ],
  key: ['tenant', 'id'],
  params: (v, tenant) => [
    tenant,
    vehicleParam(v.id),
    opt(v.make),
    opt(v.model),
    opt(v.year),
    opt(v.trim),
    opt(v.region),
    jsonParam(v.software),
    optionalTimeParam(v.firstSeen, 'firstSeen'),
    optionalTimeParam(v.lastSeen, 'lastSeen'),
    v.signalCount,
  ],
  select: `${vehicleSql('id')} AS id, make, model, year, trim, region, software, ${msSql('first_seen')} AS first_seen,
    ${msSql('last_seen')} AS last_seen, signal_count`,
  read: (r, tenant) => ({
    tenant,
    id: r.id,
    ...present('make', r.make),
    ...present('model', r.model),
    ...present('year', r.year),
    ...present('trim', r.trim),
    ...present('region', r.region),
    ...present('software', r.software),
    ...present('firstSeen', r.first_seen === null ? null : msValue(r.first_seen)),
    ...present('lastSeen', r.last_seen === null ? null : msValue(r.last_seen)),
    signalCount: Number(r.signal_count),
  }),
};

const last = (col: string): string => `(array_agg(${col} ORDER BY ord DESC) FILTER (WHERE ${col} IS NOT NULL))[1]`;

/**
 * The upsert of the port's merge rule, from one array parameter per `vehicles` column. Repeats
 * of a vehicle within the call are folded first (the last given attribute wins, earliest
 * firstSeen, latest lastSeen, counts summed): PostgreSQL lets one statement touch a row once.
 * Rows go in key order, so concurrent upserts lock rows in one order and cannot deadlock.
 */
export const UPSERT_VEHICLES = `INSERT INTO vehicles (tenant, id, make, model, year, trim, region, software, first_seen, last_seen, signal_count)
  SELECT tenant, id, ${last('make')}, ${last('model')}, ${last('year')}, ${last('trim')}, ${last('region')},
    ${last('software')}, min(first_seen), max(last_seen), sum(signal_count)
  FROM unnest($1::integer[], $2::bigint[], $3::text[], $4::text[], $5::integer[], $6::text[], $7::text[], $8::jsonb[],
    $9::timestamptz[], $10::timestamptz[], $11::bigint[]) WITH ORDINALITY
    AS s(tenant, id, make, model, year, trim, region, software, first_seen, last_seen, signal_count, ord)
  GROUP BY tenant, id
  ORDER BY tenant, id
  ON CONFLICT (tenant, id) DO UPDATE SET
    make = coalesce(excluded.make, vehicles.make),
    model = coalesce(excluded.model, vehicles.model),
    year = coalesce(excluded.year, vehicles.year),
    trim = coalesce(excluded.trim, vehicles.trim),
    region = coalesce(excluded.region, vehicles.region),
    software = coalesce(excluded.software, vehicles.software),
    first_seen = least(vehicles.first_seen, excluded.first_seen),
    last_seen = greatest(vehicles.last_seen, excluded.last_seen),
    signal_count = vehicles.signal_count + excluded.signal_count`;

/** The rows' values transposed into one array per column (the `unnest` parameters). */
export function columnArrays(width: number, rows: readonly Cell[][]): Cell[][] {
  const cols: Cell[][] = Array.from({ length: width }, () => new Array<Cell>(rows.length));
  rows.forEach((row, r) => {
    for (let c = 0; c < width; c++) cols[c]![r] = row[c]!;
  });
  return cols;
}

/** `INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING` for `table`; returns the statement. */
export function insertIgnoringSql(table: RecordTable<unknown, unknown>): string {
  const names = table.columns.map(([n]) => n).join(', ');
  const arrays = table.columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ');
  return `INSERT INTO ${table.table} (${names}) SELECT * FROM unnest(${arrays}) ON CONFLICT (${table.key.join(', ')}) DO NOTHING`;
}
