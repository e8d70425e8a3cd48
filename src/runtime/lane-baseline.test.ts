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
    expect(hot.alerts[0]!.details).toMatchObject({ signal: TEMP, value: 125, samples: 1100, k: 6 });
    const { mean, stddev, cohort } = hot.alerts[0]!.details as { mean: number; stddev: number; cohort: string };
    expect(mean).toBeCloseTo(90, 1);
    expect(stddev).toBeGreaterThan(1.3);
    expect(stddev).toBeLessThan(1.5);
    expect(cohort).toContain('V40');
    expect(again.alerts).toEqual([]);
    expect(again.stats.alertsSuppressed).toBe(1);
  });

  it('checks its parameters, listing every problem', () => {
    expect(() => parseBaselineParams({ k: 0, minSamples: 1.5, sigma: 3 })).toThrow(/sigma: unknown parameter[\s\S]*k: expected a number > 0[\s\S]*minSamples: expected an integer >= 2/);
  });
});
