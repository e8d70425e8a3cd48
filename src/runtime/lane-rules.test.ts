/** Detection rules (src/detect/rules) through the lane: signals, IdsM events and API logs in, rule alerts out. */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { DEFAULT_POLICY } from '../normalize/policy.js';
import { makeVin } from '../normalize/vin.js';
import { defaultCatalog } from '../sim/default-catalog.js';
import { Lane, type InputItem } from './lane.js';

const T0 = Date.UTC(2026, 10, 25, 8, 0, 0);
const catalog = defaultCatalog();
const VIN = makeVin({ wmi: '5YJ', vds: '3E1EA', year: 2022, plant: 'F' }, 7);
const HEAD = 'status: test\nlevel: high\ntags: [ATM-T0067, R155-A5:11.3]\n';
const RULES = [
  { file: 'uds.yaml', text: `id: uds.moving\ntitle: UDS while moving\n${HEAD}source: security\ndetection:\n  uds: { name: UDS_SESSION_CHANGE }\n  moving: { state.Vehicle.Speed|gt: 5 }\n  condition: uds and moving\n` },
  { file: 'api.yaml', text: `id: api.unlocks\ntitle: Unlock burst\n${HEAD}source: api\ntype: threshold\nthreshold: { count: 3, window: 10m }\ndetection:\n  u: { endpoint|endswith: /unlock }\n  condition: u\n` },
  { file: 'ids.yaml', text: `id: ids.silent\ntitle: IDS silent\n${HEAD}type: absence\nabsence:\n  within: 5m\n  expect: { source: security, where: { name: IDS_HEARTBEAT } }\n` },
];

const item = (kind: InputItem['kind'], o: Record<string, unknown>): InputItem => ({ kind, tenant: 'acme', source: 'test', payload: JSON.stringify(o), receivedAt: T0 });

describe('lane: detection rules', () => {
  it('raises rule alerts from signals, security events and API logs, and absence alerts on the clock', () => {
    const clock = new ManualClock(T0 + 1000);
    const lane = new Lane({ catalog: catalog.specs(), catalogIds: catalog.idMap(), policy: DEFAULT_POLICY, secret: 'test-secret-0123456789', rules: RULES }, clock);
    expect(lane.process([item('signals', { vin: VIN, ts: T0, signals: { 'Vehicle.Speed': 70 } })]).alerts).toEqual([]);
    const unlock = (t: number): InputItem => item('log', { ts: t, service: 'telematics', vin: VIN, method: 'POST', endpoint: `/v1/vehicles/${VIN}/unlock`, status: 200 });
    const out = lane.process([
      item('security', { vin: VIN, ts: T0 + 500, eventId: 0x8101, sensor: 'DiagGatewayIds' }),
      item('security', { vin: VIN, ts: T0 + 600, eventId: 0x8601, sensor: 'IdsM' }),
      unlock(T0 + 100), unlock(T0 + 200), unlock(T0 + 300),
    ]);
    expect(out.deadLetters).toEqual([]);
    expect(out.alerts.map((a) => a.rule)).toEqual(['uds.moving', 'api.unlocks']);
    expect(out.alerts[0]).toMatchObject({ vehicle: out.security[0]!.vehicle, severity: 'high', tags: ['ATM-T0067', 'R155-A5:11.3'], time: T0 + 500 });
    expect(out.stats.alerts).toBe(2);
    clock.set(T0 + 6 * 60_000);
    expect(lane.process([]).alerts).toMatchObject([{ rule: 'ids.silent', time: T0 + 600 + 300_000 }]);
  });

  it('refuses a pack with problems at start; detect: false runs no rules', () => {
    const opts = { catalog: catalog.specs(), catalogIds: catalog.idMap(), policy: DEFAULT_POLICY, secret: 'test-secret-0123456789' };
    const bad = [{ file: 'bad.yaml', text: RULES[0]!.text.replace('condition: uds and moving', 'condition: uds and fast') }];
    expect(() => new Lane({ ...opts, rules: bad }, new ManualClock(T0))).toThrow(/bad.yaml:1: rule uds.moving: detection.condition: unknown selection "fast"/);
    const off = new Lane({ ...opts, rules: bad, detect: false }, new ManualClock(T0));
    expect(off.process([item('security', { vin: VIN, ts: T0, eventId: 0x8101, sensor: 'X' })]).alerts).toEqual([]);
  });
});
