/**
 * The MQTT client source through its front door: messages published to a real external
 * broker (Mosquitto on localhost:1883; under CI it must be there) end in the store. Also
 * against an aedes broker the test controls, to see exactly when Vigil sends its PUBACK,
 * and over mutual TLS.
 */
import { readFileSync } from 'node:fs';
import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { encode } from '@msgpack/msgpack';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClientSource } from '../src/adapters/mqtt/client.js';
import type { Vigil } from '../src/api/vigil.js';
import { makeTls, startWith, until, vins } from './mqtt-helpers.js';

const MOSQUITTO = 'mqtt://127.0.0.1:1883';
const now = Date.now();
// Topics of this run only: other tests and tools may use the same broker.
const run = `t${process.pid}x${Date.now().toString(36)}`;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/**
 * A Vigil with this MQTT client source and one lane (a worker thread): each test here sends one
 * vehicle's messages, which one lane takes whatever the count; each further worker thread only
 * costs ~2 s of CPU to load from source.
 */
async function vigilWith(source: Record<string, unknown>, runtime: Record<string, unknown> = {}): Promise<Vigil> {
  const v = await startWith([{ type: 'mqtt', name: 'ext', ...source }], { workers: 1, ...runtime }, { tenant: run });
  cleanups.push(() => v.stop());
  await (v.sources[0] as MqttClientSource).subscribed;
  return v;
}

async function publisher(url: string, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, ...opts });
  cleanups.push(() => c.endAsync(true));
  return c;
}

const signals = (vin: string, seq: number, speed = 42): string => JSON.stringify({ vin, ts: now + seq, seq, signals: { 'Vehicle.Speed': speed } });
const stored = async (v: Vigil): Promise<number> => (await v.store.counts(run)).signals;

let mosquittoUp = true;
beforeAll(async () => {
  try {
    const probe = await mqtt.connectAsync(MOSQUITTO, { reconnectPeriod: 0, connectTimeout: 2000 });
    await probe.endAsync();
  } catch {
    mosquittoUp = false;
    if (process.env.CI === 'true') throw new Error(`Mosquitto is not running on ${MOSQUITTO} (.ci/run starts it)`);
  }
});

describe('MQTT client source: external Mosquitto', () => {
  it('stores JSON and MessagePack (topic suffix, or MQTT 5 content type) and dead-letters a bad kind', async (ctx) => {
    if (!mosquittoUp) return ctx.skip();
    const v = await vigilWith({ url: MOSQUITTO, clientId: `vigil-${run}-a`, topic: `vigil/${run}/+/+`, cleanSession: true, tenants: [run] });
    const pub = await publisher(MOSQUITTO, { protocolVersion: 5 });
    const vin = vins[0]!;
    await pub.publishAsync(`vigil/${run}/${vin}/signals`, signals(vin, 1), { qos: 1 });
    await pub.publishAsync(`vigil/${run}/${vin}/signals.msgpack`, Buffer.from(encode({ vin, ts: now, seq: 2, signals: { 'Vehicle.Speed': 1, 'Vehicle.TraveledDistance': 5 } })), { qos: 1 });
    await pub.publishAsync(`vigil/${run}/${vin}/signals`, Buffer.from(encode({ vin, ts: now, seq: 3, samples: { paths: ['Vehicle.Speed'], p: [0, 0], t: [0, 10], v: [3, 4] } })), {
      qos: 1,
      properties: { contentType: 'application/msgpack' },
    });
    await pub.publishAsync(`vigil/${run}/${vin}/bogus`, 'raw-bogus', { qos: 1 });
    await until('5 signals stored', async () => ((await stored(v)) === 5 ? true : undefined));
    const dead = await until('the bad kind dead-lettered', async () => {
      const d = await v.store.listDeadLetters({ tenant: run, code: 'topic.invalid', limit: 10 });
      return d.length ? d : undefined;
    });
    expect(Buffer.from(dead[0]!.raw).toString()).toBe('raw-bogus');
  });

  it('keeps QoS 1 messages published while Vigil is away (persistent session, stable client id)', async (ctx) => {
    if (!mosquittoUp) return ctx.skip();
    const source = { url: MOSQUITTO, clientId: `vigil-${run}-p`, topic: `vigil/${run}/+/+`, cleanSession: false, sessionExpiryS: 300 };
    const first = await vigilWith(source);
    const pub = await publisher(MOSQUITTO);
    const vin = vins[1]!;
    await pub.publishAsync(`vigil/${run}/${vin}/signals`, signals(vin, 1), { qos: 1 });
    await until('the first message stored', async () => ((await stored(first)) === 1 ? true : undefined));
    await cleanups.shift()!(); // stop the first Vigil (its client leaves; the broker keeps the session)
    for (let i = 0; i < 50; i++) await pub.publishAsync(`vigil/${run}/${vin}/signals`, signals(vin, 100 + i), { qos: 1 });
    const second = await vigilWith(source);
    await until('the 50 messages queued by the broker stored', async () => ((await stored(second)) === 50 ? true : undefined));
    // End the session so the broker does not keep it for the next run.
    const c = await mqtt.connectAsync(MOSQUITTO, { clientId: source.clientId, clean: true, reconnectPeriod: 0 });
    await c.endAsync();
  });
});

describe('MQTT client source: acknowledgement and TLS, against a broker the test controls', () => {
  let broker: Aedes;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    broker = await Aedes.createBroker();
    server = createTcpServer(broker.handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((r) => broker.close(() => r()));
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('sends its PUBACK only once the rows are in the store, in the order received', async () => {
    // A slow store flush (200 ms) makes an early PUBACK observable.
    const v = await vigilWith({ url, protocolVersion: 4, clientId: `vigil-${run}-ack`, topic: `vigil/${run}/+/+` }, { flushIntervalMs: 200 });
    const atAck: Promise<number>[] = [];
    const ackedIds: number[] = [];
    const onAck = (packet: { messageId?: number; cmd: string }, client: { id: string }): void => {
      if (client.id !== `vigil-${run}-ack` || packet.cmd !== 'publish') return;
      ackedIds.push(packet.messageId!);
      atAck.push(stored(v));
    };
    broker.on('ack', onAck);
    const pub = await publisher(url);
    const vin = vins[2]!;
    for (let i = 0; i < 20; i++) await pub.publishAsync(`vigil/${run}/${vin}/signals`, signals(vin, i), { qos: 1 });
    await until('20 acks from Vigil', () => (atAck.length === 20 ? true : undefined));
    broker.off('ack', onAck);
    // The n-th PUBACK finds at least n rows stored.
    const counts = await Promise.all(atAck);
    counts.forEach((n, i) => expect(n).toBeGreaterThanOrEqual(i + 1));
    expect(await stored(v)).toBe(20);
  });

  it('authenticates with a client certificate over TLS', async () => {
    const tls = makeTls();
    const tlsBroker = await Aedes.createBroker();
    const tlsServer = createTlsServer({ key: readFileSync(tls.serverKey), cert: readFileSync(tls.serverCert), ca: readFileSync(tls.ca), requestCert: true, rejectUnauthorized: true }, tlsBroker.handle);
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
    cleanups.push(async () => {
      await new Promise<void>((r) => tlsBroker.close(() => r()));
      await new Promise<void>((r) => tlsServer.close(() => r()));
    });
    const tlsUrl = `mqtts://127.0.0.1:${(tlsServer.address() as AddressInfo).port}`;
    const v = await vigilWith({ url: tlsUrl, protocolVersion: 4, clientId: `vigil-${run}-tls`, topic: `vigil/${run}/+/+`, tls: { ca: tls.ca, cert: tls.clientCert, key: tls.clientKey } });
    const pub = await publisher(tlsUrl, { ca: readFileSync(tls.ca), cert: readFileSync(tls.clientCert), key: readFileSync(tls.clientKey) });
    const vin = vins[3]!;
    await pub.publishAsync(`vigil/${run}/${vin}/signals`, signals(vin, 1), { qos: 1 });
    await until('the message stored', async () => ((await stored(v)) === 1 ? true : undefined));
  });
});
