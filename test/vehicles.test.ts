/**
 * The digital twin through its front doors: telemetry and registration in through the
 * pipeline (real worker threads, a DuckDB file), the twin out over HTTP; then stop, restart on
 * the same data directory, and the twins come back from their checkpoint as they were.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startVigil, type Vigil } from '../src/api/vigil.js';
import { makeVin } from '../src/normalize/vin.js';
import { parseConfig } from '../src/runtime/config.js';
import type { InputItem } from '../src/runtime/lane.js';
import { vehicleCommand } from '../src/cli/vehicle.js';
import { apiToken, bearer } from './http-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-vehicles-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = parseConfig({ dataDir: dir, http: { port: 0 }, runtime: { workers: 2 } });
const T0 = Date.now() - 60_000;
const vins = Array.from({ length: 20 }, (_, i) => makeVin({ wmi: 'YV1', vds: 'MV39H', year: 2017, plant: 'G' }, i + 1));
const VIN = vins[0]!;

const item = (tenant: string, kind: InputItem['kind'], body: object): InputItem => ({ kind, tenant, source: 'test', payload: JSON.stringify(body), receivedAt: Date.now() });

/** An operator token, made at the first start; the store keeps it across the restart. The CLI reads it from VIGIL_TOKEN. */
let token = '';

async function get(v: Vigil, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${v.url}${path}`, { headers: bearer(token) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('vehicle twins over the API', () => {
  it('shows identity, ECUs, last-known state with statistics and the timeline; a restart restores them', async () => {
    let vigil = await startVigil(config);
    token = await apiToken(vigil, 'viewer', vigil.config.tenant);
    process.env.VIGIL_TOKEN = token;
    const tenant = vigil.config.tenant;
    try {
      await vigil.pipeline.registerVehicles(tenant, [{ vin: VIN, make: 'Volvo', model: 'V40', year: 2017, trim: 'R-Design', region: 'EU', software: { TCU: '4.1.0', GW: '2.0.3' } }]);
      const speeds = [50, 52, 55, 53];
      for (const v of vins) {
        for (let k = 0; k < speeds.length; k++) {
          await vigil.pipeline.push(item(tenant, 'signals', { vin: v, ts: T0 + k * 1000, seq: k, signals: { 'Vehicle.Speed': speeds[k], 'Vehicle.TraveledDistance': 100_000 + k * 15 } }));
        }
      }
      // An odometer rolled back by 5 km, and an IDS event: both belong on the timeline.
      await vigil.pipeline.push(item(tenant, 'signals', { vin: VIN, ts: T0 + 10_000, seq: 10, signals: { 'Vehicle.TraveledDistance': 95_000 } }));
      await vigil.pipeline.push(item(tenant, 'security', { vin: VIN, ts: T0 + 11_000, eventId: 0x8103, sensor: 'gw' }));
      await vigil.pipeline.drain();

      const list = await get(vigil, '/v1/vehicles?limit=5');
      expect(list.status).toBe(200);
      expect((list.body.items as unknown[]).length).toBe(5);
      expect(list.body.more).toBe(true);
      const registered = await vigil.store.listVehicles(tenant, { limit: 100 });
      const id = registered.find((r) => r.make === 'Volvo')!.id;

      const { status, body } = await get(vigil, `/v1/vehicles/${id}`);
      expect(status).toBe(200);
      expect(body).toMatchObject({
        id, live: true, signalCount: 9, firstSeen: T0, lastSeen: T0 + 10_000,
        identity: { make: 'Volvo', model: 'V40', year: 2017, trim: 'R-Design', region: 'EU' },
        ecus: [{ name: 'GW', software: '2.0.3' }, { name: 'TCU', software: '4.1.0' }],
      });
      const signals = body.signals as { path: string; value: number; time: number; count: number; mean: number; min: number; max: number }[];
      const speed = signals.find((s) => s.path === 'Vehicle.Speed')!;
      expect(speed).toMatchObject({ value: 53, time: T0 + 3000, count: 4, min: 50, max: 55 });
      expect(speed.mean).toBeCloseTo(52.5, 5);
      expect(signals.find((s) => s.path === 'Vehicle.TraveledDistance')).toMatchObject({ value: 95_000, count: 5 });

      const timeline = await get(vigil, `/v1/vehicles/${id}/timeline`);
      const kinds = (timeline.body.items as { kind: string; time: number }[]).map((e) => [e.kind, e.time]);
      expect(kinds).toEqual(expect.arrayContaining([['alert', T0 + 10_000], ['security', T0 + 11_000], ['first_seen', T0]]));
      expect(kinds[0]![1]).toBeGreaterThanOrEqual(kinds.at(-1)![1] as number);

      expect((await get(vigil, '/v1/vehicles/0123456789abcdef')).status).toBe(404);
      expect((await get(vigil, '/v1/vehicles/NOT-A-KEY')).status).toBe(400);

      // The CLI reads the same API.
      const out: string[] = [];
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
      try {
        await vehicleCommand().parseAsync(['show', id, '--url', vigil.url!, '--json'], { from: 'user' });
        await vehicleCommand().parseAsync(['timeline', id, '--url', vigil.url!], { from: 'user' });
      } finally {
        process.stdout.write = write;
      }
      expect(JSON.parse(out[0]!)).toEqual(body);
      expect(out.slice(1).join('')).toMatch(/alert .*Odometer rolled back/);

      await vigil.stop();
      vigil = await startVigil(config);
      const again = await get(vigil, `/v1/vehicles/${id}`);
      expect(again.body).toEqual(body);
      expect((await get(vigil, `/v1/vehicles/${id}/timeline`)).body).toEqual(timeline.body);
      // The restored twin goes on: the next speed is checked against the restored one.
      await vigil.pipeline.push(item(tenant, 'signals', { vin: VIN, ts: T0 + 12_000, seq: 12, signals: { 'Vehicle.Speed': 54 } }));
      await vigil.pipeline.drain();
      const after = await get(vigil, `/v1/vehicles/${id}`);
      expect((after.body.signals as { path: string; count: number }[]).find((s) => s.path === 'Vehicle.Speed')!.count).toBe(5);
    } finally {
      await vigil.stop();
    }
  });
});
