/**
 * Records for the Store contract suite. Plain values only: nothing here knows a dialect.
 */
import { SignalBatchBuilder, type SignalBatch } from '../../src/core/batch.js';
import type { Alert, ApiEvent, DeadLetter, SecurityEvent, VehicleRecord } from '../../src/core/records.js';

/** 2025-01-01T00:00:00Z, epoch ms. */
export const T0 = Date.UTC(2025, 0, 1);

/** Vehicle keys chosen to exercise all 64 bits: zero, top bit set, all ones, mixed. */
export const V = {
  a: '0123456789abcdef',
  b: 'fedcba9876543210',
  zero: '0000000000000000',
  top: '8000000000000000',
  max: 'ffffffffffffffff',
  low: '00000000ffffffff',
} as const;

export const ACME = 'acme';
export const GLOBEX = 'globex';

export interface SignalRow {
  readonly vehicle: string;
  readonly time: number;
  readonly signal: number;
  readonly value?: number;
  readonly text?: string;
}

/** A batch holding exactly `rows`, in the given order. */
export function signalBatch(tenant: string, rows: readonly SignalRow[]): SignalBatch {
  const b = new SignalBatchBuilder(tenant, rows.length, T0);
  for (const r of rows) b.push(b.vehicleIndex(r.vehicle), r.time, r.signal, r.value ?? 0, r.text);
  return b.build();
}

export function securityEvent(n: number, over: Partial<SecurityEvent> = {}): SecurityEvent {
  return {
    id: `ids-${n}`,
    tenant: ACME,
    vehicle: V.a,
    time: T0 + n * 1000,
    eventId: 0x8001 + n,
    name: 'CAN_FRAME_UNEXPECTED_ID',
    sensor: 'CGW',
    count: n + 1,
    severity: 'high',
    context: { bus: 'PT-CAN', canId: 0x7df, frames: [1, 2, 3], nested: { ok: true, note: null } },
    source: 'mqtt:vigil/acme/security',
    ...over,
  };
}

export function apiEvent(n: number, over: Partial<ApiEvent> = {}): ApiEvent {
  return {
    id: `api-${n}`,
    tenant: ACME,
    time: T0 + n * 1000,
    service: 'telematics',
    vehicle: V.b,
    actor: 'user-42',
    method: 'POST',
    endpoint: '/v1/vehicles/{id}/unlock',
    status: 200,
    sourceIp: '203.0.113.7',
    userAgent: 'VigilTest/1.0',
    source: 'http',
    ...over,
  };
}

export function alert(n: number, over: Partial<Alert> = {}): Alert {
  return {
    id: `alert-${n}`,
    tenant: ACME,
    vehicle: V.a,
    time: T0 + n * 1000,
    detectedAt: T0 + n * 1000 + 250,
    rule: 'can.flood',
    title: 'CAN flood on PT-CAN',
    severity: 'critical',
    tags: ['atm.t0001', 'r155.4.3.1'],
    details: { rate: 1250.5, window: '1s', ids: [0x100, 0x101] },
    ...over,
  };
}

/** Every byte value once, then a few that text encodings like to mangle. */
export const ALL_BYTES = Uint8Array.from([...Array.from({ length: 256 }, (_, i) => i), 0x00, 0xc3, 0x28, 0xff, 0x0a]);

export function deadLetter(n: number, over: Partial<DeadLetter> = {}): DeadLetter {
  return {
    id: `dl-${n}`,
    tenant: ACME,
    source: 'sim',
    kind: 'signals',
    code: 'json.malformed',
    reason: `unexpected token at offset ${n}`,
    receivedAt: T0 + n * 1000,
    raw: Uint8Array.from([0x7b, n & 0xff, 0x00, 0xff]),
    ...over,
  };
}

export function vehicle(id: string, over: Partial<VehicleRecord> = {}): VehicleRecord {
  return {
    tenant: ACME,
    id,
    make: 'Volkswagen',
    model: 'ID.4',
    year: 2023,
    trim: 'Pro',
    region: 'EU',
    software: { TCU: '4.2.1', BCM: '1.0.9', 'ADAS-ECU': '2023.11' },
    firstSeen: T0,
    lastSeen: T0 + 60_000,
    signalCount: 100,
    ...over,
  };
}

/** Newest first by a time field: the order every list method of the port promises. */
export function newestFirst<T>(items: readonly T[], time: (item: T) => number): T[] {
  return [...items].sort((x, y) => time(y) - time(x));
}
