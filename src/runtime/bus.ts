/**
 * The scale-out bus port and its wire form. In scale-out the ingest role does not run lanes:
 * each partition's hand-over of raw messages (handover.ts, packed) is published to the bus
 * (NATS JetStream: src/adapters/nats/partition-bus.ts), and the worker owning the partition
 * unpacks it and runs the same Lane code. Raw messages rather than normalized batches cross
 * the bus because normalizing is stateful per vehicle (duplicate ids, OCPP call windows, the
 * lateness watermark) and its dead letters keep the raw bytes: that state belongs with the
 * partition's twins in the worker, and the ingest role stays stateless and cheap.
 *
 * Wire form: one MessagePack map per hand-over; the typed arrays travel as their bytes.
 */
import { decode, encode } from '@msgpack/msgpack';
import type { PackedItems } from './handover.js';

/** Where the ingest role sends a partition's hand-overs. */
export interface PartitionPublisher {
  /**
   * Publish one hand-over of `partition`; resolves once the bus holds it durably. Retries
   * itself while the bus is unreachable (the pipeline's in-flight bound then slows the
   * sources); rejects only when stopped.
   */
  publish(partition: number, packed: PackedItems): Promise<void>;
}

const asBytes = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** One hand-over as bus message bytes. */
export function encodeHandover(p: PackedItems): Uint8Array {
  return encode({ ...p, ends: asBytes(p.ends), receivedAt: asBytes(p.receivedAt), shapeOf: asBytes(p.shapeOf) });
}

/** A copy into fresh (aligned) memory, as the typed array a field was. */
function typed<T>(bytes: Uint8Array, make: (b: ArrayBuffer) => T): T {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return make(copy.buffer);
}

/** The hand-over again from bus message bytes. */
export function decodeHandover(data: Uint8Array): PackedItems {
  const raw = decode(data) as Omit<PackedItems, 'ends' | 'receivedAt' | 'shapeOf'> & { ends: Uint8Array; receivedAt: Uint8Array; shapeOf: Uint8Array };
  return {
    ...raw,
    ends: typed(raw.ends, (b) => new Uint32Array(b)),
    receivedAt: typed(raw.receivedAt, (b) => new Float64Array(b)),
    shapeOf: typed(raw.shapeOf, (b) => new Uint32Array(b)),
  };
}
