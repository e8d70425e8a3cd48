/**
 * Partitioning: hash(tenant, vehicle) -> partition -> worker. Exactly one worker owns a
 * partition's twins and detector state. The routing key is found without a full parse:
 * the VIN is read from the payload's `"vin":"..."` field (the full decode happens in the
 * worker, which refuses the message if the field was not what it seemed).
 */
import { msgpackRoutingVin } from '../decode/msgpack.js';

/** FNV-1a, 32 bits, over a string's UTF-16 code units. */
export function fnv1a(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** How far into a payload the `vin` field is looked for. */
export const ROUTING_SCAN_CHARS = 4096;

/** The `vin` field's value (`"vin" : "..."`), when the payload's first part has one; else undefined. */
export function routingVin(payload: string | Uint8Array): string | undefined {
  // A MessagePack map starts with 0x80-0x8f or 0xde/0xdf, which no JSON text can start with.
  const b0 = typeof payload === 'string' ? 0 : (payload[0] ?? 0);
  if ((b0 >= 0x80 && b0 <= 0x8f) || b0 === 0xde || b0 === 0xdf) return msgpackRoutingVin(payload as Uint8Array);
  const text =
    typeof payload === 'string'
      ? payload
      : Buffer.from(payload.buffer, payload.byteOffset, Math.min(payload.byteLength, ROUTING_SCAN_CHARS)).toString('latin1');
  const i = text.indexOf('"vin"');
  if (i < 0 || i > ROUTING_SCAN_CHARS) return undefined;
  let j = i + 5;
  while (text.charCodeAt(j) === 32 || text.charCodeAt(j) === 9 || text.charCodeAt(j) === 10 || text.charCodeAt(j) === 13) j++;
  if (text[j] !== ':') return undefined;
  j++;
  while (text.charCodeAt(j) === 32 || text.charCodeAt(j) === 9 || text.charCodeAt(j) === 10 || text.charCodeAt(j) === 13) j++;
  if (text[j] !== '"') return undefined;
  const end = text.indexOf('"', j + 1);
  return end < 0 || end - j > 64 ? undefined : text.slice(j + 1, end);
}

export class Partitioner {
  private roundRobin = 0;
  constructor(
    readonly partitions: number,
    readonly workers: number,
  ) {}

  partitionOf(tenant: string, vin: string): number {
    return fnv1a(vin, fnv1a(tenant)) % this.partitions;
  }

  /** The worker that owns the vehicle; records with no vehicle are spread round-robin. */
  workerOf(tenant: string, vin: string | undefined): number {
    if (vin === undefined) return this.roundRobin++ % this.workers;
    return this.partitionOf(tenant, vin) % this.workers;
  }
}
