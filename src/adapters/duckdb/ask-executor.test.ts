/**
 * Asked queries on a real DuckDB holding a seeded fleet of two tenants (the simulator's fleet
 * generator through test/fleet-fixture.ts): every compiled query's answer is compared with the
 * same question computed in plain JS over the same generated rows; tenant isolation (compiled and
 * raw SQL); row and time limits; and the store keeps working under the locked configuration.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hypergeometricTail } from '../../alerts/fleet.js';
import { askQuery, askSql } from '../../ask/ask.js';
import { compileQuery } from '../../ask/compile.js';
import { askQuestion } from '../../ask/question.js';
import { parseTypedQuery } from '../../ask/query.js';
import type { Answer } from '../../ask/answer.js';
import type { TypedQueryInput } from '../../ask/query.js';
import { QueryError, validateQuery } from '../../ask/validate.js';
import { GuardError } from '../../ask/guard.js';
import { AskTimeoutError, DEFAULT_LIMITS } from '../../ask/port.js';
import { ManualClock } from '../../core/clock.js';
import type { Alert, Severity, VehicleRecord } from '../../core/records.js';
import { DAY, EXPLOIT_RULE, PLANTED_TCU, fleetFixture, insertIncidents } from '../../../test/fleet-fixture.js';
import { DuckDBAskExecutor } from './ask-executor.js';
import { DuckDBAskValues } from './ask-vocabulary.js';
import { DuckDBStore } from './duckdb-store.js';

const T = 'acme';
const OTHER = 'globex';
const END = Date.UTC(2026, 10, 1);
const clock = new ManualClock(END);
const fx = fleetFixture({ seed: 7, vehicles: 2000, tenants: [T, OTHER], noisyShare: 0.25, alertsPerNoisy: 3, planted: 30, end: END, days: 60, incidents: true });

// The other tenant registers a vehicle under one of our keys, with other attributes, and alerts on it.
const twin = [...fx.planted][0]!;
const bait: VehicleRecord = { tenant: OTHER, id: twin, make: 'Bait', model: 'Bait', year: 1999, trim: 'x', region: 'mars', software: { TCU: PLANTED_TCU }, signalCount: 0 };
const baitAlerts: Alert[] = Array.from({ length: 40 }, (_, i) => ({
  id: `bait-${i}`, tenant: OTHER, vehicle: twin, time: END - 5 * DAY + i * 1000, detectedAt: END - 5 * DAY + i * 1000,
  rule: EXPLOIT_RULE, title: 'bait', severity: 'critical', tags: ['bait'], details: {},
}));

let store: DuckDBStore;
let exec: DuckDBAskExecutor;

beforeAll(async () => {
  store = await DuckDBStore.open({ path: ':memory:' });
  await store.upsertVehicles([...fx.vehicles, bait]);
  await store.insertAlerts([...fx.alerts, ...baitAlerts]);
  await insertIncidents(store.connection, fx.incidents);
  exec = await DuckDBAskExecutor.open(store.connection);
});
afterAll(async () => {
  await exec?.close();
  await store?.close();
});

/** `'*'`: every tenant (an operator naming none). */
const ask = (q: TypedQueryInput, tenant = T): Promise<Answer> => askQuery(exec, q, { tenant: tenant === '*' ? undefined : tenant, clock });
const col = (a: Answer, name: string): number => a.table.columns.findIndex((c) => c.name === name);
const rowsAsObjects = (a: Answer): Record<string, unknown>[] =>
  a.table.rows.map((r) => Object.fromEntries(a.table.columns.map((c, i) => [c.name, r[i]])));

const ours = fx.vehicles.filter((v) => v.tenant === T);
const byKey = new Map(ours.map((v) => [v.id, v]));
const ourAlerts = fx.alerts.filter((a) => a.tenant === T);
const RANK: Record<Severity, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };
const last = (days: number) => (a: Alert): boolean => a.time >= END - days * DAY && a.time < END;

describe('compiled queries agree with the same question computed in JS', () => {
  it('counts alerts of the last 30 days', async () => {
    const a = await ask({ entity: 'alerts', time: { kind: 'relative', last: 30, unit: 'day' } });
    expect(a.table.rows).toEqual([[ourAlerts.filter(last(30)).length]]);
    expect(a.summary).toContain(ourAlerts.filter(last(30)).length.toLocaleString('en-US'));
    expect(a.sql.text).toContain('LIMIT');
  });

  it('groups alerts by make, model and year with distinct vehicles (the issue\'s question)', async () => {
    const a = await ask({
      entity: 'alerts', measures: [{ fn: 'count' }, { fn: 'count_distinct', field: 'vehicle' }],
      groupBy: ['vehicle.make', 'vehicle.model', 'vehicle.year'], time: { kind: 'relative', last: 30, unit: 'day' }, limit: 10_000,
    });
    const want = new Map<string, { count: number; vehicles: Set<string> }>();
    for (const al of ourAlerts.filter(last(30))) {
      const v = al.vehicle ? byKey.get(al.vehicle) : undefined;
      const k = JSON.stringify([v?.make ?? null, v?.model ?? null, v?.year ?? null]);
      const g = want.get(k) ?? { count: 0, vehicles: new Set() };
      g.count++;
      if (al.vehicle) g.vehicles.add(al.vehicle);
      want.set(k, g);
    }
    const got = new Map(rowsAsObjects(a).map((r) => [JSON.stringify([r['vehicle.make'], r['vehicle.model'], r['vehicle.year']]), { count: r['count'], vehicles: r['count_distinct_vehicle'] }]));
    expect(got).toEqual(new Map([...want].map(([k, g]) => [k, { count: g.count, vehicles: g.vehicles.size }])));
    // Largest first.
    const counts = a.table.rows.map((r) => r[col(a, 'count')] as number);
    expect(counts).toEqual([...counts].sort((x, y) => y - x));
    expect(a.chart).toBeUndefined(); // three group-by fields: no chart
  });

  it('filters by ordered severity, a rule list and a vehicle software version', async () => {
    const a = await ask({
      entity: 'alerts', measures: [{ fn: 'count' }],
      filters: [
        { field: 'severity', op: 'gte', value: 'high' },
        { field: 'rule', op: 'in', value: [EXPLOIT_RULE, 'ota-hash-mismatch'] },
        { field: 'vehicle.software.TCU', op: 'eq', value: PLANTED_TCU },
      ],
    });
    const want = ourAlerts.filter((al) => RANK[al.severity] >= RANK.high && [EXPLOIT_RULE, 'ota-hash-mismatch'].includes(al.rule) &&
      al.vehicle !== undefined && byKey.get(al.vehicle)?.software?.['TCU'] === PLANTED_TCU).length;
    expect(want).toBeGreaterThan(10);
    expect(a.table.rows).toEqual([[want]]);
  });

  it('folds alerts per vehicle before the join and still filters on alert and vehicle fields alike', async () => {
    const a = await ask({
      entity: 'alerts', measures: [{ fn: 'count_distinct', field: 'vehicle' }, { fn: 'count' }], groupBy: ['vehicle.region'],
      filters: [{ field: 'severity', op: 'gte', value: 'high' }, { field: 'vehicle.make', op: 'ne', value: ours[0]!.make! }],
    });
    expect(a.sql.text).toMatch(/^WITH a AS \(SELECT e\.tenant, e\.vehicle, count\(\*\) AS n FROM alerts e/);
    const want = new Map<unknown, { n: number; v: Set<string> }>();
    for (const al of ourAlerts.filter((x) => RANK[x.severity] >= RANK.high)) {
      const v = al.vehicle ? byKey.get(al.vehicle) : undefined;
      // vehicle.make <> X is false for alerts without a (registered) vehicle, as in SQL.
      if (!v || v.make === ours[0]!.make) continue;
      const g = want.get(v.region ?? null) ?? { n: 0, v: new Set<string>() };
      g.n++;
      g.v.add(al.vehicle!);
      want.set(v.region ?? null, g);
    }
    expect(new Map(rowsAsObjects(a).map((r) => [r['vehicle.region'], [r['count_distinct_vehicle'], r['count']]])))
      .toEqual(new Map([...want].map(([k, g]) => [k, [g.v.size, g.n]])));
  });

  it('tops rules by count with a bar chart', async () => {
    const a = await ask({ entity: 'alerts', groupBy: ['rule'], analysis: { kind: 'top', n: 3 } });
    const counts = new Map<string, number>();
    for (const al of ourAlerts) counts.set(al.rule, (counts.get(al.rule) ?? 0) + 1);
    const want = [...counts].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).slice(0, 3);
    expect(a.table.rows.map((r) => [r[0], r[1]])).toEqual(want);
    expect(a.chart).toMatchObject({ mark: 'bar', encoding: { x: { field: 'rule' }, y: { field: 'count' } } });
  });

  it('trends alerts per week with a line chart', async () => {
    const a = await ask({ entity: 'alerts', analysis: { kind: 'trend', bucket: 'week' }, time: { kind: 'relative', last: 28, unit: 'day' } });
    const weekStart = (t: number): number => {
      const d = new Date(t);
      const midnight = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
      return midnight - ((d.getUTCDay() + 6) % 7) * DAY;
    };
    const want = new Map<number, number>();
    for (const al of ourAlerts.filter(last(28))) want.set(weekStart(al.time), (want.get(weekStart(al.time)) ?? 0) + 1);
    expect(a.table.rows).toEqual([...want].sort((x, y) => x[0] - y[0]));
    expect(a.chart?.mark).toBe('line');
  });

  it('compares two periods', async () => {
    const a = await ask({
      entity: 'alerts', groupBy: ['severity'],
      analysis: { kind: 'comparison', a: { label: 'previous 30 days', time: { kind: 'absolute', from: END - 60 * DAY, to: END - 30 * DAY } }, b: { label: 'last 30 days', time: { kind: 'relative', last: 30, unit: 'day' } } },
    });
    for (const r of rowsAsObjects(a)) {
      const sev = r['severity'];
      const inA = ourAlerts.filter((al) => al.severity === sev && al.time >= END - 60 * DAY && al.time < END - 30 * DAY).length;
      const inB = ourAlerts.filter((al) => al.severity === sev && last(30)(al)).length;
      expect([r['count_a'], r['count_b'], r['change_count']]).toEqual([inA, inB, inB - inA]);
    }
    expect(a.table.rows.length).toBe(new Set(ourAlerts.map((al) => al.severity)).size);
  });

  it('asked in words, "this month vs last month" gives the change this month - last month (either word order)', async () => {
    const now = Date.UTC(2026, 9, 20, 12); // 20 October: this month 1-20 October, last month September
    const values = new DuckDBAskValues(store.connection);
    const thisMonth = ourAlerts.filter((al) => al.time >= Date.UTC(2026, 9, 1) && al.time < now).length;
    const lastMonth = ourAlerts.filter((al) => al.time >= Date.UTC(2026, 8, 1) && al.time < Date.UTC(2026, 9, 1)).length;
    expect(thisMonth).not.toBe(lastMonth);
    for (const question of ['alerts this month vs last month', 'alerts last month compared to this month']) {
      const r = await askQuestion(question, { tenant: T, executor: exec, values, clock: new ManualClock(now) });
      if (r.kind !== 'answer') throw new Error(`${question}: ${JSON.stringify(r)}`);
      const row = rowsAsObjects(r.answer)[0]!;
      expect([row['count_a'], row['count_b'], row['change_count']]).toEqual([lastMonth, thisMonth, thisMonth - lastMonth]);
      expect(r.answer.summary).toContain(`Change: ${(thisMonth - lastMonth).toLocaleString('en-US')}`);
    }
  });

  it('writes years and other group values without thousands separators in the summary', async () => {
    const a = await ask({ entity: 'vehicles', groupBy: ['year'], order: [{ by: 'year', dir: 'asc' }] });
    const first = rowsAsObjects(a)[0]!;
    expect(a.summary).toContain(`${String(first['year'])} (count ${Number(first['count']).toLocaleString('en-US')})`);
    expect(a.summary).not.toMatch(/\b20,\d\d\d\b/);
  });

  it('counts incidents per state and the average risk, joined to vehicles', async () => {
    const a = await ask({ entity: 'incidents', measures: [{ fn: 'count' }, { fn: 'avg', field: 'risk' }], groupBy: ['kind', 'vehicle.make'], limit: 1000 });
    const want = new Map<string, number>();
    for (const i of fx.incidents.filter((x) => x.tenant === T)) {
      const k = JSON.stringify([i.kind, i.vehicle ? byKey.get(i.vehicle)?.make ?? null : null]);
      want.set(k, (want.get(k) ?? 0) + 1);
    }
    const got = new Map(rowsAsObjects(a).map((r) => [JSON.stringify([r['kind'], r['vehicle.make']]), r['count']]));
    expect(got).toEqual(want);
    expect(rowsAsObjects(a).every((r) => r['avg_risk'] === 50)).toBe(true);
  });

  it('lists vehicles of one make with their keys', async () => {
    const make = ours[0]!.make!;
    const a = await ask({ entity: 'vehicles', measures: [], filters: [{ field: 'make', op: 'eq', value: make }], limit: 10_000 });
    const keys = a.table.rows.map((r) => r[col(a, 'vehicle')]).sort();
    expect(keys).toEqual(ours.filter((v) => v.make === make).map((v) => v.id).sort());
  });

  it('finds what the alerting vehicles have in common: the planted TCU software', async () => {
    const a = await ask({
      entity: 'alerts', measures: [{ fn: 'count_distinct', field: 'vehicle' }],
      filters: [{ field: 'rule', op: 'eq', value: EXPLOIT_RULE }], analysis: { kind: 'commonality' },
    });
    const set = new Set(ourAlerts.filter((al) => al.rule === EXPLOIT_RULE && al.vehicle !== undefined).map((al) => al.vehicle!));
    const inFleet = [...set].filter((k) => byKey.has(k));
    const c = a.commonality!;
    expect([c.setSize, c.fleetSize, c.unknownVehicles]).toEqual([inFleet.length, ours.length, set.size - inFleet.length]);
    const top = c.items[0]!;
    expect([top.attribute, top.value, top.significant]).toEqual(['software.TCU', PLANTED_TCU, true]);
    const k = inFleet.filter((id) => byKey.get(id)!.software?.['TCU'] === PLANTED_TCU).length;
    const K = ours.filter((v) => v.software?.['TCU'] === PLANTED_TCU).length;
    expect([top.setCount, top.fleetCount]).toEqual([k, K]);
    expect(top.pValue).toBeCloseTo(hypergeometricTail(ours.length, K, inFleet.length, k), 12);
    expect(a.summary).toContain(`software.TCU = ${PLANTED_TCU}`);
  });

  it("commonality's parts over the packed attribute codes count what the single JSON-unpacking statement counts, for every entity, an operator's scope and after a vehicle changes", async () => {
    const check = async (tenant: string | undefined, input: TypedQueryInput): Promise<void> => {
      const parsed = parseTypedQuery(input);
      if ('problems' in parsed) throw new Error(parsed.problems.join());
      const scope = await exec.scope(tenant);
      const c = compileQuery(parsed.query, validateQuery(parsed.query), { scope, now: END });
      const limits = { ...DEFAULT_LIMITS, maxRows: 1_000_000 };
      const single = (await exec.run(c.commonality!, scope, limits)).rows;
      const set = (await exec.run(c.commonalityParts!.set, scope, limits)).rows;
      const fleet = (await exec.run(c.commonalityParts!.fleet, scope, limits)).rows;
      const key = (r: readonly unknown[]): string => `${String(r[0])}=${String(r[1])}`;
      const setTotals = set.find((r) => r[0] === null)!;
      const fleetTotals = fleet.find((r) => r[0] === null)!;
      const fromParts = fleet.filter((r) => r[0] !== null).map((r) => [r[0], r[1], r[2], set.find((x) => x[0] !== null && key(x) === key(r))?.[2] ?? 0, fleetTotals[2], setTotals[3], setTotals[4]]);
      expect(fromParts.sort((a, b) => key(a).localeCompare(key(b)))).toEqual([...single].sort((a, b) => key(a).localeCompare(key(b))));
      expect(single.length).toBeGreaterThan(10);
    };
    const cases: [string | undefined, TypedQueryInput][] = [
      [T, { entity: 'alerts', filters: [{ field: 'rule', op: 'eq', value: EXPLOIT_RULE }], analysis: { kind: 'commonality' } }],
      [T, { entity: 'alerts', filters: [{ field: 'vehicle.make', op: 'eq', value: ours[0]!.make! }], analysis: { kind: 'commonality' } }],
      [T, { entity: 'vehicles', filters: [{ field: 'year', op: 'gte', value: 2022 }], analysis: { kind: 'commonality' } }],
      [T, { entity: 'incidents', analysis: { kind: 'commonality' } }],
      [undefined, { entity: 'alerts', filters: [{ field: 'severity', op: 'eq', value: 'critical' }], analysis: { kind: 'commonality' } }],
    ];
    for (const [tenant, q] of cases) await check(tenant, q);
    const other = ours.find((v) => v.software?.['TCU'] !== PLANTED_TCU)!;
    await store.upsertVehicles([{ ...other, region: 'nowhere', software: { ...other.software, TCU: PLANTED_TCU, NEW: '1.0' } }]);
    try {
      for (const [tenant, q] of cases) await check(tenant, q);
    } finally {
      await store.upsertVehicles([other]);
    }
    for (const [tenant, q] of cases) await check(tenant, q);
  });

  it("keeps commonality's fleet side only while the fleet is unchanged", async () => {
    const q: TypedQueryInput = { entity: 'alerts', filters: [{ field: 'rule', op: 'eq', value: EXPLOIT_RULE }], analysis: { kind: 'commonality' } };
    const tcu = (x: Answer) => x.commonality!.items.find((i) => i.attribute === 'software.TCU' && i.value === PLANTED_TCU)!;
    const before = tcu(await ask(q));
    const again = await ask(q);
    expect(tcu(again).fleetCount).toBe(before.fleetCount);
    const other = ours.find((v) => v.software?.['TCU'] !== PLANTED_TCU)!;
    await store.upsertVehicles([{ ...other, software: { ...other.software, TCU: PLANTED_TCU } }]);
    try {
      expect(tcu(await ask(q)).fleetCount).toBe(before.fleetCount + 1);
    } finally {
      await store.upsertVehicles([other]);
    }
    expect(tcu(await ask(q)).fleetCount).toBe(before.fleetCount);
  });
});

describe('intel: exposures and vulnerabilities', () => {
  it('counts exposed vehicles through SBOMs bound to an ECU version (and a model), with the vulnerability joined', async () => {
    const withTcu = ours.find((v) => v.software?.['TCU'] && v.software['TCU'] !== PLANTED_TCU)!;
    const tcu = withTcu.software!['TCU']!;
    const withIvi = ours.find((v) => v.software?.['IVI'])!;
    const ivi = withIvi.software!['IVI']!;
    const db = store.connection;
    await db.exclusive(async () => {
      await db.run(`INSERT INTO intel_vulnerabilities VALUES ('CVE-2099-0001', 't', now(), now(), 9.8, 'CRITICAL', NULL, 0.5, 0.9, true, false, '{}', now(), now()),
        ('CVE-2099-0002', 't', now(), now(), 5.0, 'MEDIUM', NULL, 0.1, 0.2, false, false, '{}', now(), now())`);
      const sbom = (id: string, tenant: string, ecuKey: string, version: string, modelKey: string | null): Promise<number> =>
        db.run(`INSERT INTO intel_sboms VALUES (?, ?, 'd', 'cyclonedx', '1.5', NULL, NULL, ?, ?, ?, NULL, ?, NULL, 1, '[]', '{}', 'test', now())`, [tenant, id, ecuKey.toUpperCase(), ecuKey, version, modelKey]);
      await sbom('s1', T, 'tcu', tcu, null);
      await sbom('s2', T, 'ivi', ivi, withIvi.model!.toLowerCase());
      await sbom('s1', OTHER, 'tcu', tcu, null);
      const match = (tenant: string, vuln: string, sb: string, result: string): Promise<number> =>
        db.run(`INSERT INTO intel_matches VALUES (?, ?, ?, 'c', 'pkg:generic/lib@1', ?, ?, 'cpe', 0.9, 'r', NULL, NULL, now())`, [tenant, vuln, sb, result, result]);
      await match(T, 'CVE-2099-0001', 's1', 'affected');
      await match(T, 'CVE-2099-0002', 's2', 'affected');
      await match(OTHER, 'CVE-2099-0001', 's1', 'affected');
    });
    const a = await ask({ entity: 'exposures', measures: [{ fn: 'count_distinct', field: 'vehicle' }], groupBy: ['vulnerability'], filters: [{ field: 'result', op: 'eq', value: 'affected' }] });
    const want1 = ours.filter((v) => v.software?.['TCU'] === tcu).length;
    const want2 = ours.filter((v) => v.software?.['IVI'] === ivi && v.model === withIvi.model).length;
    expect(new Map(rowsAsObjects(a).map((r) => [r['vulnerability'], r['count_distinct_vehicle']]))).toEqual(new Map([['CVE-2099-0001', want1], ['CVE-2099-0002', want2]]));
    const kev = await ask({ entity: 'exposures', measures: [{ fn: 'count_distinct', field: 'vehicle' }], filters: [{ field: 'vulnerability.kev', op: 'eq', value: true }] });
    expect(kev.table.rows).toEqual([[want1]]);
    const vulns = await ask({ entity: 'vulnerabilities', filters: [{ field: 'cvss', op: 'gte', value: 9 }] });
    expect(vulns.table.rows).toEqual([[1]]);
  });
});

describe('tenant isolation', () => {
  it("never counts another tenant's rows, even for a vehicle key both tenants use", async () => {
    const a = await ask({ entity: 'alerts', filters: [{ field: 'vehicle', op: 'eq', value: twin }] });
    expect(a.table.rows).toEqual([[ourAlerts.filter((al) => al.vehicle === twin).length]]);
    const b = await ask({ entity: 'alerts', filters: [{ field: 'vehicle', op: 'eq', value: twin }] }, OTHER);
    expect(b.table.rows).toEqual([[baitAlerts.length]]);
    const makes = await ask({ entity: 'alerts', groupBy: ['vehicle.make'], filters: [{ field: 'tags', op: 'has', value: 'bait' }] });
    expect(makes.table.rows).toEqual([]);
  });

  it('raw SQL sees only its tenant whatever it asks for', async () => {
    const r = await askSql(exec, 'SELECT count(*) AS n, count(DISTINCT tenant) AS t FROM alerts', { tenant: T });
    expect(r.rows).toEqual([[ourAlerts.length, 1]]);
    const names = await askSql(exec, 'SELECT name FROM tenants', { tenant: T });
    expect(names.rows).toEqual([[T]]);
    const inc = await askSql(exec, "SELECT count(*) FROM incidents WHERE tenant <> 'acme'", { tenant: T });
    expect(inc.rows).toEqual([[0]]);
    // The packed attribute views too: the bait vehicle's make is the other tenant's only.
    const packed = await askSql(exec, `SELECT (SELECT count(*) FROM vehicle_attribute_codes), (SELECT count(DISTINCT tenant) FROM attribute_codes),
      (SELECT count(*) FROM attribute_codes WHERE value = 'Bait'), (SELECT count(DISTINCT tenant) FROM vehicle_value_counts)`, { tenant: T });
    expect(packed.rows).toEqual([[ours.length, 1, 0, 1]]);
  });

  it('an unknown tenant sees nothing; an operator without a tenant sees all', async () => {
    expect((await ask({ entity: 'alerts' }, 'nobody')).table.rows).toEqual([[0]]);
    expect((await askSql(exec, 'SELECT count(*) FROM vehicles', { tenant: 'nobody' })).rows).toEqual([[0]]);
    expect((await ask({ entity: 'alerts' }, '*')).table.rows).toEqual([[fx.alerts.length + baitAlerts.length]]);
  });
});

describe('limits and errors', () => {
  it('cuts raw SQL at the row limit and says so', async () => {
    const r = await askSql(exec, 'SELECT id FROM alerts;', { tenant: T, limits: { maxRows: 7, timeoutMs: 5000 } });
    expect(r.rows.length).toBe(7);
    expect(r.truncated).toBe(true);
    expect(r.sql).toMatch(/LIMIT 8$/);
  });

  it('cuts compiled queries at their limit', async () => {
    const a = await ask({ entity: 'alerts', measures: [], limit: 5 });
    expect(a.table.rows.length).toBe(5);
    expect(a.table.truncated).toBe(true);
  });

  it('interrupts a query at the time limit, and the connection works afterwards', async () => {
    const slow = 'SELECT count(*) FROM alerts a, alerts b, alerts c WHERE a.id < b.id AND b.id < c.id';
    await expect(askSql(exec, slow, { tenant: T, limits: { maxRows: 10, timeoutMs: 150 } })).rejects.toBeInstanceOf(AskTimeoutError);
    expect((await askSql(exec, 'SELECT 1 AS one', { tenant: T })).rows).toEqual([[1]]);
  });

  it('names the part of an invalid query', async () => {
    const err = await ask({ entity: 'alerts', groupBy: ['ts', 'colour'], filters: [{ field: 'severity', op: 'contains', value: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryError);
    expect((err as QueryError).problems.map((p) => p.part)).toEqual(['filters[0].op', 'groupBy[0]', 'groupBy[1]']);
  });

  it('refuses a write through raw SQL with the reason', async () => {
    await expect(askSql(exec, 'DELETE FROM alerts', { tenant: T })).rejects.toThrow(GuardError);
    expect((await askSql(exec, 'SELECT count(*) FROM alerts', { tenant: T })).rows).toEqual([[ourAlerts.length]]);
  });
});

describe('the store under the locked configuration', () => {
  it('keeps writing, and file access is off for everyone', async () => {
    await store.insertAlerts([{ id: 'late-1', tenant: T, time: END - DAY, detectedAt: END - DAY, rule: 'r', title: 't', severity: 'low', tags: [], details: {} }]);
    await store.upsertVehicles([{ tenant: T, id: 'ffffffffffffff00', make: 'New', signalCount: 0 }]);
    await expect(store.connection.exclusive(() => store.connection.all("SELECT * FROM read_csv('/etc/passwd')"))).rejects.toThrow(/disabled by configuration/);
    await expect(store.connection.exclusive(() => store.connection.run('SET enable_external_access = true'))).rejects.toThrow(/locked/);
    expect((await askSql(exec, "SELECT count(*) FROM alerts WHERE id = 'late-1'", { tenant: T })).rows).toEqual([[1]]);
  });
});
