/**
 * STIX indicators matched in the stream, through the front door: startVigil (inline lanes,
 * then two worker threads) -> pipeline.setIndicators -> back-end log lines and vehicle
 * connection events -> alerts in the store and an intel incident. A bad address raises one
 * alert per dedup window, with the indicator and the matched field in its details; a new set
 * takes effect at once, and /metrics counts indicators and hits.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startVigil, type Vigil } from '../src/api/vigil.js';
import { ManualClock } from '../src/core/clock.js';
import type { Alert } from '../src/core/records.js';
import { importFeedDocuments } from '../src/intel/feeds/index.js';
import type { Indicator } from '../src/intel/model.js';
import { makeVin } from '../src/normalize/vin.js';
import { parseConfig } from '../src/runtime/config.js';
import { Partitioner } from '../src/runtime/partition.js';
import type { ScenarioLabel } from '../src/sim/scenarios.js';
import { FleetSimulator } from '../src/sim/simulator.js';

const SECRET_ENV = 'VIGIL_TEST_INTEL_SECRET';
process.env[SECRET_ENV] = 'intel-test-secret-0123456789abcdef';
const vin = (n: number): string => makeVin({ wmi: 'YV1', vds: 'MZ79L', year: 2024, plant: '1' }, n);

/** The example bundle shipped for the demo (examples/intel). */
const bundle = importFeedDocuments([{ name: 'examples/intel/vsoc-demo-indicators.json', text: readFileSync(new URL('../examples/intel/vsoc-demo-indicators.json', import.meta.url), 'utf8') }]);
const byName = (name: string): Indicator => bundle.indicators.find((i) => i.name === name)!;

const config = (workers: number) => parseConfig({ store: { path: ':memory:' }, http: { enabled: false }, normalize: { secretEnv: SECRET_ENV }, runtime: { workers } });

let running: Vigil | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

const logLine = (ts: number, ip: string, actor = 'acct-7', extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ ts, service: 'telematics', actor, method: 'POST', endpoint: '/v1/auth/login', status: 401, ip, ua: 'python-requests/2.31.0', ...extra });

async function push(v: Vigil, kind: 'log' | 'security', payload: string, clock?: ManualClock, at?: number): Promise<void> {
  if (clock && at !== undefined) clock.set(at);
  await v.pipeline.push({ kind, tenant: 'demo', source: 'test', receivedAt: at ?? Date.now(), payload });
}

async function settle(v: Vigil): Promise<void> {
  await v.pipeline.drain();
  await v.alerts.idle();
}

const indicatorAlerts = async (v: Vigil): Promise<Alert[]> =>
  (await v.store.listAlerts({ tenant: 'demo', limit: 1000 })).filter((a) => a.rule === 'intel.indicator-match').sort((a, b) => a.time - b.time);

describe('STIX indicators in the pipeline', () => {
  it('the example bundle imports cleanly and every indicator in it compiles', () => {
    expect(bundle.report.filter((r) => r.status !== 'ok')).toEqual([]);
    expect(bundle.indicators).toHaveLength(6);
  });

  it('inline lanes: a log line from a bad address raises one alert per dedup window, with the indicator, field and value; it joins the intel incident', async () => {
    const T0 = Date.parse('2026-12-01T10:00:00Z');
    const clock = new ManualClock(T0);
    const v = (running = await startVigil(config(1), { clock, inline: true }));
    const report = v.pipeline.setIndicators(bundle.indicators);
    expect(report).toMatchObject({ indicators: 6, compiled: 5, skipped: [{ id: byName('Retired scanner address').id, reason: 'revoked' }], groupsSkipped: [] });

    // 30 failed logins from one botnet address in 5 minutes, one account: one alert.
    for (let i = 0; i < 30; i++) await push(v, 'log', logLine(T0 + i * 10_000, '203.0.113.77'), clock, T0 + i * 10_000 + 50);
    // A clean caller: nothing.
    await push(v, 'log', logLine(T0 + 301_000, '2001:db8:1:2::3'), clock, T0 + 301_050);
    await settle(v);
    let alerts = await indicatorAlerts(v);
    expect(alerts).toHaveLength(1);
    const ind = byName('Credential-stuffing botnet (telematics API)');
    expect(alerts[0]).toMatchObject({
      time: T0, severity: 'high', tags: [],
      details: { intel: ind.id, field: 'sourceIp', value: '203.0.113.77', observable: "ipv4-addr:value = '203.0.113.0/24'", account: 'acct-7' },
    });

    // After the window (10 min) the same address and account alert again, once.
    for (let i = 0; i < 3; i++) await push(v, 'log', logLine(T0 + 700_000 + i * 1000, '203.0.113.77'), clock, T0 + 700_000 + i * 1000 + 50);
    await settle(v);
    alerts = await indicatorAlerts(v);
    expect(alerts.map((a) => a.time)).toEqual([T0, T0 + 700_000]);
    expect(v.pipeline.metrics.get('vigil_intel_indicator_hits_total')).toBe(33);

    // A vehicle's telematics unit connecting to the C2 domain: an alert on the vehicle, with the CVE the indicator relates to.
    await push(v, 'security', JSON.stringify({ vin: vin(1), ts: T0 + 710_000, seq: 1, eventId: 0x8901, sensor: 'IviIds', count: 1, context: { domain: 'Update.C2-Relay.Example.NET', bytesOut: 2048 } }), clock, T0 + 710_100);
    await settle(v);
    const c2 = (await indicatorAlerts(v)).filter((a) => a.vehicle !== undefined);
    expect(c2).toHaveLength(1);
    expect(c2[0]!.details).toMatchObject({ intel: byName('Head-unit malware command server').id, field: 'context.domain', value: 'Update.C2-Relay.Example.NET', cve: 'CVE-2023-28902' });
    expect(c2[0]!.severity).toBe('critical');

    const { items } = await v.alerts.incidents.listIncidents({ tenant: 'demo', kind: 'intel', limit: 10, offset: 0 });
    expect(items.map((i) => i.groupKey).sort()).toEqual([ind.id, byName('Head-unit malware command server').id].sort());
  });

  it('inline lanes: a new set replaces the old one at once; an empty set matches nothing', async () => {
    const T0 = Date.parse('2026-12-01T10:00:00Z');
    const clock = new ManualClock(T0);
    const v = (running = await startVigil(config(1), { clock, inline: true }));
    await push(v, 'log', logLine(T0, '192.0.2.10'), clock, T0 + 50);
    await settle(v);
    expect(await indicatorAlerts(v)).toEqual([]);
    const one = bundle.indicators.filter((i) => i.pattern.includes('192.0.2.0/24'));
    expect(one).toHaveLength(1);
    v.pipeline.setIndicators(one);
    expect(v.pipeline.metrics.get('vigil_intel_indicators')).toBe(1);
    await push(v, 'log', logLine(T0 + 1000, '192.0.2.10'), clock, T0 + 1050);
    await settle(v);
    expect(await indicatorAlerts(v)).toHaveLength(1);
    v.pipeline.setIndicators([]);
    await push(v, 'log', logLine(T0 + 2000, '192.0.2.10', 'acct-8'), clock, T0 + 2050);
    await settle(v);
    expect(await indicatorAlerts(v)).toHaveLength(1);
    expect(v.pipeline.metrics.get('vigil_intel_indicators')).toBe(0);
  });

  it('worker threads: the set reaches every worker, at start of a change and after; one alert per vehicle and window', async () => {
    const v = (running = await startVigil(config(2)));
    const now = Date.now() - 60_000;
    // Security events route by VIN: eight vehicles spread over both workers.
    const partitioner = new Partitioner(v.config.runtime.partitions, 2);
    expect(new Set(Array.from({ length: 8 }, (_, i) => partitioner.workerOf('demo', vin(10 + i))))).toEqual(new Set([0, 1]));
    const events = (at: number, seq: number) => Array.from({ length: 8 }, (_, i) =>
      JSON.stringify({ vin: vin(10 + i), ts: at + i, seq, eventId: 0x8903, sensor: 'TcuIds', count: 1, context: { port: 443, host: 'api.c2-relay.example.net' } }));
    for (const e of events(now, 1)) await push(v, 'security', e);
    await settle(v);
    expect(await indicatorAlerts(v)).toEqual([]);
    v.pipeline.setIndicators(bundle.indicators);
    for (let round = 0; round < 3; round++) for (const e of events(now + 1000 + round * 100, 2 + round)) await push(v, 'security', e);
    await push(v, 'log', logLine(now + 2000, '198.51.100.23'));
    await settle(v);
    const alerts = await indicatorAlerts(v);
    const onVehicles = alerts.filter((a) => a.vehicle !== undefined);
    expect(onVehicles).toHaveLength(8);
    expect(new Set(onVehicles.map((a) => a.vehicle)).size).toBe(8);
    expect(onVehicles.every((a) => a.details['intel'] === byName('Head-unit malware command server').id && a.details['field'] === 'context.host')).toBe(true);
    expect(alerts.filter((a) => a.vehicle === undefined).map((a) => a.details['intel'])).toEqual([byName('Account-takeover relay (remote commands)').id]);
    expect(v.pipeline.metrics.get('vigil_intel_indicator_hits_total')).toBe(25);
    v.pipeline.setIndicators([]);
    for (const e of events(now + 5_000, 9)) await push(v, 'security', e);
    await settle(v);
    expect(await indicatorAlerts(v)).toHaveLength(9);
  });
});

describe('the demo: simulated attackers against the example bundle', () => {
  it('speed injection, remote-unlock burst, credential stuffing and VIN enumeration each raise indicator alerts inside their label', async () => {
    const sim = new FleetSimulator({
      vehicles: 40, seed: 7, malformedRate: 0,
      attacks: [
        { scenario: 'speed-injection', atS: 60, vehicle: 3 },
        { scenario: 'remote-unlock-burst', atS: 60, vehicle: 6 },
        { scenario: 'credential-stuffing', atS: 60, durationS: 300 },
        { scenario: 'vin-enumeration', atS: 60, durationS: 300, vehicle: 9 },
      ],
    });
    const end = sim.options.start + 480_000;
    const clock = new ManualClock(end + 1000);
    const v = (running = await startVigil(config(1), { clock, inline: true }));
    v.pipeline.setIndicators(bundle.indicators);
    const labels: ScenarioLabel[] = [];
    for (let t = sim.options.start; t <= end; t += 1000) {
      const items: { kind: 'security' | 'log'; tenant: string; payload: string }[] = [];
      sim.tick(t, { item: (x) => x.kind !== 'signals' && items.push({ kind: x.kind, tenant: x.tenant, payload: x.payload }), label: (l) => labels.push(l) });
      for (const x of items) await v.pipeline.push({ ...x, source: 'sim', receivedAt: t });
    }
    await settle(v);
    const alerts = (await Promise.all(sim.fleet.tenants.map((tenant) => v.store.listAlerts({ tenant, limit: 1000 })))).flat().filter((a) => a.rule === 'intel.indicator-match');
    const inside = (l: ScenarioLabel) => alerts.filter((a) => a.tenant === l.tenant && a.time >= l.start && a.time <= l.end);
    const of = (scenario: string) => labels.find((l) => l.scenario === scenario)!;
    const c2 = inside(of('speed-injection')).filter((a) => a.details['intel'] === byName('Head-unit malware command server').id);
    expect(c2.map((a) => [a.vehicle !== undefined, a.details['field'], a.details['value'], a.time])).toEqual([[true, 'context.domain', of('speed-injection').details['c2Domain'], of('speed-injection').start + 1000]]);
    expect(inside(of('remote-unlock-burst')).some((a) => a.details['intel'] === byName('Account-takeover relay (remote commands)').id && a.details['value'] === of('remote-unlock-burst').details['ip'])).toBe(true);
    expect(inside(of('credential-stuffing')).some((a) => a.details['intel'] === byName('Credential-stuffing botnet (telematics API)').id)).toBe(true);
    expect(inside(of('vin-enumeration')).some((a) => a.details['intel'] === byName('Telemetry scraper (VIN enumeration)').id && a.severity === 'medium')).toBe(true);
    // Owners (IPv6 from 2001:db8::/32) match nothing: every alert is explained by a label.
    expect(alerts.filter((a) => !labels.some((l) => a.tenant === l.tenant && a.time >= l.start && a.time <= l.end))).toEqual([]);
  });
});
