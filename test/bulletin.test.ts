/**
 * The bulletin through the front doors: a running Vigil (in-memory DuckDB) gets a registered
 * fleet and two periods of alerts through `POST /v1/alerts/import?triage=true` (the real alert
 * pipeline groups them into incidents), then the bulletin's figures are checked against counts
 * made here from the alerts sent, and the HTML and PDF of `GET /v1/reports/bulletin` are read.
 *
 * The alerts are planned as incidents: each plan is one vehicle's alerts within minutes (one
 * incident), plans of a vehicle hours apart (separate incidents), back-end alerts without a
 * vehicle days apart (one campaign incident each). So the expected incidents are the plans.
 *
 * Set VIGIL_BULLETIN_OUT=DIR to keep the rendered bulletin.pdf and bulletin.html there.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBBulletinSource } from '../src/adapters/duckdb/report-store.js';
import type { DuckDBStore } from '../src/adapters/duckdb/duckdb-store.js';
import { DuckDBIncidentStore } from '../src/adapters/duckdb/incident-store.js';
import { chromiumPath } from '../src/adapters/pdf/chromium.js';
import { startVigil, type Vigil } from '../src/api/vigil.js';
import { ManualClock } from '../src/core/clock.js';
import type { Severity } from '../src/core/records.js';
import { loadBulletin } from '../src/report/bulletin.js';
import type { ExposedVulnerability, ExposureSummary } from '../src/report/ports.js';
import { renderBulletinHtml } from '../src/report/html.js';
import { assetOf, threatGroupOf, UNMAPPED } from '../src/report/taxonomy.js';
import { DuckDBIntelStore } from '../src/adapters/duckdb/intel-store.js';
import { IntelService } from '../src/runtime/intel-service.js';
import { demoSboms } from '../src/sim/sboms.js';
import { parseConfig } from '../src/runtime/config.js';
import { Fleet } from '../src/sim/fleet.js';
import { Mulberry32 } from '../src/sim/prng.js';
import { apiToken, bearer } from './http-helpers.js';

const T = 'acme';
const DAY = 86_400_000;
const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 11, 3, 9, 30);
const PERIOD = { from: Date.UTC(2026, 10, 1), to: Date.UTC(2026, 11, 1) };
const PREVIOUS = { from: PERIOD.from - 30 * DAY, to: PERIOD.from };
const RULES_DIR = join(import.meta.dirname, '..', 'rules', 'detections');
const INTEL_EXAMPLES = join(import.meta.dirname, '..', 'examples', 'intel');
const HOSTILE_RULE = 'x.<script>alert(1)</script>';

/** Rule id -> level and tags, from the shipped pack. */
function packRules(): Map<string, { severity: Severity; tags: string[] }> {
  const out = new Map<string, { severity: Severity; tags: string[] }>();
  for (const file of readdirSync(RULES_DIR).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(readFileSync(join(RULES_DIR, file), 'utf8'))) {
      const r = doc.toJS() as { id: string; level: string; tags?: string[] };
      out.set(r.id, { severity: (r.level === 'informational' ? 'info' : r.level) as Severity, tags: r.tags ?? [] });
    }
  }
  return out;
}

interface PlannedAlert {
  id: string;
  vin?: string;
  time: number;
  rule: string;
  title: string;
  severity: Severity;
  tags: string[];
}

/** The planned incidents of both periods and the vehicles they run on. */
function plan(): { vehicles: ReturnType<Fleet['identity']>[]; incidents: PlannedAlert[][] } {
  const rules = packRules();
  // Vehicle rules across the assets; heavier on the current period for some, lighter for others.
  const vehicleRules = ['can.diagnostic-flood', 'uds.session-while-moving', 'ivi.root-shell', 'keyless.relay-attack', 'ota.hash-mismatch',
    'bluetooth.pairing-brute-force', 'tcu.sim-changed', 'gnss.position-jump', 'exfil.large-upload-unknown-destination', 'charging.vehicle-charging-without-session']
    .map((id) => [...rules.keys()].find((r) => r === id) ?? [...rules.keys()].find((r) => r.startsWith(id.split('.')[0]! + '.'))!);
  const backendRules = [...rules.keys()].filter((r) => r.startsWith('api.') || r.startsWith('charging.firmware')).slice(0, 3);
  const fleet = new Fleet(11, 40, [T]);
  const vehicles = Array.from({ length: 40 }, (_, i) => fleet.identity(i));
  const rnd = new Mulberry32(2026);
  const incidents: PlannedAlert[][] = [];
  let seq = 0;
  const alert = (rule: string, time: number, vin?: string, title?: string): PlannedAlert => {
    const r = rules.get(rule) ?? { severity: 'medium' as Severity, tags: [] };
    return { id: `b-${++seq}`, ...(vin ? { vin } : {}), time, rule, title: title ?? rule, severity: r.severity, tags: r.tags };
  };
  for (const [range, weight] of [[PREVIOUS, 0.6], [PERIOD, 1]] as const) {
    // Each vehicle's incidents sit in its own 6-hour slots, so they never join each other.
    vehicles.forEach((v, vi) => {
      const count = Math.floor(rnd.next() * 4 * weight);
      const slots = new Set<number>();
      while (slots.size < count) slots.add(Math.floor(rnd.next() * 110));
      for (const [k, slot] of [...slots].entries()) {
        const time = range.from + slot * 6 * HOUR + (vi % 6) * 50 * 60_000 + k; // distinct per vehicle
        const rule = vehicleRules[Math.floor(rnd.next() * (range === PERIOD ? vehicleRules.length : 6))]!;
        const group = [alert(rule, time + slot, v.vin)];
        // A second rule within minutes joins the same incident.
        if (rnd.next() < 0.2) group.push(alert(vehicleRules[(vehicleRules.indexOf(rule) + 3) % vehicleRules.length]!, time + slot + 120_000, v.vin));
        incidents.push(group);
      }
    });
    // Back-end alerts without a vehicle: one campaign incident each (3 days apart per rule).
    backendRules.forEach((rule, i) => {
      for (let d = i; d < 30; d += 9) incidents.push([alert(rule, range.from + d * DAY + 3 * HOUR)]);
    });
  }
  // A back-end rule whose id is hostile markup, busy enough to be among the top rules (2 days apart: separate incidents).
  for (let d = 1; d < 30; d += 2.5) incidents.push([alert(HOSTILE_RULE, PERIOD.from + d * DAY, undefined, '<img src=x onerror=alert(1)>')]);
  // Dedup would merge same-rule alerts of one vehicle within 10 minutes; slots keep them hours apart.
  return { vehicles, incidents };
}

const exposures: ExposedVulnerability[] = [
  { id: 'TEST-2026-0001', title: 'Telematics unit: stack overflow in the cellular modem AT command parser <img src=x onerror=alert(2)>', severity: 'CRITICAL', cvss: 9.8, epss: 0.412, kev: true, priority: 96, vehicles: 31, affected: 22, firstExposedAt: PERIOD.from + 4 * DAY, byModel: [{ make: 'Volvo', model: 'XC40 </td><script>x</script>', vehicles: 18 }, { make: 'Tesla', model: 'Model 3', vehicles: 13 }] },
  { id: 'TEST-2025-0107', title: 'Infotainment Bluetooth stack: out-of-bounds read in L2CAP configuration', severity: 'HIGH', cvss: 8.1, epss: 0.031, kev: false, priority: 71, vehicles: 26, affected: 26, firstExposedAt: PREVIOUS.from + 3 * DAY, byModel: [{ make: 'Volkswagen', model: 'ID.4', vehicles: 26 }] },
  { id: 'TEST-2026-0033', title: 'Charging communication controller accepts unsigned firmware images', severity: 'HIGH', cvss: 7.6, epss: null, kev: false, priority: 64, vehicles: 9, affected: 0, firstExposedAt: PERIOD.from + 20 * DAY, byModel: [{ make: 'SAIC', model: 'MG4', vehicles: 9 }] },
  { id: 'TEST-2024-2210', title: 'Gateway ECU: diagnostic session reachable without authentication', severity: 'MEDIUM', cvss: 6.5, epss: 0.002, kev: false, priority: 40, vehicles: 4, affected: 4, firstExposedAt: PREVIOUS.from - 40 * DAY, byModel: [{ make: 'Volvo', model: 'V40', vehicles: 4 }] },
];
const exposure: ExposureSummary = { topExposed: async (tenant, limit) => (tenant === T ? exposures.slice(0, limit) : []) };

let vigil: Vigil;
let viewer: string;
const planned = plan();

beforeAll(async () => {
  vigil = await startVigil(parseConfig({
    tenant: T, store: { path: ':memory:' }, http: { port: 0, auth: { enabled: true, adminTokenEnv: 'VIGIL_TEST_UNSET_ADMIN_TOKEN' } },
    runtime: { workers: 1 }, detection: { rules: [] },
  }), { inline: true, clock: new ManualClock(NOW) });
  const admin = await apiToken(vigil);
  viewer = await apiToken(vigil, 'viewer', T);
  const ecus = (v: (typeof planned.vehicles)[number]): string => Object.entries(v.software).map(([k, x]) => `${k}=${x}`).join(';');
  const csv = ['vin,make,model,year,region,ecus', ...planned.vehicles.map((v) => `${v.vin},${v.make},${v.model},${v.year},${v.region},${ecus(v)}`)].join('\n');
  const reg = await vigil.http!.inject({ method: 'POST', url: `/v1/vehicles/import?tenant=${T}`, headers: { ...bearer(admin), 'content-type': 'text/csv' }, payload: csv });
  expect(reg.statusCode).toBe(200);
  const ndjson = planned.incidents.flat().map((a) => JSON.stringify({ ...a, time: new Date(a.time).toISOString() })).join('\n');
  const imp = await vigil.http!.inject({ method: 'POST', url: `/v1/alerts/import?triage=true&tenant=${T}`, headers: { ...bearer(admin), 'content-type': 'application/x-ndjson' }, payload: ndjson });
  expect(imp.statusCode).toBe(200);
  expect(imp.json()).toMatchObject({ imported: planned.incidents.flat().length, rejected: 0 });
}, 60_000);
afterAll(async () => vigil?.stop());

/** Expected figures of one range, from the plans. */
function expected(range: { from: number; to: number }) {
  const inRange = planned.incidents.filter((g) => g[0]!.time >= range.from && g[0]!.time < range.to);
  const categories = new Map<string, number>();
  const assets = new Map<string, number>();
  const severity = new Map<string, number>();
  const rank = ['info', 'low', 'medium', 'high', 'critical'];
  for (const g of inRange) {
    const groups = new Set(g.flatMap((a) => a.tags).map(threatGroupOf).filter((x) => x !== undefined));
    for (const c of groups.size ? groups : [UNMAPPED]) categories.set(c, (categories.get(c) ?? 0) + 1);
    for (const a of new Set(g.map((x) => assetOf(x.rule)))) assets.set(a, (assets.get(a) ?? 0) + 1);
    const top = g.map((a) => a.severity).sort((a, b) => rank.indexOf(b) - rank.indexOf(a))[0]!;
    severity.set(top, (severity.get(top) ?? 0) + 1);
  }
  return {
    incidents: inRange.length,
    alerts: planned.incidents.flat().filter((a) => a.time >= range.from && a.time < range.to).length,
    categories, assets, severity,
  };
}

describe('bulletin model on a store filled by the alert pipeline', () => {
  it('counts incidents by category, asset and severity, with the trend against the previous period', async () => {
    const source = new DuckDBBulletinSource((vigil.store as DuckDBStore).connection);
    const b = await loadBulletin({ source, exposure }, T, PERIOD, NOW);
    const now = expected(PERIOD);
    const before = expected(PREVIOUS);
    expect(now.incidents).toBeGreaterThan(40);
    expect(b.headline.incidents).toEqual({ now: now.incidents, before: before.incidents, change: now.incidents - before.incidents, changePct: Math.round((1000 * (now.incidents - before.incidents)) / before.incidents) / 10 });
    expect(b.headline.alerts.now).toBe(now.alerts);
    expect(b.headline.alerts.before).toBe(before.alerts);
    expect(b.headline.fleetVehicles).toBe(40);
    for (const row of b.byCategory) expect([row.key, row.now, row.before]).toEqual([row.key, now.categories.get(row.key) ?? 0, before.categories.get(row.key) ?? 0]);
    expect(new Set(b.byCategory.map((r) => r.key))).toEqual(new Set([...now.categories.keys(), ...before.categories.keys()]));
    for (const row of b.byAsset) expect([row.key, row.now, row.before]).toEqual([row.key, now.assets.get(row.key) ?? 0, before.assets.get(row.key) ?? 0]);
    expect(new Set(b.byAsset.map((r) => r.key))).toEqual(new Set([...now.assets.keys(), ...before.assets.keys()]));
    expect(b.byAsset.map((r) => r.key)).toContain('charging');
    expect(b.byAsset.find((r) => r.key === 'other')?.now).toBe(12);
    expect(b.rules.map((r) => r.key)).toContain(HOSTILE_RULE);
    for (const row of b.bySeverity) expect([row.key, row.now, row.before]).toEqual([row.key, now.severity.get(row.key) ?? 0, before.severity.get(row.key) ?? 0]);
    expect(b.daily.now.reduce((a, x) => a + x, 0)).toBe(now.incidents);
    expect(b.daily.before.reduce((a, x) => a + x, 0)).toBe(before.incidents);
    expect(b.daily.days).toHaveLength(30);
    // Vulnerabilities: ranked by vehicles exposed; new = first exposed in the period.
    expect(b.vulnerabilities?.top.map((v) => v.id)).toEqual(['TEST-2026-0001', 'TEST-2025-0107', 'TEST-2026-0033', 'TEST-2024-2210']);
    expect(b.vulnerabilities?.fresh.map((v) => v.id)).toEqual(['TEST-2026-0001', 'TEST-2026-0033']);
    expect(b.vulnerabilities?.freshTrend).toMatchObject({ now: 2, before: 1 });
    expect(b.vulnerabilities?.kevExposing).toBe(1);
    expect(b.summary[0]).toContain(`Vigil opened ${now.incidents} incidents in the period`);
  });

  it('counts closed incidents and the median time to close', async () => {
    const conn = (vigil.store as DuckDBStore).connection;
    const incidents = new DuckDBIncidentStore(conn);
    const { items } = await incidents.listIncidents({ tenant: T, since: PERIOD.from, limit: 3, sort: { field: 'lastAlertAt', desc: false } });
    const hours = [2, 5, 30];
    for (const [i, inc] of items.entries()) await incidents.updateIncident(T, inc.id, { state: 'resolved', closedAt: inc.firstAlertAt + hours[i]! * HOUR }, NOW);
    const b = await loadBulletin({ source: new DuckDBBulletinSource(conn) }, T, PERIOD, NOW);
    const closedNow = items.filter((x) => x.firstAlertAt >= PERIOD.from && x.firstAlertAt < PERIOD.to).length;
    expect(b.headline.closed.now).toBe(closedNow);
    if (closedNow === 3) expect(b.headline.medianHoursToClose.now).toBeCloseTo(5, 6);
    expect(b.byState.find((s) => s.key === 'resolved')?.now).toBe(closedNow);
    expect(b.vulnerabilities).toBeNull();
  });

  it('counts nothing of another tenant', async () => {
    const b = await loadBulletin({ source: new DuckDBBulletinSource((vigil.store as DuckDBStore).connection), exposure }, 'globex', PERIOD, NOW);
    expect(b.headline.incidents).toMatchObject({ now: 0, before: 0 });
    expect(b.byCategory).toEqual([]);
    expect(b.vulnerabilities?.exposing).toBe(0);
  });
});

describe('GET /v1/reports/bulletin', () => {
  it('answers self-contained HTML with hostile text escaped', async () => {
    const res = await vigil.http!.inject({ method: 'GET', url: '/v1/reports/bulletin?from=2026-11-01&to=2026-12-01&format=html', headers: bearer(viewer) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['content-disposition']).toBe('attachment; filename="vigil-bulletin-acme-2026-11-01-2026-11-30.html"');
    const html = res.body;
    expect(html).toContain('1 Nov 2026 – 30 Nov 2026');
    expect(html).toContain(`x.&lt;script&gt;alert(1)&lt;/script&gt;`);
    expect(html).not.toMatch(/<script|<img|src=|<link|url\(/i);
    // The same document from the model, with exposure: feed titles and model names escaped.
    const b = await loadBulletin({ source: new DuckDBBulletinSource((vigil.store as DuckDBStore).connection), exposure }, T, PERIOD, NOW);
    const withVulns = renderBulletinHtml(b);
    expect(withVulns).toContain('&lt;img src=x onerror=alert(2)&gt;');
    expect(withVulns).toContain('XC40 &lt;/td&gt;&lt;script&gt;x&lt;/script&gt;');
    expect(withVulns).not.toMatch(/<script|<img/i);
  });

  it('refuses a period that ends before it starts, and forbids other tenants', async () => {
    const bad = await vigil.http!.inject({ method: 'GET', url: '/v1/reports/bulletin?from=2026-12-01&to=2026-11-01', headers: bearer(viewer) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toContain('ends before it starts');
    const other = await vigil.http!.inject({ method: 'GET', url: '/v1/reports/bulletin?tenant=globex', headers: bearer(viewer) });
    expect(other.statusCode).toBe(403);
  });

});

describe('with the intel store (demo advisories and SBOMs)', () => {
  const exposed: { id: string; vehicles: number }[] = [];
  beforeAll(async () => {
    const conn = (vigil.store as DuckDBStore).connection;
    const intel = new DuckDBIntelStore(conn);
    // First exposure inside the period; the exposure alerts it raises are stored (after the counts above were checked).
    const service = new IntelService({ store: intel, clock: new ManualClock(PERIOD.from + 9 * DAY), insertAlerts: (a) => vigil.store.insertAlerts(a), offerAlerts: () => undefined });
    const feeds = readdirSync(INTEL_EXAMPLES).filter((f) => f.endsWith('.json')).sort().map((f) => ({ name: f, text: readFileSync(join(INTEL_EXAMPLES, f), 'utf8') }));
    await service.importFeeds(feeds, { tenant: T, actor: 'test' });
    await service.importSboms(demoSboms().map((d) => ({ name: d.name, text: JSON.stringify(d.doc) })), { tenant: T, actor: 'test' });
    for (const id of ['VIGIL-DEMO-2026-0001', 'VIGIL-DEMO-2026-0002', 'VIGIL-DEMO-2026-0003']) {
      const e = await intel.exposure(T, id);
      if (e.vehicles > 0) exposed.push({ id, vehicles: e.vehicles });
    }
    exposed.sort((a, b) => b.vehicles - a.vehicles);
  }, 120_000);

  it('lists the vulnerabilities exposing the fleet, with the vehicles the exposure query counts, as new in the period', async () => {
    expect(exposed.length).toBeGreaterThan(0);
    const res = await vigil.http!.inject({ method: 'GET', url: '/v1/reports/bulletin?from=2026-11-01&to=2026-12-01', headers: bearer(viewer) });
    expect(res.statusCode).toBe(200);
    const b = await loadBulletin({ source: new DuckDBBulletinSource((vigil.store as DuckDBStore).connection), exposure: new DuckDBIntelStore((vigil.store as DuckDBStore).connection) }, T, PERIOD, NOW);
    expect(b.vulnerabilities?.top.map((v) => [v.id, v.vehicles])).toEqual(exposed.map((x) => [x.id, x.vehicles]));
    expect(b.vulnerabilities?.fresh.map((v) => v.id)).toEqual(exposed.map((x) => x.id));
    for (const x of exposed) expect(res.body).toContain(`<td class='id'>${x.id}`);
  });

  it('prints a PDF with the headline numbers (Chromium)', async (ctx) => {
    const chromium = await chromiumPath().catch((e: Error) => e);
    if (chromium instanceof Error) {
      if (process.env['CI'] === 'true') throw chromium;
      ctx.skip();
      return;
    }
    const res = await vigil.http!.inject({ method: 'GET', url: '/v1/reports/bulletin?from=2026-11-01&to=2026-12-01&format=pdf', headers: bearer(viewer) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    const pdf = res.rawPayload;
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const dir = process.env['VIGIL_BULLETIN_OUT'];
    if (dir) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'bulletin.pdf'), pdf);
    }
    if (!existsSync('/usr/bin/pdftotext')) {
      if (process.env['CI'] === 'true') throw new Error('pdftotext (poppler-utils) is missing');
      console.warn('pdftotext missing (apt-get install poppler-utils): PDF text not checked');
      return;
    }
    const file = join(process.env['TMPDIR'] ?? '/tmp', `vigil-bulletin-${process.pid}.pdf`);
    writeFileSync(file, pdf);
    const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
    const pages = Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [file], { encoding: 'utf8' }))?.[1]);
    const now = expected(PERIOD);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(pages).toBeLessThanOrEqual(10);
    expect(text).toContain('Vehicle vulnerability and threat-intelligence bulletin');
    expect(text).toContain(`Vigil opened ${now.incidents} incidents in the period`);
    expect(text).toContain(exposed[0]!.id);
    expect(text).toMatch(new RegExp(`Page 1 of ${pages}`));
  }, 90_000);
});

describe('vigil report bulletin', () => {
  const run = (args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ['bin/vigil.js', ...args], { env: { ...process.env, VIGIL_FROM_SOURCE: '1' }, timeout: 120_000 }, (e, stdout, stderr) =>
      resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });

  it('writes the bulletin of the store named by --data-dir, and refuses a backwards period', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-bulletin-'));
    try {
      const alerts = join(dir, 'alerts.jsonl');
      // Three back-end alerts days apart (three campaign incidents), two in November, one in October.
      writeFileSync(alerts, [
        { id: 'c-1', time: '2026-11-03T10:00:00Z', rule: 'charging.firmware-signature-invalid', severity: 'critical', tags: ['ATM-T0031', 'R155-A5:12.1'] },
        { id: 'c-2', time: '2026-11-20T10:00:00Z', rule: 'api.revoked-token-replay', severity: 'high', tags: ['R155-A5:1.1'] },
        { id: 'c-3', time: '2026-10-12T10:00:00Z', rule: 'api.revoked-token-replay', severity: 'high', tags: ['R155-A5:1.1'] },
      ].map((a) => JSON.stringify(a)).join('\n'));
      const imp = await run(['import', 'alerts', '--triage', alerts, '--data-dir', dir, '--tenant', T]);
      expect(imp.code).toBe(0);
      const out = join(dir, 'nov.html');
      const r = await run(['report', 'bulletin', '--from', '2026-11-01', '--to', '2026-12-01', '--tenant', T, '--data-dir', dir, '--out', out]);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toBe(`wrote ${out} (html): tenant ${T}, 2 incidents (previous period 1), 2 alerts\n`);
      const html = readFileSync(out, 'utf8');
      expect(html).toContain('Vigil opened 2 incidents in the period (previous period: 1, +100.0%)');
      expect(html).toContain('<td>Charging (stations, sessions, id tokens)</td><td class=\'num\'>1</td><td class=\'num\'>0</td>');
      const bad = await run(['report', 'bulletin', '--from', '2026-12-01', '--to', '2026-11-01', '--data-dir', dir, '--out', join(dir, 'x.html')]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('the period ends before it starts');
      expect(existsSync(join(dir, 'x.html'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
