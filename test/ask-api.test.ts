/**
 * Asking through the front door: Vigil started with tokens on, a manual clock and an in-memory
 * DuckDB holding a seeded two-tenant fleet; POST /v1/ask (typed queries) and POST /v1/ask/sql
 * called over HTTP with real tokens, answers checked against counts made here from the same rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVigil, type Vigil } from '../src/api/vigil.js';
import { ManualClock } from '../src/core/clock.js';
import { parseConfig } from '../src/runtime/config.js';
import { apiToken, bearer } from './http-helpers.js';
import { DAY, EXPLOIT_RULE, PLANTED_TCU, fleetFixture } from './fleet-fixture.js';

const T = 'acme';
const OTHER = 'globex';
const NOW = Date.UTC(2026, 10, 1, 12);
const clock = new ManualClock(NOW);
const fx = fleetFixture({ seed: 5, vehicles: 1200, tenants: [T, OTHER], noisyShare: 0.2, alertsPerNoisy: 3, planted: 20, end: NOW, days: 60, incidents: false });

let vigil: Vigil;
let viewer: string;
let admin: string;
let analyst: string;
let operator: string;

beforeAll(async () => {
  vigil = await startVigil(parseConfig({
    tenant: T, store: { path: ':memory:' }, http: { port: 0, auth: { enabled: true, adminTokenEnv: 'VIGIL_TEST_UNSET_ADMIN_TOKEN' } },
    runtime: { workers: 1 }, detection: { rules: [] },
  }), { inline: true, clock });
  await vigil.store.upsertVehicles(fx.vehicles);
  await vigil.store.insertAlerts(fx.alerts);
  viewer = await apiToken(vigil, 'viewer', T);
  analyst = await apiToken(vigil, 'analyst', T);
  admin = await apiToken(vigil, 'admin', T);
  operator = await apiToken(vigil);
});
afterAll(async () => vigil?.stop());

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are walked by path in assertions
type Json = any;
async function post(token: string, url: string, body: unknown): Promise<{ status: number; body: Json }> {
  const res = await vigil.http!.inject({ method: 'POST', url, headers: bearer(token), payload: body as object });
  return { status: res.statusCode, body: res.json() };
}

const ours = (a: { tenant: string }): boolean => a.tenant === T;
const last30 = (a: { time: number }): boolean => a.time >= NOW - 30 * DAY && a.time < NOW;

describe('POST /v1/ask with a typed query', () => {
  it('answers with the table, a chart, a summary and the SQL with its parameters', async () => {
    const r = await post(viewer, '/v1/ask', { query: { entity: 'alerts', groupBy: ['rule'], time: { kind: 'relative', last: 30, unit: 'day' } } });
    expect(r.status).toBe(200);
    const want = new Map<string, number>();
    for (const a of fx.alerts.filter(ours).filter(last30)) want.set(a.rule, (want.get(a.rule) ?? 0) + 1);
    expect(new Map(r.body.answer.table.rows.map((x: [string, number]) => [x[0], x[1]]))).toEqual(want);
    expect(r.body.answer.chart.mark).toBe('bar');
    expect(r.body.answer.sql.text).toMatch(/^SELECT [^]*\nFROM alerts e\nWHERE e.tenant = \$1::USMALLINT/);
    expect(r.body.answer.sql.params).toContain(new Date(NOW - 30 * DAY).toISOString());
    expect(r.body.answer.summary).toContain(String(Math.max(...want.values())));
    expect(r.body.by).toBe('query');
  });

  it('answers what the exploit vehicles have in common', async () => {
    const r = await post(analyst, '/v1/ask', { query: { entity: 'alerts', filters: [{ field: 'rule', op: 'eq', value: EXPLOIT_RULE }], analysis: { kind: 'commonality' } } });
    expect(r.status).toBe(200);
    expect(r.body.answer.commonality.items[0]).toMatchObject({ attribute: 'software.TCU', value: PLANTED_TCU, significant: true });
  });

  it('reads only the caller tenant; an operator naming none reads all, naming one reads it', async () => {
    const q = { query: { entity: 'alerts' } };
    expect((await post(viewer, '/v1/ask', q)).body.answer.table.rows).toEqual([[fx.alerts.filter(ours).length]]);
    expect((await post(viewer, `/v1/ask?tenant=${OTHER}`, q)).status).toBe(403);
    expect((await post(operator, '/v1/ask', q)).body.answer.table.rows).toEqual([[fx.alerts.length]]);
    expect((await post(operator, `/v1/ask?tenant=${OTHER}`, q)).body.answer.table.rows).toEqual([[fx.alerts.filter((a) => a.tenant === OTHER).length]]);
  });

  it('names the parts of an invalid query as fields', async () => {
    const r = await post(viewer, '/v1/ask', { query: { entity: 'alerts', groupBy: ['colour'], filters: [{ field: 'severity', op: 'gt', value: 'urgent' }] } });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('InvalidQuery');
    expect(r.body.fields.map((f: { path: string }) => f.path)).toEqual(['/query/filters/0/value', '/query/groupBy/0']);
    expect((await post(viewer, '/v1/ask', { query: { entity: 'alerts' }, question: 'how many alerts' })).status).toBe(400);
  });
});

describe('POST /v1/ask with a question', () => {
  it('is read by the embedded engine into a typed query, and answered with the query shown', async () => {
    const r = await post(viewer, '/v1/ask', { question: 'how many alerts in the last 30 days' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ kind: 'answer', by: 'engine' });
    expect(r.body.answer.query).toMatchObject({ entity: 'alerts', time: { kind: 'relative', last: 30, unit: 'day' } });
    expect(r.body.answer.table.rows).toEqual([[fx.alerts.filter(ours).filter(last30).length]]);
  });

  it('says what it did not understand instead of guessing', async () => {
    const r = await post(viewer, '/v1/ask', { question: 'how many flurbs' });
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ error: 'NotUnderstood', message: expect.stringContaining('"flurbs"') });
  });
});

describe('POST /v1/ask/sql', () => {
  it('is for admins only', async () => {
    expect((await post(analyst, '/v1/ask/sql', { sql: 'SELECT 1' })).status).toBe(403);
    expect((await post(viewer, '/v1/ask/sql', { sql: 'SELECT 1' })).status).toBe(403);
  });

  it("runs a guarded SELECT over the admin's tenant only, and audits it", async () => {
    const r = await post(admin, '/v1/ask/sql', { sql: 'SELECT count(*) AS n, count(DISTINCT tenant) AS tenants FROM alerts' });
    expect(r.status).toBe(200);
    expect(r.body.rows).toEqual([[fx.alerts.filter(ours).length, 1]]);
    expect(r.body.columns.map((c: { name: string }) => c.name)).toEqual(['n', 'tenants']);
    const audit = await vigil.audit.list({ tenant: T, action: 'ask.sql', limit: 5 });
    expect(audit[0]?.details).toMatchObject({ sql: 'SELECT count(*) AS n, count(DISTINCT tenant) AS tenants FROM alerts', outcome: 'ok' });
  });

  it('refuses what the guard refuses, with the reason, and audits the refusal', async () => {
    const r = await post(admin, '/v1/ask/sql', { sql: "SELECT * FROM read_csv('/etc/passwd')" });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: 'RefusedSql', message: 'table function "read_csv" is not allowed' });
    const audit = await vigil.audit.list({ tenant: T, action: 'ask.sql', limit: 1 });
    expect(audit[0]?.details['outcome']).toBe('refused: table function "read_csv" is not allowed');
  });
});
