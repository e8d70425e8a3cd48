/**
 * Fuzz through the embedded broker: 100,000 malformed MQTT messages of every kind — truncated
 * JSON, wrong types, payloads up to and past the size limit, binary garbage, the wrong
 * encoding, bad topics. The process keeps serving, every message is dead-lettered with a
 * reason, and the conservation law holds: messages in = stored + dead-lettered.
 */
import { encode } from '@msgpack/msgpack';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttBrokerSource } from '../src/adapters/mqtt/broker.js';
import type { Vigil } from '../src/api/vigil.js';
import { MAX_MESSAGE_BYTES } from '../src/decode/json.js';
import { garbage, wrongSignalsMessages } from './fuzz-inputs.js';
import { prng } from './ingest-helpers.js';
import { startWith, TENANT, vins } from './mqtt-helpers.js';

const TOTAL = 100_000;
const HUGE = 24; // payloads near or past the 1 MiB limit (kept few: each is stored whole as a dead letter)

let vigil: Vigil;
let client: MqttClient;

beforeAll(async () => {
  vigil = await startWith([{ type: 'mqtt-broker', name: 'fuzz', port: 0, tenants: [TENANT] }]);
  client = await mqtt.connectAsync(`mqtt://127.0.0.1:${(vigil.sources[0] as MqttBrokerSource).port}`, { reconnectPeriod: 0 });
});

afterAll(async () => {
  await client?.endAsync(true);
  await vigil?.stop();
});

interface Msg {
  readonly topic: string;
  readonly payload: Buffer | string;
}

/** Message i of the fuzz input; each is refused whole, by topic or by decode/shape/VIN checks. */
function malformed(i: number, rnd: () => number): Msg {
  const vin = vins[i % vins.length]!;
  const ts = Date.now();
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const good = JSON.stringify({ vin, ts, seq: i, signals: { 'Vehicle.Speed': 50, 'Vehicle.TraveledDistance': 1000 + i } });
  const topic = (kind = 'signals'): string => `vigil/${TENANT}/${vin}/${kind}`;
  if (i < HUGE) {
    // At the limit (valid JSON, but no signals), and just past it.
    const size = i % 2 ? MAX_MESSAGE_BYTES : MAX_MESSAGE_BYTES + 1 + i;
    const head = `{"vin":"${vin}","ts":${ts},"pad":"`;
    return { topic: topic(), payload: `${head}${'x'.repeat(size - head.length - 2)}"}` };
  }
  switch (i % 12) {
    case 0: // truncated JSON: no proper prefix of an object parses
      return { topic: topic(), payload: good.slice(0, Math.floor(rnd() * (good.length - 1))) };
    case 1: // wrong types in signals messages
      return {
        topic: topic(),
        payload: pick(wrongSignalsMessages(vin, ts)),
      };
    case 2: // binary garbage (first byte never starts JSON or a msgpack map)
      return { topic: topic(pick(['signals', 'security', 'log'])), payload: garbage(rnd, 1 + Math.floor(rnd() * 512)) };
    case 3: // binary garbage on the msgpack topic
      return { topic: topic('signals.msgpack'), payload: garbage(rnd, 1 + Math.floor(rnd() * 512)) };
    case 4: // JSON sent as msgpack
      return { topic: topic(pick(['signals.msgpack', 'security.msgpack'])), payload: good };
    case 5: // msgpack sent as JSON
      return { topic: topic(), payload: Buffer.from(encode({ vin, ts, signals: { 'Vehicle.Speed': 1 } })) };
    case 6: // msgpack, wrong shape or truncated
      return {
        topic: topic('signals.msgpack'),
        payload: pick([
          Buffer.from(encode([vin, ts])),
          Buffer.from(encode({ vin, ts, samples: { paths: ['Vehicle.Speed'], p: [0, 0], t: [0], v: [1] } })),
          Buffer.from(encode({ vin, ts, signals: { 'Vehicle.Speed': 1 } })).subarray(0, 20),
          Buffer.from(encode({ vin: 7, ts })),
        ]),
      };
    case 7: // bad topics, good payloads
      return { topic: badTopic(i, rnd, vin), payload: good };
    case 8: // security events with wrong fields
      return {
        topic: topic('security'),
        payload: pick([
          JSON.stringify({ vin, ts, eventId: 'boom', sensor: 'ids' }),
          JSON.stringify({ vin, ts, eventId: 70_000, sensor: 'ids' }),
          JSON.stringify({ vin, ts, eventId: 1, sensor: '' }),
          JSON.stringify({ vin, ts, eventId: 1, sensor: 'ids', count: 0 }),
        ]),
      };
    case 9: // log events with wrong fields
      return {
        topic: `vigil/${TENANT}/_/log`,
        payload: pick([
          JSON.stringify({ ts, endpoint: '/x' }),
          JSON.stringify({ ts, service: 'tsp', endpoint: '/x', status: 999 }),
          JSON.stringify({ ts: 'now', service: 'tsp', endpoint: '/x' }),
        ]),
      };
    case 10: // valid JSON that is not an object, or nothing at all
      return { topic: topic(pick(['signals', 'security', 'log'])), payload: pick(['[1,2,3]', '"text"', 'null', '42', '', ' ', '{}']) };
    default: // deeply nested or odd-but-valid JSON around a missing field
      return { topic: topic(), payload: pick([`${'['.repeat(5000)}${']'.repeat(5000)}`, `{"vin":"${vin}","ts":${ts},"signals":null}`, `{"__proto__":{"vin":"${vin}"},"ts":${ts}}`]) };
  }
}

function badTopic(i: number, rnd: () => number, vin: string): string {
  const shapes = [
    `vigil/${TENANT}/${vin}`,
    `vigil/${TENANT}/${vin}/signals/more`,
    `vigil/${TENANT}/${vin}/Signals`,
    `vigil/${TENANT}/${vin}/signals.protobuf`,
    `vigil/${TENANT}/${vin}/.msgpack`,
    `vigil/${TENANT}//signals`,
    `vigil/other-tenant/${vin}/signals`,
    `vigil/UPPER/${vin}/signals`,
    `vigil/${TENANT}/${'v'.repeat(65)}/signals`,
    `vigil/${TENANT}/véhicule/signals`,
    `Vigil/${TENANT}/${vin}/signals`,
    `/vigil/${TENANT}/${vin}/signals`,
    `telemetry/${i}`,
    `$internal/${i}`,
    `vigil`,
    `${'x/'.repeat(40)}end`,
  ];
  const s = shapes[Math.floor(rnd() * shapes.length)]!;
  return s;
}

describe('MQTT fuzz', () => {
  it(`dead-letters ${TOTAL.toLocaleString('en-US')} malformed messages with a reason, and the conservation law holds`, async () => {
    const rnd = prng(20_261_125);
    const t0 = Date.now();
    const WINDOW = 2000;
    for (let i = 0; i < TOTAL; i += WINDOW) {
      const sends: Promise<unknown>[] = [];
      for (let j = i; j < Math.min(TOTAL, i + WINDOW); j++) {
        const m = malformed(j, rnd);
        sends.push(client.publishAsync(m.topic, m.payload, { qos: 1 }));
      }
      // QoS 1: each PUBACK means the dead letter is durable.
      await Promise.all(sends);
    }
    const seconds = (Date.now() - t0) / 1000;

    // The process still serves: a good message after the storm is stored.
    const vin = vins[0]!;
    await client.publishAsync(`vigil/${TENANT}/${vin}/signals`, JSON.stringify({ vin, ts: Date.now(), signals: { 'Vehicle.Speed': 1 } }), { qos: 1 });

    const m = vigil.pipeline.metrics;
    const counts = await vigil.store.counts();
    expect(m.get('vigil_mqtt_messages_total')).toBe(TOTAL + 1);
    // Conservation: in = stored + dead-lettered. Nothing of the fuzz input is stored.
    expect(counts.signals).toBe(1);
    expect(counts.securityEvents + counts.apiEvents + counts.alerts).toBe(0);
    expect(counts.deadLetters).toBe(TOTAL);
    // Refused by the MQTT source (topic, size) + refused whole by a lane = every message; the rest reached the pipeline.
    const early = m.get('vigil_mqtt_dead_lettered_total');
    expect(early + m.get('vigil_messages_dead_lettered_total')).toBe(TOTAL);
    expect(m.get('vigil_messages_received_total')).toBe(TOTAL + 1 - early);

    // Every dead letter has a code, a reason and its raw bytes (page through the light ones).
    const codes = new Map<string, number>();
    for (let offset = 0; offset < TOTAL; offset += 20_000) {
      for (const d of await vigil.store.listDeadLetters({ limit: 20_000, offset })) {
        expect(d.code).toMatch(/^[a-z_]+\.[a-z_]+$/);
        expect(d.reason.length).toBeGreaterThan(5);
        codes.set(d.code, (codes.get(d.code) ?? 0) + 1);
      }
    }
    expect([...codes.values()].reduce((a, b) => a + b, 0)).toBe(TOTAL);
    for (const c of ['topic.invalid', 'json.malformed', 'message.encoding', 'msgpack.malformed', 'message.too_large', 'vin.invalid', 'time.invalid']) expect(codes.get(c), c).toBeGreaterThan(0);
    console.log(`mqtt fuzz: ${TOTAL} messages in ${seconds.toFixed(1)} s; dead-letter codes ${JSON.stringify(Object.fromEntries([...codes].sort()))}`);
  }, 300_000); // 95 s at load ~9 with another file running beside it; 120 s left too little room
});
