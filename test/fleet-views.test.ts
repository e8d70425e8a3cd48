/**
 * The fleet views through the front door: Vigil started with tokens on, a manual clock and an
 * in-memory DuckDB holding a seeded two-tenant fleet (test/fleet-fixture.ts; incidents put in
 * through the IncidentStore adapter); every route called over HTTP with a real token, answers
 * checked against counts made here from the same rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBStore } from '../src/adapters/duckdb/duckdb-store.js';
import { DuckDBIncidentStore } from '../src/adapters/duckdb/incident-store.js';
import { startVigil, type Vigil } from '../src/api/vigil.js';
import type { Incident } from '../src/alerts/model.js';
import { ManualClock } from '../src/core/clock.js';
import { parseConfig } from '../src/runtime/config.js';
import { apiToken, bearer } from './http-helpers.js';
import { DAY, EXPLOIT_RULE, LONE_IVI, PLANTED_TCU, fleetFixture } from './fleet-fixture.js';

const T = 'acme';
const OTHER = 'globex';
const NOW = Date.UTC(2026, 10, 1, 12);
const clock = new ManualClock(NOW);
const fx = fleetFixture({ seed: 3, vehicles: 1600, tenants: [T, OTHER], noisyShare: 0.2, alertsPerNoisy: 3, planted: 20, end: NOW, days: 60, incidents: true });

let vigil: Vigil;
let viewer: string;
let operator: string;
let otherViewer: string;

beforeAll(async () => {
  vigil = await startVigil(parseConfig({
    tenant: T, store: { path: ':memory:' }, http: { port: 0, auth: { enabled: true, adminTokenEnv: 'VIGIL_TEST_UNSET_ADMIN_TOKEN' } },
    runtime: { workers: 1 }, detection: { rules: [] },
  }), { inline: true, clock });
  await vigil.store.upsertVehicles(fx.vehicles);
  await vigil.store.insertAlerts(fx.alerts);
  const incidents = new DuckDBIncidentStore((vigil.store as DuckDBStore).connection);
  await incidents.insertIncidents(fx.incidents.map((i): Incident => ({
    tenant: i.tenant, id: i.id, kind: i.kind, groupKey: i.vehicle ?? EXPLOIT_RULE, title: i.id, state: 'new', severity: i.severity, risk: 50, tags: [],
    ...(i.vehicle ? { vehicle: i.vehicle } : {}), rules: i.rules, vehicleCount: new Set(i.alerts.map((a) => a.vehicle)).size, alertCount: i.alerts.length,
    firstAlertAt: i.firstAlertAt, lastAlertAt: i.lastAlertAt, createdAt: i.firstAlertAt, updatedAt: i.lastAlertAt, context: {},
  })));
  for (const i of fx.incidents) await incidents.attachAlerts(i.tenant, i.id, i.alerts, i.lastAlertAt);
  viewer = await apiToken(vigil, 'viewer', T);
  otherViewer = await apiToken(vigil, 'viewer', OTHER);
  operator = await apiToken(vigil);
});
afterAll(async () => vigil?.stop());

interface Answer {
  status: number;
  body: Record<string, unknown> & { fields?: { in: string; path: string; message: string }[] };
}
async function call(token: string | undefined, url: string, body?: unknown): Promise<Answer> {
  const res = await vigil.http!.inject({
    method: body === undefined ? 'GET' : 'POST', url, headers: token ? bearer(token) : {}, ...(body !== undefined ? { payload: body as object } : {}),
  });
  return { status: res.statusCode, body: res.json() };
}

// Expected answers from the rows.
const last30 = { from: NOW - 30 * DAY, to: NOW };
const alertsOf = (tenant: string, r: { from: number; to: number }, rule?: string) =>
  fx.alerts.filter((a) => a.tenant === tenant && a.time >= r.from && a.time < r.to && (rule === undefined || a.rule === rule));
const makeOf = (tenant: string) => new Map(fx.vehicles.filter((v) => v.tenant === tenant).map((v) => [v.id, v.make ?? null]));
function alertsByMake(tenant: string, r: { from: number; to: number }): Map<string | null, number> {
  const makes = makeOf(tenant);
  const out = new Map<string | null, number>();
  for (const a of alertsOf(tenant, r)) {
    const m = a.vehicle === undefined ? null : makes.get(a.vehicle) ?? null;
    out.set(m, (out.get(m) ?? 0) + 1);
  }
  return out;
}

describe('fleet views over HTTP', () => {
  it('counts the last 30 days by default, per group, for the caller\'s tenant', async () => {
    const r = await call(viewer, '/v1/fleet/counts?by=make');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ tenant: T, from: last30.from, to: last30.to, of: 'alerts', by: ['make'], truncated: false });
    const groups = r.body['groups'] as { key: { make: string | null }; count: number; vehicles: number; fleetVehicles: number }[];
    expect(new Map(groups.map((g) => [g.key.make, g.count]))).toEqual(alertsByMake(T, last30));
    expect(r.body['total']).toMatchObject({ count: alertsOf(T, last30).length });
    const fleetFords = fx.vehicles.filter((v) => v.tenant === T && v.make === 'Ford').length;
    expect(groups.find((g) => g.key.make === 'Ford')?.fleetVehicles).toBe(fleetFords);
  });

  it('takes ISO 8601 and epoch-ms times, several dimensions, incidents, filters', async () => {
    const from = new Date(NOW - 60 * DAY).toISOString();
    const r = await call(viewer, `/v1/fleet/counts?of=incidents&by=make,model,year&from=${from}&to=${NOW}&severity=high,critical&rule=${EXPLOIT_RULE}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ from: NOW - 60 * DAY, to: NOW, of: 'incidents', by: ['make', 'model', 'year'] });
    // One campaign incident for the exploit: it counts once in every group it touches.
    const total = r.body['total'] as { count: number; vehicles: number };
    const exploitVehicles = new Set(fx.incidents.filter((i) => i.tenant === T && i.rules.includes(EXPLOIT_RULE)).flatMap((i) => i.alerts.map((a) => a.vehicle)));
    expect(total).toEqual({ count: 1, vehicles: exploitVehicles.size });
    const groups = r.body['groups'] as { count: number }[];
    expect(groups.length).toBeGreaterThan(3);
    expect(groups.every((g) => g.count === 1)).toBe(true);
    const sw = await call(viewer, `/v1/fleet/counts?by=software.TCU&from=2026-09-02&to=${new Date(NOW).toISOString()}`);
    expect(sw.status).toBe(200);
    expect((sw.body['groups'] as { key: Record<string, unknown> }[]).some((g) => g.key['software.TCU'] === PLANTED_TCU)).toBe(true);
  });

  it('answers bad input with 400 and the field at fault', async () => {
    const cases: [string, string, string][] = [
      [`/v1/fleet/counts?from=${NOW}&to=${NOW - 1}`, '/from', 'must be before to'],
      ['/v1/fleet/counts?by=make,colour', '/by', 'unknown dimension "colour"'],
      ['/v1/fleet/counts?by=make,make', '/by', 'named twice'],
      ['/v1/fleet/counts?by=make,model,year,trim,region', '/by', 'at most 4'],
      ['/v1/fleet/counts?by=', '/by', 'at least one dimension'],
      ['/v1/fleet/counts?from=yesterday', '/from', 'is not a time'],
      ['/v1/fleet/counts?to=2026-11-01T10:00', '/to', 'is not a time'],
      ['/v1/fleet/counts?of=signals', '/of', ''],
      ['/v1/fleet/trend?severity=high,urgent', '/severity', 'unknown severity "urgent"'],
      ['/v1/fleet/top?what=drivers', '/what', ''],
      ['/v1/fleet/top?limit=0', '/limit', ''],
      ['/v1/fleet/commonality?minSupport=1.5', '/minSupport', ''],
      ['/v1/fleet/commonality?vehicles=0123456789abcdef,NOPE', '/vehicles', 'not a vehicle key'],
      ['/v1/fleet/commonality?vehicles=0123456789abcdef&rule=x', '/rule', 'not with vehicles'],
      ['/v1/fleet/counts?bogus=1', '', ''],
    ];
    for (const [url, path, message] of cases) {
      const r = await call(viewer, url);
      expect(r.status, url).toBe(400);
      expect(r.body['error'], url).toBe('ValidationError');
      if (path) expect(r.body.fields, url).toContainEqual({ in: 'querystring', path, message: expect.stringContaining(message) });
    }
    const body = await call(viewer, '/v1/fleet/commonality', { vehicles: ['XYZ'] });
    expect(body.status).toBe(400);
    expect(body.body.fields).toContainEqual(expect.objectContaining({ in: 'body', path: '/vehicles/0' }));
    const range = await call(viewer, '/v1/fleet/commonality', { from: NOW, to: NOW - DAY });
    expect(range.body.fields).toContainEqual(expect.objectContaining({ in: 'body', path: '/from' }));
  });

  it('lists the top vehicles and rules', async () => {
    const r = await call(viewer, '/v1/fleet/top?what=vehicles&by=alerts&limit=5');
    expect(r.status).toBe(200);
    const items = r.body['items'] as { vehicle: string; alerts: number; make: string }[];
    expect(items).toHaveLength(5);
    expect(r.body['truncated']).toBe(true);
    const perVehicle = new Map<string, number>();
    for (const a of alertsOf(T, last30)) if (a.vehicle) perVehicle.set(a.vehicle, (perVehicle.get(a.vehicle) ?? 0) + 1);
    const most = Math.max(...perVehicle.values());
    expect(items[0]!.alerts).toBe(most);
    expect(items[0]!.make).toBe(makeOf(T).get(items[0]!.vehicle));
    const rules = await call(viewer, '/v1/fleet/top?what=rules&by=incidents&limit=100');
    const list = rules.body['items'] as { rule: string; alerts: number }[];
    expect(list.find((x) => x.rule === EXPLOIT_RULE)?.alerts).toBe(alertsOf(T, last30, EXPLOIT_RULE).length);
  });

  it('compares with the previous 30 days', async () => {
    const r = await call(viewer, '/v1/fleet/trend?by=make&sort=change');
    expect(r.status).toBe(200);
    const before = { from: NOW - 60 * DAY, to: NOW - 30 * DAY };
    const now = alertsOf(T, last30).length;
    const prev = alertsOf(T, before).length;
    expect(r.body).toMatchObject({ previous: before, total: { key: {}, now, before: prev, change: now - prev } });
    const groups = r.body['groups'] as { key: { make: string | null }; now: number; before: number }[];
    const nowByMake = alertsByMake(T, last30);
    const beforeByMake = alertsByMake(T, before);
    for (const g of groups) expect([g.now, g.before]).toEqual([nowByMake.get(g.key.make) ?? 0, beforeByMake.get(g.key.make) ?? 0]);
  });

  it('finds the planted software in common among the vehicles that alerted on a rule, not the one-vehicle value', async () => {
    const r = await call(viewer, `/v1/fleet/commonality?rule=${EXPLOIT_RULE}&from=${NOW - 60 * DAY}&minSupport=0`);
    expect(r.status).toBe(200);
    const items = r.body['items'] as { attribute: string; value: string | number; significant: boolean; lift: number }[];
    expect(items[0]).toMatchObject({ attribute: 'software.TCU', value: PLANTED_TCU, significant: true });
    expect(items.find((x) => x.value === LONE_IVI)).toMatchObject({ significant: false });
    expect(r.body['set']).toEqual({ kind: 'alerted', from: NOW - 60 * DAY, to: NOW, severity: [], rule: [EXPLOIT_RULE] });
  });

  it('takes a large vehicle list by POST; keys not in the fleet are counted apart', async () => {
    const unknown = Array.from({ length: 20_000 }, (_, i) => (0x1000000000000n + BigInt(i) * 7919n).toString(16).padStart(16, '0'));
    const planted = [...fx.planted];
    const r = await call(viewer, '/v1/fleet/commonality', { vehicles: [...planted, ...unknown], minCount: 5 });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ setSize: planted.length, unknownVehicles: unknown.length, set: { kind: 'vehicles', listed: planted.length + unknown.length } });
    expect((r.body['items'] as unknown[])[0]).toMatchObject({ attribute: 'software.TCU', value: PLANTED_TCU, support: 1, significant: true });
    const get = await call(viewer, `/v1/fleet/commonality?vehicles=${planted.join(',')}`);
    expect(get.body['setSize']).toBe(planted.length);
  });

  it('keeps every tenant to its own rows', async () => {
    expect((await call(undefined, '/v1/fleet/counts')).status).toBe(401);
    expect((await call(viewer, `/v1/fleet/counts?tenant=${OTHER}`)).status).toBe(403);
    const theirs = await call(otherViewer, '/v1/fleet/trend');
    expect(theirs.body).toMatchObject({ tenant: OTHER, total: { now: alertsOf(OTHER, last30).length } });
    const asOperator = await call(operator, `/v1/fleet/counts?by=make&tenant=${OTHER}`);
    expect(asOperator.body['tenant']).toBe(OTHER);
    const groups = asOperator.body['groups'] as { key: { make: string | null }; count: number }[];
    expect(new Map(groups.map((g) => [g.key.make, g.count]))).toEqual(alertsByMake(OTHER, last30));
    // Our planted vehicles are not theirs: a list of them is all unknown to the other tenant.
    const list = await call(otherViewer, '/v1/fleet/commonality', { vehicles: [...fx.planted] });
    expect(list.body).toMatchObject({ setSize: 0, unknownVehicles: fx.planted.size, items: [] });
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await vigil.http!.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, { parameters?: { name: string }[] }>> };
    expect(Object.keys(doc.paths['/v1/fleet/commonality']!).sort()).toEqual(['get', 'post']);
    for (const p of ['/v1/fleet/counts', '/v1/fleet/top', '/v1/fleet/trend']) expect(doc.paths[p]?.['get']).toBeDefined();
    expect(doc.paths['/v1/fleet/counts']!['get']!.parameters!.map((x) => x.name)).toEqual(expect.arrayContaining(['of', 'by', 'from', 'to', 'severity', 'rule', 'limit']));
  });
});
