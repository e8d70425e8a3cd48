/**
 * Security events (AUTOSAR IdsM) and back-end log events in the JSON wire format of
 * src/decode/README.md, and the benign back-end traffic every fleet produces: owners
 * checking status, logging in (sometimes mistyping the password), refreshing tokens.
 */
import type { RecordKind } from '../core/records.js';
import type { Fleet } from './fleet.js';
import { hash32, type Sfc32 } from './prng.js';

/** IdsM security event ids the simulator emits; the same ids as normalize's DEFAULT_SECURITY_EXTRACT. */
export const IDSM = {
  canUnknownId: 0x8001,
  canFrequencyViolation: 0x8003,
  udsSessionChange: 0x8101,
  udsSecurityAccessFailed: 0x8102,
  remoteUnlock: 0x8301,
  btPairingRequest: 0x8501,
  heartbeat: 0x8601,
  netUnknownDestination: 0x8901,
} as const;

/** Which IdsM sensor reports each event. */
export const SENSOR = {
  heartbeat: 'IdsM',
  can: 'CanGatewayIds',
  uds: 'DiagGatewayIds',
  tcu: 'TcuIds',
  ivi: 'IviIds',
} as const;

/** One produced record: the wire payload, with what a transport needs to route it. */
export interface SimItem {
  readonly kind: RecordKind;
  readonly tenant: string;
  /** The vehicle the record is about (absent for back-end events not tied to one). */
  readonly vin?: string;
  /** Event time (epoch ms) of the record (of the snapshot, for a signals message). */
  readonly ts: number;
  /** The wire message: one JSON object (or, for a malformed one, what is left of it). */
  readonly payload: string;
}

export function securityPayload(
  vin: string,
  ts: number,
  seq: number,
  eventId: number,
  sensor: string,
  count: number,
  context?: Readonly<Record<string, unknown>>,
): string {
  const ctx = context ? `,"context":${JSON.stringify(context)}` : '';
  return `{"vin":"${vin}","ts":${ts},"seq":${seq},"eventId":${eventId},"sensor":"${sensor}","count":${count}${ctx}}`;
}

export interface LogFields {
  readonly ts: number;
  readonly service: string;
  readonly vin?: string;
  readonly actor?: string;
  readonly method?: string;
  readonly endpoint: string;
  readonly status?: number;
  readonly ip?: string;
  readonly ua?: string;
}

/** A back-end log line. Access logs carry no sequence number; the record id is a content hash. */
export function logPayload(f: LogFields): string {
  return JSON.stringify({
    ts: f.ts,
    service: f.service,
    ...(f.vin !== undefined ? { vin: f.vin } : {}),
    ...(f.actor !== undefined ? { actor: f.actor } : {}),
    ...(f.method !== undefined ? { method: f.method } : {}),
    endpoint: f.endpoint,
    ...(f.status !== undefined ? { status: f.status } : {}),
    ...(f.ip !== undefined ? { ip: f.ip } : {}),
    ...(f.ua !== undefined ? { ua: f.ua } : {}),
  });
}

const hex4 = (n: number): string => (n & 0xffff).toString(16);

/** The address an owner's phone uses: IPv6 from the documentation prefix 2001:db8::/32, stable per owner. */
export function ownerIp(fleet: Fleet, i: number): string {
  const h = hash32(fleet.seed, i, 0x1b);
  const g = hash32(fleet.seed, i, 0x1c);
  return `2001:db8:${hex4(h >>> 16)}:${hex4(h)}::${hex4(g) || '1'}`;
}

const APP_UA = ['VigilApp/4.2.1 (iOS 18.1)', 'VigilApp/4.2.1 (Android 15)', 'VigilApp/4.1.7 (Android 14)', 'VigilApp/4.2.0 (iOS 17.6)'];

export function ownerUa(fleet: Fleet, i: number): string {
  return APP_UA[hash32(fleet.seed, i, 0x1d) % APP_UA.length]!;
}

/** The owner's own request about their vehicle, as the telematics API logs it. */
export function ownerRequest(fleet: Fleet, i: number, ts: number, method: string, endpoint: string, status = 200, withVin = true): SimItem {
  const vin = withVin ? fleet.vin(i) : undefined;
  const payload = logPayload({
    ts, service: 'telematics', ...(vin ? { vin } : {}), actor: fleet.account(i), method, endpoint, status,
    ip: ownerIp(fleet, i), ua: ownerUa(fleet, i),
  });
  return { kind: 'log', tenant: fleet.tenant(i), ...(vin ? { vin } : {}), ts, payload };
}

/**
 * Benign back-end traffic: a Poisson stream over the whole fleet (`perVehicleHour` requests
 * per vehicle and hour), each request from one owner about their own vehicle.
 */
export class BenignTraffic {
  private next: number;
  private readonly meanGapMs: number;

  constructor(
    private readonly fleet: Fleet,
    private readonly rng: Sfc32,
    start: number,
    perVehicleHour: number,
  ) {
    this.meanGapMs = perVehicleHour > 0 ? 3_600_000 / (perVehicleHour * fleet.size) : Number.POSITIVE_INFINITY;
    this.next = start + this.rng.exp(this.meanGapMs);
  }

  /** Requests with time <= `to`, in time order; follow-ups later than `to` go to `later`. */
  until(to: number, emit: (item: SimItem) => void, later: (item: SimItem) => void): void {
    const { fleet, rng } = this;
    while (this.next <= to) {
      const ts = Math.floor(this.next);
      this.next += rng.exp(this.meanGapMs);
      const i = rng.int(fleet.size);
      const u = rng.next();
      if (u < 0.45) emit(ownerRequest(fleet, i, ts, 'GET', '/v1/vehicles/{vin}/status', rng.next() < 0.004 ? 503 : 200));
      else if (u < 0.6) emit(ownerRequest(fleet, i, ts, 'GET', '/v1/vehicles/{vin}/location'));
      else if (u < 0.75) emit(ownerRequest(fleet, i, ts, 'POST', '/v1/auth/token', 200, false));
      else if (u < 0.85) {
        // Logins; one in twenty starts with a mistyped password and succeeds a few seconds later.
        if (rng.next() < 0.05) {
          emit(ownerRequest(fleet, i, ts, 'POST', '/v1/auth/login', 401, false));
          later(ownerRequest(fleet, i, ts + Math.floor(rng.range(3_000, 9_000)), 'POST', '/v1/auth/login', 200, false));
        } else emit(ownerRequest(fleet, i, ts, 'POST', '/v1/auth/login', 200, false));
      } else if (u < 0.95) emit(ownerRequest(fleet, i, ts, 'GET', '/v1/vehicles', 200, false));
      else emit(ownerRequest(fleet, i, ts, 'POST', '/v1/vehicles/{vin}/climate'));
    }
  }
}
