/**
 * The rule runner: feeds signal batches, security events, API events and clock ticks
 * through a compiled pack and returns Alert records. One runner per worker, like the twins:
 * it owns the detector state of the vehicles routed to it, bounded by named caps.
 *
 * Per signal row the work is two array reads (hooks and state slot of the row's signal)
 * unless a rule watches the signal; nothing is allocated until a rule fires. Alerts feed
 * `source: alert` rules (correlation) once; their own alerts are not fed back.
 */
import type { SignalBatch } from '../../core/batch.js';
import type { Clock } from '../../core/clock.js';
import type { Alert, ApiEvent, SecurityEvent } from '../../core/records.js';
import type { CompiledPack } from './compile.js';
import { EventCtx, VehicleState, type Pred, type RecordSource } from './context.js';
import type { Fire, Plan } from './plan.js';
import { compileCustom, type CustomRule } from './custom.js';
import { compileTuned, type TuningParams } from './tuning.js';

/** Vehicles whose detector state one runner keeps; beyond it the first seen are dropped. */
export const MAX_RULE_VEHICLES = 2_000_000;
/** Remembered (rule, group) suppressions; beyond it the oldest are forgotten. */
export const MAX_SUPPRESSIONS = 200_000;
/** `tickIfDue` ticks at most this often (clock time): a tick walks every vehicle state of each absence rule. */
export const RULE_TICK_INTERVAL_MS = 10_000;
/** Default lateness: rows older than the vehicle's newest by more than this are not evaluated. */
export const DEFAULT_RULE_LATENESS_MS = 300_000;

interface Hook {
  readonly plan: Plan;
  readonly port: number;
  readonly pred: Pred | undefined;
  /** A tuned plan's hook: only this tenant's events. */
  readonly only?: string;
  /** The pack plan's hook of a tuned rule: not the events of these tenants (their tuned plan has them). */
  skip?: Set<string>;
}

/** Whether a hook takes an event of `tenant` (per-tenant tuning; see tuning.ts). */
function takes(h: Hook, tenant: string): boolean {
  return h.only !== undefined ? h.only === tenant : h.skip === undefined || !h.skip.has(tenant);
}

export interface RunnerOptions {
  readonly clock: Clock;
  /** Also run rules marked `enabled: false` (their own samples do). */
  readonly includeDisabled?: boolean;
  readonly latenessMs?: number;
  readonly maxVehicles?: number;
}

export interface RunnerStats {
  signalRows: number;
  records: number;
  /** Rows and records skipped as later than the lateness window. */
  late: number;
  alerts: number;
  /** Detections inside a rule's suppression window: counted, not raised. */
  suppressed: number;
  /** Vehicle states dropped at MAX_RULE_VEHICLES. */
  vehiclesEvicted: number;
}

export class RuleRunner {
  readonly stats: RunnerStats = { signalRows: 0, records: 0, late: 0, alerts: 0, suppressed: 0, vehiclesEvicted: 0 };
  private readonly signalHooks: (Hook[] | undefined)[] = [];
  private readonly recordHooks: Record<RecordSource, Hook[]> = { security: [], api: [], alert: [] };
  private readonly slotOf: Int32Array;
  private readonly vehicles = new Map<string, VehicleState>();
  private readonly lastFired = new Map<string, number>();
  private readonly ctx = new EventCtx();
  private readonly tickers: Plan[] = [];
  private readonly latenessMs: number;
  private readonly maxVehicles: number;
  private out: Alert[] = [];
  private lastTick = Number.NEGATIVE_INFINITY;
  /** Hooks of the tuned plans, by rule and tenant. */
  private readonly tuned = new Map<string, Map<string, Hook[]>>();
  /** Hooks of tenants' own rules, by tenant and rule id. */
  private readonly custom = new Map<string, Hook[]>();
  private nextPlanIndex: number;

  constructor(
    private readonly pack: CompiledPack,
    private readonly opts: RunnerOptions,
  ) {
    if (pack.problems.length) throw new RangeError(`the rule pack has ${pack.problems.length} problems; the first: ${pack.problems[0]}`);
    this.latenessMs = opts.latenessMs ?? DEFAULT_RULE_LATENESS_MS;
    this.maxVehicles = opts.maxVehicles ?? MAX_RULE_VEHICLES;
    this.nextPlanIndex = pack.rules.length;
    this.slotOf = new Int32Array(pack.catalog.idLimit).fill(-1);
    pack.slotPaths.forEach((p, slot) => (this.slotOf[pack.catalog.get(p)!.id] = slot));
    for (const { plan, spec } of pack.rules) {
      if (!spec.enabled && !opts.includeDisabled) continue;
      this.running.push(plan.meta.id);
      if (plan.meta.type === 'absence') this.tickers.push(plan);
      plan.ports.forEach((port, i) => {
        const hook = { plan, port: i, pred: port.pred };
        if (port.kind === 'signals') for (const id of port.signals!) (this.signalHooks[id] ??= []).push(hook);
        else this.recordHooks[port.kind].push(hook);
      });
    }
  }

  /** Ids of the rules this runner runs. */
  readonly running: string[] = [];

  /** One pass over a batch, in row order. */
  signals(batch: SignalBatch): Alert[] {
    this.out = [];
    const states = batch.vehicles.map((v) => this.vehicle(batch.tenant, v));
    const { vehicle, time, signal, value, text, size } = batch;
    const c = this.ctx;
    c.kind = 'signals';
    c.tenant = batch.tenant;
    c.record = undefined;
    this.stats.signalRows += size;
    for (let i = 0; i < size; i++) {
      const v = states[vehicle[i]!]!;
      const t = time[i]!;
      if (t < v.watermark - this.latenessMs) {
        this.stats.late++;
        continue;
      }
      const s = signal[i]!;
      const hooks = this.signalHooks[s];
      if (hooks !== undefined) {
        c.vehicle = v;
        c.time = t;
        c.signal = s;
        c.value = value[i]!;
        c.text = text?.[i];
        for (let k = 0; k < hooks.length; k++) {
          const h = hooks[k]!;
          if ((h.only === undefined && h.skip === undefined) || takes(h, c.tenant)) {
            if (h.pred === undefined || h.pred(c)) h.plan.on(h.port, c, this.fire);
          }
        }
      }
      const slot = this.slotOf[s]!;
      if (slot >= 0) v.set(slot, t, value[i]!);
      if (t > v.watermark) v.watermark = t;
    }
    return this.finish();
  }

  security(events: readonly SecurityEvent[]): Alert[] {
    this.out = [];
    for (const e of events) this.record('security', e, e.tenant, e.vehicle, e.time);
    return this.finish();
  }

  api(events: readonly ApiEvent[]): Alert[] {
    this.out = [];
    for (const e of events) this.record('api', e, e.tenant, e.vehicle, e.time);
    return this.finish();
  }

  /** Alerts raised elsewhere (code detectors, other workers) through the correlation rules only. */
  alerts(alerts: readonly Alert[]): Alert[] {
    this.out = [];
    for (const a of alerts) this.record('alert', a, a.tenant, a.vehicle, a.time);
    const out = this.out;
    this.out = [];
    this.stats.alerts += out.length;
    return out;
  }

  /** Clock tick: absence rules judge silence against the clock's time. */
  tick(): Alert[] {
    this.out = [];
    const now = this.opts.clock.now();
    this.lastTick = now;
    for (const p of this.tickers) p.tick(now, this.vehicles.values(), this.ctx, this.fire);
    return this.finish();
  }

  /**
   * Run `rule` with `params` for `tenant` from now on (tuning.ts), replacing an earlier tuning of
   * it; returns the problems instead when the parameters do not fit the rule (nothing changes).
   * A rule this runner does not run is a problem too. The tuned plan starts with empty state.
   */
  tune(tenant: string, rule: string, params: TuningParams): string[] {
    if (!this.running.includes(rule)) return [`no rule ${rule} runs here`];
    const r = compileTuned(this.pack, rule, params, this.nextPlanIndex);
    if (!r.plan) return r.problems;
    this.nextPlanIndex++;
    const plan = r.plan;
    const hooks = plan.ports.map((port, i): Hook => ({ plan, port: i, pred: port.pred, only: tenant }));
    let byTenant = this.tuned.get(rule);
    if (!byTenant) {
      this.tuned.set(rule, (byTenant = new Map()));
      const skip = new Set<string>();
      for (const h of this.hooksOf((h) => h.plan.meta.id === rule && h.only === undefined)) h.skip = skip;
    }
    const old = new Set(byTenant.get(tenant) ?? []);
    if (old.size) {
      for (let i = 0; i < this.signalHooks.length; i++) if (this.signalHooks[i]) this.signalHooks[i] = this.signalHooks[i]!.filter((h) => !old.has(h));
      for (const k of Object.keys(this.recordHooks) as RecordSource[]) this.recordHooks[k] = this.recordHooks[k].filter((h) => !old.has(h));
    }
    byTenant.set(tenant, hooks);
    for (const h of this.hooksOf((h) => h.plan.meta.id === rule && h.only === undefined)) h.skip!.add(tenant);
    hooks.forEach((h, i) => {
      const port = plan.ports[i]!;
      if (port.kind === 'signals') for (const id of port.signals!) (this.signalHooks[id] ??= []).push(h);
      else this.recordHooks[port.kind].push(h);
    });
    return [];
  }

  /**
   * Run a tenant's own rule (custom.ts; a detection made from a template) from now on, replacing
   * an earlier one of the same id for that tenant; returns the problems instead (nothing changes).
   * Its hooks take only that tenant's events; it starts with empty state.
   */
  addCustom(rule: CustomRule): string[] {
    const r = compileCustom(this.pack, rule, this.nextPlanIndex);
    if (!r.plan) return r.problems;
    this.nextPlanIndex++;
    this.removeCustom(rule.tenant, rule.id);
    const plan = r.plan;
    const hooks = plan.ports.map((port, i): Hook => ({ plan, port: i, pred: port.pred, only: rule.tenant }));
    this.custom.set(`${rule.tenant}\u0000${rule.id}`, hooks);
    hooks.forEach((h, i) => {
      const port = plan.ports[i]!;
      if (port.kind === 'signals') for (const id of port.signals!) (this.signalHooks[id] ??= []).push(h);
      else this.recordHooks[port.kind].push(h);
    });
    return [];
  }

  /** Stop running a tenant's own rule; false when it did not run. */
  removeCustom(tenant: string, id: string): boolean {
    const key = `${tenant}\u0000${id}`;
    const old = new Set(this.custom.get(key) ?? []);
    if (!old.size) return false;
    this.custom.delete(key);
    for (let i = 0; i < this.signalHooks.length; i++) if (this.signalHooks[i]) this.signalHooks[i] = this.signalHooks[i]!.filter((h) => !old.has(h));
    for (const k of Object.keys(this.recordHooks) as RecordSource[]) this.recordHooks[k] = this.recordHooks[k].filter((h) => !old.has(h));
    return true;
  }

  /** `tenant/id` of each tenant's own rule running here. */
  get customRules(): string[] {
    return [...this.custom.keys()].map((k) => k.replace('\u0000', '/')).sort();
  }

  /** The tenants with a tuned version of each rule. */
  get tunedRules(): Record<string, string[]> {
    return Object.fromEntries([...this.tuned].map(([rule, m]) => [rule, [...m.keys()].sort()]));
  }

  private hooksOf(f: (h: Hook) => boolean): Hook[] {
    const all = [...this.signalHooks.flatMap((hs) => hs ?? []), ...Object.values(this.recordHooks).flat()];
    return [...new Set(all.filter(f))];
  }

  /** Tick when RULE_TICK_INTERVAL_MS of clock time has passed since the last tick; for callers driven by traffic. */
  tickIfDue(): Alert[] {
    if (!this.tickers.length || this.opts.clock.now() - this.lastTick < RULE_TICK_INTERVAL_MS) return [];
    return this.tick();
  }

  /** Everything one lane hand-over produced, in the order the lane stores it. */
  process(input: { readonly batches?: readonly SignalBatch[]; readonly security?: readonly SecurityEvent[]; readonly logs?: readonly ApiEvent[] }): Alert[] {
    const alerts: Alert[] = [];
    if (input.security?.length) alerts.push(...this.security(input.security));
    if (input.logs?.length) alerts.push(...this.api(input.logs));
    for (const b of input.batches ?? []) alerts.push(...this.signals(b));
    return alerts;
  }

  private record(kind: RecordSource, e: SecurityEvent | ApiEvent | Alert, tenant: string, vehicle: string | undefined, t: number): void {
    this.stats.records++;
    const v = vehicle === undefined ? undefined : kind === 'alert' ? this.vehicles.get(`${tenant}/${vehicle}`) : this.vehicle(tenant, vehicle);
    if (v && kind !== 'alert') {
      if (t < v.watermark - this.latenessMs) {
        this.stats.late++;
        return;
      }
      if (t > v.watermark) v.watermark = t;
    }
    const hooks = this.recordHooks[kind];
    if (!hooks.length) return;
    const c = this.ctx;
    c.kind = kind;
    c.tenant = tenant;
    c.vehicle = v;
    c.time = t;
    c.record = e;
    for (const h of hooks) if (takes(h, tenant) && (h.pred === undefined || h.pred(c))) h.plan.on(h.port, c, this.fire);
  }

  /** Alerts of this call, after they have passed through the correlation (alert-source) rules. */
  private finish(): Alert[] {
    const produced = this.out;
    if (this.recordHooks.alert.length && produced.length) {
      const correlated: Alert[] = [];
      this.out = correlated;
      for (const a of produced) this.record('alert', a, a.tenant, a.vehicle, a.time);
      produced.push(...correlated);
    }
    this.out = [];
    this.stats.alerts += produced.length;
    return produced;
  }

  private vehicle(tenant: string, id: string): VehicleState {
    const k = `${tenant}/${id}`;
    let v = this.vehicles.get(k);
    if (!v) {
      if (this.vehicles.size >= this.maxVehicles) {
        this.vehicles.delete(this.vehicles.keys().next().value!);
        this.stats.vehiclesEvicted++;
      }
      v = new VehicleState(tenant, id, this.pack.slotPaths.length);
      this.vehicles.set(k, v);
    }
    return v;
  }

  private readonly fire: Fire = (plan, c, details, time = c.time) => {
    const group = plan.groupKey(c) ?? '';
    const key = `${plan.meta.id}\u0000${c.tenant}\u0000${group}`;
    const last = this.lastFired.get(key);
    if (last !== undefined && time >= last && time - last < plan.meta.suppressMs) {
      this.stats.suppressed++;
      return;
    }
    this.lastFired.delete(key);
    if (this.lastFired.size >= MAX_SUPPRESSIONS) this.lastFired.delete(this.lastFired.keys().next().value!);
    this.lastFired.set(key, time);
    const vehicle = !plan.aboutVehicle ? undefined : (c.vehicle?.id ?? (c.kind === 'signals' ? undefined : (c.record as { vehicle?: string } | undefined)?.vehicle));
    const subject = vehicle ?? group.split('\u0000').slice(1).join('/');
    this.out.push({
      // Deterministic: replaying the same data yields the same id (idempotent store write).
      id: `${plan.meta.id}:${c.tenant}:${subject}:${time}`,
      tenant: c.tenant,
      ...(vehicle !== undefined ? { vehicle } : {}),
      time,
      detectedAt: this.opts.clock.now(),
      rule: plan.meta.id,
      title: plan.meta.title,
      severity: plan.meta.severity,
      tags: plan.meta.tags,
      details: { ...plan.meta.details, type: plan.meta.type, ...details },
    });
  };
}

