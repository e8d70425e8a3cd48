/**
 * The alert pipeline through the front door: the simulator's fleet with its attacks goes
 * through startVigil (inline lanes, DuckDB in memory, the shipped rule pack, a manual clock);
 * the stored alerts are decided into incidents, each with an outcome; evidence holds the
 * signals before and after the alert; the routes answer over HTTP (inject). Then the
 * service on its own: duplicates and suppressions counted, a noisy fleet held by the caps.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startAlertPipeline } from '../src/api/alert-pipeline.js';
import { startVigil, type Vigil } from '../src/api/vigil.js';
import { DuckDBStore } from '../src/adapters/duckdb/duckdb-store.js';
import { DuckDBIncidentStore } from '../src/adapters/duckdb/incident-store.js';
import type { WorkflowStore } from '../src/alerts/ports.js';
import { AlertService } from '../src/runtime/alert-service.js';
import { Metrics } from '../src/runtime/metrics.js';
import { DuckDBWorkflowStore } from '../src/adapters/duckdb/workflow-store.js';
import { makeVin } from '../src/normalize/vin.js';
import { resolve } from 'node:path';
import { ManualClock } from '../src/core/clock.js';
import type { Alert } from '../src/core/records.js';
import type { ConfigError } from '../src/core/errors.js';
import { parseConfig } from '../src/runtime/config.js';
import type { InputItem } from '../src/runtime/lane.js';
import { FleetSimulator, type ScenarioLabel } from '../src/sim/index.js';
import { apiToken, bearer } from './http-helpers.js';

const SECRET_ENV = 'VIGIL_TEST_ALERTS_SECRET';
const FIXTURE_RULES = resolve(import.meta.dirname, 'fixtures/detection');
process.env[SECRET_ENV] = 'alert-pipeline-test-secret-0123456789';

let running: Vigil | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

/** The token the HTTP calls of a test present (set once Vigil is started). */
let token = '';
async function get<T = Record<string, unknown>>(v: Vigil, url: string, secret = token): Promise<{ status: number; body: T }> {
  const res = await v.http!.inject({ method: 'GET', url, headers: bearer(secret) });
  return { status: res.statusCode, body: res.json() as T };
}

type AlertView = Alert & { outcome: { kind: string; ref: string; at: number } | null };
type EvidenceView = { signals: { rows: { time: number; path: string }[] }; frames: { rows: unknown[] }; twin: { identity: unknown } | null; complete: boolean; window: { from: number; to: number } };

describe('alert pipeline in Vigil', () => {
  it('turns the simulated attacks into incidents with outcomes, evidence and a noise figure', async () => {
    const sim = new FleetSimulator({ vehicles: 20, seed: 7, attacks: true, malformedRate: 0 });
    const start = sim.options.start;
    const tenant = sim.options.tenants[0]!;
    const clock = new ManualClock(start);
    const config = parseConfig({
      tenant, store: { path: ':memory:' }, http: { port: 0 }, normalize: { secretEnv: SECRET_ENV },
      detection: { tickIntervalMs: 3_600_000 },
    });
    const v = (running = await startVigil(config, { clock, inline: true }));
    // A viewer of the tenant: the alert routes need `read` only.
    token = await apiToken(v, 'viewer', tenant);
    // As the simulator source does: the fleet's identities first (make, model, year, ECU software).
    await v.pipeline.registerVehicles(tenant, sim.fleet.identities());
    const labels: ScenarioLabel[] = [];
    let items: InputItem[] = [];
    const end = start + 400_000;
    for (let t = start; t < end; t += 1000) {
      sim.tick(t, { item: (it) => items.push({ kind: it.kind, tenant: it.tenant, source: 'sim', payload: it.payload, receivedAt: t }), label: (l) => labels.push(l) });
      clock.set(t + 500);
      for (const it of items) await v.pipeline.push(it);
      items = [];
      await new Promise((r) => setImmediate(r));
      if ((t - start) % 10_000 === 0) {
        v.pipeline.tickRules();
        await v.pipeline.drain();
        await v.alerts.service.idle();
        await v.alerts.evidence.tick();
      }
    }
    await v.pipeline.drain();
    await v.alerts.service.idle();
    expect(labels.map((l) => l.scenario)).toEqual(expect.arrayContaining(['credential-stuffing', 'gps-spoofing', 'odometer-rollback']));

    // Every stored alert was decided; incidents formed from them.
    const stored = await v.store.listAlerts({ tenant, limit: 10_000 });
    expect(stored.length).toBeGreaterThan(3);
    expect((await get<{ total: number }>(v, '/v1/alerts?outcome=pending')).body.total).toBe(0);
    const listed = await get<{ items: AlertView[]; total: number }>(v, '/v1/alerts?limit=1000');
    expect(listed.status).toBe(200);
    expect(listed.body.total).toBe(stored.length);
    const incidents = await v.alerts.incidents.listIncidents({ tenant, limit: 1000 });
    expect(incidents.total).toBeGreaterThanOrEqual(3);
    const grouped = listed.body.items.filter((a) => a.outcome?.kind === 'incident');
    const incidentIds = new Set(incidents.items.map((i) => i.id));
    for (const a of grouped) expect(incidentIds.has(a.outcome!.ref), a.id).toBe(true);
    for (const a of listed.body.items.filter((x) => x.outcome?.kind === 'duplicate')) {
      expect(stored.some((s) => s.id === a.outcome!.ref && s.rule === a.rule), a.id).toBe(true);
    }
    // The alert links and counts of each incident add up to the outcomes that point at it.
    for (const i of incidents.items) {
      const ids = await v.alerts.incidents.incidentAlertIds(tenant, i.id, { limit: 10_000 });
      expect(ids.sort()).toEqual(grouped.filter((a) => a.outcome!.ref === i.id).map((a) => a.id).sort());
      expect(i.alertCount).toBe(ids.length);
      expect(i.risk).toBeGreaterThan(0);
      expect(i.risk).toBeLessThanOrEqual(100);
    }
    // The back-end attack forms a fleet-level incident; the vehicle attacks vehicle incidents with the twin's identity.
    const byRule = (prefix: string) => incidents.items.filter((i) => i.rules.some((r) => r.startsWith(prefix)));
    expect(byRule('odometer.').every((i) => i.kind === 'vehicle' && i.vehicle !== undefined)).toBe(true);
    expect(byRule('odometer.')[0]!.context['identity']).toMatchObject({ make: expect.any(String), model: expect.any(String) });

    // Noise: alerts in vs incidents out, per rule and in total; the metrics agree.
    const noise = await get<{ totals: { alerts: number; incidents: number; duplicates: number; suppressed: number; reductionPct: number }; rules: { rule: string; alerts: number }[] }>(v, '/v1/alerts/noise');
    expect(noise.status).toBe(200);
    expect(noise.body.totals.alerts).toBe(stored.length);
    expect(noise.body.totals.incidents).toBe(incidents.total);
    expect(noise.body.totals.incidents).toBeLessThan(noise.body.totals.alerts);
    expect(noise.body.totals.reductionPct).toBeCloseTo((100 * (stored.length - incidents.total)) / stored.length, 0);
    expect(noise.body.rules.reduce((s, r) => s + r.alerts, 0)).toBe(stored.length);
    const m = v.pipeline.metrics;
    expect(m.get('vigil_alert_pipeline_alerts_total')).toBe(stored.length);
    expect(m.get('vigil_alert_pipeline_duplicates_total')).toBe(noise.body.totals.duplicates);
    expect(m.get('vigil_incidents_opened_total')).toBe(incidents.total);
    console.log(`alert pipeline, 20 vehicles, 400 s: ${noise.body.totals.alerts} alerts in, ${noise.body.totals.duplicates} duplicates, ${noise.body.totals.incidents} incidents out (${noise.body.totals.reductionPct}% fewer)`);

    // Evidence: after the clock passed alert time + 60 s, the window around a vehicle alert.
    clock.set(end + 120_000);
    await v.alerts.evidence.tick();
    const vehicleAlert = grouped.find((a) => a.vehicle !== undefined && a.rule.startsWith('odometer.'))!;
    const one = await get<AlertView & { evidence: { capturedAt: number; evidence: EvidenceView } | null }>(v, `/v1/alerts/${encodeURIComponent(vehicleAlert.id)}`);
    expect(one.status).toBe(200);
    expect(one.body.outcome).toMatchObject({ kind: 'incident' });
    const ev = one.body.evidence!.evidence;
    expect(ev.window).toEqual({ from: vehicleAlert.time - 60_000, to: vehicleAlert.time + 60_000, beforeMs: 60_000, afterMs: 60_000 });
    expect(ev.complete).toBe(true);
    expect(ev.signals.rows.some((s) => s.time < vehicleAlert.time)).toBe(true);
    expect(ev.signals.rows.some((s) => s.time > vehicleAlert.time)).toBe(true);
    expect(ev.signals.rows.some((s) => s.path === 'Vehicle.TraveledDistance')).toBe(true);
    expect(ev.twin).not.toBeNull();
    expect(v.alerts.evidence.waiting).toBe(0);

    // Bad input is a 400 with the field; an unknown alert 404.
    const bad = await get<{ fields: { path: string }[] }>(v, '/v1/alerts?severity=severe&since=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.fields.map((f) => f.path).sort()).toEqual(['/severity/0', '/since']);
    expect((await get(v, '/v1/alerts/nope')).status).toBe(404);
    // Another tenant's token sees none of these alerts; no token at all is a 401.
    const other = await apiToken(v, 'admin', 'other');
    expect((await get<{ total: number }>(v, '/v1/alerts', other)).body.total).toBe(0);
    expect((await get(v, `/v1/alerts/${encodeURIComponent(vehicleAlert.id)}`, other)).status).toBe(404);
    expect((await get<{ totals: { alerts: number } }>(v, '/v1/alerts/noise', other)).body.totals.alerts).toBe(0);
    expect((await v.http!.inject({ method: 'GET', url: '/v1/alerts' })).statusCode).toBe(401);
    const filtered = await get<{ items: AlertView[]; total: number }>(v, `/v1/alerts?rule=${vehicleAlert.rule}&vehicle=${vehicleAlert.vehicle}&outcome=incident`);
    expect(filtered.body.items.every((a) => a.rule === vehicleAlert.rule && a.vehicle === vehicleAlert.vehicle)).toBe(true);
    expect(filtered.body.total).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('rebuilds its open-incident index at start: a later alert of the vehicle joins the stored incident', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const config = parseConfig({ store: { path: ':memory:' }, http: { enabled: false }, normalize: { secretEnv: SECRET_ENV } });
    const v = (running = await startVigil(config, { clock, inline: true }));
    const t = clock.now();
    const mk = (n: number, over: Partial<Alert> = {}): Alert => ({
      id: `x${n}`, tenant: 'demo', vehicle: '00000000000000aa', time: t + n * 1000, detectedAt: t, rule: `uds.rule-${n}`, title: 'UDS', severity: 'high', tags: [], details: {}, ...over,
    });
    await v.store.insertAlerts([mk(1)]);
    v.alerts.service.offer([mk(1)]);
    await v.alerts.service.idle();
    const [first] = (await v.alerts.incidents.listIncidents({ tenant: 'demo', limit: 10 })).items;
    expect(first).toMatchObject({ alertCount: 1 });

    // A second alert pipeline over the same store (a restart): the index comes back from the store.
    const again = await startAlertPipeline({ store: v.store as DuckDBStore, pipeline: v.pipeline, catalog: v.catalog, clock, intel: v.intel.store });
    await v.alerts.stop();
    await v.store.insertAlerts([mk(2), mk(3)]);
    again.service.offer([mk(2), mk(3), mk(1)]);
    await again.service.idle();
    const after = await v.alerts.incidents.listIncidents({ tenant: 'demo', limit: 10 });
    expect(after.total).toBe(1);
    expect(after.items[0]).toMatchObject({ id: first!.id, alertCount: 3, rules: ['uds.rule-1', 'uds.rule-2', 'uds.rule-3'] });
    // x1 was decided before: offered again, it is not decided twice.
    expect((await v.alerts.incidents.noise('demo')).reduce((s, r) => s + r.alerts, 0)).toBe(3);
    await again.stop();
  });

  it('counts duplicates and suppressed alerts, and a noisy fleet stays within the caps', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const config = parseConfig({ store: { path: ':memory:' }, http: { enabled: false }, normalize: { secretEnv: SECRET_ENV } });
    const v = (running = await startVigil(config, { clock, inline: true }));
    const t = clock.now();
    const noisy = '00000000000000aa';
    const alert = (id: string, i: number, over: Partial<Alert>): Alert => ({ id, tenant: 'demo', vehicle: noisy, time: t + i * 1000, detectedAt: t, rule: 'can.flood', title: 'flood', severity: 'high', tags: [], details: {}, ...over });
    await v.alerts.incidents.insertSuppression({ tenant: 'demo', id: 's1', rule: 'can.unknown-id', match: { 'details.can_id': 2015 }, reason: 'bench', createdBy: 't', createdAt: t, expiresAt: t + 3_600_000, hits: 0 });
    await v.alerts.service.refreshSuppressions();
    // One vehicle: the same detection every second for 15 min (10 min dedup window), and a
    // suppressed one; an unknown id the suppression does not name is not suppressed.
    const first: Alert[] = [];
    for (let i = 0; i < 900; i++) first.push(alert(`n${i}`, i, {}));
    for (let i = 0; i < 100; i++) first.push(alert(`s${i}`, i, { rule: 'can.unknown-id', severity: 'medium', details: { can_id: i === 99 ? 2016 : 2015 } }));
    await v.store.insertAlerts(first);
    v.alerts.service.offer(first);
    await v.alerts.service.idle();
    const noise = await v.alerts.service.noise('demo');
    const row = (rule: string) => noise.rules.find((r) => r.rule === rule)!;
    expect(row('can.flood')).toMatchObject({ alerts: 900, duplicates: 898, incidentAlerts: 2, incidents: 1 });
    expect(row('can.unknown-id')).toMatchObject({ alerts: 100, suppressed: 99, incidentAlerts: 1 });
    expect(noise.totals).toMatchObject({ alerts: 1000, duplicates: 898, suppressed: 99, incidents: 1 });
    expect((await v.alerts.incidents.listSuppressions({ tenant: 'demo', limit: 10 })).items[0]!.hits).toBe(99);
    expect(v.pipeline.metrics.get('vigil_alert_pipeline_suppressed_total')).toBe(99);
    expect(v.pipeline.metrics.get('vigil_alert_pipeline_duplicates_total')).toBe(898);

    // A noisy fleet against small caps: the noisy vehicle raises 400 distinct groups, 100 other
    // vehicles one alert each. The state stays within 20 open incidents and 50 dedup keys.
    await v.alerts.stop();
    const a = await startAlertPipeline({ store: v.store as DuckDBStore, pipeline: v.pipeline, catalog: v.catalog, clock, intel: v.intel.store, options: { maxOpenIncidents: 20, maxDedupKeys: 50 } });
    try {
      const more: Alert[] = [];
      for (let i = 0; i < 400; i++) more.push(alert(`g${i}`, 1000 + i, { rule: 'can.dlc', severity: 'low', details: { group: { id: i } } }));
      for (let i = 0; i < 100; i++) more.push(alert(`v${i}`, 1000 + i, { rule: 'gnss.jump', severity: 'medium', vehicle: (0x1000 + i).toString(16).padStart(16, '0') }));
      await v.store.insertAlerts(more);
      a.service.offer(more);
      await a.service.idle();
      const state = a.service.pipeline.state;
      expect(state.openIncidents).toBeLessThanOrEqual(20);
      expect(state.dedupKeys).toBeLessThanOrEqual(50);
      expect(state.incidentsEvicted).toBeGreaterThan(75);
      expect(state.dedupKeysEvicted).toBeGreaterThan(400);
      const after = await a.service.noise('demo');
      expect(after.totals.alerts).toBe(1500);
      // Every one of the 100 vehicles got its incident; the noisy vehicle's alerts kept joining its own.
      expect(after.rules.find((r) => r.rule === 'gnss.jump')).toMatchObject({ alerts: 100, incidents: 100 });
      expect(after.rules.find((r) => r.rule === 'can.dlc')).toMatchObject({ alerts: 400, incidents: 1 });
      // A burst of one vehicle shares one evidence capture: g5 (5 s after g0) points at g0's.
      await a.evidence.idle();
      expect((await a.incidents.getEvidence('demo', 'g5'))!.evidence).toMatchObject({ sharedWith: 'g0', window: { from: t + 1005_000 - 60_000 } });
      // 100 vehicles' captures, and one per 11 s of the noisy vehicle's 400 s burst (ceil(400 / 11) = 37), not 400.
      expect(a.evidence.waiting).toBe(137);
    } finally {
      await a.stop();
    }
  }, 60_000);

  it('takes its windows and caps from config alerts: a 1 min dedup window splits what 10 min would join; bad keys are listed', async () => {
    const cfg = parseConfig({
      store: { path: ':memory:' }, http: { enabled: false }, normalize: { secretEnv: SECRET_ENV },
      alerts: { dedupWindow: { default: '1m', critical: '5m' }, groupWindow: '30m', maxOpenIncidents: 5, evidence: { before: '10s' } },
    });
    expect(cfg.alerts).toMatchObject({ dedupWindow: { info: 60_000, high: 60_000, critical: 300_000 }, groupWindow: 1_800_000, campaignWindow: 86_400_000, maxOpenIncidents: 5, maxDedupKeys: 50_000, evidence: { before: 10_000, after: 60_000 } });
    let problems: readonly string[] = [];
    try {
      parseConfig({ alerts: { dedupWindow: { severe: '1m', high: 'soon' }, maxDedupKeys: 0 } });
    } catch (e) {
      problems = (e as ConfigError).problems;
    }
    expect(problems.join('\n')).toMatch(/alerts\.dedupWindow.*severe/);
    expect(problems.join('\n')).toMatch(/alerts\.dedupWindow\.high/);
    expect(problems.join('\n')).toMatch(/alerts\.maxDedupKeys/);

    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const v = (running = await startVigil(cfg, { clock, inline: true }));
    const t = clock.now();
    const burst: Alert[] = Array.from({ length: 300 }, (_, i) => ({ id: `b${i}`, tenant: 'demo', vehicle: '00000000000000aa', time: t + i * 1000, detectedAt: t, rule: 'can.flood', title: 'flood', severity: 'high', tags: [], details: {} }));
    await v.store.insertAlerts(burst);
    v.alerts.service.offer(burst);
    await v.alerts.service.idle();
    // 300 s of one alert a second with a 1 min window: a new first every 60 s, all in one incident (30 min grouping).
    expect((await v.alerts.service.noise('demo')).rules).toEqual([expect.objectContaining({ rule: 'can.flood', alerts: 300, duplicates: 295, incidentAlerts: 5, incidents: 1 })]);
  }, 60_000);

  it('forms a campaign incident from fleet correlation and tags and links the vehicle incidents it counted', async () => {
    const clock = new ManualClock(Date.parse('2026-06-01T10:00:00Z'));
    const cfg = parseConfig({ store: { path: ':memory:' }, http: { enabled: false }, normalize: { secretEnv: SECRET_ENV }, detection: { rules: [FIXTURE_RULES] } });
    const v = (running = await startVigil(cfg, { clock, inline: true }));
    const t = clock.now();
    const send = async (vin: string, ts: number, km: number): Promise<void> => {
      clock.set(ts + 100);
      await v.pipeline.push({ kind: 'signals', tenant: 'demo', source: 'test', receivedAt: ts + 100, payload: JSON.stringify({ vin, ts, signals: { 'Vehicle.TraveledDistance': km } }) });
      await v.pipeline.drain();
      await v.alerts.service.idle();
    };
    const vins = [makeVin({ wmi: 'YV1', vds: 'MZ79L', year: 2024, plant: '1' }, 1), makeVin({ wmi: 'YV1', vds: 'MZ79L', year: 2024, plant: '1' }, 2)];
    for (const [i, vin] of vins.entries()) {
      await send(vin, t + i * 10_000, 90_000);
      await send(vin, t + i * 10_000 + 1000, 10_000);
    }
    const { items } = await v.alerts.incidents.listIncidents({ tenant: 'demo', limit: 10 });
    const campaign = items.find((i) => i.kind === 'campaign')!;
    expect(campaign).toMatchObject({ rules: ['t.campaign'], severity: 'critical', vehicleCount: 2, title: expect.stringMatching(/^Campaign: /) });
    const vehicles = items.filter((i) => i.kind === 'vehicle');
    expect(vehicles).toHaveLength(2);
    for (const i of vehicles) {
      expect(i.tags).toContain(`campaign:${campaign.id}`);
      expect(i.context['campaign']).toBe(campaign.id);
    }
    const workflow = new DuckDBWorkflowStore((v.store as DuckDBStore).connection);
    expect((await workflow.links('demo', campaign.id)).map((l) => l.relation)).toEqual(['campaign', 'campaign']);
    expect((await workflow.events('demo', campaign.id)).map((e) => e.kind)).toEqual(['created']);
    expect((await workflow.events('demo', vehicles[0]!.id)).map((e) => e.kind)).toEqual(expect.arrayContaining(['created', 'link']));
  }, 60_000);

  it('retries a failing persist step from where it failed, and leaves the alerts pending when it keeps failing', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const store = await DuckDBStore.open({ path: ':memory:' });
    try {
      const incidents = new DuckDBIncidentStore(store.connection);
      const real = new DuckDBWorkflowStore(store.connection);
      let failures = 2;
      // The real workflow store, failing its next `failures` appends as a lost connection would.
      const workflow: WorkflowStore = Object.assign(Object.create(real) as WorkflowStore, {
        appendEvents: async (events: Parameters<WorkflowStore['appendEvents']>[0]) => {
          if (failures-- > 0) throw new Error('connection lost');
          return real.appendEvents(events);
        },
      });
      const metrics = new Metrics(() => clock.now());
      const service = new AlertService({ clock, metrics, store, incidents, queries: incidents, workflow });
      await service.start();
      await incidents.insertSuppression({ tenant: 'demo', id: 's1', rule: 'r.hidden', match: {}, reason: 'r', createdBy: 't', createdAt: clock.now(), expiresAt: clock.now() + 60_000, hits: 0 });
      await service.refreshSuppressions();
      const t = clock.now();
      const mk = (id: string, rule: string, vehicle: string): Alert => ({ id, tenant: 'demo', vehicle, time: t, detectedAt: t, rule, title: rule, severity: 'high', tags: [], details: {} });
      const batch = [mk('a1', 'r.shown', '00000000000000aa'), mk('a2', 'r.hidden', '00000000000000aa')];
      await store.insertAlerts(batch);
      service.offer(batch);
      await service.idle();
      expect(metrics.get('vigil_alert_pipeline_errors_total')).toBe(0);
      const [inc] = (await incidents.listIncidents({ tenant: 'demo', limit: 10 })).items;
      expect((await real.events('demo', inc!.id)).map((e) => e.kind)).toEqual(['created']);
      expect((await incidents.listSuppressions({ tenant: 'demo', limit: 10 })).items[0]!.hits).toBe(1);
      expect((await incidents.listAlerts({ tenant: 'demo', outcome: 'pending', limit: 10 })).total).toBe(0);

      failures = 100;
      const next = [mk('a3', 'r.other', '00000000000000bb')];
      await store.insertAlerts(next);
      service.offer(next);
      await service.idle();
      expect(metrics.get('vigil_alert_pipeline_errors_total')).toBe(1);
      expect(service.lastError?.message).toBe('connection lost');
      expect((await incidents.listAlerts({ tenant: 'demo', outcome: 'pending', limit: 10 })).items.map((a) => a.id)).toEqual(['a3']);
    } finally {
      await store.close();
    }
  }, 60_000);
});
