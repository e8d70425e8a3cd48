/**
 * The fleet simulator: advances every vehicle to a point in simulated time and hands each
 * produced record to a sink as it is made. Work per call is bounded by a message budget,
 * so a caller with backpressure can pull in slices (see `tick`).
 */
import { Step, advance } from './drive.js';
import { BenignTraffic, IDSM, SENSOR, logPayload, ownerRequest, securityPayload, type SimItem } from './events.js';
import { Fleet } from './fleet.js';
import { resolveSimOptions, type ResolvedSimOptions, type SimOptions } from './options.js';
import { Mulberry32, Sfc32, hash32, seed32 } from './prng.js';
import { TimeQueue } from './queue.js';
import { ScenarioEngine, type ScenarioLabel } from './scenarios.js';
import { ReportOverride, SignalsWriter } from './signals.js';
import { CHARGING, DRIVING, FleetState, OCC } from './state.js';

/** Receives records as they are produced; `label` receives ground truth when a scenario starts. */
export interface SimSink {
  item(item: SimItem): void;
  label?(label: ScenarioLabel): void;
}

export interface SimStats {
  /** Signals messages (including malformed ones). */
  messages: number;
  /** Signal values (snapshot entries + samples) in well-formed messages. */
  signals: number;
  securityEvents: number;
  logEvents: number;
  malformed: number;
  labels: number;
}

const MALFORMED = ['bad-vin', 'unknown-signal', 'out-of-range', 'broken-json'] as const;
const EXPECTED_CODE: Readonly<Record<(typeof MALFORMED)[number], string>> = {
  'bad-vin': 'vin.invalid',
  'unknown-signal': 'signal.unknown',
  'out-of-range': 'value.out_of_range',
  'broken-json': 'json.malformed',
};

/** The fleet (identities only, three bytes a vehicle) that a simulator of `opts` simulates. */
export function simulatedFleet(opts: SimOptions = {}): Fleet {
  const o = resolveSimOptions(opts);
  return new Fleet(seed32(o.seed), o.vehicles, o.tenants);
}

export class FleetSimulator {
  readonly options: ResolvedSimOptions;
  readonly fleet: Fleet;
  readonly stats: SimStats = { messages: 0, signals: 0, securityEvents: 0, logEvents: 0, malformed: 0, labels: 0 };
  private readonly st: FleetState;
  private readonly seed: number;
  private readonly step = new Step();
  private readonly ov = new ReportOverride();
  private readonly r = new Mulberry32();
  private readonly writer: SignalsWriter;
  private readonly scenarios: ScenarioEngine;
  private readonly benign: BenignTraffic;
  private readonly backend = new TimeQueue<SimItem>();
  private readonly intervalMs: number;
  private readonly heartbeatMs: number;
  private done: number;
  private pass = Number.NaN;
  private cursor = 0;

  constructor(opts: SimOptions = {}) {
    const o = (this.options = resolveSimOptions(opts));
    this.seed = seed32(o.seed);
    this.fleet = new Fleet(this.seed, o.vehicles, o.tenants);
    this.intervalMs = o.reportIntervalS * 1000;
    this.heartbeatMs = o.heartbeatIntervalS * 1000;
    this.st = new FleetState(this.fleet, o.start, this.intervalMs, this.heartbeatMs);
    // Nothing happens before the start: every record up to start - 1 ms is (vacuously) produced.
    this.done = o.start - 1;
    this.writer = new SignalsWriter(this.fleet, this.st);
    const later = (ts: number, item: SimItem): void => this.backend.push(ts, item);
    this.scenarios = new ScenarioEngine(this.fleet, this.st, { ...o, seed: this.seed }, later);
    this.benign = new BenignTraffic(this.fleet, new Sfc32(hash32(this.seed, 0, 0xbe9)), o.start, o.apiRequestsPerVehicleHour);
  }

  /** Simulated time up to which every record has been produced (start - 1 before the first tick). */
  get now(): number {
    return this.done;
  }

  /** Bytes of per-vehicle state (typed arrays). */
  get stateBytes(): number {
    return this.st.bytes + this.fleet.model.byteLength * 3;
  }

  /**
   * Produce every record with event time <= `to` (epoch ms) into `sink`. At most `budget`
   * signals messages are made per call; returns false when the budget ran out first — call
   * again with the same `to` to continue. Vehicles report in index order within a call.
   */
  tick(to: number, sink: SimSink, budget = Number.POSITIVE_INFINITY): boolean {
    if (to < this.done) throw new RangeError(`cannot go back in time: ${to} < ${this.done}`);
    if (this.pass !== to) {
      this.pass = to;
      this.cursor = 0;
      this.scenarios.advanceTo(to, (l) => {
        this.stats.labels++;
        sink.label?.(l);
      });
      const later = (item: SimItem): void => this.backend.push(item.ts, item);
      this.benign.until(to, later, later);
      this.backend.popUntil(to, (item) => {
        this.stats.logEvents++;
        sink.item(item);
      });
    }
    const n = this.fleet.size;
    const nextT = this.st.nextT;
    for (let i = this.cursor; i < n; i++) {
      while (nextT[i]! <= to) {
        if (budget <= 0) {
          this.cursor = i;
          return false;
        }
        budget--;
        this.report(i, nextT[i]!, sink);
      }
    }
    this.cursor = n;
    this.done = to;
    return true;
  }

  /** `tick` as a pull-based iterator over the records with event time <= `to`. */
  *items(to: number, onLabel?: (l: ScenarioLabel) => void): Generator<SimItem, void, undefined> {
    const buf: SimItem[] = [];
    const sink: SimSink = { item: (x) => buf.push(x), ...(onLabel ? { label: onLabel } : {}) };
    for (;;) {
      const complete = this.tick(to, sink, 256);
      yield* buf;
      buf.length = 0;
      if (complete) return;
    }
  }

  private report(i: number, t: number, sink: SimSink): void {
    const { st, fleet, step, ov, r, options: o } = this;
    r.s = st.rng[i]!;
    ov.reset();
    const attacked = st.attacked[i] === 1;
    const eff = attacked ? this.scenarios.apply(i, t, ov) : undefined;
    const prevMode = st.mode[i]!;
    advance(st, fleet, i, t, r, eff?.force, step);

    const vin = fleet.vin(i);
    const tenant = fleet.tenant(i);
    const u = r.next();
    const malformed = o.malformedRate > 0 && u < o.malformedRate ? MALFORMED[Math.min(3, Math.floor((u / o.malformedRate) * 4))]! : undefined;
    if (malformed) ov.malformed = malformed;
    const seq = st.seq[i]!;
    st.seq[i] = seq + 1;
    const payload = this.writer.write(i, vin, seq, step, o.signalsPerMessage, ov, r);
    sink.item({ kind: 'signals', tenant, vin, ts: t, payload });
    this.stats.messages++;
    if (malformed) {
      this.stats.malformed++;
      this.stats.labels++;
      sink.label?.({
        id: `malformed#${vin}#${seq}`, scenario: 'malformed', tenant, vin, start: t, end: t,
        description: `Malformed signals message (${malformed}) from ${vin}, seq ${seq}: expect a dead letter ${EXPECTED_CODE[malformed]}`,
        atm: [], evidence: ['signals'], details: { variant: malformed, seq, expectedCode: EXPECTED_CODE[malformed] },
      });
    } else this.stats.signals += this.writer.count;

    // The vehicle's IDS: heartbeats, the odd benign event, and whatever scenarios make it see.
    const silent = eff?.silent === true;
    const sec = (ts: number, eventId: number, sensor: string, count: number, context?: Record<string, unknown>): void => {
      const s = st.seq[i]!;
      st.seq[i] = s + 1;
      this.stats.securityEvents++;
      sink.item({ kind: 'security', tenant, vin, ts, payload: securityPayload(vin, ts, s, eventId, sensor, count, context) });
    };
    while (st.hbNext[i]! <= t) {
      if (!silent) sec(st.hbNext[i]!, IDSM.heartbeat, SENSOR.heartbeat, 1);
      st.hbNext[i] = st.hbNext[i]! + this.heartbeatMs;
    }
    if (r.next() < step.dt / o.benignSecurityEventMeanS && !silent) {
      const w = r.next();
      if (w < 0.2 && step.mode !== DRIVING) {
        // A workshop tester at standstill: the benign twin of the UDS-while-moving attack.
        sec(t, IDSM.udsSessionChange, SENSOR.uds, 1, { service: '0x10', session: '0x03', tester: '0x0E80', speedKmh: 0 });
      } else if (w < 0.5) sec(t, IDSM.btPairingRequest, SENSOR.ivi, 1, { result: r.next() < 0.9 ? 'accepted' : 'rejected' });
      else sec(t, IDSM.canUnknownId, SENSOR.can, 1 + r.int(2), { canId: `0x${(0x700 + r.int(0xff)).toString(16).toUpperCase()}`, bus: 'BODY' });
    }
    if (attacked) {
      this.scenarios.vehicleEvents(i, t, step.v1, (e) => {
        if (!silent) sec(e.ts, e.eventId, e.sensor, e.count, e.context);
      });
    }

    // Owner habits seen in the back end: unlocking with the app before a trip, charging sessions.
    if (step.mode !== DRIVING && (st.occupants[i]! & OCC.appUnlock) !== 0 && step.untilMode <= 20 && step.untilMode + step.dt > 20) {
      this.log(sink, ownerRequest(fleet, i, t - 600, 'POST', '/v1/vehicles/{vin}/unlock'));
      if (!silent) sec(t, IDSM.remoteUnlock, SENSOR.tcu, 1, { command: 'unlock', origin: 'tsp' });
    }
    if (step.modeChanged && (step.mode === CHARGING || prevMode === CHARGING)) {
      const cp = `CP-${(hash32(this.seed, i, 0xc9) % 90_000) + 10_000}`;
      const endpoint = step.mode === CHARGING ? '/ocpp/StartTransaction' : '/ocpp/StopTransaction';
      this.log(sink, { kind: 'log', tenant, vin, ts: t, payload: logPayload({ ts: t, service: 'charging', vin, actor: cp, method: 'POST', endpoint, status: 200 }) });
    }

    const gap = (this.intervalMs * (0.9 + 0.2 * r.next())) / (eff?.rateFactor ?? 1);
    st.lastT[i] = t;
    st.nextT[i] = t + Math.max(1, Math.round(gap));
    st.rng[i] = r.s;
  }

  private log(sink: SimSink, item: SimItem): void {
    this.stats.logEvents++;
    sink.item(item);
  }
}
