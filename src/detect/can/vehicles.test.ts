/** CanIdsVehicles: per-vehicle detectors under a cap, one alert per vehicle and model per cooldown. */
import { describe, expect, it } from 'vitest';
import { CanFrameBatchBuilder, type CanFrameBatch } from '../../core/can.js';
import { learnCanProfile } from './learn.js';
import { CanIdsVehicles } from './vehicles.js';

/** Id 0x100 every 10 ms for `n` frames from `t0`, plus `extra` frames of unknown id 0x7FF. */
function bus(vin: string, t0: number, n: number, extra: number[] = []): CanFrameBatch {
  const b = new CanFrameBatchBuilder({ tenant: 'acme', vin, source: 'test', bus: 'can0' }, n + extra.length);
  const frames = [...Array.from({ length: n }, (_, i) => [t0 + i * 10, 0x100]), ...extra.map((t) => [t, 0x7ff])].sort((a, b) => a[0]! - b[0]!);
  for (const [t, id] of frames) b.push(t!, id!, [1, 2, 3, 4]);
  return b.build();
}

describe('CanIdsVehicles', () => {
  const profile = learnCanProfile([bus('V', 0, 2000)]);

  it('raises one can.unknown_id per vehicle per cooldown with its evidence, and counts the rest', () => {
    const ids = new CanIdsVehicles([{ name: 'p.json', profile, match: { bus: 'can0' } }], 10, 60_000);
    const r = ids.score(bus('V1', 1e6, 500, [1e6 + 1005, 1e6 + 3005]), 'v1', 5)!;
    expect(r.alerts).toMatchObject([{ rule: 'can.unknown_id', vehicle: 'v1', tenant: 'acme', time: 1e6 + 1005, detectedAt: 5, severity: 'high', details: { canId: '7ff', model: 'allowList', profile: 'p.json', framesInBatch: 2, bus: 'can0' } }]);
    expect(r.flagged).toBe(2);
    // The second unknown frame falls in the detector's own cooldown (10 s per id and model); 14 s on, the vehicle's (60 s) holds.
    expect(r.suppressed).toBe(0);
    const later = ids.score(bus('V1', 1e6 + 5000, 1500, [1e6 + 15_005]), 'v1', 6)!;
    expect(later.alerts).toEqual([]);
    expect(later.suppressed).toBe(1);
    expect(ids.score({ ...bus('V1', 0, 10), bus: 'can1' }, 'v1', 7)).toBeUndefined();
  });

  it('keeps at most maxVehicles detectors, evicting the least recently active', () => {
    const ids = new CanIdsVehicles([{ name: 'p', profile }], 2);
    for (const v of ['a', 'b', 'a', 'c']) ids.score(bus(v, 0, 50), v, 0);
    expect(ids.size).toBe(2);
    expect(ids.evicted).toBe(1);
    // 'b' was evicted; its next batch makes a new detector, evicting 'a' in turn.
    ids.score(bus('b', 10_000, 5), 'b', 0);
    expect(ids.evicted).toBe(2);
  });
});
