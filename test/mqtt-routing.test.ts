/**
 * The embedded broker still routes what vehicles publish to subscribers, whether or not the
 * subscriber lookups are being skipped (src/adapters/mqtt/lookups.ts): live QoS 0 and QoS 1 subscriptions, a
 * persistent session's queue while its client is away, and nothing after unsubscribing.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Vigil } from '../src/api/vigil.js';
import { startWith, TENANT, until, vins } from './mqtt-helpers.js';
import type { MqttBrokerSource } from '../src/adapters/mqtt/broker.js';

let vigil: Vigil;
let url: string;
const clients: MqttClient[] = [];
const now = Date.now();

async function connect(opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, ...opts });
  clients.push(c);
  return c;
}

const message = (seq: number): string => JSON.stringify({ vin: vins[7], ts: now + seq, seq, signals: { 'Vehicle.Speed': seq } });
const topic = `vigil/${TENANT}/${vins[7]}/signals`;

function inbox(c: MqttClient): string[] {
  const got: string[] = [];
  c.on('message', (_t, payload) => got.push(payload.toString()));
  return got;
}

beforeAll(async () => {
  vigil = await startWith([{ type: 'mqtt-broker', name: 'edge', port: 0 }]);
  url = `mqtt://127.0.0.1:${(vigil.sources[0] as MqttBrokerSource).port}`;
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await vigil?.stop();
});

describe('embedded MQTT broker routing', () => {
  it('delivers to live subscribers, queues for an absent persistent session, and stops after unsubscribe', async () => {
    const vehicle = await connect();
    await vehicle.publishAsync(topic, message(1), { qos: 1 }); // nobody subscribes yet

    const live = await connect();
    const liveGot = inbox(live);
    await live.subscribeAsync('vigil/+/+/signals', { qos: 0 });
    const durable = await connect({ clientId: 'monitor-1', clean: false });
    await durable.subscribeAsync('#', { qos: 1 });
    await durable.endAsync();

    await vehicle.publishAsync(topic, message(2), { qos: 1 });
    await until('the live subscriber got message 2', () => (liveGot.includes(message(2)) ? true : undefined));

    const back = await connect({ clientId: 'monitor-1', clean: false });
    const backGot = inbox(back);
    await until('the persistent session got message 2 on its return', () => (backGot.includes(message(2)) ? true : undefined));

    await live.unsubscribeAsync('vigil/+/+/signals');
    await back.unsubscribeAsync('#');
    await vehicle.publishAsync(topic, message(3), { qos: 1 });
    await new Promise((r) => setTimeout(r, 200));
    expect(liveGot).toEqual([message(2)]);
    expect(backGot).toEqual([message(2)]);
    expect((await vigil.store.counts(TENANT)).signals).toBe(3);
  });
});
