/**
 * Units configured per source, through the real transports: the embedded MQTT broker, HTTP
 * batch ingest and NATS core (the server on localhost:4222). Each source says its speeds are
 * in mph (HTTP: tire pressures in psi); the stored rows are in the catalog's units.
 */
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttBrokerSource } from '../src/adapters/mqtt/broker.js';
import { startVigil, type Vigil } from '../src/api/vigil.js';
import { Pseudonymizer } from '../src/normalize/pseudonym.js';
import { makeVin } from '../src/normalize/vin.js';
import { parseConfig } from '../src/runtime/config.js';
import { apiToken, bearer } from './http-helpers.js';
import { until } from './ingest-helpers.js';

const NATS_URL = 'nats://127.0.0.1:4222';
const SECRET = 'normalize-sources-secret';
const prefix = `vu${randomBytes(4).toString('hex')}`;
const vins = [1, 2, 3].map((i) => makeVin({ wmi: '1FT', vds: 'EW1EP', year: 2021, plant: 'K' }, 900 + i));
const SPEED = 'Vehicle.Speed';
const TIRE = 'Vehicle.Chassis.Axle.Row1.Wheel.Left.Tire.Pressure';
const T0 = Date.now() - 10_000;

let vigil: Vigil;
let nats: NatsConnection;
beforeAll(async () => {
  process.env.VIGIL_TEST_UNITS_SECRET = SECRET;
  vigil = await startVigil(
    parseConfig({
      tenant: 'acme', store: { path: ':memory:' }, runtime: { workers: 1 },
      normalize: { secretEnv: 'VIGIL_TEST_UNITS_SECRET' },
      http: { port: 0, ingest: { units: { [SPEED]: 'mph', [TIRE]: 'psi' } } },
      sources: [
        { type: 'mqtt-broker', name: 'edge', port: 0, units: { [SPEED]: 'mph' } },
        { type: 'nats', name: 'bus', servers: [NATS_URL], subjectPrefix: prefix, units: { [SPEED]: 'mph' } },
      ],
    }),
    { inline: true },
  );
  nats = await connect({ servers: NATS_URL });
});
afterAll(async () => {
  await nats?.drain();
  await vigil?.stop();
});

const speeds = async (vin: string): Promise<number[]> => {
  const vehicle = new Pseudonymizer(SECRET).key('acme', vin);
  const rows = await vigil.store.querySignals({ tenant: 'acme', vehicle, signal: vigil.catalog.get(SPEED)!.id, limit: 10 });
  return rows.map((r) => r.value!);
};

describe('units per source', () => {
  it('converts what the MQTT broker, HTTP ingest and NATS sources receive', async () => {
    const [viaMqtt, viaHttp, viaNats] = vins as [string, string, string];
    const msg = (vin: string, extra: Record<string, unknown> = {}): string => JSON.stringify({ vin, ts: T0, signals: { [SPEED]: 50, ...extra } });

    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${(vigil.sources[0] as MqttBrokerSource).port}`, { reconnectPeriod: 0 });
    await client.publishAsync(`vigil/acme/${viaMqtt}/signals`, msg(viaMqtt), { qos: 1 });
    await client.endAsync();

    const res = await fetch(`${vigil.url!}/v1/ingest/signals`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', ...bearer(await apiToken(vigil, 'ingest', 'acme')) }, body: `${msg(viaHttp, { [TIRE]: 32 })}\n` });
    expect(res.status).toBe(202);

    nats.publish(`${prefix}.acme.${viaNats}.signals`, msg(viaNats));

    for (const vin of vins) {
      const got = await until(`speed of ${vin}`, async () => ((await speeds(vin)).length ? await speeds(vin) : undefined));
      expect(got).toHaveLength(1);
      expect(got[0]).toBeCloseTo(80.4672, 9);
    }
    const tire = await vigil.store.querySignals({ tenant: 'acme', vehicle: new Pseudonymizer(SECRET).key('acme', viaHttp), signal: vigil.catalog.get(TIRE)!.id, limit: 10 });
    expect(tire.map((r) => r.value)).toEqual([221]);
    expect(await vigil.store.listDeadLetters({ limit: 10, offset: 0 })).toEqual([]);
  });
});
