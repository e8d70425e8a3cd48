/**
 * What a compiled predicate looks at: one reusable context object per runner, refilled for
 * each signal row or record, so evaluating a row allocates nothing. Per-vehicle state holds
 * the last value and time of every signal the pack reads (`state.<path>`, change, consistency,
 * geo) in one Float64Array, plus one state slot per rule.
 */
import type { Alert, ApiEvent, SecurityEvent } from '../../core/records.js';

/** The event kinds a rule can watch besides signals. */
export const RECORD_SOURCES = ['security', 'api', 'alert'] as const;
export type RecordSource = (typeof RECORD_SOURCES)[number];
export type SourceKind = 'signals' | RecordSource;

export class VehicleState {
  /** [0, n): last value per slot; [n, 2n): its event time (NaN = never seen). */
  readonly slots: Float64Array;
  /** Newest event time seen; rows older than it minus the lateness window are skipped. */
  watermark = Number.NEGATIVE_INFINITY;
  /** Per plan index, that rule's state for this vehicle (created on first use). */
  readonly plans: unknown[] = [];

  constructor(
    readonly tenant: string,
    readonly id: string,
    readonly slotCount: number,
  ) {
    this.slots = new Float64Array(slotCount * 2);
    this.slots.fill(Number.NaN, slotCount);
  }

  value(slot: number): number {
    return this.slots[slot]!;
  }
  time(slot: number): number {
    return this.slots[this.slotCount + slot]!;
  }
  set(slot: number, time: number, value: number): void {
    // NaN (never seen) compares false: the first value is always taken.
    if (!(time < this.slots[this.slotCount + slot]!)) {
      this.slots[slot] = value;
      this.slots[this.slotCount + slot] = time;
    }
  }
}

/** The event under evaluation. Fields not of the current kind hold stale values: do not read them. */
export class EventCtx {
  kind: SourceKind = 'signals';
  tenant = '';
  vehicle: VehicleState | undefined = undefined;
  time = 0;
  /** Signal rows: catalog id, numeric value (NaN for text), text value. */
  signal = 0;
  value = Number.NaN;
  text: string | undefined = undefined;
  /** Record kinds: the record itself. */
  record: SecurityEvent | ApiEvent | Alert | undefined = undefined;
}

export type Pred = (c: EventCtx) => boolean;
export type Getter = (c: EventCtx) => unknown;
