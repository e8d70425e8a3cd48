import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { isValidVin } from '../normalize/vin.js';
import { Fleet } from './fleet.js';
import { seed32 } from './prng.js';
import { FleetSimulator } from './simulator.js';

// A real collection before each measurement, so retained memory is measured, not garbage.
setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;
const used = (): number => {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
const MB = 1024 * 1024;

describe('scale', () => {
  it('holds 1,000,000 vehicles in typed arrays and produces a tick without holding its output', () => {
    const before = used();
    const sim = new FleetSimulator({ vehicles: 1_000_000, seed: 99 });
    const afterInit = used();
    // ~130 bytes per vehicle, almost all of it outside the JS heap.
    expect(sim.stateBytes).toBeLessThan(140 * MB);
    expect(afterInit - before).toBeLessThan(200 * MB);

    let messages = 0;
    let bytes = 0;
    let last = '';
    const t0 = performance.now();
    // The first 100 ms of simulated time: every vehicle whose report phase falls in it (~10%).
    sim.tick(sim.options.start + 100, {
      item: (x) => {
        if (x.kind === 'signals') messages++;
        bytes += x.payload.length;
        last = x.payload;
      },
    });
    const ms = performance.now() - t0;
    expect(messages).toBeGreaterThan(80_000);
    expect(messages).toBeLessThan(120_000);
    expect(sim.stats.signals).toBeGreaterThan(messages * 79);
    expect(bytes).toBeGreaterThan(messages * 3000);
    expect(JSON.parse(last)).toBeTypeOf('object');
    expect(used() - afterInit).toBeLessThan(64 * MB);
    expect(ms).toBeLessThan(30_000);

    const id = sim.fleet.identity(999_999);
    expect(isValidVin(id.vin)).toBe(true);
    expect(Object.keys(id.software).length).toBeGreaterThanOrEqual(5);
  });

  it('gives a million-plus fleet unique valid VINs, across the million boundary too', () => {
    const fleet = new Fleet(seed32(99), 1_001_000, ['demo']);
    const vins = new Set<string>();
    for (let i = 0; i < fleet.size; i++) vins.add(fleet.vin(i));
    expect(vins.size).toBe(fleet.size);
    for (const i of [0, 1, 999_999, 1_000_000, 1_000_999]) expect(isValidVin(fleet.vin(i)), fleet.vin(i)).toBe(true);
  });
});
