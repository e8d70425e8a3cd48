/**
 * A detection from a template, end to end, on a real worker thread and a DuckDB file: an
 * analyst creates it over HTTP for a CVE; Bluetooth faults then a root shell on the head unit
 * raise an alert naming the CVE, which lands in that CVE's intel incident; another tenant's
 * identical events raise nothing; disabling stops it; a restart keeps it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DuckDBStore } from '../src/adapters/duckdb/duckdb-store.js';
import { DuckDBIntelStore } from '../src/adapters/duckdb/intel-store.js';
import { toVulnerability } from '../src/adapters/http/detection-routes.js';
import { startVigil, type Vigil } from '../src/api/vigil.js';
import { makeVin } from '../src/normalize/vin.js';
import { parseConfig } from '../src/runtime/config.js';
import { apiToken, bearer } from './http-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-custom-det-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = parseConfig({
  tenant: 'acme', dataDir: dir, http: { port: 0, auth: { adminTokenEnv: 'VIGIL_TEST_UNSET_ADMIN_TOKEN' } }, runtime: { workers: 1 },
});
const CVE = 'CVE-2017-1000251';
const RULE = 'custom.bluetooth-stack-rce.cve-2017-1000251';
const BLUEBORNE = {
  id: CVE,
  description: 'The native Bluetooth stack in the Linux Kernel (BlueZ) is vulnerable to a stack overflow in the processing of L2CAP configuration responses resulting in remote code execution in kernel space.',
  cwes: ['CWE-787'],
  cvss: ['CVSS:3.1/AV:A/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H'],
  references: ['https://www.armis.com/blueborne'],
};
const T = Date.now() - 5 * 60_000;
const vin = (i: number): string => makeVin({ wmi: 'YV1', vds: 'MV39H', year: 2017, plant: 'G' }, i);
let seq = 0;

/** Three Bluetooth pairing failures, then a root shell on the head unit, of one vehicle. */
async function exploit(v: Vigil, tenant: string, vehicle: number): Promise<void> {
  const events = [0x8504, 0x8504, 0x8504, 0x8803];
  for (const eventId of events) {
    const at = T + (seq += 1000);
    await v.pipeline.push({ kind: 'security', tenant, source: 'test', receivedAt: Date.now(), payload: JSON.stringify({ vin: vin(vehicle), ts: at, seq, eventId, sensor: 'IviIds' }) });
  }
  await v.pipeline.drain();
  await v.alerts.idle();
}

const ruleAlerts = async (v: Vigil, tenant: string) => (await v.store.listAlerts({ tenant, limit: 1000 })).filter((a) => a.rule === RULE);

async function call(v: Vigil, method: string, path: string, token: string, body?: object): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${v.url}${path}`, {
    method, headers: { ...bearer(token), ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('a detection from a template', () => {
  it('runs for its tenant only, routes alerts to the CVE incident, stops when disabled, survives a restart', async () => {
    let vigil = await startVigil(config);
    try {
      const analyst = await apiToken(vigil, 'analyst', 'acme', 'ana');
      const viewer = await apiToken(vigil, 'viewer', 'acme', 'vic');

      const suggested = await call(vigil, 'POST', '/v1/detections/templates/suggest', viewer, { vulnerability: BLUEBORNE });
      expect(suggested.status).toBe(200);
      expect((suggested.body['items'] as { template: string }[])[0]!.template).toBe('bluetooth-stack-rce');

      // A viewer may not create; a bad parameter is a 400 naming the field.
      expect((await call(vigil, 'POST', '/v1/detections', viewer, { template: 'bluetooth-stack-rce', vulnerability: BLUEBORNE })).status).toBe(403);
      const bad = await call(vigil, 'POST', '/v1/detections', analyst, { template: 'bluetooth-stack-rce', vulnerability: BLUEBORNE, params: { faults: 0 } });
      expect(bad.status).toBe(400);
      expect(bad.body['fields']).toEqual([expect.objectContaining({ in: 'body', path: '/params/faults', message: expect.stringMatching(/out of bounds/) })]);

      // From the intel store: the vulnerability by id.
      await new DuckDBIntelStore((vigil.store as DuckDBStore).connection).saveFeed({ vulnerabilities: [toVulnerability(BLUEBORNE)], indicators: [], csaf: [], vex: [] }, Date.now());
      const stored = await call(vigil, 'GET', `/v1/intel/vulnerabilities/${CVE}/templates`, viewer);
      expect(stored.status).toBe(200);
      expect(stored.body['items']).toEqual(expect.arrayContaining([expect.objectContaining({ template: 'bluetooth-stack-rce', summary: expect.stringMatching(/^CWE-787 and AV:A and .*-> bluetooth-stack-rce$/) })]));
      expect((stored.body['items'] as { template: string }[])[0]!.template).toBe('bluetooth-stack-rce');
      expect((await call(vigil, 'GET', '/v1/intel/vulnerabilities/CVE-2099-9999/templates', viewer)).status).toBe(404);
      const byId = await call(vigil, 'POST', '/v1/detections', analyst, { template: 'uds-auth-bypass', vulnerabilityId: CVE, dryRun: true });
      expect(byId.status).toBe(200);
      expect(byId.body).toMatchObject({ id: 'custom.uds-auth-bypass.cve-2017-1000251', stored: false });

      const dry = await call(vigil, 'POST', '/v1/detections', analyst, { template: 'bluetooth-stack-rce', vulnerability: BLUEBORNE, params: { faults: 3 }, dryRun: true });
      expect(dry.status).toBe(200);
      expect(dry.body).toMatchObject({ id: RULE, stored: false, running: false });
      expect((await call(vigil, 'GET', '/v1/detections/custom', analyst)).body['total']).toBe(0);

      const created = await call(vigil, 'POST', '/v1/detections', analyst, { template: 'bluetooth-stack-rce', vulnerability: BLUEBORNE, params: { faults: 3 } });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ id: RULE, stored: true, running: true });
      expect(created.body['yaml']).toContain(`cve: ${CVE}`);
      expect(created.body['tests']).toEqual([expect.objectContaining({ expect: 'alert', ok: true }), expect.objectContaining({ expect: 'none', ok: true })]);

      await exploit(vigil, 'acme', 1);
      await exploit(vigil, 'other', 1);
      const alerts = await ruleAlerts(vigil, 'acme');
      expect(alerts).toHaveLength(1);
      expect(alerts[0]!.details).toMatchObject({ intel: CVE, cve: CVE, template: 'bluetooth-stack-rce', type: 'sequence' });
      expect(await ruleAlerts(vigil, 'other')).toHaveLength(0);
      const incidents = await call(vigil, 'GET', `/v1/incidents?kind=intel&rule=${RULE}`, analyst);
      expect(incidents.body['items']).toEqual([expect.objectContaining({ kind: 'intel', groupKey: CVE, alertCount: 1 })]);

      const off = await call(vigil, 'PATCH', `/v1/detections/custom/${RULE}`, analyst, { enabled: false });
      expect(off.status).toBe(200);
      await exploit(vigil, 'acme', 2);
      expect(await ruleAlerts(vigil, 'acme')).toHaveLength(1);
      expect((await call(vigil, 'PATCH', `/v1/detections/custom/${RULE}`, analyst, { enabled: true })).status).toBe(200);

      const audit = await call(vigil, 'GET', '/v1/audit?targetType=detection', await apiToken(vigil, 'admin', 'acme'));
      expect((audit.body['items'] as { action: string }[]).map((e) => e.action)).toEqual(['detection.enable', 'detection.disable', 'detection.create']);
      // Another tenant neither sees nor changes it.
      const otherAnalyst = await apiToken(vigil, 'analyst', 'other', 'oli');
      expect((await call(vigil, 'GET', '/v1/detections/custom', otherAnalyst)).body['total']).toBe(0);
      expect((await call(vigil, 'PATCH', `/v1/detections/custom/${RULE}`, otherAnalyst, { enabled: false })).status).toBe(404);
    } finally {
      await vigil.stop();
    }

    vigil = await startVigil(config);
    try {
      const analyst = await apiToken(vigil, 'analyst', 'acme', 'ana2');
      expect((await call(vigil, 'GET', '/v1/detections/custom', analyst)).body['items']).toEqual([expect.objectContaining({ id: RULE, enabled: true, vulnerability: CVE, template: 'bluetooth-stack-rce' })]);
      await exploit(vigil, 'acme', 3);
      expect(await ruleAlerts(vigil, 'acme')).toHaveLength(2);
      expect(await ruleAlerts(vigil, 'other')).toHaveLength(0);
      expect((await call(vigil, 'DELETE', `/v1/detections/custom/${RULE}`, analyst)).body).toEqual({ deleted: true });
      await exploit(vigil, 'acme', 4);
      expect(await ruleAlerts(vigil, 'acme')).toHaveLength(2);
    } finally {
      await vigil.stop();
    }
  }, 120_000);
});
