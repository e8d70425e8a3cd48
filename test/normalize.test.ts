/**
 * Normalization through the front door: an inline Pipeline with a manual clock and a real
 * in-memory DuckDB store. Units, type and catalog checks, the unknown-signal policy, VINs and
 * pseudonyms, duplicate suppression, out-of-order and late data; every refused value is a
 * dead letter with a precise reason, and the conservation law holds in every test.
 */
import { readFileSync } from 'node:fs';
import { encode } from '@msgpack/msgpack';
import { afterEach, describe, expect, it } from 'vitest';
import { DuckDBStore } from '../src/adapters/duckdb/duckdb-store.js';
import { flattenVss, SignalCatalog } from '../src/core/catalog.js';
import { ManualClock } from '../src/core/clock.js';
import type { ConfigError } from '../src/core/errors.js';
import type { DeadLetter } from '../src/core/records.js';
import type { StoredSignal } from '../src/core/store.js';
import { DEFAULT_POLICY, type NormalizePolicy } from '../src/normalize/policy.js';
import { Pseudonymizer } from '../src/normalize/pseudonym.js';
import { makeVin } from '../src/normalize/vin.js';
import { parseConfig } from '../src/runtime/config.js';
import type { InputItem } from '../src/runtime/lane.js';
import { Pipeline } from '../src/runtime/pipeline.js';
import { DEFAULT_SIGNALS } from '../src/sim/default-catalog.js';
import { dataset } from './datasets.js';

const T0 = Date.UTC(2026, 10, 25, 8, 0, 0);
const SECRET = 'normalize-test-secret';
const VIN = makeVin({ wmi: '1FT', vds: 'EW1EP', year: 2021, plant: 'K' }, 7);
const SPEED = 'Vehicle.Speed';
const ODO = 'Vehicle.TraveledDistance';
const TIRE = 'Vehicle.Chassis.Axle.Row1.Wheel.Left.Tire.Pressure';
const COOLANT = 'Vehicle.Powertrain.CombustionEngine.EngineCoolant.Temperature';
const PEDAL = 'Vehicle.Chassis.Accelerator.PedalPosition';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

interface Rig {
  readonly pipeline: Pipeline;
  readonly clock: ManualClock;
  readonly catalog: SignalCatalog;
  /** Push every item and wait until all are durable. */
  run(items: readonly InputItem[]): Promise<void>;
  dead(code?: string): Promise<DeadLetter[]>;
  rows(path: string, tenant?: string, vin?: string): Promise<StoredSignal[]>;
  /** Messages in = accepted + dead-lettered whole + duplicates; entries of accepted messages = stored + dead-lettered + ignored. */
  conserved(entriesSent: number): Promise<void>;
}

async function rig(policy: Partial<NormalizePolicy> = {}, specs = DEFAULT_SIGNALS): Promise<Rig> {
  const store = await DuckDBStore.open({ path: ':memory:' });
  const catalog = new SignalCatalog(specs, await store.signalDictionary());
  await store.saveSignalDictionary(catalog.dictionary());
  const clock = new ManualClock(T0);
  const pipeline = new Pipeline({
    store, catalog, clock, policy: { ...DEFAULT_POLICY, ...policy }, secret: SECRET,
    ...parseConfig({ runtime: { workers: 2 } }).runtime, inline: true,
  });
  await pipeline.start();
  cleanups.push(async () => {
    await pipeline.stop();
    await store.close();
  });
  const keys = new Pseudonymizer(SECRET);
  const m = (name: string): number => pipeline.metrics.get(name);
  return {
    pipeline, clock, catalog,
    async run(items) {
      for (const it of items) await pipeline.push(it);
      await pipeline.drain();
    },
    dead: async (code) => store.listDeadLetters({ ...(code ? { code } : {}), limit: 1000, offset: 0 }),
    rows: (path, tenant = 'acme', vin = VIN) => store.querySignals({ tenant, vehicle: keys.key(tenant, vin), signal: catalog.get(path)!.id, limit: 1000 }),
    async conserved(entriesSent) {
      const counts = await store.counts();
      const wholeDead = m('vigil_messages_dead_lettered_total');
      const entriesDead = m('vigil_signal_entries_dead_lettered_total');
      expect(counts.deadLetters).toBe(wholeDead + entriesDead);
      expect(counts.signals).toBe(m('vigil_signals_stored_total'));
      expect(counts.signals).toBe(m('vigil_signals_normalized_total'));
      expect(counts.signals + entriesDead + m('vigil_signal_entries_ignored_total')).toBe(entriesSent);
    },
  };
}

let nextId = 0;
const item = (payload: unknown, over: Partial<InputItem> = {}): InputItem => ({
  kind: 'signals', tenant: 'acme', source: 'test', receivedAt: T0, transportId: `t${nextId++}`,
  payload: typeof payload === 'string' || payload instanceof Uint8Array ? payload : JSON.stringify(payload),
  ...over,
});
const values = (rows: readonly StoredSignal[]): (number | null)[] => rows.map((r) => r.value);

describe('normalize: units', () => {
  it('converts declared units to the catalog unit: per message, per sample, per source, per transport context', async () => {
    const policy = parseConfig({
      sources: [{ type: 'mqtt', name: 'us-fleet', units: { [SPEED]: 'mph', [ODO]: 'mi' } }],
      http: { ingest: { units: { [COOLANT]: 'fahrenheit' } } },
    }).normalize;
    const r = await rig(policy);
    await r.run([
      item({ vin: VIN, ts: T0, units: { [SPEED]: 'mph', [ODO]: 'km' }, signals: { [SPEED]: 60, [ODO]: 1042.1 } }),
      item({ vin: VIN, ts: T0, samples: [[TIRE, T0 + 1, 32, 'psi'], [TIRE, T0 + 2, 2.4, 'bar'], [TIRE, T0 + 3, 230]] }),
      item({ vin: VIN, ts: T0 + 10, signals: { [SPEED]: 50, [ODO]: 2 } }, { source: 'mqtt:us-fleet' }),
      // The message's own unit wins over the source's.
      item({ vin: VIN, ts: T0 + 20, units: { [SPEED]: 'km/h' }, signals: { [SPEED]: 50 } }, { source: 'mqtt:us-fleet' }),
      item({ vin: VIN, ts: T0 + 30, signals: { [COOLANT]: 212 } }, { source: 'http' }),
      item({ vin: VIN, ts: T0 + 40, signals: { [COOLANT]: 90 } }), // no unit: the catalog's (Celsius)
      item({ vin: VIN, ts: T0 + 50, signals: { [SPEED]: 10 } }, { context: { units: { [SPEED]: 'm/s' } } }),
    ]);
    const speed = values(await r.rows(SPEED));
    expect(speed).toHaveLength(4);
    expect(speed[0]).toBeCloseTo(96.56064, 9);
    expect(speed[1]).toBeCloseTo(80.4672, 9);
    expect(speed[2]).toBe(50);
    expect(speed[3]).toBeCloseTo(36, 9);
    // uint32 metres and uint16 kPa: converted values are rounded to the integer type.
    expect(values(await r.rows(ODO))).toEqual([1_042_100, 3219]);
    expect(values(await r.rows(TIRE))).toEqual([221, 240, 230]);
    const coolant = values(await r.rows(COOLANT));
    expect(coolant[0]).toBeCloseTo(100, 9);
    expect(coolant[1]).toBe(90);
    expect(await r.dead()).toEqual([]);
    await r.conserved(11);
  });

  it('accepts units in the MessagePack wire format, compact samples included', async () => {
    const r = await rig();
    const compact = encode({ vin: VIN, ts: T0, units: { [SPEED]: 'mph' }, samples: { paths: [SPEED, TIRE], p: [0, 1, 0], t: [0, 0, 100], v: [10, 30, 20] } });
    const triples = encode({ vin: VIN, ts: T0 + 500, samples: [[SPEED, T0 + 500, 5, 'm/s']] });
    await r.run([item(compact, { encoding: 'msgpack' }), item(triples, { encoding: 'msgpack' })]);
    const speed = values(await r.rows(SPEED));
    expect(speed[0]).toBeCloseTo(16.09344, 9);
    expect(speed[1]).toBeCloseTo(32.18688, 9);
    expect(speed[2]).toBeCloseTo(18, 9);
    expect(values(await r.rows(TIRE))).toEqual([30]);
    await r.conserved(4);
  });

  it('dead-letters unknown and incompatible units, and values out of range once converted, with the unit in the raw entry', async () => {
    const r = await rig();
    await r.run([
      item({
        vin: VIN, ts: T0,
        units: { [SPEED]: 'furlong/fortnight', [TIRE]: 'km/h', 'Vehicle.IsMoving': 'mph', [PEDAL]: 'ratio' },
        signals: { [SPEED]: 10, [TIRE]: 200, 'Vehicle.IsMoving': true, [PEDAL]: 1.5, [ODO]: 5000 },
      }),
      item({ vin: VIN, ts: T0, units: { [SPEED]: 55 }, signals: { [SPEED]: 10 } }),
      item({ vin: VIN, ts: T0, samples: [[SPEED, T0, 10, 7]] }),
    ]);
    const dead = await r.dead();
    const byCode = Object.fromEntries(dead.map((d) => [d.code, d]));
    expect(Object.keys(byCode).sort()).toEqual(['field.type', 'sample.shape', 'unit.incompatible', 'unit.unknown', 'value.out_of_range']);
    expect(dead.filter((d) => d.code === 'unit.incompatible').map((d) => d.reason).sort()).toEqual([
      `${TIRE} is in kPa (pressure); km/h measures velocity`,
      'Vehicle.IsMoving has no unit; mph does not apply to it',
    ]);
    expect(byCode['unit.unknown']!.reason).toContain('"furlong/fortnight" for Vehicle.Speed');
    expect(byCode['value.out_of_range']!.reason).toBe(`${PEDAL} = 150 percent (sent 1.5 ratio) is outside [0, 100] percent`);
    expect(byCode['field.type']!.reason).toContain('`units` of "Vehicle.Speed"');
    // The raw entry names the unit it was sent in, so a replay after a fix converts it the same way.
    expect(JSON.parse(new TextDecoder().decode(byCode['value.out_of_range']!.raw))).toEqual({ vin: VIN, ts: T0, samples: [[PEDAL, T0, 1.5, 'ratio']] });
    expect(values(await r.rows(ODO))).toEqual([5000]);
    // 5 entries in the accepted message plus the bad sample of the third; the second message is refused whole.
    await r.conserved(6);
  });
});

describe('normalize: units in the configuration', () => {
  it('reports unknown unit ids and malformed paths of every source at once', () => {
    let problems: readonly string[] = [];
    try {
      parseConfig({
        sources: [
          { type: 'mqtt', name: 'a', units: { [SPEED]: 'MPH' } },
          { type: 'nats', name: 'b', units: { speed: 'mph' } },
        ],
        http: { ingest: { units: { [COOLANT]: 'degF' } } },
      });
    } catch (e) {
      problems = (e as ConfigError).problems;
    }
    expect([...problems].sort()).toEqual([
      `sources.0.units.${SPEED}: unknown unit "MPH" (VSS unit ids: km/h, m/s, mph, celsius, fahrenheit, kPa, psi, km, mi, l, gal, ...)`,
      'sources.1.units.speed: not a VSS path such as Vehicle.Speed',
      `http.ingest.units.${COOLANT}: unknown unit "degF" (VSS unit ids: km/h, m/s, mph, celsius, fahrenheit, kPa, psi, km, mi, l, gal, ...)`,
    ].sort());
    expect(parseConfig({}).normalize).toMatchObject({ late: 'store', sourceUnits: undefined });
  });
});

describe('normalize: catalog checks and the unknown-signal policy', () => {
  it('refuses wrong types, out-of-range and disallowed values entry by entry', async () => {
    const r = await rig();
    const cases: [string, unknown, string, string][] = [
      [SPEED, '52.3', 'value.type', `${SPEED} expects a finite number, got string`],
      [SPEED, true, 'value.type', `${SPEED} expects a finite number, got boolean`],
      [SPEED, null, 'value.type', `${SPEED} expects a finite number, got null`],
      [SPEED, [1], 'value.type', `${SPEED} expects a finite number, got array`],
      ['Vehicle.IsMoving', 1, 'value.type', 'Vehicle.IsMoving expects a boolean, got number'],
      [ODO, 10.5, 'value.type', `${ODO} expects an integer (uint32), got 10.5`],
      [ODO, -1, 'value.out_of_range', `${ODO} = -1 is outside [0, 4294967295] m`],
      [PEDAL, 101, 'value.out_of_range', `${PEDAL} = 101 is outside [0, 100] percent`],
      ['Vehicle.CurrentLocation.Latitude', 90.5, 'value.out_of_range', 'Vehicle.CurrentLocation.Latitude = 90.5 is outside [-90, 90] degrees'],
      ['Vehicle.LowVoltageSystemState', 'EXPLODING', 'value.not_allowed', 'Vehicle.LowVoltageSystemState = "EXPLODING" is not one of UNDEFINED, LOCK, OFF, ACC, ON, START'],
      ['Vehicle.LowVoltageSystemState', 3, 'value.type', 'Vehicle.LowVoltageSystemState expects a string, got number'],
      ['Vehicle.Warp.Drive', 9, 'signal.unknown', 'unknown signal "Vehicle.Warp.Drive"'],
    ];
    const TRIP = 'Vehicle.TripDuration';
    await r.run(cases.map(([path, value], i) => item({ vin: VIN, ts: T0 + i, signals: { [path]: value, [TRIP]: i } })));
    const dead = await r.dead();
    expect(dead.map((d) => [d.code, d.reason]).sort()).toEqual(cases.map(([, , code, reason]) => [code, reason]).sort());
    // The rest of each message is stored.
    expect(values(await r.rows(TRIP))).toEqual(cases.map((_, i) => i));
    await r.conserved(cases.length * 2);
  });

  it('checks array signals element by element (VSS 6.0 catalog)', async (ctx) => {
    const vss = dataset('vss/vss_release_6.0.json', 'normalize arrays');
    if (vss.skip) return ctx.skip();
    const r = await rig({}, flattenVss(JSON.parse(readFileSync(vss.path, 'utf8'))));
    const FUELS = 'Vehicle.Powertrain.FuelSystem.SupportedFuelTypes';
    const SEATS = 'Vehicle.Cabin.SeatPosCount';
    await r.run([item({ vin: VIN, ts: T0, signals: { [FUELS]: ['GASOLINE', 'DIESEL'], [SEATS]: [2, 3] } }),
      item({ vin: VIN, ts: T0 + 1, signals: { [FUELS]: ['GASOLINE', 'KEROSENE'], [SEATS]: [2, 300] } }),
      item({ vin: VIN, ts: T0 + 2, signals: { [FUELS]: 'GASOLINE', [SEATS]: [2, 'x'] } })]);
    expect((await r.rows(FUELS)).map((x) => x.text)).toEqual(['["GASOLINE","DIESEL"]']);
    expect((await r.dead()).map((d) => d.reason).sort()).toEqual([
      `${FUELS} = "KEROSENE" at [1] is not one of GASOLINE, DIESEL, E85, LPG, CNG, LNG, H2, OTHER`,
      `${FUELS} expects an array, got string`,
      `${SEATS}[1] = 300 is outside [0, 255]`,
      `${SEATS}[1] expects uint8, got string`,
    ].sort());
    await r.conserved(6);
  });

  it('ignores unknown signals as a counted drop under `unknownSignals: ignore`', async () => {
    const r = await rig({ unknownSignals: 'ignore' });
    await r.run([item({ vin: VIN, ts: T0, signals: { [SPEED]: 1, 'Vehicle.Warp.Drive': 9, 'Vehicle.Nope': true } })]);
    expect(r.pipeline.metrics.get('vigil_signal_entries_ignored_total')).toBe(2);
    expect(await r.dead()).toEqual([]);
    await r.conserved(3);
  });
});

describe('normalize: VINs and pseudonyms', () => {
  it('refuses a wrong check digit unless the policy waives it; the same VIN has a different key in each tenant', async () => {
    const bad = VIN.slice(0, 8) + (VIN[8] === '0' ? '1' : '0') + VIN.slice(9);
    const strict = await rig();
    await strict.run([item({ vin: bad, ts: T0, signals: { [SPEED]: 1 } }), item({ vin: VIN, ts: T0, signals: { [SPEED]: 2 } }, { tenant: 'acme' }), item({ vin: VIN, ts: T0, signals: { [SPEED]: 3 } }, { tenant: 'globex' })]);
    expect((await strict.dead()).map((d) => [d.code, d.reason])).toEqual([['vin.invalid', `invalid VIN "${bad}"`]]);
    expect(values(await strict.rows(SPEED, 'acme'))).toEqual([2]);
    expect(values(await strict.rows(SPEED, 'globex'))).toEqual([3]);
    const keys = new Pseudonymizer(SECRET);
    expect(keys.key('acme', VIN)).not.toBe(keys.key('globex', VIN));
    expect(keys.key('acme', VIN)).toMatch(/^[0-9a-f]{16}$/);
    // Deterministic: another pseudonymizer with the same secret gives the same key; another secret does not.
    expect(new Pseudonymizer(SECRET).key('acme', VIN)).toBe(keys.key('acme', VIN));
    expect(new Pseudonymizer(`${SECRET}-other`).key('acme', VIN)).not.toBe(keys.key('acme', VIN));
    await strict.conserved(2);

    const lax = await rig({ vinCheckDigit: false });
    await lax.run([item({ vin: bad, ts: T0, signals: { [SPEED]: 1 } }), item({ vin: 'WVWZZZ1JZXW00000I', ts: T0, signals: { [SPEED]: 1 } })]);
    expect(values(await lax.rows(SPEED, 'acme', bad))).toEqual([1]);
    expect((await lax.dead()).map((d) => d.code)).toEqual(['vin.invalid']); // I is never a VIN character
    await lax.conserved(1);
  });
});

describe('normalize: duplicates by record id', () => {
  it('drops a redelivery (same source, seq and ts, or same transport id) and keeps a restarted sequence', async () => {
    const r = await rig();
    const msg = { vin: VIN, ts: T0, seq: 1, signals: { [SPEED]: 10 } };
    await r.run([
      item(msg), item(msg), // redelivered
      item({ ...msg, ts: T0 + 60_000, signals: { [SPEED]: 20 } }), // the sender restarted its sequence
      item(msg, { source: 'other' }), // the same record from another source is its own record
      item({ vin: VIN, ts: T0 + 1, signals: { [SPEED]: 30 } }, { transportId: 'js-7' }),
      item({ vin: VIN, ts: T0 + 1, signals: { [SPEED]: 30 } }, { transportId: 'js-7' }), // JetStream redelivery
    ]);
    expect(r.pipeline.metrics.get('vigil_messages_duplicate_total')).toBe(2);
    expect(values(await r.rows(SPEED))).toEqual([10, 10, 30, 20]);
    await r.conserved(4);
  });
});

describe('normalize: out-of-order and late data', () => {
  const late = (policy: Partial<NormalizePolicy>): Promise<Rig> => rig({ latenessMs: 60_000, ...policy });

  it('stores out-of-order data within the window; stores and counts late data under `late: store`', async () => {
    const r = await late({ late: 'store' });
    await r.run([item({ vin: VIN, ts: T0 + 120_000, signals: { [SPEED]: 50 } })]);
    await r.run([
      item({ vin: VIN, ts: T0 + 100_000, signals: { [SPEED]: 40 } }), // 20 s out of order: within the window
      item({ vin: VIN, ts: T0, signals: { [SPEED]: 30 } }), // 120 s behind: late
    ]);
    expect(values(await r.rows(SPEED))).toEqual([30, 40, 50]);
    expect(r.pipeline.metrics.get('vigil_signals_late_total')).toBe(1);
    expect(await r.dead()).toEqual([]);
    await r.conserved(3);
  });

  it('dead-letters late entries with how late they were under `late: reject`, within a message and across hand-overs', async () => {
    const r = await late({ late: 'reject' });
    await r.run([item({ vin: VIN, ts: T0 + 120_000, signals: { [SPEED]: 50 } })]);
    await r.run([
      item({ vin: VIN, ts: T0 + 100_000, signals: { [SPEED]: 40 } }),
      item({ vin: VIN, ts: T0, signals: { [SPEED]: 30, [ODO]: 100 } }),
      // Within one message: the newest sample moves the watermark for the ones after it.
      item({ vin: VIN, ts: T0 + 200_000, samples: [[SPEED, T0 + 200_000, 60], [SPEED, T0 + 130_000, 55], [SPEED, T0 + 150_000, 58]] }),
      // Another vehicle has its own watermark.
      item({ vin: makeVin({ wmi: '1FT', vds: 'EW1EP', year: 2021, plant: 'K' }, 8), ts: T0, signals: { [SPEED]: 1 } }),
    ]);
    expect(values(await r.rows(SPEED))).toEqual([40, 50, 58, 60]);
    const dead = await r.dead();
    expect(dead.map((d) => d.code)).toEqual(['time.late', 'time.late', 'time.late']);
    expect(dead.map((d) => d.reason).sort()).toEqual([
      `event time ${T0 + 130_000} is 70000 ms older than the vehicle's newest (${T0 + 200_000}); the lateness window is 60000 ms`,
      `event time ${T0} is 120000 ms older than the vehicle's newest (${T0 + 120_000}); the lateness window is 60000 ms`,
      `event time ${T0} is 120000 ms older than the vehicle's newest (${T0 + 120_000}); the lateness window is 60000 ms`,
    ].sort());
    expect(r.pipeline.metrics.get('vigil_signals_late_total')).toBe(0);
    await r.conserved(8);
  });

  it('refuses a message from the future whole and a sample from the future alone', async () => {
    const r = await rig();
    r.clock.set(T0);
    await r.run([
      item({ vin: VIN, ts: T0 + 3_600_000, signals: { [SPEED]: 1 } }),
      item({ vin: VIN, ts: T0, samples: [[SPEED, T0, 2], [SPEED, T0 + 3_600_000, 3]] }),
    ]);
    expect((await r.dead()).map((d) => d.code).sort()).toEqual(['time.future', 'time.invalid']);
    expect(values(await r.rows(SPEED))).toEqual([2]);
    await r.conserved(2);
  });
});
