/**
 * How each record kind maps to its table: the insert columns, one row's parameters, the SELECT
 * list and the record read back. The store's generic insert and list code works from these, so
 * a column is named in exactly one place besides its migration.
 */
import type { Alert, ApiEvent, DeadLetter, SecurityEvent, Severity, VehicleRecord } from '../../core/records.js';
import type { SqlParam } from './connection.js';
import {
  blobParam,
  blobValueOf,
  jsonParam,
  jsonValue,
  opt,
  optionalVehicleParam,
  present,
  timeParam,
  timeValue,
  vehicleParam,
  vehicleValue,
} from './values.js';

/** A record table: what the store needs to insert and read back one kind of record. */
export interface RecordTable<R, Row> {
  readonly table: string;
  /** Insert column order; `params` returns values in this order. */
  readonly columns: readonly string[];
  params(record: R, tenant: number | null): SqlParam[];
  /** SELECT list producing `Row`; times come back as `epoch_us(...)`. */
  readonly select: string;
  /** The record of a row; `tenant` is the name the query was scoped to (not used by dead letters). */
  read(row: Row, tenant: string): R;
}

interface SecurityEventRow {
  id: string;
  vehicle: bigint;
  ts: bigint;
  event_id: number;
  name: string;
  sensor: string;
  count: bigint;
  severity: Severity;
  context: string | null;
  source: string;
}

/** IdsM security events; key (tenant, id). */
export const securityEvents: RecordTable<SecurityEvent, SecurityEventRow> = {
  table: 'security_events',
  columns: ['tenant', 'id', 'vehicle', 'ts', 'event_id', 'name', 'sensor', 'count', 'severity', 'context', 'source'],
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
  select: 'id, vehicle, epoch_us(ts) AS ts, event_id, name, sensor, count, severity, context, source',
  read: (r, tenant) => ({
    id: r.id,
    tenant,
    vehicle: vehicleValue(r.vehicle),
    time: timeValue(r.ts),
    eventId: r.event_id,
    name: r.name,
    sensor: r.sensor,
    count: Number(r.count),
    severity: r.severity,
    ...present('context', r.context === null ? null : jsonValue<Record<string, unknown>>(r.context)),
    source: r.source,
  }),
};

interface ApiEventRow {
  id: string;
  ts: bigint;
  service: string;
  vehicle: bigint | null;
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
    'tenant', 'id', 'ts', 'service', 'vehicle', 'actor', 'method', 'endpoint', 'status', 'source_ip', 'user_agent',
    'source',
  ],
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
  select: 'id, epoch_us(ts) AS ts, service, vehicle, actor, method, endpoint, status, source_ip, user_agent, source',
  read: (r, tenant) => ({
    id: r.id,
    tenant,
    time: timeValue(r.ts),
    service: r.service,
    ...present('vehicle', r.vehicle === null ? null : vehicleValue(r.vehicle)),
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
  vehicle: bigint | null;
  ts: bigint;
  detected_at: bigint;
  rule: string;
  title: string;
  severity: Severity;
  tags: string;
  details: string;
}

/** Raw detections; key (tenant, id). */
export const alerts: RecordTable<Alert, AlertRow> = {
  table: 'alerts',
  columns: ['tenant', 'id', 'vehicle', 'ts', 'detected_at', 'rule', 'title', 'severity', 'tags', 'details'],
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
  select: 'id, vehicle, epoch_us(ts) AS ts, epoch_us(detected_at) AS detected_at, rule, title, severity, tags, details',
  read: (r, tenant) => ({
    id: r.id,
    tenant,
    ...present('vehicle', r.vehicle === null ? null : vehicleValue(r.vehicle)),
    time: timeValue(r.ts),
    detectedAt: timeValue(r.detected_at),
    rule: r.rule,
    title: r.title,
    severity: r.severity,
    tags: jsonValue<string[]>(r.tags),
    details: jsonValue<Record<string, unknown>>(r.details),
  }),
};

interface DeadLetterRow {
  id: string;
  tenant_name: string | null;
  source: string;
  kind: DeadLetter['kind'];
  code: string;
  reason: string;
  received_at: bigint;
  raw: Uint8Array;
}

/** Rejected records with raw bytes; key (id), since the tenant may be unknown. */
export const deadLetters: RecordTable<DeadLetter, DeadLetterRow> = {
  table: 'dead_letters',
  columns: ['id', 'tenant', 'source', 'kind', 'code', 'reason', 'received_at', 'raw'],
  params: (d, tenant) => [
    d.id,
    tenant,
    d.source,
    d.kind,
    d.code,
    d.reason,
    timeParam(d.receivedAt, 'receivedAt'),
    blobParam(d.raw),
  ],
  select: `id, (SELECT name FROM tenants WHERE tenants.id = dead_letters.tenant) AS tenant_name, source, kind, code,
    reason, epoch_us(received_at) AS received_at, raw`,
  read: (r) => ({
    id: r.id,
    ...present('tenant', r.tenant_name),
    source: r.source,
    kind: r.kind,
    code: r.code,
    reason: r.reason,
    receivedAt: timeValue(r.received_at),
    raw: blobValueOf(r.raw),
  }),
};

interface VehicleRow {
  id: bigint;
  make: string | null;
  model: string | null;
  year: number | null;
  trim: string | null;
  region: string | null;
  software: string | null;
  first_seen: bigint | null;
  last_seen: bigint | null;
  signal_count: bigint;
}

/** Vehicle summaries; key (tenant, id). Upserted with `VEHICLE_MERGE` instead of insert-or-ignore. */
export const vehicles: RecordTable<VehicleRecord, VehicleRow> = {
  table: 'vehicles',
  columns: [
    'tenant', 'id', 'make', 'model', 'year', 'trim', 'region', 'software', 'first_seen', 'last_seen', 'signal_count',
  ],
  params: (v, tenant) => [
    tenant,
    vehicleParam(v.id),
    opt(v.make),
    opt(v.model),
    opt(v.year),
    opt(v.trim),
    opt(v.region),
    jsonParam(v.software),
    v.firstSeen === undefined ? null : timeParam(v.firstSeen, 'firstSeen'),
    v.lastSeen === undefined ? null : timeParam(v.lastSeen, 'lastSeen'),
    v.signalCount,
  ],
  select: `id, make, model, year, trim, region, software, epoch_us(first_seen) AS first_seen,
    epoch_us(last_seen) AS last_seen, signal_count`,
  read: (r, tenant) => ({
    tenant,
    id: vehicleValue(r.id),
    ...present('make', r.make),
    ...present('model', r.model),
    ...present('year', r.year),
    ...present('trim', r.trim),
    ...present('region', r.region),
    ...present('software', r.software === null ? null : jsonValue<Record<string, string>>(r.software)),
    ...present('firstSeen', r.first_seen === null ? null : timeValue(r.first_seen)),
    ...present('lastSeen', r.last_seen === null ? null : timeValue(r.last_seen)),
    signalCount: Number(r.signal_count),
  }),
};

/** The upsert rule of the port: earliest firstSeen, latest lastSeen, counts add up, given fields overwrite. */
export const VEHICLE_MERGE = `ON CONFLICT (tenant, id) DO UPDATE SET
  make = coalesce(excluded.make, vehicles.make),
  model = coalesce(excluded.model, vehicles.model),
  year = coalesce(excluded.year, vehicles.year),
  trim = coalesce(excluded.trim, vehicles.trim),
  region = coalesce(excluded.region, vehicles.region),
  software = coalesce(excluded.software, vehicles.software),
  first_seen = least(vehicles.first_seen, excluded.first_seen),
  last_seen = greatest(vehicles.last_seen, excluded.last_seen),
  signal_count = vehicles.signal_count + excluded.signal_count`;
