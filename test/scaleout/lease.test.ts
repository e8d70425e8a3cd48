/**
 * Partition leases on the real NATS JetStream (4222): one owner per partition, a lease that is
 * not renewed expires and goes to another worker with a higher epoch, and the old owner's
 * renewal is then refused. The bus wire form round-trips a hand-over.
 */
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseTable } from '../../src/adapters/nats/partition-lease.js';
import { decodeHandover, encodeHandover } from '../../src/runtime/bus.js';
import { packItems, unpackItems } from '../../src/runtime/handover.js';
import type { InputItem } from '../../src/runtime/lane.js';

const TTL_MS = 1000;

describe('partition leases', () => {
  const run = randomBytes(4).toString('hex');
  const opts = { stream: `VL_${run}`, subjectPrefix: `vl${run}`, ttlMs: TTL_MS };
  let nc: NatsConnection;

  beforeAll(async () => {
    nc = await connect({ servers: ['nats://127.0.0.1:4222'] });
  });
  afterAll(async () => {
    await (await jetstreamManager(nc)).streams.delete(opts.stream).catch(() => undefined);
    await nc.close();
  });

  it('gives a partition to one worker; an expired lease moves with a higher epoch and the old owner loses it', async () => {
    const a = await LeaseTable.open(nc, opts, 'a');
    const b = await LeaseTable.open(nc, opts, 'b');
    const first = await a.acquire(0);
    expect(first).toBeDefined();
    expect(await b.acquire(0)).toBeUndefined();
    expect(await a.renew()).toEqual([]);
    expect(a.leases()).toEqual([first]);

    await a.heartbeat();
    await b.heartbeat();
    const survey = await a.survey();
    expect(survey.workers).toBe(2);
    expect([...survey.held]).toEqual([0]);

    // a stops renewing (as if killed): the lease expires and b takes it.
    let second;
    for (let i = 0; i < 40 && !second; i++) {
      await new Promise((r) => setTimeout(r, 100));
      second = await b.acquire(0);
    }
    expect(second).toBeDefined();
    expect(second!.epoch).toBeGreaterThan(first!.epoch);
    expect(await a.renew()).toEqual([0]);
    expect(a.leases()).toEqual([]);
    expect(await b.renew()).toEqual([]);

    // A graceful release frees the partition at once.
    await b.release(0);
    const third = await a.acquire(0);
    expect(third!.epoch).toBeGreaterThan(second!.epoch);
  });

  it('carries a hand-over over the wire unchanged', () => {
    const items: InputItem[] = [
      { kind: 'signals', tenant: 'acme', source: 'nats:in', payload: new TextEncoder().encode('{"vin":"X"}'), receivedAt: 1.5, transportId: 's:1:7' },
      { kind: 'security', tenant: 'acme', source: 'mqtt:m', payload: '{"text":true}', encoding: 'json', receivedAt: 2, context: { service: 'x' } },
      { kind: 'signals', tenant: 'acme', source: 'nats:in', payload: Uint8Array.from([0x81, 0xa1, 0x61, 0x01]), encoding: 'msgpack', receivedAt: 3 },
    ];
    const back = unpackItems(decodeHandover(encodeHandover(packItems(items))));
    expect(back.map((i) => ({ ...i, payload: typeof i.payload === 'string' ? i.payload : [...i.payload] }))).toEqual(
      items.map((i) => ({ ...i, payload: typeof i.payload === 'string' ? i.payload : [...i.payload] })),
    );
  });
});
