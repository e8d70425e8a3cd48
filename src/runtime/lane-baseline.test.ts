/** Deviation from the cohort baseline (src/detect/baseline.ts) through the lane, on a manual clock. */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { parseBaselineParams } from '../detect/baseline.js';
import { DEFAULT_POLICY } from '../normalize/policy.js';
import { Pseudonymizer } from '../normalize/pseudonym.js';
import { makeVin } from '../normalize/vin.js';
import { defaultCatalog } from '../sim/default-catalog.js';
import { Lane, type InputItem } from './lane.js';

const T0 = Date.UTC(2026, 10, 25, 8, 0, 0);
const SECRET = 'test-secret-0123456789';
const TEMP = 'Vehicle.Powertrain.CombustionEngine.EngineCoolant.Temperature';
const catalog = defaultCatalog();
const vins = Array.from({ length: 5 }, (_, i) => makeVin({ wmi: 'YV1', vds: 'MV2RE', year: 2016, plant: '2' }, i + 1));
const item = (vin: string, ts: number, value: number): InputItem => ({
  kind: 'signals', tenant: 'acme', source: 'test', receivedAt: ts, payload: JSON.stringify({ vin, ts, signals: { [TEMP]: value } }),
});

describe('lane: deviation from the cohort baseline', () => {
  it('flags the one vehicle far from what its cohort learnt, once, with the evidence', () => {
    const clock = new ManualClock(T0);
    const lane = new Lane({ catalog: catalog.specs(), catalogIds: catalog.idMap(), policy: DEFAULT_POLICY, secret: SECRET }, clock);
    const keys = vins.map((v) => new Pseudonymizer(SECRET).key('acme', v));
    for (const k of keys) lane.twins.identify('acme', k, { make: 'Volvo', model: 'V40', year: 2016, software: { ECM: '1.2' } }, T0);

    // The cohort learns: 5 vehicles x 220 readings around 90 degC (below minSamples until the last rounds).
    let alerts = 0;
    for (let r = 0; r < 220; r++) {
      clock.set(T0 + r * 1000);
      const out = lane.process(vins.map((v, i) => item(v, T0 + r * 1000, 88 + ((r + i) % 5))));
      alerts += out.alerts.filter((a) => a.rule === 'baseline.deviation').length;
    }
    expect(alerts).toBe(0);

    // One vehicle runs at 125 degC: far beyond 6 sigma (sigma ~1.4). Twice: one alert, then the cooldown.
    clock.set(T0 + 300_000);
    const hot = lane.process([item(vins[2]!, T0 + 300_000, 125), item(vins[0]!, T0 + 300_000, 91)]);
    const again = lane.process([item(vins[2]!, T0 + 301_000, 126)]);
    expect(hot.alerts.map((a) => [a.rule, a.vehicle])).toEqual([['baseline.deviation', keys[2]]]);
    expect(hot.alerts[0]!.details).toMatchObject({ signal: TEMP, value: 125, k: 6 });
    // 1,100 readings, their weight decayed a little over 300 s by the 6 h window.
    const samples = (hot.alerts[0]!.details as { samples: number }).samples;
    expect(samples).toBeGreaterThan(1090);
    expect(samples).toBeLessThan(1100);
    const { mean, stddev, cohort } = hot.alerts[0]!.details as { mean: number; stddev: number; cohort: string };
    expect(mean).toBeCloseTo(90, 1);
    expect(stddev).toBeGreaterThan(1.3);
    expect(stddev).toBeLessThan(1.5);
    expect(cohort).toContain('V40');
    expect(again.alerts).toEqual([]);
    expect(again.stats.alertsSuppressed).toBe(1);
  });

  it('follows a lasting shift of the whole cohort within its window, then flags a vehicle left behind', () => {
    // Five vehicles learn ~90 degC for 20 min, then the whole cohort runs at ~110 for an hour.
    const run = (windowMs: number): { lateShiftAlerts: number; leftBehind: number } => {
      const clock = new ManualClock(T0);
      const baseline = parseBaselineParams({ k: 6, minSamples: 100, minStddev: 0.001, cooldownMs: 60_000, windowMs });
      const lane = new Lane({ catalog: catalog.specs(), catalogIds: catalog.idMap(), policy: DEFAULT_POLICY, secret: SECRET, baseline }, clock);
      const keys = vins.map((v) => new Pseudonymizer(SECRET).key('acme', v));
      for (const k of keys) lane.twins.identify('acme', k, { make: 'Volvo', model: 'V40', year: 2016 }, T0);
      let t = T0;
      let lateShiftAlerts = 0;
      for (let r = 0; r < 1200 + 3600; r++, t += 1000) {
        clock.set(t);
        const level = r < 1200 ? 88 : 108;
        const out = lane.process(vins.map((v, i) => item(v, t, level + ((r + i) % 5))));
        if (r >= 1200 + 1800) lateShiftAlerts += out.alerts.filter((a) => a.rule === 'baseline.deviation').length;
      }
      clock.set(t);
      const behind = lane.process([item(vins[3]!, t, 90)]);
      return { lateShiftAlerts, leftBehind: behind.alerts.filter((a) => a.rule === 'baseline.deviation').length };
    };
    // A 10-minute window: after half an hour at the new level nobody alerts, and the one
    // vehicle still at the old level is the odd one out.
    expect(run(600_000)).toEqual({ lateShiftAlerts: 0, leftBehind: 1 });
    // Without a window the old level keeps its weight: the vehicle at 90 is not judged odd.
    expect(run(0).leftBehind).toBe(0);
  });

  it('checks its parameters, listing every problem', () => {
    expect(() => parseBaselineParams({ k: 0, minSamples: 1.5, sigma: 3 })).toThrow(/sigma: unknown parameter[\s\S]*k: expected a number > 0[\s\S]*minSamples: expected an integer >= 2/);
  });
});
