/**
 * The embedded MQTT broker through its front door: real MQTT clients publish, rows are read
 * back from the store. JSON and MessagePack, the PUBACK-after-durable contract, dead-lettered
 * topics, username/password and mutual TLS.
 */
import { encode } from '@msgpack/msgpack';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttBrokerSource } from '../src/adapters/mqtt/broker.js';
import type { Vigil } from '../src/api/vigil.js';
import { makeTls, startWith, TENANT, until, vins, type TlsFiles } from './mqtt-helpers.js';

const now = Date.now();
let vigil: Vigil;
let url: string;
const clients: MqttClient[] = [];

async function connect(opts: mqtt.IClientOptions = {}, at = url): Promise<MqttClient> {
  const c = await mqtt.connectAsync(at, { reconnectPeriod: 0, ...opts });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  // A slow store flush (200 ms) makes a PUBACK sent before the rows are durable observable.
  vigil = await startWith([{ type: 'mqtt-broker', name: 'edge', port: 0, tenants: [TENANT, 'fleet2'] }], { flushIntervalMs: 200 });
  url = `mqtt://127.0.0.1:${(vigil.sources[0] as MqttBrokerSource).port}`;
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await vigil?.stop();
});

describe('embedded MQTT broker', () => {
  it('stores JSON signals, security events and logs published to vigil/<tenant>/<vehicle>/<kind>', async () => {
    const c = await connect();
    const before = await vigil.store.counts(TENANT);
    const vin = vins[0]!;
    await c.publishAsync(`vigil/${TENANT}/${vin}/signals`, JSON.stringify({ vin, ts: now, seq: 1, signals: { 'Vehicle.Speed': 50, 'Vehicle.TraveledDistance': 1200 } }), { qos: 1 });
    await c.publishAsync(`vigil/${TENANT}/${vin}/security`, JSON.stringify({ vin, ts: now, eventId: 0x8601, sensor: 'CanGatewayIds' }), { qos: 1 });
    await c.publishAsync(`vigil/${TENANT}/_/log`, JSON.stringify({ ts: now, service: 'telematics', endpoint: '/v1/unlock', status: 200 }), { qos: 1 });
    const after = await vigil.store.counts(TENANT);
    expect(after.signals - before.signals).toBe(2);
    expect(after.securityEvents - before.securityEvents).toBe(1);
    expect(after.apiEvents - before.apiEvents).toBe(1);
  });

  it('stores MessagePack batches (topic suffix .msgpack), compact samples included', async () => {
    const c = await connect();
    const before = (await vigil.store.counts(TENANT)).signals;
    const vin = vins[1]!;
    const n = 100;
    const samples = { paths: ['Vehicle.Speed', 'Vehicle.TraveledDistance'], p: [] as number[], t: [] as number[], v: [] as number[] };
    for (let i = 0; i < n; i++) {
      samples.p.push(i % 2);
      samples.t.push(i * 10);
      samples.v.push(i % 2 ? 1000 + i : i / 2);
    }
    await c.publishAsync(`vigil/${TENANT}/${vin}/signals.msgpack`, Buffer.from(encode({ vin, ts: now, seq: 2, signals: { 'Vehicle.Speed': 10 }, samples })), { qos: 1 });
    expect((await vigil.store.counts(TENANT)).signals - before).toBe(n + 1);
  });

  it('sends the QoS 1 PUBACK only once the rows are in the store', async () => {
    const c = await connect();
    const vin = vins[2]!;
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = (await vigil.store.counts(TENANT)).signals;
      const t0 = Date.now();
      await c.publishAsync(`vigil/${TENANT}/${vin}/signals`, JSON.stringify({ vin, ts: now + i, seq: 100 + i, signals: { 'Vehicle.Speed': i } }), { qos: 1 });
      // Read on PUBACK: the row must already be there. With a 200 ms flush interval an
      // early PUBACK would come back well before the write.
      seen.push((await vigil.store.counts(TENANT)).signals - before);
      expect(Date.now() - t0).toBeLessThan(5000);
    }
    expect(seen).toEqual([1, 1, 1, 1, 1]);
  });

  it('dead-letters bad topics and encodings with the raw payload, and still acknowledges them', async () => {
    const c = await connect();
    const cases: [string, string][] = [
      ['vigil/acme/1FTEW1EP5MFA12345/bogus', 'topic.invalid'],
      ['somewhere/else', 'topic.invalid'],
      ['vigil/acme/1FTEW1EP5MFA12345/signals/extra', 'topic.invalid'],
      ['vigil/Not_A_Tenant/1FTEW1EP5MFA12345/signals', 'topic.invalid'],
      ['vigil/other/1FTEW1EP5MFA12345/signals', 'topic.invalid'], // tenant not accepted by this source
      ['vigil/acme/1FTEW1EP5MFA12345/signals.xml', 'topic.invalid'],
      ['vigil/acme//signals', 'topic.invalid'],
    ];
    const before = (await vigil.store.counts()).deadLetters;
    for (const [i, [topic]] of cases.entries()) await c.publishAsync(topic, `payload-${i}`, { qos: 1 });
    expect((await vigil.store.counts()).deadLetters - before).toBe(cases.length);
    const dead = await vigil.store.listDeadLetters({ source: 'mqtt:edge', code: 'topic.invalid', limit: 100 });
    for (const [i, [topic]] of cases.entries()) {
      const d = dead.find((x) => Buffer.from(x.raw).toString() === `payload-${i}`);
      expect(d, topic).toBeDefined();
      expect(d!.reason).toContain(JSON.stringify(topic));
      expect(d!.tenant).toBe(TENANT); // never the tenant the topic claimed
    }
  });

  it('dead-letters a payload in the wrong encoding with the decoder reason', async () => {
    const c = await connect();
    const vin = vins[3]!;
    await c.publishAsync(`vigil/${TENANT}/${vin}/signals.msgpack`, JSON.stringify({ vin, ts: now, signals: {} }), { qos: 1 });
    await c.publishAsync(`vigil/${TENANT}/${vin}/signals`, Buffer.from(encode({ vin, ts: now, signals: {} })), { qos: 1 });
    const codes = (await vigil.store.listDeadLetters({ source: 'mqtt:edge', limit: 100 })).map((d) => d.code);
    expect(codes).toContain('msgpack.malformed');
    expect(codes).toContain('message.encoding');
  });

  it('takes QoS 0 too, and a burst larger than the pipeline bound without losing any', async () => {
    const c = await connect();
    const before = (await vigil.store.counts(TENANT)).signals;
    for (let i = 0; i < 3000; i++) {
      const vin = vins[i % vins.length]!;
      c.publish(`vigil/${TENANT}/${vin}/signals`, JSON.stringify({ vin, ts: now + i, seq: 10_000 + i, signals: { 'Vehicle.Speed': i % 100 } }), { qos: 0 });
    }
    await until('3000 QoS 0 messages stored', async () => ((await vigil.store.counts(TENANT)).signals - before === 3000 ? true : undefined));
  });
});

describe('embedded MQTT broker: authentication', () => {
  let secured: Vigil;
  let tls: TlsFiles;
  let plainUrl: string;
  let tlsUrl: string;

  beforeAll(async () => {
    tls = makeTls();
    process.env.VIGIL_TEST_MQTT_PASSWORD = 's3cret';
    secured = await startWith([
      { type: 'mqtt-broker', name: 'pw', port: 0, auth: { username: 'vehicle', passwordEnv: 'VIGIL_TEST_MQTT_PASSWORD' } },
      { type: 'mqtt-broker', name: 'mtls', port: 0, tls: { key: tls.serverKey, cert: tls.serverCert, ca: tls.ca } },
    ]);
    plainUrl = `mqtt://127.0.0.1:${(secured.sources[0] as MqttBrokerSource).port}`;
    tlsUrl = `mqtts://127.0.0.1:${(secured.sources[1] as MqttBrokerSource).port}`;
  });

  afterAll(async () => {
    await secured?.stop();
  });

  it('refuses a wrong password and accepts the right one', async () => {
    await expect(connect({ username: 'vehicle', password: 'nope' }, plainUrl)).rejects.toThrow(/Bad username or password|Not authorized/i);
    await expect(connect({}, plainUrl)).rejects.toThrow();
    const c = await connect({ username: 'vehicle', password: 's3cret' }, plainUrl);
    const vin = vins[4]!;
    await c.publishAsync(`vigil/${TENANT}/${vin}/signals`, JSON.stringify({ vin, ts: now, signals: { 'Vehicle.Speed': 1 } }), { qos: 1 });
    expect((await secured.store.counts(TENANT)).signals).toBe(1);
  });

  it('requires a client certificate signed by the configured CA over TLS', async () => {
    const { readFileSync } = await import('node:fs');
    const ca = readFileSync(tls.ca);
    await expect(connect({ ca, connectTimeout: 3000 }, tlsUrl)).rejects.toThrow();
    const c = await connect({ ca, cert: readFileSync(tls.clientCert), key: readFileSync(tls.clientKey) }, tlsUrl);
    const vin = vins[5]!;
    await c.publishAsync(`vigil/${TENANT}/${vin}/signals.msgpack`, Buffer.from(encode({ vin, ts: now, signals: { 'Vehicle.Speed': 2 } })), { qos: 1 });
    expect((await secured.store.counts(TENANT)).signals).toBe(2);
  });
});
