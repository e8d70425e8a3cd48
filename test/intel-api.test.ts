/**
 * Threat intelligence through the front door: startVigil (inline lanes, DuckDB in memory) with
 * the demo advisories and the simulated fleet's SBOMs imported at start, the fleet registered
 * afterwards (as the demo's simulator does), the pending-exposure check raising one alert per
 * vulnerability into intel incidents, and the /v1/intel routes with tokens of each role.
 * Also: every file of the shared intel datasets imports through the service, with the run's
 * per-record report stored.
 */
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVigil, type Vigil } from '../src/api/vigil.js';
import { DuckDBStore } from '../src/adapters/duckdb/duckdb-store.js';
import { DuckDBIntelStore } from '../src/adapters/duckdb/intel-store.js';
import { readDocuments } from '../src/adapters/files/intel-files.js';
import { systemClock } from '../src/core/clock.js';
import type { Alert } from '../src/core/records.js';
import { parseConfig } from '../src/runtime/config.js';
import { IntelService } from '../src/runtime/intel-service.js';
import { FleetSimulator } from '../src/sim/simulator.js';
import { dataset } from './datasets.js';
import { apiToken, bearer } from './http-helpers.js';

const EXAMPLES = fileURLToPath(new URL('../examples/intel/', import.meta.url));
const SECRET_ENV = 'VIGIL_TEST_INTEL_SECRET';
process.env[SECRET_ENV] = 'intel-api-test-secret-0123456789abcdef';

let v: Vigil;
let tenant: string;
let operator: string;
let viewer: string;
let analyst: string;
let ingest: string;
let tenantAdmin: string;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are read field by field in assertions
async function call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${v.url}${path}`, {
    method, headers: { ...bearer(token), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  const sim = new FleetSimulator({ vehicles: 400, seed: 3, attacks: false, malformedRate: 0 });
  tenant = sim.options.tenants[0]!;
  v = await startVigil(parseConfig({
    tenant, store: { path: ':memory:' }, http: { port: 0 }, normalize: { secretEnv: SECRET_ENV },
    intel: { feeds: [EXAMPLES], simSboms: true, exposureCheck: '1h' },
  }), { inline: true });
  [operator, viewer, analyst, ingest, tenantAdmin] = await Promise.all([
    apiToken(v), apiToken(v, 'viewer', tenant), apiToken(v, 'analyst', tenant), apiToken(v, 'ingest', tenant), apiToken(v, 'admin', tenant),
  ]);
  await v.pipeline.registerVehicles(tenant, sim.fleet.identities());
  await v.pipeline.drain();
}, 180_000);
afterAll(async () => v?.stop());

describe('new intel exposing vehicles', () => {
  it('imported at start, exposes nothing until vehicles register; then one alert per vulnerability lands in an intel incident', async () => {
    expect(v.intel.startup?.feeds?.run.rejected).toBe(0);
    expect(v.intel.startup?.sboms?.files).toBeGreaterThan(100);
    expect((await v.intel.store.firstExposures(tenant)).size).toBe(0);
    const alerts = await v.intel.service.checkPendingExposure();
    await v.alerts.idle();
    const ids = alerts.map((a) => a.details['cve']).sort();
    expect(ids).toEqual(['VIGIL-DEMO-2026-0001', 'VIGIL-DEMO-2026-0002', 'VIGIL-DEMO-2026-0003']);
    const incidents = await call('GET', '/v1/incidents?kind=intel&limit=50', viewer);
    expect(incidents.status).toBe(200);
    const byTitle = incidents.json.items.map((i: { title: string; kind: string; alertCount: number }) => [i.kind, i.title.split(':')[0], i.alertCount]).sort();
    expect(byTitle).toEqual(ids.map((id) => ['intel', id, 1]));
    // a second look raises nothing more
    expect(await v.intel.service.checkPendingExposure()).toEqual([]);
  });
});

describe("a vehicle's alerts carry the vulnerabilities it is exposed to", () => {
  it("an alert on an exposed vehicle shows them in its incident's enrichment, those on an ECU the alert names first; an unexposed vehicle's alert shows none", async () => {
    const ids = ['VIGIL-DEMO-2026-0001', 'VIGIL-DEMO-2026-0002', 'VIGIL-DEMO-2026-0003'];
    const exposedAny = new Set<string>();
    for (const id of ids) for (const e of await v.intel.store.exposedVehicles(tenant, id, { limit: 100_000 })) exposedAny.add(e.vehicle);
    const exposed = (await v.intel.store.exposedVehicles(tenant, 'VIGIL-DEMO-2026-0002', { limit: 1 }))[0]!.vehicle;
    const mine = await v.intel.store.vehicleVulnerabilities(tenant, exposed);
    const clean = (await v.store.listVehicles(tenant, { limit: 1000 })).find((x) => !exposedAny.has(x.id))!.id;
    const now = Date.now();
    const mk = (id: string, vehicle: string): Alert => ({
      id, tenant, vehicle, time: now, detectedAt: now, rule: 'tcu.modem-exploit', title: 'Modem exploit attempt', severity: 'high', tags: ['tcu'], details: {},
    });
    const alerts = [mk('enrich-exposed', exposed), mk('enrich-clean', clean)];
    await v.store.insertAlerts(alerts);
    v.alerts.service.offer(alerts);
    await v.alerts.idle();
    const incidentOf = async (alert: string) => {
      const a = await call('GET', `/v1/alerts/${alert}`, viewer);
      expect(a.status).toBe(200);
      expect(a.json.outcome?.kind).toBe('incident');
      const i = await call('GET', `/v1/incidents/${a.json.outcome.ref}`, viewer);
      expect(i.status).toBe(200);
      return i.json.incident;
    };
    const hit = await incidentOf('enrich-exposed');
    const intel = hit.context.intel as { id: string; source: string; relevance: string; ecus: string[]; result: string }[];
    expect(intel.map((m) => m.id).sort()).toEqual(mine.map((m) => m.id).sort().slice(0, 5));
    expect(intel.every((m) => m.source === 'exposure')).toBe(true);
    // the modem flaw is on the TCU, which the alert names: it comes first, marked so
    expect(intel[0]).toMatchObject({ id: 'VIGIL-DEMO-2026-0002', relevance: 'ecu', ecus: ['TCU'] });
    expect(intel.filter((m) => m.relevance === 'ecu').every((m) => m.ecus.includes('TCU'))).toBe(true);
    const miss = await incidentOf('enrich-clean');
    expect(miss.context.intel).toBeUndefined();
  });
});

describe('/v1/intel routes', () => {
  it('lists vulnerabilities with exposure and priority, filtered and sorted', async () => {
    const r = await call('GET', '/v1/intel/vulnerabilities?exposed=true&sort=-priority', viewer);
    expect(r.status).toBe(200);
    expect(r.json.items.map((x: { id: string }) => x.id).sort()).toEqual(['VIGIL-DEMO-2026-0001', 'VIGIL-DEMO-2026-0002', 'VIGIL-DEMO-2026-0003']);
    const p = r.json.items.map((x: { priority: number }) => x.priority);
    expect([...p].sort((a: number, b: number) => b - a)).toEqual(p);
    // the modem flaw (network, cellular on a TCU, CVSS 9.8) ranks first
    expect(r.json.items[0]).toMatchObject({ id: 'VIGIL-DEMO-2026-0002', severity: 'CRITICAL', ecus: ['TCU'] });
    const text = await call('GET', '/v1/intel/vulnerabilities?q=bluez', viewer);
    expect(text.json.items.map((x: { id: string }) => x.id)).toEqual(['VIGIL-DEMO-2026-0001']);
    expect((await call('GET', '/v1/intel/vulnerabilities?severity=LOW', viewer)).json.items).toEqual([]);
  });

  it('one vulnerability: the merged record, priority factors, matches; its exposure grouped and paged', async () => {
    const one = await call('GET', '/v1/intel/vulnerabilities/VIGIL-DEMO-2026-0002', viewer);
    expect(one.status).toBe(200);
    expect(one.json.priority.factors.map((f: { factor: string }) => f.factor)).toEqual(['cvss', 'epss', 'kev', 'surface']);
    expect(one.json.priority.surface).toBe('cellular');
    expect(one.json.matches.some((m: { result: string; basis: string }) => m.result === 'affected' && m.basis === 'csaf-product')).toBe(true);
    const e = await call('GET', '/v1/intel/vulnerabilities/VIGIL-DEMO-2026-0002/exposure?limit=5', viewer);
    expect(e.status).toBe(200);
    expect(e.json.vehicles).toBeGreaterThan(0);
    expect(e.json.byMake.reduce((a: number, r: { vehicles: number }) => a + r.vehicles, 0)).toBe(e.json.vehicles);
    expect(e.json.list.items).toHaveLength(5);
    expect(e.json.list.total).toBe(e.json.vehicles);
    const vehicle = e.json.list.items[0].vehicle as string;
    const mine = await call('GET', `/v1/vehicles/${vehicle}/vulnerabilities`, viewer);
    expect(mine.status).toBe(200);
    expect(mine.json.items.map((x: { id: string }) => x.id)).toContain('VIGIL-DEMO-2026-0002');
    expect((await call('GET', '/v1/intel/vulnerabilities/NOPE-1', viewer)).status).toBe(404);
  });

  it('a VEX decision (triage) changes the exposure and is audited; a viewer may not decide', async () => {
    const before = (await call('GET', '/v1/intel/vulnerabilities/VIGIL-DEMO-2026-0002/exposure?limit=1', viewer)).json;
    const body = { componentIdentity: 'pkg:generic/qualcomm-mdm9607-modem-firmware@MPSS.JO.2.0', status: 'not_affected', justification: 'vulnerable_code_not_present', reason: 'SMS stack replaced by the vendor patch set' };
    expect((await call('POST', '/v1/intel/vulnerabilities/VIGIL-DEMO-2026-0002/vex', viewer, body)).status).toBe(403);
    const r = await call('POST', '/v1/intel/vulnerabilities/VIGIL-DEMO-2026-0002/vex', analyst, body);
    expect(r.status).toBe(200);
    expect(r.json.exposure.vehicles).toBeLessThan(before.vehicles);
    const audit = await call('GET', `/v1/audit?action=intel.vex&tenant=${tenant}`, operator);
    expect(JSON.stringify(audit.json)).toContain('intel.vex');
  });

  it('SBOM upload (tenant admin) and list; feed import by an operator only, with its run and report lines', async () => {
    const sbom = {
      bomFormat: 'CycloneDX', specVersion: '1.6', version: 1,
      metadata: { component: { type: 'firmware', name: 'test ECU', version: '1.0', 'bom-ref': 'ecu' } },
      components: [{ type: 'library', 'bom-ref': 'b', name: 'bluez', version: '5.60', purl: 'pkg:generic/bluez@5.60' }],
    };
    expect((await call('POST', '/v1/intel/sboms', ingest, { document: { name: 'x.json', json: sbom } })).status).toBe(403);
    const up = await call('POST', '/v1/intel/sboms', tenantAdmin, { document: { name: 'test.cdx.json', json: sbom }, binding: { ecu: 'IVI', softwareVersion: 'nobody-runs-this' } });
    expect(up.status).toBe(201);
    expect(up.json).toMatchObject({ sbom: { ecu: 'IVI', softwareVersion: 'nobody-runs-this', components: 1 }, matches: 1 });
    const list = await call('GET', '/v1/intel/sboms?limit=1000', viewer);
    expect(list.json.items.some((s: { id: string }) => s.id === up.json.sbom.id)).toBe(true);

    const doc = { name: 'bad.json', text: '{"not": "a feed"}' };
    expect((await call('POST', '/v1/intel/import', tenantAdmin, { documents: [doc] })).status).toBe(403);
    const imp = await call('POST', `/v1/intel/import?tenant=${tenant}`, operator, { documents: [doc] });
    expect(imp.status).toBe(201);
    expect(imp.json.run).toMatchObject({ documents: 1, rejected: 1 });
    expect(imp.json.lines[0]).toMatchObject({ document: 'bad.json', status: 'rejected' });
    const runs = await call('GET', '/v1/intel/import-runs', viewer);
    expect(runs.json.items.map((r: { id: string }) => r.id)).toContain(imp.json.run.id);
    const lines = await call('GET', `/v1/intel/import-runs/${imp.json.run.id}/lines?status=rejected`, viewer);
    expect(lines.json).toMatchObject({ total: 1, items: [{ document: 'bad.json', status: 'rejected' }] });
  });
});

const intel = dataset('intel', 'test/intel-api.test.ts');

describe.skipIf(intel.skip)('the shared intel datasets through the service', () => {
  it('every file imports with a per-record report stored (the ATM matrix and the manifest: one rejected line each, with the reason)', async () => {
    const store = await DuckDBStore.open({ path: ':memory:' });
    try {
      const s = new DuckDBIntelStore(store.connection);
      const service = new IntelService({ store: s, clock: systemClock });
      const { docs, unreadable } = await readDocuments([intel.path]);
      expect(unreadable).toEqual([]);
      const res = await service.importFeeds(docs, { tenant: 'acme', actor: 'test' });
      const lines = await s.importLines(res.run.id, { limit: 1_000_000 });
      expect(lines).toHaveLength(res.run.records);
      for (const d of docs) expect(lines.filter((l) => l.document === d.name).length, d.name).toBeGreaterThan(0);
      const rejected = lines.filter((l) => l.status === 'rejected').map((l) => relative(intel.path, l.document)).sort();
      expect(rejected).toEqual(['MANIFEST.tsv', 'atm/atm_v4.00.json']);
      expect(lines.filter((l) => l.status === 'partial').every((l) => l.problems.length > 0)).toBe(true);
      // stored and merged: KEV entries, CVE 5 and NVD records of one CVE are one vulnerability
      expect((await s.listVulnerabilities({ tenant: 'acme', kev: true, limit: 10 })).total).toBe(1404);
      const blueborne = await s.vulnerability('CVE-2017-1000251');
      expect(new Set(blueborne!.sources.map((x) => x.kind))).toEqual(new Set(['cve5-cna', 'nvd']));
      expect((await s.indicators()).length).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  }, 120_000);
});
