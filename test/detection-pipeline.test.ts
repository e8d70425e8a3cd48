/**
 * The detection rule pack through the public pipeline: config `detection` -> startVigil ->
 * lanes (inline, then two worker threads) -> DuckDB in memory. One rule of each type fires
 * end to end and its alert lands in the store with the rule's tags; absence fires on the
 * clock tick alone, and a campaign spread over two workers' vehicles is correlated.
 */
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startVigil, type Vigil } from '../src/api/vigil.js';
import { ManualClock } from '../src/core/clock.js';
import { ConfigError } from '../src/core/errors.js';
import type { Alert } from '../src/core/records.js';
import { Pseudonymizer } from '../src/normalize/pseudonym.js';
import { makeVin } from '../src/normalize/vin.js';
import { parseConfig } from '../src/runtime/config.js';
import { Partitioner } from '../src/runtime/partition.js';

const RULES = resolve(import.meta.dirname, 'fixtures/detection');
const SECRET_ENV = 'VIGIL_TEST_DETECTION_SECRET';
process.env[SECRET_ENV] = 'detection-test-secret-0123456789';
const pseudonym = (vin: string): string => new Pseudonymizer(process.env[SECRET_ENV]!).key('demo', vin);
const T0 = Date.parse('2026-06-01T10:00:00Z');
const vin = (n: number): string => makeVin({ wmi: 'YV1', vds: 'MZ79L', year: 2024, plant: '1' }, n);

const config = (over: Record<string, unknown> = {}) =>
  parseConfig({ store: { path: ':memory:' }, http: { enabled: false }, normalize: { secretEnv: SECRET_ENV }, detection: { rules: [RULES] }, ...over });

let running: Vigil | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

async function send(v: Vigil, clock: ManualClock | undefined, vinOf: string, ts: number, signals: Record<string, unknown>): Promise<void> {
  clock?.set(ts + 100);
  await v.pipeline.push({ kind: 'signals', tenant: 'demo', source: 'test', receivedAt: ts + 100, payload: JSON.stringify({ vin: vinOf, ts, signals }) });
  await v.pipeline.drain();
}

async function alertsOf(v: Vigil, rule: string): Promise<Alert[]> {
  return (await v.store.listAlerts({ tenant: 'demo', limit: 1000 })).filter((a) => a.rule === rule);
}

describe('detection rules in the pipeline', () => {
  it('raises one alert per rule type, stored with the rule tags (inline lanes, manual clock)', async () => {
    const clock = new ManualClock(T0);
    const v = (running = await startVigil(config({ detection: { rules: [RULES], tickIntervalMs: 600_000 } }), { clock, inline: true }));
    const a = vin(1);
    let t = T0;
    await send(v, clock, a, (t += 1000), { 'Vehicle.Speed': 320, 'Vehicle.Chassis.Axle.Row1.Wheel.Right.Speed': 318 }); // match
    for (let i = 0; i < 3; i++) await send(v, clock, a, (t += 1000), { 'Vehicle.Cabin.Door.Row1.DriverSide.IsOpen': true }); // threshold
    await send(v, clock, a, (t += 1000), { 'Vehicle.Chassis.ParkingBrake.IsEngaged': true });
    await send(v, clock, a, (t += 1000), { 'Vehicle.Speed': 120, 'Vehicle.Chassis.Axle.Row1.Wheel.Right.Speed': 121 }); // sequence
    await send(v, clock, a, (t += 1000), { 'Vehicle.TraveledDistance': 50_000 });
    await send(v, clock, a, (t += 1000), { 'Vehicle.TraveledDistance': 40_000 }); // change
    await send(v, clock, a, (t += 1000), { 'Vehicle.Chassis.Axle.Row1.Wheel.Right.Speed': 20 });
    await send(v, clock, a, (t += 100), { 'Vehicle.Speed': 90 }); // consistency
    await send(v, clock, a, (t += 1000), { 'Vehicle.CurrentLocation.Latitude': 57.7, 'Vehicle.CurrentLocation.Longitude': 11.97 });
    await send(v, clock, a, (t += 1000), { 'Vehicle.CurrentLocation.Latitude': 59.33, 'Vehicle.CurrentLocation.Longitude': 18.07 }); // geo
    await send(v, clock, a, (t += 1000), { 'Vehicle.Powertrain.TractionBattery.StateOfCharge.Current': 80 });

    const fired = async (rule: string): Promise<Alert[]> => alertsOf(v, rule);
    for (const rule of ['t.match-overspeed', 't.threshold-door', 't.sequence-brake-then-fast', 't.change-odometer-rollback', 't.consistency-wheel', 't.geo-jump']) {
      const got = await fired(rule);
      expect(got, rule).toHaveLength(1);
      expect(got[0]!.vehicle).toBe(pseudonym(a));
      expect(got[0]!.tags).toContain('R155-A5:20.4');
    }
    expect(await fired('t.absence-soc')).toEqual([]);

    // Absence: no traffic at all, only the clock moves; the tick judges the silent vehicle.
    clock.set(t + 30_000);
    v.pipeline.tickRules();
    await v.pipeline.drain();
    expect(await fired('t.absence-soc')).toEqual([]);
    clock.set(t + 2 * 60_000);
    v.pipeline.tickRules();
    await v.pipeline.drain();
    const absent = await fired('t.absence-soc');
    expect(absent).toHaveLength(1);
    expect(absent[0]).toMatchObject({ vehicle: pseudonym(a), severity: 'low', tags: ['ATM-T0070', 'R155-A5:20.4'] });
    // One vehicle's rollback is no campaign.
    expect(await fired('t.campaign')).toEqual([]);
  });

  it('correlates a campaign over vehicles owned by two different workers', async () => {
    const partitions = 8;
    const owner = new Partitioner(partitions, 2);
    const byWorker = new Map<number, string>();
    for (let n = 1; byWorker.size < 2; n++) if (!byWorker.has(owner.workerOf('demo', vin(n)))) byWorker.set(owner.workerOf('demo', vin(n)), vin(n));
    const v = (running = await startVigil(config({ runtime: { workers: 2, partitions } })));
    const now = Date.now();
    for (const x of byWorker.values()) {
      await send(v, undefined, x, now - 2000, { 'Vehicle.TraveledDistance': 90_000 });
      await send(v, undefined, x, now - 1000, { 'Vehicle.TraveledDistance': 10_000 });
    }
    expect((await alertsOf(v, 't.change-odometer-rollback')).map((a) => a.vehicle).sort()).toEqual([...byWorker.values()].map(pseudonym).sort());
    const campaign = await alertsOf(v, 't.campaign');
    expect(campaign).toHaveLength(1);
    expect(campaign[0]).toMatchObject({ severity: 'critical', tags: ['ATM-T0070', 'R155-A5:4.3.1'] });
  });

  it('refuses to start on a bad rule or an unknown disabled id, listing every problem', async () => {
    const err = await startVigil(config({ detection: { rules: [RULES, '/nonexistent/rules'], disabled: ['t.no-such-rule'] } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([expect.stringMatching(/^detection\.rules: .*\/nonexistent\/rules/)]);
    const err2 = await startVigil(config({ detection: { rules: [RULES], disabled: ['t.no-such-rule'] } })).catch((e: unknown) => e);
    expect((err2 as ConfigError).problems).toEqual(['detection: disabled lists "t.no-such-rule", which no rule has']);
  });

  it('runs the shipped pack by default and leaves out disabled rules', async () => {
    const jump = async (disabled: string[]): Promise<{ rules: string[]; count: number }> => {
      const clock = new ManualClock(T0);
      const v = await startVigil(parseConfig({ store: { path: ':memory:' }, http: { enabled: false }, normalize: { secretEnv: SECRET_ENV }, detection: { disabled } }), { clock, inline: true });
      try {
        await send(v, clock, vin(3), T0 + 1000, { 'Vehicle.CurrentLocation.Latitude': 57.7, 'Vehicle.CurrentLocation.Longitude': 11.97 });
        await send(v, clock, vin(3), T0 + 2000, { 'Vehicle.CurrentLocation.Latitude': 59.33, 'Vehicle.CurrentLocation.Longitude': 18.07 });
        return { rules: (await v.store.listAlerts({ tenant: 'demo', limit: 100 })).map((x) => x.rule), count: v.pipeline.ruleCount };
      } finally {
        await v.stop();
      }
    };
    const all = await jump([]);
    expect(all.count).toBeGreaterThan(50);
    expect(all.rules).toContain('gnss.impossible-travel');
    const less = await jump(['gnss.impossible-travel']);
    expect(less.count).toBe(all.count - 1);
    expect(less.rules).not.toContain('gnss.impossible-travel');
  });
});
