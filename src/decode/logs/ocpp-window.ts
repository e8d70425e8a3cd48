/**
 * Stateful: the recent OCPP CALLs of one lane, so a CALLRESULT or CALLERROR (which carry
 * only the CALL's unique id) can be resolved to its action, version and id tag. Bounded two
 * ways: at most 2 x `cap` calls (two generations; the oldest generation is dropped whole),
 * and a result more than `maxDelayMs` after its call is not matched (stations reuse ids,
 * e.g. a counter reset by a reboot). Also remembers each charge point's OCPP version, so
 * frames that do not reveal it (Heartbeat) are still labelled.
 */
import type { OcppVersion } from './ocpp-schema.js';

export interface PendingCall {
  readonly action: string;
  readonly version: OcppVersion | undefined;
  readonly idTag?: string;
  /** Event time of the CALL, epoch ms. */
  readonly ts: number;
}

/** Calls remembered per generation. */
export const OCPP_WINDOW_CAP = 20_000;
/** A result later than this after its call is not matched (OCPP message timeouts are tens of seconds). */
export const OCPP_MAX_RESULT_DELAY_MS = 5 * 60_000;

export class OcppCallWindow {
  private young = new Map<string, PendingCall>();
  private old = new Map<string, PendingCall>();
  private versionsYoung = new Map<string, OcppVersion>();
  private versionsOld = new Map<string, OcppVersion>();
  /** Results and errors that found no call (counted; their action is unknown). */
  unmatched = 0;

  constructor(
    private readonly cap = OCPP_WINDOW_CAP,
    private readonly maxDelayMs = OCPP_MAX_RESULT_DELAY_MS,
  ) {}

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
    return this.versionsYoung.get(chargePoint) ?? this.versionsOld.get(chargePoint);
  }

  setVersion(chargePoint: string, v: OcppVersion): void {
    if (this.versionsYoung.get(chargePoint) === v) return;
    if (this.versionsYoung.size >= this.cap) {
      this.versionsOld = this.versionsYoung;
      this.versionsYoung = new Map();
    }
    this.versionsYoung.set(chargePoint, v);
  }
}
