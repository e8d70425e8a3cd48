/**
 * The per-worker signal engine: one pass over a batch updates each vehicle's twin and runs
 * the detectors that watch the row's signal. Twins are resolved once per batch through
 * the vehicle dictionary, so the per-row work is array reads and writes.
 */
import type { SignalBatch } from '../core/batch.js';
import type { SignalCatalog } from '../core/catalog.js';
import type { Alert } from '../core/records.js';
import type { Twin, TwinRegistry } from '../twin/twins.js';
import type { SignalDetector } from './detector.js';

/** One alert per rule and vehicle within this window; repeats are counted, not re-raised. */
export const DEFAULT_ALERT_COOLDOWN_MS = 60_000;
/** Cap on remembered (rule, vehicle) cooldowns per worker. */
export const MAX_COOLDOWN_ENTRIES = 200_000;

type Check = (twin: Twin, time: number, value: number) => Record<string, unknown> | undefined;
interface Hook {
  readonly detector: SignalDetector;
  readonly check: Check;
}

export interface EngineResult {
  readonly alerts: Alert[];
  /** Rows older than their vehicle's watermark minus the lateness window: stored, not detected on. */
  readonly late: number;
  /** Detections suppressed by the cooldown. */
  readonly suppressed: number;
}

export class SignalEngine {
  private readonly hooks: (Hook[] | undefined)[] = [];
  private readonly lastFired = new Map<string, number>();
  readonly enabled: readonly string[];
  readonly disabled: readonly { id: string; missing: string[] }[];

  constructor(
    catalog: SignalCatalog,
    detectors: readonly SignalDetector[],
    private readonly latenessMs: number,
    private readonly cooldownMs = DEFAULT_ALERT_COOLDOWN_MS,
  ) {
    const enabled: string[] = [];
    const disabled: { id: string; missing: string[] }[] = [];
    for (const d of detectors) {
      const missing = d.reads.filter((p) => !catalog.has(p));
      if (missing.length || !catalog.has(d.trigger)) {
        disabled.push({ id: d.id, missing });
        continue;
      }
      const id = catalog.get(d.trigger)!.id;
      (this.hooks[id] ??= []).push({ detector: d, check: d.bind(catalog) });
      enabled.push(d.id);
    }
    this.enabled = enabled;
    this.disabled = disabled;
  }

  process(batch: SignalBatch, twins: TwinRegistry, now: number): EngineResult {
    const alerts: Alert[] = [];
    let late = 0;
    let suppressed = 0;
    const owners = batch.vehicles.map((v) => twins.obtain(batch.tenant, v));
    const { vehicle, time, signal, value, size } = batch;
    for (let i = 0; i < size; i++) {
      const twin = owners[vehicle[i]!]!;
      const t = time[i]!;
      twin.signalCount++;
      twin.unflushed++;
      if (t < twin.firstSeen) twin.firstSeen = t;
      if (t < twin.watermark - this.latenessMs) {
        late++;
        continue;
      }
      const s = signal[i]!;
      const v = value[i]!;
      const hooks = this.hooks[s];
      // Detectors see in-order rows only (the contract in detector.ts): a row older than the
      // signal's last one, or the first one (time NaN), has no previous state to compare with.
      if (hooks !== undefined && t >= twin.time(s)) {
        for (const h of hooks) {
          const details = h.check(twin, t, v);
          if (details !== undefined) {
            if (this.coolingDown(h.detector.id, twin, t)) suppressed++;
            else alerts.push(makeAlert(h.detector, twin, t, now, details));
          }
        }
      }
      twin.record(s, t, v);
      if (t > twin.watermark) twin.watermark = t;
    }
    for (const twin of owners) twins.markDirty(twin);
    twins.observeText(batch, owners);
    return { alerts, late, suppressed };
  }

  private coolingDown(rule: string, twin: Twin, t: number): boolean {
    const key = `${rule}/${twin.tenant}/${twin.id}`;
    const last = this.lastFired.get(key);
    if (last !== undefined && t - last < this.cooldownMs && t >= last) return true;
    if (this.lastFired.size >= MAX_COOLDOWN_ENTRIES) this.lastFired.clear();
    this.lastFired.set(key, t);
    return false;
  }
}

function makeAlert(d: SignalDetector, twin: Twin, time: number, now: number, details: Record<string, unknown>): Alert {
  return {
    // Deterministic: a replay of the same data yields the same alert id (idempotent store write).
    id: `${d.id}:${twin.tenant}:${twin.id}:${time}`,
    tenant: twin.tenant,
    vehicle: twin.id,
    time,
    detectedAt: now,
    rule: d.id,
    title: d.title,
    severity: d.severity,
    tags: d.tags,
    details,
  };
}
