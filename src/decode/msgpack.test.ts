/**
 * The MessagePack wire format through its front door (decodePayload + the shape checks),
 * and the routing hint that sends a message to the worker owning its vehicle.
 */
import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { decodeSignals } from './json.js';
import { msgpackRoutingVin } from './msgpack.js';
import { decodePayload, encodingOfMediaType } from './payload.js';

const vin = '1FTEW1EP5MFA12345';
const ts = 1_764_064_800_000;

describe('msgpack wire format', () => {
  it('decodes to the same object form as JSON, so the same shape checks apply', () => {
    const msg = { vin, ts, seq: 7, signals: { 'Vehicle.Speed': 52.3, 'Vehicle.Cabin.Door.Row1.DriverSide.IsLocked': true }, samples: [['Vehicle.Speed', ts + 100, 52.9]] };
    const fromMsgpack = decodePayload(encode(msg), 'msgpack');
    const fromJson = decodePayload(JSON.stringify(msg), 'json');
    expect(fromMsgpack).toEqual(fromJson);
    expect(fromMsgpack.ok && decodeSignals(fromMsgpack.value).ok).toBe(true);
  });

  it('expands the compact samples form into [path, ts + t, value] triples', () => {
    const samples = { paths: ['Vehicle.Speed', 'Vehicle.TraveledDistance'], p: [0, 1, 0, 1], t: [0, 0, 100, 100], v: [52.3, 1042.1, 53, 1042.2] };
    const r = decodePayload(encode({ vin, ts, samples }), 'msgpack');
    expect(r.ok && r.value.samples).toEqual([
      ['Vehicle.Speed', ts, 52.3],
      ['Vehicle.TraveledDistance', ts, 1042.1],
      ['Vehicle.Speed', ts + 100, 53],
      ['Vehicle.TraveledDistance', ts + 100, 1042.2],
    ]);
  });

  it('leaves a bad index or time in the compact form to entry-level checks; refuses bad columns whole', () => {
    const r = decodePayload(encode({ vin, ts, samples: { paths: ['Vehicle.Speed'], p: [0, 5], t: [0, 'x'], v: [1, 2] } }), 'msgpack');
    expect(r.ok && r.value.samples).toEqual([['Vehicle.Speed', ts, 1], [undefined, 'x', 2]]);
    const bad = decodePayload(encode({ vin, ts, samples: { paths: ['Vehicle.Speed'], p: [0], t: [0, 1], v: [1] } }), 'msgpack');
    expect(!bad.ok && bad.reject.code).toBe('msgpack.samples');
  });

  it('reads a native msgpack timestamp as epoch milliseconds', () => {
    const r = decodePayload(encode({ vin, ts: new Date(ts + 5), signals: { 'Vehicle.Speed': 1 } }), 'msgpack');
    expect(r.ok && r.value.ts).toBe(ts + 5);
  });

  it('refuses malformed input with a reason: truncated, trailing bytes, garbage, non-map, text', () => {
    const good = encode({ vin, ts, signals: { 'Vehicle.Speed': 1 } });
    const code = (p: string | Uint8Array): string | undefined => {
      const r = decodePayload(p, 'msgpack');
      return r.ok ? undefined : r.reject.code;
    };
    expect(code(good.subarray(0, good.length - 3))).toBe('msgpack.malformed');
    expect(code(new Uint8Array([...good, 0x01]))).toBe('msgpack.malformed');
    expect(code(new Uint8Array([0xc1, 0xff, 0x00]))).toBe('msgpack.malformed');
    expect(code(new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff]))).toBe('msgpack.malformed'); // forged array length
    expect(code(encode([1, 2, 3]))).toBe('msgpack.not_map');
    expect(code(JSON.stringify({ vin }))).toBe('msgpack.malformed');
    expect(code(new Uint8Array((1 << 20) + 1))).toBe('message.too_large');
  });

  it('finds the routing VIN without decoding, wherever it sits among the top-level keys', () => {
    expect(msgpackRoutingVin(encode({ vin, ts }))).toBe(vin);
    expect(msgpackRoutingVin(encode({ ts, samples: { paths: ['a', 'b'], p: [0, 1], t: [1, 2], v: [1.5, 'x'] }, nested: { vin: 'no' }, vin }))).toBe(vin);
    expect(msgpackRoutingVin(encode({ ts, signals: { 'Vehicle.Speed': 1 } }))).toBeUndefined();
    expect(msgpackRoutingVin(new Uint8Array([0x81, 0xdd, 0xff, 0xff, 0xff, 0xff]))).toBeUndefined();
  });

  it('maps media types to encodings', () => {
    expect(encodingOfMediaType('application/msgpack')).toBe('msgpack');
    expect(encodingOfMediaType('application/vnd.msgpack')).toBe('msgpack');
    expect(encodingOfMediaType('Application/JSON; charset=utf-8')).toBe('json');
    expect(encodingOfMediaType('text/plain')).toBeUndefined();
    expect(encodingOfMediaType('constructor')).toBeUndefined();
  });
});
