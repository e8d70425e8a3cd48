/**
 * The MessagePack wire format (see README.md, "MessagePack wire format"): the same fields as
 * the JSON wire format, in binary, plus a compact columnar form of `samples` for batches.
 * Decoding yields the JSON object form, so the same shape checks (decodeSignals, ...) apply.
 */
import { Decoder, ExtensionCodec } from '@msgpack/msgpack';
import { MAX_MESSAGE_BYTES, type Decoded } from './json.js';
import { reject } from './reject.js';

/** msgpack's timestamp extension (type -1) decodes to epoch milliseconds, so `ts` may be a native timestamp. */
const extensions = new ExtensionCodec();
extensions.register({
  type: -1,
  encode: () => null,
  decode: (data: Uint8Array) => {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    switch (data.byteLength) {
      case 4: // timestamp 32: seconds
        return view.getUint32(0) * 1000;
      case 8: { // timestamp 64: 30-bit nanoseconds, 34-bit seconds
        const hi = view.getUint32(0);
        const lo = view.getUint32(4);
        return ((hi & 0x3) * 2 ** 32 + lo) * 1000 + Math.floor((hi >>> 2) / 1e6);
      }
      case 12: // timestamp 96: 32-bit nanoseconds, 64-bit signed seconds
        return Number(view.getBigInt64(4)) * 1000 + Math.floor(view.getUint32(0) / 1e6);
      default:
        throw new RangeError(`timestamp extension of ${data.byteLength} bytes`);
    }
  },
});

// No container can hold more elements than the payload has bytes: the caps stop a forged
// length from allocating more than the message could fill.
const decoder = new Decoder({
  extensionCodec: extensions,
  maxStrLength: MAX_MESSAGE_BYTES,
  maxBinLength: MAX_MESSAGE_BYTES,
  maxArrayLength: MAX_MESSAGE_BYTES,
  maxMapLength: MAX_MESSAGE_BYTES,
  maxExtLength: MAX_MESSAGE_BYTES,
});

/** Decode one MessagePack map into the wire object form; a compact `samples` is expanded to triples. */
export function parseMsgpackObject(payload: string | Uint8Array): Decoded<Record<string, unknown>> {
  if (typeof payload === 'string') {
    return { ok: false, reject: reject('msgpack.malformed', 'a MessagePack payload must be bytes, not text') };
  }
  if (payload.length > MAX_MESSAGE_BYTES) {
    return { ok: false, reject: reject('message.too_large', `message of ${payload.length} bytes exceeds ${MAX_MESSAGE_BYTES}`) };
  }
  let value: unknown;
  try {
    value = decoder.decode(payload);
  } catch (e) {
    return { ok: false, reject: reject('msgpack.malformed', `malformed MessagePack: ${(e as Error).message}`) };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) {
    return { ok: false, reject: reject('msgpack.not_map', 'message must be a MessagePack map') };
  }
  const o = value as Record<string, unknown>;
  const s = o.samples;
  if (s !== null && typeof s === 'object' && !Array.isArray(s)) {
    const samples = expandSamples(s as Record<string, unknown>, o.ts);
    if (!Array.isArray(samples)) return { ok: false, reject: samples };
    o.samples = samples;
  }
  return { ok: true, value: o };
}

/**
 * The compact form `{paths, p, t, v}` -> `[path, ts, value]` triples. Column shapes are
 * checked here (a mismatch refuses the message); a bad index or time becomes a triple the
 * normalizer refuses entry by entry, with the rest of the message stored.
 */
function expandSamples(c: Record<string, unknown>, ts: unknown): unknown[] | ReturnType<typeof reject> {
  const { paths, p, t, v } = c;
  if (!Array.isArray(paths) || !Array.isArray(p) || !Array.isArray(t) || !Array.isArray(v)) {
    return reject('msgpack.samples', 'compact `samples` must be a map of arrays {paths, p, t, v}');
  }
  if (p.length !== t.length || p.length !== v.length) {
    return reject('msgpack.samples', `compact \`samples\` columns differ in length (p ${p.length}, t ${t.length}, v ${v.length})`);
  }
  for (const k in c) {
    if (k !== 'paths' && k !== 'p' && k !== 't' && k !== 'v') return reject('msgpack.samples', `compact \`samples\` has an unknown key ${JSON.stringify(k.slice(0, 64))}`);
  }
  const base = typeof ts === 'number' ? ts : Number.NaN;
  const out = new Array<unknown>(p.length);
  for (let i = 0; i < p.length; i++) {
    const idx = p[i];
    const path = Number.isInteger(idx) ? paths[idx as number] : undefined;
    const dt = t[i];
    out[i] = [path, typeof dt === 'number' ? base + dt : dt, v[i]];
  }
  return out;
}

/** How far into a payload the routing `vin` is looked for, in bytes. */
const ROUTING_SCAN_BYTES = 4096;

/**
 * The top-level `vin` of a MessagePack map, read without decoding the message (for routing
 * to the owning worker); undefined when absent within the first bytes or not a short string.
 * Only a hint: the worker decodes the message fully and refuses it if this was wrong.
 */
export function msgpackRoutingVin(b: Uint8Array): string | undefined {
  const end = Math.min(b.length, ROUTING_SCAN_BYTES);
  let pos = 0;
  let entries: number;
  const h = b[pos++];
  if (h === undefined) return undefined;
  if (h >= 0x80 && h <= 0x8f) entries = h & 0x0f;
  else if (h === 0xde && end >= 3) {
    entries = (b[1]! << 8) | b[2]!;
    pos = 3;
  } else return undefined;
  for (let e = 0; e < entries && pos < end; e++) {
    const kh = b[pos];
    if (kh === 0xa3 && b[pos + 1] === 0x76 && b[pos + 2] === 0x69 && b[pos + 3] === 0x6e) {
      pos += 4;
      const vh = b[pos]!;
      let len: number;
      if (vh >= 0xa0 && vh <= 0xbf) {
        len = vh & 0x1f;
        pos += 1;
      } else if (vh === 0xd9) {
        len = b[pos + 1]!;
        pos += 2;
      } else return undefined;
      if (len > 64 || pos + len > b.length) return undefined;
      return String.fromCharCode(...b.subarray(pos, pos + len));
    }
    pos = skip(b, pos, end); // key
    if (pos < 0) return undefined;
    pos = skip(b, pos, end); // value
    if (pos < 0) return undefined;
  }
  return undefined;
}

/** Position after the MessagePack value at `pos` (containers included), or -1 past `end` or on a bad byte. */
function skip(b: Uint8Array, pos: number, end: number): number {
  let pending = 1; // values still to skip
  while (pending > 0) {
    if (pos >= end) return -1;
    const h = b[pos]!;
    pending--;
    if (h <= 0x7f || h >= 0xe0 || h === 0xc0 || h === 0xc2 || h === 0xc3) pos += 1;
    else if (h <= 0x8f) { pending += 2 * (h & 0x0f); pos += 1; }
    else if (h <= 0x9f) { pending += h & 0x0f; pos += 1; }
    else if (h <= 0xbf) pos += 1 + (h & 0x1f);
    else if (h === 0xc4 || h === 0xd9) pos += 2 + (b[pos + 1] ?? 0);
    else if (h === 0xc5 || h === 0xda) pos += 3 + u16(b, pos + 1);
    else if (h === 0xc6 || h === 0xdb) pos += 5 + u32(b, pos + 1);
    else if (h === 0xc7) pos += 3 + (b[pos + 1] ?? 0);
    else if (h === 0xc8) pos += 4 + u16(b, pos + 1);
    else if (h === 0xc9) pos += 6 + u32(b, pos + 1);
    else if (h === 0xca) pos += 5;
    else if (h === 0xcb) pos += 9;
    else if (h === 0xcc || h === 0xd0) pos += 2;
    else if (h === 0xcd || h === 0xd1) pos += 3;
    else if (h === 0xce || h === 0xd2) pos += 5;
    else if (h === 0xcf || h === 0xd3) pos += 9;
    else if (h >= 0xd4 && h <= 0xd8) pos += 2 + (1 << (h - 0xd4));
    else if (h === 0xdc) { pending += u16(b, pos + 1); pos += 3; }
    else if (h === 0xdd) { pending += u32(b, pos + 1); pos += 5; }
    else if (h === 0xde) { pending += 2 * u16(b, pos + 1); pos += 3; }
    else if (h === 0xdf) { pending += 2 * u32(b, pos + 1); pos += 5; }
    else return -1; // 0xc1: never used
    if (pending > end) return -1; // more values than bytes left: forged length
  }
  return pos;
}

const u16 = (b: Uint8Array, at: number): number => ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
const u32 = (b: Uint8Array, at: number): number => (((b[at] ?? 0) << 24) >>> 0) + ((b[at + 1] ?? 0) << 16) + ((b[at + 2] ?? 0) << 8) + (b[at + 3] ?? 0);
