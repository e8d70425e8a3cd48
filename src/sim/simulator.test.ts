import { describe, expect, it } from 'vitest';
import { decodeLog, decodeSecurity, decodeSignals, parseJsonObject } from '../decode/json.js';
import { DEFAULT_SECURITY_EXTRACT } from '../normalize/security-extract.js';
import { isValidVin } from '../normalize/vin.js';
import { checkSignalsMessage } from './check.js';
import { defaultCatalog } from './default-catalog.js';
import type { SimItem } from './events.js';
import type { SimOptions } from './options.js';
import type { ScenarioLabel } from './scenarios.js';
import { PATHS } from './signals.js';
import { FleetSimulator } from './simulator.js';

function run(opts: SimOptions, seconds: number, tickMs = 1000): { items: SimItem[]; labels: ScenarioLabel[]; sim: FleetSimulator } {
  const sim = new FleetSimulator(opts);
  const items: SimItem[] = [];
  const labels: ScenarioLabel[] = [];
  const start = sim.options.start;
  for (let t = start; ; t = Math.min(start + seconds * 1000, t + tickMs)) {
    sim.tick(t, { item: (x) => items.push(x), label: (l) => labels.push(l) });
    if (t >= start + seconds * 1000) break;
  }
  return { items, labels, sim };
}

interface Msg {
  vin: string;
  ts: number;
  seq: number;
  signals: Record<string, number | boolean | string>;
  samples: [string, number, number][];
}

/** Parsed signals messages per VIN, in time order. */
function traces(items: readonly SimItem[]): Map<string, Msg[]> {
  const out = new Map<string, Msg[]>();
  for (const it of items) {
    if (it.kind !== 'signals') continue;
    const m = JSON.parse(it.payload) as Msg;
    const list = out.get(m.vin) ?? [];
    list.push(m);
    out.set(m.vin, list);
  }
  return out;
}

function distanceM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const k = Math.PI / 180;
  const x = (lon2 - lon1) * k * Math.cos(((lat1 + lat2) / 2) * k);
  const y = (lat2 - lat1) * k;
  return Math.sqrt(x * x + y * y) * 6_371_000;
}

describe('FleetSimulator: determinism', () => {
  const opts: SimOptions = { vehicles: 60, seed: 7, attackEveryS: 40, malformedRate: 0.01 };

  it('produces the same bytes for the same seed, and different ones for another seed', () => {
    const a = run(opts, 120);
    const b = run(opts, 120);
    const c = run({ ...opts, seed: 8 }, 120);
    expect(a.items.length).toBeGreaterThan(7000);
    expect(b.items).toEqual(a.items);
    expect(b.labels).toEqual(a.labels);
    expect(c.items.map((x) => x.payload)).not.toEqual(a.items.map((x) => x.payload));
  });

  it('does not depend on how time is sliced into ticks, nor on the work budget', () => {
    const sorted = (items: SimItem[]): string[] => items.map((x) => `${x.kind}|${x.payload}`).sort();
    const base = run(opts, 120, 1000);
    expect(sorted(run(opts, 120, 333).items)).toEqual(sorted(base.items));
    expect(sorted(run(opts, 120, 7000).items)).toEqual(sorted(base.items));
    const labelIds = (l: ScenarioLabel[]): string[] => l.map((x) => x.id).sort();
    expect(labelIds(run(opts, 120, 7000).labels)).toEqual(labelIds(base.labels));

    // Small budgets: `tick` is resumed with the same target until it reports completion.
    const sim = new FleetSimulator(opts);
    const items: SimItem[] = [];
    let calls = 0;
    for (let t = sim.options.start; t <= sim.options.start + 120_000; t += 1000) {
      while (!sim.tick(t, { item: (x) => items.push(x) }, 17)) calls++;
    }
    expect(calls).toBeGreaterThan(100);
    expect(items).toEqual(base.items);
  });

  it('pulls the same records through the iterator', () => {
    const sim = new FleetSimulator(opts);
    const pulled = [...sim.items(sim.options.start + 30_000)];
    const pushed = run(opts, 30, 30_000).items;
    expect(pulled).toEqual(pushed);
    expect(() => sim.tick(sim.options.start, { item: () => undefined })).toThrow(RangeError);
    const fresh = new FleetSimulator(opts);
    expect(fresh.now).toBe(fresh.options.start - 1);
  });
});

describe('FleetSimulator: normal traffic', () => {
  const normal = run({ vehicles: 150, seed: 11, attacks: false, malformedRate: 0 }, 600, 5000);
  const catalog = defaultCatalog();
  const byVin = traces(normal.items);

  it('validates against the catalog specs with zero rejects', () => {
    let checked = 0;
    for (const it of normal.items) {
      if (it.kind !== 'signals') continue;
      expect(checkSignalsMessage(catalog, it.payload), it.payload.slice(0, 200)).toEqual([]);
      checked++;
    }
    expect(checked).toBe(normal.sim.stats.messages);
    expect(normal.sim.stats.malformed).toBe(0);
    expect(normal.labels).toEqual([]);
  });

  it('passes the JSON decoder for every kind, with the vehicle VIN on every record', () => {
    const kinds = new Set<string>();
    for (const it of normal.items) {
      kinds.add(it.kind);
      const parsed = parseJsonObject(it.payload);
      expect(parsed.ok).toBe(true);
      if (!parsed.ok) continue;
      const decoded = it.kind === 'signals' ? decodeSignals(parsed.value) : it.kind === 'security' ? decodeSecurity(parsed.value) : decodeLog(parsed.value);
      expect(decoded.ok, it.payload.slice(0, 200)).toBe(true);
      if (it.vin !== undefined) {
        expect(isValidVin(it.vin)).toBe(true);
        expect(parsed.value.vin).toBe(it.vin);
      }
      expect(parsed.value.ts).toBe(it.ts);
    }
    expect([...kinds].sort()).toEqual(['log', 'security', 'signals']);
  });

  it('sends batched messages of >= 50 signals, with samples inside the interval', () => {
    const problems: string[] = [];
    for (const msgs of byVin.values()) {
      let prev = Number.NEGATIVE_INFINITY;
      for (const m of msgs) {
        const snapshot = Object.keys(m.signals).length;
        if (snapshot + m.samples.length !== 80 || snapshot < 50) problems.push(`${m.vin}#${m.seq}: ${snapshot} + ${m.samples.length} entries`);
        if (!m.samples.some((s) => s[0] === PATHS.speed)) problems.push(`${m.vin}#${m.seq}: no speed samples`);
        if (m.samples.some(([, ts]) => !(ts > prev && ts < m.ts))) problems.push(`${m.vin}#${m.seq}: sample outside the interval`);
        prev = m.ts;
      }
    }
    expect(problems).toEqual([]);
  });

  it('reports about once a second per vehicle, each with its own increasing seq', () => {
    for (const msgs of byVin.values()) {
      expect(msgs.length).toBeGreaterThanOrEqual(560);
      expect(msgs.length).toBeLessThanOrEqual(640);
      for (let k = 1; k < msgs.length; k++) {
        const gap = msgs[k]!.ts - msgs[k - 1]!.ts;
        expect(gap).toBeGreaterThanOrEqual(900);
        expect(gap).toBeLessThanOrEqual(1100);
        expect(msgs[k]!.seq).toBeGreaterThan(msgs[k - 1]!.seq);
      }
    }
  });

  it('keeps speed, wheel speeds, gear, engine speed, doors and parking state consistent', () => {
    let driving = 0;
    let parkedWithDoorOpen = 0;
    for (const msgs of byVin.values()) {
      for (const { signals: s } of msgs) {
        const v = s[PATHS.speed] as number;
        for (const w of [PATHS.wheelFL, PATHS.wheelFR, PATHS.wheelRL, PATHS.wheelRR]) {
          expect(Math.abs((s[w] as number) - v), `${w} vs speed ${v}`).toBeLessThanOrEqual(1 + 0.06 * v);
        }
        const gear = s[PATHS.gear] as number;
        const parked = s[PATHS.selectedGear] === 126;
        if (parked) {
          expect(v).toBe(0);
          expect(gear).toBe(0);
          expect(s[PATHS.parkingBrake]).toBe(true);
        } else {
          driving++;
          expect(gear).toBeGreaterThanOrEqual(1);
        }
        const anyDoor = [PATHS.doorFL, PATHS.doorFR, PATHS.doorRL, PATHS.doorRR, PATHS.trunk].some((d) => s[d] === true);
        if (anyDoor) {
          expect(parked, 'a door is open while not parked').toBe(true);
          expect(s[PATHS.lockFL]).toBe(false);
          parkedWithDoorOpen++;
        }
        if (PATHS.engineRunning in s && s[PATHS.engineRunning] === false) expect(s[PATHS.rpm]).toBe(0);
        if (s[PATHS.engineRunning] === true) expect(s[PATHS.rpm] as number).toBeGreaterThanOrEqual(700);
        expect(s[PATHS.moving]).toBe(v > 0.5);
      }
    }
    expect(driving).toBeGreaterThan(10_000);
    expect(parkedWithDoorOpen).toBeGreaterThan(20);
  });

  it('moves GPS along the heading by the distance the odometer counts, and never winds the odometer back', () => {
    let checkedKm = 0;
    for (const msgs of byVin.values()) {
      for (let k = 1; k < msgs.length; k++) {
        const a = msgs[k - 1]!.signals;
        const b = msgs[k]!.signals;
        const odo = (b[PATHS.odometer] as number) - (a[PATHS.odometer] as number);
        expect(odo).toBeGreaterThanOrEqual(0);
        const gps = distanceM(a[PATHS.lat] as number, a[PATHS.lon] as number, b[PATHS.lat] as number, b[PATHS.lon] as number);
        // GNSS noise is ~1.5 m per fix, the odometer counts whole metres.
        expect(Math.abs(gps - odo), `gps ${gps} m vs odometer ${odo} m`).toBeLessThan(12 + 0.05 * odo);
        const v = ((a[PATHS.speed] as number) + (b[PATHS.speed] as number)) / 2 / 3.6;
        const dt = (msgs[k]!.ts - msgs[k - 1]!.ts) / 1000;
        expect(Math.abs(odo - v * dt)).toBeLessThan(3);
        checkedKm += odo / 1000;
        if (odo > 25) {
          // Displacement points along the heading (the mean of the two reports: the vehicle may be turning).
          const k2 = Math.PI / 180;
          const bearing = (Math.atan2(
            ((b[PATHS.lon] as number) - (a[PATHS.lon] as number)) * Math.cos((a[PATHS.lat] as number) * k2),
            (b[PATHS.lat] as number) - (a[PATHS.lat] as number),
          ) / k2 + 360) % 360;
          const ha = a[PATHS.heading] as number;
          const hb = b[PATHS.heading] as number;
          const mid = ha + ((((hb - ha) % 360) + 540) % 360 - 180) / 2;
          const diff = Math.abs((((bearing - mid) % 360) + 540) % 360 - 180);
          expect(diff, `bearing ${bearing} vs heading ${ha} -> ${hb}`).toBeLessThan(20);
        }
      }
    }
    expect(checkedKm).toBeGreaterThan(500);
  });

  it('drains batteries while driving and fills them while charging', () => {
    let drained = 0;
    let charged = 0;
    for (const msgs of byVin.values()) {
      for (let k = 1; k < msgs.length; k++) {
        const a = msgs[k - 1]!.signals;
        const b = msgs[k]!.signals;
        if (!(PATHS.isCharging in b)) continue;
        const d = (b[PATHS.soc] as number) - (a[PATHS.soc] as number);
        if (b[PATHS.isCharging] === true && a[PATHS.isCharging] === true) {
          expect(d).toBeGreaterThanOrEqual(0);
          expect(b[PATHS.cable]).toBe(true);
          expect(b[PATHS.packCurrent] as number).toBeGreaterThan(0);
          if (d > 0) charged++;
        }
        if (a[PATHS.selectedGear] === 127 && b[PATHS.selectedGear] === 127 && (b[PATHS.speed] as number) > 30) {
          if (d < 0) drained++;
          // Only regenerative braking puts charge back while driving.
          if ((b[PATHS.accelLong] as number) > 0.1) expect(d).toBeLessThanOrEqual(0.01);
        }
      }
    }
    expect(drained).toBeGreaterThan(1000);
    expect(charged).toBeGreaterThan(100);
  });

  it('sends an IDS heartbeat per vehicle every minute, and only known IdsM event ids', () => {
    const beats = new Map<string, number[]>();
    for (const it of normal.items) {
      if (it.kind !== 'security') continue;
      const e = JSON.parse(it.payload) as { vin: string; ts: number; eventId: number };
      expect(DEFAULT_SECURITY_EXTRACT.has(e.eventId), `event id 0x${e.eventId.toString(16)}`).toBe(true);
      if (e.eventId === 0x8601) beats.set(e.vin, [...(beats.get(e.vin) ?? []), e.ts]);
    }
    expect(beats.size).toBe(150);
    for (const ts of beats.values()) {
      expect(ts.length).toBeGreaterThanOrEqual(9);
      for (let k = 1; k < ts.length; k++) expect(ts[k]! - ts[k - 1]!).toBe(60_000);
    }
  });

  it('logs benign back-end traffic of owners about their own vehicles', () => {
    const logs = normal.items.filter((x) => x.kind === 'log').map((x) => JSON.parse(x.payload) as Record<string, unknown>);
    expect(logs.length).toBeGreaterThan(20);
    for (const l of logs) {
      expect(['telematics', 'charging']).toContain(l.service);
      expect(typeof l.endpoint).toBe('string');
    }
    expect(logs.every((l) => l.status !== 401 || l.endpoint === '/v1/auth/login')).toBe(true);
  });
});
