/**
 * Rule types over a vehicle's signal state: `absence` (an expected event stops arriving),
 * `change` (impossible jumps and rates between consecutive samples) and `consistency` (one
 * signal disagrees with another). They read the per-vehicle slots the runner keeps; a
 * plan's own trigger signal still holds its previous sample when the plan runs.
 */
import type { SignalCatalog } from '../../../core/catalog.js';
import type { EventCtx, VehicleState } from '../context.js';
import { Plan, describe, type Fire, type PlanCounters, type Port, type RuleMeta } from '../plan.js';

interface Watch {
  lastExpected: number;
  lastActive: number;
  fired: boolean;
}
/** A vehicle first seen counts its silence from then. */
const newWatch = (c: EventCtx): Watch => ({ lastExpected: c.time, lastActive: Number.NaN, fired: false });

/**
 * Port 0: the expected event; port 1 (optional): activity that shows the vehicle is alive.
 * Silence is judged on activity (event time, deterministic in replay) and on clock ticks
 * (processing time, for a vehicle that has gone quiet altogether). One alert per gap.
 */
export class AbsencePlan extends Plan {
  constructor(
    meta: RuleMeta,
    ports: Port[],
    counters: PlanCounters,
    private readonly catalog: SignalCatalog,
    private readonly withinMs: number,
  ) {
    super(meta, ports, undefined, counters);
  }

  private get hasWhile(): boolean {
    return this.ports.length > 1;
  }

  on(port: number, c: EventCtx, fire: Fire): void {
    const w = this.state(c, newWatch);
    if (!w) return;
    if (port === 0) {
      if (c.time >= w.lastExpected) {
        w.lastExpected = c.time;
        w.fired = false;
      }
      return;
    }
    if (!(c.time <= w.lastActive)) w.lastActive = c.time;
    if (!w.fired && c.time - w.lastExpected > this.withinMs) {
      w.fired = true;
      fire(this, c, { lastExpected: w.lastExpected, silentMs: c.time - w.lastExpected, withinMs: this.withinMs, activity: describe(c, this.catalog) });
    }
  }

  override tick(now: number, vehicles: Iterable<VehicleState>, c: EventCtx, fire: Fire): void {
    for (const v of vehicles) {
      const w = v.plans[this.index] as Watch | undefined;
      if (!w || w.fired || !(now - w.lastExpected > this.withinMs)) continue;
      if (this.hasWhile && !(now - w.lastActive <= this.withinMs)) continue;
      w.fired = true;
      c.kind = 'signals';
      c.tenant = v.tenant;
      c.vehicle = v;
      c.record = undefined;
      c.time = w.lastExpected + this.withinMs;
      fire(this, c, { lastExpected: w.lastExpected, silentMs: now - w.lastExpected, withinMs: this.withinMs, byClock: true }, c.time);
    }
  }
}

export interface ChangeLimits {
  readonly maxIncrease?: number;
  readonly maxDecrease?: number;
  readonly maxRate?: number;
  readonly maxGapMs: number;
}

export class ChangePlan extends Plan {
  constructor(
    meta: RuleMeta,
    ports: Port[],
    counters: PlanCounters,
    private readonly path: string,
    private readonly slot: number,
    private readonly limits: ChangeLimits,
  ) {
    super(meta, ports, undefined, counters);
  }

  on(_port: number, c: EventCtx, fire: Fire): void {
    const v = c.vehicle!;
    const dt = c.time - v.time(this.slot);
    if (!(dt > 0 && dt <= this.limits.maxGapMs)) return;
    const previous = v.value(this.slot);
    const change = c.value - previous;
    const rate = Math.abs(change) / (dt / 1000);
    const { maxIncrease, maxDecrease, maxRate } = this.limits;
    const broken =
      maxIncrease !== undefined && change > maxIncrease ? 'max-increase'
      : maxDecrease !== undefined && -change > maxDecrease ? 'max-decrease'
      : maxRate !== undefined && rate > maxRate ? 'max-rate'
      : undefined;
    if (broken) fire(this, c, { path: this.path, previous, current: c.value, change, seconds: dt / 1000, ratePerS: round(rate), limit: broken });
  }
}

export interface ConsistencyParams {
  readonly path: string;
  readonly withPath: string;
  readonly withSlot: number;
  readonly scale: number;
  readonly offset: number;
  readonly tolerance: number;
  readonly relative: number;
  readonly maxAgeMs: number;
}

/** Fires when the source differs from `scale * with + offset` by more than the looser tolerance. */
export class ConsistencyPlan extends Plan {
  constructor(meta: RuleMeta, ports: Port[], counters: PlanCounters, private readonly p: ConsistencyParams) {
    super(meta, ports, undefined, counters);
  }

  on(_port: number, c: EventCtx, fire: Fire): void {
    const v = c.vehicle!;
    const p = this.p;
    const t = v.time(p.withSlot);
    if (!(Math.abs(c.time - t) <= p.maxAgeMs)) return;
    const other = v.value(p.withSlot);
    const expected = p.scale * other + p.offset;
    const diff = Math.abs(c.value - expected);
    const limit = Math.max(p.tolerance, p.relative * Math.max(Math.abs(c.value), Math.abs(expected)));
    if (diff > limit) fire(this, c, { path: p.path, value: c.value, with: p.withPath, withValue: other, expected: round(expected), difference: round(diff), tolerated: round(limit) });
  }
}

export const round = (x: number): number => Math.round(x * 1000) / 1000;
