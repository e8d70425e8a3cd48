/**
 * The fleet views on a real DuckDB holding a seeded fleet of two tenants (the simulator's fleet
 * generator, see test/fleet-fixture.ts). Every expected answer is computed here, in plain JS,
 * from the same generated rows, and compared with what the SQL returns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_COMMONALITY, hypergeometricTail, type AlertFilter, type Dimension, type TimeRange } from '../../alerts/fleet.js';
import type { Alert, Severity, VehicleRecord } from '../../core/records.js';
import { DAY, EXPLOIT_RULE, LONE_IVI, PLANTED_TCU, fleetFixture, insertIncidents, type FixtureIncident } from '../../../test/fleet-fixture.js';
import { DuckDBStore } from './duckdb-store.js';
import { DuckDBFleetViews } from './fleet-views.js';

const T = 'acme';
const OTHER = 'globex';
const END = Date.UTC(2026, 10, 1);
const RANGE: TimeRange = { from: END - 30 * DAY, to: END };
const WHOLE: TimeRange = { from: END - 60 * DAY, to: END };
const fx = fleetFixture({ seed: 11, vehicles: 3000, tenants: [T, OTHER], noisyShare: 0.2, alertsPerNoisy: 3, planted: 40, end: END, days: 60, incidents: true });

// Tenant scoping bait: the other tenant registers a vehicle under the same key as one of ours,
// with different attributes, and alerts and incidents on it in the same range.
const twinKey = [...fx.planted][0]!;
const bait: VehicleRecord = { tenant: OTHER, id: twinKey, make: 'Bait', model: 'Bait', year: 1999, trim: 'x', region: 'mars', software: { TCU: PLANTED_TCU }, signalCount: 0 };
const baitAlerts: Alert[] = Array.from({ length: 50 }, (_, i) => ({
  id: `bait-${i}`, tenant: OTHER, vehicle: twinKey, time: RANGE.from + i * 1000, detectedAt: RANGE.from + i * 1000, rule: EXPLOIT_RULE,
  title: 'bait', severity: 'critical', tags: [], details: {},
}));
const baitIncident: FixtureIncident = {
  tenant: OTHER, id: 'inc-bait', kind: 'vehicle', vehicle: twinKey, severity: 'critical', rules: [EXPLOIT_RULE],
  firstAlertAt: RANGE.from, lastAlertAt: RANGE.from + 49_000, alerts: baitAlerts.map((a) => ({ id: a.id, vehicle: twinKey })),
};

// A fleet-level incident whose only alert has no vehicle: it counts in the all-null group.
const orphan: FixtureIncident = {
  tenant: T, id: 'inc-orphan', kind: 'campaign', severity: 'medium', rules: ['fleet-correlation'],
  firstAlertAt: RANGE.from + 5000, lastAlertAt: RANGE.from + 5000, alerts: [{ id: 'orphan-alert' }],
};
const incidents = [...fx.incidents, orphan];

let store: DuckDBStore;
let views: DuckDBFleetViews;

beforeAll(async () => {
  store = await DuckDBStore.open({ path: ':memory:' });
  await store.upsertVehicles([...fx.vehicles, bait]);
  await store.insertAlerts([...fx.alerts, ...baitAlerts]);
  await insertIncidents(store.connection, [...incidents, baitIncident]);
  views = new DuckDBFleetViews(store.connection);
});
afterAll(async () => store?.close());

// ---- the expected answers, from the rows -----------------------------------------------------

const RANK: Record<Severity, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };
const fleet = fx.vehicles.filter((v) => v.tenant === T);
const byKey = new Map(fleet.map((v) => [v.id, v]));
const inRange = (t: number, r: TimeRange): boolean => t >= r.from && t < r.to;
const passes = (x: { severity: Severity }, rules: readonly string[], f: AlertFilter): boolean =>
  (!f.severity?.length || f.severity.includes(x.severity)) && (!f.rule?.length || rules.some((r) => f.rule!.includes(r)));
const alertsOf = (r: TimeRange, f: AlertFilter = {}): Alert[] => fx.alerts.filter((a) => a.tenant === T && inRange(a.time, r) && passes(a, [a.rule], f));
const incidentsOf = (r: TimeRange, f: AlertFilter = {}): FixtureIncident[] => incidents.filter((i) => i.tenant === T && inRange(i.firstAlertAt, r) && passes(i, i.rules, f));
const vehiclesOfIncident = (i: FixtureIncident): (string | undefined)[] => {
  const s = new Set<string>();
  if (i.vehicle) s.add(i.vehicle);
  for (const a of i.alerts) if (a.vehicle) s.add(a.vehicle);
  return s.size ? [...s] : [undefined];
};

function valueOf(v: VehicleRecord | undefined, d: Dimension): string | number | null {
  if (!v) return null;
  if (d.startsWith('software.')) return v.software?.[d.slice('software.'.length)] ?? null;
  return (v as unknown as Record<string, string | number | undefined>)[d] ?? null;
}
const keyOf = (v: VehicleRecord | undefined, by: readonly Dimension[]): Record<string, string | number | null> => Object.fromEntries(by.map((d) => [d, valueOf(v, d)]));

interface Group { key: Record<string, string | number | null>; count: number; vehicles: number; fleetVehicles: number }

function expectedCounts(of: 'alerts' | 'incidents', by: readonly Dimension[], r: TimeRange, f: AlertFilter = {}): Group[] {
  const groups = new Map<string, { key: Record<string, string | number | null>; units: Set<string>; alerts: number; vehicles: Set<string> }>();
  const add = (vehicle: string | undefined, unit: string): void => {
    const key = keyOf(vehicle === undefined ? undefined : byKey.get(vehicle), by);
    const k = JSON.stringify(key);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { key, units: new Set(), alerts: 0, vehicles: new Set() }));
    g.units.add(unit);
    g.alerts++;
    if (vehicle !== undefined) g.vehicles.add(vehicle);
  };
  if (of === 'alerts') for (const a of alertsOf(r, f)) add(a.vehicle, a.id);
  else for (const i of incidentsOf(r, f)) for (const v of vehiclesOfIncident(i)) add(v, i.id);
  const fleetCount = new Map<string, number>();
  for (const v of fleet) {
    const k = JSON.stringify(keyOf(v, by));
    fleetCount.set(k, (fleetCount.get(k) ?? 0) + 1);
  }
  return [...groups.entries()].map(([k, g]) => ({ key: g.key, count: of === 'alerts' ? g.alerts : g.units.size, vehicles: g.vehicles.size, fleetVehicles: fleetCount.get(k) ?? 0 }));
}

const sortByKey = <G extends { key: object }>(list: readonly G[]): G[] => [...list].sort((a, b) => (JSON.stringify(a.key) < JSON.stringify(b.key) ? -1 : 1));

// ---- the tests -------------------------------------------------------------------------------

describe('DuckDBFleetViews', () => {
  it('the fixture has what the tests rely on', () => {
    expect(fleet.length).toBeGreaterThan(1200);
    expect(alertsOf(RANGE).length).toBeGreaterThan(500);
    expect(incidentsOf(RANGE).length).toBeGreaterThan(100);
    expect(fx.alerts.some((a) => a.tenant === T && a.vehicle === undefined && inRange(a.time, RANGE))).toBe(true);
  });

  it('counts alerts by make, model and year over [from, to), with the fleet size of every group', async () => {
    const by: Dimension[] = ['make', 'model', 'year'];
    const r = await views.counts({ tenant: T, of: 'alerts', by, range: RANGE, filter: {}, limit: 1000 });
    const expected = expectedCounts('alerts', by, RANGE);
    expect(r.truncated).toBe(false);
    expect(sortByKey(r.groups)).toEqual(sortByKey(expected));
    const all = alertsOf(RANGE);
    expect(r.total).toEqual({ count: all.length, vehicles: new Set(all.flatMap((a) => (a.vehicle ? [a.vehicle] : []))).size });
    // Largest first; the alerts without a vehicle (and the unregistered one's) form the all-null group.
    const counts = r.groups.map((g) => g.count);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    expect(r.groups.find((g) => g.key['make'] === null)).toMatchObject({ key: { make: null, model: null, year: null } });
  });

  it('counts by ECU software and region with severity and rule filters', async () => {
    const by: Dimension[] = ['software.TCU', 'region'];
    const filter: AlertFilter = { severity: ['high', 'critical'], rule: [EXPLOIT_RULE, 'ota-hash-mismatch'] };
    const r = await views.counts({ tenant: T, of: 'alerts', by, range: WHOLE, filter, limit: 1000 });
    expect(sortByKey(r.groups)).toEqual(sortByKey(expectedCounts('alerts', by, WHOLE, filter)));
    const planted = r.groups.filter((g) => g.key['software.TCU'] === PLANTED_TCU);
    expect(planted.reduce((s, g) => s + g.fleetVehicles, 0)).toBe(40);
  });

  it('truncates at the limit, keeping the largest groups', async () => {
    const full = expectedCounts('alerts', ['model'], RANGE).sort((a, b) => b.count - a.count);
    const r = await views.counts({ tenant: T, of: 'alerts', by: ['model'], range: RANGE, filter: {}, limit: 3 });
    expect(r.truncated).toBe(true);
    expect(r.groups.map((g) => g.count)).toEqual(full.slice(0, 3).map((g) => g.count));
  });

  it('counts incidents once per group they touch, campaigns included', async () => {
    for (const by of [['make'], ['model', 'software.TCU']] as Dimension[][]) {
      const r = await views.counts({ tenant: T, of: 'incidents', by, range: RANGE, filter: {}, limit: 1000 });
      expect(sortByKey(r.groups)).toEqual(sortByKey(expectedCounts('incidents', by, RANGE)));
      // The orphan (no vehicle at all) is among them: in the all-null group and in the total.
      expect(r.total.count).toBe(incidentsOf(RANGE).length);
    }
    const filter: AlertFilter = { rule: [EXPLOIT_RULE] };
    const r = await views.counts({ tenant: T, of: 'incidents', by: ['make'], range: WHOLE, filter, limit: 1000 });
    expect(sortByKey(r.groups)).toEqual(sortByKey(expectedCounts('incidents', ['make'], WHOLE, filter)));
    const incidents = incidentsOf(WHOLE, filter);
    expect(r.total).toEqual({ count: incidents.length, vehicles: new Set(incidents.flatMap((i) => vehiclesOfIncident(i).filter((v) => v !== undefined))).size });
  });

  it('lists the top vehicles by alerts, incidents and severity, with their attributes', async () => {
    const stats = new Map<string, { alerts: number; incidents: number; sev: number; rules: Set<string>; last: number }>();
    const stat = (v: string) => stats.get(v) ?? (stats.set(v, { alerts: 0, incidents: 0, sev: -1, rules: new Set(), last: -Infinity }), stats.get(v)!);
    for (const a of alertsOf(RANGE)) {
      if (!a.vehicle) continue;
      const s = stat(a.vehicle);
      s.alerts++;
      s.sev = Math.max(s.sev, RANK[a.severity]);
      s.rules.add(a.rule);
      s.last = Math.max(s.last, a.time);
    }
    for (const i of incidentsOf(RANGE)) for (const v of vehiclesOfIncident(i)) {
      if (!v) continue;
      const s = stat(v);
      s.incidents++;
      s.sev = Math.max(s.sev, RANK[i.severity]);
    }
    const rows = [...stats.entries()].map(([vehicle, s]) => ({ vehicle, ...s }));
    const orders = {
      alerts: (a: typeof rows[0], b: typeof rows[0]) => b.alerts - a.alerts || b.incidents - a.incidents || (a.vehicle < b.vehicle ? -1 : 1),
      incidents: (a: typeof rows[0], b: typeof rows[0]) => b.incidents - a.incidents || b.alerts - a.alerts || (a.vehicle < b.vehicle ? -1 : 1),
      severity: (a: typeof rows[0], b: typeof rows[0]) => b.sev - a.sev || b.alerts - a.alerts || b.incidents - a.incidents || (a.vehicle < b.vehicle ? -1 : 1),
    };
    for (const by of ['alerts', 'incidents', 'severity'] as const) {
      const r = await views.topVehicles({ tenant: T, by, range: RANGE, filter: {}, limit: 10 });
      const want = [...rows].sort(orders[by]).slice(0, 10);
      expect(r.truncated).toBe(true);
      expect(r.items.map((x) => [x.vehicle, x.alerts, x.incidents])).toEqual(want.map((x) => [x.vehicle, x.alerts, x.incidents]));
      const top = r.items[0]!;
      const v = byKey.get(top.vehicle);
      const s = stats.get(top.vehicle)!;
      expect(top).toMatchObject({
        maxSeverity: (['info', 'low', 'medium', 'high', 'critical'] as const)[s.sev], rules: s.rules.size,
        lastAlertAt: s.alerts ? s.last : null, make: v?.make ?? null, model: v?.model ?? null, year: v?.year ?? null, region: v?.region ?? null,
      });
    }
  });

  it('lists the top rules with alerts, vehicles and incidents', async () => {
    const r = await views.topRules({ tenant: T, by: 'alerts', range: RANGE, filter: {}, limit: 100 });
    const alerts = alertsOf(RANGE);
    const incidents = incidentsOf(RANGE);
    const rules = [...new Set([...alerts.map((a) => a.rule), ...incidents.flatMap((i) => i.rules)])];
    const want = rules.map((rule) => {
      const mine = alerts.filter((a) => a.rule === rule);
      return {
        rule, alerts: mine.length, vehicles: new Set(mine.flatMap((a) => (a.vehicle ? [a.vehicle] : []))).size,
        incidents: incidents.filter((i) => i.rules.includes(rule)).length,
      };
    }).sort((a, b) => b.alerts - a.alerts || b.incidents - a.incidents || (a.rule < b.rule ? -1 : 1));
    expect(r.items.map(({ rule, alerts: n, vehicles, incidents: k }) => ({ rule, alerts: n, vehicles, incidents: k }))).toEqual(want);
    const bySeverity = await views.topRules({ tenant: T, by: 'severity', range: RANGE, filter: {}, limit: 2 });
    expect(bySeverity.items.map((x) => x.maxSeverity)).toEqual(['critical', 'critical']);
  });

  it('compares with the previous period, overall and per make', async () => {
    const previous = { from: RANGE.from - 30 * DAY, to: RANGE.from };
    for (const of of ['alerts', 'incidents'] as const) {
      const r = await views.trend({ tenant: T, of, by: ['make'], range: RANGE, filter: {}, sort: 'count', limit: 100 });
      expect(r.previous).toEqual(previous);
      const now = expectedCounts(of, ['make'], RANGE);
      const before = expectedCounts(of, ['make'], previous);
      const total = (g: Group[]) => (of === 'alerts' ? g.reduce((s, x) => s + x.count, 0) : (of === 'incidents' ? incidentsOf : alertsOf)(g === now ? RANGE : previous).length);
      expect(r.total).toMatchObject({ key: {}, now: total(now), before: total(before), change: total(now) - total(before) });
      const makes = new Set([...now, ...before].map((g) => JSON.stringify(g.key)));
      const want = [...makes].map((k) => {
        const n = now.find((g) => JSON.stringify(g.key) === k)?.count ?? 0;
        const b = before.find((g) => JSON.stringify(g.key) === k)?.count ?? 0;
        return { key: JSON.parse(k) as object, now: n, before: b, change: n - b, changePct: b === 0 ? null : Math.round((1000 * (n - b)) / b) / 10 };
      });
      expect(sortByKey(r.groups)).toEqual(sortByKey(want));
    }
    const byChange = await views.trend({ tenant: T, of: 'alerts', by: ['model'], range: RANGE, filter: {}, sort: 'change', limit: 100 });
    const changes = byChange.groups.map((g) => g.change);
    expect(changes).toEqual([...changes].sort((a, b) => b - a));
    const overall = await views.trend({ tenant: T, of: 'alerts', by: [], range: RANGE, filter: {}, sort: 'count', limit: 10 });
    expect(overall.groups).toEqual([]);
  });

  it('finds the planted software among the vehicles that alerted, and does not call the one-vehicle value significant', async () => {
    const filter: AlertFilter = { rule: [EXPLOIT_RULE] };
    const r = await views.commonality({ tenant: T, set: { kind: 'alerted', range: WHOLE, filter }, options: { ...DEFAULT_COMMONALITY, minSupport: 0 } });
    // Expected from the rows: the set is our registered vehicles with an exploit alert in the range.
    const set = new Set(alertsOf(WHOLE, filter).flatMap((a) => (a.vehicle ? [a.vehicle] : [])));
    const known = [...set].filter((v) => byKey.has(v));
    expect(r).toMatchObject({ setSize: known.length, fleetSize: fleet.length, unknownVehicles: set.size - known.length });
    const values = new Map<string, { setCount: number; fleetCount: number }>();
    for (const v of fleet) {
      const attrs = [['make', v.make], ['model', v.model], ['year', v.year], ['trim', v.trim], ['region', v.region], ...Object.entries(v.software ?? {}).map(([e, s]) => [`software.${e}`, s])];
      for (const [a, x] of attrs) {
        const k = `${a}=${x}`;
        const c = values.get(k) ?? { setCount: 0, fleetCount: 0 };
        c.fleetCount++;
        if (set.has(v.id)) c.setCount++;
        values.set(k, c);
      }
    }
    expect(r.tested).toBe(values.size);
    for (const item of r.items) {
      const c = values.get(`${item.attribute}=${item.value}`)!;
      expect(item).toMatchObject(c);
      expect(item.support).toBeCloseTo(c.setCount / known.length, 12);
      expect(item.fleetShare).toBeCloseTo(c.fleetCount / fleet.length, 12);
      expect(item.lift).toBeCloseTo(c.setCount / known.length / (c.fleetCount / fleet.length), 9);
      expect(item.pValue).toBeCloseTo(hypergeometricTail(fleet.length, c.fleetCount, known.length, c.setCount), 12);
    }
    const overRepresented = [...values.values()].filter((c) => c.setCount / known.length > c.fleetCount / fleet.length).length;
    expect(r.items.length).toBe(Math.min(overRepresented, DEFAULT_COMMONALITY.limit));
    expect(r.items[0]).toMatchObject({ attribute: 'software.TCU', value: PLANTED_TCU, significant: true });
    expect(r.items[0]!.setCount).toBeGreaterThanOrEqual(25);
    const lone = r.items.find((x) => x.value === LONE_IVI)!;
    expect(lone).toMatchObject({ attribute: 'software.IVI', setCount: 1, fleetCount: 1, significant: false });
    expect(lone.lift).toBeGreaterThan(r.items[0]!.lift);
  });

  it('puts the planted software on top among all alerted vehicles, too', async () => {
    const r = await views.commonality({ tenant: T, set: { kind: 'alerted', range: WHOLE, filter: {} }, options: DEFAULT_COMMONALITY });
    expect(r.items[0]).toMatchObject({ attribute: 'software.TCU', value: PLANTED_TCU, significant: true });
    expect(r.items.some((x) => x.value === LONE_IVI)).toBe(false);
  });

  it('takes an explicit list: unknown keys and other tenants\' vehicles are counted apart, never compared', async () => {
    const list = [...fx.planted, fx.unregistered.get(T)!, fx.vehicles.find((v) => v.tenant === OTHER)!.id, [...fx.planted][1]!];
    const r = await views.commonality({ tenant: T, set: { kind: 'vehicles', vehicles: list }, options: DEFAULT_COMMONALITY });
    expect(r).toMatchObject({ setSize: 40, fleetSize: fleet.length, unknownVehicles: 2 });
    expect(r.items[0]).toMatchObject({ attribute: 'software.TCU', value: PLANTED_TCU, setCount: 40, support: 1, fleetCount: 40, significant: true });
    expect(r.items[0]!.lift).toBeCloseTo(fleet.length / 40, 9);
  });

  it('never counts another tenant\'s rows, and an unknown tenant has none', async () => {
    const r = await views.counts({ tenant: T, of: 'alerts', by: ['make'], range: RANGE, filter: {}, limit: 1000 });
    expect(r.groups.some((g) => g.key['make'] === 'Bait')).toBe(false);
    const top = await views.topVehicles({ tenant: T, by: 'alerts', range: RANGE, filter: {}, limit: 1000 });
    const ours = top.items.find((x) => x.vehicle === twinKey);
    expect(ours?.alerts ?? 0).toBe(alertsOf(RANGE).filter((a) => a.vehicle === twinKey).length);
    expect(ours?.make ?? 'Tesla').not.toBe('Bait');
    const theirs = await views.counts({ tenant: OTHER, of: 'incidents', by: ['make'], range: RANGE, filter: { rule: [EXPLOIT_RULE] }, limit: 1000 });
    expect(theirs.groups.find((g) => g.key['make'] === 'Bait')).toMatchObject({ count: 1, vehicles: 1, fleetVehicles: 1 });
    const none = await views.counts({ tenant: 'nobody', of: 'alerts', by: ['make'], range: RANGE, filter: {}, limit: 10 });
    expect(none).toEqual({ total: { count: 0, vehicles: 0 }, groups: [], truncated: false });
    const nothing = await views.commonality({ tenant: 'nobody', set: { kind: 'alerted', range: RANGE, filter: {} }, options: DEFAULT_COMMONALITY });
    expect(nothing).toMatchObject({ setSize: 0, fleetSize: 0, items: [] });
  });

  it('sees software updates and new vehicles between two queries (the parsed software is kept in step)', async () => {
    const by: Dimension[] = ['software.TCU'];
    const before = await views.counts({ tenant: T, of: 'alerts', by, range: WHOLE, filter: {}, limit: 1000 });
    expect(before.groups.some((g) => g.key['software.TCU'] === 'TCU 99.0-ota')).toBe(false);
    // An OTA update of one alerting vehicle, and a new vehicle without software.
    const updated = fleet.find((v) => fx.alerts.some((a) => a.vehicle === v.id && inRange(a.time, WHOLE)))!;
    await store.upsertVehicles([{ ...updated, software: { ...updated.software, TCU: 'TCU 99.0-ota' } }, { tenant: T, id: 'feedfacecafebeef', make: 'Rivian', signalCount: 0 }]);
    const after = await views.counts({ tenant: T, of: 'alerts', by, range: WHOLE, filter: {}, limit: 1000 });
    const n = fx.alerts.filter((a) => a.tenant === T && a.vehicle === updated.id && inRange(a.time, WHOLE)).length;
    expect(after.groups.find((g) => g.key['software.TCU'] === 'TCU 99.0-ota')).toEqual({ key: { 'software.TCU': 'TCU 99.0-ota' }, count: n, vehicles: 1, fleetVehicles: 1 });
    const old = (r: typeof before) => r.groups.find((g) => g.key['software.TCU'] === updated.software!['TCU'])!;
    expect(old(after)).toMatchObject({ count: old(before).count - n, vehicles: old(before).vehicles - 1, fleetVehicles: old(before).fleetVehicles - 1 });
    const c = await views.commonality({ tenant: T, set: { kind: 'vehicles', vehicles: [updated.id, 'feedfacecafebeef'] }, options: { ...DEFAULT_COMMONALITY, minCount: 1, minSupport: 0 } });
    expect(c).toMatchObject({ setSize: 2, fleetSize: fleet.length + 1 });
    expect(c.items.find((x) => x.value === 'TCU 99.0-ota')).toMatchObject({ setCount: 1, fleetCount: 1 });
    expect(c.items.find((x) => x.value === 'Rivian')).toMatchObject({ attribute: 'make', setCount: 1, fleetCount: 1 });
    // The fleet's count of the version the updated vehicle left went down by one.
    const oldTcu = updated.software!['TCU']!;
    const holder = fleet.find((v) => v.id !== updated.id && v.software?.['TCU'] === oldTcu)!;
    const d = await views.commonality({ tenant: T, set: { kind: 'vehicles', vehicles: [holder.id] }, options: { ...DEFAULT_COMMONALITY, minCount: 1, minSupport: 0 } });
    const holders = fleet.filter((v) => v.id !== updated.id && v.software?.['TCU'] === oldTcu).length;
    expect(d.items.find((x) => x.value === oldTcu)).toMatchObject({ setCount: 1, fleetCount: holders });
  });
});
