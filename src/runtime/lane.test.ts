import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { DEFAULT_POLICY } from '../normalize/policy.js';
import { makeVin } from '../normalize/vin.js';
import { defaultCatalog } from '../sim/default-catalog.js';
import { Lane, type InputItem } from './lane.js';

const T0 = Date.UTC(2026, 10, 25, 8, 0, 0);
const catalog = defaultCatalog();
const VIN_A = makeVin({ wmi: '5YJ', vds: '3E1EA', year: 2022, plant: 'F' }, 101);
const VIN_B = makeVin({ wmi: 'WVW', vds: 'ZZZAU', year: 2020, plant: 'W' }, 202);

function lane(clock = new ManualClock(T0)): Lane {
  return new Lane({ catalog: catalog.specs(), catalogIds: catalog.idMap(), policy: DEFAULT_POLICY, secret: 'test-secret-0123456789' }, clock);
}
const item = (payload: string | Uint8Array, kind: InputItem['kind'] = 'signals'): InputItem => ({ kind, tenant: 'acme', source: 'test', payload, receivedAt: T0 });
const signals = (vin: string, ts: number, s: Record<string, unknown>, extra: Record<string, unknown> = {}): string => JSON.stringify({ vin, ts, signals: s, ...extra });

describe('lane', () => {
  it('turns valid messages into one columnar batch per tenant', () => {
    const out = lane().process([
      item(signals(VIN_A, T0, { 'Vehicle.Speed': 50, 'Vehicle.Cabin.Door.Row1.DriverSide.IsOpen': false })),
      item(JSON.stringify({ vin: VIN_B, ts: T0, samples: [['Vehicle.Speed', T0 + 100, 12.5], ['Vehicle.Speed', T0 + 200, 13]] })),
    ]);
    expect(out.deadLetters).toEqual([]);
    expect(out.batches).toHaveLength(1);
    const b = out.batches[0]!;
    expect(b.size).toBe(4);
    expect(b.vehicles).toHaveLength(2);
    expect(b.vehicles.every((v) => /^[0-9a-f]{16}$/.test(v))).toBe(true);
    expect(b.vehicles).not.toContain(VIN_A);
    expect([...b.value]).toEqual([50, 0, 12.5, 13]);
    expect([...b.signal]).toEqual([catalog.get('Vehicle.Speed')!.id, catalog.get('Vehicle.Cabin.Door.Row1.DriverSide.IsOpen')!.id, catalog.get('Vehicle.Speed')!.id, catalog.get('Vehicle.Speed')!.id]);
    expect([...b.time]).toEqual([T0, T0, T0 + 100, T0 + 200]);
  });

  it('conserves every record under malformed input: in = stored + dead-lettered + duplicates', () => {
    const good = signals(VIN_A, T0, { 'Vehicle.Speed': 40, 'Vehicle.Powertrain.TractionBattery.StateOfCharge.Current': 55 }, { seq: 1 });
    const cases: [string | Uint8Array, string][] = [
      ['{"vin":', 'json.malformed'],
      ['[1,2,3]', 'json.not_object'],
      [new Uint8Array([0xff, 0xfe, 0x00, 0x81]), 'message.encoding'],
      ['x'.repeat((1 << 20) + 1), 'message.too_large'],
      [signals('NOT-A-VIN', T0, { 'Vehicle.Speed': 1 }), 'vin.invalid'],
      [signals(VIN_A.slice(0, 8) + (VIN_A[8] === '0' ? '1' : '0') + VIN_A.slice(9), T0, { 'Vehicle.Speed': 1 }), 'vin.invalid'],
      [JSON.stringify({ ts: T0, signals: {} }), 'vin.missing'],
      [JSON.stringify({ vin: VIN_A, ts: 'yesterday', signals: {} }), 'time.invalid'],
      [signals(VIN_A, T0 + 3_600_000, { 'Vehicle.Speed': 1 }), 'time.future'],
      [JSON.stringify({ vin: VIN_A, ts: T0 }), 'signals.missing'],
    ];
    const entryCases: [Record<string, unknown>, string][] = [
      [{ 'Vehicle.Warp.Drive': 9 }, 'signal.unknown'],
      [{ 'Vehicle.Powertrain.CombustionEngine.Speed': 'fast' }, 'value.type'],
      [{ 'Vehicle.CurrentLocation.Latitude': null }, 'value.type'],
      [{ 'Vehicle.Powertrain.TractionBattery.StateOfCharge.Current': 140 }, 'value.out_of_range'],
      [{ 'Vehicle.Cabin.Door.Row1.DriverSide.IsOpen': 1 }, 'value.type'],
      [{ 'Vehicle.LowVoltageSystemState': 'EXPLODING' }, 'value.not_allowed'],
    ];
    const items = [
      item(good),
      item(good), // duplicate record id
      ...cases.map(([p]) => item(p)),
      item(signals(VIN_B, T0, Object.assign({ 'Vehicle.Speed': 30 }, ...entryCases.map(([e]) => e)))),
    ];
    const out = lane().process(items);
    const s = out.stats;
    const accepted = s.messages - s.messagesRejected - s.duplicates;
    expect(s.messages).toBe(items.length);
    expect(s.duplicates).toBe(1);
    expect(s.messagesRejected).toBe(cases.length);
    expect(accepted).toBe(2);
    // Entries of accepted messages: 2 from `good`, 1 + 5 from the mixed message.
    expect(s.signalRows + s.entriesRejected).toBe(2 + 1 + entryCases.length);
    expect(s.signalRows).toBe(3);
    expect(out.batches[0]!.size).toBe(3);
    expect(out.deadLetters).toHaveLength(cases.length + entryCases.length);
    expect(out.deadLetters.map((d) => d.code).sort()).toEqual([...cases.map(([, c]) => c), ...entryCases.map(([, c]) => c)].sort());
    for (const d of out.deadLetters) {
      expect(d.reason.length).toBeGreaterThan(5);
      expect(d.raw.byteLength).toBeGreaterThan(0);
    }
  });

  it('decodes IdsM security events and raises an alert for high-severity ones', () => {
    const out = lane().process([
      item(JSON.stringify({ vin: VIN_A, ts: T0, eventId: 0x8103, sensor: 'GatewayIds', count: 1 }), 'security'),
      item(JSON.stringify({ vin: VIN_A, ts: T0, eventId: 0x8601, sensor: 'GatewayIds' }), 'security'),
      item(JSON.stringify({ vin: VIN_A, ts: T0, eventId: -4, sensor: 'GatewayIds' }), 'security'),
    ]);
    expect(out.security.map((e) => e.name)).toEqual(['UDS_REPROGRAMMING_REQUEST', 'IDS_HEARTBEAT']);
    expect(out.alerts.map((a) => a.rule)).toEqual(['vigil.ids_event']);
    expect(out.deadLetters.map((d) => d.code)).toEqual(['security.event_id']);
  });

  it('normalizes back-end log events with a pseudonymized VIN', () => {
    const out = lane().process([
      item(JSON.stringify({ ts: T0, service: 'telematics', vin: VIN_A, actor: 'acct-1', method: 'POST', endpoint: '/v1/unlock', status: 401, ip: '203.0.113.9' }), 'log'),
      item(JSON.stringify({ ts: T0, service: 'telematics', endpoint: '/v1/unlock', status: 999 }), 'log'),
    ]);
    expect(out.logs).toHaveLength(1);
    expect(out.logs[0]!.vehicle).toMatch(/^[0-9a-f]{16}$/);
    expect(out.logs[0]!.status).toBe(401);
    expect(out.deadLetters.map((d) => d.code)).toEqual(['log.status']);
  });

  it('detects an odometer rollback and a speed/wheel-speed mismatch from twin state', () => {
    const l = lane();
    const wheel = 'Vehicle.Chassis.Axle.Row1.Wheel.Left.Speed';
    l.process([item(signals(VIN_A, T0, { 'Vehicle.TraveledDistance': 120_000, 'Vehicle.Speed': 80, [wheel]: 80 }))]);
    const out = l.process([
      item(signals(VIN_A, T0 + 1000, { 'Vehicle.TraveledDistance': 20_000 })),
      item(signals(VIN_A, T0 + 1100, { [wheel]: 82 })),
      item(signals(VIN_A, T0 + 1200, { 'Vehicle.Speed': 0 })),
    ]);
    const rules = out.alerts.map((a) => a.rule).sort();
    expect(rules).toEqual(['vigil.odometer_rollback', 'vigil.speed_impossible_change', 'vigil.speed_wheel_mismatch']);
    const odo = out.alerts.find((a) => a.rule === 'vigil.odometer_rollback')!;
    expect(odo.details).toEqual({ previousM: 120_000, currentM: 20_000 });
    expect(odo.tags).toContain('ATM-T0070');
  });

  it('gives the dead letters of a redelivered message (same transportId) the same ids', () => {
    const redelivered = (): InputItem => ({ ...item(signals(VIN_A, T0, { 'Vehicle.Speed': 'fast', 'No.Such.Signal': 1 })), transportId: 'S:1:7' });
    const first = lane().process([redelivered()]).deadLetters.map((d) => d.id);
    const again = lane().process([redelivered()]).deadLetters.map((d) => d.id);
    expect(first).toHaveLength(2);
    expect(new Set(first).size).toBe(2);
    expect(again).toEqual(first);
    const other = lane().process([item(signals(VIN_A, T0, { 'Vehicle.Speed': 'fast' }))]).deadLetters[0]!.id;
    expect(first).not.toContain(other);
  });

  it('takes an out-of-order odometer reading within the lateness window for no rollback', () => {
    const l = lane();
    l.process([item(signals(VIN_A, T0 + 10_000, { 'Vehicle.TraveledDistance': 120_300 }))]);
    const out = l.process([item(signals(VIN_A, T0, { 'Vehicle.TraveledDistance': 120_000 }))]);
    expect(out.stats.late).toBe(0);
    expect(out.alerts).toEqual([]);
  });

  it('stores late data but does not run detectors on it', () => {
    const l = lane();
    l.process([item(signals(VIN_A, T0 + 120_000, { 'Vehicle.TraveledDistance': 120_000 }))]);
    const out = l.process([item(signals(VIN_A, T0, { 'Vehicle.TraveledDistance': 1 }))]);
    expect(out.stats.late).toBe(1);
    expect(out.batches[0]!.size).toBe(1);
    expect(out.alerts).toEqual([]);
  });
});
