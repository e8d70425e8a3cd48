/**
 * The DAGA Volvo V40 trace decoded with opendbc's volvo_v40_2017_pt.dbc: the values must be
 * those of a real, slowly driven car (see the byte-order note in test/datasets.ts).
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CanFrameBatch } from '../../core/can.js';
import { dataset, loadDagaTrace } from '../../../test/datasets.js';
import { compileDbc, parseDbc, type DbcDecoder } from './index.js';

const trace = dataset('can/daga/clean/V40_03.can.zip', 'dbc/daga.test.ts');
const dbc = dataset('dbc/opendbc/volvo_v40_2017_pt.dbc', 'dbc/daga.test.ts');

describe.skipIf(trace.skip || dbc.skip)('DAGA V40 trace with volvo_v40_2017_pt.dbc', () => {
  let batch: CanFrameBatch;
  let decoder: DbcDecoder;
  const series = new Map<string, { min: number; max: number; n: number; values: number[] }>();

  beforeAll(async () => {
    batch = await loadDagaTrace(trace.path);
    decoder = compileDbc(parseDbc(readFileSync(dbc.path, 'utf8'), 'volvo_v40_2017_pt.dbc').db);
    const rows = decoder.decodeBatch(batch);
    for (let k = 0; k < rows.size; k++) {
      const key = decoder.signals[rows.signal[k]!]!.key;
      const v = rows.value[k]!;
      let s = series.get(key);
      if (!s) series.set(key, (s = { min: Infinity, max: -Infinity, n: 0, values: [] }));
      s.min = Math.min(s.min, v);
      s.max = Math.max(s.max, v);
      s.n++;
      s.values.push(v);
    }
  });

  it('decodes the ids the DBC defines and counts the rest as unknown', () => {
    expect(batch.size).toBe(245_144);
    let known = 0;
    for (let i = 0; i < batch.size; i++) if (decoder.has(batch.id[i]!)) known++;
    expect(decoder.stats.unknownFrames).toBe(batch.size - known);
    expect(known / batch.size).toBeGreaterThan(0.75);
    expect(decoder.stats.shortFrames).toBe(0);
  });

  it('gives a plausible speed, engine speed, pedal and steering', () => {
    const speed = series.get('VehicleSpeed0.VehicleSpeed')!;
    expect(speed.min).toBe(0);
    expect(speed.max).toBeGreaterThan(30);
    expect(speed.max).toBeLessThan(80); // a short urban drive
    const rpm = series.get('EngineInfo.EngineSpeed')!;
    expect(rpm.min).toBeGreaterThan(600); // the engine idles, never stalls
    expect(rpm.max).toBeLessThan(3500);
    const pedal = series.get('PedalandBrake.AccPedal')!;
    expect(pedal.min).toBe(0);
    expect(pedal.max).toBeGreaterThan(10);
    expect(pedal.max).toBeLessThanOrEqual(100);
    const steer = series.get('PSCM1.SteeringAngleServo')!;
    expect(steer.min).toBeLessThan(-90); // turns both ways
    expect(steer.max).toBeGreaterThan(90);
    expect(Math.max(-steer.min, steer.max)).toBeLessThan(720);
  });

  it('agrees with itself: the second speed message and the wheel speeds track the vehicle speed', () => {
    const a = series.get('VehicleSpeed0.VehicleSpeed')!;
    const b = series.get('VehicleSpeed1.VehicleSpeed')!;
    expect(Math.abs(a.max - b.max)).toBeLessThan(1);
    // Wheel speed raw 32768 is standstill, 0.01 km/h per bit.
    const wheel = series.get('wheelspeed0.WhlSpdLF')!;
    expect((wheel.min - 32768) * 0.01).toBeCloseTo(0, 1);
    expect(Math.abs((wheel.max - 32768) * 0.01 - a.max)).toBeLessThan(2);
  });

  it('has the pedal at 0 % whenever the car stands still with the brake on', () => {
    // PedalandBrake carries both; at standstill the brake is pressed and the pedal released.
    const pedal = series.get('PedalandBrake.AccPedal')!.values;
    const brake = series.get('PedalandBrake.BrakePedalActive')!.values;
    let braking = 0;
    for (let i = 0; i < pedal.length; i++) if (brake[i] === 1) {
      braking++;
      expect(pedal[i]).toBe(0);
    }
    expect(braking).toBeGreaterThan(100);
  });
});
