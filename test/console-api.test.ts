/**
 * The API the web console's pages stand on, through a running Vigil on a DuckDB file:
 * the alert list sorted server-side with stable pages, the overview's timeline over every stored
 * alert and incident (not a sample), the moves the workflow allows carried with each incident,
 * and switching a rule of the built-in pack off and on for one tenant (its alerts stop for that
 * tenant only, the switch is audited, survives a restart and a later verdict's tuning).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startVigil, type Vigil } from '../src/api/vigil.js';
import { SEVERITIES } from '../src/core/records.js';
import { makeVin } from '../src/normalize/vin.js';
import { parseConfig } from '../src/runtime/config.js';
import { apiToken, bearer } from './http-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-console-api-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const config = parseConfig({ tenant: 'a', dataDir: dir, http: { port: 0, auth: { adminTokenEnv: 'VIGIL_TEST_UNSET_ADMIN_TOKEN' } }, runtime: { workers: 1 } });
const vin = (i: number) => makeVin({ wmi: 'YV1', vds: 'MV39H', year: 2017, plant: 'G' }, i);
const RULE = 'odometer.rollback';
const FOUR = ['low', 'medium', 'high', 'critical'] as const;
let seq = 0;

async function call<T = Record<string, unknown>>(v: Vigil, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${v.url}${path}`, { method, headers: { ...bearer(token), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, body: (await res.json()) as T };
}

/** An odometer rollback of vehicle `i` in `tenant`, through the pipeline; waits until decided. */
async function rollback(v: Vigil, tenant: string, i: number): Promise<void> {
  const t = Date.now() - 60_000 + (seq += 2000);
  const lines = [{ vin: vin(i), ts: t, seq, signals: { 'Vehicle.TraveledDistance': 120_000 } }, { vin: vin(i), ts: t + 1000, seq: seq + 1, signals: { 'Vehicle.TraveledDistance': 90_000 } }];
  for (const l of lines) await v.pipeline.push({ kind: 'signals', tenant, source: 'test', receivedAt: Date.now(), payload: JSON.stringify(l) });
  await v.pipeline.drain();
  await v.alerts.idle();
}

const rollbacks = async (v: Vigil, tenant: string): Promise<number> => (await v.store.listAlerts({ tenant, limit: 1000 })).filter((a) => a.rule === RULE).length;

describe('the console API', () => {
  it('sorts the alert list server-side by an allowed column, with stable offset pages', async () => {
    const v = await startVigil(config);
    try {
      const op = await apiToken(v);
      const t0 = Date.now() - 3_600_000;
      // 250 alerts; severities and rules repeat, so the order within a tie is the tie-break's.
      const body = Array.from({ length: 250 }, (_, i) => JSON.stringify({ id: `s-${i}`, time: t0 + i * 1000, rule: `r.${i % 7}`, title: `alert ${i}`, severity: FOUR[i % 4] })).join('\n');
      const imp = await fetch(`${v.url}/v1/alerts/import?tenant=sorted`, { method: 'POST', headers: { ...bearer(op), 'content-type': 'application/x-ndjson' }, body });
      expect(imp.status, await imp.text()).toBe(200);
      type Page = { items: { id: string; time: number; severity: string; rule: string }[]; total: number };
      const all = async (sort: string) => {
        const out: Page['items'] = [];
        for (let offset = 0; offset < 250; offset += 60) out.push(...(await call<Page>(v, op, 'GET', `/v1/alerts?tenant=sorted&sort=${sort}&limit=60&offset=${offset}`)).body.items);
        return out;
      };
      const bySeverity = await all('-severity');
      expect(bySeverity.length).toBe(250);
      expect(new Set(bySeverity.map((a) => a.id)).size, 'pages neither repeat nor skip').toBe(250);
      expect(bySeverity.slice(0, 62).every((a) => a.severity === 'critical')).toBe(true);
      expect(bySeverity.at(-1)!.severity).toBe('low');
      // Ties newest first.
      const crit = bySeverity.filter((a) => a.severity === 'critical').map((a) => a.time);
      expect(crit).toEqual([...crit].sort((x, y) => y - x));
      const byRule = await all('rule');
      expect(byRule.map((a) => a.rule)).toEqual([...byRule.map((a) => a.rule)].sort());
      const oldest = await all('time');
      expect(oldest[0]!.id).toBe('s-0');
      expect((await call(v, op, 'GET', '/v1/alerts?tenant=sorted&sort=title')).status, 'an unlisted column').toBe(400);

      // The timeline counts every stored alert, bucketed, by severity.
      type Timeline = { from: number; to: number; bucketMs: number; buckets: (Record<string, number> & { start: number; incidents: number })[]; bySeverity: Record<string, number> };
      const tl = (await call<Timeline>(v, op, 'GET', `/v1/alerts/timeline?tenant=sorted&since=${t0}&until=${t0 + 250_000}&buckets=10`)).body;
      expect(tl.bucketMs).toBe(30_000);
      expect(tl.buckets.reduce((n, b) => n + SEVERITIES.reduce((m, s) => m + b[s]!, 0), 0)).toBe(250);
      expect(tl.buckets.reduce((n, b) => n + b['critical']!, 0)).toBe(62);
      expect(tl.bySeverity).toEqual({ info: 0, low: 63, medium: 63, high: 62, critical: 62 });
      // The default range reaches back to the first alert of the last 30 days.
      const auto = (await call<Timeline>(v, op, 'GET', '/v1/alerts/timeline?tenant=sorted')).body;
      expect(auto.from).toBeLessThanOrEqual(t0);
      expect(auto.buckets.length).toBeLessThanOrEqual(25);
      expect(auto.buckets.reduce((n, b) => n + b['low']!, 0)).toBe(63);
    } finally {
      await v.stop();
    }
  }, 60_000);

  it('carries the moves the workflow allows with each incident, and with each alert its incident\'s', async () => {
    const v = await startVigil(config);
    try {
      const op = await apiToken(v);
      await rollback(v, 'moves', 1);
      type Inc = { id: string; state: string; allowed: string[] };
      const [inc] = (await call<{ items: Inc[] }>(v, op, 'GET', '/v1/incidents?tenant=moves')).body.items;
      expect(inc!.allowed).toEqual(['triaged', 'investigating', 'false_positive', 'resolved']);
      const moved = await call<Inc>(v, op, 'POST', `/v1/incidents/${encodeURIComponent(inc!.id)}/transition?tenant=moves`, { to: 'investigating' });
      expect(moved.status).toBe(200);
      expect(moved.body.allowed).toEqual(['contained', 'resolved', 'false_positive']);
      expect((await call<{ incident: Inc }>(v, op, 'GET', `/v1/incidents/${encodeURIComponent(inc!.id)}?tenant=moves`)).body.incident.allowed).toEqual(['contained', 'resolved', 'false_positive']);
      // And with each alert, its incident's.
      const [alert] = (await call<{ items: { id: string }[] }>(v, op, 'GET', `/v1/alerts?tenant=moves&rule=${RULE}`)).body.items;
      const one = (await call<{ incident: { id: string; state: string; allowed: string[] } | null }>(v, op, 'GET', `/v1/alerts/${encodeURIComponent(alert!.id)}?tenant=moves`)).body;
      expect(one.incident).toEqual({ id: inc!.id, state: 'investigating', allowed: ['contained', 'resolved', 'false_positive'] });
    } finally {
      await v.stop();
    }
  }, 60_000);

  it('switches a rule of the pack off and on for one tenant, audited, kept across a restart', async () => {
    let v = await startVigil(config);
    try {
      const op = await apiToken(v);
      const analyst = await apiToken(v, 'analyst', 'x', 'ana');
      const adminX = await apiToken(v, 'admin', 'x', 'adm');
      await rollback(v, 'x', 1);
      expect(await rollbacks(v, 'x')).toBe(1);
      // An analyst may not; an admin of x may; a rule the pack does not have is a 404.
      expect((await call(v, analyst, 'PATCH', `/v1/rules/${RULE}`, { enabled: false })).status).toBe(403);
      expect((await call(v, adminX, 'PATCH', '/v1/rules/no.such-rule', { enabled: false })).status).toBe(404);
      const off = await call<{ id: string; status: string; switchable: boolean }>(v, adminX, 'PATCH', `/v1/rules/${RULE}`, { enabled: false, reason: 'too noisy for this fleet' });
      expect(off.status, JSON.stringify(off.body)).toBe(200);
      expect(off.body).toMatchObject({ id: RULE, status: 'disabled', switchable: true });
      await rollback(v, 'x', 2);
      expect(await rollbacks(v, 'x'), 'no new alert in x').toBe(1);
      await rollback(v, 'y', 3);
      expect(await rollbacks(v, 'y'), 'y keeps the rule').toBe(1);
      const rules = async (tenant: string) => (await call<{ items: { id: string; status: string }[] }>(v, op, 'GET', `/v1/rules?tenant=${tenant}`)).body.items.find((r) => r.id === RULE)!.status;
      expect(await rules('x')).toBe('disabled');
      expect(await rules('y')).toBe('enabled');
      const audit = (await call<{ items: { action: string; targetId: string; details: Record<string, unknown> }[] }>(v, op, 'GET', '/v1/audit?tenant=x')).body.items;
      expect(audit.find((e) => e.action === 'rule.disable')).toMatchObject({ targetId: RULE, details: { was: 'enabled', reason: 'too noisy for this fleet' } });
      // A later verdict's tuning of the rule keeps it off (the switch lives beside the parameters).
      const [inc] = (await call<{ items: { id: string }[] }>(v, op, 'GET', `/v1/incidents?tenant=x&rule=${RULE}`)).body.items;
      const verdict = await call(v, adminX, 'POST', `/v1/incidents/${encodeURIComponent(inc!.id)}/verdict`, { verdict: 'false_positive', reason: 'fleet quirk', tune: { rule: RULE, params: { 'max-decrease': 100 } } });
      expect(verdict.status, JSON.stringify(verdict.body)).toBe(200);
      const tuning = (await call<{ items: { rule: string; params: Record<string, unknown> }[] }>(v, op, 'GET', '/v1/rules/tuning?tenant=x')).body.items.find((t) => t.rule === RULE);
      expect(tuning?.params).toEqual({ enabled: false, 'max-decrease': 100 });
      await rollback(v, 'x', 6);
      expect(await rollbacks(v, 'x'), 'still off after the verdict').toBe(1);
      await v.stop();

      v = await startVigil(config);
      expect(await rollbacks(v, 'x')).toBe(1);
      await rollback(v, 'x', 4);
      expect(await rollbacks(v, 'x'), 'still off after a restart').toBe(1);
      const op2 = await apiToken(v);
      const on = await call<{ status: string }>(v, op2, 'PATCH', `/v1/rules/${RULE}?tenant=x`, { enabled: true });
      expect(on.body.status).toBe('enabled');
      await rollback(v, 'x', 5);
      expect(await rollbacks(v, 'x'), 'on again').toBe(2);
    } finally {
      await v.stop();
    }
  }, 120_000);
});
