import { describe, expect, it } from 'vitest';
import type { Alert } from '../core/records.js';
import { scoreFleet, type FleetLabel } from './eval-fleet.js';

const alert = (rule: string, vehicle: string | undefined, time: number, detectedAt = time): Alert => ({
  id: `${rule}:${vehicle}:${time}`, tenant: 't', ...(vehicle ? { vehicle } : {}), time, detectedAt, rule, title: rule, severity: 'high', tags: [], details: {},
});
const labels: FleetLabel[] = [
  { id: 'odo#1', scenario: 'odometer-rollback', tenant: 't', vin: 'A', start: 10_000, end: 20_000 },
  { id: 'odo#2', scenario: 'odometer-rollback', tenant: 't', vin: 'B', start: 50_000, end: 60_000 },
  { id: 'stuff#1', scenario: 'credential-stuffing', tenant: 't', start: 100_000, end: 110_000 },
];
const opts = { vehicleKey: (_t: string, vin: string) => `k${vin}`, vehicles: 10, durationMs: 3_600_000 };

describe('scoreFleet', () => {
  it('scores recall, precision, time to detect and false alerts per vehicle-hour', () => {
    const s = scoreFleet(labels, [
      alert('odometer.rollback', 'kA', 12_000, 14_000), // detects odo#1 after 4 s
      alert('odometer.rollback', 'kA', 300_000), // same rule, same vehicle, long after: unexplained
      alert('odometer.rollback', 'kC', 30_000), // an attack-free vehicle: false
      alert('api.stuffing', undefined, 105_000), // the back-end attack
      alert('api.stuffing', undefined, 900_000), // back-end false alert
    ], opts);
    expect(s.scenarios).toEqual([
      { scenario: 'credential-stuffing', labels: 1, detected: 1, recall: 1, precision: 0.5, ttdMedianS: 5, ttdMaxS: 5, rules: ['api.stuffing'] },
      { scenario: 'odometer-rollback', labels: 2, detected: 1, recall: 0.5, precision: 1 / 3, ttdMedianS: 4, ttdMaxS: 4, rules: ['odometer.rollback'] },
    ]);
    expect(s).toMatchObject({ alerts: 5, unexplained: 3, falseAlerts: 1, falsePerVehicleHour: 1 / 8, falseFleetPerHour: 1 });
    expect(s.falseByRule).toEqual([{ rule: 'odometer.rollback', alerts: 2 }, { rule: 'api.stuffing', alerts: 1 }]);
  });

  it('does not credit an alert before the attack started or on another vehicle', () => {
    const s = scoreFleet(labels.slice(0, 1), [alert('x', 'kA', 9_000), alert('x', 'kB', 15_000)], opts);
    expect(s.scenarios[0]).toMatchObject({ detected: 0, recall: 0, rules: [] });
    expect(s.unexplained).toBe(2);
  });
});
