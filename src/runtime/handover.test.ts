import { describe, expect, it } from 'vitest';
import { packedTransferables, packItems, unpackItems } from './handover.js';
import type { InputItem } from './lane.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('packed hand-over', () => {
  it('gives back every item as it was: byte and text payloads, shapes, contexts, transport ids', () => {
    const socketChunk = bytes('xx{"a":1}{"b":22}yy');
    const items: InputItem[] = [
      { kind: 'signals', tenant: 'acme', source: 'mqtt:edge', payload: socketChunk.subarray(2, 9), encoding: 'json', receivedAt: 1.5 },
      { kind: 'signals', tenant: 'acme', source: 'mqtt:edge', payload: socketChunk.subarray(9, 17), encoding: 'json', receivedAt: 2 },
      { kind: 'log', tenant: 'other', source: 'http', payload: '127.0.0.1 - - "GET /"', encoding: 'clf', receivedAt: 3, context: { service: 'tsp' } },
      { kind: 'signals', tenant: 'acme', source: 'nats', payload: new Uint8Array(0), receivedAt: 4, transportId: '42' },
      { kind: 'signals', tenant: 'acme', source: 'mqtt:edge', payload: Uint8Array.of(0x81, 0xa3, 0x76, 0x69, 0x6e), encoding: 'json', receivedAt: 5 },
    ];
    const packed = packItems(items);
    expect(packed.shapes).toHaveLength(3); // the last item reuses the first one's shape
    expect(packed.shapeOf[4]).toBe(0);
    // What a worker receives: a structured clone with the arrays transferred.
    const received = structuredClone(packed, { transfer: packedTransferables(packed) });
    const back = unpackItems(received);
    expect(back).toHaveLength(items.length);
    for (const [i, it] of items.entries()) {
      const got = back[i]!;
      expect({ ...got, payload: undefined }).toEqual({ ...it, payload: undefined });
      expect(typeof got.payload === 'string' ? got.payload : Array.from(got.payload)).toEqual(typeof it.payload === 'string' ? it.payload : Array.from(it.payload));
    }
    expect(received.bytes.byteLength).toBe(7 + 8 + 0 + 5); // only the payloads, not the socket chunk around them
  });

  it('packs an empty hand-over', () => {
    expect(unpackItems(packItems([]))).toEqual([]);
  });
});
