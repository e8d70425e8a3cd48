/**
 * `vigil eval fleet` end to end on a small fleet: the simulator's first attacks of seed 7
 * (credential stuffing, GPS spoofing, odometer rollback) go through the pipeline with the
 * shipped pack and are found, on the right vehicle, within seconds.
 */
import { describe, expect, it } from 'vitest';
import { evalFleet, formatFleetEval } from '../src/cli/eval-fleet.js';

describe('eval fleet', () => {
  it('scores the shipped pack on a simulated fleet with attacks', async () => {
    const o = { vehicles: 20, durationS: 350, seed: 7 };
    const r = await evalFleet(o);
    expect(r.rules).toBeGreaterThan(50);
    expect(r.score.scenarios.map((s) => s.scenario)).toEqual(['credential-stuffing', 'gps-spoofing', 'odometer-rollback']);
    for (const s of r.score.scenarios) {
      expect(s, s.scenario).toMatchObject({ labels: 1, detected: 1, recall: 1 });
      expect(s.ttdMedianS).toBeLessThan(30);
    }
    expect(r.score.scenarios[2]!.rules).toContain('odometer.rollback');
    expect(formatFleetEval(r, o)).toMatch(/^odometer-rollback +1 +100% \(1\)/m);
  }, 60_000);
});
