/**
 * False-positive feedback end to end, on real worker threads and a DuckDB file: UDS bursts
 * raise alerts in the lanes, the alert pipeline groups them into incidents, an analyst's
 * verdict over HTTP raises the rule's threshold for the tenant (the lanes run the tuned rule
 * from then on, other tenants keep the pack's) or suppresses the rule on the vehicle (later
 * alerts are kept but hidden). A restart reloads the tuning from the store.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startVigil, type Vigil } from '../src/api/vigil.js';
import { makeVin } from '../src/normalize/vin.js';
import { parseConfig } from '../src/runtime/config.js';
import { apiToken, bearer } from './http-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-tuning-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'rules'));
writeFileSync(join(dir, 'rules', 'burst.yaml'), `id: test.uds-burst
title: UDS reprogramming requests in a burst
status: test
level: high
tags: [ATM-T0070, R155-A5:4.1]
source: security
type: threshold
threshold: { count: 3, window: 10m }
suppress: 0s
detection:
  u: { name: UDS_REPROGRAMMING_REQUEST }
  condition: u
`);

const config = parseConfig({
  tenant: 'acme', dataDir: dir, http: { port: 0, auth: { adminTokenEnv: 'VIGIL_TEST_UNSET_ADMIN_TOKEN' } },
  runtime: { workers: 1 }, detection: { rules: [join(dir, 'rules')] },
});
const RULE = 'test.uds-burst';
const T = Date.now() - 5 * 60_000;
const vin = (i: number): string => makeVin({ wmi: 'YV1', vds: 'MV39H', year: 2017, plant: 'G' }, i);
let seq = 0;

/** `n` UDS reprogramming requests of one vehicle, one a second, through the pipeline; waits until decided. */
async function burst(v: Vigil, tenant: string, vehicle: number, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const at = T + (seq += 1000);
    await v.pipeline.push({ kind: 'security', tenant, source: 'test', receivedAt: Date.now(), payload: JSON.stringify({ vin: vin(vehicle), ts: at, seq, eventId: 0x8103, sensor: 'DiagGatewayIds' }) });
  }
  await v.pipeline.drain();
  await v.alerts.idle();
}

async function ruleAlerts(v: Vigil, tenant: string): Promise<number> {
  return (await v.store.listAlerts({ tenant, limit: 1000 })).filter((a) => a.rule === RULE).length;
}

async function call(v: Vigil, method: 'GET' | 'POST', path: string, token: string, body?: object): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${v.url}${path}`, {
    method, headers: { ...bearer(token), ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function openIncident(v: Vigil, token: string, tenant: string): Promise<string> {
  const list = await call(v, 'GET', `/v1/incidents?rule=${RULE}&state=new&tenant=${tenant}`, token);
  const items = list.body['items'] as { id: string }[];
  expect(items.length).toBe(1);
  return items[0]!.id;
}

describe('false-positive feedback', () => {
  it('a verdict raises the threshold for the tenant in the lanes, survives a restart, and suppresses on the vehicle', async () => {
    let vigil = await startVigil(config);
    try {
      const analyst = await apiToken(vigil, 'analyst', 'acme', 'ana');
      const operator = await apiToken(vigil);
      await burst(vigil, 'acme', 1, 3);
      expect(await ruleAlerts(vigil, 'acme')).toBe(1);
      const incident = await openIncident(vigil, analyst, 'acme');

      // The IDS events also raise the built-in vigil.ids_event: with two rules, the verdict must name the one to tune.
      const unnamed = await call(vigil, 'POST', `/v1/incidents/${incident}/verdict`, analyst, { verdict: 'false_positive', reason: 'x', tune: { params: { threshold: 6 } } });
      expect(unnamed).toMatchObject({ status: 400, body: { fields: [{ path: '/tune/rule' }] } });
      // A tuning that does not fit the rule: 400 naming the problem, and the incident stays open.
      const bad = await call(vigil, 'POST', `/v1/incidents/${incident}/verdict`, analyst, { verdict: 'false_positive', reason: 'x', tune: { rule: RULE, params: { threshold: 'lots', tolerance: 3 } } });
      expect(bad.status).toBe(400);
      expect((bad.body['fields'] as { path: string; message: string }[]).map((f) => f.message)).toEqual([
        'threshold: must be an integer from 2 to 1000000', 'tolerance: applies to consistency rules, not to this threshold rule',
      ]);
      expect((await call(vigil, 'GET', `/v1/incidents/${incident}`, analyst)).body['incident']).toMatchObject({ state: 'new' });

      const verdict = await call(vigil, 'POST', `/v1/incidents/${incident}/verdict`, analyst, { verdict: 'false_positive', reason: 'the workshop flashes ECUs in bursts of 5', tune: { rule: RULE, params: { threshold: 6 } } });
      expect(verdict.status).toBe(200);
      expect(verdict.body).toMatchObject({ incident: { state: 'false_positive' }, tuning: { rule: RULE, params: { threshold: 6 }, reason: 'the workshop flashes ECUs in bursts of 5' } });
      expect((await call(vigil, 'GET', '/v1/rules/tuning', analyst)).body['items']).toEqual([expect.objectContaining({ rule: RULE, params: { threshold: 6 } })]);
      const audit = (await vigil.audit.list({ tenant: 'acme', limit: 10 })).map((e) => [e.action, e.targetId]);
      expect(audit).toEqual(expect.arrayContaining([['incident.verdict', incident], ['rule.tune', RULE]]));

      // acme: 5 in a burst are below the tuned threshold; the sixth alerts. globex keeps the pack's 3.
      await burst(vigil, 'acme', 2, 5);
      expect(await ruleAlerts(vigil, 'acme')).toBe(1);
      await burst(vigil, 'acme', 2, 1);
      expect(await ruleAlerts(vigil, 'acme')).toBe(2);
      await burst(vigil, 'globex', 3, 3);
      expect(await ruleAlerts(vigil, 'globex')).toBe(1);

      // globex's analyst suppresses the rule on that vehicle for 7 days: the next burst's alert is stored but hidden.
      const gIncident = await openIncident(vigil, operator, 'globex');
      const sup = await call(vigil, 'POST', `/v1/incidents/${gIncident}/verdict?tenant=globex`, operator, { verdict: 'false_positive', reason: 'test bench vehicle', suppress: { scope: 'rule+vehicle', days: 7, rule: RULE } });
      expect(sup.status).toBe(200);
      const [suppression] = sup.body['suppressions'] as { id: string; rule: string; vehicle: string; expiresAt: number }[];
      expect(suppression).toMatchObject({ rule: RULE, vehicle: expect.stringMatching(/^[0-9a-f]{16}$/), active: true });
      await burst(vigil, 'globex', 3, 3);
      expect(await ruleAlerts(vigil, 'globex')).toBe(2);
      const hidden = await vigil.alerts.incidents.listAlerts({ tenant: 'globex', outcome: 'suppressed', limit: 10 });
      expect(hidden.items.map((a) => [a.rule, a.outcome?.ref])).toEqual([[RULE, suppression!.id]]);
      expect((await call(vigil, 'GET', `/v1/incidents?state=new&rule=${RULE}&tenant=globex`, operator)).body['total']).toBe(0);
      const listed = (await call(vigil, 'GET', '/v1/suppressions?tenant=globex', operator)).body['items'] as { id: string; hits: number }[];
      expect(listed).toEqual([expect.objectContaining({ id: suppression!.id, hits: 1 })]);

      await vigil.stop();
      vigil = await startVigil(config);
      // After a restart the stored tuning is in force again.
      await burst(vigil, 'acme', 4, 5);
      expect(await ruleAlerts(vigil, 'acme')).toBe(2);
      await burst(vigil, 'acme', 4, 1);
      expect(await ruleAlerts(vigil, 'acme')).toBe(3);
      expect(vigil.pipeline.tuningProblems).toEqual([]);
    } finally {
      await vigil.stop();
    }
  }, 120_000);
});
