/**
 * Decoding of the JSON wire format (see README.md): bytes in, a shape-checked message or a
 * reject out. Values are not checked against the catalog here; that is normalize's job.
 */
import { qsevToWire, type ContextData } from './idsm.js';
import { reject, type Reject } from './reject.js';

export interface SignalsMessage {
  readonly vin: string;
  readonly ts: number;
  readonly seq?: number;
  readonly signals?: Readonly<Record<string, unknown>>;
  /** `[path, ts, value]`, or `[path, ts, value, unit]` when the sample's unit is declared. */
  readonly samples?: readonly unknown[];
  /** VSS path -> unit of the values sent for that path in this message (VSS unit ids, e.g. `mph`). */
  readonly units?: Readonly<Record<string, string>>;
}

export interface SecurityMessage {
  readonly vin: string;
  readonly ts: number;
  readonly seq?: number;
  readonly eventId: number;
  readonly sensor: string;
  readonly count: number;
  readonly context?: Readonly<Record<string, unknown>>;
  /** QSEv fields (see idsm.ts): sensor and IdsM instance ids, the sensor's opaque context bytes. */
  readonly sensorInstanceId?: number;
  readonly idsmInstanceId?: number;
  readonly contextData?: ContextData;
}

export interface LogMessage {
  readonly ts: number;
  readonly service: string;
  readonly endpoint: string;
  readonly seq?: number;
  readonly vin?: string;
  readonly actor?: string;
  readonly method?: string;
  readonly status?: number;
  readonly ip?: string;
  readonly ua?: string;
  /**
   * Where a decoder found `vin` (`path`/`query` of a URL, an OCPP `payload`). A found VIN that
   * fails validation does not refuse the record: the event is kept without a vehicle and
   * marked, since requests naming invalid VINs are themselves evidence (enumeration).
   */
  readonly vinFrom?: 'path' | 'query' | 'payload';
  /** Protocol facts that have no column of their own (OCPP message type, error code, security event type). */
  readonly detail?: Readonly<Record<string, unknown>>;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; reject: Reject };

/** Largest message accepted, in bytes (characters for strings); larger is `message.too_large`. */
export const MAX_MESSAGE_BYTES = 1 << 20;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parse one JSON object; refuses oversized input, invalid UTF-8, malformed JSON and non-objects. */
export function parseJsonObject(payload: string | Uint8Array): Decoded<Record<string, unknown>> {
  if (payload.length > MAX_MESSAGE_BYTES) {
    return { ok: false, reject: reject('message.too_large', `message of ${payload.length} bytes exceeds ${MAX_MESSAGE_BYTES}`) };
  }
  let text: string;
  if (typeof payload === 'string') text = payload;
  else {
    try {
      text = utf8.decode(payload);
    } catch {
      return { ok: false, reject: reject('message.encoding', 'payload is not valid UTF-8') };
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, reject: reject('json.malformed', `malformed JSON: ${(e as Error).message}`) };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reject: reject('json.not_object', 'message must be a JSON object') };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

const isTime = (t: unknown): t is number => typeof t === 'number' && Number.isFinite(t) && t >= 0;
const optSeq = (o: Record<string, unknown>): Reject | undefined =>
  o.seq === undefined || (Number.isSafeInteger(o.seq) && (o.seq as number) >= 0)
    ? undefined
    : reject('field.type', '`seq` must be a non-negative integer');

function requireVin(o: Record<string, unknown>): Reject | undefined {
  if (o.vin === undefined) return reject('vin.missing', 'missing `vin`');
  if (typeof o.vin !== 'string') return reject('vin.type', '`vin` must be a string');
  return undefined;
}

/** Longest unit id accepted in `units`. */
export const MAX_UNIT_LENGTH = 32;

/** `units` must map paths to short strings; whether a unit is known is normalize's concern (per entry). */
function checkUnits(u: unknown): Reject | undefined {
  if (u === null || typeof u !== 'object' || Array.isArray(u)) return reject('field.type', '`units` must be an object of path -> unit');
  for (const path in u) {
    const unit = (u as Record<string, unknown>)[path];
    if (typeof unit !== 'string' || unit.length === 0 || unit.length > MAX_UNIT_LENGTH) {
      return reject('field.type', `\`units\` of ${JSON.stringify(path.slice(0, 128))} must be a unit id of 1-${MAX_UNIT_LENGTH} characters`);
    }
  }
  return undefined;
}

/** Shape-check a signals message. */
export function decodeSignals(o: Record<string, unknown>): Decoded<SignalsMessage> {
  const bad = requireVin(o) ?? optSeq(o);
  if (bad) return { ok: false, reject: bad };
  if (!isTime(o.ts)) return { ok: false, reject: reject('time.invalid', '`ts` must be epoch milliseconds (a non-negative number)') };
  const hasSignals = o.signals !== undefined;
  if (hasSignals && (o.signals === null || typeof o.signals !== 'object' || Array.isArray(o.signals))) {
    return { ok: false, reject: reject('field.type', '`signals` must be an object of path -> value') };
  }
  if (o.samples !== undefined && !Array.isArray(o.samples)) {
    return { ok: false, reject: reject('field.type', '`samples` must be an array of [path, ts, value]') };
  }
  if (!hasSignals && o.samples === undefined) {
    return { ok: false, reject: reject('signals.missing', 'message has neither `signals` nor `samples`') };
  }
  if (o.units !== undefined) {
    const bad = checkUnits(o.units);
    if (bad) return { ok: false, reject: bad };
  }
  return { ok: true, value: o as unknown as SignalsMessage };
}

/** Shape-check an IdsM security event. */
export function decodeSecurity(wire: Record<string, unknown>): Decoded<SecurityMessage> {
  const qsev = qsevToWire(wire);
  if (!qsev.ok) return qsev;
  const o = qsev.value;
  const bad = requireVin(o) ?? optSeq(o);
  if (bad) return { ok: false, reject: bad };
  if (!isTime(o.ts)) return { ok: false, reject: reject('time.invalid', '`ts` must be epoch milliseconds') };
  if (!Number.isSafeInteger(o.eventId) || (o.eventId as number) < 0 || (o.eventId as number) > 0xffff) {
    return { ok: false, reject: reject('security.event_id', '`eventId` must be an integer 0..65535') };
  }
  if (typeof o.sensor !== 'string' || o.sensor.length === 0 || o.sensor.length > 128) {
    return { ok: false, reject: reject('security.sensor', '`sensor` must be a non-empty string of at most 128 characters') };
  }
  const count = o.count ?? 1;
  if (!Number.isSafeInteger(count) || (count as number) < 1) {
    return { ok: false, reject: reject('security.count', '`count` must be a positive integer') };
  }
  if (o.context !== undefined && (o.context === null || typeof o.context !== 'object' || Array.isArray(o.context))) {
    return { ok: false, reject: reject('field.type', '`context` must be an object') };
  }
  return { ok: true, value: { ...(o as unknown as SecurityMessage), count: count as number } };
}

const optString = (o: Record<string, unknown>, k: string, max = 2048): Reject | undefined =>
  o[k] === undefined || (typeof o[k] === 'string' && (o[k] as string).length <= max)
    ? undefined
    : reject('field.type', `\`${k}\` must be a string of at most ${max} characters`);

/** Shape-check a back-end log event. */
export function decodeLog(o: Record<string, unknown>): Decoded<LogMessage> {
  if (!isTime(o.ts)) return { ok: false, reject: reject('time.invalid', '`ts` must be epoch milliseconds') };
  if (typeof o.service !== 'string' || !o.service) return { ok: false, reject: reject('log.service', '`service` must be a non-empty string') };
  if (typeof o.endpoint !== 'string' || !o.endpoint) return { ok: false, reject: reject('log.endpoint', '`endpoint` must be a non-empty string') };
  if (o.status !== undefined && (!Number.isInteger(o.status) || (o.status as number) < 100 || (o.status as number) > 599)) {
    return { ok: false, reject: reject('log.status', '`status` must be an HTTP status code 100..599') };
  }
  const bad = optSeq(o) ?? optString(o, 'vin', 32) ?? optString(o, 'actor', 256) ?? optString(o, 'method', 16) ?? optString(o, 'ip', 64) ?? optString(o, 'ua');
  if (bad) return { ok: false, reject: bad };
  if (o.vinFrom !== undefined && o.vinFrom !== 'path' && o.vinFrom !== 'query' && o.vinFrom !== 'payload') {
    return { ok: false, reject: reject('field.type', '`vinFrom` must be path, query or payload') };
  }
  if (o.detail !== undefined && (o.detail === null || typeof o.detail !== 'object' || Array.isArray(o.detail))) {
    return { ok: false, reject: reject('field.type', '`detail` must be an object') };
  }
  return { ok: true, value: o as unknown as LogMessage };
}
