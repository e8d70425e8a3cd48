/**
 * Attack scenarios on a script, each with its ground-truth label. A scenario either bends
 * one vehicle's own reports (spoofed position or speed, a rolled-back odometer, a flood of
 * messages, silent IDS, UDS events while driving, doors unlocked) or writes back-end log
 * events on a timeline fixed when it is created (credential stuffing, VIN enumeration,
 * a burst of remote unlocks). Everything is drawn from `hash(seed, scenario ordinal)`, and
 * vehicle effects depend only on the vehicle's report times, so the output does not depend
 * on how the caller slices time into ticks.
 */
import type { RecordKind } from '../core/records.js';
import type { ModeForce } from './drive.js';
import { IDSM, SENSOR, logPayload, ownerIp, type SimItem } from './events.js';
import type { Fleet } from './fleet.js';
import { REGIONS } from './models.js';
import { Sfc32, hash32 } from './prng.js';
import type { ReportOverride } from './signals.js';
import { DRIVING, PARKED, type FleetState } from './state.js';

export const ATTACK_SCENARIOS = [
  'gps-spoofing',
  'odometer-rollback',
  'speed-injection',
  'signal-flooding',
  'remote-unlock-burst',
  'uds-session-while-moving',
  'ids-silence',
  'credential-stuffing',
  'vin-enumeration',
] as const;
export type AttackScenario = (typeof ATTACK_SCENARIOS)[number];
export type ScenarioName = AttackScenario | 'malformed';

/** Ground truth for one scenario instance (or one malformed message). */
export interface ScenarioLabel {
  /** Unique within a run, e.g. `gps-spoofing#3`, `malformed#<vin>#<seq>`. */
  readonly id: string;
  readonly scenario: ScenarioName;
  readonly tenant: string;
  /** The vehicle attacked; absent for attacks on the back end across many vehicles. */
  readonly vin?: string;
  /** Window in which the anomalous records occur, epoch ms, inclusive. */
  readonly start: number;
  readonly end: number;
  readonly description: string;
  /** Auto-ISAC ATM technique ids (empty when the matrix has none that fits). */
  readonly atm: readonly string[];
  /** Which record kinds carry the evidence. */
  readonly evidence: readonly RecordKind[];
  readonly details: Readonly<Record<string, unknown>>;
}

/** One scripted attack: which, when (seconds after the simulation start), for how long, on which vehicle. */
export interface ScenarioPlan {
  readonly scenario: AttackScenario;
  readonly atS: number;
  readonly durationS?: number;
  /** Vehicle index; drawn from the seed when absent. */
  readonly vehicle?: number;
}

interface Meta {
  readonly atm: readonly string[];
  readonly evidence: readonly RecordKind[];
  /** Default duration (s). */
  readonly durationS: number;
  /** How long before `start` the vehicle is steered into the state the attack needs (ms). */
  readonly leadMs: number;
  readonly force?: typeof PARKED | typeof DRIVING;
}

export const SCENARIO_META: Readonly<Record<AttackScenario, Meta>> = {
  // ATM has no GNSS-spoofing technique; its GPS-spoofing procedure (ATM-P0091) maps to T0003.
  'gps-spoofing': { atm: ['ATM-T0003'], evidence: ['signals'], durationS: 180, leadMs: 30_000, force: DRIVING },
  'odometer-rollback': { atm: ['ATM-T0016', 'ATM-T0067'], evidence: ['signals'], durationS: 120, leadMs: 60_000, force: PARKED },
  'speed-injection': { atm: ['ATM-T0070', 'ATM-T0071'], evidence: ['signals', 'security'], durationS: 120, leadMs: 30_000, force: DRIVING },
  'signal-flooding': { atm: ['ATM-T0072'], evidence: ['signals'], durationS: 90, leadMs: 0 },
  'remote-unlock-burst': { atm: ['ATM-T0053'], evidence: ['log', 'security', 'signals'], durationS: 150, leadMs: 60_000, force: PARKED },
  'uds-session-while-moving': { atm: ['ATM-T0067', 'ATM-T0033'], evidence: ['security', 'signals'], durationS: 120, leadMs: 30_000, force: DRIVING },
  // Defense evasion (tactic ATM-TA0006); no ATM technique describes silencing the IDS.
  'ids-silence': { atm: [], evidence: ['security'], durationS: 600, leadMs: 0 },
  // Back-end account attacks are outside the in-vehicle matrix (MITRE ATT&CK T1110.004).
  'credential-stuffing': { atm: [], evidence: ['log'], durationS: 420, leadMs: 0 },
  'vin-enumeration': { atm: ['ATM-T0057', 'ATM-T0043'], evidence: ['log'], durationS: 420, leadMs: 0 },
};

interface PendingEvent {
  readonly ts: number;
  readonly eventId: number;
  readonly sensor: string;
  readonly count: number;
  readonly context: Record<string, unknown>;
}

interface Instance {
  readonly scenario: AttackScenario;
  readonly vehicle: number;
  readonly start: number;
  readonly end: number;
  /** When the vehicle starts being steered (start - lead). */
  readonly from: number;
  readonly force: ModeForce | undefined;
  readonly spoof: readonly [number, number] | undefined;
  readonly speed: { readonly absolute: number; readonly add: number } | undefined;
  readonly floodFactor: number;
  readonly rollbackFraction: number;
  applied: boolean;
  /** Security events the vehicle reports, in time order; `next` is the first not yet sent. */
  readonly events: PendingEvent[];
  next: number;
}

/** What the scenarios do to one report of one vehicle. */
export class VehicleEffects {
  force: ModeForce | undefined = undefined;
  /** The vehicle's IDS sends nothing. */
  silent = false;
  /** Report interval divided by this (signal flooding). */
  rateFactor = 1;
}

/** The command server of the head-unit implant behind speed injections (examples/intel lists it as an indicator). */
export const C2_DOMAIN = 'c2-relay.example.net';
const ATTACKER_UA = ['python-requests/2.31.0', 'okhttp/4.9.3', 'Go-http-client/2.0'];
/** Instances that ended this long ago no longer block a vehicle from being picked again. */
const COOLDOWN_MS = 60_000;

export class ScenarioEngine {
  private k = 0;
  private readonly plans: readonly ScenarioPlan[] | undefined;
  private readonly order: readonly AttackScenario[];
  private readonly recent: Instance[] = [];
  private readonly byVehicle = new Map<number, Instance[]>();
  private readonly waitingLabels: ScenarioLabel[] = [];
  private readonly effects = new VehicleEffects();

  constructor(
    private readonly fleet: Fleet,
    private readonly st: FleetState,
    private readonly opts: { seed: number; start: number; attacks: boolean | readonly ScenarioPlan[]; attackEveryS: number; heartbeatIntervalS: number },
    private readonly backend: (ts: number, item: SimItem) => void,
  ) {
    this.plans = Array.isArray(opts.attacks)
      ? [...(opts.attacks as readonly ScenarioPlan[])].sort((a, b) => a.atS * 1000 - SCENARIO_META[a.scenario].leadMs - (b.atS * 1000 - SCENARIO_META[b.scenario].leadMs))
      : opts.attacks === false ? [] : undefined;
    // The default rotation visits every scenario once per cycle, in an order drawn from the seed.
    const rng = new Sfc32(hash32(opts.seed, 0, 0x0de7));
    const order = [...ATTACK_SCENARIOS];
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    this.order = order;
  }

  /** Create the instances whose lead-in begins by `to`, and hand over labels whose window has started. */
  advanceTo(to: number, label: (l: ScenarioLabel) => void): void {
    for (;;) {
      const plan = this.planAt(this.k);
      if (!plan) break;
      const start = this.opts.start + Math.round(plan.atS * 1000);
      if (start - SCENARIO_META[plan.scenario].leadMs > to) break;
      this.create(this.k++, plan, start);
    }
    while (this.waitingLabels.length > 0 && this.waitingLabels[0]!.start <= to) label(this.waitingLabels.shift()!);
    while (this.recent.length > 0 && this.recent[0]!.end + 3_600_000 < to) this.recent.shift();
  }

  private planAt(k: number): ScenarioPlan | undefined {
    if (this.plans) return this.plans[k];
    const every = this.opts.attackEveryS;
    return { scenario: this.order[k % this.order.length]!, atS: every / 4 + k * every };
  }

  /** Effects of the scenarios on vehicle `i`'s report at `t`; call only when `st.attacked[i]`. */
  apply(i: number, t: number, ov: ReportOverride): VehicleEffects {
    const eff = this.effects;
    eff.force = undefined;
    eff.silent = false;
    eff.rateFactor = 1;
    const list = this.byVehicle.get(i);
    if (!list) {
      this.st.attacked[i] = 0;
      return eff;
    }
    for (const x of list) {
      if (t < x.from || t > x.end) continue;
      if (x.force) eff.force = x.force;
      if (t < x.start) continue;
      switch (x.scenario) {
        case 'gps-spoofing':
          ov.lat = x.spoof![0] + Math.sin((t - x.start) / 40_000) * 0.0002;
          ov.lon = x.spoof![1] + Math.cos((t - x.start) / 40_000) * 0.0002;
          break;
        case 'odometer-rollback':
          if (!x.applied) {
            const cut = Math.floor(this.st.odo[i]! * x.rollbackFraction);
            this.st.odo[i] = this.st.odo[i]! - cut;
            this.st.tripStartOdo[i] = this.st.tripStartOdo[i]! - cut;
            x.applied = true;
          }
          break;
        case 'speed-injection':
          if (x.speed!.add !== 0) ov.speedAdd = x.speed!.add;
          else ov.speed = x.speed!.absolute;
          break;
        case 'signal-flooding':
          eff.rateFactor = x.floodFactor;
          break;
        case 'remote-unlock-burst':
          ov.unlocked = true;
          break;
        case 'ids-silence':
          eff.silent = true;
          break;
        default:
          break;
      }
    }
    return eff;
  }

  /** Security events scenarios make vehicle `i` report by `t`; drops finished instances. */
  vehicleEvents(i: number, t: number, speedKmh: number, emit: (e: PendingEvent) => void): void {
    const list = this.byVehicle.get(i);
    if (!list) return;
    for (const x of list) {
      while (x.next < x.events.length && x.events[x.next]!.ts <= t) {
        const e = x.events[x.next++]!;
        emit(x.scenario === 'uds-session-while-moving' ? { ...e, context: { ...e.context, speedKmh: Math.round(speedKmh) } } : e);
      }
    }
    const live = list.filter((x) => t <= x.end + COOLDOWN_MS || x.next < x.events.length);
    if (live.length === 0) {
      this.byVehicle.delete(i);
      this.st.attacked[i] = 0;
    } else if (live.length !== list.length) this.byVehicle.set(i, live);
  }

  private busy(i: number, from: number, end: number): boolean {
    return this.recent.some((x) => x.vehicle === i && x.from <= end + COOLDOWN_MS && x.end + COOLDOWN_MS >= from);
  }

  private pickVehicle(rng: Sfc32, from: number, end: number, want: (i: number) => boolean = () => true): number {
    const n = this.fleet.size;
    for (let tries = 0; tries < 64; tries++) {
      const i = rng.int(n);
      if ((tries < 48 && !want(i)) || this.busy(i, from, end)) continue;
      return i;
    }
    return rng.int(n);
  }

  private create(k: number, plan: ScenarioPlan, start: number): void {
    const meta = SCENARIO_META[plan.scenario];
    const rng = new Sfc32(hash32(this.opts.seed, k, 0xa77));
    const minDuration = plan.scenario === 'ids-silence' ? 5 * this.opts.heartbeatIntervalS : 10;
    const end = start + Math.round(Math.max(minDuration, plan.durationS ?? meta.durationS) * 1000);
    const from = start - meta.leadMs;
    const fleet = this.fleet;
    const startYear = new Date(start).getUTCFullYear();
    const wantOld = (i: number): boolean => fleet.year(i) <= startYear - 2;
    const vehicle = plan.vehicle ?? this.pickVehicle(rng, from, end, plan.scenario === 'odometer-rollback' ? wantOld : undefined);
    if (!Number.isInteger(vehicle) || vehicle < 0 || vehicle >= fleet.size) {
      throw new RangeError(`scenario ${plan.scenario}: no vehicle ${vehicle} in a fleet of ${fleet.size}`);
    }
    const vin = fleet.vin(vehicle);
    const tenant = fleet.tenant(vehicle);
    const id = `${plan.scenario}#${k}`;
    const inst: Instance = {
      scenario: plan.scenario,
      vehicle,
      start,
      end,
      from,
      force: meta.force === undefined ? undefined : { mode: meta.force, until: end, minSpeed: meta.force === DRIVING ? 45 : 0 },
      spoof: undefined,
      speed: undefined,
      floodFactor: 1,
      rollbackFraction: 0,
      applied: false,
      events: [],
      next: 0,
    };
    const base = { id, scenario: plan.scenario, tenant, start, end, atm: meta.atm, evidence: meta.evidence } as const;
    let label: ScenarioLabel;
    const mutable = inst as { -readonly [K in keyof Instance]: Instance[K] };
    switch (plan.scenario) {
      case 'gps-spoofing': {
        const [hLat, hLon] = REGIONS[fleet.region[vehicle]!]!.cities[fleet.city[vehicle]!]!;
        const km = rng.range(300, 1500);
        const bearing = rng.range(0, 2 * Math.PI);
        const lat = Math.max(-85, Math.min(85, hLat + (km * 1000 * Math.cos(bearing)) / 111_320));
        const lon = ((hLon + (km * 1000 * Math.sin(bearing)) / (111_320 * Math.cos((hLat * Math.PI) / 180)) + 540) % 360) - 180;
        mutable.spoof = [lat, lon];
        label = { ...base, vin, description: `GNSS spoofing: ${vin} reports a position ~${Math.round(km)} km from where its wheel speeds and odometer say it drives (impossible travel), with a suspiciously precise fix`, details: { spoofedLatitude: lat, spoofedLongitude: lon, jumpKm: Math.round(km) } };
        break;
      }
      case 'odometer-rollback': {
        mutable.rollbackFraction = rng.range(0.35, 0.6);
        label = { ...base, vin, description: `Odometer rollback: ${vin}'s Vehicle.TraveledDistance drops by ${Math.round(inst.rollbackFraction * 100)}% while parked and stays lower`, details: { rollbackFraction: Math.round(inst.rollbackFraction * 1000) / 1000 } };
        break;
      }
      case 'speed-injection': {
        const hide = rng.next() < 0.5;
        mutable.speed = hide ? { absolute: rng.range(0, 3), add: 0 } : { absolute: Number.NaN, add: rng.range(60, 100) };
        // The head unit the frames come from calls its command server first (a connection event the
        // demo's STIX indicators know). Drawn from a stream of its own: the scenario's draws stay as they were.
        const c2 = `upd-${new Sfc32(hash32(this.opts.seed, k, 0xc2)).int(100)}.${C2_DOMAIN}`;
        inst.events.push({ ts: start + 1_000, eventId: IDSM.netUnknownDestination, sensor: SENSOR.ivi, count: 1, context: { bytesOut: 2_048, domain: c2 } });
        const idsSees = rng.next() < 0.5;
        if (idsSees) {
          inst.events.push({ ts: start + 2_000, eventId: IDSM.canFrequencyViolation, sensor: SENSOR.can, count: rng.int(40) + 10, context: { canId: '0x1D0', bus: 'PT', expectedHz: 50, observedHz: 100 + rng.int(100) } });
        }
        label = { ...base, vin, description: `CAN injection of a spoofed vehicle speed on ${vin}: Vehicle.Speed ${hide ? 'reads ~0 km/h while' : 'reads 60-100 km/h above what'} wheel speeds, engine speed and GPS motion show${idsSees ? '; the gateway IDS reports a frequency violation on 0x1D0' : ''}; the head unit first connects to its command server ${c2}`, details: { mode: hide ? 'hide' : 'inflate', idsEvent: idsSees, c2Domain: c2 } };
        break;
      }
      case 'signal-flooding': {
        mutable.floodFactor = Math.round(rng.range(20, 40));
        label = { ...base, vin, description: `Signal flooding: ${vin} sends ~${inst.floodFactor}x its normal message rate`, details: { rateFactor: inst.floodFactor } };
        break;
      }
      case 'remote-unlock-burst': {
        const ip = `198.51.100.${1 + rng.int(254)}`;
        const actor = fleet.account(vehicle);
        const ua = rng.pick(ATTACKER_UA);
        const commands = 15 + rng.int(26);
        this.backend(start, logItem(tenant, { ts: start, service: 'telematics', actor, method: 'POST', endpoint: '/v1/auth/login', status: 200, ip, ua }));
        const times = sortedTimes(rng, commands, start + 5_000, end);
        for (const c of times) {
          this.backend(c, logItem(tenant, { ts: c, service: 'telematics', vin, actor, method: 'POST', endpoint: '/v1/vehicles/{vin}/unlock', status: 200, ip, ua }));
          inst.events.push({ ts: c + 300 + rng.int(600), eventId: IDSM.remoteUnlock, sensor: SENSOR.tcu, count: 1, context: { command: 'unlock', origin: 'tsp' } });
        }
        label = { ...base, vin, description: `Remote unlock burst: account ${actor} logs in from ${ip} and unlocks ${vin} ${commands} times in ${Math.round((end - start) / 1000)} s; the TCU reports each command and the doors stay unlocked`, details: { actor, ip, commands, ownerIp: ownerIp(fleet, vehicle) } };
        break;
      }
      case 'uds-session-while-moving': {
        const attempts = 3 + rng.int(6);
        const tester = rng.pick(['0x0E80', '0x0F10', '0x0EFF']);
        inst.events.push({ ts: start + 5_000, eventId: IDSM.udsSessionChange, sensor: SENSOR.uds, count: 1, context: { service: '0x10', session: '0x03', tester } });
        for (const ts of sortedTimes(rng, attempts, start + 8_000, end - 5_000)) {
          inst.events.push({ ts, eventId: IDSM.udsSecurityAccessFailed, sensor: SENSOR.uds, count: 1 + rng.int(3), context: { service: '0x27', level: '0x01', nrc: '0x35', tester } });
        }
        label = { ...base, vin, description: `UDS extended diagnostic session and ${attempts} failed security-access attempts on ${vin} while it drives`, details: { tester, securityAccessAttempts: attempts } };
        break;
      }
      case 'ids-silence':
        label = { ...base, vin, description: `IDS silence: ${vin}'s in-vehicle IDS stops reporting (no heartbeats, no events) while the vehicle keeps sending signals`, details: { heartbeatIntervalS: this.opts.heartbeatIntervalS, atmTactic: 'ATM-TA0006' } };
        break;
      case 'credential-stuffing':
        label = this.credentialStuffing(rng, base, tenant, start, end);
        break;
      case 'vin-enumeration':
        label = this.vinEnumeration(rng, base, tenant, vehicle, start, end);
        break;
    }
    const vehicleBound = plan.scenario !== 'credential-stuffing' && plan.scenario !== 'vin-enumeration';
    if (vehicleBound) {
      this.recent.push(inst);
      const list = this.byVehicle.get(vehicle);
      if (list) list.push(inst);
      else this.byVehicle.set(vehicle, [inst]);
      this.st.attacked[vehicle] = 1;
    }
    const at = this.waitingLabels.findIndex((l) => l.start > label.start);
    this.waitingLabels.splice(at < 0 ? this.waitingLabels.length : at, 0, label);
  }

  private credentialStuffing(rng: Sfc32, base: Omit<ScenarioLabel, 'description' | 'details'>, tenant: string, start: number, end: number): ScenarioLabel {
    const fleet = this.fleet;
    const ip = `203.0.113.${1 + rng.int(254)}`;
    const ua = rng.pick(ATTACKER_UA);
    const attempts = Math.round(((end - start) / 1000) * rng.range(1, 3));
    const accounts = new Set<string>();
    const compromised: string[] = [];
    for (const ts of sortedTimes(rng, attempts, start, end)) {
      let actor: string;
      let vehicle = -1;
      if (rng.next() < 0.7) {
        vehicle = rng.int(fleet.size);
        if (fleet.tenant(vehicle) !== tenant) vehicle = -1;
      }
      if (vehicle >= 0) actor = fleet.account(vehicle);
      else actor = `acct-x${rng.u32().toString(16).padStart(8, '0')}`; // not an account of this fleet
      accounts.add(actor);
      const success = vehicle >= 0 && rng.next() < 0.02;
      this.backend(ts, logItem(tenant, { ts, service: 'telematics', actor, method: 'POST', endpoint: '/v1/auth/login', status: success ? 200 : 401, ip, ua }));
      if (success) {
        compromised.push(actor);
        const at = ts + 2_000 + rng.int(3_000);
        this.backend(at, logItem(tenant, { ts: at, service: 'telematics', vin: fleet.vin(vehicle), actor, method: 'GET', endpoint: '/v1/vehicles/{vin}/status', status: 200, ip, ua }));
      }
    }
    return {
      ...base,
      description: `Credential stuffing against the telematics API: ${attempts} logins over ${accounts.size} accounts from ${ip}, ${compromised.length} succeed`,
      details: { ip, userAgent: ua, attempts, accounts: accounts.size, compromisedAccounts: compromised, mitreAttack: 'T1110.004' },
    };
  }

  private vinEnumeration(rng: Sfc32, base: Omit<ScenarioLabel, 'description' | 'details'>, tenant: string, vehicle: number, start: number, end: number): ScenarioLabel {
    const fleet = this.fleet;
    const actor = fleet.account(vehicle);
    const ip = `192.0.2.${1 + rng.int(254)}`;
    const ua = 'VigilApp/4.2.1 (Android 15)';
    const want = Math.min(fleet.size - 1, 150 + rng.int(250));
    const targets = new Set<number>();
    for (let tries = 0; targets.size < want && tries < want * 20; tries++) {
      const j = rng.int(fleet.size);
      if (j !== vehicle && fleet.tenant(j) === tenant) targets.add(j);
    }
    const times = sortedTimes(rng, targets.size, start, end);
    let n = 0;
    for (const j of targets) {
      const ts = times[n++]!;
      const endpoint = rng.next() < 0.7 ? '/v1/vehicles/{vin}/status' : '/v1/vehicles/{vin}/location';
      this.backend(ts, logItem(tenant, { ts, service: 'telematics', vin: fleet.vin(j), actor, method: 'GET', endpoint, status: 200, ip, ua }));
    }
    return {
      ...base,
      description: `One account reads many vehicles: ${actor} requests status/location of ${targets.size} VINs it does not own (broken object-level authorization)`,
      details: { actor, ip, vins: targets.size, ownVin: fleet.vin(vehicle) },
    };
  }
}

function logItem(tenant: string, f: Parameters<typeof logPayload>[0]): SimItem {
  return { kind: 'log', tenant, ...(f.vin !== undefined ? { vin: f.vin } : {}), ts: f.ts, payload: logPayload(f) };
}

/** `n` integer times in [from, to], sorted. */
function sortedTimes(rng: Sfc32, n: number, from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Math.floor(rng.range(from, Math.max(from, to))));
  return out.sort((a, b) => a - b);
}
