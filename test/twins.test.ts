import { describe, expect, it } from 'vitest';
import { SignalBatchBuilder, type SignalBatch } from '../src/core/batch.js';
import { SignalCatalog, type SignalSpec } from '../src/core/catalog.js';
import type { Alert, SecurityEvent } from '../src/core/records.js';
import { BUILTIN_DETECTORS } from '../src/detect/builtin.js';
import { SignalEngine } from '../src/detect/engine.js';
import { DEFAULT_SIGNALS } from '../src/sim/default-catalog.js';
import { decodeTwins, encodeTwins } from '../src/twin/checkpoint.js';
import { mergeStats, variance, type RunningStats } from '../src/twin/cohorts.js';
import { MAX_TIMELINE_EVENTS } from '../src/twin/timeline.js';
import { TwinRegistry } from '../src/twin/twins.js';

const TCU_SW = 'Vehicle.Vigil.ECU.TCU.SoftwareVersion';
const catalog = new SignalCatalog([...DEFAULT_SIGNALS, { path: TCU_SW, datatype: 'string', kind: 'attribute' } satisfies SignalSpec]);
const id = (p: string): number => catalog.get(p)!.id;
const SPEED = id('Vehicle.Speed');
const ODO = id('Vehicle.TraveledDistance');
const SOC = id('Vehicle.Powertrain.TractionBattery.StateOfCharge.Current');
const T0 = Date.UTC(2026, 0, 1);
const V1 = '00000000000000a1';
const V2 = 'ffffffff000000b2';

type Row = [vehicle: string, time: number, signal: number, value: number, text?: string];
function batch(rows: Row[], tenant = 'acme'): SignalBatch {
  const b = new SignalBatchBuilder(tenant);
  for (const [v, t, s, x, text] of rows) b.push(b.vehicleIndex(v), t, s, x, text);
  return b.build();
}
const engine = (): SignalEngine => new SignalEngine(catalog, BUILTIN_DETECTORS, 60_000);

/** Statistics of `xs` computed directly, in double precision. */
function exact(xs: number[]): RunningStats {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { count: xs.length, mean, m2: xs.reduce((a, x) => a + (x - mean) ** 2, 0), min: Math.min(...xs), max: Math.max(...xs) };
}

describe('TwinRegistry', () => {
  it('keeps the last value and time per signal, ignores older rows for them, and counts every row', () => {
    const twins = new TwinRegistry(catalog);
    engine().process(batch([[V1, T0, SPEED, 50], [V1, T0 + 1000, SPEED, 52], [V1, T0 + 500, SPEED, 10], [V2, T0, ODO, 1000]]), twins, T0);
    const t = twins.get('acme', V1)!;
    expect([t.value(SPEED), t.time(SPEED)]).toEqual([52, T0 + 1000]);
    expect(t.value(ODO)).toBeNaN();
    expect(t.time(ODO)).toBeNaN();
    expect(t.signalCount).toBe(3);
    expect(twins.get('acme', V2)!.value(ODO)).toBe(1000);
    expect(twins.get('globex', V1)).toBeUndefined();
    expect(twins.takeDirty().map((v) => [v.id, v.signalCount, v.firstSeen, v.lastSeen])).toEqual([
      [V1, 3, T0, T0 + 1000],
      [V2, 1, T0, T0],
    ]);
    expect(twins.takeDirty()).toEqual([]);
  });

  it('keeps running statistics per signal: count, mean and variance (Welford), min and max as true bounds', () => {
    const twins = new TwinRegistry(catalog);
    const xs = Array.from({ length: 500 }, (_, i) => 40 + 30 * Math.sin(i / 7) + (i % 13) * 0.37);
    engine().process(batch(xs.map((x, i): Row => [V1, T0 + i * 100, SOC, x])), twins, T0);
    const s = twins.view('acme', V1)!.signals.find((x) => x.id === SOC)!;
    const e = exact(xs);
    expect(s.count).toBe(500);
    expect(s.mean).toBeCloseTo(e.mean, 4);
    expect(s.variance / variance(e)).toBeCloseTo(1, 4);
    expect(s.min!).toBeLessThanOrEqual(e.min);
    expect(s.min!).toBeGreaterThan(e.min - 1e-5);
    expect(s.max!).toBeGreaterThanOrEqual(e.max);
    expect(s.max!).toBeLessThan(e.max + 1e-5);
  });

  it('gives twins that see signals in different orders their own layouts, and the same answers', () => {
    const twins = new TwinRegistry(catalog);
    const ids = [...catalog].filter((d) => d.numeric).map((d) => d.id).slice(0, 40);
    const rows: Row[] = [];
    for (let v = 0; v < 200; v++) {
      const key = v.toString(16).padStart(16, '0');
      const order = v % 3 === 0 ? [...ids].reverse() : v % 3 === 1 ? ids : [...ids.slice(20), ...ids.slice(0, 20)];
      order.forEach((s, k) => rows.push([key, T0 + k, s, v * 1000 + s]));
    }
    engine().process(batch(rows), twins, T0);
    expect(twins.size).toBe(200);
    expect(twins.shapes.sharedCount).toBeLessThan(3 * 40 + 2);
    for (let v = 0; v < 200; v += 17) {
      const t = twins.get('acme', v.toString(16).padStart(16, '0'))!;
      for (const s of ids) expect(t.value(s)).toBe(v * 1000 + s);
    }
    // Shapes are learned: after the first twin of a kind, regions are sized at once (40 slots each, little slack).
    expect(twins.slab.used).toBeLessThan(200 * 40 * 1.1);
  });

  it('keeps the ECU inventory from registration and from software-version signals, with software changes on the timeline', () => {
    const twins = new TwinRegistry(catalog);
    twins.identify('acme', V1, { make: 'Volvo', model: 'V40', year: 2017, software: { TCU: '1.0.0', IVI: '2.1' } }, T0);
    engine().process(batch([[V1, T0 + 5000, id(TCU_SW), Number.NaN, '1.1.0'], [V1, T0 + 5000, SPEED, 30]]), twins, T0);
    const v = twins.view('acme', V1)!;
    expect(v.identity).toMatchObject({ make: 'Volvo', model: 'V40', year: 2017, software: { TCU: '1.1.0', IVI: '2.1' } });
    expect(v.timeline.map((e) => [e.kind, e.time])).toEqual([['first_seen', T0 + 5000], ['software', T0 + 5000]]);
    expect(v.timeline[1]!.details).toEqual({ ecu: 'TCU', from: '1.0.0', to: '1.1.0' });
    expect(twins.takeDirty()[0]!.software).toEqual({ TCU: '1.1.0', IVI: '2.1' });
  });

  it('puts alerts and security events on a bounded timeline', () => {
    const twins = new TwinRegistry(catalog);
    const alerts: Alert[] = Array.from({ length: MAX_TIMELINE_EVENTS + 5 }, (_, k) => ({
      id: `a${k}`, tenant: 'acme', vehicle: V1, time: T0 + k, detectedAt: T0, rule: 'r', title: 'Odd', severity: 'low', tags: [], details: {},
    }));
    const sec: SecurityEvent = { id: 's1', tenant: 'acme', vehicle: V1, time: T0 + 10_000, eventId: 0x8103, name: 'UDS_REPROGRAMMING_REQUEST', sensor: 'GW', count: 1, severity: 'high', source: 'test' };
    twins.noteEvents([sec], alerts);
    const tl = twins.view('acme', V1)!.timeline;
    expect(tl).toHaveLength(MAX_TIMELINE_EVENTS);
    expect(tl.at(-1)).toMatchObject({ kind: 'security', ref: 's1' });
    expect(tl[0]).toMatchObject({ kind: 'alert', ref: 'a6' });
  });

  it('feeds cohort baselines whose statistics merge exactly across workers', () => {
    const a = new TwinRegistry(catalog);
    const b = new TwinRegistry(catalog);
    const who = { make: 'Volvo', model: 'V40', year: 2017, software: { TCU: '1.0.0' } };
    a.identify('acme', V1, { ...who, trim: 'R-Design' }, T0);
    b.identify('acme', V2, who, T0);
    const xs = [10, 20, 35, 50];
    const ys = [12, 80, 81];
    engine().process(batch(xs.map((x, i): Row => [V1, T0 + i, SPEED, x])), a, T0);
    engine().process(batch(ys.map((x, i): Row => [V2, T0 + i, SPEED, x])), b, T0);
    const ca = a.profiles.cohorts[1]!;
    const cb = b.profiles.cohorts[1]!;
    expect(ca.key).toBe(cb.key);
    const merged = mergeStats(ca.stats(SPEED), cb.stats(SPEED));
    const e = exact([...xs, ...ys]);
    expect(merged.count).toBe(7);
    expect(merged.mean).toBeCloseTo(e.mean, 10);
    expect(merged.m2).toBeCloseTo(e.m2, 8);
    expect([merged.min, merged.max]).toEqual([10, 81]);
  });

  it('keeps signal times across a jump of months in one twin', () => {
    const twins = new TwinRegistry(catalog);
    const later = T0 + 90 * 86_400_000;
    engine().process(batch([[V1, T0, ODO, 1], [V1, T0 + 7, SPEED, 2], [V1, later, SPEED, 3]]), twins, T0);
    const t = twins.get('acme', V1)!;
    expect(t.time(SPEED)).toBe(later);
    // Silent for longer than the time window: clamped, still long before the present.
    expect(t.time(ODO)).toBeLessThan(later - 20 * 86_400_000);
  });
});

describe('twin checkpoint', () => {
  it('restores every twin as it was: values, times, statistics, identity, cohort, timeline', () => {
    const twins = new TwinRegistry(catalog);
    twins.identify('acme', V1, { make: 'Volvo', model: 'V40', year: 2017, software: { TCU: '1.0.0' } }, T0);
    const rows: Row[] = [];
    for (let v = 0; v < 50; v++) for (let k = 0; k < 20; k++) rows.push([v.toString(16).padStart(16, '0'), T0 + k * 1000, (v + k) % 30, v + k * 0.5]);
    rows.push([V1, T0, SPEED, 10], [V1, T0 + 1000, SPEED, 200], [V1, T0 + 2000, id(TCU_SW), Number.NaN, '2.0']);
    // As the lane does: the engine's alerts go on the timeline.
    twins.noteEvents([], engine().process(batch(rows), twins, T0).alerts);
    engine().process(batch([['not-a-hex-key', T0, SPEED, 1]], 'globex'), twins, T0);
    const bytes = encodeTwins(twins);

    const again = new TwinRegistry(catalog);
    // The store may return the bytes at any offset.
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    expect(decodeTwins(again, shifted.subarray(3))).toBe(twins.size);
    expect(again.size).toBe(twins.size);
    for (const i of twins.liveIndices()) {
      const tenant = twins.tenants[twins.h.tenant[i]!]!;
      const key = twins.idOf(i);
      expect(again.view(tenant, key)).toEqual(twins.view(tenant, key));
    }
    expect(again.view('acme', V1)!.timeline.map((e) => e.kind)).toEqual(['first_seen', 'alert', 'software']);
    expect(again.profiles.cohorts[1]!.stats(SPEED)).toEqual(twins.profiles.cohorts[1]!.stats(SPEED));
    // The restored twins go on updating.
    engine().process(batch([[V1, T0 + 3000, SPEED, 201]]), again, T0);
    expect(again.get('acme', V1)!.value(SPEED)).toBe(201);
  });

  it('refuses bytes that are not a snapshot', () => {
    expect(() => decodeTwins(new TwinRegistry(catalog), new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).toThrow(/not a VTW1/);
  });
});
