/**
 * The NATS source against the real server on localhost:4222 (JetStream enabled; `.ci/run`
 * starts it): core subscriptions and a durable JetStream consumer, publish -> read back
 * from the store. Every run uses its own subject prefix and stream, so runs never collide.
 */
import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { encode } from '@msgpack/msgpack';
import { connect, headers, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBStore } from '../src/adapters/duckdb/duckdb-store.js';
import { startNatsSource, type NatsSource } from '../src/adapters/nats/source.js';
import { startVigil, type Vigil } from '../src/api/vigil.js';
import { systemClock } from '../src/core/clock.js';
import { ConfigError } from '../src/core/errors.js';
import type { Store } from '../src/core/store.js';
import { DEFAULT_POLICY } from '../src/normalize/policy.js';
import { makeVin } from '../src/normalize/vin.js';
import { parseConfig, type SourceConfig } from '../src/runtime/config.js';
import { Pipeline } from '../src/runtime/pipeline.js';
import { defaultCatalog } from '../src/sim/default-catalog.js';
import { gated, until } from './ingest-helpers.js';

const NATS_URL = 'nats://127.0.0.1:4222';
const run = randomBytes(4).toString('hex');
const VIN = makeVin({ wmi: 'WVW', vds: 'ZZZAU', year: 2020, plant: 'W' }, 77);
const VIN2 = makeVin({ wmi: 'WVW', vds: 'ZZZAU', year: 2020, plant: 'W' }, 78);
const T0 = Date.now() - 60_000;
const enc = new TextEncoder();
const json = (o: unknown): Uint8Array => enc.encode(JSON.stringify(o));
const natsConfig = (o: Record<string, unknown>): Extract<SourceConfig, { type: 'nats' }> =>
  parseConfig({ sources: [{ type: 'nats', name: 'bus', servers: [NATS_URL], ...o }] }).sources[0] as Extract<SourceConfig, { type: 'nats' }>;

let pub: NatsConnection;
beforeAll(async () => {
  pub = await connect({ servers: NATS_URL });
});
afterAll(async () => {
  await pub?.drain();
});

describe('NATS core subscription', () => {
  let vigil: Vigil;
  const prefix = `vt${run}`;
  beforeAll(async () => {
    vigil = await startVigil(
      parseConfig({ tenant: 'ops', store: { path: ':memory:' }, http: { enabled: false }, runtime: { workers: 1 }, sources: [{ type: 'nats', name: 'bus', servers: [NATS_URL], subjectPrefix: prefix }] }),
      { inline: true },
    );
  });
  afterAll(async () => {
    await vigil?.stop();
  });

  it('stores signals, security and log messages by subject, and dead-letters bad subjects with the raw payload', async () => {
    for (let i = 0; i < 20; i++) pub.publish(`${prefix}.acme.${VIN}.signals`, json({ vin: VIN, ts: T0 + i, signals: { 'Vehicle.Speed': i } }));
    pub.publish(`${prefix}.acme.${VIN}.security`, json({ vin: VIN, ts: T0, eventId: 0x8001, sensor: 'CanGatewayIds' }));
    pub.publish(`${prefix}.acme.${VIN}.log`, json({ ts: T0, service: 'telematics', endpoint: '/v1/unlock', vin: VIN }));
    pub.publish(`${prefix}.acme.${VIN}.bogus`, enc.encode('{"kind":"bogus"}'));
    pub.publish(`${prefix}.acme`, enc.encode('short subject'));
    pub.publish(`${prefix}.Not_A_Tenant.${VIN}.signals`, enc.encode('upper-case tenant'));
    await pub.flush();
    const counts = await until('rows stored', async () => {
      const c = await vigil.store.counts('acme');
      return c.signals === 20 && c.securityEvents === 1 && c.apiEvents === 1 ? c : undefined;
    });
    expect(counts.signals).toBe(20);
    const dead = await until('dead letters', async () => {
      const d = await vigil.store.listDeadLetters({ code: 'subject.invalid', limit: 10 });
      return d.length === 3 ? d : undefined;
    });
    const byRaw = new Map(dead.map((d) => [Buffer.from(d.raw).toString(), d]));
    expect(byRaw.get('{"kind":"bogus"}')).toMatchObject({ tenant: 'acme', source: 'nats:bus', kind: 'unknown' });
    expect(byRaw.get('{"kind":"bogus"}')!.reason).toMatch(/kind "bogus" is not one of signals, security, log/);
    expect(byRaw.get('short subject')).toMatchObject({ tenant: 'acme', kind: 'unknown' });
    // No accepted tenant in the subject: filed under the source's fallback tenant.
    expect(byRaw.get('upper-case tenant')).toMatchObject({ tenant: 'ops', kind: 'signals' });
    expect(vigil.sources[0]!.describe()).toContain(`${prefix}.>`);
    expect(vigil.pipeline.metrics.get('vigil_nats_dead_lettered_total')).toBe(3);
  });
});

describe('NATS content types', () => {
  let vigil: Vigil;
  const prefix = `vc${run}`;
  beforeAll(async () => {
    vigil = await startVigil(
      parseConfig({ tenant: 'ops', store: { path: ':memory:' }, http: { enabled: false }, runtime: { workers: 1 }, sources: [{ type: 'nats', name: 'typed', servers: [NATS_URL], subjectPrefix: prefix }] }),
      { inline: true },
    );
  });
  afterAll(async () => {
    await vigil?.stop();
  });

  it('decodes MessagePack named by a Content-Type header, and dead-letters a content type it does not decode', async () => {
    const typed = (t: string): MsgHdrs => {
      const h = headers();
      h.set('content-type', t);
      return h;
    };
    pub.publish(`${prefix}.acme.${VIN}.signals`, encode({ vin: VIN, ts: T0, samples: { paths: ['Vehicle.Speed'], p: [0, 0, 0], t: [0, 10, 20], v: [1, 2, 3] } }), { headers: typed('application/msgpack') });
    pub.publish(`${prefix}.acme.${VIN}.signals`, json({ vin: VIN, ts: T0 + 50, signals: { 'Vehicle.Speed': 4 } }), { headers: typed('application/json; charset=utf-8') });
    pub.publish(`${prefix}.acme.${VIN}.signals`, json({ vin: VIN, ts: T0, signals: { 'Vehicle.Speed': 5 } }), { headers: typed('text/csv') });
    pub.publish(`${prefix}.acme.${VIN}.security`, json({ vin: VIN, ts: T0, eventId: 0x8001, sensor: 'CanGatewayIds' }), { headers: typed('application/msgpack') });
    await pub.flush();
    await until('stored', async () => ((await vigil.store.counts('acme')).signals === 4 ? true : undefined));
    const dead = await until('dead letters', async () => {
      const d = await vigil.store.listDeadLetters({ tenant: 'acme', limit: 10 });
      return d.length === 2 ? d : undefined;
    });
    const byCode = new Map(dead.map((d) => [d.code, d]));
    expect(byCode.get('encoding.unsupported')!.reason).toMatch(/Content-Type "text\/csv" names no supported encoding/);
    expect(byCode.get('encoding.unsupported')).toMatchObject({ kind: 'signals', source: 'nats:typed' });
    // JSON sent with a MessagePack content type: decoded as MessagePack, and refused as such.
    expect(byCode.get('msgpack.malformed') ?? byCode.get('msgpack.not_map')).toMatchObject({ kind: 'security' });
    expect(vigil.pipeline.metrics.get('vigil_nats_dead_lettered_total')).toBe(1);
  });
});

describe('NATS JetStream durable consumer', () => {
  const prefix = `vj${run}`;
  const stream = `VIGIL_TEST_${run}`;
  const durable = `vigil-${run}`;
  let store: Store;
  let pipeline: Pipeline;
  let gate: ReturnType<typeof gated>;
  beforeAll(async () => {
    store = await DuckDBStore.open({ path: ':memory:' });
    const catalog = defaultCatalog(await store.signalDictionary());
    gate = gated(store);
    const runtime = parseConfig({ runtime: { workers: 1, maxInFlightPerWorker: 200, handoffBatch: 64 } }).runtime;
    pipeline = new Pipeline({ store: gate.store, catalog, clock: systemClock, policy: DEFAULT_POLICY, secret: 'nats-test-secret', ...runtime, inline: true });
    await pipeline.start();
  });
  afterAll(async () => {
    gate?.open();
    await pipeline?.stop();
    await store?.close();
    const jsm = await jetstreamManager(pub);
    await jsm.streams.delete(stream).catch(() => undefined);
  });

  it('refuses to start on a missing stream unless told to create it', async () => {
    const err = await startNatsSource(natsConfig({ subjectPrefix: prefix, jetstream: { stream: `${stream}_MISSING`, durable } }), { pipeline, defaultTenant: 'ops', clock: systemClock }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/does not exist/);
  });

  it('acks only durable messages; a consumer killed mid-stream and restarted stores every message exactly once', async () => {
    const N = 1500;
    const cfg = natsConfig({ subjectPrefix: prefix, jetstream: { stream, durable, create: true, maxAckPending: 300, ackWaitMs: 1000, batch: 100 } });
    const deps = { pipeline, defaultTenant: 'ops', clock: systemClock };
    let src: NatsSource = await startNatsSource(cfg, deps);
    expect(src.describe()).toContain(`stream ${stream}`);
    const js = jetstream(pub);
    // Half the messages carry the sender's seq; the other half rely on the stream sequence.
    const publishes: Promise<unknown>[] = [];
    for (let i = 0; i < N; i++) {
      const vin = i % 2 ? VIN : VIN2;
      publishes.push(js.publish(`${prefix}.acme.${vin}.signals`, json({ vin, ts: T0 + i, signals: { 'Vehicle.Speed': i % 250 }, ...(i % 4 === 0 ? { seq: i } : {}) })));
      if (i % 500 === 250) publishes.push(js.publish(`${prefix}.acme.${vin}`, enc.encode(`bad subject ${i}`)));
    }
    await Promise.all(publishes);

    await until('a third stored', async () => ((await store.counts('acme')).signals >= N / 3 ? true : undefined));
    // Hold the store: messages pile up in the pipeline, taken but not durable, so not acked.
    gate.close();
    await until('messages waiting in the pipeline', async () => (pipeline.inFlight >= 100 ? true : undefined));
    await src.connection.close(); // the consumer dies: nothing it held gets acknowledged
    gate.open();
    await src.stop();
    const failedAcks = pipeline.metrics.get('vigil_nats_ack_failed_total');
    expect(failedAcks).toBeGreaterThan(0);

    src = await startNatsSource(cfg, deps);
    try {
      await until('every message stored', async () => ((await store.counts('acme')).signals >= N ? true : undefined), 20_000);
      // Past another ack wait: nothing is left to redeliver, and nothing was stored twice.
      await until('consumer caught up', async () => {
        const ci = await (await jetstreamManager(pub)).consumers.info(stream, durable);
        return ci.num_pending === 0 && ci.num_ack_pending === 0 ? true : undefined;
      });
      await new Promise((r) => setTimeout(r, 1200));
      expect((await store.counts('acme')).signals).toBe(N);
      expect(pipeline.metrics.get('vigil_nats_redelivered_total')).toBeGreaterThan(0);
      expect(pipeline.metrics.get('vigil_messages_duplicate_total')).toBeGreaterThan(0);
      const dead = await store.listDeadLetters({ code: 'subject.invalid', limit: 100 });
      expect(dead.map((d) => Buffer.from(d.raw).toString()).sort()).toEqual(['bad subject 1250', 'bad subject 250', 'bad subject 750']);
    } finally {
      await src.stop();
    }
  });
});
