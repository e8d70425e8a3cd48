/**
 * Stateful: the recent OCPP CALLs of one lane, so a CALLRESULT or CALLERROR (which carry
 * only the CALL's unique id) can be resolved to its action, version and id tag. Bounded two
 * ways: at most 2 x `cap` calls (two generations; the oldest generation is dropped whole),
 * and a result more than `maxDelayMs` after its call is not matched (stations reuse ids,
 * e.g. a counter reset by a reboot). Also remembers each charge point's OCPP version, so
 * frames that do not reveal it (Heartbeat) are still labelled, and the meter: the energy
 * register last read on each connector and the register at the start of each open
 * transaction, so readings can be judged against them (a register running backwards, a
 * session's energy). These are bounded the same way, two generations of `cap` keys.
 */
import type { OcppVersion } from './ocpp-schema.js';

export interface PendingCall {
  readonly action: string;
  readonly version: OcppVersion | undefined;
  readonly idTag?: string;
  /** Event time of the CALL, epoch ms. */
  readonly ts: number;
  /** A StartTransaction's meter register at the start (Wh), kept until its result names the transaction. */
  readonly meterStartWh?: number;
}

/** A map of at most 2 x `cap` keys: when the young generation is full, the old one is dropped whole. */
class Generations<V> {
  private young = new Map<string, V>();
  private old = new Map<string, V>();

  constructor(private readonly cap: number) {}

  get(key: string): V | undefined {
    return this.young.get(key) ?? this.old.get(key);
  }

  set(key: string, value: V): void {
    if (!this.young.has(key) && this.young.size >= this.cap) {
      this.old = this.young;
      this.young = new Map();
    }
    this.old.delete(key);
    this.young.set(key, value);
  }

  /** The value, removed. */
  take(key: string): V | undefined {
    const v = this.get(key);
    this.young.delete(key);
    this.old.delete(key);
    return v;
  }
}

/** Calls remembered per generation. */
export const OCPP_WINDOW_CAP = 20_000;
/** A result later than this after its call is not matched (OCPP message timeouts are tens of seconds). */
export const OCPP_MAX_RESULT_DELAY_MS = 5 * 60_000;

export class OcppCallWindow {
  private young = new Map<string, PendingCall>();
  private old = new Map<string, PendingCall>();
  private readonly versions: Generations<OcppVersion>;
  private readonly registers: Generations<number>;
  private readonly sessions: Generations<number>;
  /** Results and errors that found no call (counted; their action is unknown). */
  unmatched = 0;

  constructor(
    private readonly cap = OCPP_WINDOW_CAP,
    private readonly maxDelayMs = OCPP_MAX_RESULT_DELAY_MS,
  ) {
    this.versions = new Generations(cap);
    this.registers = new Generations(cap);
    this.sessions = new Generations(cap);
  }

  remember(key: string, call: PendingCall): void {
    if (this.young.size >= this.cap) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, call);
  }

  /** The call a result answers, removed from the window; undefined when unknown or too old. */
  take(key: string, resultTs: number): PendingCall | undefined {
    const call = this.young.get(key) ?? this.old.get(key);
    if (call === undefined) {
      this.unmatched++;
      return undefined;
    }
    this.young.delete(key);
    this.old.delete(key);
    if (resultTs - call.ts > this.maxDelayMs) {
      this.unmatched++;
      return undefined;
    }
    return call;
  }

  versionOf(chargePoint: string): OcppVersion | undefined {
    return this.versions.get(chargePoint);
  }

  setVersion(chargePoint: string, v: OcppVersion): void {
    if (this.versions.get(chargePoint) !== v) this.versions.set(chargePoint, v);
  }

  /** Record a connector's energy register (Wh); returns the change since its last reading, undefined for the first. */
  registerReading(connector: string, wh: number): number | undefined {
    const before = this.registers.get(connector);
    this.registers.set(connector, wh);
    return before === undefined ? undefined : wh - before;
  }

  /** A transaction started with the register at `wh`. */
  sessionStarted(transaction: string, wh: number): void {
    this.sessions.set(transaction, wh);
  }

  /** A transaction ended with the register at `wh`: the energy it delivered (Wh), undefined when its start is unknown. */
  sessionEnded(transaction: string, wh: number): number | undefined {
    const start = this.sessions.take(transaction);
    return start === undefined ? undefined : wh - start;
  }
}
