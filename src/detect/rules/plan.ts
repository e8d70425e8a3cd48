/**
 * An evaluation plan: what one compiled rule runs. A plan has inputs (ports), each a source
 * and a predicate the runner evaluates; when a port's predicate holds, the runner calls
 * `on(port, ctx)`. State lives per group: in the vehicle's state when the rule groups by
 * vehicle (the default), else in a bounded map keyed by the group-by fields.
 */
import type { SignalCatalog } from '../../core/catalog.js';
import type { Alert, ApiEvent, SecurityEvent, Severity } from '../../core/records.js';
import type { EventCtx, Getter, Pred, SourceKind, VehicleState } from './context.js';
import type { RuleType } from './schema.js';

/** Groups one rule keeps outside vehicle state (per IP, per account, ...); beyond it the oldest are dropped. */
export const MAX_GROUPS_PER_RULE = 100_000;
/** Evidence items (record ids, values) an alert carries at most. */
export const MAX_EVIDENCE_ITEMS = 10;

export interface RuleMeta {
  readonly id: string;
  readonly title: string;
  readonly severity: Severity;
  readonly tags: readonly string[];
  readonly type: RuleType;
  readonly file: string;
  readonly suppressMs: number;
  /** Constant alert details (rule `details`), before the evidence. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** One input of a plan: which events reach it and the predicate they must pass. */
export interface Port {
  readonly kind: SourceKind;
  /** Signals only: catalog ids that trigger the port. */
  readonly signals?: readonly number[];
  /** Undefined: every event of the source passes (no call per row). */
  readonly pred: Pred | undefined;
}

/** Where a plan reports a detection. `time` defaults to the event's; `details` becomes the alert's evidence. */
export type Fire = (plan: Plan, c: EventCtx, details: Record<string, unknown>, time?: number) => void;

export interface PlanCounters {
  /** Group states dropped because a cap was reached. */
  evicted: number;
}

export abstract class Plan {
  /** Index in the pack: the slot of this plan's state in each VehicleState. */
  index = -1;
  private readonly groups: Map<string, unknown> | undefined;

  constructor(
    readonly meta: RuleMeta,
    readonly ports: readonly Port[],
    /** Group-by getters; undefined = by vehicle. */
    private readonly groupBy: readonly { name: string; get: Getter }[] | undefined,
    protected readonly counters: PlanCounters,
  ) {
    this.groups = groupBy ? new Map() : undefined;
  }

  /** Whether alerts name a vehicle: the rule keys by vehicle (or matches single events that have one). */
  get aboutVehicle(): boolean {
    return !this.groupBy || this.meta.type === 'match' || this.groupBy.some((g) => g.name === 'vehicle');
  }

  abstract on(port: number, c: EventCtx, fire: Fire): void;

  /** Clock tick (processing time): only absence rules use it. */
  tick(_now: number, _vehicles: Iterable<VehicleState>, _c: EventCtx, _fire: Fire): void {}

  /** The group an event belongs to, as a string (suppression key); undefined when a group-by field is missing. */
  groupKey(c: EventCtx): string | undefined {
    if (!this.groupBy) return c.vehicle ? c.vehicle.id : recordVehicle(c);
    let key = c.tenant;
    for (const g of this.groupBy) {
      const v = g.get(c);
      if (v === undefined || v === null) return undefined;
      key += `\u0000${String(v)}`;
    }
    return key;
  }

  /**
   * The group's state, created by `make` on first use; undefined when the event has no group.
   * Pass a function made once (a field), not an arrow per call: this runs per signal row.
   */
  protected state<S>(c: EventCtx, make: (c: EventCtx) => S): S | undefined {
    if (!this.groups) {
      const v = c.vehicle;
      if (!v) return undefined;
      return (v.plans[this.index] ??= make(c)) as S;
    }
    const key = this.groupKey(c);
    if (key === undefined) return undefined;
    let s = this.groups.get(key) as S | undefined;
    if (s === undefined) {
      if (this.groups.size >= MAX_GROUPS_PER_RULE) {
        this.groups.delete(this.groups.keys().next().value!);
        this.counters.evicted++;
      }
      s = make(c);
      this.groups.set(key, s);
    }
    return s;
  }

  /** The group values of an event, for evidence. */
  protected groupValues(c: EventCtx): Record<string, unknown> | undefined {
    if (!this.groupBy) return undefined;
    return Object.fromEntries(this.groupBy.map((g) => [g.name, g.get(c)]));
  }
}

function recordVehicle(c: EventCtx): string | undefined {
  return c.kind === 'signals' ? undefined : (c.record as { vehicle?: string } | undefined)?.vehicle;
}

/** What an event was, for an alert's evidence: small and plain. */
export function describe(c: EventCtx, catalog: SignalCatalog): Record<string, unknown> {
  switch (c.kind) {
    case 'signals':
      return { kind: 'signal', time: c.time, path: catalog.byIdOf(c.signal)?.path, value: c.text ?? c.value };
    case 'security': {
      const e = c.record as SecurityEvent;
      return { kind: 'security', id: e.id, time: e.time, name: e.name, eventId: e.eventId, sensor: e.sensor, count: e.count };
    }
    case 'api': {
      const e = c.record as ApiEvent;
      return {
        kind: 'api', id: e.id, time: e.time, service: e.service, endpoint: e.endpoint,
        ...(e.method !== undefined ? { method: e.method } : {}),
        ...(e.status !== undefined ? { status: e.status } : {}),
        ...(e.actor !== undefined ? { actor: e.actor } : {}),
        ...(e.sourceIp !== undefined ? { ip: e.sourceIp } : {}),
      };
    }
    case 'alert': {
      const a = c.record as Alert;
      return { kind: 'alert', id: a.id, time: a.time, rule: a.rule, vehicle: a.vehicle };
    }
  }
}
