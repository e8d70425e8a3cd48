/**
 * The AUTOSAR IdsM qualified security event (QSEv) as IdsR/back ends forward it in JSON,
 * mapped onto the security wire fields before the shape check:
 *
 * - time: `ts` (epoch ms) or `timestamp` as epoch s/ms/us/ns (by magnitude, 64-bit decimal
 *   strings included), RFC 3339, or an StbM time stamp `{seconds, nanoseconds, secondsHi?}`
 *   (taken as seconds since the Unix epoch);
 * - event id: `eventId`, `securityEventId` or `eventDefinitionId`;
 * - `sensorInstanceId` / `idsmInstanceId` (integers); `sensor` defaults to `sensor-<id>`;
 * - count: `count` or `aggregationCount`;
 * - `contextData`: the sensor's opaque bytes, base64 or hex (`contextDataEncoding` says which;
 *   else hex when it looks like hex, `0x`-prefixed or even-length of [0-9a-f], else base64).
 *   Kept raw as received with the decoded length; the extract may describe its layout.
 */
import type { Decoded } from './json.js';
import { epochToMs, parseAnyTime } from './logs/time.js';
import { reject } from './reject.js';

/** Largest context data accepted, in bytes. */
export const MAX_CONTEXT_DATA_BYTES = 4096;

export interface ContextData {
  /** As received (base64 or hex text). */
  readonly raw: string;
  readonly encoding: 'base64' | 'hex';
  readonly bytes: Uint8Array;
}

type Obj = Record<string, unknown>;
const fail = (code: string, reason: string): Decoded<Obj> => ({ ok: false, reject: reject(code, reason) });

const HEX = /^(?:0x)?((?:[0-9a-fA-F]{2})*)$/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Decode context data text; undefined when it is neither valid hex nor valid base64. */
export function decodeContextData(raw: string, encoding?: unknown): ContextData | undefined {
  const text = raw.replace(/\s+/g, '');
  const hex = HEX.exec(text);
  const asHex = encoding === 'hex' || (encoding === undefined && hex !== null && (text.startsWith('0x') || /^[0-9a-f]*$/.test(text) || /^[0-9A-F]*$/.test(text)));
  if (asHex) {
    if (!hex) return undefined;
    return { raw, encoding: 'hex', bytes: new Uint8Array(Buffer.from(hex[1]!, 'hex')) };
  }
  if (encoding !== undefined && encoding !== 'base64') return undefined;
  if (!BASE64.test(text) || text.replace(/=+$/, '').length % 4 === 1) return undefined;
  return { raw, encoding: 'base64', bytes: new Uint8Array(Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64')) };
}

function stbmTime(t: Obj): number | undefined {
  const { seconds, nanoseconds, secondsHi } = t;
  if (!Number.isInteger(seconds) || (seconds as number) < 0) return undefined;
  if (nanoseconds !== undefined && (!Number.isInteger(nanoseconds) || (nanoseconds as number) < 0 || (nanoseconds as number) >= 1e9)) return undefined;
  if (secondsHi !== undefined && (!Number.isInteger(secondsHi) || (secondsHi as number) < 0)) return undefined;
  const s = (secondsHi as number | undefined ?? 0) * 2 ** 32 + (seconds as number);
  return s * 1000 + Math.floor((nanoseconds as number | undefined ?? 0) / 1e6);
}

/** Map QSEv field variants onto the security wire fields; the result goes to the shape check. */
export function qsevToWire(o: Obj): Decoded<Obj> {
  const needsWork = o.ts === undefined || o.eventId === undefined || o.sensor === undefined || o.count === undefined || o.contextData !== undefined;
  if (!needsWork) return { ok: true, value: o };
  const out: Obj = { ...o };
  if (out.ts === undefined && o.timestamp !== undefined) {
    const t = o.timestamp;
    const ms = t !== null && typeof t === 'object' && !Array.isArray(t) ? stbmTime(t as Obj) : typeof t === 'number' ? epochToMs(t) : parseAnyTime(t);
    if (ms === undefined) return fail('time.invalid', '`timestamp` must be epoch s/ms/us/ns, RFC 3339, or {seconds, nanoseconds, secondsHi?}');
    out.ts = ms;
  }
  out.eventId ??= o.securityEventId ?? o.eventDefinitionId;
  out.count ??= o.aggregationCount;
  for (const k of ['sensorInstanceId', 'idsmInstanceId'] as const) {
    if (o[k] !== undefined && (!Number.isSafeInteger(o[k]) || (o[k] as number) < 0 || (o[k] as number) > 0xffff)) {
      return fail('security.sensor', `\`${k}\` must be an integer 0..65535`);
    }
  }
  if (out.sensor === undefined && o.sensorInstanceId !== undefined) out.sensor = `sensor-${o.sensorInstanceId as number}`;
  if (o.contextData !== undefined) {
    if (typeof o.contextData !== 'string') return fail('security.context_data', '`contextData` must be base64 or hex text');
    const cd = decodeContextData(o.contextData, o.contextDataEncoding);
    if (!cd) return fail('security.context_data', `\`contextData\` is not valid ${typeof o.contextDataEncoding === 'string' ? o.contextDataEncoding : 'hex or base64'}`);
    if (cd.bytes.length > MAX_CONTEXT_DATA_BYTES) return fail('security.context_data', `context data of ${cd.bytes.length} bytes exceeds ${MAX_CONTEXT_DATA_BYTES}`);
    out.contextData = cd;
  }
  return { ok: true, value: out };
}
