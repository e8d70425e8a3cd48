import { describe, expect, it } from 'vitest';
import { SignalBatchBuilder } from '../../core/batch.js';
import { ManualClock } from '../../core/clock.js';
import type { ApiEvent, SecurityEvent } from '../../core/records.js';
import { SignalCatalog } from '../../core/catalog.js';
import { compileRuleFiles, RuleRunner } from './index.js';

// The VSS leaves these tests use (detect may not import the simulator's catalog).
const catalog = new SignalCatalog([
  ...['Vehicle.Speed', 'Vehicle.TraveledDistance', 'Vehicle.Chassis.Axle.Row1.Wheel.Left.Speed', 'Vehicle.CurrentLocation.Latitude', 'Vehicle.CurrentLocation.Longitude']
    .map((path) => ({ path, datatype: 'double' as const, kind: 'sensor' as const })),
  { path: 'Vehicle.Cabin.Door.Row1.DriverSide.IsLocked', datatype: 'boolean', kind: 'actuator' },
]);
const T0 = Date.UTC(2026, 2, 1);
const HEAD = 'status: test\nlevel: high\ntags: [ATM-T0070, R155-A5:4.1]\n';

function runner(yaml: string, clock = new ManualClock(T0)): RuleRunner {
  const pack = compileRuleFiles([{ file: 't.yaml', text: yaml }], catalog);
  expect(pack.problems).toEqual([]);
  return new RuleRunner(pack, { clock });
}

/** One batch: [vehicle, ms after T0, path, value] rows. */
function batch(rows: [string, number, string, number][]) {
  const b = new SignalBatchBuilder('acme', rows.length, T0);
  for (const [v, t, p, x] of rows) b.push(b.vehicleIndex(v), T0 + t, catalog.get(p)!.id, x);
  return b.build();
}

const sec = (vehicle: string, t: number, name: string, context?: Record<string, unknown>): SecurityEvent => ({
  id: `s${t}`, tenant: 'acme', vehicle, time: T0 + t, eventId: 0x8001, name, sensor: 'CanGatewayIds', count: 1, severity: 'medium', source: 'test', ...(context ? { context } : {}),
});
const api = (t: number, e: Partial<ApiEvent>): ApiEvent => ({ id: `a${t}`, tenant: 'acme', time: T0 + t, service: 'telematics', endpoint: '/v1/auth/login', source: 'test', ...e });

describe('rule runner', () => {
  it('match: a security event with vehicle state, alert carries rule, severity, tags, vehicle and evidence', () => {
    const r = runner(`id: uds.moving\ntitle: UDS while moving\n${HEAD}source: security\ndetection:\n  uds: { name: UDS_SESSION_CHANGE }\n  moving: { state.Vehicle.Speed|gt: 5 }\n  condition: uds and moving\n`);
    r.signals(batch([['V1', 0, 'Vehicle.Speed', 60], ['V2', 0, 'Vehicle.Speed', 0]]));
    const alerts = r.security([sec('V1', 500, 'UDS_SESSION_CHANGE'), sec('V2', 500, 'UDS_SESSION_CHANGE'), sec('V1', 600, 'CAN_UNKNOWN_ID')]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      rule: 'uds.moving', severity: 'high', vehicle: 'V1', time: T0 + 500, tenant: 'acme', tags: ['ATM-T0070', 'R155-A5:4.1'],
      details: { type: 'match', event: { kind: 'security', name: 'UDS_SESSION_CHANGE', id: 's500' } },
    });
    // Stale state is not used: 60 km/h seen 31 s before the event (state-max-age 30 s).
    expect(r.security([sec('V1', 31_500, 'UDS_SESSION_CHANGE')])).toHaveLength(0);
  });

  it('match: repeats inside the suppression window are counted, not raised', () => {
    const r = runner(`id: speed.high\ntitle: t\n${HEAD}source: Vehicle.Speed\nsuppress: 10s\ndetection:\n  s: { value|gt: 300 }\n  condition: s\n`);
    const a = r.signals(batch([['V1', 0, 'Vehicle.Speed', 350], ['V1', 1000, 'Vehicle.Speed', 360], ['V1', 11_000, 'Vehicle.Speed', 370], ['V1', 12_000, 'Vehicle.Speed', 100]]));
    expect(a.map((x) => x.time - T0)).toEqual([0, 11_000]);
    expect(r.stats.suppressed).toBe(1);
  });

  it('threshold: count in a sliding window per group-by field, and distinct values', () => {
    const r = runner(
      `id: api.bruteforce\ntitle: t\n${HEAD}source: api\ntype: threshold\ngroup-by: [actor]\nthreshold: { count: 3, window: 1m }\ndetection:\n  fail: { endpoint: /v1/auth/login, status: 401 }\n  condition: fail\n` +
        `---\nid: api.stuffing\ntitle: t\n${HEAD}source: api\ntype: threshold\ngroup-by: [ip]\nthreshold: { count: 3, window: 1m, distinct: actor }\ndetection:\n  fail: { status|gte: 400 }\n  condition: fail\n`,
    );
    const spread = r.api([api(0, { actor: 'a', status: 401 }), api(40_000, { actor: 'a', status: 401 }), api(80_000, { actor: 'a', status: 401 })]);
    expect(spread).toEqual([]);
    const ip = '198.51.100.1';
    const burst = r.api([
      api(90_000, { actor: 'b', status: 401, sourceIp: ip }), api(91_000, { actor: 'b', status: 401, sourceIp: ip }), api(92_000, { actor: 'b', status: 401, sourceIp: ip }),
      api(92_500, { actor: 'c', status: 401, sourceIp: ip }), api(93_000, { actor: 'd', status: 403, sourceIp: ip }),
    ]);
    expect(burst.map((a) => a.rule)).toEqual(['api.bruteforce', 'api.stuffing']);
    expect(burst[0]!.vehicle).toBeUndefined();
    expect(burst[0]!.details).toMatchObject({ count: 3, group: { actor: 'b' } });
    expect(burst[1]!.details).toMatchObject({ distinct: 'actor', values: ['b', 'c', 'd'], group: { ip: '198.51.100.1' } });
  });

  it('threshold: a large count is kept in time buckets per vehicle (signal flood)', () => {
    const r = runner(`id: flood\ntitle: t\n${HEAD}source: Vehicle\ntype: threshold\nthreshold: { count: 1000, window: 10s }\n`);
    const rows: [string, number, string, number][] = [];
    for (let i = 0; i < 1200; i++) rows.push(['V1', i * 5, 'Vehicle.Speed', 50], ['V2', i * 50, 'Vehicle.Speed', 50]);
    const a = r.signals(batch(rows));
    expect(a.map((x) => x.vehicle)).toEqual(['V1']);
    expect(a[0]!.details).toMatchObject({ approximate: true });
  });

  it('sequence: ordered steps within the timespan; out of order or too slow does not fire', () => {
    const r = runner(
      `id: uds.takeover\ntitle: t\n${HEAD}type: sequence\nsource: security\nsequence:\n  timespan: 10m\n  steps:\n    - { name: fail, where: { name: UDS_SECURITY_ACCESS_FAILED }, count: 2 }\n    - { name: flash, where: { name: UDS_REPROGRAMMING_REQUEST } }\n`,
    );
    expect(r.security([sec('V1', 0, 'UDS_REPROGRAMMING_REQUEST'), sec('V1', 1000, 'UDS_SECURITY_ACCESS_FAILED'), sec('V1', 2000, 'UDS_REPROGRAMMING_REQUEST')])).toEqual([]);
    expect(r.security([sec('V2', 0, 'UDS_SECURITY_ACCESS_FAILED'), sec('V2', 1000, 'UDS_SECURITY_ACCESS_FAILED'), sec('V2', 700_000, 'UDS_REPROGRAMMING_REQUEST')])).toEqual([]);
    const a = r.security([sec('V1', 3000, 'UDS_SECURITY_ACCESS_FAILED'), sec('V1', 9000, 'UDS_REPROGRAMMING_REQUEST')]);
    expect(a).toHaveLength(1);
    expect(a[0]!.details).toMatchObject({ type: 'sequence', startTime: T0 + 1000 });
    expect((a[0]!.details.steps as unknown[]).length).toBe(3);
  });

  it('sequence: steps may come from different sources (signals then security)', () => {
    const r = runner(
      `id: x.seq\ntitle: t\n${HEAD}type: sequence\nsequence:\n  timespan: 1m\n  steps:\n    - { source: Vehicle.Cabin.Door.Row1.DriverSide.IsLocked, where: { value: false } }\n    - { source: security, where: { name: DEBUG_PORT_ACTIVITY } }\n`,
    );
    r.signals(batch([['V1', 0, 'Vehicle.Cabin.Door.Row1.DriverSide.IsLocked', 0]]));
    expect(r.security([sec('V1', 30_000, 'DEBUG_PORT_ACTIVITY')])).toHaveLength(1);
  });

  it('sequence: a step with `after` counts only once that long has passed since the previous step', () => {
    const r = runner(
      `id: quiet.then\ntitle: t\n${HEAD}type: sequence\nsource: security\nsequence:\n  timespan: 1h\n  steps:\n    - { where: { name: IDS_HEARTBEAT } }\n    - { where: { name: DEBUG_PORT_ACTIVITY }, after: 15m }\n`,
    );
    expect(r.security([sec('V1', 0, 'IDS_HEARTBEAT'), sec('V1', 60_000, 'DEBUG_PORT_ACTIVITY')])).toEqual([]);
    expect(r.security([sec('V1', 20 * 60_000, 'DEBUG_PORT_ACTIVITY')])).toHaveLength(1);
  });

  it('absence: a silent IDS while the vehicle keeps sending, by event time and by clock tick', () => {
    const clock = new ManualClock(T0);
    const r = runner(
      `id: ids.silent\ntitle: t\n${HEAD}type: absence\nabsence:\n  within: 5m\n  expect: { source: security, where: { name: IDS_HEARTBEAT } }\n  while: { source: Vehicle.Speed }\n`,
      clock,
    );
    r.security([sec('V1', 0, 'IDS_HEARTBEAT'), sec('V2', 0, 'IDS_HEARTBEAT')]);
    r.signals(batch([['V1', 60_000, 'Vehicle.Speed', 10], ['V2', 60_000, 'Vehicle.Speed', 10]]));
    r.security([sec('V2', 240_000, 'IDS_HEARTBEAT')]);
    // V1 is still driving 6 minutes later without a heartbeat; V2 sent one at 4 minutes.
    const a = r.signals(batch([['V1', 360_000, 'Vehicle.Speed', 12], ['V2', 360_000, 'Vehicle.Speed', 12]]));
    expect(a.map((x) => x.vehicle)).toEqual(['V1']);
    expect(a[0]!.details).toMatchObject({ silentMs: 360_000 });
    // One alert per gap: V1 still silent later is not raised again, by data or by tick.
    expect(r.signals(batch([['V1', 400_000, 'Vehicle.Speed', 12]]))).toEqual([]);
    clock.set(T0 + 900_000);
    expect(r.tick()).toEqual([]); // V2 is silent too, but not active in the last 5 minutes
    r.signals(batch([['V2', 880_000, 'Vehicle.Speed', 12]])); // the data path catches V2 here
    clock.set(T0 + 1_000_000);
    expect(r.tick()).toEqual([]);
  });

  it('absence: the clock tick finds a vehicle that went quiet (no activity clause)', () => {
    const clock = new ManualClock(T0);
    const r = runner(`id: hb.missing\ntitle: t\n${HEAD}type: absence\nabsence:\n  within: 10m\n  expect: { source: security, where: { name: IDS_HEARTBEAT } }\n`, clock);
    r.security([sec('V1', 0, 'IDS_HEARTBEAT')]);
    clock.set(T0 + 9 * 60_000);
    expect(r.tick()).toEqual([]);
    clock.set(T0 + 11 * 60_000);
    const a = r.tick();
    expect(a).toMatchObject([{ vehicle: 'V1', time: T0 + 600_000, details: { byClock: true } }]);
    expect(r.tick()).toEqual([]);
    // tickIfDue (traffic-driven callers): at most one tick per RULE_TICK_INTERVAL_MS of clock time.
    r.security([sec('V2', 11 * 60_000, 'IDS_HEARTBEAT')]);
    clock.set(T0 + 21 * 60_000 + 1);
    expect(r.tickIfDue()).toHaveLength(1);
    r.security([sec('V3', 0, 'IDS_HEARTBEAT')]);
    clock.advance(5000);
    expect(r.tickIfDue()).toEqual([]);
    clock.advance(5000);
    expect(r.tickIfDue()).toMatchObject([{ vehicle: 'V3' }]);
  });

  it('change: odometer rollback and impossible rate; samples far apart are not compared', () => {
    const r = runner(
      `id: odo.back\ntitle: t\n${HEAD}type: change\nsource: Vehicle.TraveledDistance\nchange: { max-decrease: 50 }\n` +
        `---\nid: speed.jump\ntitle: t\n${HEAD}type: change\nsource: Vehicle.Speed\nchange: { max-rate: 54, max-gap: 5s }\n`,
    );
    const a = r.signals(batch([
      ['V1', 0, 'Vehicle.TraveledDistance', 120_000], ['V1', 1000, 'Vehicle.TraveledDistance', 120_030], ['V1', 2000, 'Vehicle.TraveledDistance', 120_000],
      ['V1', 3000, 'Vehicle.TraveledDistance', 20_000],
      ['V1', 0, 'Vehicle.Speed', 50], ['V1', 1000, 'Vehicle.Speed', 90], ['V1', 2000, 'Vehicle.Speed', 160], ['V1', 10_000, 'Vehicle.Speed', 20],
    ]));
    expect(a.map((x) => [x.rule, x.time - T0])).toEqual([['odo.back', 3000], ['speed.jump', 2000]]);
    expect(a[0]!.details).toMatchObject({ previous: 120_000, current: 20_000, limit: 'max-decrease' });
  });

  it('match on previous and delta of the trigger signal', () => {
    const r = runner(`id: odo.drop\ntitle: t\n${HEAD}source: Vehicle.TraveledDistance\ndetection:\n  drop: { delta|lt: -1000, previous|gt: 0 }\n  condition: drop\n`);
    const a = r.signals(batch([['V1', 0, 'Vehicle.TraveledDistance', 50_000], ['V1', 1000, 'Vehicle.TraveledDistance', 48_500], ['V2', 0, 'Vehicle.TraveledDistance', 10]]));
    expect(a).toMatchObject([{ vehicle: 'V1', time: T0 + 1000, details: { event: { value: 48_500 } } }]);
  });

  it('consistency: vehicle speed vs wheel speed, only with a fresh partner value', () => {
    const r = runner(`id: wheel\ntitle: t\n${HEAD}type: consistency\nsource: Vehicle.Speed\nconsistency: { with: Vehicle.Chassis.Axle.Row1.Wheel.Left.Speed, tolerance: 10, relative: 0.2 }\n`);
    const W = 'Vehicle.Chassis.Axle.Row1.Wheel.Left.Speed';
    const a = r.signals(batch([
      ['V1', 0, W, 100], ['V1', 0, 'Vehicle.Speed', 115], // 15 < 20% of 115: fine
      ['V1', 1000, W, 100], ['V1', 1000, 'Vehicle.Speed', 160],
      ['V2', 0, W, 10], ['V2', 5000, 'Vehicle.Speed', 160], // partner 5 s old: not compared
    ]));
    expect(a).toMatchObject([{ vehicle: 'V1', details: { value: 160, withValue: 100, difference: 60 } }]);
  });

  it('geo: impossible travel, GNSS speed vs reported speed, geofence', () => {
    const LAT = 'Vehicle.CurrentLocation.Latitude';
    const LON = 'Vehicle.CurrentLocation.Longitude';
    const r = runner(
      `id: geo.jump\ntitle: t\n${HEAD}type: geo\ngeo: { impossible-travel: { max-speed-kmh: 400 } }\n` +
        `---\nid: geo.spoof\ntitle: t\n${HEAD}type: geo\ngeo: { speed-mismatch: { tolerance-kmh: 40 } }\n` +
        `---\nid: geo.fence\ntitle: t\n${HEAD}type: geo\ngeo: { fence: { alert: outside, circles: [{ lat: 48.1, lon: 11.5, radius-m: 50000 }] } }\n`,
    );
    const a = r.signals(batch([
      ['V1', 0, 'Vehicle.Speed', 36], ['V1', 0, LAT, 48.1], ['V1', 0, LON, 11.5],
      // 10 m in 1 s = 36 km/h: consistent
      ['V1', 1000, 'Vehicle.Speed', 36], ['V1', 1000, LAT, 48.10009], ['V1', 1000, LON, 11.5],
      // ~111 km in 2 s: impossible, and outside the fence, and far off the reported speed
      ['V1', 3000, 'Vehicle.Speed', 36], ['V1', 3000, LAT, 49.1], ['V1', 3000, LON, 11.5],
    ]));
    expect(a.map((x) => x.rule).sort()).toEqual(['geo.fence', 'geo.jump', 'geo.spoof']);
    expect(a.find((x) => x.rule === 'geo.jump')!.details).toMatchObject({ distanceM: 111_185 });
  });

  it('correlation: the same rule on many vehicles within a window is a campaign', () => {
    const r = runner(
      `id: ota.bad\ntitle: t\n${HEAD}source: security\ndetection:\n  s: { name: OTA_HASH_MISMATCH }\n  condition: s\n` +
        `---\nid: ota.campaign\ntitle: t\n${HEAD}source: alert\ntype: threshold\ngroup-by: [rule]\nthreshold: { count: 3, window: 1h, distinct: vehicle }\ndetection:\n  s: { rule: ota.bad }\n  condition: s\n`,
    );
    const a = r.security([sec('V1', 0, 'OTA_HASH_MISMATCH'), sec('V2', 1000, 'OTA_HASH_MISMATCH'), sec('V3', 2000, 'OTA_HASH_MISMATCH')]);
    expect(a.map((x) => x.rule)).toEqual(['ota.bad', 'ota.bad', 'ota.bad', 'ota.campaign']);
    expect(a[3]).toMatchObject({ details: { values: ['V1', 'V2', 'V3'], group: { rule: 'ota.bad' } } });
    expect(a[3]!.vehicle).toBeUndefined();
  });

  it('late rows are skipped and counted; vehicle state is capped', () => {
    const pack = compileRuleFiles([{ file: 't', text: `id: spd\ntitle: t\n${HEAD}source: Vehicle.Speed\ndetection:\n  s: { value|gt: 300 }\n  condition: s\n` }], catalog);
    const r = new RuleRunner(pack, { clock: new ManualClock(T0), latenessMs: 1000, maxVehicles: 2 });
    const a = r.signals(batch([['V1', 10_000, 'Vehicle.Speed', 10], ['V1', 5000, 'Vehicle.Speed', 400], ['V2', 0, 'Vehicle.Speed', 1], ['V3', 0, 'Vehicle.Speed', 1]]));
    expect(a).toEqual([]);
    expect(r.stats).toMatchObject({ late: 1, vehiclesEvicted: 1, signalRows: 4 });
  });
});
