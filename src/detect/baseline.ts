/**
 * Deviation from the cohort baseline: a vehicle whose value of a signal lies more than `k`
 * standard deviations from the mean its cohort (make/model/year/software, src/twin/cohorts.ts)
 * has learnt online, once the cohort holds `minSamples` values of that signal. Run before the
 * twins record the batch, so a value is judged against the baseline without itself.
 *
 * Parameters: rules/models/cohort-baseline.yaml (= DEFAULT_BASELINE). State: one cooldown per
 * (vehicle, signal) that alerted, at most MAX_BASELINE_COOLDOWNS per worker (then forgotten
 * at once, like the signal engine's). Vehicles without a cohort (no make or model) are not judged.
 */
import type { SignalBatch } from '../core/batch.js';
import type { SignalCatalog } from '../core/catalog.js';
import { ConfigError } from '../core/errors.js';
import type { Alert } from '../core/records.js';
import type { TwinRegistry } from '../twin/twins.js';

/** Remembered (vehicle, signal) cooldowns per worker. */
export const MAX_BASELINE_COOLDOWNS = 100_000;
export const BASELINE_RULE = 'baseline.deviation';

export interface BaselineParams {
  /** Standard deviations from the cohort mean that count as a deviation. */
  readonly k: number;
  /** Values of the signal the cohort must hold before its baseline is trusted. */
  readonly minSamples: number;
  /** Floor of the standard deviation (a signal constant across the cohort). */
  readonly minStddev: number;
  /** One alert per vehicle and signal within this window. */
  readonly cooldownMs: number;
  /**
   * Time constant of the cohort baseline's exponential window (src/twin/cohorts.ts): values
   * this old weigh 1/e. 0 keeps every value with full weight.
   */
  readonly windowMs: number;
}

export const DEFAULT_BASELINE: BaselineParams = { k: 6, minSamples: 1000, minStddev: 0.001, cooldownMs: 600_000, windowMs: 21_600_000 };

/** Parameters from parsed YAML/JSON; unknown keys and bad values are problems, all listed. */
export function parseBaselineParams(json: unknown, where = 'baseline'): BaselineParams {
  const o = (json ?? {}) as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(o)) if (!(key in DEFAULT_BASELINE)) problems.push(`${key}: unknown parameter`);
  const num = (key: keyof BaselineParams, ok: (v: number) => boolean, what: string): number => {
    const v = o[key] ?? DEFAULT_BASELINE[key];
    if (typeof v !== 'number' || !ok(v)) problems.push(`${key}: expected ${what}`);
    return v as number;
  };
  const p = {
    k: num('k', (v) => v > 0, 'a number > 0'),
    minSamples: num('minSamples', (v) => Number.isInteger(v) && v >= 2, 'an integer >= 2'),
    minStddev: num('minStddev', (v) => v >= 0, 'a number >= 0'),
    cooldownMs: num('cooldownMs', (v) => v >= 0, 'a number of ms >= 0'),
    windowMs: num('windowMs', (v) => v === 0 || v >= 60_000, '0 (no window) or a number of ms >= 60000'),
  };
  if (problems.length) throw new ConfigError(`${where}: invalid cohort baseline parameters`, problems);
  return p;
}

export interface BaselineResult {
  readonly alerts: Alert[];
  /** Deviations not raised because of the cooldown. */
  readonly suppressed: number;
}

export class BaselineDetector {
  private readonly lastFired = new Map<string, number>();

  constructor(
    private readonly catalog: SignalCatalog,
    private readonly params: BaselineParams = DEFAULT_BASELINE,
  ) {}

  /** Judge a batch against the cohorts of its vehicles; call before the twins record it. */
  process(batch: SignalBatch, twins: TwinRegistry, now: number): BaselineResult {
    const { k, minSamples, minStddev, cooldownMs } = this.params;
    const profiles = twins.profiles;
    const cohorts = batch.vehicles.map((v) => {
      const twin = twins.get(batch.tenant, v);
      const c = twin ? profiles.list[twins.h.profile[twin.index]!]!.cohort : 0;
      return c === 0 ? undefined : profiles.cohorts[c];
    });
    const alerts: Alert[] = [];
    let suppressed = 0;
    const { vehicle, time, signal, value, size } = batch;
    for (let i = 0; i < size; i++) {
      const c = cohorts[vehicle[i]!];
      if (c === undefined) continue;
      const s = signal[i]!;
      const n = c.count[s] ?? 0;
      if (n < minSamples) continue;
      const v = value[i]!;
      const mean = c.mean[s]!;
      const stddev = Math.sqrt(c.m2[s]! / (n - 1));
      if (!(Math.abs(v - mean) > k * Math.max(stddev, minStddev))) continue;
      const id = batch.vehicles[vehicle[i]!]!;
      const t = time[i]!;
      const key = `${batch.tenant}/${id}/${s}`;
      const last = this.lastFired.get(key);
      if (last !== undefined && t >= last && t - last < cooldownMs) {
        suppressed++;
        continue;
      }
      if (this.lastFired.size >= MAX_BASELINE_COOLDOWNS) this.lastFired.clear();
      this.lastFired.set(key, t);
      const path = this.catalog.byIdOf(s)?.path ?? String(s);
      alerts.push({
        id: `${BASELINE_RULE}:${batch.tenant}:${id}:${s}:${t}`,
        tenant: batch.tenant,
        vehicle: id,
        time: t,
        detectedAt: now,
        rule: BASELINE_RULE,
        title: `${path} far from its cohort baseline`,
        severity: 'medium',
        tags: ['ATM-T0070', 'R155-A5:4.1'],
        details: { signal: path, value: v, cohort: c.key, mean, stddev, samples: n, sigmas: stddev > 0 ? Math.abs(v - mean) / stddev : null, k },
      });
    }
    return { alerts, suppressed };
  }
}
