import { describe, expect, it } from 'vitest';
import { isValidVin } from '../normalize/vin.js';
import { checkSignalsMessage } from './check.js';
import { defaultCatalog } from './default-catalog.js';
import { IDSM, type SimItem } from './events.js';
import { ATTACK_SCENARIOS, type ScenarioLabel, type ScenarioPlan } from './scenarios.js';
import { PATHS } from './signals.js';
import { FleetSimulator } from './simulator.js';

interface Sig {
  vin: string;
  ts: number;
  seq: number;
  signals: Record<string, number | boolean | string>;
}
interface Sec {
  vin: string;
  ts: number;
  eventId: number;
  count: number;
  context?: Record<string, unknown>;
}
interface Log {
  ts: number;
  vin?: string;
  actor?: string;
  ip?: string;
  endpoint: string;
  method?: string;
  status?: number;
}

const PLAN: ScenarioPlan[] = [
  { scenario: 'gps-spoofing', atS: 60, vehicle: 1 },
  { scenario: 'odometer-rollback', atS: 60, vehicle: 2 },
  { scenario: 'speed-injection', atS: 60, vehicle: 3 },
  { scenario: 'speed-injection', atS: 200, vehicle: 4 },
  { scenario: 'signal-flooding', atS: 60, vehicle: 5 },
  { scenario: 'remote-unlock-burst', atS: 60, vehicle: 6 },
  { scenario: 'uds-session-while-moving', atS: 60, vehicle: 7 },
  { scenario: 'ids-silence', atS: 120, durationS: 300, vehicle: 8 },
  { scenario: 'credential-stuffing', atS: 60, durationS: 300 },
  { scenario: 'vin-enumeration', atS: 60, durationS: 300, vehicle: 9 },
];

const sim = new FleetSimulator({ vehicles: 80, seed: 3, attacks: PLAN, malformedRate: 0.01 });
const items: SimItem[] = [];
const labels: ScenarioLabel[] = [];
for (let t = sim.options.start; t <= sim.options.start + 600_000; t += 1000) {
  sim.tick(t, { item: (x) => items.push(x), label: (l) => labels.push(l) });
}
const malformedSeqs = new Set(labels.filter((l) => l.scenario === 'malformed').map((l) => `${l.vin}#${l.details.seq as number}`));
const seqOf = (payload: string): string => /"seq":(\d+)/.exec(payload)?.[1] ?? '?';
const signals = items
  .filter((x) => x.kind === 'signals' && !malformedSeqs.has(`${x.vin}#${seqOf(x.payload)}`))
  .map((x) => JSON.parse(x.payload) as Sig);
const security = items.filter((x) => x.kind === 'security').map((x) => JSON.parse(x.payload) as Sec);
const logs = items.filter((x) => x.kind === 'log').map((x) => JSON.parse(x.payload) as Log);
const label = (scenario: string, vehicle?: number): ScenarioLabel => {
  const vin = vehicle === undefined ? undefined : sim.fleet.vin(vehicle);
  const l = labels.find((x) => x.scenario === scenario && (vin === undefined || x.vin === vin));
  expect(l, `label of ${scenario}`).toBeDefined();
  return l!;
};
const of = (vin: string | undefined, from: number, to: number): Sig[] => signals.filter((m) => m.vin === vin && m.ts >= from && m.ts <= to);
const num = (m: Sig, p: string): number => m.signals[p] as number;

describe('scenarios', () => {
  it('labels every planned scenario with its window, vehicle, ATM ids and evidence', () => {
    expect(labels.filter((l) => l.scenario !== 'malformed')).toHaveLength(PLAN.length);
    for (const plan of PLAN) {
      const l = labels.find((x) => x.scenario === plan.scenario && x.start === sim.options.start + plan.atS * 1000)!;
      expect(l, plan.scenario).toBeDefined();
      expect(l.end).toBeGreaterThan(l.start);
      if (plan.scenario !== 'credential-stuffing') {
        if (plan.scenario !== 'vin-enumeration') expect(l.vin).toBe(sim.fleet.vin(plan.vehicle!));
      } else expect(l.vin).toBeUndefined();
      expect(l.tenant).toBe('demo');
      for (const id of l.atm) expect(id).toMatch(/^ATM-T\d{4}$/);
      expect(l.evidence.length).toBeGreaterThan(0);
      expect(l.description.length).toBeGreaterThan(20);
    }
  });

  it('gps-spoofing: the reported position jumps hundreds of km while wheels and odometer say the car drives on at home', () => {
    const l = label('gps-spoofing', 1);
    const before = of(l.vin, l.start - 20_000, l.start - 1);
    const during = of(l.vin, l.start, l.end);
    expect(before.length).toBeGreaterThan(10);
    expect(during.length).toBeGreaterThan(100);
    const last = before.at(-1)!;
    const jumpKm = Math.hypot(num(during[0]!, PATHS.lat) - num(last, PATHS.lat), (num(during[0]!, PATHS.lon) - num(last, PATHS.lon)) * Math.cos((num(last, PATHS.lat) * Math.PI) / 180)) * 111.32;
    expect(jumpKm).toBeGreaterThan(250);
    expect(Math.abs(jumpKm - (l.details.jumpKm as number))).toBeLessThan(60);
    // Meanwhile the vehicle keeps driving: speed and odometer move on.
    expect(during.filter((m) => num(m, PATHS.speed) > 20).length).toBeGreaterThan(during.length / 2);
    expect(num(during.at(-1)!, PATHS.odometer) - num(during[0]!, PATHS.odometer)).toBeGreaterThan(1000);
    // And after the window the true position is back.
    const after = of(l.vin, l.end + 1, l.end + 5_000);
    expect(Math.hypot(num(after[0]!, PATHS.lat) - num(last, PATHS.lat), num(after[0]!, PATHS.lon) - num(last, PATHS.lon))).toBeLessThan(0.2);
  });

  it('odometer-rollback: the odometer drops by the labelled fraction while parked, and stays down', () => {
    const l = label('odometer-rollback', 2);
    const before = of(l.vin, l.start - 10_000, l.start - 1).at(-1)!;
    const after = of(l.vin, l.start, l.start + 2_000)[0]!;
    const drop = num(before, PATHS.odometer) - num(after, PATHS.odometer);
    expect(drop / num(before, PATHS.odometer)).toBeCloseTo(l.details.rollbackFraction as number, 2);
    expect(num(after, PATHS.speed)).toBe(0);
    const later = of(l.vin, l.end, sim.options.start + 600_000);
    expect(Math.max(...later.map((m) => num(m, PATHS.odometer)))).toBeLessThan(num(before, PATHS.odometer));
  });

  it('speed-injection: Vehicle.Speed disagrees with wheel speeds while the vehicle drives', () => {
    for (const vehicle of [3, 4]) {
      const l = label('speed-injection', vehicle);
      const during = of(l.vin, l.start, l.end);
      const off = during.filter((m) => Math.abs(num(m, PATHS.speed) - num(m, PATHS.wheelFL)) > Math.max(20, 0.3 * num(m, PATHS.wheelFL)));
      expect(off.length, `${l.details.mode}`).toBeGreaterThan(during.length * 0.8);
      const clean = of(l.vin, l.end + 10_000, l.end + 60_000);
      expect(clean.every((m) => Math.abs(num(m, PATHS.speed) - num(m, PATHS.wheelFL)) < 2 + 0.05 * num(m, PATHS.speed))).toBe(true);
      const ids = security.filter((e) => e.vin === l.vin && e.eventId === IDSM.canFrequencyViolation);
      expect(ids.length).toBe(l.details.idsEvent ? 1 : 0);
      const c2 = security.filter((e) => e.vin === l.vin && e.eventId === IDSM.netUnknownDestination);
      expect(c2.map((e) => [e.ts, e.context?.['domain']])).toEqual([[l.start + 1000, l.details.c2Domain]]);
      expect(l.details.c2Domain).toMatch(/^upd-\d+\.c2-relay\.example\.net$/);
    }
  });

  it('signal-flooding: the vehicle sends more than 15 times its normal rate', () => {
    const l = label('signal-flooding', 5);
    const rate = of(l.vin, l.start, l.end).length / ((l.end - l.start) / 1000);
    const normal = of(l.vin, l.end + 1, l.end + 60_000).length / 60;
    expect(rate).toBeGreaterThan(15 * normal);
    expect(Math.abs(rate / (l.details.rateFactor as number) - 1)).toBeLessThan(0.3);
  });

  it('remote-unlock-burst: many app unlocks from one foreign IP, each seen by the TCU, doors reported unlocked', () => {
    const l = label('remote-unlock-burst', 6);
    const unlocks = logs.filter((e) => e.vin === l.vin && e.endpoint === '/v1/vehicles/{vin}/unlock' && e.ip === l.details.ip);
    expect(unlocks).toHaveLength(l.details.commands as number);
    expect(unlocks.every((e) => e.actor === l.details.actor && e.status === 200 && e.ts >= l.start && e.ts <= l.end)).toBe(true);
    expect(logs.some((e) => e.endpoint === '/v1/auth/login' && e.ip === l.details.ip && e.status === 200)).toBe(true);
    const tcu = security.filter((e) => e.vin === l.vin && e.eventId === IDSM.remoteUnlock && e.ts >= l.start);
    expect(tcu.length).toBeGreaterThanOrEqual(l.details.commands as number);
    const during = of(l.vin, l.start, l.end);
    expect(during.every((m) => m.signals[PATHS.lockFL] === false && num(m, PATHS.speed) === 0)).toBe(true);
  });

  it('uds-session-while-moving: an extended diagnostic session and failed security access while driving', () => {
    const l = label('uds-session-while-moving', 7);
    const events = security.filter((e) => e.vin === l.vin && (e.eventId === IDSM.udsSessionChange || e.eventId === IDSM.udsSecurityAccessFailed) && e.ts >= l.start && e.ts <= l.end);
    expect(events.filter((e) => e.eventId === IDSM.udsSessionChange)).toHaveLength(1);
    expect(events.filter((e) => e.eventId === IDSM.udsSecurityAccessFailed)).toHaveLength(l.details.securityAccessAttempts as number);
    for (const e of events) {
      expect(e.context!.speedKmh as number).toBeGreaterThan(10);
      const at = of(l.vin, e.ts - 1500, e.ts + 1500);
      expect(at.some((m) => num(m, PATHS.speed) > 10)).toBe(true);
    }
  });

  it('ids-silence: no security events in the window, heartbeats before and after', () => {
    const l = label('ids-silence', 8);
    const mine = security.filter((e) => e.vin === l.vin);
    expect(mine.filter((e) => e.ts >= l.start && e.ts <= l.end)).toEqual([]);
    expect(mine.filter((e) => e.eventId === IDSM.heartbeat && e.ts < l.start).length).toBeGreaterThanOrEqual(1);
    expect(mine.filter((e) => e.eventId === IDSM.heartbeat && e.ts > l.end).length).toBeGreaterThanOrEqual(1);
    // Signals keep flowing.
    expect(of(l.vin, l.start, l.end).length).toBeGreaterThan(250);
  });

  it('credential-stuffing: many failed logins over many accounts from one IP', () => {
    const l = label('credential-stuffing');
    const attempts = logs.filter((e) => e.ip === l.details.ip && e.endpoint === '/v1/auth/login');
    expect(attempts).toHaveLength(l.details.attempts as number);
    expect(new Set(attempts.map((e) => e.actor)).size).toBe(l.details.accounts as number);
    expect(l.details.accounts as number).toBeGreaterThan(50);
    expect(attempts.filter((e) => e.status === 401).length).toBeGreaterThan(attempts.length * 0.9);
    const won = attempts.filter((e) => e.status === 200).map((e) => e.actor);
    expect(won).toEqual(l.details.compromisedAccounts);
  });

  it('vin-enumeration: one account reads the status of many vehicles it does not own', () => {
    const l = label('vin-enumeration');
    const reads = logs.filter((e) => e.actor === l.details.actor && e.ip === l.details.ip);
    const vins = new Set(reads.map((e) => e.vin));
    expect(vins.size).toBe(l.details.vins as number);
    expect(vins.size).toBe(79); // everyone else in an 80-vehicle fleet
    expect(vins.has(l.details.ownVin as string)).toBe(false);
    expect(reads.every((e) => e.method === 'GET' && e.status === 200 && e.ts >= l.start && e.ts <= l.end)).toBe(true);
  });

  it('malformed: each labelled message fails in the labelled way, and nothing else does', () => {
    const catalog = defaultCatalog();
    const mal = labels.filter((l) => l.scenario === 'malformed');
    expect(mal.length).toBeGreaterThan(100);
    expect(new Set(mal.map((l) => l.details.variant))).toEqual(new Set(['bad-vin', 'unknown-signal', 'out-of-range', 'broken-json']));
    const byKey = new Map<string, string>();
    for (const it of items) if (it.kind === 'signals') byKey.set(`${it.vin}#${seqOf(it.payload)}`, it.payload);
    for (const l of mal) {
      const payload = byKey.get(`${l.vin}#${l.details.seq as number}`);
      expect(payload, l.id).toBeDefined();
      const problems = checkSignalsMessage(catalog, payload!);
      expect(problems.map((p) => p.code), l.id).toEqual([l.details.expectedCode]);
      if (l.details.variant === 'bad-vin') expect(isValidVin(JSON.parse(payload!).vin, { checkDigit: false })).toBe(false);
    }
    // Every message not labelled malformed is clean, attacks included.
    const dirty = items.filter((it) => it.kind === 'signals' && !malformedSeqs.has(`${it.vin}#${seqOf(it.payload)}`) && checkSignalsMessage(catalog, it.payload).length > 0);
    expect(dirty.map((it) => it.payload.slice(0, 120))).toEqual([]);
  });

  it('runs every scenario in the default rotation', () => {
    const rot = new FleetSimulator({ vehicles: 30, seed: 5, attackEveryS: 60, malformedRate: 0 });
    const seen: ScenarioLabel[] = [];
    rot.tick(rot.options.start + 9 * 60_000, { item: () => undefined, label: (x) => seen.push(x) });
    expect(new Set(seen.map((x) => x.scenario))).toEqual(new Set(ATTACK_SCENARIOS));
    expect(seen.map((x) => x.start)).toEqual([...seen.map((x) => x.start)].sort((a, b) => a - b));
    const none = new FleetSimulator({ vehicles: 30, seed: 5, attacks: false, malformedRate: 0 });
    none.tick(none.options.start + 9 * 60_000, { item: () => undefined, label: (x) => seen.push(x) });
    expect(seen).toHaveLength(9);
  });
});
