/**
 * Malformed records for the HTTP and NATS fuzz tests, and valid ones to mix in. Each
 * malformed record is refused whole — by framing (HTTP: before the pipeline; the code is
 * known here) or by a lane (shape, VIN, time checks) — so it ends as exactly one dead letter.
 * None holds a newline byte or is blank, so each is also exactly one NDJSON line.
 */
import { encode } from '@msgpack/msgpack';
import type { RecordKind } from '../src/core/records.js';
import { makeVin } from '../src/normalize/vin.js';

export const vins = Array.from({ length: 20 }, (_, i) => makeVin({ wmi: '3VW', vds: 'FZ1AJ', year: 2023, plant: 'M' }, i + 101));

export interface FuzzRecord {
  readonly kind: RecordKind;
  readonly payload: Uint8Array | string;
  /** Refused before the pipeline by NDJSON framing, with this code; otherwise a lane refuses it. */
  readonly frameCode?: string;
  /** Still valid JSON text (usable as a JSON array element). */
  readonly json: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Record i of the fuzz input; `rnd` is a seeded PRNG so a failure can be replayed. */
export function malformedRecord(i: number, rnd: () => number): FuzzRecord {
  const vin = vins[i % vins.length]!;
  const ts = Date.now();
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const good = JSON.stringify({ vin, ts, seq: i, signals: { 'Vehicle.Speed': 50, 'Vehicle.TraveledDistance': 1000 + i } });
  const lane = (kind: RecordKind, payload: string): FuzzRecord => ({ kind, payload, json: true });
  switch (i % 11) {
    case 0: // truncated JSON: no proper, non-empty prefix of an object parses
      return { kind: 'signals', payload: good.slice(0, 1 + Math.floor(rnd() * (good.length - 2))), frameCode: 'json.malformed', json: false };
    case 1: // wrong types, bad VIN, time in the future
      return lane('signals', pick(wrongSignalsMessages(vin, ts)));
    case 2: { // binary garbage: not UTF-8, or UTF-8 that is not JSON
      const b = garbage(rnd, 1 + Math.floor(rnd() * 512));
      return { kind: pick(['signals', 'security', 'log'] as const), payload: b, frameCode: isUtf8(b) ? 'json.malformed' : 'message.encoding', json: false };
    }
    case 3: // Latin-1 inside otherwise good JSON
      return { kind: 'signals', payload: Buffer.from(good.replace('Vehicle.Speed', 'Véhicule.Speed'), 'latin1'), frameCode: 'message.encoding', json: false };
    case 4: // UTF-16 text: valid UTF-8 bytes (NULs), not JSON
      return { kind: 'signals', payload: Buffer.from(good, 'utf16le'), frameCode: 'json.malformed', json: false };
    case 5: { // MessagePack where JSON is expected (a fixmap's first byte is never a UTF-8 lead byte)
      const b = Buffer.from(encode({ vin, ts, signals: { 'Vehicle.Speed': 1 } }));
      return { kind: 'signals', payload: noNewline(b), frameCode: 'message.encoding', json: false };
    }
    case 6: // security events with wrong fields
      return lane('security', pick([
        JSON.stringify({ vin, ts, eventId: 'boom', sensor: 'ids' }),
        JSON.stringify({ vin, ts, eventId: 70_000, sensor: 'ids' }),
        JSON.stringify({ vin, ts, eventId: 1, sensor: '' }),
        JSON.stringify({ vin, ts, eventId: 1, sensor: 'ids', count: 0 }),
      ]));
    case 7: // log events with wrong fields
      return lane('log', pick([
        JSON.stringify({ ts, endpoint: '/x' }),
        JSON.stringify({ ts, service: 'tsp', endpoint: '/x', status: 999 }),
        JSON.stringify({ ts: 'now', service: 'tsp', endpoint: '/x' }),
      ]));
    case 8: // valid JSON that is not an object
      return { kind: pick(['signals', 'security', 'log'] as const), payload: pick(['[1,2,3]', '"text"', 'null', '42', 'true', `${'['.repeat(1000)}${']'.repeat(1000)}`]), frameCode: 'json.not_object', json: true };
    case 9: // an object around a missing or null field
      return lane('signals', pick(['{}', `{"vin":"${vin}","ts":${ts},"signals":null}`, `{"__proto__":{"vin":"${vin}"},"ts":${ts}}`]));
    default: // large: kilobytes of padding, no signals
      return lane('signals', `{"vin":"${vin}","ts":${ts},"pad":"${'p'.repeat(500 + Math.floor(rnd() * 4000))}"}`);
  }
}

/** A valid record of `kind` (signals carry 2 signals); `seq` keeps it apart from every other. */
export function validRecord(kind: RecordKind, seq: number): string {
  const vin = vins[seq % vins.length]!;
  const ts = Date.now() - 30_000;
  if (kind === 'signals') return JSON.stringify({ vin, ts, seq, signals: { 'Vehicle.Speed': seq % 200, 'Vehicle.TraveledDistance': seq } });
  if (kind === 'security') return JSON.stringify({ vin, ts, eventId: 0x8001, sensor: 'CanGatewayIds', count: 1, seq });
  return JSON.stringify({ ts, service: 'telematics', endpoint: `/v1/vehicles/${seq}/unlock`, status: 200 });
}

/** Signals messages a lane refuses whole: wrong types, a bad VIN, a time in the future. */
export function wrongSignalsMessages(vin: string, ts: number): string[] {
  return [
    JSON.stringify({ vin: 12345, ts, signals: { 'Vehicle.Speed': 1 } }),
    JSON.stringify({ vin, ts: 'yesterday', signals: { 'Vehicle.Speed': 1 } }),
    JSON.stringify({ vin, ts: -5, signals: { 'Vehicle.Speed': 1 } }),
    JSON.stringify({ vin, ts, signals: [1, 2, 3] }),
    JSON.stringify({ vin, ts, samples: 'many' }),
    JSON.stringify({ vin, ts, seq: -1, signals: { 'Vehicle.Speed': 1 } }),
    JSON.stringify({ vin, ts }),
    JSON.stringify({ vin: 'NOT-A-VIN', ts, signals: { 'Vehicle.Speed': 1 } }),
    JSON.stringify({ vin, ts: ts + 86_400_000, signals: { 'Vehicle.Speed': 1 } }),
  ];
}

/** Random bytes whose first byte (0xc1..0xdc) starts neither JSON, whitespace nor a MessagePack map; no newline. */
export function garbage(rnd: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let j = 0; j < n; j++) b[j] = Math.floor(rnd() * 256);
  b[0] = 0xc1 + Math.floor(rnd() * 0x1c);
  return noNewline(b);
}

function noNewline(b: Buffer): Buffer {
  for (let j = 0; j < b.length; j++) if (b[j] === 0x0a) b[j] = 0x0b;
  return b;
}

function isUtf8(b: Uint8Array): boolean {
  try {
    utf8.decode(b);
    return true;
  } catch {
    return false;
  }
}
