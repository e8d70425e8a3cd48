/**
 * CAN decoding through the front door: a config with a `can` section, the composition root,
 * real worker threads and DuckDB. A slice of the DAGA Volvo V40 trace goes in as raw frames
 * and comes out as VSS signals with the right paths and plausible values; frames of unknown
 * ids are counted, a vehicle without a DBC is stored raw only, and a value the catalog
 * refuses is dead-lettered with its frame.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVigil, type Vigil } from '../src/api/vigil.js';
import type { CanFrameBatch } from '../src/core/can.js';
import { compileDbc, parseDbc } from '../src/decode/dbc/index.js';
import { Pseudonymizer } from '../src/normalize/pseudonym.js';
import { makeVin } from '../src/normalize/vin.js';
import { parseConfig } from '../src/runtime/config.js';
import { dataset, loadDagaTrace } from './datasets.js';

const trace = dataset('can/daga/clean/V40_03.can.zip', 'can-decode.test.ts');
const dbc = dataset('dbc/opendbc/volvo_v40_2017_pt.dbc', 'can-decode.test.ts');
const vss = dataset('vss/vss_release_6.0.json', 'can-decode.test.ts');
const mapping = fileURLToPath(new URL('../rules/can/volvo_v40_2017_pt.vss.yaml', import.meta.url));

const SECRET_ENV = 'VIGIL_TEST_CAN_DECODE_SECRET';
const secret = 'can-decode-test-secret-0123456789';
const volvo = makeVin({ wmi: 'YV1', vds: 'MV2RE', year: 2016, plant: '2' }, 3);
const other = makeVin({ wmi: '1FT', vds: 'EW1EP', year: 2021, plant: 'K' }, 1);

/** Frames `from`..`to` of a batch, re-timed to start at `t0`, as another vehicle's. */
function slice(b: CanFrameBatch, from: number, to: number, vin: string, t0: number, extra?: { id: number; data: number[] }): CanFrameBatch {
  const n = to - from + (extra ? 1 : 0);
  const time = new Float64Array(n);
  for (let i = 0; i < to - from; i++) time[i] = t0 + b.time[from + i]! - b.time[from]!;
  const id = new Uint32Array(n);
  id.set(b.id.subarray(from, to));
  const dlc = new Uint8Array(n);
  dlc.set(b.dlc.subarray(from, to));
  const data = new Uint8Array(n * 8);
  data.set(b.data.subarray(from * 8, to * 8));
  if (extra) {
    time[n - 1] = time[n - 2]! + 1;
    id[n - 1] = extra.id;
    dlc[n - 1] = extra.data.length;
    data.set(extra.data, (n - 1) * 8);
  }
  return { tenant: 'fleet', vin, source: 'file:V40_03.can.zip', size: n, time, id, dlc, data, stride: 8, receivedAt: Date.now() };
}

describe.skipIf(trace.skip || dbc.skip || vss.skip)('CAN frames decoded with a DBC in the pipeline', () => {
  let vigil: Vigil;
  let full: CanFrameBatch;
  const FROM = 60_000;
  const TO = 160_000;

  beforeAll(async () => {
    process.env[SECRET_ENV] = secret;
    full = await loadDagaTrace(trace.path);
    const config = parseConfig({
      store: { path: ':memory:' },
      http: { enabled: false },
      runtime: { workers: 2 },
      normalize: { secretEnv: SECRET_ENV },
      catalog: { vss: [vss.path] },
      can: { dbc: [{ file: dbc.path, mapping, match: { vin: 'YV1' } }] },
    });
    vigil = await startVigil(config);
  });
  afterAll(async () => {
    await vigil?.stop();
    delete process.env[SECRET_ENV];
  });

  it('stores the mapped signals with their VSS paths and plausible values, and counts what it did not decode', async () => {
    const t0 = Date.now() - 300_000;
    // PedalandBrake (0x55) with AccPedal at raw 1023: 102.3 %, which the catalog refuses.
    const pedal = [0, 0x03, 0xff, 0, 0, 0, 0, 0];
    const batch = slice(full, FROM, TO, volvo, t0, { id: 0x55, data: pedal });
    const known = compileDbc(parseDbc(readFileSync(dbc.path, 'utf8')).db);
    const unknown = Array.from(batch.id).filter((id) => !known.has(id)).length;
    expect(unknown).toBeGreaterThan(1000);
    await vigil.pipeline.pushFrames(batch);
    await vigil.pipeline.pushFrames(slice(full, 0, 1000, other, t0));
    await vigil.pipeline.drain();

    const { store, catalog } = vigil;
    expect((await store.counts('fleet')).canFrames).toBe(TO - FROM + 1 + 1000);
    const vehicle = new Pseudonymizer(secret).key('fleet', volvo);
    const values = async (path: string): Promise<number[]> => {
      const rows = await store.querySignals({ tenant: 'fleet', vehicle, signal: catalog.get(path)!.id, limit: 100_000 });
      return rows.map((r) => r.value ?? Number.NaN);
    };
    const range = (xs: number[]): [number, number] => [Math.min(...xs), Math.max(...xs)];

    const speed = await values('Vehicle.Speed');
    expect(speed.length).toBeGreaterThan(3000); // VehicleSpeed0 comes every ~20 ms
    expect(range(speed)[0]).toBeGreaterThanOrEqual(0);
    expect(range(speed)[1]).toBeGreaterThan(20);
    expect(range(speed)[1]).toBeLessThan(80);
    const rpm = range(await values('Vehicle.Powertrain.CombustionEngine.Speed'));
    expect(rpm[0]).toBeGreaterThan(600);
    expect(rpm[1]).toBeLessThan(3500);
    const pedalPct = await values('Vehicle.Chassis.Accelerator.PedalPosition');
    expect(pedalPct.every((v) => Number.isInteger(v) && v >= 0 && v <= 100)).toBe(true);
    expect(range(pedalPct)[1]).toBeGreaterThan(5);
    const steer = range(await values('Vehicle.Chassis.SteeringWheel.Angle'));
    expect(steer[0]).toBeLessThan(-30);
    expect(steer[1]).toBeGreaterThan(30);
    const wheel = range(await values('Vehicle.Chassis.Axle.Row1.Wheel.Left.Speed'));
    expect(Math.abs(wheel[1] - range(speed)[1])).toBeLessThan(2);
    const brake = await store.querySignals({ tenant: 'fleet', vehicle, signal: catalog.get('Vehicle.Body.Lights.Brake.IsActive')!.id, limit: 100_000 });
    expect(new Set(brake.map((r) => r.text))).toEqual(new Set(['ACTIVE', 'INACTIVE']));
    expect(new Set(await values('Vehicle.IsMoving'))).toEqual(new Set([0, 1]));

    // The vehicle without a DBC: raw frames only.
    expect(await store.querySignals({ tenant: 'fleet', vehicle: new Pseudonymizer(secret).key('fleet', other), limit: 10 })).toEqual([]);
    const m = vigil.pipeline.metrics;
    expect(m.get('vigil_can_frames_no_dbc_total')).toBe(1000);
    expect(m.get('vigil_can_frames_unknown_id_total')).toBe(unknown);
    expect(m.get('vigil_signal_entries_dead_lettered_total')).toBe(1);
    const [dead] = await store.listDeadLetters({ tenant: 'fleet', code: 'value.out_of_range', limit: 5 });
    expect(dead).toMatchObject({ kind: 'can', source: 'file:V40_03.can.zip' });
    expect(dead!.reason).toBe('Vehicle.Chassis.Accelerator.PedalPosition = 102 is outside [0, 100] percent (from PedalandBrake.AccPedal)');
    expect(new TextDecoder().decode(dead!.raw)).toMatch(/^\(\d+\.\d{6}\) can0 055#0003FF0000000000$/);
    const stored = (await store.counts('fleet')).signals;
    expect(stored).toBe(m.get('vigil_signals_normalized_total'));
  });
});
